// Wait queues (core/kernel/wait.h): wait_event, wake_up_all, wait_woken, and
// that no wake-up is lost between a sleeper's check and its sleep.
#include "core/kernel/wait.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/kernel/hooks.h"
#include "core/kernel/lock.h"
#include "core/kernel/task.h"
#include "tests/support/hook_recorder.h"

namespace mcf {
namespace {

using ::mcf::testing::HookRecorder;
using namespace std::chrono_literals;

size_t queue_length(wait_queue_head* wq) {
  std::lock_guard<std::mutex> g(wq->lock);
  return wq->entries.size();
}

class WaitTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};
using WaitDeathTest = WaitTest;

TEST_F(WaitTest, ReturnsAtOnceWhenConditionIsTrue) {
  wait_queue_head wq("test.wq_true");
  HookRecorder rec;
  int evaluations = 0;
  wait_event(&wq, [&] {
    ++evaluations;
    return true;
  });
  EXPECT_EQ(evaluations, 1);
  EXPECT_EQ(rec.count(HookKind::kWaitSleep), 0);
  EXPECT_EQ(queue_length(&wq), 0u);
}

TEST_F(WaitTest, WakeUpWithNoSleeperIsHarmless) {
  wait_queue_head wq("test.wq_empty");
  HookRecorder rec;
  wake_up_all(&wq);
  wake_up(&wq);
  wake_up_interruptible(&wq);
  EXPECT_EQ(rec.count(HookKind::kWaitWake, "test.wq_empty"), 3);
}

// One thread sleeps; another makes the condition true and wakes it.
TEST_F(WaitTest, SleeperIsWokenByAnotherThread) {
  wait_queue_head wq("test.wq_sleeper");
  std::atomic<bool> ready{false};
  std::atomic<bool> returned{false};
  HookRecorder rec;
  std::thread sleeper([&] {
    wait_event(&wq, [&] { return ready.load(); });
    returned = true;
  });
  rec.wait_for(HookKind::kWaitSleep, "test.wq_sleeper", 1);  // it is (about to be) asleep
  EXPECT_FALSE(returned.load());
  EXPECT_EQ(queue_length(&wq), 1u);
  ready = true;
  wake_up_all(&wq);
  sleeper.join();
  EXPECT_TRUE(returned.load());
  EXPECT_EQ(queue_length(&wq), 0u);  // the sleeper left the queue
  EXPECT_GE(rec.count(HookKind::kWaitWake, "test.wq_sleeper"), 1);
}

// A wake-up without the condition (a spurious one) puts the sleeper back to
// sleep: wait_event re-checks before returning.
TEST_F(WaitTest, WakeWithoutConditionSleepsAgain) {
  wait_queue_head wq("test.wq_spurious");
  std::atomic<bool> ready{false};
  std::atomic<bool> returned{false};
  HookRecorder rec;
  std::thread sleeper([&] {
    wait_event(&wq, [&] { return ready.load(); });
    returned = true;
  });
  rec.wait_for(HookKind::kWaitSleep, "test.wq_spurious", 1);
  wake_up_all(&wq);
  rec.wait_for(HookKind::kWaitSleep, "test.wq_spurious", 2);  // slept again
  EXPECT_FALSE(returned.load());
  ready = true;
  wake_up_all(&wq);
  sleeper.join();
  EXPECT_TRUE(returned.load());
}

TEST_F(WaitTest, WakeUpAllWakesEverySleeper) {
  constexpr int kSleepers = 3;
  wait_queue_head wq("test.wq_many");
  std::atomic<bool> ready{false};
  std::atomic<int> returned{0};
  HookRecorder rec;
  std::vector<std::thread> sleepers;
  for (int i = 0; i < kSleepers; ++i) {
    sleepers.emplace_back([&] {
      wait_event(&wq, [&] { return ready.load(); });
      returned.fetch_add(1);
    });
  }
  rec.wait_for(HookKind::kWaitSleep, "test.wq_many", kSleepers);
  EXPECT_EQ(returned.load(), 0);
  ready = true;
  wake_up_all(&wq);
  for (std::thread& t : sleepers) t.join();
  EXPECT_EQ(returned.load(), kSleepers);
  EXPECT_EQ(queue_length(&wq), 0u);
}

// A poll()-style sleeper on two queues is woken by either.
TEST_F(WaitTest, EntryOnTwoQueuesIsWokenByEither) {
  wait_queue_head q1("test.wq_one");
  wait_queue_head q2("test.wq_two");
  wait_queue_entry e;
  add_wait_queue(&q1, &e);
  add_wait_queue(&q2, &e);
  HookRecorder rec;
  std::thread sleeper([&] { wait_woken(&e, "test.two_queues"); });
  rec.wait_for(HookKind::kWaitSleep, "test.two_queues", 1);
  wake_up_all(&q2);
  sleeper.join();
  // A wake-up that came before the sleep is not lost either: the mark stays.
  wake_up_all(&q1);
  wait_woken(&e, "test.two_queues");  // returns at once
  remove_wait_queue(&q1, &e);
  remove_wait_queue(&q2, &e);
  EXPECT_EQ(queue_length(&q1), 0u);
  EXPECT_EQ(queue_length(&q2), 0u);
}

// Runs `rounds` of a wake-up race between a fresh sleeper and a fresh waker
// that does not wait for the sleeper to be asleep. A lost wake-up would hang
// the sleeper; the watchdog turns that into a failure (and rescues it).
TEST_F(WaitTest, NoLostWakeUpBetweenCheckAndSleep) {
  constexpr int kRounds = 300;
  wait_queue_head wq("test.wq_race");
  int lost = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<bool> ready{false};
    std::atomic<bool> done{false};
    std::thread sleeper([&] {
      wait_event(&wq, [&] { return ready.load(); });
      done = true;
    });
    std::thread waker([&] {
      ready = true;
      wake_up_all(&wq);
    });
    waker.join();
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done.load() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(100us);
    if (!done.load()) {
      ++lost;
      while (!done.load()) wake_up_all(&wq);  // rescue, so the test can finish
    }
    sleeper.join();
  }
  EXPECT_EQ(lost, 0);
}

