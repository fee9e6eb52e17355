// The executor's fail_nth (syzkaller semantics) and its end-of-input
// oracles: a leak, a lock held when a device event returns, a thread stuck
// after teardown, a sleep in sequential mode. The oracles are shown to fire
// with small broken driver rows written here; a report aborts, so those are
// death tests.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "core/kernel/lock.h"
#include "core/kernel/wait.h"
#include "fuzzers/exec/executor.h"
#include "fuzzers/exec/fail_nth.h"
#include "core/kernel/fault.h"
#include "tests/support/exec_fixture.h"
#include "tests/support/live_objects_check.h"

namespace mcf::testing {
namespace {

using fuzz::CallKind;
using fuzz::CallStatus;
using fuzz::ExecMode;
using fuzz::ExecResult;
using fuzz::NodeKind;

class ExecFailNthTest : public ::testing::TestWithParam<ExecMode> {};

TEST_P(ExecFailNthTest, PlugWithFailNthOneFailsCleanly) {
  ProgBuilder b;
  int plug = b.dev(0, CallKind::kPlug, kRowVideo, 1);
  b.fail_nth(1);
  int open = b.open(0, kRowVideo, 1, NodeKind::kVideo);
  ExecResult r = fuzz::execute(b.program(), exec_test_options(GetParam()));
  EXPECT_EQ(r.calls[plug].ret, -ENOMEM) << describe(b.program(), r);
  ASSERT_NE(r.calls[plug].fault_site, nullptr);
  EXPECT_STREQ(r.calls[plug].fault_site, "kzalloc") << "the platform_device allocation";
  EXPECT_EQ(r.calls[open].ret, -ENOENT);
  EXPECT_EQ(r.calls[open].fault_site, nullptr) << "only during the call with fail_nth";
  EXPECT_EQ(alive_objects(), "");
}

TEST_P(ExecFailNthTest, RegisterDriverWithFailNthOneFailsTheProbe) {
  // The device is there first; registering the driver probes it and the
  // probe's first failure point fails: the driver is registered, the device
  // stays unbound, and everything is released at teardown.
  fuzz::ExecOptions o = exec_test_options(GetParam());
  o.setup_drivers = std::vector<int>{};
  ProgBuilder b;
  b.dev(0, CallKind::kPlug, kRowVideo, 0);
  int reg = b.driver(0, CallKind::kRegisterDriver, kRowVideo);
  b.fail_nth(1);
  int open = b.open(0, kRowVideo, 0, NodeKind::kVideo);
  int bind = b.dev(0, CallKind::kBind, kRowVideo, 0);
  int open2 = b.open(0, kRowVideo, 0, NodeKind::kVideo);
  ExecResult r = fuzz::execute(b.program(), o);
  ASSERT_NE(r.calls[reg].fault_site, nullptr) << describe(b.program(), r);
  EXPECT_EQ(r.calls[reg].ret, 0) << "driver_register() does not return probe errors";
  EXPECT_EQ(r.calls[open].ret, -ENOENT) << "the failed probe left no node";
  EXPECT_EQ(r.calls[bind].ret, 0) << "a later bind probes again, without a fault";
  EXPECT_GE(r.calls[open2].ret, 0);
  EXPECT_EQ(alive_objects(), "");
}

TEST_P(ExecFailNthTest, SweepEveryFailurePointOfPlugAndOpen) {
  // syzkaller's sweep: fail_nth = 1, 2, ... until the call reaches fewer
  // failure points than n. Each run either fails the call with an error or
  // absorbs the fault (a failed probe); teardown releases everything either
  // way (execute() reports a leak otherwise).
  for (int row : {kRowVideo, kRowMedia, kRowBridge}) {
    int injected = 0;
    for (uint32_t n = 1; n < 200; ++n) {
      ProgBuilder b;
      int plug = b.dev(0, CallKind::kPlug, static_cast<uint8_t>(row), 1);
      b.fail_nth(n);
      ExecResult r = fuzz::execute(b.program(), exec_test_options(GetParam()));
      ASSERT_EQ(alive_objects(), "");
      if (r.calls[plug].fault_site == nullptr) {
        EXPECT_EQ(r.calls[plug].ret, 0);
        break;
      }
      ++injected;
      EXPECT_TRUE(r.calls[plug].ret == 0 || r.calls[plug].ret == -ENOMEM)
          << "row " << row << " n=" << n << describe(b.program(), r);
    }
    EXPECT_GT(injected, 1) << "row " << row << ": probe has several failure points";
  }
  int injected = 0;
  for (uint32_t n = 1; n < 50; ++n) {
    ProgBuilder b;
    int open = b.open(0, kRowVideo, 0, NodeKind::kVideo);
    b.fail_nth(n);
    ExecResult r = fuzz::execute(b.program(), exec_test_options(GetParam()));
    ASSERT_EQ(alive_objects(), "");
    if (r.calls[open].fault_site == nullptr) {
      EXPECT_GE(r.calls[open].ret, 0);
      break;
    }
    ++injected;
    EXPECT_LT(r.calls[open].ret, 0) << "n=" << n;
  }
  EXPECT_GE(injected, 1);
}

INSTANTIATE_TEST_SUITE_P(Modes, ExecFailNthTest,
                         ::testing::Values(ExecMode::kThreads, ExecMode::kSequential),
                         [](const auto& info) {
                           return info.param == ExecMode::kThreads ? "Threads" : "Sequential";
                         });

// A failure point of kind `kind`; true when it was made to fail.
bool reach(const char* kind) { return fault_point(kind, "thing", -EBUSY) != 0; }

TEST(ExecFailNthScopeTest, OnlyTheNthPointOnlyOnTheArmedThread) {
  fuzz::fail_nth_install();
  {
    fuzz::FailNthScope scope(3);
    EXPECT_FALSE(reach("a"));
    EXPECT_FALSE(reach("b"));
    bool other = true;
    std::thread([&] { other = reach("other thread"); }).join();
    EXPECT_FALSE(other);
    EXPECT_EQ(fault_point("c", "thing", -EBUSY), -EBUSY) << "the point's own errno";
    EXPECT_STREQ(scope.failed_site(), "c");
    EXPECT_FALSE(reach("d"));
    EXPECT_EQ(scope.points_reached(), 4u);
  }
  EXPECT_FALSE(reach("outside"));
  set_fault_injector(nullptr);
}

TEST(ExecFailNthScopeTest, RecordListsEveryPointInOrderWithTheOneThatFailed) {
  fuzz::fail_nth_install();
  std::vector<fuzz::FaultPointSeen> seen;
  {
    fuzz::FailNthScope scope(2, &seen);
    EXPECT_EQ(fault_point("kzalloc", "v4l2_fh", -ENOMEM), 0);
    EXPECT_EQ(fault_point("device_add", "video2", -ENOMEM), -ENOMEM);
    EXPECT_EQ(fault_point("request_irq", "", -ENOMEM), 0);
  }
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(fuzz::fault_point_text(seen[0]), "kzalloc v4l2_fh -ENOMEM");
  EXPECT_EQ(fuzz::fault_point_text(seen[1]), "device_add video2 -ENOMEM");
  EXPECT_EQ(fuzz::fault_point_text(seen[2]), "request_irq -ENOMEM");
  EXPECT_FALSE(seen[0].failed);
  EXPECT_TRUE(seen[1].failed);
  EXPECT_FALSE(seen[2].failed);
  // Recording alone (fail_nth 0) fails nothing.
  seen.clear();
  {
    fuzz::FailNthScope scope(0, &seen);
    EXPECT_EQ(fault_point("kzalloc", "file", -ENOMEM), 0);
  }
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(seen[0].failed);
  set_fault_injector(nullptr);
}

// --- Broken rows, for the oracles.

struct leaky_thing : Tracked<leaky_thing> {
  static constexpr const char kObjName[] = "exec_test_leaky_thing";
};
int leaky_register() {
  new leaky_thing();  // never freed: a leak the executor must see
  return 0;
}
void nothing_unregister() {}
platform_device* no_device(int) { return nullptr; }

Mutex g_forgotten{"exec_test.forgotten"};
int lock_and_return() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  g_forgotten.lock();  // returns to "user space" with a model lock held
  return 0;
}

// Sleeps on a queue nobody ever wakes, not even teardown.
wait_queue_head g_never{"exec_test.never"};
int sleep_forever() {
  wait_event(&g_never, [] { return false; });
  return 0;
}

std::vector<driver_desc> broken_table(int (*reg)()) {
  return {{"exec-test-broken", "a broken row", reg, nothing_unregister, no_device}};
}

fuzz::Program register_row0(uint8_t thread) {
  ProgBuilder b;
  b.driver(thread, CallKind::kRegisterDriver, 0);
  return b.program();
}

fuzz::ExecOptions broken_options(const std::vector<driver_desc>* table, ExecMode mode) {
  fuzz::ExecOptions o;
  o.mode = mode;
  o.drivers = table;
  o.setup_drivers = std::vector<int>{};
  return o;
}

class ExecOracleDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(ExecOracleDeathTest, ObjectAliveAfterTeardownIsALeak) {
  static const auto table = broken_table(leaky_register);
  EXPECT_DEATH(fuzz::execute(register_row0(0), broken_options(&table, ExecMode::kSequential)),
               "REPORT object-leak: .*exec_test_leaky_thing=1");
  EXPECT_DEATH(fuzz::execute(register_row0(2), broken_options(&table, ExecMode::kThreads)),
               "REPORT object-leak: .*exec_test_leaky_thing=1");
}

TEST_F(ExecOracleDeathTest, LockHeldWhenADeviceEventReturns) {
  static const auto table = broken_table(lock_and_return);
  EXPECT_DEATH(fuzz::execute(register_row0(1), broken_options(&table, ExecMode::kThreads)),
               "REPORT lock-held-at-return: .*exec_test.forgotten");
}

TEST_F(ExecOracleDeathTest, ThreadAsleepAfterTeardownIsADeadlock) {
  // t1 sleeps for good; t0 finishes. The executor sees every unfinished
  // thread asleep (no clock), tears down, and t1 is still asleep: stuck.
  static const auto table = broken_table(sleep_forever);
  ProgBuilder b;
  b.open(0, 0, 0, NodeKind::kMedia);
  b.driver(1, CallKind::kRegisterDriver, 0);
  fuzz::ExecOptions o = broken_options(&table, ExecMode::kThreads);
  o.hang_timeout_ms = 0;  // the verdict must not come from a watchdog
  EXPECT_DEATH(fuzz::execute(b.program(), o),
               "REPORT deadlock: program threads still asleep after teardown: "
               "t1 call 1 \\(register_driver\\) asleep on exec_test.never");
}

// A real hang under real threads: t0's call takes a lock and sleeps on a
// queue nobody wakes; t1's call then waits for that lock. Not every
// unfinished thread is asleep (t1 waits for a lock), so the executor never
// tears down: only the hang watchdog ends the input, naming both positions.
Mutex g_hang_lock{"exec_test_hang.lock"};
wait_queue_head g_hang_wq{"exec_test_hang.wq"};
std::atomic<bool> g_hang_held{false};
int hold_and_sleep() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  g_hang_lock.lock();
  g_hang_held.store(true);
  wait_event(&g_hang_wq, [] { return false; });
  return 0;
}
int wait_for_the_lock() {
  // Real threads: t1 asks for the lock only once t0 holds it, every run.
  while (!g_hang_held.load()) std::this_thread::yield();
  MutexGuard g(&g_hang_lock);
  return 0;
}
const std::vector<driver_desc>& hang_table() {
  static const std::vector<driver_desc> table = {
      {"exec-test-hold", "takes a lock and sleeps for good", hold_and_sleep, nothing_unregister,
       no_device},
      {"exec-test-wait", "waits for that lock", wait_for_the_lock, nothing_unregister,
       no_device}};
  return table;
}
fuzz::Program hang_program() {
  ProgBuilder b;
  b.driver(0, CallKind::kRegisterDriver, 0);
  b.driver(1, CallKind::kRegisterDriver, 1);
  return b.program();
}

