// Failure points: every allocation of a model object and every registration
// step that can fail upstream asks should_fail() first, so a harness can make
// the n-th one fail (syzkaller's fail_nth). With no injector installed nothing
// fails.
#pragma once

namespace mcf {

class FaultInjector {
 public:
  virtual ~FaultInjector() = default;
  // `site` names the step: "kzalloc", "device_add", "request_irq", ...
  virtual bool should_fail(const char* site) = 0;
};

void set_fault_injector(FaultInjector* injector);
bool should_fail(const char* site);

}  // namespace mcf
