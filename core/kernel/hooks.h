// Hook points: every lock, refcount, wait and call boundary of the model goes
// through hook(), so a harness (the deterministic scheduler, a trace ring, a
// test that pauses a thread at a chosen place) can take control there.
//
// core/ knows no scheduler or fuzzer; it only calls the sink installed with
// set_hook_sink(). With no sink installed a hook costs one relaxed load.
#pragma once

#include <atomic>
#include <cstdint>

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

inline void hook(HookKind kind, const char* object_class, const void* object,
                 const char* label = nullptr) {
  HookSink* sink = internal::g_hook_sink.load(std::memory_order_acquire);
  if (sink != nullptr) sink->on_hook(HookPoint{kind, object_class, object, label});
}

}  // namespace mcf
