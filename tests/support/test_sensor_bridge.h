// Two test-only platform drivers bound through v4l2_async, written the way
// the lifetime rules want such drivers written (R4, R7-R9, R16):
//
//   "mcf-test-sensor.<id>"  a sensor: one sub-device (CAM_SENSOR, one source
//       pad, a node), formats and crop through the pad ops and the ACTIVE
//       state, a streaming register written by s_stream. Registered with
//       v4l2_async_register_subdev(); its async match key is its device name.
//   "mcf-test-bridge.<id>"  a bridge (a CSI-2 receiver): media device,
//       v4l2_device, one receiver sub-device (VID_IF_BRIDGE, sink pad 0,
//       source pad 1, a node) and a notifier waiting for
//       "mcf-test-sensor.<id>".
//         bound:    link sensor:0 -> receiver:0 (ENABLED|IMMUTABLE), and
//                   the bridge starts using the sensor;
//         unbind:   the bridge stops streaming and forgets the sensor (R16);
//         complete: sub-device nodes, then /dev/mediaN (as omap3isp, the
//                   media node appears only once the sensor is bound).
//
// Memory: the sensor's struct is freed by its sub-device's release (R4), the
// bridge's by its media device's release, the single gatekeeper after the
// v4l2_device, the receiver and every node let go of it (R9). remove() only
// unregisters and drops the driver's own references (R8): no devm anywhere.
#pragma once

#include <linux/media-bus-format.h>

#include <atomic>
#include <string>

#include "core/kernel/platform.h"
#include "core/mc/media_device.h"
#include "core/v4l2/v4l2_async.h"
#include "core/v4l2/v4l2_device.h"
#include "core/v4l2/v4l2_subdev.h"

namespace mcf::testing {

constexpr const char kTestSensorDriverName[] = "mcf-test-sensor";
constexpr const char kTestBridgeDriverName[] = "mcf-test-bridge";

// The sensor's pixel array and formats.
constexpr uint32_t kSensorWidth = 2592;
constexpr uint32_t kSensorHeight = 1944;
constexpr uint32_t kSensorMinSize = 32;
constexpr uint32_t kSensorCodes[] = {MEDIA_BUS_FMT_SGRBG10_1X10, MEDIA_BUS_FMT_SGRBG8_1X8};
// Sensor registers (byte offsets).
constexpr uint32_t kSensorRegReset = 0x0;
constexpr uint32_t kSensorRegStream = 0x4;

struct test_sensor : Tracked<test_sensor> {
  static constexpr const char kObjName[] = "test_sensor";
  platform_device* pdev = nullptr;  // referenced until the release: regs live in it
  iomem* regs = nullptr;            // accessed only while bound (R15)
  v4l2_subdev sd;
  media_pad pad;
  std::atomic<int> s_stream_calls{0};
  std::atomic<int> streaming{0};
};

struct test_bridge : Tracked<test_bridge> {
  static constexpr const char kObjName[] = "test_bridge";
  platform_device* pdev = nullptr;
  media_device mdev;
  v4l2_device v4l2_dev;
  v4l2_subdev receiver;
  media_pad receiver_pads[2];
  v4l2_async_notifier notifier;
  // Guards the bridge's use of its sensor. Taken in the async callbacks
  // (under v4l2_async.list_lock) and around every call into the sensor.
  Mutex lock{"test_bridge.lock"};
  v4l2_subdev* sensor ABSL_GUARDED_BY(lock) = nullptr;  // bound sensor, or null
  bool streaming ABSL_GUARDED_BY(lock) = false;
  std::atomic<int> bound_calls{0};
  std::atomic<int> unbind_calls{0};
  std::atomic<int> complete_calls{0};
};

int test_sensor_driver_register();
void test_sensor_driver_unregister();
int test_bridge_driver_register();
void test_bridge_driver_unregister();

// Adds the platform device (probed if its driver is registered); returns it
// with the caller's reference (platform_device_unregister drops it).
platform_device* test_sensor_add(int id);
platform_device* test_bridge_add(int id);

// Driver data of a bound device, or null.
test_sensor* test_sensor_drvdata(platform_device* pdev);
test_bridge* test_bridge_drvdata(platform_device* pdev);

// What a bridge does with its sensor, done right: under bridge->lock, and
// -ENODEV once the sensor was unbound (R16).
int test_bridge_s_stream(test_bridge* bridge, int enable);
int test_bridge_sensor_get_fmt(test_bridge* bridge, v4l2_mbus_framefmt* fmt);
// The bound sensor, or null (for tests that need the pointer).
v4l2_subdev* test_bridge_sensor(test_bridge* bridge);

// "/dev/v4l-subdevN" of a sub-device's registered node, or "".
std::string subdev_node_path(v4l2_subdev* sd);
// "/dev/mediaN" of a registered media device, or "".
std::string media_node_path(media_device* mdev);

// Structs freed so far by their release callbacks.
int test_sensor_released_count();
int test_bridge_released_count();

}  // namespace mcf::testing
