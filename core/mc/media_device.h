// The media device, after include/media/media-device.h, mc-device.c and
// mc-devnode.c.
//
// Lifetime rules (DESIGN.md §1):
//  R1  The devnode (char device + struct device) is embedded: one allocation,
//      one lifetime. An open file pins devnode.dev, hence the whole media
//      device, so every structure a system call uses stays valid until it
//      returns.
//  R2  The media device is counted through devnode.dev. media_device_init()
//      gives the driver the first reference; the driver drops it with
//      media_device_put() after media_device_unregister(). The last put calls
//      ops->release, which may free the driver's struct that embeds the
//      media device (R9: the media device as the single gatekeeper).
//  R12 Once unregistered, open fails with -ENXIO and ioctls with -EIO, as
//      mc-devnode.c; poll reports EPOLLERR|EPOLLHUP.
// Locking: graph_mutex guards every graph list, every link, pipeline state
// and the id counter. media_devnode_lock (global) orders registration state
// against open().
#pragma once

#include <linux/media.h>

#include <cstdint>
#include <vector>

#include "core/fs/char_dev.h"
#include "core/kernel/device.h"
#include "core/kernel/lock.h"
#include "core/mc/media_entity.h"
#include "core/mc/media_interface.h"

namespace mcf {

// The media major is dynamic upstream (alloc_chrdev_region); fixed here.
constexpr unsigned MEDIA_MAJOR = 238;
constexpr unsigned MEDIA_NUM_DEVICES = 256;
// LINUX_VERSION_CODE of the modelled kernel (6.17), reported as media_version.
constexpr uint32_t MCF_LINUX_VERSION_CODE = (6u << 16) | (17u << 8) | 0u;

enum : unsigned {
  MEDIA_DEV_NOTIFY_PRE_LINK_CH = 0,
  MEDIA_DEV_NOTIFY_POST_LINK_CH = 1,
};

struct media_device;

struct media_device_ops {
  int (*link_notify)(media_link* link, uint32_t flags, unsigned notification) = nullptr;
  // Who calls it: the last media_device_put(). May free the struct that
  // embeds the media device.
  void (*release)(media_device* mdev) = nullptr;
};

// The char-device side. MEDIA_FLAG_REGISTERED is set while user space may
// reach the device through it.
constexpr unsigned long MEDIA_FLAG_REGISTERED = 1;

struct media_devnode {
  device dev;
  cdev cdev;
  int minor = -1;
  unsigned long flags = 0;  // guarded by media_devnode_lock
};

struct media_device : Tracked<media_device> {
  static constexpr const char kObjName[] = "media_device";

  device* dev = nullptr;  // the driver's device: parent of the devnode
  media_devnode devnode;  // R1: embedded

  char model[32] = {};
  char driver_name[32] = {};
  char serial[40] = {};
  char bus_info[32] = {};
  uint32_t hw_revision = 0;

  const media_device_ops* ops = nullptr;

  Mutex graph_mutex{"media_device.graph_mutex"};
  uint64_t topology_version ABSL_GUARDED_BY(graph_mutex) = 0;
  uint32_t id ABSL_GUARDED_BY(graph_mutex) = 0;  // shared by all gobj types
  std::vector<media_entity*> entities ABSL_GUARDED_BY(graph_mutex);
  std::vector<media_interface*> interfaces ABSL_GUARDED_BY(graph_mutex);
  std::vector<media_pad*> pads ABSL_GUARDED_BY(graph_mutex);
  std::vector<media_link*> links ABSL_GUARDED_BY(graph_mutex);
};

inline media_device* devnode_to_media_device(media_devnode* devnode) {
  return container_of(devnode, media_device, devnode);
}

// Initialises the count (1: the caller's) and the lists. `mdev->dev` must be
// set. Always succeeds.
void media_device_init(media_device* mdev);
// R2: references. get is a plain get (a count at zero is a report: R11).
void media_device_get(media_device* mdev);
void media_device_put(media_device* mdev);

// Creates /dev/mediaN and makes it reachable. -ENFILE without a free minor;
// failure points of cdev_device_add.
int media_device_register(media_device* mdev);
// Makes the node unreachable (new opens -ENXIO, ioctls -EIO), unregisters
// every entity and interface. Open files keep the memory (R1, R2).
void media_device_unregister(media_device* mdev);
bool media_devnode_is_registered(media_device* mdev);

// R3: links the entity into the graph, giving ids to it and its pads, and
// takes a reference on the entity and one on the media device. Failure
// point "media_device_register_entity".
int media_device_register_entity(media_device* mdev, media_entity* entity);
// Removes the entity, its pads and its links from the graph and drops the
// registration reference. Safe on an entity media_device_unregister() already
// removed.
void media_device_unregister_entity(media_entity* entity);

// Graph object ids: caller holds graph_mutex.
void media_gobj_create(media_device* mdev, media_gobj_type type, media_gobj* gobj)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mdev->graph_mutex);
void media_gobj_destroy(media_gobj* gobj);
// The registered entity with id `id`, or null. Caller holds graph_mutex.
media_entity* media_device_find_entity(media_device* mdev, uint32_t id)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mdev->graph_mutex);

// The ioctl handler of the media node (mc-device.c's media_device_ioctl).
long media_device_ioctl(media_device* mdev, unsigned int cmd, unsigned long arg);

}  // namespace mcf
