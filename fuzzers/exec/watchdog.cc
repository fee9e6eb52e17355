// The hang watchdog: see watchdog.h.
#include "fuzzers/exec/watchdog.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "core/kernel/task.h"

namespace mcf::fuzz {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Watchdog& Watchdog::instance() {
  // Leaked on purpose, as the worker pool (worker_pool.cc): no static
  // destructor runs under the thread; stop() at exit joins it.
  static std::atomic<Watchdog*> dog{nullptr};
  static std::atomic<pid_t> owner{0};
  static std::mutex create;
  Watchdog* w = dog.load(std::memory_order_acquire);
  if (w != nullptr && owner.load(std::memory_order_relaxed) == getpid()) return *w;
  std::lock_guard<std::mutex> g(create);
  w = dog.load(std::memory_order_acquire);
  if (w == nullptr || owner.load(std::memory_order_relaxed) != getpid()) {
    owner.store(getpid(), std::memory_order_relaxed);
    w = new Watchdog();
    dog.store(w, std::memory_order_release);
    std::atexit([] {
      Watchdog* mine = dog.load(std::memory_order_acquire);
      if (mine != nullptr && owner.load(std::memory_order_relaxed) == getpid()) mine->stop();
    });
  }
  return *w;
}

Watchdog::Watchdog() : thread_([this] { loop(); }) {}

void Watchdog::arm(int limit_ms, Fire fire) {
  // Sequentially consistent throughout: the thread's two reads of seq_
  // bracket its reads of the rest.
  start_ms_.store(now_ms());
  limit_ms_.store(limit_ms);
  fire_.store(fire);
  seq_.fetch_add(1);  // odd: armed
}

void Watchdog::disarm() { seq_.fetch_add(1); }

void Watchdog::loop() {
  // Reports from here name the watchdog, not a program thread.
  current()->tid = -1;
  current()->call = "hang watchdog";
  std::unique_lock<std::mutex> l(m_);
  for (;;) {
    int limit = limit_ms_.load();
    int period = std::clamp(limit / 4, 1, 250);
    if (cv_.wait_for(l, std::chrono::milliseconds(period), [this] { return quit_; })) return;
    uint64_t seq = seq_.load();
    if ((seq & 1) == 0) continue;
    int64_t start = start_ms_.load();
    limit = limit_ms_.load();
    Fire fire = fire_.load();
    // Still the input whose start and limit were read (seqlock).
    if (seq_.load() != seq || now_ms() - start < limit) continue;
    l.unlock();
    fire(limit);
    return;
  }
}

void Watchdog::stop() {
  {
    std::lock_guard<std::mutex> g(m_);
    quit_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

}  // namespace mcf::fuzz
