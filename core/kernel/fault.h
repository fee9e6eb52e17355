// Failure points: every allocation of a model object and every registration
// step that can fail upstream passes through fault_point() first, so a
// harness can make the n-th one fail (syzkaller's fail_nth). With no injector
// installed nothing fails.
#pragma once

#include <string_view>

namespace mcf {

// One failure point as the injector sees it: enough for a user to recognise
// the step in the source and aim a fault at it (mcf-repro faults).
struct fault_site {
  const char* kind;       // the step, a static string: "kzalloc", "device_add", ...
  std::string_view what;  // what it allocates or registers: a type, device, entity
                          // or IRQ name; valid only during should_fail()
  int err;                // the negative errno the step returns when it fails
};

class FaultInjector {
 public:
  virtual ~FaultInjector() = default;
  // True: this point fails. Called on the thread that reached it.
  virtual bool should_fail(const fault_site& site) = 0;
};

void set_fault_injector(FaultInjector* injector);

// A failure point: `err` (negative, what upstream returns there) when the
// installed injector makes it fail, 0 otherwise. The caller returns that
// value, or unwinds as the kernel does (kzalloc: null, the caller -ENOMEM).
int fault_point(const char* kind, std::string_view what, int err);

}  // namespace mcf
