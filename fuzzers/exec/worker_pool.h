// The executor's program threads: kMaxThreads OS threads created once per
// process and released together for each input (fuzzing-infra.md §3.6: a
// pool made at one-time initialisation, its workers asleep whenever the
// engine is not running the target).
//
// One input at a time: start() releases the workers that have calls, wait()
// returns when each of them finished its calls, or when every unfinished one
// is asleep in the model (on a wait queue, see task_struct::sleep_seq) so that
// only teardown can wake it. That second answer involves no clock: it is read
// from the tasks' sleep states with a double collect. Hangs (a worker that
// neither finishes nor sleeps) are the hang watchdog's (watchdog.h).
//
// Thread safety: start() and wait() are called by one thread (the executor's
// caller). note_sleep() and set_position() are called by the workers;
// positions() by any thread (it reads atomics only).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/kernel/task.h"
#include "fuzzers/prog/prog.h"

namespace mcf::fuzz {

// What task `t` does, from another thread: "running", "asleep on
// <wait queue>", "waits for lock <class> held by t1" (task_struct::blocked_on).
std::string task_state_text(const task_struct* t);

class WorkerPool {
 public:
  // The process's pool, created (threads started) on first use. After a
  // fork the child gets a new pool.
  static WorkerPool& instance();

  // The worker index of the calling thread, or -1 off the pool.
  static int current_worker();

  // Runs `fn(t)` on every worker t whose bit is set in `active`; the workers
  // start together. `fn` must stay valid until wait() returned kAllDone.
  void start(const std::function<void(int)>* fn, unsigned active);

  enum class Outcome {
    kAllDone,    // every active worker finished fn
    kQuiescent,  // every unfinished active worker sleeps in the model
  };
  // Waits for the first outcome that holds.
  Outcome wait();

  // From a worker: it committed to sleep (its sleep_seq is odd).
  void note_sleep();
  // From a worker: the program call it runs now (-1: none).
  void set_position(int worker, int call) {
    workers_[worker].position.store(call, std::memory_order_relaxed);
  }

  // "t0 call 3 (poll) asleep on vb2_queue.done_wq, t1 call 4 (ioctl) waits
  // for lock media_device.graph_mutex held by t0, t2 finished" for the
  // active workers (reports; the call numbers index the program).
  std::string positions(const Program* p) const;
  // What the unfinished workers are blocked on, sorted, without duplicates
  // ("test_hang.lock+test_hang.wq"), or "running": stable across runs.
  std::string stuck_on() const;

 private:
  struct Worker {
    std::thread thread;
    task_struct* task = nullptr;         // the worker's `current`, set at start
    std::condition_variable start_cv;    // guarded by m_
    bool active = false;                 // guarded by m_
    std::atomic<bool> done{true};        // written under m_
    std::atomic<int> position{-1};
  };

  WorkerPool();
  void loop(int index);
  // At exit, when no input is running: the workers return and are joined,
  // so the process ends with one thread (TSan otherwise sleeps a second at
  // exit waiting for them). With an input running they are left alone.
  void shutdown_if_idle();
  bool all_done_locked() const;
  bool quiescent_locked() const;

  mutable std::mutex m_;
  std::condition_variable event_cv_;     // the caller waits here
  uint64_t generation_ = 0;              // guarded by m_
  uint64_t events_ = 0;                  // guarded by m_: a worker finished or slept
  const std::function<void(int)>* fn_ = nullptr;  // guarded by m_
  int ready_ = 0;                        // guarded by m_: workers started
  bool quit_ = false;                    // guarded by m_
  Worker workers_[kMaxThreads];
};

}  // namespace mcf::fuzz
