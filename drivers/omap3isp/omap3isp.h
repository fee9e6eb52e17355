// The omap3isp driver model and its camera sensor: the public face used by
// drivers/driver_table.cc, the fuzzers and the tests. The model itself is
// described in drivers/omap3isp/isp.h (ISP) and mcf_sensor.h (sensor).
//
// Two platform drivers on two devices, each with its own schedule:
//   "omap3isp.<N>"    the ISP: one IRQ line, OMAP3_ISP_NUM_REGS registers.
//   "mcf-sensor.<N>"  a generic raw Bayer camera sensor (one source pad, a
//                     sub-device node), registered with v4l2_async.
//
// Match key: the ISP "omap3isp.<N>" waits, in its v4l2_async notifier, for
// the sub-device whose async match key is "mcf-sensor.<N>" — the sensor
// device's name, which is the key the sensor registers with (v4l2_async's
// default, standing in for the device-tree endpoint). So sensor N binds to
// ISP N, whichever probes first, and to nothing else. With id -1
// (PLATFORM_DEVID_NONE) the names are "omap3isp" and "mcf-sensor".
#pragma once

#include <string>

#include "core/kernel/platform.h"

namespace mcf {

constexpr char kOmap3ispDriverName[] = "omap3isp";
constexpr char kMcfSensorDriverName[] = "mcf-sensor";

int omap3isp_driver_register();
void omap3isp_driver_unregister();
int mcf_sensor_driver_register();
void mcf_sensor_driver_unregister();

// Add the platform devices (probed at once if their driver is registered);
// each is returned with the caller's reference (platform_device_unregister
// drops it). Null on failure.
platform_device* omap3isp_device_add(int id);
platform_device* mcf_sensor_device_add(int id);

// The async match key ISP `isp_id` waits for: "mcf-sensor.<isp_id>".
std::string omap3isp_sensor_match_key(int isp_id);

// The "device tree" of ISP `isp_id`: the receiver its sensor endpoint is
// wired to, read at probe. 0 = CSI2a through CSIPHY2 (the default),
// 1 = CCP2 through CSIPHY1, 2 = the CCDC's parallel input.
enum omap3isp_endpoint { OMAP3ISP_EP_CSI2A = 0, OMAP3ISP_EP_CCP2 = 1, OMAP3ISP_EP_PARALLEL = 2 };
void omap3isp_set_endpoint(int isp_id, omap3isp_endpoint ep);

}  // namespace mcf
