// Platform bus: see platform.h.
#include "core/kernel/platform.h"

#include <cerrno>
#include <cstring>

namespace mcf {
namespace {

platform_driver* to_platform_driver(device_driver* d) {
  return container_of(d, platform_driver, driver);
}

bool platform_match(device* dev, device_driver* drv) {
  return to_platform_device(dev)->name == drv->name;
}

int platform_probe(device* dev) {
  platform_device* pdev = to_platform_device(dev);
  platform_driver* drv = to_platform_driver(dev->driver);
  pdev->hw->live.store(true, std::memory_order_release);
  int ret = drv->probe ? drv->probe(pdev) : 0;
  if (ret != 0) pdev->hw->live.store(false, std::memory_order_release);
  return ret;
}

void platform_remove(device* dev) {
  platform_device* pdev = to_platform_device(dev);
  platform_driver* drv = to_platform_driver(dev->driver);
  if (drv->remove) drv->remove(pdev);
  // remove() has returned: from here on the hardware is off limits (R15),
  // including for devres actions that run next.
  pdev->hw->live.store(false, std::memory_order_release);
}

// Who calls it: the last put_device() of the platform device.
void platform_device_release(device* dev) {
  platform_device* pdev = to_platform_device(dev);
  for (int irq : pdev->irqs) irq_line_free(irq);
  kfree(pdev);
}

}  // namespace

bus_type platform_bus_type("platform");

namespace {
// Wires the bus callbacks once; bus_type holds locks, so it is built in place.
struct PlatformBusInit {
  PlatformBusInit() {
    platform_bus_type.match = platform_match;
    platform_bus_type.probe = platform_probe;
    platform_bus_type.remove = platform_remove;
  }
} platform_bus_init;
}  // namespace

platform_device* platform_device_register_simple(const char* name, int id, int num_irqs,
                                                 size_t num_regs) {
  platform_device* pdev = kzalloc<platform_device>();
  if (pdev == nullptr) return nullptr;
  pdev->name = name;
  pdev->id = id;
  device_initialize(&pdev->dev);
  pdev->dev.name = id == PLATFORM_DEVID_NONE ? pdev->name : pdev->name + "." + std::to_string(id);
  pdev->dev.bus = &platform_bus_type;
  pdev->dev.release = platform_device_release;
  pdev->hw = std::make_shared<hw_state>(pdev->dev.name);
  for (int i = 0; i < num_irqs; ++i) pdev->irqs.push_back(irq_line_alloc(pdev->hw));
  if (num_regs > 0) pdev->regs = std::make_unique<iomem>(pdev->hw, num_regs);
  if (device_add(&pdev->dev) != 0) {
    put_device(&pdev->dev);
    return nullptr;
  }
  return pdev;
}

void platform_device_unregister(platform_device* pdev) {
  if (pdev == nullptr) return;
  device_del(&pdev->dev);
  put_device(&pdev->dev);
}

int platform_get_irq(platform_device* pdev, unsigned index) {
  return index < pdev->irqs.size() ? pdev->irqs[index] : -ENXIO;
}

iomem* platform_get_iomem(platform_device* pdev) { return pdev->regs.get(); }

int platform_driver_register(platform_driver* drv) {
  drv->driver.bus = &platform_bus_type;
  return driver_register(&drv->driver);
}

void platform_driver_unregister(platform_driver* drv) { driver_unregister(&drv->driver); }

platform_device* platform_find_device(const char* dev_name) {
  device* dev = bus_find_device_by_name(&platform_bus_type, dev_name);
  return dev ? to_platform_device(dev) : nullptr;
}

}  // namespace mcf
