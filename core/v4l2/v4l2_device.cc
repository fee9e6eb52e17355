// struct v4l2_device: see v4l2_device.h. Upstream: v4l2-core/v4l2-device.c.
#include "core/v4l2/v4l2_device.h"

#include <cstdio>

#include "core/v4l2/v4l2_subdev.h"

namespace mcf {
namespace {
// Who calls it: the last v4l2_device_put() — after every node that held a
// reference is released (R9).
void v4l2_device_release_kref(kref* k) {
  v4l2_device* v4l2_dev = container_of(k, v4l2_device, ref);
  if (v4l2_dev->release != nullptr) v4l2_dev->release(v4l2_dev);
}
}  // namespace

int v4l2_device_register(device* dev, v4l2_device* v4l2_dev) {
  v4l2_dev->dev = dev;
  kref_init(&v4l2_dev->ref, "v4l2_device");
  if (v4l2_dev->name[0] == '\0' && dev != nullptr) {
    std::snprintf(v4l2_dev->name, sizeof(v4l2_dev->name), "%s %s",
                  dev->driver != nullptr ? dev->driver->name : "", dev_name(dev));
  }
  return 0;
}

void v4l2_device_unregister(v4l2_device* v4l2_dev) {
  // One at a time, without holding subdevs_lock across the call: unregistering
  // a sub-device waits for its node's calls in flight (R13).
  for (;;) {
    v4l2_subdev* sd = nullptr;
    {
      MutexGuard g(&v4l2_dev->subdevs_lock);
      if (v4l2_dev->subdevs.empty()) break;
      sd = v4l2_dev->subdevs.back();
      // Our own reference: a concurrent unbind (v4l2_async) may unregister
      // and release it between this lock and the call below (R4).
      v4l2_subdev_get(sd);
    }
    v4l2_device_unregister_subdev(sd);
    v4l2_subdev_put(sd);
  }
}

void v4l2_device_get(v4l2_device* v4l2_dev) { kref_get(&v4l2_dev->ref); }

int v4l2_device_put(v4l2_device* v4l2_dev) {
  return kref_put(&v4l2_dev->ref, v4l2_device_release_kref);
}

}  // namespace mcf
