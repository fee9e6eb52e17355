// The driver table: see driver_table.h. One row per driver model.
#include "drivers/driver_table.h"

#include "drivers/vimc/vimc.h"

namespace mcf {

const std::vector<driver_desc>& driver_table() {
  static const std::vector<driver_desc> table = {
      // Rows are added by each driver's folder; keep the order stable.
      {"vimc", "virtual media controller: upstream vimc topology, frame timer on IRQ 0",
       vimc_driver_register, vimc_driver_unregister, vimc_device_add},
  };
  return table;
}

const driver_desc* find_driver(const std::string& name) {
  for (const driver_desc& d : driver_table())
    if (name == d.name) return &d;
  return nullptr;
}

}  // namespace mcf
