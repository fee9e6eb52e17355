// The executor: setup, the two ways of running the calls, teardown and the
// end-of-input oracles. See executor.h.
#include "fuzzers/exec/executor.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "core/kernel/live_objects.h"
#include "core/kernel/lock.h"
#include "core/kernel/report.h"
#include "core/kernel/task.h"
#include "fuzzers/exec/exec_state.h"
#include "fuzzers/exec/fail_nth.h"
#include "fuzzers/exec/watchdog.h"
#include "fuzzers/exec/worker_pool.h"
#include "fuzzers/sched/det_scheduler.h"
#include "fuzzers/sched/strategy.h"

namespace mcf::fuzz {
namespace {

// What exec_thread_positions() describes: the input being run.
std::atomic<const Program*> g_program{nullptr};
std::atomic<bool> g_sequential{false};
std::atomic<int> g_seq_position{-1};
// The deterministic scheduler of the input being run (null otherwise), and
// the last one's trace.
std::atomic<DetScheduler*> g_det{nullptr};
std::mutex g_trace_mu;
std::string g_last_trace;

// The process every input runs in. Made once: its fd table is empty after
// each teardown, and its arena is zeroed at the start of each input.
process& exec_process() {
  static process* proc = new process(kExecArenaSize);  // leaked: lives as long as the pool
  return *proc;
}

// The executor's hook sink, installed for the duration of execute(): a
// program thread committing to sleep may be the last event before the
// threads are quiescent, so the pool must re-test (WorkerPool::note_sleep).
// In sequential mode there is no other thread to wake a sleeper: that sleep
// is a deadlock. Every point is forwarded to the options' sink.
class ExecHookSink : public HookSink {
 public:
  ExecHookSink(bool sequential, HookSink* inner, WorkerPool* pool, HookSink* sched)
      : sequential_(sequential), inner_(inner), pool_(pool), sched_(sched) {}

  void on_hook(const HookPoint& point) override {
    if (inner_ != nullptr) inner_->on_hook(point);
    // Last: the scheduler may hand the baton to another thread here.
    if (sched_ != nullptr) sched_->on_hook(point);
    if (point.kind == HookKind::kWaitSleep && task_is_sleeping(current())) {
      if (sequential_) {
        report(ReportKind::kDeadlock, point.object_class,
               "sequential mode: the only program thread sleeps on %s and nothing can wake "
               "it; %s",
               point.object_class, exec_thread_positions().c_str());
      }
      if (pool_ != nullptr && WorkerPool::current_worker() >= 0) pool_->note_sleep();
    }
  }

 private:
  const bool sequential_;
  HookSink* const inner_;
  WorkerPool* const pool_;  // null in sequential and deterministic mode
  HookSink* const sched_;   // deterministic mode: the scheduler
};

// The executor's caller (setup and teardown run on it) and what it does,
// for positions read by the hang watchdog's thread.
std::atomic<const task_struct*> g_caller{nullptr};
std::atomic<const char*> g_caller_phase{nullptr};

// Names the caller's task while it does setup or teardown, for reports.
class CallerScope {
 public:
  explicit CallerScope(const char* what) : t_(current()), saved_(t_->call) {
    t_->call = what;
    g_caller_phase.store(what);
  }
  ~CallerScope() {
    t_->call = saved_;
    g_caller_phase.store(nullptr);
  }
  CallerScope(const CallerScope&) = delete;
  CallerScope& operator=(const CallerScope&) = delete;

