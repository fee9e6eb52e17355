#include "tests/support/live_objects_check.h"

#include "core/kernel/live_objects.h"

namespace mcf::testing {
std::string alive_objects() {
  std::string out;
  for (const auto& [name, n] : live_objects_snapshot())
    if (n != 0) out += (out.empty() ? "" : " ") + name + "=" + std::to_string(n);
  return out;
}
}  // namespace mcf::testing
