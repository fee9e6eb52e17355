// The calling context of the model: what the kernel calls `current`.
//
// One task per OS thread (thread_local). It records what lock checking and
// reports need: the locks the task holds (in order), whether it is in atomic
// context (spinlock held, IRQ handler running), the system call it is in, and
// the user memory of the process it acts for.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace mcf {

struct user_arena;

struct held_lock {
  const void* lock;
  const char* lock_class;
  bool is_spin;
};

struct task_struct {
  int tid = 0;                    // logical thread number, set by the harness
  const char* call = nullptr;     // the system call in progress, for reports
  const char* call_detail = nullptr;
  user_arena* mm = nullptr;       // user memory of the process; null outside a call
  int atomic_depth = 0;           // spinlocks held + IRQ handlers running
  bool in_irq = false;
  std::vector<held_lock> held_locks;
  // The kernel's TASK_INTERRUPTIBLE / TASK_RUNNING as one sequence number:
  // odd while the task sleeps on a wait queue entry nobody has woken, even
  // otherwise. The sleeper makes it odd under the entry's lock only if the
  // entry is not woken yet; the waker (try_to_wake_up) makes it even under the
  // same lock. So another thread reading an odd value knows the task is in a
  // sleep that only a wake-up can end, and two equal reads mean nothing
  // happened in between: the fuzz executor's "every thread finished or
  // asleep" test before teardown relies on both (fuzzers/exec).
  std::atomic<uint64_t> sleep_seq{0};
  // What the task is blocked on right now, for hang reports read by another
  // thread while this one is stuck (the kernel's task->blocked_on of
  // CONFIG_DEBUG_MUTEXES, extended to wait queues): a lock's class or a wait
  // queue's name, null when not blocked; for a lock, the tid of its owner
  // when the wait began (-1: none seen). Written by the task itself only,
  // around the blocking wait (lock.cc, wait.cc).
  std::atomic<const char*> blocked_on{nullptr};
  std::atomic<bool> blocked_on_lock{false};
  std::atomic<int> blocked_on_owner{-1};
};

// Marks `t` (the calling task) blocked on a lock or wait queue for the
// scope's duration: see task_struct::blocked_on.
class BlockedOnScope {
 public:
  BlockedOnScope(task_struct* t, const char* what, bool is_lock, int owner) : t_(t) {
    t_->blocked_on_lock.store(is_lock, std::memory_order_relaxed);
    t_->blocked_on_owner.store(owner, std::memory_order_relaxed);
    t_->blocked_on.store(what, std::memory_order_release);
  }
  ~BlockedOnScope() { t_->blocked_on.store(nullptr, std::memory_order_release); }
  BlockedOnScope(const BlockedOnScope&) = delete;
  BlockedOnScope& operator=(const BlockedOnScope&) = delete;

 private:
  task_struct* t_;
};

inline bool task_is_sleeping(const task_struct* t) {
  return (t->sleep_seq.load(std::memory_order_seq_cst) & 1) != 0;
}

task_struct* current();

}  // namespace mcf
