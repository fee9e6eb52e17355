// Media interfaces: see media_interface.h. Upstream: mc-entity.c
// (media_devnode_create/remove, media_remove_intf_links).
#include "core/mc/media_interface.h"

#include "core/kernel/slab.h"
#include "core/mc/media_device.h"

namespace mcf {
namespace {
// Who calls it: the last media_interface_put(). Puts the media-device
// reference media_devnode_create() took (R5).
void media_interface_release(kref* k) {
  media_interface* intf = container_of(k, media_interface, ref);
  media_device* mdev = intf->graph_obj.mdev;
  kfree(intf_to_devnode(intf));
  media_device_put(mdev);
}
}  // namespace

void media_interface_get(media_interface* intf) { kref_get(&intf->ref); }
void media_interface_put(media_interface* intf) { kref_put(&intf->ref, media_interface_release); }

media_intf_devnode* media_devnode_create(media_device* mdev, uint32_t type, uint32_t flags,
                                         uint32_t major, uint32_t minor) {
  media_intf_devnode* devnode = kzalloc<media_intf_devnode>();
  if (devnode == nullptr) return nullptr;
  devnode->major = major;
  devnode->minor = minor;
  devnode->intf.type = type;
  devnode->intf.flags = flags;
  kref_init(&devnode->intf.ref, "media_interface");
  media_device_get(mdev);  // put by media_interface_release
  MutexGuard g(&mdev->graph_mutex);
  media_gobj_create(mdev, MEDIA_GRAPH_INTF_DEVNODE, &devnode->intf.graph_obj);
  devnode->intf.registered = true;
  return devnode;
}

void media_interface_remove_locked(media_interface* intf) {
  if (!intf->registered) return;
  intf->graph_obj.mdev->graph_mutex.assert_held();
  while (!intf->links.empty()) {
    media_link* link = intf->links.back();
    intf->links.pop_back();
    media_gobj_destroy(&link->graph_obj);
    kfree(link);
  }
  media_gobj_destroy(&intf->graph_obj);
  intf->registered = false;
}

void media_devnode_remove(media_intf_devnode* devnode) {
  media_interface* intf = &devnode->intf;
  media_device* mdev = intf->graph_obj.mdev;
  {
    MutexGuard g(&mdev->graph_mutex);
    // media_device_unregister() may have taken it out of the graph already.
    media_interface_remove_locked(intf);
  }
  media_interface_put(intf);  // the creator's reference
}

}  // namespace mcf
