// Platform bus, after include/linux/platform_device.h and drivers/base/platform.c.
//
// A platform device carries simulated hardware: IRQ lines and one register
// block (hw.h). The bus marks the hardware live just before the driver's
// probe() and dead as soon as its remove() returns, before devres runs.
//
// Lifetime: platform_device_register_simple() returns the device with one
// reference (the caller's); platform_device_unregister() unbinds, removes it
// and drops that reference. The memory goes at the last put_device(), so a
// bridge or a test may keep a reference longer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/kernel/device.h"
#include "core/kernel/hw.h"

namespace mcf {

extern bus_type platform_bus_type;

struct platform_device : Tracked<platform_device> {
  static constexpr const char kObjName[] = "platform_device";
  device dev;
  std::string name;  // matched against the driver's name
  int id = -1;       // -1: PLATFORM_DEVID_NONE, device named "<name>"
  std::shared_ptr<hw_state> hw;
  std::vector<int> irqs;
  std::unique_ptr<iomem> regs;
};

constexpr int PLATFORM_DEVID_NONE = -1;

inline platform_device* to_platform_device(device* d) {
  return container_of(d, platform_device, dev);
}

// Creates and adds "<name>.<id>" with `num_irqs` IRQ lines and `num_regs`
// registers; binds a matching registered driver. Null on failure.
platform_device* platform_device_register_simple(const char* name, int id, int num_irqs,
                                                 size_t num_regs);
void platform_device_unregister(platform_device* pdev);

inline void* platform_get_drvdata(platform_device* pdev) { return dev_get_drvdata(&pdev->dev); }
inline void platform_set_drvdata(platform_device* pdev, void* data) {
  dev_set_drvdata(&pdev->dev, data);
}

// The IRQ number of line `index`, or -ENXIO.
int platform_get_irq(platform_device* pdev, unsigned index);
// The register block, or null if the device has none.
iomem* platform_get_iomem(platform_device* pdev);

struct platform_driver {
  int (*probe)(platform_device* pdev) = nullptr;
  void (*remove)(platform_device* pdev) = nullptr;
  device_driver driver;
};

int platform_driver_register(platform_driver* drv);
void platform_driver_unregister(platform_driver* drv);

// Looks a platform device up by device name ("vimc.0"), with a reference.
platform_device* platform_find_device(const char* dev_name);

}  // namespace mcf
