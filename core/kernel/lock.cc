// Locks and lock checking: see lock.h.
#include "core/kernel/lock.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/kernel/hooks.h"
#include "core/kernel/report.h"

namespace mcf {
namespace {

// The lock-order graph between lock classes: an edge A -> B means some task
// took B while holding A. Guarded by its own std::mutex (not a model lock, so
// it is not itself checked).
struct LockOrderGraph {
  std::mutex m;
  std::map<std::string, std::set<std::string>> after;

  // Path from `from` to `to` along recorded edges, filled into `path`.
  bool find_path(const std::string& from, const std::string& to,
                 std::vector<std::string>* path, std::set<std::string>* seen) {
    path->push_back(from);
    if (from == to) return true;
    if (seen->insert(from).second) {
      auto it = after.find(from);
      if (it != after.end()) {
        for (const std::string& next : it->second)
          if (find_path(next, to, path, seen)) return true;
      }
    }
    path->pop_back();
    return false;
  }
};

LockOrderGraph& graph() {
  static LockOrderGraph* g = new LockOrderGraph();
  return *g;
}

// Records that `acquiring` is taken while every lock in `t->held_locks` is
// held; reports if that closes a cycle.
void check_order(task_struct* t, const void* lock, const char* acquiring) {
  for (const held_lock& h : t->held_locks) {
    if (h.lock == lock) {
      report(ReportKind::kRecursiveLock, acquiring,
             "possible recursive locking: task already holds %s", acquiring);
    }
  }
  LockOrderGraph& g = graph();
  std::lock_guard<std::mutex> guard(g.m);
  for (const held_lock& h : t->held_locks) {
    std::string held = h.lock_class;
    std::string want = acquiring;
    if (held == want) continue;  // two instances of one class: nesting is allowed here
    if (g.after[held].count(want)) continue;
    std::vector<std::string> path;
    std::set<std::string> seen;
    if (g.find_path(want, held, &path, &seen)) {
      std::string chain;
      for (const std::string& p : path) chain += p + " -> ";
      chain += want;
      report(ReportKind::kLockOrderInversion, acquiring,
             "possible circular locking dependency: taking %s while holding %s; "
             "recorded order: %s",
             acquiring, h.lock_class, chain.c_str());
    }
    g.after[held].insert(want);
  }
}

void note_acquired(task_struct* t, const void* lock, const char* cls, bool is_spin) {
  t->held_locks.push_back(held_lock{lock, cls, is_spin});
  if (is_spin) ++t->atomic_depth;
}

void note_released(task_struct* t, const void* lock, const char* cls, bool is_spin) {
  auto it = std::find_if(t->held_locks.rbegin(), t->held_locks.rend(),
                         [lock](const held_lock& h) { return h.lock == lock; });
  if (it == t->held_locks.rend()) {
    report(ReportKind::kBadUnlock, cls, "unlock of %s, which this task does not hold", cls);
  }
  t->held_locks.erase(std::next(it).base());
  if (is_spin) --t->atomic_depth;
}

// Takes `m`. Under a deterministic scheduler the OS thread never blocks: a
// taken lock makes this task not schedulable until its unlock (block_on).
// On real threads a task that has to wait says on what (blocked_on), for the
// hang watchdog.
void lock_slow(std::mutex* m, const std::atomic<const task_struct*>& owner, const void* lock,
               const char* cls) {
  Scheduler* s = controlling_scheduler();
  if (s == nullptr) {
    if (m->try_lock()) return;
    const task_struct* o = owner.load(std::memory_order_relaxed);
    BlockedOnScope blocked(current(), cls, /*is_lock=*/true, o != nullptr ? o->tid : -1);
    m->lock();
    return;
  }
  while (!m->try_lock()) {
    const task_struct* o = owner.load(std::memory_order_relaxed);
    s->block_on(lock, cls, o != nullptr ? o->tid : -1);
  }
}

}  // namespace

void might_sleep(const char* what) {
  task_struct* t = current();
  if (t->atomic_depth > 0 || t->in_irq) {
    report(ReportKind::kSleepInAtomic, what,
           "sleeping function called from invalid context: %s (in_atomic=%d, irq=%d)", what,
           t->atomic_depth, t->in_irq ? 1 : 0);
  }
}

void lockdep_assert_no_locks_held(const char* call) {
  task_struct* t = current();
  if (!t->held_locks.empty()) {
    report(ReportKind::kLockHeldAtReturn, t->held_locks.back().lock_class,
           "lock held when returning to user space from %s: %s", call,
           t->held_locks.back().lock_class);
  }
}

void lockdep_reset() {
  LockOrderGraph& g = graph();
  std::lock_guard<std::mutex> guard(g.m);
  g.after.clear();
}

int lockdep_dependency_count() {
  LockOrderGraph& g = graph();
  std::lock_guard<std::mutex> guard(g.m);
  int n = 0;
  for (const auto& [from, tos] : g.after) n += static_cast<int>(tos.size());
  return n;
}

void Mutex::lock() {
  task_struct* t = current();
  might_sleep(class_);
  check_order(t, this, class_);
  hook(HookKind::kLockAcquire, class_, this);
  lock_slow(&m_, owner_, this, class_);
  owner_.store(t, std::memory_order_relaxed);
  note_acquired(t, this, class_, /*is_spin=*/false);
}

void Mutex::unlock() {
  task_struct* t = current();
  if (owner_.load(std::memory_order_relaxed) != t) {
    report(ReportKind::kBadUnlock, class_, "mutex_unlock of %s by a task that does not own it",
           class_);
  }
  note_released(t, this, class_, /*is_spin=*/false);
  owner_.store(nullptr, std::memory_order_relaxed);
  m_.unlock();
  // Under a deterministic scheduler the threads that found it taken may run.
  if (Scheduler* s = internal::g_scheduler.load(std::memory_order_acquire)) s->unblock(this);
  hook(HookKind::kLockRelease, class_, this);
}

bool Mutex::held_by_current() const { return owner_.load(std::memory_order_relaxed) == current(); }

void Mutex::assert_held() const {
  if (!held_by_current()) report(ReportKind::kBug, class_, "lockdep_assert_held(%s) failed", class_);
}

void SpinLock::lock() {
  task_struct* t = current();
  check_order(t, this, class_);
  hook(HookKind::kLockAcquire, class_, this);
  lock_slow(&m_, owner_, this, class_);
  owner_.store(t, std::memory_order_relaxed);
  note_acquired(t, this, class_, /*is_spin=*/true);
}

void SpinLock::unlock() {
  task_struct* t = current();
  if (owner_.load(std::memory_order_relaxed) != t) {
    report(ReportKind::kBadUnlock, class_, "spin_unlock of %s by a task that does not own it",
           class_);
  }
  note_released(t, this, class_, /*is_spin=*/true);
  owner_.store(nullptr, std::memory_order_relaxed);
  m_.unlock();
  // Under a deterministic scheduler the threads that found it taken may run.
  if (Scheduler* s = internal::g_scheduler.load(std::memory_order_acquire)) s->unblock(this);
  hook(HookKind::kLockRelease, class_, this);
}

bool SpinLock::held_by_current() const {
  return owner_.load(std::memory_order_relaxed) == current();
}

void SpinLock::assert_held() const {
  if (!held_by_current()) report(ReportKind::kBug, class_, "lockdep_assert_held(%s) failed", class_);
}

}  // namespace mcf
