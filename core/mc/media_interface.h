// Media interfaces (device-node interfaces), after include/media/media-entity.h.
//
// R5: an interface is counted like an entity. media_devnode_create() gives the
// caller the first reference and takes one on the media device, which the
// interface's release puts. Interface links are graph objects owned by the
// framework: they go with media_devnode_remove(), with the entity they point
// at, or with media_device_unregister(), whichever comes first.
#pragma once

#include <cstdint>
#include <vector>

#include "core/kernel/container_of.h"
#include "core/kernel/live_objects.h"
#include "core/kernel/refcount.h"
#include "core/mc/media_entity.h"

namespace mcf {

struct media_interface {
  media_gobj graph_obj;
  std::vector<media_link*> links;  // interface links; guarded by graph_mutex
  uint32_t type = 0;               // MEDIA_INTF_T_*
  uint32_t flags = 0;
  bool registered = false;         // on mdev->interfaces; guarded by graph_mutex
  kref ref;
};

struct media_intf_devnode : Tracked<media_intf_devnode> {
  static constexpr const char kObjName[] = "media_intf_devnode";
  media_interface intf;
  uint32_t major = 0;
  uint32_t minor = 0;
};

inline media_intf_devnode* intf_to_devnode(media_interface* intf) {
  return container_of(intf, media_intf_devnode, intf);
}

// Null on allocation failure (failure point "kzalloc").
media_intf_devnode* media_devnode_create(media_device* mdev, uint32_t type, uint32_t flags,
                                         uint32_t major, uint32_t minor);
// Removes the interface and its links from the graph and drops the creator's
// reference.
void media_devnode_remove(media_intf_devnode* devnode);

// Takes the interface and its links out of the graph (no-op if already out).
// Caller holds graph_mutex; the interface's memory stays with its references.
void media_interface_remove_locked(media_interface* intf);

void media_interface_get(media_interface* intf);
void media_interface_put(media_interface* intf);

}  // namespace mcf
