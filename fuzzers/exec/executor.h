// The executor: runs one program (fuzzers/prog/prog.h) against a fresh model
// and checks the oracles of DESIGN.md §3 that only the end of a run can see.
//
//   ExecResult r = execute(program, ExecOptions{});
//
// One input, in four steps:
//  1. Setup: lockdep_reset() (a report depends only on the input), register
//     the drivers the options name (default: every row of the table) and plug
//     device 0 of each.
//  2. Calls. Real-thread mode (kThreads): each call runs on its program
//     thread, a worker of a pool created once per process (worker_pool.h); the
//     workers with calls are released together, each runs its calls in program
//     order. Sequential mode (kSequential): every call in program order on the
//     calling thread, thread numbers ignored; opens get O_NONBLOCK and polls do
//     not block, since no other thread could wake a sleeper (a sleep there is
//     reported as a deadlock).
//  3. Teardown, once every thread finished its calls OR every unfinished one
//     sleeps in the model (a blocking DQBUF or poll nobody will end; decided
//     from the tasks' sleep states, no clock): stop starting calls, close every
//     fd, unplug every device the executor plugged (this wakes the sleepers,
//     R14), wait for every thread to finish, unregister every driver the
//     executor registered.
//  4. Oracles: no program thread and not the caller holds a model lock; no
//     thread is stuck (still asleep after teardown: kDeadlock, with every
//     thread's position); every live count is zero (kLeak). A failed oracle
//     is a report, which aborts.
// Throughout, the hang watchdog (watchdog.h): an input still running after
// hang_timeout_ms, in any step, is a kHang report with every program
// thread's call and what it waits for (lock class and owner, wait queue),
// and the caller's (setup, teardown).
//
// Resolution, when a call runs (values out of range are taken modulo, as
// prog.h promises):
//   node  (dev, kind, index) -> devtmpfs_nodes_of("<driver>.<id>",
//         node_kind_prefix(kind))[index % n]; no such node: -ENOENT, not run.
//   fd    the fd the producing call returned; -1 (so -EBADF from the model)
//         when it failed, has not run yet, or the call names none.
//   ioctl the IoctlArg marshalled into a scratch struct in the user arena (one
//         scratch area per program thread); a kUserPtr field becomes the
//         address of that offset in the arena's data region, or the raw value
//         with kUserPtrRaw.
//   plug / unplug  the executor's own table of the devices it made (it holds
//         their creation reference): plug adds "<driver>.<id>" unless present
//         (-EEXIST), unplug platform_device_unregister()s one it made
//         (-ENODEV otherwise). Nothing leaks, nothing is put twice.
//   bind / unbind  device_driver_attach / device_release_driver of the named
//         platform device (-ENODEV when absent, or for bind when its driver is
//         not registered).
//   irq   irq_fire() of the device's line (line % number of lines).
//   register_driver / unregister_driver  the row's functions; the executor
//         remembers what it registered (-EBUSY / -ENODEV otherwise).
//   fail_nth  the n-th failure point the calling thread reaches during the
//         call fails (fail_nth.h).
//
// Per-input cost: no thread creation, one persistent process (its fd table
// and user arena are reused, the arena zeroed per input), small per-input
// tables.
//
// Thread safety: one execute() at a time per process.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/kernel/hooks.h"
#include "drivers/driver_table.h"
#include "fuzzers/exec/fail_nth.h"
#include "fuzzers/prog/prog.h"

namespace mcf::fuzz {

// kDeterministic: the program threads run on the pool's OS threads, one at a
// time, switching only where the program's schedule says (fuzzers/sched/
// det_scheduler.h); the same program always gives the same interleaving,
// and every thread waiting is a kDeadlock report with each one's position.
enum class ExecMode : uint8_t { kThreads, kSequential, kDeterministic };

constexpr int kDefaultHangTimeoutMs = 20000;

struct ExecOptions {
  ExecMode mode = ExecMode::kThreads;
  // The table the program's driver indices refer to; null: driver_table().
  // Tests and users bringing their own driver model pass theirs.
  const std::vector<driver_desc>* drivers = nullptr;
  // Rows registered before the first call (indices modulo the table, each
  // once); nullopt: every row.
  std::optional<std::vector<int>> setup_drivers;
  // Plug device 0 of each setup driver.
  bool setup_plug = true;
  // Every hook point is forwarded here (the executor installs its own sink
  // for the duration of execute()).
  HookSink* hook_sink = nullptr;
  // Deterministic mode: keep the scheduler's trace of the input in
  // ExecResult::trace (also printable with exec_last_trace()).
  bool keep_trace = false;
  // Every failure point each call reaches, in CallResult::fault_points
  // (for mcf-repro faults; fail_nth works without it).
  bool record_fault_points = false;
  // Hang watchdog: an input still running after this long is a kHang report
  // (<= 0: off). Below libFuzzer's -timeout, so the report with positions
  // comes first (the targets derive it from -timeout, target.h).
  int hang_timeout_ms = kDefaultHangTimeoutMs;
};

enum class CallStatus : uint8_t {
  kNotRun,       // never started: teardown came first (its thread was asleep)
  kDone,         // returned before teardown
  kInterrupted,  // was asleep when teardown began, returned after (R14)
};
const char* call_status_name(CallStatus status);

struct CallResult {
  CallStatus status = CallStatus::kNotRun;
  long ret = 0;                      // >= 0, or -errno
  const char* fault_site = nullptr;  // fail_nth: the failure point that failed
  // ExecOptions::record_fault_points: every failure point the call reached,
  // in order; fail_nth = n aims at fault_points[n - 1].
  std::vector<FaultPointSeen> fault_points;
  int err() const { return ret < 0 ? static_cast<int>(-ret) : 0; }
};

struct ExecResult {
  std::vector<CallResult> calls;  // one per program call, same order
  // Setup: the result of each row's registration and device-0 plug, by row
  // (0 when not part of the setup).
  std::vector<long> setup_register;
  std::vector<long> setup_plug;
  bool blocked = false;  // teardown began while a program thread slept
  // Deterministic mode: scheduling points passed and preemptions taken, and
  // the trace when ExecOptions::keep_trace.
  uint64_t sched_points = 0;
  int sched_preemptions = 0;
  std::string trace;
};

ExecResult execute(const Program& p, const ExecOptions& opts = {});

// The program threads' positions in the input being run ("t0 call 3 (poll)
// asleep, ..."), for a report callback. Safe to call from any thread.
std::string exec_thread_positions();

// The deterministic scheduler's trace of the input running now or run last
// (one event a line: thread, call, point kind#n, object class, label); empty
// when that input did not run in deterministic mode. For reports and
// `mcf-repro replay --trace`.
std::string exec_last_trace();

}  // namespace mcf::fuzz
