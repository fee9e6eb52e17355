// The deterministic scheduler: exactly one program thread runs model code at
// a time, and which one is decided at each scheduling point (every hook point
// of core/kernel/hooks.h) by a Strategy (strategy.h) fed from the input, so
// the same input always gives the same interleaving and the same trace.
//
// Mechanism (OS threads; fibers are the later optimisation of DESIGN.md §2,
// swapcontext ~0.2 us): the executor's pooled OS threads pass a "baton"; a
// thread without it waits on its own semaphore, released by the thread that
// hands over after it let go of the scheduler's mutex. Measured in the asan
// build on 2 loaded cores (tests/sched/sched_speed_test.cc, 12 alternating
// runs): a switch at every point costs a median 3.2 us per point, against
// 4.6 us with a condition variable per thread; a point without a switch
// ~0.5-0.9 us. The model's primitives never block an OS thread
// holding the baton: they call Scheduler::block_on() (lock.cc, wait.cc, hw.cc)
// and the thread is not schedulable until unblock() on the same object.
//
// Slots 0..kMaxThreads-1 are the program threads; slot kController is the
// executor's caller, which does teardown under the baton: it gets the baton
// when no program thread can run (wait_quiescent: the program threads are
// finished or asleep, teardown wakes them), and again when every program
// thread finished (wait_all_done). No runnable slot while some slot is not
// finished is a deadlock: a kDeadlock report naming each thread's call and
// what it waits on (lock class and owner, or wait queue). More than
// max_points points in one input is a kHang report (a livelock).
//
// The trace: a ring of the last trace_capacity events (points, preemptions,
// blocks) in thread-local terms (no pointers), trace_text() prints it.
//
// Interleaving coverage: at each preemption the pair (point preempted at,
// first point of the thread switched to) bumps a counter of a
// __libfuzzer_extra_counters array, so a new interleaving is progress.
//
// Thread safety: begin/wait_quiescent/wait_all_done/end from the controller;
// thread_enter/set_call/thread_exit from program thread t; on_hook, block_on,
// unblock from whichever thread holds the baton (unblock from any thread).
#pragma once

#include <cstdint>
#include <mutex>
#include <semaphore>
#include <string>
#include <vector>

#include "core/kernel/hooks.h"
#include "fuzzers/prog/prog.h"
#include "fuzzers/sched/strategy.h"

namespace mcf::fuzz {

class DetScheduler : public Scheduler, public HookSink {
 public:
  static constexpr int kController = kMaxThreads;
  static constexpr int kSlots = kMaxThreads + 1;

  struct Options {
    uint64_t max_points = 2'000'000;
    size_t trace_capacity = 8192;
  };

  explicit DetScheduler(Strategy* strategy) : DetScheduler(strategy, Options()) {}
  DetScheduler(Strategy* strategy, Options opts);
  ~DetScheduler() override;

  // 1. Controller: program threads in `active` (bit per thread) become
  //    runnable; the controller holds the baton; installs this scheduler
  //    (set_scheduler). The hook sink is the caller's to chain (on_hook).
  void begin(unsigned active);
  // 2. Program thread t, first thing: waits for the baton.
  void thread_enter(int t);
  //    Program thread t starts its `local`-th call (program call `global`).
  void set_call(int t, int local, int global);
  //    Program thread, last thing: finished; passes the baton.
  void thread_exit();
  // 3. Controller: gives the baton away until no program thread can run;
  //    true when every program thread finished.
  bool wait_quiescent();
  //    Controller: gives the baton away until every program thread finished
  //    (or reports a deadlock).
  void wait_all_done();
  // 4. Controller: uninstalls.
  void end();

  // Scheduler (core/kernel/hooks.h)
  bool controls_current() override;
  void block_on(const void* object, const char* what, int owner_tid) override;
  void unblock(const void* object) override;
  // HookSink: a scheduling point.
  void on_hook(const HookPoint& point) override;

  // "t0 call 3 (ioctl) waits for lock X held by t1; t1 call 5 ..." 
  std::string positions();
  // The trace ring, one event a line: "t0 c1 lock media_device.graph_mutex".
  std::string trace_text();
  uint64_t points() const { return points_; }
  int preemptions() const { return preemptions_; }

 private:
  enum class State : uint8_t { kAbsent, kRunnable, kBlocked, kFinished };
  struct Slot {
    State state = State::kAbsent;
    const void* object = nullptr;  // kBlocked: what it waits for
    const char* what = nullptr;
    int owner = -1;
    int call_local = -1;
    int call_global = -1;
    const char* call_name = nullptr;  // task_struct::call when it blocked
    uint8_t counts[kHookKindCount] = {};
  };
  struct TraceEvent {
    int8_t thread;
    int8_t event;  // 0 point, 1 preempt to `arg`, 2 block, 3 deadlock
    HookKind kind;
    int16_t call;
    int16_t nth;
    int8_t arg;
    // Copies: a label may live in an object freed before the trace is read.
    char cls[40];
    char label[32];
  };
  static TraceEvent event(int thread, int kind_of_event, HookKind kind, int call, int nth, int arg,
                          const char* cls, const char* label);

  unsigned runnable_locked() const;
  int pick_after_block_locked(int self);
  void switch_locked(std::unique_lock<std::mutex>& l, int self, int next);
  // Hands the baton to `next` and lets go of mu_ (l is unlocked after).
  void hand_over_locked(std::unique_lock<std::mutex>& l, int next);
  void block_self_locked(std::unique_lock<std::mutex>& l, int self);
  void trace_locked(const TraceEvent& e);
  std::string describe_locked() const;
  [[noreturn]] void report_deadlock(std::unique_lock<std::mutex>& l, const char* what);

  Strategy* const strategy_;
  const Options opts_;
  std::mutex mu_;
  // Slot i's turn: released once per handoff to i, after mu_ is let go (the
  // woken thread does not wake into a held mutex), and acquired exactly once
  // per handoff by slot i. A slot is handed the baton again only after it
  // ran, hence after it acquired: a binary semaphore never overflows.
  struct Turn {
    std::binary_semaphore sem{0};
  };
  Turn turn_[kSlots];
  Slot slots_[kSlots];
  int running_ = -1;
  int saved_controller_tid_ = 0;
  uint64_t points_ = 0;
  int preemptions_ = 0;
  uint32_t pending_pair_ = 0;  // hash of the point a preemption happened at
  std::vector<TraceEvent> trace_;
  uint64_t trace_next_ = 0;
  const int quiescent_tag_ = 0;
  const int all_done_tag_ = 0;
};

}  // namespace mcf::fuzz
