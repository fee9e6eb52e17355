// Negative errno values inside the model, as the kernel returns them. User
// space sees the positive value; -ENOIOCTLCMD is the kernel-internal code that
// the ioctl layer turns into -ENOTTY.
#pragma once

#include <cerrno>

namespace mcf {
constexpr int ENOIOCTLCMD = 515;
constexpr int ERESTARTSYS = 512;
const char* errno_name(int err);  // "ENODEV" for ENODEV or -ENODEV
}  // namespace mcf
