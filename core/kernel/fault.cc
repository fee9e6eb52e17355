// Failure points: see fault.h.
#include "core/kernel/fault.h"

#include <atomic>

namespace mcf {
namespace {
std::atomic<FaultInjector*> g_injector{nullptr};
}

void set_fault_injector(FaultInjector* injector) { g_injector.store(injector); }

bool should_fail(const char* site) {
  FaultInjector* injector = g_injector.load(std::memory_order_acquire);
  return injector != nullptr && injector->should_fail(site);
}

}  // namespace mcf
