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
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>

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
// ThreadSanitizer's debugging API (compiler-rt tsan_debugging.cpp): a
// report's stacks as the addresses its printer symbolized.
int __tsan_get_report_data(void* report, const char** description, int* count, int* stack_count,
                           int* mop_count, int* loc_count, int* mutex_count, int* thread_count,
                           int* unique_tid_count, void** sleep_trace, size_t trace_size)
    __attribute__((weak));
int __tsan_get_report_stack(void* report, size_t idx, void** trace, size_t trace_size)
    __attribute__((weak));
int __tsan_get_report_mop(void* report, size_t idx, int* tid, void** addr, int* size, int* write,
                          int* atomic, void** trace, size_t trace_size) __attribute__((weak));
int __tsan_get_report_loc(void* report, size_t idx, const char** type, void** addr, size_t* start,
                          size_t* size, int* tid, int* fd, int* suppressable, void** trace,
                          size_t trace_size) __attribute__((weak));
int __tsan_get_report_mutex(void* report, size_t idx, uint64_t* mutex_id, void** addr,
                            int* destroyed, void** trace, size_t trace_size) __attribute__((weak));
int __tsan_get_report_thread(void* report, size_t idx, int* tid, uint64_t* os_id, int* running,
                             const char** name, int* parent_tid, void** trace, size_t trace_size)
    __attribute__((weak));
// UBSan's monitor API (ubsan_monitor.h): the report being made.
void __ubsan_get_current_report_data(const char** issue_kind, const char** message,
                                     const char** filename, unsigned* line, unsigned* col,
                                     char** memory_addr) __attribute__((weak));
}