TEST_F(ExecOracleDeathTest, HangOnRealThreadsIsReportedByTheWatchdogWithPositions) {
  fuzz::ExecOptions o = broken_options(&hang_table(), ExecMode::kThreads);
  o.hang_timeout_ms = 300;
  EXPECT_DEATH(fuzz::execute(hang_program(), o),
               "REPORT hang: input still running after 300 ms \\(hang watchdog.*\\): "
               "t0 call 0 \\(register_driver\\) asleep on exec_test_hang.wq, "
               "t1 call 1 \\(register_driver\\) waits for lock "
               "exec_test_hang.lock held by t0\n"
               "==mcfuzz== object: exec_test_hang.lock\\+exec_test_hang.wq\n");
}

TEST_F(ExecOracleDeathTest, SameHangInDeterministicModeIsADeadlockWithPositions) {
  // No yield loop needed there: t0 runs first and holds the lock when t1 asks.
  EXPECT_DEATH(fuzz::execute(hang_program(), broken_options(&hang_table(), ExecMode::kDeterministic)),
               "REPORT deadlock: deterministic mode: no thread can run: t0 call 0 \\(its call 0\\) "
               "\\[register_driver\\] waits on exec_test_hang.wq; t1 call 1 \\(its call 0\\) "
               "\\[register_driver\\] waits for lock exec_test_hang.lock held by t0");
}

TEST_F(ExecOracleDeathTest, SleepInSequentialModeIsADeadlock) {
  static const auto table = broken_table(sleep_forever);
  EXPECT_DEATH(fuzz::execute(register_row0(3), broken_options(&table, ExecMode::kSequential)),
               "REPORT deadlock: sequential mode: the only program thread sleeps on "
               "exec_test.never");
}

}  // namespace
}  // namespace mcf::testing
