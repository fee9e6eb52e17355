// kzalloc / kfree for model objects. Allocation is a failure point; callers
// handle a null result as the kernel does (-ENOMEM and unwind).
#pragma once

#include <utility>

#include "core/kernel/fault.h"

namespace mcf {

template <typename T, typename... Args>
T* kzalloc(Args&&... args) {
  if (should_fail("kzalloc")) return nullptr;
  return new T(std::forward<Args>(args)...);  // value-initialised: zeroed members
}

template <typename T>
void kfree(T* p) {
  delete p;
}

}  // namespace mcf
