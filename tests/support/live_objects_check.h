// Test helper: asserts that every model object was released.
#pragma once

#include <string>

namespace mcf::testing {
// "" when every live count is zero, else "type=n type=m ...".
std::string alive_objects();
}  // namespace mcf::testing
