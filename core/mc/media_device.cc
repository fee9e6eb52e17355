// The media device: registration, graph objects, entities and interfaces.
// Upstream: drivers/media/mc/mc-device.c, mc-entity.c (gobj), mc-devnode.c.
#include "core/mc/media_device.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "core/kernel/fault.h"
#include "core/kernel/report.h"
#include "core/mc/media_devnode.h"

namespace mcf {
namespace {

template <typename T>
void erase_one(std::vector<T*>* v, T* p) {
  auto it = std::find(v->begin(), v->end(), p);
  if (it != v->end()) v->erase(it);
}

// Who calls it: the last put of devnode.dev (media_device_put, the last
// close, the last entity or interface release). R2: the only place a media
// device's memory may go; R9: ops->release may free the driver's struct.
void media_devnode_release(device* dev) {
  media_devnode* devnode = container_of(dev, media_devnode, dev);
  media_device* mdev = devnode_to_media_device(devnode);
  if (mdev->ops != nullptr && mdev->ops->release != nullptr) mdev->ops->release(mdev);
}

// Takes a registered entity out of the graph: its links, its pads, itself.
// The registration's reference is put by the caller, after the lock.
void media_entity_unlink_locked(media_entity* entity) {
  entity->graph_obj.mdev->graph_mutex.assert_held();
  media_entity_remove_links_locked(entity);
  for (uint16_t i = 0; i < entity->num_pads; ++i) media_gobj_destroy(&entity->pads[i].graph_obj);
  media_gobj_destroy(&entity->graph_obj);
  entity->registered = false;
  // Out of the graph, out of every pipeline. [fix by the omap3isp helper: an
  // entity unregistered while its pipeline streamed (a sensor unbound from a
  // streaming bridge) kept stream_count > 0 and `pipe` pointing into the old
  // bridge's memory, since media_pipeline_stop() can no longer reach it
  // through the removed links; registered again with a new bridge (async
  // rebind) it was busy for ever: -EBUSY from media_pipeline_start().]
  entity->stream_count = 0;
  entity->pipe = nullptr;
}

}  // namespace

void media_device_init(media_device* mdev) {
  device_initialize(&mdev->devnode.dev);
  mdev->devnode.dev.release = media_devnode_release;
  mdev->devnode.dev.parent = mdev->dev;
}

void media_device_get(media_device* mdev) { get_device(&mdev->devnode.dev); }
void media_device_put(media_device* mdev) { put_device(&mdev->devnode.dev); }

int media_device_register(media_device* mdev) {
  // driver_name is what DEVICE_INFO reports; taken now, while the driver is
  // bound, so no ioctl ever reads mdev->dev->driver (which unbind clears).
  if (mdev->driver_name[0] == '\0' && mdev->dev != nullptr && mdev->dev->driver != nullptr)
    std::snprintf(mdev->driver_name, sizeof(mdev->driver_name), "%s", mdev->dev->driver->name);
  {
    MutexGuard g(&mdev->graph_mutex);
    mdev->topology_version = 0;
  }
  return media_devnode_register(mdev);
}

void media_device_unregister(media_device* mdev) {
  std::vector<media_entity*> entities;
  std::vector<media_interface*> interfaces;
  {
    MutexGuard g(&mdev->graph_mutex);
    // Step 1: no new system call gets in (R12). Calls already past the
    // registration check finish against memory their file keeps (R1).
    if (!media_devnode_unregister_prepare(mdev)) return;
    // Step 2: every entity leaves the graph, with its links and pads.
    entities = mdev->entities;
    for (media_entity* entity : entities) media_entity_unlink_locked(entity);
    // Step 3: interfaces leave too; their creators still hold them (R5).
    interfaces = mdev->interfaces;
    for (media_interface* intf : interfaces) media_interface_remove_locked(intf);
  }
  // Step 4: the char device goes; open() can no longer find it.
  media_devnode_unregister(mdev);
  // Step 5: drop the registration references outside the graph lock: a put
  // may be the last and run a release callback.
  for (media_entity* entity : entities) media_entity_put(entity);
}

bool media_devnode_is_registered(media_device* mdev) {
  return media_devnode_is_registered(&mdev->devnode);
}

void media_gobj_create(media_device* mdev, media_gobj_type type, media_gobj* gobj) {
  mdev->graph_mutex.assert_held();
  gobj->mdev = mdev;
  gobj->id = (static_cast<uint32_t>(type) << MEDIA_BITS_PER_ID) | (++mdev->id & MEDIA_ID_MASK);
  mdev->topology_version++;
  switch (type) {
    case MEDIA_GRAPH_ENTITY:
      mdev->entities.push_back(container_of(gobj, media_entity, graph_obj));
      break;
    case MEDIA_GRAPH_PAD:
      mdev->pads.push_back(container_of(gobj, media_pad, graph_obj));
      break;
    case MEDIA_GRAPH_LINK:
      mdev->links.push_back(container_of(gobj, media_link, graph_obj));
      break;
    case MEDIA_GRAPH_INTF_DEVNODE:
      mdev->interfaces.push_back(container_of(gobj, media_interface, graph_obj));
      break;
  }
}

void media_gobj_destroy(media_gobj* gobj) {
  media_device* mdev = gobj->mdev;
  if (mdev == nullptr) return;
  mdev->graph_mutex.assert_held();
  mdev->topology_version++;
  switch (media_type(gobj)) {
    case MEDIA_GRAPH_ENTITY:
      erase_one(&mdev->entities, container_of(gobj, media_entity, graph_obj));
      // An entity keeps gobj->mdev: its release puts the reference the
      // registration took on that media device (R3).
      return;
    case MEDIA_GRAPH_PAD:
      erase_one(&mdev->pads, container_of(gobj, media_pad, graph_obj));
      break;
    case MEDIA_GRAPH_LINK:
      erase_one(&mdev->links, container_of(gobj, media_link, graph_obj));
      break;
    case MEDIA_GRAPH_INTF_DEVNODE:
      erase_one(&mdev->interfaces, container_of(gobj, media_interface, graph_obj));
      // The interface keeps gobj->mdev for the same reason as an entity (R5).
      return;
  }
  gobj->mdev = nullptr;
}

media_entity* media_device_find_entity(media_device* mdev, uint32_t id) {
  mdev->graph_mutex.assert_held();
  for (media_entity* e : mdev->entities)
    if (media_entity_id(e) == id) return e;
  return nullptr;
}

int media_device_register_entity(media_device* mdev, media_entity* entity) {
  // One registration at a time. An entity that was registered before keeps
  // that media device in graph_obj.mdev (its release puts it, R3); it may be
  // registered again once unregistered: a sensor sub-device rebinding through
  // v4l2_async to a re-probed bridge's new media device. [fix by the
  // v4l2_subdev helper: registration used to be once per lifetime (-EBUSY),
  // so such a sensor could never bind again.] The caller serialises
  // registration and unregistration of one entity (v4l2_async's list_lock,
  // or the driver).
  if (entity->registered) return -EBUSY;
  if (int err = fault_point("media_device_register_entity", entity->name, -ENOMEM)) return err;
  media_device* previous = entity->graph_obj.mdev;
  // R3: the registration's references, on the entity and on the device.
  media_entity_get(entity);
  media_device_get(mdev);
  {
    MutexGuard g(&mdev->graph_mutex);
    media_gobj_create(mdev, MEDIA_GRAPH_ENTITY, &entity->graph_obj);
    for (uint16_t i = 0; i < entity->num_pads; ++i)
      media_gobj_create(mdev, MEDIA_GRAPH_PAD, &entity->pads[i].graph_obj);
    entity->registered = true;
  }
  // The entity now points at `mdev`, whose reference its release will put;
  // the one kept from the previous registration goes now (outside the graph
  // lock: it may be the last and free the old driver's struct).
  if (previous != nullptr) media_device_put(previous);
  return 0;
}

void media_device_unregister_entity(media_entity* entity) {
  media_device* mdev = entity->graph_obj.mdev;
  if (mdev == nullptr) return;
  {
    MutexGuard g(&mdev->graph_mutex);
    // media_device_unregister() may have done it already (and put).
    if (!entity->registered) return;
    media_entity_unlink_locked(entity);
  }
  media_entity_put(entity);  // the registration's reference
}

}  // namespace mcf
