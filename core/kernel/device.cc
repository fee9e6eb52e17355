// The driver core: see device.h.
#include "core/kernel/device.h"

#include <algorithm>
#include <cerrno>

#include "core/kernel/devtmpfs.h"
#include "core/kernel/fault.h"
#include "core/kernel/report.h"

namespace mcf {
namespace {

void device_kobj_release(kref* k) {
  device* dev = container_of(k, device, kobj);
  if (dev->release == nullptr) {
    report(ReportKind::kWarn, dev_name(dev),
           "Device '%s' does not have a release() function, it is broken and must be fixed",
           dev_name(dev));
  }
  // Who calls it: the last put_device(). The callback frees the memory that
  // embeds `dev`; nothing may touch `dev` afterwards.
  dev->release(dev);
}

bool drv_matches(device* dev, device_driver* drv) {
  return dev->bus->match ? dev->bus->match(dev, drv) : false;
}

// Binds `drv` to `dev`. Caller holds dev->mutex and checked that dev is unbound.
int really_probe(device* dev, device_driver* drv) ABSL_EXCLUSIVE_LOCKS_REQUIRED(dev->mutex) {
  dev->driver = drv;
  int ret = dev->bus->probe ? dev->bus->probe(dev) : (drv->probe ? drv->probe(dev) : 0);
  if (ret != 0) {
    // A failed probe leaves nothing behind: its devres goes now.
    devres_release_all(dev);
    dev->driver = nullptr;
    dev_set_drvdata(dev, nullptr);
  }
  return ret;
}

// Unbinds. Caller holds dev->mutex.
void release_driver_locked(device* dev) ABSL_EXCLUSIVE_LOCKS_REQUIRED(dev->mutex) {
  device_driver* drv = dev->driver;
  if (drv == nullptr) return;
  if (dev->bus->remove) {
    dev->bus->remove(dev);
  } else if (drv->remove) {
    drv->remove(dev);
  }
  // The kernel's order: remove() has returned, now devres goes, newest first.
  devres_release_all(dev);
  dev->driver = nullptr;
  dev_set_drvdata(dev, nullptr);
}

// Takes a counted snapshot of the bus's devices, so the list lock is not held
// while probing (probe takes other locks).
std::vector<device*> bus_devices_get(bus_type* bus) {
  MutexGuard g(&bus->lock);
  std::vector<device*> out;
  for (device* d : bus->devices) out.push_back(get_device(d));
  return out;
}

}  // namespace

void device_initialize(device* dev) { kref_init(&dev->kobj, "device"); }

device* get_device(device* dev) {
  if (dev != nullptr) kref_get(&dev->kobj);
  return dev;
}

void put_device(device* dev) {
  if (dev != nullptr) kref_put(&dev->kobj, device_kobj_release);
}

int device_add(device* dev) {
  if (dev->name.empty()) return -EINVAL;
  if (int err = fault_point("device_add", dev->name, -ENOMEM)) return err;
  get_device(dev->parent);  // a child pins its parent until device_del
  if (dev->devt != 0) {
    int ret = devtmpfs_create_node(dev_name(dev), dev->devt,
                                   dev->parent != nullptr ? dev_name(dev->parent) : "");
    if (ret != 0) {
      put_device(dev->parent);
      return ret;
    }
  }
  dev->added = true;
  dev->dead = false;  // nobody else sees the device before this add
  if (dev->bus != nullptr) {
    {
      MutexGuard g(&dev->bus->lock);
      dev->bus->devices.push_back(get_device(dev));  // the bus list's reference
    }
    // bus_probe_device(): try every driver already registered.
    std::vector<device_driver*> drivers;
    {
      MutexGuard g(&dev->bus->lock);
      drivers = dev->bus->drivers;
    }
    MutexGuard g(&dev->mutex);
    for (device_driver* drv : drivers) {
      if (dev->driver == nullptr && drv_matches(dev, drv)) {
        if (really_probe(dev, drv) == 0) break;
      }
    }
  }
  return 0;
}

void device_del(device* dev) {
  if (!dev->added) return;
  if (dev->bus != nullptr) {
    {
      MutexGuard g(&dev->mutex);
      // kill_device() [fix found by the fuzz executor: `added` is cleared
      // only at the end of device_del(), so a sysfs bind or a
      // driver_register() taking the device lock right after the unbind
      // below probed the device again; that binding was never removed and
      // the driver's objects and the device leaked].
      dev->dead = true;
      release_driver_locked(dev);
    }
    bool on_list = false;
    {
      MutexGuard g(&dev->bus->lock);
      auto it = std::find(dev->bus->devices.begin(), dev->bus->devices.end(), dev);
      if (it != dev->bus->devices.end()) {
        dev->bus->devices.erase(it);
        on_list = true;
      }
    }
    if (on_list) put_device(dev);  // the bus list's reference
  }
  if (dev->devt != 0) devtmpfs_delete_node(dev_name(dev));
  dev->added = false;
  put_device(dev->parent);
}

int device_register(device* dev) {
  device_initialize(dev);
  return device_add(dev);
}

void device_unregister(device* dev) {
  device_del(dev);
  put_device(dev);
}

int driver_register(device_driver* drv) {
  bus_type* bus = drv->bus;
  {
    MutexGuard g(&bus->lock);
    if (std::find(bus->drivers.begin(), bus->drivers.end(), drv) != bus->drivers.end())
      return -EBUSY;
    for (device_driver* other : bus->drivers)
      if (std::string(other->name) == drv->name) return -EBUSY;
    bus->drivers.push_back(drv);
  }
  for (device* dev : bus_devices_get(bus)) {
    {
      MutexGuard g(&dev->mutex);
      if (dev->driver == nullptr && dev->added && !dev->dead && drv_matches(dev, drv))
        really_probe(dev, drv);
    }
    put_device(dev);
  }
  return 0;
}

void driver_unregister(device_driver* drv) {
  bus_type* bus = drv->bus;
  {
    MutexGuard g(&bus->lock);
    auto it = std::find(bus->drivers.begin(), bus->drivers.end(), drv);
    if (it == bus->drivers.end()) return;
    bus->drivers.erase(it);
  }
  for (device* dev : bus_devices_get(bus)) {
    {
      MutexGuard g(&dev->mutex);
      if (dev->driver == drv) release_driver_locked(dev);
    }
    put_device(dev);
  }
}

int device_driver_attach(device_driver* drv, device* dev) {
  MutexGuard g(&dev->mutex);
  if (!dev->added || dev->dead) return -ENODEV;  // dead: device_del() is removing it
  if (dev->driver != nullptr) return -EBUSY;
  if (!drv_matches(dev, drv)) return -ENODEV;
  {
    MutexGuard bg(&drv->bus->lock);
    if (std::find(drv->bus->drivers.begin(), drv->bus->drivers.end(), drv) ==
        drv->bus->drivers.end())
      return -ENODEV;
  }
  return really_probe(dev, drv);
}

void device_release_driver(device* dev) {
  MutexGuard g(&dev->mutex);
  release_driver_locked(dev);
}

device* bus_find_device_by_name(bus_type* bus, const char* name) {
  MutexGuard g(&bus->lock);
  for (device* d : bus->devices)
    if (d->name == name) return get_device(d);
  return nullptr;
}

device_driver* bus_find_driver_by_name(bus_type* bus, const char* name) {
  MutexGuard g(&bus->lock);
  for (device_driver* d : bus->drivers)
    if (std::string(d->name) == name) return d;
  return nullptr;
}

int devm_add_action(device* dev, void (*action)(device*, void*), void* data, const char* name) {
  if (int err = fault_point("devres_alloc", name != nullptr ? name : "", -ENOMEM)) return err;
  SpinGuard g(&dev->devres_lock);
  dev->devres.push_back(devres_node{action, data, name});
  return 0;
}

void devres_release_all(device* dev) {
  for (;;) {
    devres_node node;
    {
      SpinGuard g(&dev->devres_lock);
      if (dev->devres.empty()) return;
      node = dev->devres.back();
      dev->devres.pop_back();
    }
    // Outside the spinlock: a devres action may sleep (free_irq does).
    node.release(dev, node.data);
  }
}

}  // namespace mcf
