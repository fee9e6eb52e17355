// The crash printout: see crash_report.h.
//
// Where each finding is seen in-process:
//   model report      report.h's callback, before report() aborts;
//   AddressSanitizer  __asan_set_error_report_callback: the whole report
//                     text, after it was printed, before ASan dies;
//   ThreadSanitizer   __tsan_on_report (a weak hook TSan calls after printing
//                     a report, before halt_on_error kills the process);
//   UBSan             __ubsan_on_report (called as the report is made);
//   anything else     the sanitizer death callback. libFuzzer installs its own
//                     death callback after LLVMFuzzerInitialize, and there is
//                     one slot, so in a fuzz target only the hooks above run.
#include "fuzzers/repro/crash_report.h"

#include <execinfo.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/kernel/live_objects.h"
#include "core/kernel/report.h"
#include "fuzzers/exec/executor.h"
#include "fuzzers/prog/encoding_text.h"

extern "C" {
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
void __sanitizer_symbolize_pc(void* pc, const char* fmt, char* out_buf, size_t out_buf_size)
    __attribute__((weak));
void __asan_set_error_report_callback(void (*callback)(const char*)) __attribute__((weak));
void __sanitizer_print_stack_trace() __attribute__((weak));
}

namespace mcf::repro {
namespace {

const SignatureOptions* g_opts = nullptr;
std::atomic<const fuzz::Program*> g_program{nullptr};
// One printout per process: the first finding wins (a model report under
// ASan aborts, and libFuzzer then reports a deadly signal).
std::atomic<bool> g_printed{false};
constexpr int kTraceTail = 24;

// This thread's stack, symbolized through the sanitizer runtime (empty
// without one). Each return address is symbolized at the previous byte, as
// the sanitizers' own stack printer does; an inlined call gives several
// frames for one address, innermost first. Empty unless report() printed
// a stack too (it does through __sanitizer_print_stack_trace): the log's
// signature must see the same frames.
std::vector<Frame> own_stack() {
  std::vector<Frame> out;
  if (__sanitizer_symbolize_pc == nullptr || __sanitizer_print_stack_trace == nullptr) return out;
  void* pcs[128];
  int n = backtrace(pcs, 128);
  for (int i = 0; i < n; ++i) {
    char* pc = static_cast<char*>(pcs[i]) - (i > 0 ? 1 : 0);
    char buf[4096] = {};
    __sanitizer_symbolize_pc(pc, "%f\x01%s", buf, sizeof(buf) - 1);
    // NUL-separated frames, then an empty string.
    for (const char* p = buf; *p != '\0' && p < buf + sizeof(buf); p += std::strlen(p) + 1) {
      const char* sep = std::strchr(p, '\x01');
      if (sep == nullptr) continue;
      out.push_back(Frame{std::string(p, sep), std::string(sep + 1)});
    }
  }
  return out;
}

void print_signature(const Signature& s) {
  if (s.empty()) return;
  std::fprintf(stderr, "==mcfuzz== SIGNATURE %s %s\n", s.id().c_str(), s.text().c_str());
}

// Prints the program block once; false when there is nothing to print or it
// was printed already.
bool print_program_once() {
  const fuzz::Program* p = g_program.load();
  if (p == nullptr || g_printed.exchange(true)) return false;
  std::string text = fuzz::program_to_text(*p);
  std::fprintf(stderr, "==mcfuzz== PROGRAM (%zu calls)\n%s==mcfuzz== END PROGRAM\n",
               p->calls.size(), text.c_str());
  std::string positions = fuzz::exec_thread_positions();
  if (!positions.empty()) std::fprintf(stderr, "==mcfuzz== threads: %s\n", positions.c_str());
  std::fprintf(stderr, "==mcfuzz== live objects: %s\n", live_objects_line().c_str());
  // Deterministic mode: the last scheduling points before the finding.
  std::string trace = fuzz::exec_last_trace();
  if (!trace.empty()) {
    // The start of the kTraceTail-th line from the end.
    size_t start = trace.size() - (trace.back() == '\n' ? 1 : 0);
    for (int lines = 0; start > 0; --start)
      if (trace[start - 1] == '\n' && ++lines == kTraceTail) break;
    std::fprintf(stderr, "==mcfuzz== schedule trace (last %d points):\n%s", kTraceTail,
                 trace.c_str() + start);
  }
  return true;
}

void print_offline_note() {
  std::fprintf(stderr,
               "==mcfuzz== SIGNATURE (not computable in-process: run mcf-repro signature on "
               "this log)\n");
}

void on_model_report(ReportKind kind) {
  if (!print_program_once()) return;
  Finding f;
  f.tool = "mcfuzz";
  f.kind = report_kind_name(kind);
  f.message = report_current_message();
  f.object = report_current_object();
  f.stacks.push_back(own_stack());
  print_signature(make_signature(f, *g_opts));
  std::fflush(stderr);
}

void on_asan_report(const char* text) {
  if (!print_program_once()) return;
  Signature s = signature_of_log(text != nullptr ? text : "", *g_opts);
  if (s.empty()) {
    print_offline_note();
  } else {
    print_signature(s);
  }
  std::fflush(stderr);
}

void on_death() {
  if (!print_program_once()) return;
  print_offline_note();
  std::fflush(stderr);
}

}  // namespace

void crash_report_install(const SignatureOptions& opts) {
  g_opts = &opts;
  set_report_callback(on_model_report);
  // Only in ASan builds: OSS-Fuzz's bad_build_check counts any call into the
  // ASan runtime as ASan instrumentation and rejects UBSan/TSan builds.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
  if (__asan_set_error_report_callback != nullptr) __asan_set_error_report_callback(on_asan_report);
#endif
#endif
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(on_death);
}

void crash_report_set_program(const fuzz::Program* p) { g_program.store(p); }

std::string live_objects_line() {
  std::string out;
  for (const auto& [name, n] : live_objects_snapshot()) {
    if (n == 0) continue;
    absl::StrAppend(&out, out.empty() ? "" : " ", name, "=", n);
  }
  return out.empty() ? "none" : out;
}

}  // namespace mcf::repro

// ThreadSanitizer and UBSan call these weak hooks when they report (the
// runtimes define empty defaults; these win when one is linked, and are
// never called otherwise). They print the program; the signature of those
// reports is computed offline.
extern "C" void __tsan_on_report(void* report) {
  if (!mcf::repro::print_program_once()) return;
  mcf::repro::print_offline_note();
  std::fflush(stderr);
}
extern "C" void __ubsan_on_report() {
  if (!mcf::repro::print_program_once()) return;
  mcf::repro::print_offline_note();
  std::fflush(stderr);
}
