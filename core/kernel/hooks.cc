// Hook points: see hooks.h.
#include "core/kernel/hooks.h"

namespace mcf {
namespace internal {
std::atomic<HookSink*> g_hook_sink{nullptr};
std::atomic<Scheduler*> g_scheduler{nullptr};
}

void set_scheduler(Scheduler* s) { internal::g_scheduler.store(s, std::memory_order_release); }

void set_hook_sink(HookSink* sink) { internal::g_hook_sink.store(sink, std::memory_order_release); }

const char* hook_kind_name(HookKind kind) {
  switch (kind) {
    case HookKind::kLockAcquire: return "lock";
    case HookKind::kLockRelease: return "unlock";
    case HookKind::kRefGet: return "get";
    case HookKind::kRefPut: return "put";
    case HookKind::kWaitSleep: return "sleep";
    case HookKind::kWaitWake: return "wake";
    case HookKind::kCallEntry: return "enter";
    case HookKind::kCallExit: return "exit";
    case HookKind::kIrq: return "irq";
    case HookKind::kPublish: return "publish";
    case HookKind::kUnpublish: return "unpublish";
  }
  return "unknown";
}

}  // namespace mcf
