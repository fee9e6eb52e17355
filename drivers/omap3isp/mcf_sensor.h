// "mcf-sensor": a generic raw Bayer camera sensor driver for the omap3isp
// model (in the spirit of et8ek8 or mt9p031, without their registers).
//
// A platform driver of its own, on its own device "mcf-sensor.<N>", probed on
// its own schedule: one v4l2_subdev (MEDIA_ENT_F_CAM_SENSOR, one source pad,
// a sub-device node) registered with v4l2_async_register_subdev() under the
// async match key "mcf-sensor.<N>" (its device name), which ISP N waits for
// (omap3isp.h).
//
// Pixel array 2592x1944; output SGRBG10_1X10 (default), SGRBG10_DPCM8_1X8 or
// SGRBG8_1X8, the crop rectangle binned by 1, 2 or 4 (even sizes, at least
// 32x32). Registers: reset, stream, width, height; s_stream writes them, so
// a call after the sensor's remove() returned is reported (R15, R16).
//
// Lifetime (R4, R7, R8): the struct embeds the sub-device, its pad and its
// node; it is freed by the sub-device's release, at the last reference
// (the driver's, a file's, the ISP's graph registration, a walker). remove()
// unregisters from v4l2_async (the ISP's unbind runs first, R16) and drops
// the driver's reference. No devm.
#pragma once

#include <atomic>

#include "core/kernel/platform.h"
#include "core/v4l2/v4l2_subdev.h"

namespace mcf {

constexpr uint32_t kMcfSensorWidth = 2592;
constexpr uint32_t kMcfSensorHeight = 1944;
constexpr uint32_t kMcfSensorMinSize = 32;
// Registers (byte offsets).
constexpr uint32_t MCF_SENSOR_REG_RESET = 0x0;
constexpr uint32_t MCF_SENSOR_REG_STREAM = 0x4;
constexpr uint32_t MCF_SENSOR_REG_WIDTH = 0x8;
constexpr uint32_t MCF_SENSOR_REG_HEIGHT = 0xc;
constexpr size_t MCF_SENSOR_NUM_REGS = 4;

struct mcf_sensor : Tracked<mcf_sensor> {
  static constexpr const char kObjName[] = "mcf_sensor";
  platform_device* pdev = nullptr;  // referenced until the release: regs live in it
  iomem* regs = nullptr;            // accessed only while bound (R15)
  v4l2_subdev sd;
  media_pad pad;
  std::atomic<int> streaming{0};
  std::atomic<int> s_stream_calls{0};
};

// The sensor of a bound device, or null.
mcf_sensor* mcf_sensor_drvdata(platform_device* pdev);
// Sensor structs freed so far by their release.
int mcf_sensor_released_count();

}  // namespace mcf
