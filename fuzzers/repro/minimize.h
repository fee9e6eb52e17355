// Crash minimisation (syzkaller's prog/minimization.go in MinimizeCrash
// mode): make a crashing program as small as it can be while it still
// crashes with the same signature. The predicate decides "still crashes";
// the repro tool's predicate runs a child process (child.h) and compares
// signatures, tests pass any function.
//
// Passes, repeated until one round changes nothing:
//   1. calls    drop each call, last first (resources.h keeps every fd
//               reference on a live producer, or -1);
//   2. threads  move every call of a thread, then each single call, to
//               thread 0; then renumber the threads t0, t1, ... in order of
//               first use;
//   3. fail_nth reset each call's fault injection to 0;
//   4. schedule drop each preemption step (or PCT change point) of the schedule
//               (prog.h's SchedStep), last first;
//   5. fields   reset each ioctl field, each poll's events and block flag,
//               each open's node index and each irq line to 0.
// Every candidate is canonical; the result is canonical and, by
// construction, satisfies the predicate (when the input did).
#pragma once

#include <functional>
#include <string>

#include "fuzzers/prog/prog.h"

namespace mcf::repro {

using StillCrashes = std::function<bool(const fuzz::Program&)>;

struct MinimizeOptions {
  bool calls = true;
  bool threads = true;
  bool fail_nth = true;
  bool schedule = true;
  bool fields = true;
  int max_rounds = 8;
  // Told each accepted step ("drop call 3: 7 calls"), when set.
  std::function<void(const std::string&)> log;
};

struct MinimizeStats {
  int candidates = 0;  // predicate calls
  int accepted = 0;
  int rounds = 0;
};

fuzz::Program minimize(const fuzz::Program& p, const StillCrashes& still_crashes,
                       const MinimizeOptions& opts = {}, MinimizeStats* stats = nullptr);

}  // namespace mcf::repro
