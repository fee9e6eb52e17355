// Locks of the model: mutex and spinlock, with lock checking (a small lockdep).
//
// Both are built on std::mutex, which ThreadSanitizer understands (Debian's
// absl::Mutex is not instrumented: DESIGN.md §4). They carry Abseil's clang
// thread-safety annotations so -Wthread-safety checks the lock discipline.
//
// Checks, each a report:
//   - lock-order inversion between lock classes (lockdep's "possible circular
//     locking dependency"); the order graph is global and reset per fuzz input
//     with lockdep_reset(), so a report depends only on the input;
//   - taking a lock the task already holds; unlocking one it does not hold;
//   - sleeping (mutex, wait queue) while holding a spinlock or in an IRQ;
//   - returning to user space with a lock held (lockdep_assert_no_locks_held,
//     called by the file layer at every system call exit).
// Every acquire and release is a hook point.
#pragma once

#include <absl/base/thread_annotations.h>

#include <atomic>
#include <mutex>

#include "core/kernel/task.h"

namespace mcf {

// A sleeping lock (struct mutex). `lock_class` is the lockdep class, shared by
// every lock with the same role: "media_device.graph_mutex".
class ABSL_LOCKABLE Mutex {
 public:
  explicit Mutex(const char* lock_class) : class_(lock_class) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION();
  void unlock() ABSL_UNLOCK_FUNCTION();
  // lockdep_assert_held: reports a bug unless the calling task holds it.
  void assert_held() const ABSL_ASSERT_EXCLUSIVE_LOCK();
  bool held_by_current() const;
  const char* lock_class() const { return class_; }

 private:
  std::mutex m_;
  std::atomic<const task_struct*> owner_{nullptr};
  const char* class_;
};

// A spinning lock (spinlock_t): holding one puts the task in atomic context,
// where sleeping is a bug.
class ABSL_LOCKABLE SpinLock {
 public:
  explicit SpinLock(const char* lock_class) : class_(lock_class) {}
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION();
  void unlock() ABSL_UNLOCK_FUNCTION();
  void assert_held() const ABSL_ASSERT_EXCLUSIVE_LOCK();
  bool held_by_current() const;
  const char* lock_class() const { return class_; }

 private:
  std::mutex m_;
  std::atomic<const task_struct*> owner_{nullptr};
  const char* class_;
};

template <typename Lock>
class ABSL_SCOPED_LOCKABLE LockGuard {
 public:
  explicit LockGuard(Lock* l) ABSL_EXCLUSIVE_LOCK_FUNCTION(l) : l_(l) { l_->lock(); }
  ~LockGuard() ABSL_UNLOCK_FUNCTION() { l_->unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  Lock* l_;
};
using MutexGuard = LockGuard<Mutex>;
using SpinGuard = LockGuard<SpinLock>;

// might_sleep(): reports when the calling task is in atomic context.
void might_sleep(const char* what);

// Reports when the calling task still holds any model lock; `call` names the
// system call that is returning.
void lockdep_assert_no_locks_held(const char* call);

// Forgets every recorded lock-order dependency (start of a fuzz input).
void lockdep_reset();

// Number of distinct dependencies recorded (for tests).
int lockdep_dependency_count();

}  // namespace mcf
