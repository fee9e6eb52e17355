// kzalloc / kfree for model objects. Allocation is a failure point named
// after the allocated type ("kzalloc video_device"); callers handle a null
// result as the kernel does (-ENOMEM and unwind).
#pragma once

#include <cerrno>
#include <string_view>
#include <utility>

#include "core/kernel/fault.h"

namespace mcf {

// T's name without the mcf:: prefix ("v4l2_fh"), from the compiler's
// signature of this function, so no type needs to declare its own.
template <typename T>
constexpr std::string_view slab_name() {
  std::string_view f = __PRETTY_FUNCTION__;  // "... slab_name() [T = mcf::v4l2_fh]"
  size_t begin = f.find("T = ");
  size_t end = f.rfind(']');
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin + 4)
    return "?";
  std::string_view name = f.substr(begin + 4, end - begin - 4);
  if (name.substr(0, 5) == "mcf::") name.remove_prefix(5);
  return name;
}

template <typename T, typename... Args>
T* kzalloc(Args&&... args) {
  if (fault_point("kzalloc", slab_name<T>(), -ENOMEM) != 0) return nullptr;
  return new T(std::forward<Args>(args)...);  // value-initialised: zeroed members
}

template <typename T>
void kfree(T* p) {
  delete p;
}

}  // namespace mcf
