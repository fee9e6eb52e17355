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
  hook(HookKind::kWaitSleep, what, e);
  std::unique_lock<std::mutex> g(e->m);
  e->cv.wait(g, [e] { return e->woken; });
  e->woken = false;
}

void wake_up_all(wait_queue_head* wq) {
  hook(HookKind::kWaitWake, wq->name, wq);
  std::lock_guard<std::mutex> g(wq->lock);
  for (wait_queue_entry* e : wq->entries) {
    std::lock_guard<std::mutex> eg(e->m);
    e->woken = true;
    e->cv.notify_all();
  }
}

}  // namespace mcf
