// The media topology printer shared by the tools and the tests: what
// `media-ctl -p` and `media-ctl --print-dot` print for a media device, read
// through the model's own system calls only (MEDIA_IOC_DEVICE_INFO,
// MEDIA_IOC_ENUM_ENTITIES, MEDIA_IOC_ENUM_LINKS, MEDIA_IOC_G_TOPOLOGY) on an
// fd of a process. Node names come from /dev (devtmpfs), as media-ctl finds
// them through sysfs.
//
// The text layout is v4l-utils 1.22's media-ctl (Debian 12), the one the
// project installs: header, "Device topology", one block per entity in id
// order with pads ("Sink"/"Source") and the links seen from each pad (both
// directions, as libmediactl records a link on its source and its sink).
// Lines media-ctl gets from sub-device nodes (pad formats, crop, DV
// timings) are not printed: they need sub-device ioctls. Ancillary links
// are not printed by media-ctl either (ENUM_LINKS does not report them);
// topology_v2_text() shows them with everything else G_TOPOLOGY reports.
//
// User memory: every call uses the process's user arena from `scratch` on
// (kScratchSize bytes), so callers sharing a process between threads pass
// distinct ranges.
#pragma once

#include <linux/media.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/fs/process.h"
#include "core/kernel/uaccess.h"

namespace mcf::topology {

constexpr size_t kScratchSize = 64 * 1024;

// One entity as ENUM_ENTITIES and ENUM_LINKS report it.
struct entity_info {
  media_entity_desc desc = {};
  std::vector<media_pad_desc> pads;
  std::vector<media_link_desc> links;  // outbound data links
  std::string devname;                 // "/dev/video0", or "" without a node
};

// Everything the printers use, read in one go.
struct media_snapshot {
  media_device_info info = {};
  std::vector<entity_info> entities;  // ENUM_ENTITIES order (increasing ids)
  // G_TOPOLOGY.
  uint64_t topology_version = 0;
  std::vector<media_v2_entity> v2_entities;
  std::vector<media_v2_interface> v2_interfaces;
  std::vector<media_v2_pad> v2_pads;
  std::vector<media_v2_link> v2_links;
};

// Reads the snapshot through `fd` (an open /dev/mediaN of `proc`). Returns 0
// or the first failing call's negative errno (-EIO once the device is
// unregistered, -EFAULT if the scratch range is outside the arena).
int topology_read(process& proc, int fd, media_snapshot* out,
                  user_addr_t scratch = user_arena::kDefaultBase);

// The /dev path of the character device (major, minor), or "".
std::string devnode_name(uint32_t major, uint32_t minor);

// Printers of a snapshot.
std::string format_text(const media_snapshot& snap);     // media-ctl -p
std::string format_dot(const media_snapshot& snap);      // media-ctl --print-dot
std::string format_v2_text(const media_snapshot& snap);  // every G_TOPOLOGY object

// Read + print. On a failed read they return what media-ctl prints then:
// "Failed to enumerate <fd> (<errno>)\n".
std::string topology_text(process& proc, int fd, user_addr_t scratch = user_arena::kDefaultBase);
std::string topology_dot(process& proc, int fd, user_addr_t scratch = user_arena::kDefaultBase);
std::string topology_v2_text(process& proc, int fd,
                             user_addr_t scratch = user_arena::kDefaultBase);

// Names used by the printers, for tests and tools.
const char* entity_function_name(uint32_t function);  // "CAM_SENSOR", or null
const char* interface_type_name(uint32_t intf_type);  // "V4L_VIDEO", or null

}  // namespace mcf::topology
