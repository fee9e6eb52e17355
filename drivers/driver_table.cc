// The driver table: see driver_table.h. One row per driver model.
#include "drivers/driver_table.h"

#include "drivers/omap3isp/omap3isp.h"
#include "drivers/vimc/vimc.h"

namespace mcf {

const std::vector<driver_desc>& driver_table() {
  static const std::vector<driver_desc> table = {
      // Rows are added by each driver's folder; keep the order stable.
      {"vimc", "virtual media controller: upstream vimc topology, frame timer on IRQ 0",
       vimc_driver_register, vimc_driver_unregister, vimc_device_add},
      // ISP N binds sensor N: it waits for the async match key "mcf-sensor.<N>".
      {"omap3isp", "TI OMAP3 ISP: upstream sub-devices and video nodes, sensor bound via v4l2_async",
       omap3isp_driver_register, omap3isp_driver_unregister, omap3isp_device_add},
      {"mcf-sensor", "raw Bayer camera sensor for omap3isp (match key: its name, mcf-sensor.<N>)",
       mcf_sensor_driver_register, mcf_sensor_driver_unregister, mcf_sensor_device_add},
  };
  return table;
}

const driver_desc* find_driver(const std::string& name) {
  for (const driver_desc& d : driver_table())
    if (name == d.name) return &d;
  return nullptr;
}

}  // namespace mcf