// Two threads hand a token back and forth through two wait queues, many
// times: every hand-over depends on one wake-up arriving.
TEST_F(WaitTest, NoLostWakeUpInPingPong) {
  constexpr int kRounds = 20000;
  wait_queue_head to_a("test.wq_ping");
  wait_queue_head to_b("test.wq_pong");
  std::atomic<int> turn{0};  // even: A's turn, odd: B's
  std::atomic<bool> finished{false};
  auto player = [&](int parity, wait_queue_head* mine, wait_queue_head* other) {
    for (int i = 0; i < kRounds; ++i) {
      wait_event(mine, [&] { return turn.load() % 2 == parity; });
      turn.fetch_add(1);
      wake_up_all(other);
    }
  };
  std::thread a(player, 0, &to_a, &to_b);
  std::thread b(player, 1, &to_b, &to_a);
  std::thread done_marker([&] {
    a.join();
    b.join();
    finished = true;
  });
  // Watchdog: the token must keep moving.
  int stalls = 0;
  int last = -1;
  auto last_progress = std::chrono::steady_clock::now();
  while (!finished.load()) {
    std::this_thread::sleep_for(1ms);
    int now = turn.load();
    if (now != last) {
      last = now;
      last_progress = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - last_progress > 10s) {
      ++stalls;  // a lost wake-up: report it, then rescue both players
      wake_up_all(&to_a);
      wake_up_all(&to_b);
      last_progress = std::chrono::steady_clock::now();
    }
  }
  done_marker.join();
  EXPECT_EQ(turn.load(), 2 * kRounds);
  EXPECT_EQ(stalls, 0);
}

TEST_F(WaitTest, SleepAndWakeAreHookPoints) {
  wait_queue_head wq("test.wq_hooks");
  std::atomic<bool> ready{false};
  HookRecorder rec;
  std::thread sleeper([&] { wait_event(&wq, [&] { return ready.load(); }); });
  rec.wait_for(HookKind::kWaitSleep, "test.wq_hooks", 1);
  ready = true;
  wake_up_all(&wq);
  sleeper.join();
  std::vector<::mcf::testing::RecordedHook> seen = rec.points();
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen[0].kind, HookKind::kWaitSleep);
  EXPECT_EQ(seen[0].object_class, "test.wq_hooks");
  EXPECT_EQ(seen[1].kind, HookKind::kWaitWake);
  EXPECT_EQ(seen[1].object, &wq);
}

// --- Reports -----------------------------------------------------------------

TEST_F(WaitDeathTest, SleepingUnderSpinLockIsReported) {
  wait_queue_head wq("test.wq_atomic");
  SpinLock s("test.wq_spin");
  EXPECT_DEATH(
      {
        SpinGuard g(&s);
        wait_event(&wq, [] { return false; });
      },
      "==mcfuzz== REPORT sleep-in-atomic: sleeping function called from invalid context: "
      "test.wq_atomic");
}

// As the kernel's wait_event(), which calls might_sleep() before it looks at
// the condition: the bug is calling it in atomic context at all, whether or
// not this particular call would have slept.
TEST_F(WaitDeathTest, WaitEventUnderSpinLockIsReportedEvenIfConditionIsTrue) {
  wait_queue_head wq("test.wq_atomic_true");
  SpinLock s("test.wq_spin_true");
  EXPECT_DEATH(
      {
        SpinGuard g(&s);
        wait_event(&wq, [] { return true; });
      },
      "==mcfuzz== REPORT sleep-in-atomic: .*test.wq_atomic_true");
}

TEST_F(WaitDeathTest, SleepingInIrqContextIsReported) {
  wait_queue_head wq("test.wq_irq");
  EXPECT_DEATH(
      {
        current()->in_irq = true;
        wait_event(&wq, [] { return false; });
      },
      "==mcfuzz== REPORT sleep-in-atomic: .*\\(in_atomic=0, irq=1\\)");
}

}  // namespace
}  // namespace mcf
