// Video device nodes: see v4l2_dev.h. Upstream: v4l2-core/v4l2-dev.c.
#include "core/v4l2/v4l2_dev.h"

#include <cerrno>
#include <cstdio>

#include "core/kernel/hooks.h"
#include "core/mc/media_device.h"
#include "core/v4l2/v4l2_device.h"
#include "core/v4l2/videobuf2.h"

namespace mcf {
namespace {

// videodev_lock orders node registration state against open(), and guards
// the minor and per-type number tables.
Mutex& videodev_lock() {
  static Mutex* m = new Mutex("videodev_lock");
  return *m;
}
video_device* g_video_devices[VIDEO_NUM_DEVICES];
bool g_devnode_nums[VFL_TYPE_MAX][VIDEO_NUM_DEVICES];

const char* const kNameBase[VFL_TYPE_MAX] = {"video", "vbi", "radio", "v4l-subdev", "swradio",
                                             "v4l-touch"};

constexpr unsigned long kRegisteredBit = 1ul << V4L2_FL_REGISTERED;
constexpr unsigned long kNodeAddedBit = 1ul << V4L2_FL_NODE_ADDED;

// Who calls it: the last put of vdev->dev (last close, the entity's pin, the
// registration's reference, whichever is last). Upstream's v4l2_device_release.
void video_device_dev_release(device* d) {
  video_device* vdev = to_video_device(d);
  v4l2_device* v4l2_dev = vdev->v4l2_dev;
  media_device* mdev = vdev->mdev_ref;
  {
    MutexGuard g(&videodev_lock());
    if (vdev->minor >= 0 && g_video_devices[vdev->minor] == vdev)
      g_video_devices[vdev->minor] = nullptr;
    if (vdev->num >= 0) g_devnode_nums[vdev->vfl_type][vdev->num] = false;
  }
  // The driver frees its memory here; read nothing from vdev afterwards.
  vdev->release(vdev);
  v4l2_device_put(v4l2_dev);                 // R9: taken at registration
  if (mdev != nullptr) media_device_put(mdev);  // R6: taken at registration
}

// Who calls it: the last media_entity_put() of the node's entity. The entity
// pinned the node's memory (R4: one allocation, released by the last user).
void video_entity_release(media_entity* entity) {
  video_device* vdev = container_of(entity, video_device, entity);
  put_device(&vdev->dev);
}

int v4l2_open(inode* ino, file* filp) {
  video_device* vdev = container_of(ino->i_cdev, video_device, cdev);
  {
    MutexGuard g(&videodev_lock());
    // R12: a node that is gone does not open.
    if (!video_is_registered(vdev)) return -ENODEV;
    video_get(vdev);  // the file's reference, put in v4l2_release
  }
  int ret = 0;
  if (vdev->fops->open != nullptr) {
    if (!video_call_enter(vdev)) {
      ret = -ENODEV;
    } else {
      ret = vdev->fops->open(filp);
      video_call_exit(vdev);
    }
  }
  if (ret != 0) video_put(vdev);
  return ret;
}

int v4l2_release(inode* ino, file* filp) {
  video_device* vdev = video_devdata(filp);
  // Always runs, registered or not: the driver frees the file's state.
  if (vdev->fops->release != nullptr) vdev->fops->release(filp);
  video_put(vdev);
  return 0;
}

long v4l2_ioctl(file* filp, unsigned int cmd, unsigned long arg) {
  video_device* vdev = video_devdata(filp);
  if (vdev->fops->unlocked_ioctl == nullptr) return -ENOTTY;
  // R12 + R13: refused once unregistered, counted while inside the driver.
  if (!video_call_enter(vdev)) return -ENODEV;
  long ret = vdev->fops->unlocked_ioctl(filp, cmd, arg);
  video_call_exit(vdev);
  return ret;
}

__poll_t v4l2_poll(file* filp, poll_table* pt) {
  video_device* vdev = video_devdata(filp);
  if (vdev->fops->poll == nullptr) return DEFAULT_POLLMASK;
  // R14: a sleeping poll() is woken through unreg_wait at unregistration.
  poll_wait(filp, &vdev->unreg_wait, pt);
  if (!video_call_enter(vdev)) return EPOLLERR | EPOLLHUP | EPOLLPRI;
  __poll_t res = vdev->fops->poll(filp, pt);
  video_call_exit(vdev);
  return res;
}

const file_operations v4l2_fops = {
    .open = v4l2_open,
    .release = v4l2_release,
    .unlocked_ioctl = v4l2_ioctl,
    .poll = v4l2_poll,
};

// Whether the node has a media entity of its own. A sub-device node has
// none: its interface links to the sub-device's entity, which
// v4l2_device_register_subdev() registered (upstream: "Entity will be created
// via v4l2_device_register_subdev()"). [fix by the v4l2_subdev helper: the
// embedded devnode of a v4l2_subdev used to register a second entity, and its
// unregistration put an entity count that was never initialised.]
bool video_has_own_entity(const video_device* vdev) {
  return vdev->v4l2_dev->mdev != nullptr && vdev->vfl_type != VFL_TYPE_SUBDEV;
}

// Undoes media_device_register_entity() for a node whose registration
// fails: the entity leaves the graph and gives back the media-device
// reference it kept for its release, which will not run (the driver still
// holds the entity's first count). [fix by the omap3isp helper: the entity
// kept graph_obj.mdev, and with it a media-device reference nothing ever put:
// a driver whose video_register_device failed here leaked its media device,
// hence the struct the media device's release frees.]
void video_unregister_entity_on_error(video_device* vdev) {
  media_device_unregister_entity(&vdev->entity);
  media_device* mdev = vdev->entity.graph_obj.mdev;
  vdev->entity.graph_obj.mdev = nullptr;
  if (mdev != nullptr) media_device_put(mdev);
}

// Steps of video_register_device that touch the media graph.
int video_register_media_controller(video_device* vdev) {
  media_device* mdev = vdev->v4l2_dev->mdev;
  if (mdev == nullptr) return 0;
  if (!video_has_own_entity(vdev)) {
    vdev->intf_devnode = media_devnode_create(mdev, MEDIA_INTF_T_V4L_SUBDEV, 0, VIDEO_MAJOR,
                                              static_cast<uint32_t>(vdev->minor));
    return vdev->intf_devnode != nullptr ? 0 : -ENOMEM;
  }
  vdev->entity.obj_type = MEDIA_ENTITY_TYPE_VIDEO_DEVICE;
  if (vdev->entity.name.empty()) vdev->entity.name = vdev->name;
  if (vdev->entity.function == MEDIA_ENT_F_UNKNOWN) vdev->entity.function = MEDIA_ENT_F_IO_V4L;
  vdev->entity.info.major = VIDEO_MAJOR;
  vdev->entity.info.minor = static_cast<uint32_t>(vdev->minor);
  // A node without pads may skip media_entity_pads_init; its count starts here.
  if (kref_read(&vdev->entity.ref) == 0) media_entity_pads_init(&vdev->entity, 0, nullptr);
  int ret = media_device_register_entity(mdev, &vdev->entity);
  if (ret != 0) return ret;
  uint32_t intf_type = vdev->vfl_type == VFL_TYPE_SUBDEV ? MEDIA_INTF_T_V4L_SUBDEV
                       : vdev->vfl_type == VFL_TYPE_VBI  ? MEDIA_INTF_T_V4L_VBI
                       : vdev->vfl_type == VFL_TYPE_RADIO ? MEDIA_INTF_T_V4L_RADIO
                                                          : MEDIA_INTF_T_V4L_VIDEO;
  vdev->intf_devnode =
      media_devnode_create(mdev, intf_type, 0, VIDEO_MAJOR, static_cast<uint32_t>(vdev->minor));
  if (vdev->intf_devnode == nullptr) {
    video_unregister_entity_on_error(vdev);
    return -ENOMEM;
  }
  if (media_create_intf_link(&vdev->entity, &vdev->intf_devnode->intf,
                             MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE) == nullptr) {
    media_devnode_remove(vdev->intf_devnode);
    vdev->intf_devnode = nullptr;
    video_unregister_entity_on_error(vdev);
    return -ENOMEM;
  }
  return 0;
}

void video_unregister_media_controller(video_device* vdev) {
  if (vdev->v4l2_dev->mdev == nullptr) return;
  if (vdev->intf_devnode != nullptr) {
    media_devnode_remove(vdev->intf_devnode);
    vdev->intf_devnode = nullptr;
  }
  media_device_unregister_entity(&vdev->entity);
}

}  // namespace

void video_get(video_device* vdev) { get_device(&vdev->dev); }
void video_put(video_device* vdev) { put_device(&vdev->dev); }

void video_device_release_empty(video_device* vdev) {}

bool video_call_enter(video_device* vdev) {
  SpinGuard g(&vdev->users_lock);
  // Checked under users_lock: once prepare cleared the flag (under the same
  // lock) no call is counted in any more, so a zero count stays zero.
  if (!video_is_registered(vdev)) return false;
  vdev->users_in_flight++;
  return true;
}

void video_call_exit(video_device* vdev) {
  bool wake;
  {
    SpinGuard g(&vdev->users_lock);
    wake = --vdev->users_in_flight == 0 && !video_is_registered(vdev);
  }
  // The last call out wakes a waiting unregistration (R13). vdev is still
  // valid: the file of this call pins it.
  if (wake) wake_up_all(&vdev->unreg_wait);
}

int video_register_device(video_device* vdev, vfl_devnode_type type, int nr) {
  if (vdev->release == nullptr || vdev->v4l2_dev == nullptr || vdev->fops == nullptr ||
      type >= VFL_TYPE_MAX)
    return -EINVAL;
  vdev->vfl_type = type;

  // Step 1: a device number and a minor.
  {
    MutexGuard g(&videodev_lock());
    int num = -1;
    if (nr >= 0 && nr < static_cast<int>(VIDEO_NUM_DEVICES) && !g_devnode_nums[type][nr]) num = nr;
    for (unsigned i = 0; num < 0 && i < VIDEO_NUM_DEVICES; ++i)
      if (!g_devnode_nums[type][i]) num = static_cast<int>(i);
    int minor = -1;
    for (unsigned i = 0; minor < 0 && i < VIDEO_NUM_DEVICES; ++i)
      if (g_video_devices[i] == nullptr) minor = static_cast<int>(i);
    if (num < 0 || minor < 0) return -ENFILE;
    g_devnode_nums[type][num] = true;
    g_video_devices[minor] = vdev;
    vdev->num = num;
    vdev->minor = minor;
  }

  // Step 2: the node's struct device and char device.
  device_initialize(&vdev->dev);  // the registration's reference
  vdev->dev.name = std::string(kNameBase[type]) + std::to_string(vdev->num);
  vdev->dev.devt = MKDEV(VIDEO_MAJOR, static_cast<unsigned>(vdev->minor));
  if (vdev->dev_parent == nullptr) vdev->dev_parent = vdev->v4l2_dev->dev;
  vdev->dev.parent = vdev->dev_parent;
  cdev_init(&vdev->cdev, &v4l2_fops);

  // Step 3: the media graph (entity, interface, interface link).
  int ret = video_register_media_controller(vdev);
  if (ret != 0) goto err_minor;

  // Step 4: references the release will put (R6, R9), and the entity's pin.
  v4l2_device_get(vdev->v4l2_dev);
  if (vdev->v4l2_dev->mdev != nullptr) {
    vdev->mdev_ref = vdev->v4l2_dev->mdev;
    media_device_get(vdev->mdev_ref);
    if (video_has_own_entity(vdev)) {
      vdev->entity.release = video_entity_release;
      get_device(&vdev->dev);
    }
  }
  vdev->dev.release = video_device_dev_release;

  // Step 5: reachable from user space.
  ret = cdev_device_add(&vdev->cdev, &vdev->dev);
  if (ret != 0) goto err_media;
  {
    MutexGuard g(&videodev_lock());
    vdev->flags.fetch_or(kRegisteredBit | kNodeAddedBit, std::memory_order_release);
  }
  return 0;

  // Unwind in reverse. The entity's count and the registration's device
  // reference go last: their puts run the release, which frees the driver's
  // struct, exactly as upstream's put_device on a failed registration.
err_media:
  video_unregister_media_controller(vdev);
  if (video_has_own_entity(vdev)) media_entity_put(&vdev->entity);
  put_device(&vdev->dev);
  return ret;
err_minor:
  {
    MutexGuard g(&videodev_lock());
    g_video_devices[vdev->minor] = nullptr;
    g_devnode_nums[type][vdev->num] = false;
    vdev->minor = -1;
    vdev->num = -1;
  }
  return ret;
}

void video_unregister_device_prepare(video_device* vdev) {
  MutexGuard g(&videodev_lock());
  SpinGuard ug(&vdev->users_lock);
  // Once this bit is clear, open() and video_call_enter() refuse (R12, R13).
  vdev->flags.fetch_and(~kRegisteredBit, std::memory_order_release);
}

void video_unregister_device(video_device* vdev) {
  if (vdev == nullptr) return;
  {
    MutexGuard g(&videodev_lock());
    if (!(vdev->flags.fetch_and(~kNodeAddedBit) & kNodeAddedBit)) return;
  }
  // Phase 1: no new calls.
  video_unregister_device_prepare(vdev);
  // R14: sleepers in poll (on unreg_wait) and in DQBUF (on the queue) wake
  // and see the node unregistered.
  wake_up_all(&vdev->unreg_wait);
  if (vdev->queue != nullptr) vb2_queue_wake_for_unregister(vdev->queue);
  // Phase 2 (R13): wait until the last call in flight has left the driver.
  might_sleep("video_unregister_device");
  wait_event(&vdev->unreg_wait, [vdev] {
    SpinGuard g(&vdev->users_lock);
    return vdev->users_in_flight == 0;
  });
  // The node goes: no open can find it any more.
  cdev_device_del(&vdev->cdev, &vdev->dev);
  bool has_mc = video_has_own_entity(vdev);
  video_unregister_media_controller(vdev);
  // The registration's references. Either put may be the last user of the
  // memory (no file open, no walker on the entity): touch nothing after.
  if (has_mc) media_entity_put(&vdev->entity);
  put_device(&vdev->dev);
}

}  // namespace mcf
