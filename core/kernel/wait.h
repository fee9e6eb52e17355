// Wait queues, after include/linux/wait.h.
//
// A sleeper adds an entry to the queue, re-checks its condition, and sleeps
// until a waker marks the entry woken; so a wake-up between the check and the
// sleep is never lost, and the condition is evaluated without any wait-queue
// lock held (it may take model locks, as kernel conditions do).
//
// Sleeping is a hook point (kWaitSleep) and calls might_sleep(); waking is a
// hook point (kWaitWake). Unregistration interrupts sleepers by making their
// condition true ("or the device is gone") and waking the queue: see R14.
#pragma once

#include <condition_variable>
#include <list>
#include <mutex>

#include "core/kernel/lock.h"

namespace mcf {

// One sleeper (a task in wait_event, or a poll() call registered on several
// queues). Lives on the sleeper's stack.
struct wait_queue_entry {
  std::mutex m;
  std::condition_variable cv;
  bool woken = false;
  // The task asleep on this entry, from its commit to sleep until a waker
  // marks it running (the kernel's wq_entry->private). Guarded by `m`.
  struct task_struct* task = nullptr;
};

struct wait_queue_head {
  explicit wait_queue_head(const char* name) : name(name) {}
  wait_queue_head(const wait_queue_head&) = delete;
  wait_queue_head& operator=(const wait_queue_head&) = delete;

  const char* name;
  std::mutex lock;                    // guards `entries` only
  std::list<wait_queue_entry*> entries;
};

void add_wait_queue(wait_queue_head* wq, wait_queue_entry* e);
void remove_wait_queue(wait_queue_head* wq, wait_queue_entry* e);
// Sleeps until `e` is woken (by any queue it is on), then clears the mark.
void wait_woken(wait_queue_entry* e, const char* what);

// Wakes every sleeper on `wq`.
void wake_up_all(wait_queue_head* wq);
inline void wake_up(wait_queue_head* wq) { wake_up_all(wq); }  // no exclusive waiters here
inline void wake_up_interruptible(wait_queue_head* wq) { wake_up_all(wq); }

// Sleeps until `cond()` is true. `cond` must be safe to evaluate repeatedly.
template <typename Cond>
void wait_event(wait_queue_head* wq, Cond cond) {
  // As the kernel's wait_event(): might_sleep() before the first check, so a
  // call in atomic context is reported even when it would not have slept.
  might_sleep(wq->name);
  if (cond()) return;
  wait_queue_entry e;
  add_wait_queue(wq, &e);
  while (!cond()) wait_woken(&e, wq->name);
  remove_wait_queue(wq, &e);
}

}  // namespace mcf
