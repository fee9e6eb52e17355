// Scheduling strategies of the deterministic scheduler (det_scheduler.h), after
// Shuttle: one small interface, one file per strategy. A strategy sees only
// thread numbers and the thread-local address of the point being reached, so
// the same program and strategy always make the same choices.
//
//   strategy_preempt.cc  the program's schedule: up to kMaxSchedSteps
//                        preemptions (CHESS-style preemption bounding;
//                        Musuvathi & Qadeer, PLDI'07: most bugs need <= 2),
//                        non-preemptive otherwise.
//   strategy_pct.cc      PCT: thread priorities and up to kMaxPctChanges
//                        priority change points, all read from the program
//                        (Burckhardt et al., ASPLOS'10).
//
// The program says which (Program::strategy); make_strategy() builds it.
//
// Invariants every strategy keeps: it returns a runnable thread; it never
// reads a clock or a pointer value; its state depends only on its input and
// the calls it received.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/kernel/hooks.h"
#include "fuzzers/prog/prog.h"

namespace mcf::fuzz {

// A scheduling point in thread-local terms: prog.h's SchedStep without `next`.
struct PointKey {
  int thread;   // program thread 0..kMaxThreads-1
  int call;     // index among that thread's calls
  HookKind kind;
  int nth;      // how many points of `kind` the thread reached before in that call
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Thread `key.thread` (running, runnable) reached a point: who runs next.
  // `runnable` has a bit per program thread; the current one's bit is set.
  virtual int at_point(const PointKey& key, unsigned runnable) = 0;
  // Thread `current` blocked or finished: who runs next among `runnable`
  // (non-empty, current's bit clear).
  virtual int at_block(int current, unsigned runnable) = 0;
};

// The program's schedule (prog.h SchedStep): at a point matching a step, run
// its `next` (or the first runnable after it, cyclically); at a block, the
// first runnable after the current thread, cyclically (round robin).
std::unique_ptr<Strategy> make_preempt_strategy(std::vector<SchedStep> steps);

// The program's PCT schedule (prog.h PctSchedule): always the runnable
// thread of highest priority, priorities changed at the schedule's points.
std::unique_ptr<Strategy> make_pct_strategy(const PctSchedule& pct);

// The strategy the program names, with its data.
std::unique_ptr<Strategy> make_strategy(const Program& p);

// The first runnable thread at or after `from`, cyclically over kMaxThreads.
int first_runnable_from(int from, unsigned runnable);

}  // namespace mcf::fuzz
