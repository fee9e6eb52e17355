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
};

inline bool task_is_sleeping(const task_struct* t) {
  return (t->sleep_seq.load(std::memory_order_seq_cst) & 1) != 0;
}

task_struct* current();

}  // namespace mcf
