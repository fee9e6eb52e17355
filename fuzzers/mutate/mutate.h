// The mutator: syzkaller's prog/mutation.go on mcfuzz programs, and the
// byte-level functions libFuzzer's custom-mutator hooks call.
//
// Policy is data. MutateOptions holds every weight and probability; the
// operators are rows of one table (mutators(), in mutate.cc), each a short
// named function, so a log can say which operators made an input
// ("insert_call+mutate_arg"). Use:
//
//   * mutate() / crossover() on Program values (tests, tools, minimiser);
//   * mutate_bytes() / crossover_bytes() from LLVMFuzzerCustomMutator /
//     LLVMFuzzerCustomCrossOver: decode (total), mutate, re-encode within
//     max_size. Those are thin and live in the targets.
//
// Every function is deterministic given its seed (an explicit splitmix64,
// rng.h), every result is canonical (canonicalize(), is_valid() holds) and has
// at most MutateOptions::max_calls calls. No function keeps state, so they
// may run on several threads at once if opts.raw_mutate may.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fuzzers/prog/prog.h"

namespace mcf::fuzz {

// libFuzzer's LLVMFuzzerMutate: mutates data[0, size) in place and returns the
// new size (<= max_size). Used only on the raw bytes of one argument field.
using RawMutator = std::function<size_t(uint8_t* data, size_t size, size_t max_size)>;

// The operators, in the order of the mutators() table.
enum class MutationOp : uint8_t {
  kInsertCall,       // a new call, near the end, using an existing fd most of the time
  kRemoveCall,       // drop a call; its users move to another fd on the same node
  kDuplicateCall,    // copy a call to a later position
  kSwapCalls,        // exchange two calls (fd users re-linked)
  kMoveThread,       // put one call on another thread
  kMutateArg,        // one argument, type-aware (ioctl field, fd, command, poll events, device)
  kChangeNode,       // an open's device, node kind or node index
  kChangeOpenFlags,  // an open's O_NONBLOCK / access mode
  kFailNth,          // set, change or clear one call's fail_nth
  kSplice,           // prefix of this program + suffix of another (or of itself)
  kMutateSchedule,   // start a schedule, switch its strategy, or add, drop or change one
                     // preemption (prog.h SchedStep) or PCT change point / priority (PctSchedule)
  kCount,
};
const char* mutation_op_name(MutationOp op);  // "insert_call", ...

struct MutateOptions {
  // 1. Operator weights, relative; 0 disables one. After syzkaller's
  //    DefaultMutateOpts (splice 200, insert 100, mutate-arg 100, remove 10),
  //    with splice lower because libFuzzer calls crossover on its own.
  unsigned insert_call = 100;
  unsigned remove_call = 20;
  unsigned duplicate_call = 20;
  unsigned swap_calls = 20;
  unsigned move_thread = 20;
  unsigned mutate_arg = 120;
  unsigned change_node = 30;
  unsigned change_open_flags = 15;
  unsigned fail_nth = 15;
  unsigned splice = 20;
  unsigned mutate_schedule = 30;

  // 2. Rounds: after each operator that applied, stop with probability
  //    1/expected_ops (syzkaller: 5), so about that many per mutate().
  unsigned expected_ops = 3;

  // 3. Shape of generated programs.
  size_t max_calls = kMaxCalls;                 // clamped to kMaxCalls
  unsigned threads = kMaxThreads;               // new and moved calls use threads [0, threads)
  uint32_t call_kinds = (1u << static_cast<int>(CallKind::kCount)) - 1;  // bit per CallKind insert may make
  uint32_t node_kinds = (1u << static_cast<int>(NodeKind::kCount)) - 1;  // bit per NodeKind open/ioctl may target

  // 4. Inside the operators (percentages).
  unsigned insert_uses_fd_pct = 75;    // insert: a call on an existing fd when there is one
  unsigned ioctl_matches_node_pct = 85;  // an ioctl on an fd: a command of that fd's node kind
  unsigned valid_enum_pct = 90;        // kEnum / kFlags: a listed value (or OR of them)
  unsigned raw_bytes_pct = 10;         // kInt / kCount ...: hand the field's bytes to raw_mutate
  unsigned fail_nth_max = 128;         // fail_nth values are 1..fail_nth_max: half small, half uniform
  uint64_t user_data_size = 4096;      // kUserPtr offsets fall in [0, user_data_size)
  // The schedule (mutate_schedule). A program without one gets PCT with
  // probability sched_pct_pct, else one preemption: the default strategy,
  // chosen on inputs-to-find figures (tests/sched/sched_strategy_test.cc).
  unsigned sched_pct_pct = 75;
  unsigned sched_switch_pct = 5;       // a schedule switches to the other strategy
  // PCT change points fall in [0, calls x this); measured on the shipped
  // lifetime_fuzzer corpus: 57-155 points per call.
  unsigned pct_points_per_call = 100;

  // 5. libFuzzer's LLVMFuzzerMutate, for raw field bytes; empty: a built-in bit flip.
  RawMutator raw_mutate;

  // 6. Debugging (syzkaller validates after every operator in tests): check
  //    that each operator's output is canonical before canonicalize() runs,
  //    and say which was not in MutationLog::invalid.
  bool debug_validate = false;

  unsigned weight(MutationOp op) const;
};

// Which operators applied, in order.
struct MutationLog {
  std::vector<MutationOp> ops;
  std::string invalid;  // debug_validate: "<operator>: <why>" for the first bad output
  std::string str() const;  // "insert_call+mutate_arg", "" when none applied
};

// Mutates `p` in place with several operators (see expected_ops). `donor` is
// the other program for splice; null splices `p` with itself. Canonicalises
// `p` first, so any program is accepted.
MutationLog mutate(Program* p, uint64_t seed, const MutateOptions& opts = {},
                   const Program* donor = nullptr);

// Applies one operator once; false (and `p` unchanged) when it does not
// apply (e.g. remove on an empty program). For tests and tools; `p` must be
// canonical.
bool apply_mutation(MutationOp op, Program* p, uint64_t seed, const MutateOptions& opts = {},
                    const Program* donor = nullptr);

// The splice of `a` and `b`: a prefix of `a` then a suffix of `b`, fd users
// in the suffix re-linked into the result. Canonical, at most max_calls.
Program crossover(const Program& a, const Program& b, uint64_t seed,
                  const MutateOptions& opts = {});

}  // namespace mcf::fuzz
