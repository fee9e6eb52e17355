// The calling context of the model: what the kernel calls `current`.
//
// One task per OS thread (thread_local). It records what lock checking and
// reports need: the locks the task holds (in order), whether it is in atomic
// context (spinlock held, IRQ handler running), the system call it is in, and
// the user memory of the process it acts for.
#pragma once

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
};

task_struct* current();

}  // namespace mcf
