// Wait queues: see wait.h.
#include "core/kernel/wait.h"

#include <algorithm>

#include "core/kernel/hooks.h"
#include "core/kernel/lock.h"

namespace mcf {

void add_wait_queue(wait_queue_head* wq, wait_queue_entry* e) {
  std::lock_guard<std::mutex> g(wq->lock);
  wq->entries.push_back(e);
}

void remove_wait_queue(wait_queue_head* wq, wait_queue_entry* e) {
  std::lock_guard<std::mutex> g(wq->lock);
  wq->entries.remove(e);
}

void wait_woken(wait_queue_entry* e, const char* what) {
  might_sleep(what);
  task_struct* t = current();
  // For the hang watchdog; before the sleep becomes visible (sleep_seq), so
  // whoever sees this task asleep also sees on what.
  BlockedOnScope blocked(t, what, /*is_lock=*/false, -1);
  {
    // set_current_state(TASK_INTERRUPTIBLE), only if no wake-up came since
    // the entry was queued; under e->m so a waker cannot come between the
    // check and the state change (see task_struct::sleep_seq).
    std::lock_guard<std::mutex> g(e->m);
    if (!e->woken) {
      e->task = t;
      t->sleep_seq.fetch_add(1);  // odd: asleep
    }
  }
  // After the state change, so a harness told of the sleep here reads it.
  hook(HookKind::kWaitSleep, what, e);
  std::unique_lock<std::mutex> g(e->m);
  if (Scheduler* s = controlling_scheduler()) {
    // Deterministic scheduler: not schedulable until a waker unblocks `e`.
    while (!e->woken) {
      g.unlock();
      s->block_on(e, what, -1);
      g.lock();
    }
  } else {
    e->cv.wait(g, [e] { return e->woken; });
  }
  e->woken = false;
}

void wake_up_all(wait_queue_head* wq) {
  hook(HookKind::kWaitWake, wq->name, wq);
  std::lock_guard<std::mutex> g(wq->lock);
  for (wait_queue_entry* e : wq->entries) {
    std::lock_guard<std::mutex> eg(e->m);
    e->woken = true;
    if (e->task != nullptr) {  // try_to_wake_up(): TASK_RUNNING (even)
      e->task->sleep_seq.fetch_add(1);
      e->task = nullptr;
    }
    e->cv.notify_all();
    if (Scheduler* s = internal::g_scheduler.load(std::memory_order_acquire)) s->unblock(e);
  }
}

}  // namespace mcf
