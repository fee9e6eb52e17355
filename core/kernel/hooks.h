// Hook points: every lock, refcount, wait and call boundary of the model goes
// through hook(), so a harness (the deterministic scheduler, a trace ring, a
// test that pauses a thread at a chosen place) can take control there.
//
// core/ knows no scheduler or fuzzer; it only calls the sink installed with
// set_hook_sink(). With no sink installed a hook costs one relaxed load.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

namespace mcf {

enum class HookKind : uint8_t {
  kLockAcquire,   // about to take a mutex or spinlock
  kLockRelease,   // released it
  kRefGet,        // refcount raised (or get-unless-zero attempted)
  kRefPut,        // refcount dropped
  kWaitSleep,     // about to sleep on a wait queue
  kWaitWake,      // woke the sleepers of a wait queue
  kCallEntry,     // a system call entered the model
  kCallExit,      // ... and is about to return to user space
  kIrq,           // a simulated interrupt is delivered
  kPublish,       // an object became reachable through a lookup table
  kUnpublish,     // ... and stopped being reachable
};

const char* hook_kind_name(HookKind kind);

struct HookPoint {
  HookKind kind;
  const char* object_class;  // "media_device.graph_mutex", "media_entity", ...
  const void* object;
  const char* label;         // finer name: the call, the ioctl, the reason
};

class HookSink {
 public:
  virtual ~HookSink() = default;
  // Runs on the thread that reached the point. May block (that is how a
  // scheduler or a test pauses a thread) but must not call back into the model.
  virtual void on_hook(const HookPoint& point) = 0;
};

namespace internal {
extern std::atomic<HookSink*> g_hook_sink;
}

// Installs `sink` (or none, with nullptr). Not synchronised with hooks already
// running: install before starting the threads that reach hooks.
void set_hook_sink(HookSink* sink);

// The blocking-aware extension a deterministic scheduler needs (fuzzers/sched):
// with one is installed, only the thread that holds its "baton" runs model
// code, so a model primitive must never block its OS thread. Instead, when it
// cannot proceed (a lock taken, a wait-queue entry not woken) it calls
// block_on(), which hands the baton to another thread and returns when the
// scheduler gives it back; the primitive then re-tests. Whatever makes such a
// thread able to proceed (an unlock, a wake-up) calls unblock() on the same
// object. Null by default: the primitives then block as usual (real threads).
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  // True when the calling thread is one this scheduler runs (holds the baton).
  virtual bool controls_current() = 0;
  // The calling thread waits for `object` (a lock, a wait-queue entry):
  // `what` names it (lock class, wait-queue name) and `owner_tid` is the
  // lock's owner (-1: none / a wait queue), both for deadlock reports.
  virtual void block_on(const void* object, const char* what, int owner_tid) = 0;
  // Threads blocked on `object` may run again. Never switches threads.
  virtual void unblock(const void* object) = 0;
};

namespace internal {
extern std::atomic<Scheduler*> g_scheduler;
}

// Installs `s` (or none). Same rule as set_hook_sink().
void set_scheduler(Scheduler* s);

// The scheduler that controls the calling thread, or null.
inline Scheduler* controlling_scheduler() {
  Scheduler* s = internal::g_scheduler.load(std::memory_order_acquire);
  return s != nullptr && s->controls_current() ? s : nullptr;
}

// A raw std::mutex held across hook points (hw.cc's IRQ run lock): under a
// scheduler, taken without blocking the OS thread.
inline void sched_mutex_lock(std::mutex& m, const char* what) {
  Scheduler* s = controlling_scheduler();
  if (s == nullptr) {
    m.lock();
    return;
  }
  while (!m.try_lock()) s->block_on(&m, what, -1);
}
inline void sched_mutex_unlock(std::mutex& m) {
  m.unlock();
  if (Scheduler* s = internal::g_scheduler.load(std::memory_order_acquire)) s->unblock(&m);
}
class SchedMutexGuard {
 public:
  SchedMutexGuard(std::mutex& m, const char* what) : m_(m) { sched_mutex_lock(m_, what); }
  ~SchedMutexGuard() { sched_mutex_unlock(m_); }
  SchedMutexGuard(const SchedMutexGuard&) = delete;
  SchedMutexGuard& operator=(const SchedMutexGuard&) = delete;

 private:
  std::mutex& m_;
};

inline void hook(HookKind kind, const char* object_class, const void* object,
                 const char* label = nullptr) {
  HookSink* sink = internal::g_hook_sink.load(std::memory_order_acquire);
  if (sink != nullptr) sink->on_hook(HookPoint{kind, object_class, object, label});
}

}  // namespace mcf
