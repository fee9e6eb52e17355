// A small test-only platform driver with a media device, written the way the
// lifetime rules want a driver written (R2, R3, R5, R8, R9):
//
//   "Source" (CAM_SENSOR, 1 source pad)
//        | pad link, ENABLED|IMMUTABLE
//   "Proc"   (PROC_VIDEO_SCALER, sink pad 0, source pad 1, link_validate)
//        | pad link, 0 (toggled by SETUP_LINK)
//   "Sink"   (IO_V4L, 1 sink pad)  <- interface link from a V4L_VIDEO devnode
//   "Lens"   (LENS, no pads)       <- ancillary link from Source
//
// Everything lives in one kzalloc'd struct (test_media_drv) whose memory is
// freed only by the media device's release (R9), after every entity and
// interface released its media-device reference (R3, R5). remove() only
// unregisters and drops the driver's own references (R8).
#pragma once

#include <atomic>

#include "core/kernel/platform.h"
#include "core/mc/media_device.h"

namespace mcf::testing {

constexpr const char kTestMediaDriverName[] = "mcf-test-media";

struct test_media_drv : Tracked<test_media_drv> {
  static constexpr const char kObjName[] = "test_media_drv";
  platform_device* pdev = nullptr;
  media_device mdev;
  media_entity source, proc, sink, lens;
  media_pad source_pads[1];
  media_pad proc_pads[2];
  media_pad sink_pads[1];
  media_intf_devnode* intf = nullptr;
  // link_validate's answer for Proc's sink link (0 or a negative errno).
  std::atomic<int> validate_result{0};
};

// Registers the platform driver (idempotent per process: call unregister).
int test_media_driver_register();
void test_media_driver_unregister();

// Adds the platform device "mcf-test-media.<id>" (probed if the driver is
// registered). Returns the device with the caller's reference.
platform_device* test_media_device_add(int id);

// The driver data of a bound device, or null.
test_media_drv* test_media_drvdata(platform_device* pdev);

// Number of test_media_drv structs freed so far (by the media device release).
int test_media_released_count();

}  // namespace mcf::testing
