// Test-only fixtures for the deterministic scheduler (never in core/): run a
// few thread functions under a DetScheduler, or on free real threads, the way
// the executor runs program threads (each function is that thread's call 0).
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/kernel/hooks.h"
#include "core/kernel/task.h"
#include "fuzzers/sched/det_scheduler.h"
#include "fuzzers/sched/strategy.h"

namespace mcf::fuzz::testing {

struct FixtureRun {
  std::string trace;
  int preemptions = 0;
};

// Runs fns[t] as program thread t under a DetScheduler with the preemption
// strategy of `schedule`; the calling thread is the controller (no
// teardown). Returns the trace.
inline FixtureRun run_deterministic(const std::vector<std::function<void()>>& fns,
                                    const std::vector<SchedStep>& schedule) {
  auto strategy = make_preempt_strategy(schedule);
  DetScheduler sched(strategy.get());
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
