// struct v4l2_device, after include/media/v4l2-device.h and v4l2-device.c.
//
// R9: counted, with a release callback. Every registered video or sub-device
// node holds a reference (taken at registration, put in the node's release),
// so the driver may free its own struct from `release` and know no node can
// still reach it.
#pragma once

#include <vector>

#include "core/kernel/device.h"
#include "core/kernel/lock.h"
#include "core/kernel/refcount.h"
#include "core/mc/media_device.h"

namespace mcf {

struct v4l2_subdev;

struct v4l2_device : Tracked<v4l2_device> {
  static constexpr const char kObjName[] = "v4l2_device";
  device* dev = nullptr;             // the driver's device (not counted)
  media_device* mdev = nullptr;      // optional
  char name[36] = {};
  // Registered sub-devices, in registration order.
  Mutex subdevs_lock{"v4l2_device.subdevs_lock"};
  std::vector<v4l2_subdev*> subdevs ABSL_GUARDED_BY(subdevs_lock);
  kref ref;
  // Who calls it: the last v4l2_device_put(). May free the driver's struct.
  void (*release)(v4l2_device* v4l2_dev) = nullptr;
};

// Initialises the count (1: the driver's) and the name ("<driver> <device>").
int v4l2_device_register(device* dev, v4l2_device* v4l2_dev);
// Unregisters every sub-device still registered. The driver then drops its
// reference with v4l2_device_put().
void v4l2_device_unregister(v4l2_device* v4l2_dev);

// Sub-devices (implemented in v4l2_subdev.cc). unregister_subdev removes `sd`
// from v4l2_dev->subdevs (under subdevs_lock) and is a no-op for a sub-device
// that is not registered; v4l2_device_unregister calls it for each one.
int v4l2_device_register_subdev(v4l2_device* v4l2_dev, v4l2_subdev* sd);
void v4l2_device_unregister_subdev(v4l2_subdev* sd);
int v4l2_device_register_subdev_nodes(v4l2_device* v4l2_dev);
void v4l2_device_get(v4l2_device* v4l2_dev);
// Returns 1 if this put released the device.
int v4l2_device_put(v4l2_device* v4l2_dev);

}  // namespace mcf