namespace mcf::repro {
namespace {

const SignatureOptions* g_opts = nullptr;
std::atomic<const fuzz::Program*> g_program{nullptr};
// One printout per process: the first finding wins (a model report under
// ASan aborts, and libFuzzer then reports a deadly signal).
std::atomic<bool> g_printed{false};
constexpr int kTraceTail = 24;
// The whole trace instead of its tail (mcf-repro replay --trace).
std::atomic<bool> g_full_trace{false};

// Appends the frames of one code address (several when calls were inlined
// there, innermost first), symbolized through the sanitizer runtime.
void symbolize_into(void* pc, std::vector<Frame>* out) {
  char buf[4096] = {};
  __sanitizer_symbolize_pc(pc, "%f\x01%s", buf, sizeof(buf) - 1);
  // NUL-separated frames, then an empty string.
  for (const char* p = buf; *p != '\0' && p < buf + sizeof(buf); p += std::strlen(p) + 1) {
    const char* sep = std::strchr(p, '\x01');
    if (sep == nullptr) continue;
    out->push_back(Frame{std::string(p, sep), std::string(sep + 1)});
  }
}

// This thread's stack, symbolized through the sanitizer runtime (empty
// without one). Each return address is symbolized at the previous byte, as
// the sanitizers' own stack printer does. Empty unless the runtime prints a
// stack with its report too (report() does through
// __sanitizer_print_stack_trace; UBSan with print_stacktrace=1, compiled in
// by sanitizer_options.h): the log's signature must see the same frames.
std::vector<Frame> own_stack() {
  std::vector<Frame> out;
  if (__sanitizer_symbolize_pc == nullptr || __sanitizer_print_stack_trace == nullptr) return out;
  void* pcs[128];
  int n = backtrace(pcs, 128);
  for (int i = 0; i < n; ++i) symbolize_into(static_cast<char*>(pcs[i]) - (i > 0 ? 1 : 0), &out);
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
  if (!trace.empty() && g_full_trace.load()) {
    std::fprintf(stderr, "==mcfuzz== TRACE\n%s==mcfuzz== END TRACE\n", trace.c_str());
  } else if (!trace.empty()) {
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

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MCF_HAVE_TSAN_REPORT_API 1
#endif
#endif

#if defined(MCF_HAVE_TSAN_REPORT_API)
// A ThreadSanitizer report read back through its debugging API. The stacks
// come in the order its printer (tsan_report.cpp PrintReport) prints them,
// stacks that print nothing left out, as parse_finding() would collect them
// from the log: the report's own stacks (lock-order inversions), the
// accesses, the sleep, the locations, the mutexes, the threads. The
// addresses are those it symbolized (already moved to the call
// instruction); a run of equal ones is one address with inlined frames.
std::optional<Finding> tsan_finding(void* report) {
  if (__tsan_get_report_data == nullptr || __sanitizer_symbolize_pc == nullptr) return std::nullopt;
  constexpr size_t kDepth = 64;
  const char* description = nullptr;
  int count = 0, stacks = 0, mops = 0, locs = 0, mutexes = 0, threads = 0, unique_tids = 0;
  void* sleep[kDepth] = {};
  if (__tsan_get_report_data(report, &description, &count, &stacks, &mops, &locs, &mutexes,
                             &threads, &unique_tids, sleep, kDepth) == 0)
    return std::nullopt;
  Finding f;
  f.tool = "tsan";
  f.kind = tsan_report_kind(description != nullptr ? description : "");
  auto add = [&f](void* const* trace) {
    std::vector<Frame> frames;
    for (size_t i = 0; i < kDepth && trace[i] != nullptr; ++i)
      if (i == 0 || trace[i] != trace[i - 1]) symbolize_into(trace[i], &frames);
    if (!frames.empty()) f.stacks.push_back(std::move(frames));
  };
  for (int i = 0; i < stacks; ++i) {
    void* trace[kDepth] = {};
    if (__tsan_get_report_stack(report, i, trace, kDepth) != 0) add(trace);
  }
  for (int i = 0; i < mops; ++i) {
    void* trace[kDepth] = {};
    void* addr = nullptr;
    int tid = 0, size = 0, write = 0, atomic = 0;
    if (__tsan_get_report_mop(report, i, &tid, &addr, &size, &write, &atomic, trace, kDepth) != 0)
      add(trace);
  }
  add(sleep);
  for (int i = 0; i < locs; ++i) {
    void* trace[kDepth] = {};
    const char* type = nullptr;
    void* addr = nullptr;
    size_t start = 0, size = 0;
    int tid = 0, fd = 0, suppressable = 0;
    if (__tsan_get_report_loc(report, i, &type, &addr, &start, &size, &tid, &fd, &suppressable,
                              trace, kDepth) != 0)
      add(trace);
  }
  for (int i = 0; i < mutexes; ++i) {
    void* trace[kDepth] = {};
    uint64_t id = 0;
    void* addr = nullptr;
    int destroyed = 0;
    if (__tsan_get_report_mutex(report, i, &id, &addr, &destroyed, trace, kDepth) != 0) add(trace);
  }
  for (int i = 0; i < threads; ++i) {
    void* trace[kDepth] = {};
    int tid = 0, running = 0, parent = 0;
    uint64_t os_id = 0;
    const char* name = nullptr;
    if (__tsan_get_report_thread(report, i, &tid, &os_id, &running, &name, &parent, trace,
                                 kDepth) != 0)
      add(trace);
  }
  return f;
}
#endif  // MCF_HAVE_TSAN_REPORT_API

void on_tsan_report(void* report) {
  if (!print_program_once()) return;
  std::optional<Finding> f;
#if defined(MCF_HAVE_TSAN_REPORT_API)
  f = tsan_finding(report);
#endif
  if (f) {
    print_signature(make_signature(*f, *g_opts));
  } else {
    print_offline_note();
  }
  std::fflush(stderr);
}

// UBSan calls its hook as it makes the report, before it prints the stack:
// that stack starts at the function that did the undefined thing, which is
// the first frame of this thread's stack outside the runtime.
void on_ubsan_report() {
  if (!print_program_once()) return;
  const char* issue = nullptr;
  const char* message = nullptr;
  const char* filename = nullptr;
  unsigned line = 0, col = 0;
  char* addr = nullptr;
  if (__ubsan_get_current_report_data != nullptr)
    __ubsan_get_current_report_data(&issue, &message, &filename, &line, &col, &addr);
  if (message == nullptr) {
    print_offline_note();
  } else {
    // The monitor keeps the message capitalised ("Shift exponent 40 ..."),
    // the printer lowers its first letter: the log's form is the one to match.
    std::string text = message;
    if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    Finding f;
    f.tool = "ubsan";
    f.kind = ubsan_report_kind(text);
    f.message = text;
    f.stacks.push_back(own_stack());
    print_signature(make_signature(f, *g_opts));
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

void crash_report_set_full_trace(bool full) { g_full_trace.store(full); }

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
// never called otherwise).
extern "C" void __tsan_on_report(void* report) { mcf::repro::on_tsan_report(report); }
extern "C" void __ubsan_on_report() { mcf::repro::on_ubsan_report(); }
