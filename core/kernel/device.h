// The driver core, after include/linux/device.h and drivers/base/{core,dd,bus,devres}.c.
//
// struct device is counted (its kobject's kref). The last put_device() calls
// dev->release(), which frees the memory that embeds the device; a device
// without a release callback is a WARN, as upstream.
//
// Binding: a bus matches devices with drivers; probe runs with the device lock
// held, and so does remove. Unbinding (sysfs "unbind", driver unregistration,
// device removal) calls remove(), THEN releases every devres entry in reverse
// order of registration: that is the kernel's order and the reason devm memory
// must never be reachable by user space or an IRQ after remove() (R8, R15).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/kernel/container_of.h"
#include "core/kernel/lock.h"
#include "core/kernel/live_objects.h"
#include "core/kernel/refcount.h"
#include "core/kernel/slab.h"

namespace mcf {

using dev_t = uint32_t;
constexpr dev_t MKDEV(unsigned major, unsigned minor) { return (major << 20) | minor; }
constexpr unsigned MAJOR(dev_t d) { return d >> 20; }
constexpr unsigned MINOR(dev_t d) { return d & ((1u << 20) - 1); }

struct bus_type;
struct device_driver;

struct devres_node {
  void (*release)(struct device* dev, void* data);
  void* data;
  const char* name;
};

struct device : Tracked<device> {
  static constexpr const char kObjName[] = "device";

  kref kobj;                       // the kobject's count; release at zero
  std::string name;                // dev_name()
  device* parent = nullptr;        // counted from device_add to device_del
  bus_type* bus = nullptr;
  device_driver* driver = nullptr; // set while bound; guarded by `mutex`
  dev_t devt = 0;                  // non-zero: a /dev node named `name`
  void (*release)(device* dev) = nullptr;
  void* driver_data = nullptr;
  // Between device_add and device_del. Atomic: driver_register() and sysfs
  // bind read it under the device lock while device_del() clears it after
  // dropping that lock (a data race race_fuzzer found under TSan).
  std::atomic<bool> added{false};
  // kill_device(): set by device_del() under `mutex` before it unbinds, so a
  // bind or a driver registration racing with the removal cannot probe the
  // device again once its driver is gone. Guarded by `mutex`.
  bool dead = false;

  // device_lock(): serialises probe, remove, bind and unbind of this device.
  Mutex mutex{"device.mutex"};
  SpinLock devres_lock{"device.devres_lock"};
  std::vector<devres_node> devres ABSL_GUARDED_BY(devres_lock);
};

inline const char* dev_name(const device* dev) { return dev->name.c_str(); }
inline void* dev_get_drvdata(const device* dev) { return dev->driver_data; }
inline void dev_set_drvdata(device* dev, void* data) { dev->driver_data = data; }

void device_initialize(device* dev);
int device_add(device* dev);      // failure point "device_add"
void device_del(device* dev);
int device_register(device* dev);
void device_unregister(device* dev);
device* get_device(device* dev);  // null-safe
void put_device(device* dev);     // null-safe; the last put calls dev->release

struct device_driver {
  const char* name = nullptr;
  bus_type* bus = nullptr;
  int (*probe)(device* dev) = nullptr;
  void (*remove)(device* dev) = nullptr;
};

// A bus. Its lists hold a reference on every device on them.
struct bus_type {
  explicit bus_type(const char* name) : name(name) {}
  const char* name;
  bool (*match)(device* dev, device_driver* drv) = nullptr;
  int (*probe)(device* dev) = nullptr;   // calls the driver's probe
  void (*remove)(device* dev) = nullptr; // calls the driver's remove

  Mutex lock{"bus_type.lock"};
  std::vector<device*> devices ABSL_GUARDED_BY(lock);
  std::vector<device_driver*> drivers ABSL_GUARDED_BY(lock);
};

int driver_register(device_driver* drv);   // binds every matching unbound device
void driver_unregister(device_driver* drv); // unbinds every device it drives

// sysfs "bind": -ENODEV if the driver does not match, -EBUSY if already bound,
// else the probe result.
int device_driver_attach(device_driver* drv, device* dev);
// sysfs "unbind": remove() then devres release. No-op on an unbound device.
void device_release_driver(device* dev);
// Finds a device on `bus` by name and returns it with a reference, or null.
device* bus_find_device_by_name(bus_type* bus, const char* name);
device_driver* bus_find_driver_by_name(bus_type* bus, const char* name);

// devres. Entries are released after remove() returns, newest first.
int devm_add_action(device* dev, void (*action)(device*, void*), void* data, const char* name);
void devres_release_all(device* dev);

template <typename T>
T* devm_kzalloc(device* dev) {
  T* p = kzalloc<T>();
  if (p == nullptr) return nullptr;
  if (devm_add_action(dev, [](device*, void* data) { kfree(static_cast<T*>(data)); }, p,
                      "devm_kzalloc") != 0) {
    kfree(p);
    return nullptr;
  }
  return p;
}

}  // namespace mcf
