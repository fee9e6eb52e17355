// The libFuzzer glue: see target.h.
#include "fuzzers/targets/target.h"

#include <cstdio>
#include <string>

#include "core/kernel/report.h"
#include "fuzzers/mutate/mutate_bytes.h"
#include "fuzzers/prog/encoding_binary.h"
#include "fuzzers/prog/encoding_text.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace mcf::fuzz {
namespace {

// The input being run, for the crash-time printout. Written by the fuzzing
// thread before the run; read by a report or death callback on any thread
// while that run is in progress.
Program g_current;
bool g_running = false;

void print_current_program() {
  if (!g_running) return;
  std::string text = program_to_text(g_current);
  std::fprintf(stderr, "==mcfuzz== PROGRAM (%zu calls)\n%s==mcfuzz== END PROGRAM\n",
               g_current.calls.size(), text.c_str());
  std::string positions = exec_thread_positions();
  if (!positions.empty()) std::fprintf(stderr, "==mcfuzz== threads: %s\n", positions.c_str());
  std::fflush(stderr);
}

void on_report(ReportKind) { print_current_program(); }

MutateOptions mutate_options(const TargetSpec& spec) {
  MutateOptions o;
  o.call_kinds = spec.call_kinds;
  o.node_kinds = spec.node_kinds;
  o.threads = spec.threads;
  o.raw_mutate = [](uint8_t* d, size_t n, size_t max) { return LLVMFuzzerMutate(d, n, max); };
  return o;
}

ExecOptions exec_options(const TargetSpec& spec) {
  ExecOptions o;
  o.mode = spec.mode;
  return o;
}

}  // namespace

void target_initialize(const TargetSpec& spec) {
  set_report_callback(on_report);
  if (__sanitizer_set_death_callback != nullptr)
    __sanitizer_set_death_callback(print_current_program);
}

int target_run_input(const TargetSpec& spec, const uint8_t* data, size_t size) {
  if (looks_like_text(data, size)) {
    auto parsed = program_from_text(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s: text program refused: %s\n", spec.name,
                   std::string(parsed.status().message()).c_str());
      return -1;
    }
    g_current = *std::move(parsed);
  } else {
    g_current = program_from_binary(data, size);
  }
  g_running = true;
  execute(g_current, exec_options(spec));
  g_running = false;
  return 0;
}

size_t target_mutate(const TargetSpec& spec, uint8_t* data, size_t size, size_t max_size,
                     unsigned seed) {
  return mutate_bytes(data, size, max_size, seed, mutate_options(spec));
}

size_t target_crossover(const TargetSpec& spec, const uint8_t* data1, size_t size1,
                        const uint8_t* data2, size_t size2, uint8_t* out, size_t max_out_size,
                        unsigned seed) {
  return crossover_bytes(data1, size1, data2, size2, out, max_out_size, seed,
                         mutate_options(spec));
}

}  // namespace mcf::fuzz

// Sanitizer defaults built into every target (a user's *SAN_OPTIONS come
// after these and win). TSan: the model's reports abort inside libFuzzer's
// signal handler, which allocates; that is not a finding. The runtimes call
// these before they are initialised: no instrumentation may run inside.
#define MCF_NO_INSTRUMENT __attribute__((disable_sanitizer_instrumentation, used))
extern "C" MCF_NO_INSTRUMENT const char* __tsan_default_options() {
  return "halt_on_error=1:second_deadlock_stack=1:report_signal_unsafe=0";
}
extern "C" MCF_NO_INSTRUMENT const char* __asan_default_options() {
  return "detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1";
}
extern "C" MCF_NO_INSTRUMENT const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }
