// Mutex / SpinLock and the lock checking of core/kernel/lock.h: lock-order
// inversion, recursive locking, bad unlock, sleeping in atomic context, a lock
// held when a system call returns, and the hook points of every lock op.
#include "core/kernel/lock.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/fs/process.h"
#include "core/kernel/hooks.h"
#include "core/kernel/task.h"
#include "tests/support/hook_recorder.h"
#include "tests/support/live_objects_check.h"
#include "tests/support/test_chardev.h"

namespace mcf {
namespace {

using ::mcf::testing::HookRecorder;

// The checks below deliberately break the lock discipline that
// -Wthread-safety enforces; these helpers keep the compiler out of it.
void lock_both(Mutex* first, Mutex* second) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  first->lock();
  second->lock();
  second->unlock();
  first->unlock();
}
void lock_twice(Mutex* m) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  m->lock();
  m->lock();
}
void spin_lock_twice(SpinLock* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  s->lock();
  s->lock();
}
void unlock_only(Mutex* m) ABSL_NO_THREAD_SAFETY_ANALYSIS { m->unlock(); }
void spin_unlock_only(SpinLock* s) ABSL_NO_THREAD_SAFETY_ANALYSIS { s->unlock(); }
void mutex_under_spinlock(SpinLock* s, Mutex* m) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  s->lock();
  m->lock();
}
void lock_and_keep(Mutex* m) ABSL_NO_THREAD_SAFETY_ANALYSIS { m->lock(); }

class LockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    lockdep_reset();
  }
  void TearDown() override {
    EXPECT_TRUE(current()->held_locks.empty());
    EXPECT_EQ(current()->atomic_depth, 0);
    EXPECT_EQ(::mcf::testing::alive_objects(), "");
  }
};
using LockDeathTest = LockTest;

TEST_F(LockTest, LockUnlockTracksHeldLocks) {
  Mutex m("test.tracked_mutex");
  m.lock();
  EXPECT_TRUE(m.held_by_current());
  EXPECT_EQ(current()->held_locks.size(), 1u);
  if (!current()->held_locks.empty()) {
    EXPECT_EQ(current()->held_locks[0].lock, &m);
    EXPECT_STREQ(current()->held_locks[0].lock_class, "test.tracked_mutex");
    EXPECT_FALSE(current()->held_locks[0].is_spin);
  }
  EXPECT_EQ(current()->atomic_depth, 0);  // a mutex is not atomic context
  m.assert_held();
  m.unlock();
  EXPECT_FALSE(m.held_by_current());
  EXPECT_TRUE(current()->held_locks.empty());
}

TEST_F(LockTest, SpinLockEntersAtomicContext) {
  SpinLock s("test.tracked_spin");
  {
    SpinGuard g(&s);
    EXPECT_TRUE(s.held_by_current());
    EXPECT_EQ(current()->atomic_depth, 1);
    ASSERT_EQ(current()->held_locks.size(), 1u);
    EXPECT_TRUE(current()->held_locks[0].is_spin);
  }
  EXPECT_EQ(current()->atomic_depth, 0);
  EXPECT_FALSE(s.held_by_current());
}

TEST_F(LockTest, HeldByCurrentIsPerTask) {
  Mutex m("test.per_task");
  MutexGuard g(&m);
  bool held_elsewhere = true;
  std::thread([&] { held_elsewhere = m.held_by_current(); }).join();
  EXPECT_FALSE(held_elsewhere);
  EXPECT_TRUE(m.held_by_current());
}

// Nesting in one consistent order, many times, is fine and records one edge.
TEST_F(LockTest, ConsistentNestingIsFine) {
  Mutex a("test.consistent_a");
  Mutex b("test.consistent_b");
  Mutex c("test.consistent_c");
  for (int i = 0; i < 3; ++i) {
    MutexGuard ga(&a);
    MutexGuard gb(&b);
    MutexGuard gc(&c);
  }
  // a->b, a->c, b->c
  EXPECT_EQ(lockdep_dependency_count(), 3);
  // Any subset in the same order adds nothing and reports nothing.
  lock_both(&a, &c);
  lock_both(&b, &c);
  EXPECT_EQ(lockdep_dependency_count(), 3);
}

// Two instances of one class may nest, in either order (lockdep would want a
// subclass; the model allows it so that parent/child device locks work).
// Distinct instances per order, so that ThreadSanitizer's own per-instance
// deadlock detector has no real cycle to see.
TEST_F(LockTest, SameClassNestingIsNotAnInversion) {
  Mutex parent1("test.same_class"), child1("test.same_class");
  Mutex parent2("test.same_class"), child2("test.same_class");
  lock_both(&parent1, &child1);
  lock_both(&child2, &parent2);
  EXPECT_EQ(lockdep_dependency_count(), 0);
}

// The order graph is between classes: after lockdep_reset() the reverse order
// of the same classes (other instances) is new, not an inversion.
TEST_F(LockTest, LockdepResetForgetsTheOrder) {
  Mutex a1("test.reset_a"), b1("test.reset_b");
  Mutex a2("test.reset_a"), b2("test.reset_b");
  lock_both(&a1, &b1);
  EXPECT_EQ(lockdep_dependency_count(), 1);
  lockdep_reset();
  EXPECT_EQ(lockdep_dependency_count(), 0);
  lock_both(&b2, &a2);  // would be an inversion without the reset
  EXPECT_EQ(lockdep_dependency_count(), 1);
}

// A HookSink sees an acquire before and a release after every lock op.
TEST_F(LockTest, HooksSeeEveryAcquireAndRelease) {
  Mutex m("test.hooked_mutex");
  SpinLock s("test.hooked_spin");
  std::vector<::mcf::testing::RecordedHook> seen;
  {
    HookRecorder rec;
    {
      MutexGuard gm(&m);
      SpinGuard gs(&s);
    }
    seen = rec.points();
  }
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].kind, HookKind::kLockAcquire);
  EXPECT_EQ(seen[0].object_class, "test.hooked_mutex");
  EXPECT_EQ(seen[0].object, &m);
  EXPECT_EQ(seen[1].kind, HookKind::kLockAcquire);
  EXPECT_EQ(seen[1].object_class, "test.hooked_spin");
  EXPECT_EQ(seen[1].object, &s);
  EXPECT_EQ(seen[2].kind, HookKind::kLockRelease);
  EXPECT_EQ(seen[2].object, &s);
  EXPECT_EQ(seen[3].kind, HookKind::kLockRelease);
  EXPECT_EQ(seen[3].object, &m);
  EXPECT_STREQ(hook_kind_name(HookKind::kLockAcquire), "lock");
  EXPECT_STREQ(hook_kind_name(HookKind::kLockRelease), "unlock");
}

// The lock is really exclusive: two threads incrementing under it lose nothing.
TEST_F(LockTest, MutexExcludesOtherThreads) {
  Mutex m("test.exclusive");
  long counter = 0;
  auto body = [&] {
    for (int i = 0; i < 20000; ++i) {
      MutexGuard g(&m);
      ++counter;
    }
  };
  std::thread t1(body), t2(body);
  t1.join();
  t2.join();
  EXPECT_EQ(counter, 40000);
}

TEST_F(LockTest, MightSleepIsFineInProcessContext) {
  might_sleep("test.process_context");
  Mutex m("test.sleepy");
  MutexGuard g(&m);
  might_sleep("test.under_mutex");  // holding a mutex is not atomic context
}

// A system call that returns with every lock dropped passes the check.
TEST_F(LockTest, IoctlThatDropsItsLockIsFine) {
  static Mutex* ioctl_lock = new Mutex("test.ioctl_balanced");
  auto* tc = ::mcf::testing::test_chardev_create(
      "lock_test_balanced", {.ioctl = [](file*, unsigned, unsigned long) -> long {
        MutexGuard g(ioctl_lock);
        return 7;
      }});
  ASSERT_NE(tc, nullptr);
  {
    process p;
    int fd = p.open("/dev/lock_test_balanced", O_RDWR_);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(p.ioctl(fd, 1, 0), 7);
    lockdep_assert_no_locks_held("test");  // nothing leaked onto this task
  }
  ::mcf::testing::test_chardev_remove(tc);
}

// --- Reports -----------------------------------------------------------------

// Thread-free ABBA: A then B (released), later B then A.
TEST_F(LockDeathTest, LockOrderInversionIsReported) {
  Mutex a("test.order_a");
  Mutex b("test.order_b");
  lock_both(&a, &b);
  EXPECT_DEATH(lock_both(&b, &a),
               "==mcfuzz== REPORT lock-order-inversion: possible circular locking "
               "dependency: taking test.order_a while holding test.order_b");
}

// A -> B -> C recorded; C then A closes the cycle through B.
TEST_F(LockDeathTest, TransitiveInversionIsReported) {
  Mutex a("test.chain_a");
  Mutex b("test.chain_b");
  Mutex c("test.chain_c");
  lock_both(&a, &b);
  lock_both(&b, &c);
  EXPECT_DEATH(lock_both(&c, &a),
               "==mcfuzz== REPORT lock-order-inversion: .*recorded order: "
               "test.chain_a -> test.chain_b -> test.chain_c -> test.chain_a");
}

TEST_F(LockDeathTest, SpinLockInversionIsReported) {
  SpinLock a("test.spin_order_a");
  SpinLock b("test.spin_order_b");
  {
    SpinGuard gb(&b);
    SpinGuard ga(&a);  // b -> a
  }
  EXPECT_DEATH(
      {
        SpinGuard ga(&a);
        SpinGuard gb(&b);  // a -> b
      },
      "==mcfuzz== REPORT lock-order-inversion: .*taking test.spin_order_b while holding "
      "test.spin_order_a");
}

TEST_F(LockDeathTest, RecursiveMutexLockIsReported) {
  Mutex m("test.recursive");
  EXPECT_DEATH(lock_twice(&m),
               "==mcfuzz== REPORT recursive-lock: possible recursive locking: task already "
               "holds test.recursive");
}

TEST_F(LockDeathTest, RecursiveSpinLockIsReported) {
  SpinLock s("test.recursive_spin");
  EXPECT_DEATH(spin_lock_twice(&s), "==mcfuzz== REPORT recursive-lock: ");
}

TEST_F(LockDeathTest, UnlockOfUnheldMutexIsReported) {
  Mutex m("test.never_locked");
  EXPECT_DEATH(unlock_only(&m), "==mcfuzz== REPORT bad-unlock: .*test.never_locked");
}

TEST_F(LockDeathTest, UnlockOfUnheldSpinLockIsReported) {
  SpinLock s("test.never_locked_spin");
  EXPECT_DEATH(spin_unlock_only(&s), "==mcfuzz== REPORT bad-unlock: .*test.never_locked_spin");
}

// A mutex owned by another task is not ours to unlock.
TEST_F(LockDeathTest, UnlockByNonOwnerIsReported) {
  EXPECT_DEATH(
      {
        Mutex m("test.other_owner");
        std::thread([&m]() ABSL_NO_THREAD_SAFETY_ANALYSIS { m.lock(); }).join();
        unlock_only(&m);
      },
      "==mcfuzz== REPORT bad-unlock: mutex_unlock of test.other_owner by a task that does "
      "not own it");
}

TEST_F(LockDeathTest, AssertHeldWithoutTheLockIsReported) {
  Mutex m("test.assert_held");
  EXPECT_DEATH(m.assert_held(), "==mcfuzz== REPORT bug: lockdep_assert_held\\(test.assert_held\\)");
}

TEST_F(LockDeathTest, MightSleepUnderSpinLockIsReported) {
  SpinLock s("test.atomic_spin");
  EXPECT_DEATH(
      {
        SpinGuard g(&s);
        might_sleep("test.sleeper");
      },
      "==mcfuzz== REPORT sleep-in-atomic: sleeping function called from invalid context: "
      "test.sleeper \\(in_atomic=1, irq=0\\)(.|\n)*context: atomic(.|\n)*locks held: "
      "test.atomic_spin");
}

TEST_F(LockDeathTest, MutexLockUnderSpinLockIsReported) {
  SpinLock s("test.atomic_spin2");
  Mutex m("test.sleeping_mutex");
  EXPECT_DEATH(mutex_under_spinlock(&s, &m),
               "==mcfuzz== REPORT sleep-in-atomic: .*test.sleeping_mutex");
}

// An ioctl that returns with a mutex held: caught at the system call's exit.
TEST_F(LockDeathTest, LockHeldWhenIoctlReturnsIsReported) {
  EXPECT_DEATH(
      {
        static Mutex* leaked = new Mutex("test.ioctl_leaked");
        auto* tc = ::mcf::testing::test_chardev_create(
            "lock_test_leaky", {.ioctl = [](file*, unsigned, unsigned long) -> long {
              lock_and_keep(leaked);
              return 0;
            }});
        process p;
        int fd = p.open("/dev/lock_test_leaky", O_RDWR_);
        if (tc != nullptr && fd >= 0) p.ioctl(fd, 0, 0);
      },
      "==mcfuzz== REPORT lock-held-at-return: lock held when returning to user space from "
      "ioctl: test.ioctl_leaked(.|\n)*call: t0 ioctl");
}

}  // namespace
}  // namespace mcf