 private:
  task_struct* t_;
  const char* saved_;
};

void setup(ExecInput& in, ExecResult* res) {
  CallerScope scope("setup");
  size_t n = in.drivers.size();
  res->setup_register.assign(n, 0);
  res->setup_plug.assign(n, 0);
  if (n == 0) return;
  std::vector<int> rows;
  if (in.opts.setup_drivers.has_value()) {
    for (int r : *in.opts.setup_drivers) {
      int row = static_cast<int>(((r % static_cast<int>(n)) + n) % n);
      if (std::find(rows.begin(), rows.end(), row) == rows.end()) rows.push_back(row);
    }
  } else {
    for (size_t r = 0; r < n; ++r) rows.push_back(static_cast<int>(r));
  }
  for (int row : rows) res->setup_register[row] = in.driver_set.register_row(row);
  if (in.opts.setup_plug)
    for (int row : rows) res->setup_plug[row] = in.devices.plug(row, 0);
  lockdep_assert_no_locks_held("setup");
}

// The first half of teardown: what wakes the sleepers. Runs while program
// threads that were asleep may be finishing their calls.
void teardown_wake(ExecInput& in) {
  CallerScope scope("teardown");
  in.stopping.store(true);
  in.proc.close_all();
  // Removing a device wakes every call asleep on its nodes (R14).
  in.devices.unplug_all();
}

// The second half, once no program thread runs any more.
void teardown_finish(ExecInput& in) {
  CallerScope scope("teardown");
  // Again: a call that was asleep above may have returned an fd, or a plug
  // in flight may have added a device after the first pass.
  in.proc.close_all();
  in.devices.unplug_all();
  in.driver_set.unregister_all();
  lockdep_assert_no_locks_held("teardown");
}

void run_sequential(ExecInput& in) {
  task_struct* t = current();
  int saved_tid = t->tid;
  for (size_t i = 0; i < in.prog.calls.size(); ++i) {
    t->tid = in.prog.calls[i].thread;  // reports name the program's thread
    g_seq_position.store(static_cast<int>(i), std::memory_order_relaxed);
    exec_call(in, i);
  }
  g_seq_position.store(-1, std::memory_order_relaxed);
  t->tid = saved_tid;
  teardown_wake(in);
}

// The hang watchdog fired (watchdog.h): the input is still running. The
// report's object, what the stuck threads wait for, is what the signature of
// a hang is made of (no model frame is on the watchdog's stack).
void on_hang(int limit_ms) {
  std::string stuck = "running";
  if (g_det.load() != nullptr) {
    stuck = "deterministic mode";
  } else if (!g_sequential.load()) {
    stuck = WorkerPool::instance().stuck_on();
  } else if (const task_struct* caller = g_caller.load()) {
    if (const char* on = caller->blocked_on.load()) stuck = on;
  }
  report(ReportKind::kHang, stuck.c_str(),
         "input still running after %d ms (hang watchdog, ExecOptions::hang_timeout_ms): %s",
         limit_ms, exec_thread_positions().c_str());
}

void run_threads(ExecInput& in, ExecResult* res) {
  WorkerPool& pool = WorkerPool::instance();
  unsigned active = 0;
  for (const Call& c : in.prog.calls) active |= 1u << (c.thread % kMaxThreads);
  if (active == 0) {
    teardown_wake(in);
    return;
  }
  // Program thread t: its calls in program order, until teardown begins.
  std::function<void(int)> thread_fn = [&in, &pool](int t) {
    for (size_t i = 0; i < in.prog.calls.size(); ++i) {
      if (in.prog.calls[i].thread % kMaxThreads != t) continue;
      if (in.stopping.load()) break;
      pool.set_position(t, static_cast<int>(i));
      exec_call(in, i);
    }
    pool.set_position(t, -1);
    lockdep_assert_no_locks_held("the end of a program thread");
  };
  pool.start(&thread_fn, active);
  res->blocked = pool.wait() == WorkerPool::Outcome::kQuiescent;
  teardown_wake(in);
  // Every sleeper was woken above; one still asleep now is stuck for good.
  if (pool.wait() != WorkerPool::Outcome::kAllDone) {
    report(ReportKind::kDeadlock, nullptr, "program threads still asleep after teardown: %s",
           exec_thread_positions().c_str());
  }
}

// Deterministic mode: the pool's workers run the program threads, one at a
// time under `sched`; the caller is the scheduler's controller and does the
// first half of teardown under the baton once no program thread can run.
void run_deterministic(ExecInput& in, ExecResult* res, DetScheduler& sched) {
  WorkerPool& pool = WorkerPool::instance();
  unsigned active = 0;
  for (const Call& c : in.prog.calls) active |= 1u << (c.thread % kMaxThreads);
  if (active == 0) {
    teardown_wake(in);
    return;
  }
  std::function<void(int)> thread_fn = [&in, &pool, &sched](int t) {
    sched.thread_enter(t);
    int local = 0;
    for (size_t i = 0; i < in.prog.calls.size(); ++i) {
      if (in.prog.calls[i].thread % kMaxThreads != t) continue;
      if (in.stopping.load()) break;
      pool.set_position(t, static_cast<int>(i));
      sched.set_call(t, local++, static_cast<int>(i));
      exec_call(in, i);
    }
    pool.set_position(t, -1);
    lockdep_assert_no_locks_held("the end of a program thread");
    sched.thread_exit();
  };
  sched.begin(active);
  g_det.store(&sched);
  pool.start(&thread_fn, active);
  res->blocked = !sched.wait_quiescent();
  teardown_wake(in);
  sched.wait_all_done();
  sched.end();  // g_det stays set until the oracles ran: their reports print its trace
  // Every program thread left the model; the pool only marks them done.
  pool.wait();
}

}  // namespace

const char* call_status_name(CallStatus status) {
  switch (status) {
    case CallStatus::kNotRun: return "not-run";
    case CallStatus::kDone: return "done";
    case CallStatus::kInterrupted: return "interrupted";
  }
  return "?";
}

ExecResult execute(const Program& p, const ExecOptions& opts) {
  const std::vector<driver_desc>& drivers = opts.drivers ? *opts.drivers : driver_table();
  process& proc = exec_process();
  {
    std::lock_guard<std::mutex> g(proc.mem().m);
    std::fill(proc.mem().bytes.begin(), proc.mem().bytes.end(), 0);
  }
  fail_nth_install();
  lockdep_reset();  // a lock-order report depends only on this input

  ExecResult res;
  ExecInput in(p, opts, drivers, proc);
  g_program.store(&p);
  g_sequential.store(opts.mode == ExecMode::kSequential);  // before any report may read it
  HookSink* saved_sink = internal::g_hook_sink.load();
  bool sequential = opts.mode == ExecMode::kSequential;
  bool det = opts.mode == ExecMode::kDeterministic;
  std::unique_ptr<Strategy> strategy;
  std::unique_ptr<DetScheduler> sched;
  if (det) {
    strategy = make_strategy(p);
    sched = std::make_unique<DetScheduler>(strategy.get());
  }
  ExecHookSink sink(sequential, opts.hook_sink,
                    sequential || det ? nullptr : &WorkerPool::instance(), sched.get());
  set_hook_sink(&sink);  // before the workers are released
  g_caller.store(current());
  if (opts.hang_timeout_ms > 0) Watchdog::instance().arm(opts.hang_timeout_ms, on_hang);

  setup(in, &res);
  if (sequential) {
    run_sequential(in);
  } else if (det) {
    run_deterministic(in, &res, *sched);
  } else {
    run_threads(in, &res);
  }
  teardown_finish(in);
  if (opts.hang_timeout_ms > 0) Watchdog::instance().disarm();

  set_hook_sink(saved_sink);
  g_program.store(nullptr);
  // The oracles of the end of an input (DESIGN.md §3): no lock held (checked
  // above, on each thread), no thread stuck (run_threads), nothing alive.
  live_objects_check_all_released("after the executor's teardown");
  g_det.store(nullptr);
  res.calls = std::move(in.results);
  if (det) {
    res.sched_points = sched->points();
    res.sched_preemptions = sched->preemptions();
    if (opts.keep_trace) {
      res.trace = sched->trace_text();
      std::lock_guard<std::mutex> g(g_trace_mu);
      g_last_trace = res.trace;
    }
  }
  return res;
}

std::string exec_thread_positions() {
  const Program* p = g_program.load();
  if (p == nullptr) return "no input is running";
  if (DetScheduler* d = g_det.load()) return d->positions();
  if (!g_sequential.load()) {
    // The program threads, then the caller when it is in setup or teardown.
    std::string out = WorkerPool::instance().positions(p);
    const task_struct* caller = g_caller.load();
    if (const char* phase = g_caller_phase.load(); phase != nullptr && caller != nullptr)
      out += std::string("; the executor (") + phase + ") " + task_state_text(caller);
    return out;
  }
  int pos = g_seq_position.load(std::memory_order_relaxed);
  if (pos < 0) return "the program thread is outside the calls";
  return "call " + std::to_string(pos) + " (" + call_kind_name(p->calls[pos].kind) +
         ") on the calling thread";
}

}  // namespace mcf::fuzz

namespace mcf::fuzz {

std::string exec_last_trace() {
  if (DetScheduler* d = g_det.load()) return d->trace_text();
  std::lock_guard<std::mutex> g(g_trace_mu);
  return g_last_trace;
}

}  // namespace mcf::fuzz
