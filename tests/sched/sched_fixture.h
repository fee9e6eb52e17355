// Test-only fixtures for the deterministic scheduler (never in core/): run a
// few thread functions under a DetScheduler, or on free real threads, the way
// the executor runs program threads (each function is that thread's call 0).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/kernel/hooks.h"
#include "core/kernel/lock.h"
#include "core/kernel/task.h"
#include "core/kernel/wait.h"
#include "fuzzers/sched/det_scheduler.h"
#include "fuzzers/sched/strategy.h"

namespace mcf::fuzz::testing {

// A lookup that drops the table lock before taking its reference (the
// R10/R11 bug: get after the lookup lock is gone), racing a removal that
// frees the object. Found only when the removal runs entirely between the
// lookup's unlock and its get: one preemption.
struct RacyLookup {
  Mutex table_lock{"test_table.lock"};
  struct Obj {
    std::atomic<bool> freed{false};
  } obj;
  Obj* table = &obj;  // guarded by table_lock
  std::atomic<bool> bug{false};

  void lookup() {
    table_lock.lock();
    Obj* p = table;
    table_lock.unlock();
    if (p == nullptr) return;
    hook(HookKind::kRefGet, "test_obj", p, "lookup");
    if (p->freed.load()) bug.store(true);  // a use after the last put
  }
  void remove() {
    table_lock.lock();
    Obj* p = table;
    table = nullptr;
    table_lock.unlock();
    if (p == nullptr) return;
    hook(HookKind::kRefPut, "test_obj", p, "remove");
    p->freed.store(true);
  }
  std::vector<std::function<void()>> fns() {
    return {[this] { lookup(); }, [this] { remove(); }};
  }
};

// A missed ordering that deadlocks: the waker (t0) takes the lock, sets the
// flag and wakes; the sleeper (t1) takes the lock and sleeps until the flag
// is set, holding the lock (the bug). Run t0 first, as the non-preemptive
// default does, and all is well; let t1 take the lock first (t0 preempted
// before its lock, or t1 started first) and t1 sleeps with the lock that t0
// needs to wake it: a deadlock (no lockdep cycle: one lock class only).
struct OrderDeadlock {
  Mutex lock{"test_order.lock"};
  wait_queue_head wq{"test_order.wq"};
  bool flag = false;  // guarded by lock

  void waker() {
    lock.lock();
    flag = true;
    wake_up(&wq);
    lock.unlock();
  }
  void sleeper() {
    lock.lock();
    wait_event(&wq, [this] { return flag; });
    lock.unlock();
  }
  std::vector<std::function<void()>> fns() {
    return {[this] { waker(); }, [this] { sleeper(); }};
  }
};

struct FixtureRun {
  std::string trace;
  int preemptions = 0;
};

// Runs fns[t] as program thread t under a DetScheduler with `strategy`; the
// calling thread is the controller (no teardown). Returns the trace.
inline FixtureRun run_deterministic(const std::vector<std::function<void()>>& fns,
                                    Strategy* strategy) {
  DetScheduler sched(strategy);
  HookSink* saved = internal::g_hook_sink.load();
  set_hook_sink(&sched);
  unsigned active = (1u << fns.size()) - 1;
  sched.begin(active);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < fns.size(); ++t) {
    threads.emplace_back([&, t] {
      current()->tid = static_cast<int>(t);
      sched.thread_enter(static_cast<int>(t));
      sched.set_call(static_cast<int>(t), 0, static_cast<int>(t));
      fns[t]();
      sched.thread_exit();
    });
  }
  sched.wait_quiescent();
  sched.wait_all_done();
  sched.end();
  for (std::thread& th : threads) th.join();
  set_hook_sink(saved);
  return FixtureRun{sched.trace_text(), sched.preemptions()};
}

// The same with the strategy a program's schedule part names.
inline FixtureRun run_deterministic(const std::vector<std::function<void()>>& fns,
                                    const Program& schedule) {
  return run_deterministic(fns, make_strategy(schedule).get());
}

// The same with the preemption strategy of `schedule`.
inline FixtureRun run_deterministic(const std::vector<std::function<void()>>& fns,
                                    const std::vector<SchedStep>& schedule) {
  return run_deterministic(fns, make_preempt_strategy(schedule).get());
}

// The same functions on real threads released together.
inline void run_real_threads(const std::vector<std::function<void()>>& fns) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < fns.size(); ++t) {
    threads.emplace_back([&, t] {
      current()->tid = static_cast<int>(t);
      ready.fetch_add(1);
      while (ready.load() < static_cast<int>(fns.size())) {
      }
      fns[t]();
    });
  }
  for (std::thread& th : threads) th.join();
}

}  // namespace mcf::fuzz::testing
