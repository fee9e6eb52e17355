// Failure points: see fault.h.
#include "core/kernel/fault.h"

#include <atomic>

namespace mcf {
namespace {
std::atomic<FaultInjector*> g_injector{nullptr};
}

void set_fault_injector(FaultInjector* injector) { g_injector.store(injector); }

int fault_point(const char* kind, std::string_view what, int err) {
  FaultInjector* injector = g_injector.load(std::memory_order_acquire);
  if (injector == nullptr || !injector->should_fail(fault_site{kind, what, err})) return 0;
  return err;
}

}  // namespace mcf
