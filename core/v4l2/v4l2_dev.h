// Video device nodes, after include/media/v4l2-dev.h and v4l2-core/v4l2-dev.c.
//
// Lifetime and the two-phase unregistration (DESIGN.md §1):
//  R6  Registration with a media device takes a media-device reference, put
//      in the video device's release. Registration also takes a v4l2_device
//      reference (R9), put there too.
//  R12 Every call on an unregistered node fails with -ENODEV (poll reports
//      EPOLLERR|EPOLLHUP|EPOLLPRI).
//  R13 video_unregister_device_prepare() clears V4L2_FL_REGISTERED, so new
//      calls fail. Each call that got in is counted (users_in_flight) for its
//      whole duration; video_unregister_device() waits on unreg_wait until the
//      count is zero, and each finishing call wakes it. After it returns no
//      call is inside the driver.
//  R14 Calls asleep in the driver (blocking DQBUF, poll) are woken by
//      unregistration and re-check registration before touching anything.
//
// Memory: `dev` is the node's struct device; its last put (last close, the
// entity's pin, the driver's reference) runs v4l2_device_release, which
// calls vdev->release (the driver frees the struct there). The node's media
// entity pins `dev` while its own count is non-zero, so a graph walker that
// holds the entity also holds the memory (R4).
#pragma once

#include <atomic>
#include <vector>

#include "core/fs/char_dev.h"
#include "core/kernel/device.h"
#include "core/kernel/lock.h"
#include "core/kernel/wait.h"
#include "core/mc/media_entity.h"
#include "core/mc/media_interface.h"

namespace mcf {

struct v4l2_device;
struct v4l2_ioctl_ops;
struct v4l2_fh;
struct vb2_queue;

constexpr unsigned VIDEO_MAJOR = 81;
constexpr unsigned VIDEO_NUM_DEVICES = 256;

enum vfl_devnode_type {
  VFL_TYPE_VIDEO,
  VFL_TYPE_VBI,
  VFL_TYPE_RADIO,
  VFL_TYPE_SUBDEV,
  VFL_TYPE_SDR,
  VFL_TYPE_TOUCH,
  VFL_TYPE_MAX,
};

enum vfl_devnode_direction { VFL_DIR_RX, VFL_DIR_TX, VFL_DIR_M2M };

// vdev->flags bits.
enum : unsigned long {
  V4L2_FL_REGISTERED = 0,
  V4L2_FL_USES_V4L2_FH = 1,
  // Set by a successful video_register_device, cleared when
  // video_unregister_device starts: phase 2 runs exactly once.
  V4L2_FL_NODE_ADDED = 2,
};

struct v4l2_file_operations {
  int (*open)(file* filp) = nullptr;
  int (*release)(file* filp) = nullptr;
  long (*unlocked_ioctl)(file* filp, unsigned int cmd, unsigned long arg) = nullptr;
  __poll_t (*poll)(file* filp, poll_table* pt) = nullptr;
};

struct video_device : Tracked<video_device> {
  static constexpr const char kObjName[] = "video_device";

  media_entity entity;                      // embedded; obj_type VIDEO_DEVICE
  media_intf_devnode* intf_devnode = nullptr;

  device dev;                               // the node's struct device
  cdev cdev;
  device* dev_parent = nullptr;
  v4l2_device* v4l2_dev = nullptr;
  const v4l2_file_operations* fops = nullptr;
  const v4l2_ioctl_ops* ioctl_ops = nullptr;
  uint32_t device_caps = 0;                 // V4L2_CAP_*
  vb2_queue* queue = nullptr;               // optional, for R14 wake-up
  Mutex* lock = nullptr;                    // optional ioctl serialisation lock

  char name[64] = {};
  vfl_devnode_type vfl_type = VFL_TYPE_VIDEO;
  vfl_devnode_direction vfl_dir = VFL_DIR_RX;
  int minor = -1;
  int num = -1;
  std::atomic<unsigned long> flags{0};

  // Open file handles (v4l2_fh_add / v4l2_fh_del).
  SpinLock fh_lock{"video_device.fh_lock"};
  std::vector<v4l2_fh*> fh_list ABSL_GUARDED_BY(fh_lock);

  // R13: calls inside the driver, and the unregistration waiting for them.
  SpinLock users_lock{"video_device.users_lock"};
  int users_in_flight ABSL_GUARDED_BY(users_lock) = 0;
  wait_queue_head unreg_wait{"video_device.unreg_wait"};

  // Who calls it: the node device's release, at the last put of `dev`.
  void (*release)(video_device* vdev) = nullptr;

  // The media-device reference registration took (R6), put in the release.
  media_device* mdev_ref = nullptr;
};

inline video_device* to_video_device(device* d) { return container_of(d, video_device, dev); }
// The node a file was opened on (its cdev's parent is the node's device).
inline video_device* video_devdata(file* filp) {
  return to_video_device(filp->f_inode.i_cdev->parent);
}
inline bool video_is_registered(const video_device* vdev) {
  return vdev->flags.load(std::memory_order_acquire) & (1ul << V4L2_FL_REGISTERED);
}

// Registers /dev/video<N> (or v4l-subdev<N>, ...). `nr` = -1: first free.
// With a media device: registers the entity (the driver has called
// media_entity_pads_init), creates the interface and the interface link.
// Failure points: kzalloc, device_add, cdev_add, media_device_register_entity.
int video_register_device(video_device* vdev, vfl_devnode_type type, int nr);
// R13 phase 1: new calls fail with -ENODEV from now on.
void video_unregister_device_prepare(video_device* vdev);
// R13 phase 2 (calls phase 1 if needed): wakes sleepers (R14), waits until no
// call is in flight, removes the node and its graph objects, drops the
// registration's reference. Must not be called from inside a call on this
// node. Memory goes at the last put of vdev->dev.
void video_unregister_device(video_device* vdev);

// Empty release for a video_device embedded in a struct freed elsewhere.
void video_device_release_empty(video_device* vdev);

// R13: bracket every call into the driver. enter() fails (returns false) on
// an unregistered node; exit() wakes a waiting unregistration.
bool video_call_enter(video_device* vdev);
void video_call_exit(video_device* vdev);

// The node's struct device references (video_get/video_put upstream).
void video_get(video_device* vdev);
void video_put(video_device* vdev);

}  // namespace mcf
