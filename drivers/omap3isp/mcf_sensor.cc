// The generic camera sensor of the omap3isp model: see mcf_sensor.h.
#include "drivers/omap3isp/mcf_sensor.h"

#include <linux/media-bus-format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "core/kernel/slab.h"
#include "core/v4l2/v4l2_async.h"
#include "drivers/omap3isp/omap3isp.h"

namespace mcf {
namespace {

std::atomic<int> g_released{0};

const uint32_t mcf_sensor_codes[] = {MEDIA_BUS_FMT_SGRBG10_1X10, MEDIA_BUS_FMT_SGRBG10_DPCM8_1X8,
                                     MEDIA_BUS_FMT_SGRBG8_1X8};

mcf_sensor* to_sensor(v4l2_subdev* sd) { return container_of(sd, mcf_sensor, sd); }

bool code_supported(uint32_t code) {
  return std::find(std::begin(mcf_sensor_codes), std::end(mcf_sensor_codes), code) !=
         std::end(mcf_sensor_codes);
}

// The output of a crop rectangle: binned by 1, 2 or 4, whichever is
// closest to the request from above, even, at least the minimum.
uint32_t binned(uint32_t want, uint32_t crop) {
  uint32_t out = crop;
  for (uint32_t bin : {2u, 4u})
    if (want <= crop / bin && crop / bin >= kMcfSensorMinSize) out = crop / bin;
  return std::max(out & ~1u, kMcfSensorMinSize);
}

void fill_format(v4l2_mbus_framefmt* fmt, uint32_t code, uint32_t width, uint32_t height) {
  *fmt = {};
  fmt->code = code;
  fmt->width = width;
  fmt->height = height;
  fmt->field = V4L2_FIELD_NONE;
  fmt->colorspace = V4L2_COLORSPACE_SRGB;
}

int sensor_init_state(v4l2_subdev* sd, v4l2_subdev_state* state) {
  *v4l2_subdev_state_get_crop(state, 0) = {0, 0, kMcfSensorWidth, kMcfSensorHeight};
  fill_format(v4l2_subdev_state_get_format(state, 0), mcf_sensor_codes[0], kMcfSensorWidth,
              kMcfSensorHeight);
  return 0;
}

int sensor_enum_mbus_code(v4l2_subdev* sd, v4l2_subdev_state* state,
                          v4l2_subdev_mbus_code_enum* code) {
  if (code->index >= std::size(mcf_sensor_codes)) return -EINVAL;
  code->code = mcf_sensor_codes[code->index];
  return 0;
}

int sensor_enum_frame_size(v4l2_subdev* sd, v4l2_subdev_state* state,
                           v4l2_subdev_frame_size_enum* fse) {
  if (fse->index != 0 || !code_supported(fse->code)) return -EINVAL;
  fse->min_width = kMcfSensorMinSize;
  fse->min_height = kMcfSensorMinSize;
  fse->max_width = kMcfSensorWidth;
  fse->max_height = kMcfSensorHeight;
  return 0;
}

int sensor_set_fmt(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* format) {
  // The ACTIVE format cannot change under a running stream.
  if (format->which == V4L2_SUBDEV_FORMAT_ACTIVE && to_sensor(sd)->streaming.load() != 0)
    return -EBUSY;
  const v4l2_rect* crop = v4l2_subdev_state_get_crop(state, format->pad);
  v4l2_mbus_framefmt* fmt = v4l2_subdev_state_get_format(state, format->pad);
  uint32_t code = code_supported(format->format.code) ? format->format.code : mcf_sensor_codes[0];
  fill_format(fmt, code, binned(format->format.width, crop->width),
              binned(format->format.height, crop->height));
  format->format = *fmt;
  return 0;
}

int sensor_get_selection(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_selection* sel) {
  switch (sel->target) {
    case V4L2_SEL_TGT_CROP_BOUNDS:
    case V4L2_SEL_TGT_CROP_DEFAULT:
    case V4L2_SEL_TGT_NATIVE_SIZE:
      sel->r = {0, 0, kMcfSensorWidth, kMcfSensorHeight};
      return 0;
    case V4L2_SEL_TGT_CROP:
      sel->r = *v4l2_subdev_state_get_crop(state, sel->pad);
      return 0;
    default:
      return -EINVAL;
  }
}

int sensor_set_selection(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_selection* sel) {
  if (sel->target != V4L2_SEL_TGT_CROP) return -EINVAL;
  if (sel->which == V4L2_SUBDEV_FORMAT_ACTIVE && to_sensor(sd)->streaming.load() != 0)
    return -EBUSY;
  uint32_t left = static_cast<uint32_t>(std::max(sel->r.left, 0)) & ~1u;
  uint32_t top = static_cast<uint32_t>(std::max(sel->r.top, 0)) & ~1u;
  left = std::min(left, kMcfSensorWidth - kMcfSensorMinSize);
  top = std::min(top, kMcfSensorHeight - kMcfSensorMinSize);
  v4l2_rect r;
  r.left = static_cast<int32_t>(left);
  r.top = static_cast<int32_t>(top);
  r.width = std::clamp(sel->r.width, kMcfSensorMinSize, kMcfSensorWidth - left) & ~1u;
  r.height = std::clamp(sel->r.height, kMcfSensorMinSize, kMcfSensorHeight - top) & ~1u;
  *v4l2_subdev_state_get_crop(state, sel->pad) = r;
  // A new crop resets the output to it.
  v4l2_mbus_framefmt* fmt = v4l2_subdev_state_get_format(state, sel->pad);
  fmt->width = r.width;
  fmt->height = r.height;
  sel->r = r;
  return 0;
}

// Called by the bridge (the ISP pipeline) while the sensor is bound, and by
// the bridge's unbind to stop it (R16).
int sensor_s_stream(v4l2_subdev* sd, int enable) {
  mcf_sensor* sensor = to_sensor(sd);
  // Under the state lock: set_fmt sees the stream either stopped or running.
  v4l2_subdev_state* state = v4l2_subdev_lock_and_get_active_state(sd);
  if (enable != 0) {
    const v4l2_mbus_framefmt* fmt = v4l2_subdev_state_get_format(state, 0);
    writel(fmt->width, sensor->regs, MCF_SENSOR_REG_WIDTH);
    writel(fmt->height, sensor->regs, MCF_SENSOR_REG_HEIGHT);
  }
  writel(enable != 0 ? 1 : 0, sensor->regs, MCF_SENSOR_REG_STREAM);
  sensor->streaming.store(enable != 0 ? 1 : 0);
  v4l2_subdev_unlock_state(state);
  sensor->s_stream_calls.fetch_add(1);
  return 0;
}

// Who calls it: the sub-device's entity release, at the last reference,
// after remove() (and after the ISP let go of it), in any order.
void sensor_release(v4l2_subdev* sd) {
  mcf_sensor* sensor = to_sensor(sd);
  platform_device* pdev = sensor->pdev;
  kfree(sensor);
  put_device(&pdev->dev);  // taken at probe
  g_released.fetch_add(1);
}

const v4l2_subdev_pad_ops sensor_pad_ops = {
    .enum_mbus_code = sensor_enum_mbus_code,
    .enum_frame_size = sensor_enum_frame_size,
    .get_fmt = v4l2_subdev_get_fmt,
    .set_fmt = sensor_set_fmt,
    .get_selection = sensor_get_selection,
    .set_selection = sensor_set_selection,
};
const v4l2_subdev_video_ops sensor_video_ops = {.s_stream = sensor_s_stream};
const v4l2_subdev_ops sensor_ops = {.video = &sensor_video_ops, .pad = &sensor_pad_ops};
const v4l2_subdev_internal_ops sensor_internal_ops = {
    .init_state = sensor_init_state,
    .release = sensor_release,
};

int sensor_probe(platform_device* pdev) {
  iomem* regs = platform_get_iomem(pdev);
  if (regs == nullptr || regs->regs.size() < MCF_SENSOR_NUM_REGS) return -ENODEV;
  mcf_sensor* sensor = kzalloc<mcf_sensor>();
  if (sensor == nullptr) return -ENOMEM;
  sensor->pdev = pdev;
  get_device(&pdev->dev);  // put by sensor_release
  sensor->regs = regs;
  // 1. The sub-device: from here the struct is freed by its release (R4).
  v4l2_subdev* sd = &sensor->sd;
  v4l2_subdev_init(sd, &sensor_ops);  // the driver's reference
  sd->internal_ops = &sensor_internal_ops;
  sd->dev = &pdev->dev;
  sd->flags |= V4L2_SUBDEV_FL_HAS_DEVNODE;
  std::snprintf(sd->name, sizeof(sd->name), "%s", dev_name(&pdev->dev));
  sd->entity.function = MEDIA_ENT_F_CAM_SENSOR;
  sensor->pad.flags = MEDIA_PAD_FL_SOURCE;
  int ret = media_entity_pads_init(&sd->entity, 1, &sensor->pad);
  if (ret == 0) ret = v4l2_subdev_init_finalize(sd);
  if (ret != 0) goto err_put;
  // 2. The hardware (live during probe).
  writel(1, sensor->regs, MCF_SENSOR_REG_RESET);
  writel(0, sensor->regs, MCF_SENSOR_REG_STREAM);
  platform_set_drvdata(pdev, sensor);
  // 3. Available to the ISP: binds now if it waits, else when it comes.
  //    The match key is the device name (omap3isp.h).
  ret = v4l2_async_register_subdev(sd);
  if (ret != 0) {
    platform_set_drvdata(pdev, nullptr);
    goto err_put;
  }
  return 0;

err_put:
  v4l2_subdev_put(sd);  // the last: sensor_release frees it
  return ret;
}

// R8: unbound from the ISP (its unbind stops and forgets us, R16), then our
// reference goes. The memory stays while a file or the ISP's graph holds it.
void sensor_remove(platform_device* pdev) {
  mcf_sensor* sensor = mcf_sensor_drvdata(pdev);
  v4l2_async_unregister_subdev(&sensor->sd);
  platform_set_drvdata(pdev, nullptr);
  v4l2_subdev_put(&sensor->sd);
}

platform_driver make_sensor_driver() {
  platform_driver d;
  d.probe = sensor_probe;
  d.remove = sensor_remove;
  d.driver.name = kMcfSensorDriverName;
  return d;
}
platform_driver g_sensor_driver = make_sensor_driver();

}  // namespace

int mcf_sensor_driver_register() { return platform_driver_register(&g_sensor_driver); }
void mcf_sensor_driver_unregister() { platform_driver_unregister(&g_sensor_driver); }

platform_device* mcf_sensor_device_add(int id) {
  return platform_device_register_simple(kMcfSensorDriverName, id, 0, MCF_SENSOR_NUM_REGS);
}

mcf_sensor* mcf_sensor_drvdata(platform_device* pdev) {
  return static_cast<mcf_sensor*>(platform_get_drvdata(pdev));
}

int mcf_sensor_released_count() { return g_released.load(); }

}  // namespace mcf
