// The libFuzzer glue shared by every target. A target is one TargetSpec and
// one line: MCF_FUZZ_TARGET(spec). The entry points stay thin (decode, run,
// check) and everything they call is a library GoogleTest drives too.
//
//   LLVMFuzzerTestOneInput    decode the input (binary, or a hand-written text
//                             program: "./target file.txt" works), run it
//                             with the executor, which checks the oracles.
//                             A text program that does not parse is refused
//                             with its error on stderr (returns -1).
//   LLVMFuzzerCustomMutator   fuzzers/mutate on the decoded program, raw
//   LLVMFuzzerCustomCrossOver argument bytes through LLVMFuzzerMutate.
//
// Environment switches, read once at start-up: the first two make the
// baselines of the bug-finding benchmark (bench/README.md) out of the same
// binary, MCF_FAULTS the baseline of the fault-injection measurement:
//   MCF_MUTATOR=bytes         LLVMFuzzerCustomMutator hands the whole input to
//                             LLVMFuzzerMutate (libFuzzer's own byte
//                             mutations, its CrossOver included) and
//                             LLVMFuzzerCustomCrossOver declines (returns 0),
//                             since libFuzzer always calls the custom hooks
//                             when they are defined. Default: structure.
//   MCF_EXEC_MODE=threads|deterministic|sequential
//                             runs every input in that executor mode instead
//                             of the target's own (e.g. lifetime_fuzzer on
//                             real threads). Default: the target's.
//   MCF_EXEC_STATS=1          at exit, one line on stderr: "==mcfuzz==
//                             EXEC-STATS programs=N sched_points=N
//                             preemptions=N" (totals over the process).
//   MCF_FAULTS=0              no fault injection: the mutator sets no
//                             fail_nth and inputs run with theirs cleared.
//                             Default (or 1): on.
// A value outside these is a one-line error on stderr and exit status 2.
//
// Hangs: the executor's hang watchdog (fuzzers/exec/watchdog.h) reports an
// input still running after min(kDefaultHangTimeoutMs, 3/4 of libFuzzer's
// -timeout=N) with every thread's position, before libFuzzer's bare timeout.
//
// On any finding (a model report, or a sanitizer's) the target prints, after
// the report, the program in text form between "==mcfuzz== PROGRAM" and
// "==mcfuzz== END PROGRAM", and the threads' positions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fuzzers/exec/executor.h"

namespace mcf::fuzz {

struct TargetSpec {
  const char* name;
  ExecMode mode;
  uint32_t call_kinds;  // bit per CallKind the mutator may insert
  uint32_t node_kinds;  // bit per NodeKind opens and ioctls may target
  unsigned threads;     // program threads the mutator uses
};

constexpr uint32_t call_bit(CallKind k) { return 1u << static_cast<int>(k); }
constexpr uint32_t node_bit(NodeKind k) { return 1u << static_cast<int>(k); }
constexpr uint32_t kFdCalls = call_bit(CallKind::kOpen) | call_bit(CallKind::kClose) |
                              call_bit(CallKind::kDup) | call_bit(CallKind::kIoctl) |
                              call_bit(CallKind::kPoll);
constexpr uint32_t kAllCalls = (1u << static_cast<int>(CallKind::kCount)) - 1;
constexpr uint32_t kAllNodes = (1u << static_cast<int>(NodeKind::kCount)) - 1;

// Once per process; argv is libFuzzer's (read for -timeout=N).
void target_initialize(const TargetSpec& spec, int argc, char** argv);
// The hang watchdog's limit for libFuzzer flags `argv`.
int target_hang_timeout_ms(int argc, char** argv);
int target_run_input(const TargetSpec& spec, const uint8_t* data, size_t size);
size_t target_mutate(const TargetSpec& spec, uint8_t* data, size_t size, size_t max_size,
                     unsigned seed);
size_t target_crossover(const TargetSpec& spec, const uint8_t* data1, size_t size1,
                        const uint8_t* data2, size_t size2, uint8_t* out, size_t max_out_size,
                        unsigned seed);

}  // namespace mcf::fuzz

#define MCF_FUZZ_TARGET(spec)                                                                  \
  extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {                               \
    ::mcf::fuzz::target_initialize(spec, *argc, *argv);                                        \
    return 0;                                                                                  \
  }                                                                                            \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {                    \
    return ::mcf::fuzz::target_run_input(spec, data, size);                                    \
  }                                                                                            \
  extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,       \
                                            unsigned int seed) {                               \
    return ::mcf::fuzz::target_mutate(spec, data, size, max_size, seed);                       \
  }                                                                                            \
  extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t* d1, size_t s1, const uint8_t* d2, \
                                              size_t s2, uint8_t* out, size_t max_out,         \
                                              unsigned int seed) {                             \
    return ::mcf::fuzz::target_crossover(spec, d1, s1, d2, s2, out, max_out, seed);            \
  }
