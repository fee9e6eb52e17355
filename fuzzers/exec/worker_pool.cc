// The executor's program threads: see worker_pool.h.
#include "fuzzers/exec/worker_pool.h"

#include <unistd.h>

#include <cstdlib>
#include <set>


namespace mcf::fuzz {
namespace {
thread_local int t_worker = -1;

}  // namespace

std::string task_state_text(const task_struct* t) {
  if (t == nullptr) return "running";
  const char* on = t->blocked_on.load();
  std::string state = task_is_sleeping(t) ? "asleep" : "running";
  if (on == nullptr) return state;
  if (!t->blocked_on_lock.load()) return state + " on " + on;
  int owner = t->blocked_on_owner.load();
  return std::string("waits for lock ") + on +
         (owner >= 0 ? " held by t" + std::to_string(owner) : std::string());
}

WorkerPool& WorkerPool::instance() {
  // Leaked on purpose: the workers sleep in it until the process exits, and
  // no static destructor may pull it from under them. A forked child (a
  // death test) has none of the parent's threads, so it makes its own.
  static std::atomic<WorkerPool*> pool{nullptr};
  static std::atomic<pid_t> owner{0};
  static std::mutex create;
  WorkerPool* p = pool.load(std::memory_order_acquire);
  if (p != nullptr && owner.load(std::memory_order_relaxed) == getpid()) return *p;
  std::lock_guard<std::mutex> g(create);
  p = pool.load(std::memory_order_acquire);
  if (p == nullptr || owner.load(std::memory_order_relaxed) != getpid()) {
    owner.store(getpid(), std::memory_order_relaxed);
    p = new WorkerPool();
    pool.store(p, std::memory_order_release);
    // Registered after the sanitizer runtimes' own exit handlers, so it
    // runs before them. A forked child inherits it: it acts on the pool of
    // the process that exits only.
    std::atexit([] {
      WorkerPool* mine = pool.load(std::memory_order_acquire);
      if (mine != nullptr && owner.load(std::memory_order_relaxed) == getpid())
        mine->shutdown_if_idle();
    });
  }
  return *p;
}

int WorkerPool::current_worker() { return t_worker; }

WorkerPool::WorkerPool() {
  for (int i = 0; i < kMaxThreads; ++i) {
    workers_[i].thread = std::thread([this, i] { loop(i); });  // joined at exit, if idle
  }
  // Every worker has published its task before the first quiescence test.
  std::unique_lock<std::mutex> l(m_);
  event_cv_.wait(l, [this] { return ready_ == kMaxThreads; });
}

void WorkerPool::loop(int index) {
  t_worker = index;
  current()->tid = index;  // reports say "t<index>", as the program does
  Worker& w = workers_[index];
  uint64_t seen = 0;
  std::unique_lock<std::mutex> l(m_);
  w.task = current();
  ++ready_;
  event_cv_.notify_all();
  for (;;) {
    w.start_cv.wait(l, [&] { return quit_ || (w.active && generation_ != seen); });
    if (quit_) return;
    seen = generation_;
    const std::function<void(int)>* fn = fn_;
    l.unlock();
    (*fn)(index);
    l.lock();
    w.active = false;
    w.done.store(true);
    ++events_;
    event_cv_.notify_all();
  }
}

void WorkerPool::shutdown_if_idle() {
  {
    std::lock_guard<std::mutex> l(m_);
    if (quit_ || !all_done_locked()) return;
    quit_ = true;
    for (Worker& w : workers_) w.start_cv.notify_one();
  }
  for (Worker& w : workers_) w.thread.join();
}

void WorkerPool::start(const std::function<void(int)>* fn, unsigned active) {
  std::lock_guard<std::mutex> l(m_);
  ++generation_;
  fn_ = fn;
  for (int i = 0; i < kMaxThreads; ++i) {
    bool on = (active >> i) & 1;
    workers_[i].active = on;
    workers_[i].done.store(!on);
    workers_[i].position.store(-1, std::memory_order_relaxed);
  }
  // Notified under m_: each released worker runs once we let go of it, so
  // they start together.
  for (int i = 0; i < kMaxThreads; ++i)
    if ((active >> i) & 1) workers_[i].start_cv.notify_one();
}

bool WorkerPool::all_done_locked() const {
  for (const Worker& w : workers_)
    if (!w.done.load()) return false;
  return true;
}

// Every unfinished worker asleep, read twice: `done` cannot change while we
// hold m_, and each sleep_seq changes at every sleep and every wake-up, so
// two equal collects mean that at one instant between them every unfinished
// worker was asleep. From then on nothing can wake them: the finished
// workers wait in the pool, the caller runs no model code, and the model has
// no threads of its own. Only teardown can.
bool WorkerPool::quiescent_locked() const {
  uint64_t first[kMaxThreads] = {};
  bool any = false;
  for (int i = 0; i < kMaxThreads; ++i) {
    if (workers_[i].done.load()) continue;
    first[i] = workers_[i].task->sleep_seq.load();
    if ((first[i] & 1) == 0) return false;
    any = true;
  }
  if (!any) return false;
  for (int i = 0; i < kMaxThreads; ++i) {
    if (workers_[i].done.load()) continue;
    if (workers_[i].task->sleep_seq.load() != first[i]) return false;
  }
  return true;
}

WorkerPool::Outcome WorkerPool::wait() {
  std::unique_lock<std::mutex> l(m_);
  for (;;) {
    if (all_done_locked()) return Outcome::kAllDone;
    if (quiescent_locked()) return Outcome::kQuiescent;
    // Woken by a worker that finished or went to sleep (note_sleep); either
    // may make one of the two tests above true.
    uint64_t seen = events_;
    event_cv_.wait(l, [&] { return events_ != seen; });
  }
}

void WorkerPool::note_sleep() {
  {
    std::lock_guard<std::mutex> l(m_);
    ++events_;
  }
  event_cv_.notify_all();
}

std::string WorkerPool::positions(const Program* p) const {
  std::string out;
  for (int i = 0; i < kMaxThreads; ++i) {
    const Worker& w = workers_[i];
    int pos = w.position.load(std::memory_order_relaxed);
    bool done = w.done.load();
    if (done && pos < 0) continue;  // not part of this input, or finished
    if (!out.empty()) out += ", ";
    out += "t" + std::to_string(i);
    if (pos < 0) {
      out += " between calls";
    } else {
      out += " call " + std::to_string(pos);
      if (p != nullptr && pos < static_cast<int>(p->calls.size()))
        out += std::string(" (") + call_kind_name(p->calls[pos].kind) + ")";
    }
    out += done ? " finished" : " " + task_state_text(w.task);
  }
  return out.empty() ? "every thread finished" : out;
}

std::string WorkerPool::stuck_on() const {
  std::set<std::string> on;
  for (const Worker& w : workers_) {
    if (w.done.load() || w.task == nullptr) continue;
    if (const char* what = w.task->blocked_on.load()) on.insert(what);
  }
  std::string out;
  for (const std::string& what : on) out += (out.empty() ? "" : "+") + what;
  return out.empty() ? "running" : out;
}

}  // namespace mcf::fuzz
