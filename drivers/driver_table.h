// The one table of driver models. The fuzzers, the executor and the tools
// read it; adding a driver is one folder under drivers/ and one row here
// (driver_table.cc). See drivers/README.md.
//
// A row names a platform driver and how to make the platform device it binds
// to. Devices are named "<device_name>.<id>" (or "<device_name>" for id -1),
// as in sysfs, so a program can say bind("vimc.0") / unbind / unplug.
#pragma once

#include <string>
#include <vector>

#include "core/kernel/platform.h"

namespace mcf {

struct driver_desc {
  const char* name;         // the platform driver's name, e.g. "vimc"
  const char* description;  // one line, for --help and reports
  int (*register_driver)();       // platform_driver_register(...)
  void (*unregister_driver)();    // platform_driver_unregister(...)
  // Adds the platform device `id` for this driver (bound at once if the
  // driver is registered). Returns it with the caller's reference, or null.
  platform_device* (*add_device)(int id);
};

// Every driver model, in a fixed order (indices are stable for encodings).
const std::vector<driver_desc>& driver_table();
// The row named `name`, or null.
const driver_desc* find_driver(const std::string& name);

}  // namespace mcf
