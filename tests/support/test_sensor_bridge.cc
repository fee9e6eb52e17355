// The test-only sensor and bridge drivers: see test_sensor_bridge.h.
#include "tests/support/test_sensor_bridge.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "core/kernel/slab.h"

namespace mcf::testing {
namespace {

std::atomic<int> g_sensor_released{0};
std::atomic<int> g_bridge_released{0};

bool sensor_code_supported(uint32_t code) {
  return std::find(std::begin(kSensorCodes), std::end(kSensorCodes), code) !=
         std::end(kSensorCodes);
}

uint32_t clamp_even(uint32_t v, uint32_t lo, uint32_t hi) {
  return std::clamp(v, lo, hi) & ~1u;
}

void default_format(v4l2_mbus_framefmt* fmt, uint32_t width, uint32_t height) {
  *fmt = {};
  fmt->width = width;
  fmt->height = height;
  fmt->code = kSensorCodes[0];
  fmt->field = V4L2_FIELD_NONE;
  fmt->colorspace = V4L2_COLORSPACE_SRGB;
}

// ---------------------------------------------------------------------------
// The sensor.

test_sensor* to_sensor(v4l2_subdev* sd) { return container_of(sd, test_sensor, sd); }

int sensor_init_state(v4l2_subdev* sd, v4l2_subdev_state* state) {
  default_format(v4l2_subdev_state_get_format(state, 0), kSensorWidth, kSensorHeight);
  *v4l2_subdev_state_get_crop(state, 0) = {0, 0, kSensorWidth, kSensorHeight};
  return 0;
}

int sensor_enum_mbus_code(v4l2_subdev* sd, v4l2_subdev_state* state,
                          v4l2_subdev_mbus_code_enum* code) {
  if (code->index >= std::size(kSensorCodes)) return -EINVAL;
  code->code = kSensorCodes[code->index];
  return 0;
}

int sensor_enum_frame_size(v4l2_subdev* sd, v4l2_subdev_state* state,
                           v4l2_subdev_frame_size_enum* fse) {
  if (fse->index != 0 || !sensor_code_supported(fse->code)) return -EINVAL;
  fse->min_width = kSensorMinSize;
  fse->min_height = kSensorMinSize;
  fse->max_width = kSensorWidth;
  fse->max_height = kSensorHeight;
  return 0;
}

int sensor_set_fmt(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* format) {
  v4l2_mbus_framefmt* fmt = v4l2_subdev_state_get_format(state, format->pad);
  const v4l2_rect* crop = v4l2_subdev_state_get_crop(state, format->pad);
  // The output is the crop rectangle, binned down at most to the minimum.
  uint32_t code = sensor_code_supported(format->format.code) ? format->format.code : kSensorCodes[0];
  default_format(fmt, clamp_even(format->format.width, kSensorMinSize, crop->width),
                 clamp_even(format->format.height, kSensorMinSize, crop->height));
  fmt->code = code;
  format->format = *fmt;
  return 0;
}

int sensor_get_selection(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_selection* sel) {
  switch (sel->target) {
    case V4L2_SEL_TGT_CROP_BOUNDS:
    case V4L2_SEL_TGT_CROP_DEFAULT:
      sel->r = {0, 0, kSensorWidth, kSensorHeight};
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
  v4l2_rect r;
  r.left = static_cast<int32_t>(
      clamp_even(static_cast<uint32_t>(std::max(sel->r.left, 0)), 0, kSensorWidth - kSensorMinSize));
  r.top = static_cast<int32_t>(
      clamp_even(static_cast<uint32_t>(std::max(sel->r.top, 0)), 0, kSensorHeight - kSensorMinSize));
  r.width = clamp_even(sel->r.width, kSensorMinSize, kSensorWidth - static_cast<uint32_t>(r.left));
  r.height = clamp_even(sel->r.height, kSensorMinSize, kSensorHeight - static_cast<uint32_t>(r.top));
  *v4l2_subdev_state_get_crop(state, sel->pad) = r;
  // A new crop resets the output size to it (as mt9p031).
  v4l2_mbus_framefmt* fmt = v4l2_subdev_state_get_format(state, sel->pad);
  fmt->width = r.width;
  fmt->height = r.height;
  sel->r = r;
  return 0;
}

int sensor_s_stream(v4l2_subdev* sd, int enable) {
  test_sensor* sensor = to_sensor(sd);
  // Hardware: reported if the sensor's remove() already returned (R15).
  writel(enable ? 1 : 0, sensor->regs, kSensorRegStream);
  sensor->streaming.store(enable ? 1 : 0);
  sensor->s_stream_calls.fetch_add(1);
  return 0;
}

// Who calls it: the sub-device's entity release, at the last reference (the
// driver's, a file's, the bridge's graph...), after remove() in any order.
void sensor_release(v4l2_subdev* sd) {
  test_sensor* sensor = to_sensor(sd);
  platform_device* pdev = sensor->pdev;
  kfree(sensor);
  put_device(&pdev->dev);  // taken at probe
  g_sensor_released.fetch_add(1);
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
  test_sensor* sensor = kzalloc<test_sensor>();
  if (sensor == nullptr) return -ENOMEM;
  sensor->pdev = pdev;
  get_device(&pdev->dev);  // put by sensor_release
  sensor->regs = platform_get_iomem(pdev);
  v4l2_subdev* sd = &sensor->sd;
  v4l2_subdev_init(sd, &sensor_ops);  // the driver's reference (R4)
  sd->internal_ops = &sensor_internal_ops;
  sd->dev = &pdev->dev;
  sd->flags |= V4L2_SUBDEV_FL_HAS_DEVNODE;
  std::snprintf(sd->name, sizeof(sd->name), "%s", dev_name(&pdev->dev));
  sd->entity.function = MEDIA_ENT_F_CAM_SENSOR;
  sensor->pad.flags = MEDIA_PAD_FL_SOURCE;
  media_entity_pads_init(&sd->entity, 1, &sensor->pad);
  int ret = v4l2_subdev_init_finalize(sd);
  if (ret != 0) goto err_put;
  writel(1, sensor->regs, kSensorRegReset);  // the hardware is live during probe
  platform_set_drvdata(pdev, sensor);
  // Binds now if the bridge is waiting, else when it comes.
  ret = v4l2_async_register_subdev(sd);
  if (ret != 0) goto err_put;
  return 0;

err_put:
  v4l2_subdev_put(sd);  // the last: sensor_release frees it
  return ret;
}

// R8: unregister (the bridge's unbind runs, R16), drop our reference. The
// memory stays while a file, the bridge or a graph walker holds the entity.
void sensor_remove(platform_device* pdev) {
  test_sensor* sensor = test_sensor_drvdata(pdev);
  v4l2_async_unregister_subdev(&sensor->sd);
  v4l2_subdev_put(&sensor->sd);
}

// ---------------------------------------------------------------------------
// The bridge's receiver sub-device: sink pad 0, source pad 1 follows it.

int receiver_init_state(v4l2_subdev* sd, v4l2_subdev_state* state) {
  default_format(v4l2_subdev_state_get_format(state, 0), kSensorWidth, kSensorHeight);
  default_format(v4l2_subdev_state_get_format(state, 1), kSensorWidth, kSensorHeight);
  return 0;
}

int receiver_enum_mbus_code(v4l2_subdev* sd, v4l2_subdev_state* state,
                            v4l2_subdev_mbus_code_enum* code) {
  if (code->pad == 1) {
    // The source pad outputs whatever the sink receives.
    if (code->index != 0) return -EINVAL;
    code->code = v4l2_subdev_state_get_format(state, 0)->code;
    return 0;
  }
  if (code->index >= std::size(kSensorCodes)) return -EINVAL;
  code->code = kSensorCodes[code->index];
  return 0;
}

int receiver_set_fmt(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* format) {
  v4l2_mbus_framefmt* sink = v4l2_subdev_state_get_format(state, 0);
  v4l2_mbus_framefmt* source = v4l2_subdev_state_get_format(state, 1);
  if (format->pad == 1) {
    format->format = *source;  // read-only: follows the sink
    return 0;
  }
  uint32_t code = sensor_code_supported(format->format.code) ? format->format.code : kSensorCodes[0];
  default_format(sink, clamp_even(format->format.width, kSensorMinSize, 8192),
                 clamp_even(format->format.height, kSensorMinSize, 8192));
  sink->code = code;
  *source = *sink;
  format->format = *sink;
  return 0;
}

const v4l2_subdev_pad_ops receiver_pad_ops = {
    .enum_mbus_code = receiver_enum_mbus_code,
    .get_fmt = v4l2_subdev_get_fmt,
    .set_fmt = receiver_set_fmt,
};
const v4l2_subdev_ops receiver_ops = {.pad = &receiver_pad_ops};
// No release: the receiver lives in the bridge's struct, freed by the media
// device's release once the receiver's entity let go of it (R9).
const v4l2_subdev_internal_ops receiver_internal_ops = {.init_state = receiver_init_state};

// ---------------------------------------------------------------------------
// The bridge.

test_bridge* notifier_to_bridge(v4l2_async_notifier* n) {
  return container_of(n, test_bridge, notifier);
}

// Runs under v4l2_async.list_lock; `sd` is registered with our v4l2_device.
int bridge_bound(v4l2_async_notifier* n, v4l2_subdev* sd, v4l2_async_connection* asc) {
  test_bridge* bridge = notifier_to_bridge(n);
  if (sd->entity.num_pads < 1) return -EINVAL;
  int ret = media_create_pad_link(&sd->entity, 0, &bridge->receiver.entity, 0,
                                  MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE);
  if (ret != 0) return ret;
  {
    MutexGuard g(&bridge->lock);
    bridge->sensor = sd;
  }
  bridge->bound_calls.fetch_add(1);
  return 0;
}

// R16: the sensor is leaving (or we are). Stop it while we may still call it,
// and forget it: nothing calls it after this returns. The link goes with the
// sensor's entity when it is unregistered next.
void bridge_unbind(v4l2_async_notifier* n, v4l2_subdev* sd, v4l2_async_connection* asc) {
  test_bridge* bridge = notifier_to_bridge(n);
  {
    MutexGuard g(&bridge->lock);
    if (bridge->sensor == sd) {
      if (bridge->streaming) v4l2_subdev_call(sd, video, s_stream, 0);
      bridge->streaming = false;
      bridge->sensor = nullptr;
    }
  }
  bridge->unbind_calls.fetch_add(1);
}

// Every sensor is there: the nodes, then the media device. Runs again when a
// sensor comes back: only what is missing is registered.
int bridge_complete(v4l2_async_notifier* n) {
  test_bridge* bridge = notifier_to_bridge(n);
  bridge->complete_calls.fetch_add(1);
  int ret = v4l2_device_register_subdev_nodes(&bridge->v4l2_dev);
  if (ret != 0) return ret;
  if (!media_devnode_is_registered(&bridge->mdev)) ret = media_device_register(&bridge->mdev);
  return ret;
}

const v4l2_async_notifier_operations bridge_async_ops = {
    .bound = bridge_bound,
    .complete = bridge_complete,
    .unbind = bridge_unbind,
};

// R9: the single gatekeeper. Who calls it: the last media-device reference,
// after the v4l2_device's release, every entity's, interface's and node's.
void bridge_media_release(media_device* mdev) {
  test_bridge* bridge = container_of(mdev, test_bridge, mdev);
  kfree(bridge);
  g_bridge_released.fetch_add(1);
}
const media_device_ops bridge_media_ops = {.release = bridge_media_release};

// Who calls it: the last v4l2_device_put() (the driver's, or the last node's
// release). The v4l2_device held a media-device reference.
void bridge_v4l2_release(v4l2_device* v4l2_dev) {
  test_bridge* bridge = container_of(v4l2_dev, test_bridge, v4l2_dev);
  media_device_put(&bridge->mdev);
}

int bridge_init_receiver(test_bridge* bridge, platform_device* pdev) {
  v4l2_subdev* rx = &bridge->receiver;
  v4l2_subdev_init(rx, &receiver_ops);  // the driver's reference
  rx->internal_ops = &receiver_internal_ops;
  rx->dev = &pdev->dev;
  rx->flags |= V4L2_SUBDEV_FL_HAS_DEVNODE;
  std::snprintf(rx->name, sizeof(rx->name), "%s receiver", dev_name(&pdev->dev));
  rx->entity.function = MEDIA_ENT_F_VID_IF_BRIDGE;
  bridge->receiver_pads[0].flags = MEDIA_PAD_FL_SINK;
  bridge->receiver_pads[1].flags = MEDIA_PAD_FL_SOURCE;
  media_entity_pads_init(&rx->entity, 2, bridge->receiver_pads);
  return v4l2_subdev_init_finalize(rx);
}

int bridge_probe(platform_device* pdev) {
  test_bridge* bridge = kzalloc<test_bridge>();
  if (bridge == nullptr) return -ENOMEM;
  bridge->pdev = pdev;
  // Step 1: the media device (the driver's reference).
  media_device* mdev = &bridge->mdev;
  mdev->dev = &pdev->dev;
  mdev->ops = &bridge_media_ops;
  std::snprintf(mdev->model, sizeof(mdev->model), "MCF TEST BRIDGE");
  std::snprintf(mdev->bus_info, sizeof(mdev->bus_info), "platform:%s", dev_name(&pdev->dev));
  media_device_init(mdev);
  // Step 2: the v4l2_device, holding a media-device reference (R9).
  bridge->v4l2_dev.mdev = mdev;
  int ret = v4l2_device_register(&pdev->dev, &bridge->v4l2_dev);
  if (ret != 0) {
    media_device_put(mdev);
    return ret;
  }
  media_device_get(mdev);
  bridge->v4l2_dev.release = bridge_v4l2_release;
  // Step 3: the receiver.
  ret = bridge_init_receiver(bridge, pdev);
  if (ret == 0) ret = v4l2_device_register_subdev(&bridge->v4l2_dev, &bridge->receiver);
  if (ret != 0) goto err_receiver;
  // Step 4: wait for our sensor; binds (and completes) now if it is there.
  v4l2_async_nf_init(&bridge->notifier);
  bridge->notifier.ops = &bridge_async_ops;
  {
    std::string match = std::string(kTestSensorDriverName) + "." + std::to_string(pdev->id);
    if (v4l2_async_nf_add_match(&bridge->notifier, match.c_str()) == nullptr) {
      ret = -ENOMEM;
      goto err_notifier;
    }
  }
  platform_set_drvdata(pdev, bridge);
  ret = v4l2_async_nf_register(&bridge->v4l2_dev, &bridge->notifier);
  if (ret != 0) goto err_notifier;
  return 0;

  // Unwind in reverse; the memory goes with the last media-device reference.
err_notifier:
  v4l2_async_nf_cleanup(&bridge->notifier);
  media_device_unregister(mdev);
  v4l2_device_unregister(&bridge->v4l2_dev);
err_receiver:
  v4l2_subdev_put(&bridge->receiver);
  v4l2_device_put(&bridge->v4l2_dev);
  media_device_put(mdev);
  return ret;
}

// R8: unregister everything, drop the driver's references. Files on
// /dev/mediaN and on the nodes keep the memory until they close.
void bridge_remove(platform_device* pdev) {
  test_bridge* bridge = test_bridge_drvdata(pdev);
  // 1. The sensor is unbound (our unbind runs) and goes back to waiting.
  v4l2_async_nf_unregister(&bridge->notifier);
  v4l2_async_nf_cleanup(&bridge->notifier);
  // 2. The media node, then our sub-devices and their nodes.
  media_device_unregister(&bridge->mdev);
  v4l2_device_unregister(&bridge->v4l2_dev);
  // 3. Our references.
  v4l2_subdev_put(&bridge->receiver);
  v4l2_device_put(&bridge->v4l2_dev);
  media_device_put(&bridge->mdev);
}

platform_driver make_driver(const char* name, int (*probe)(platform_device*),
                            void (*remove)(platform_device*)) {
  platform_driver d;
  d.probe = probe;
  d.remove = remove;
  d.driver.name = name;
  return d;
}
platform_driver g_sensor_driver = make_driver(kTestSensorDriverName, sensor_probe, sensor_remove);
platform_driver g_bridge_driver = make_driver(kTestBridgeDriverName, bridge_probe, bridge_remove);

}  // namespace

int test_sensor_driver_register() { return platform_driver_register(&g_sensor_driver); }
void test_sensor_driver_unregister() { platform_driver_unregister(&g_sensor_driver); }
int test_bridge_driver_register() { return platform_driver_register(&g_bridge_driver); }
void test_bridge_driver_unregister() { platform_driver_unregister(&g_bridge_driver); }

platform_device* test_sensor_add(int id) {
  return platform_device_register_simple(kTestSensorDriverName, id, 0, 4);
}
platform_device* test_bridge_add(int id) {
  return platform_device_register_simple(kTestBridgeDriverName, id, 1, 16);
}

test_sensor* test_sensor_drvdata(platform_device* pdev) {
  return static_cast<test_sensor*>(dev_get_drvdata(&pdev->dev));
}
test_bridge* test_bridge_drvdata(platform_device* pdev) {
  return static_cast<test_bridge*>(dev_get_drvdata(&pdev->dev));
}

int test_bridge_s_stream(test_bridge* bridge, int enable) {
  MutexGuard g(&bridge->lock);
  if (bridge->sensor == nullptr) return -ENODEV;  // R16: unbound, never called
  int ret = v4l2_subdev_call(bridge->sensor, video, s_stream, enable);
  if (ret == 0) bridge->streaming = enable != 0;
  return ret;
}

int test_bridge_sensor_get_fmt(test_bridge* bridge, v4l2_mbus_framefmt* fmt) {
  MutexGuard g(&bridge->lock);
  if (bridge->sensor == nullptr) return -ENODEV;
  v4l2_subdev_format format = {};
  format.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  format.pad = 0;
  int ret = v4l2_subdev_call(bridge->sensor, pad, get_fmt, nullptr, &format);
  if (ret == 0) *fmt = format.format;
  return ret;
}

v4l2_subdev* test_bridge_sensor(test_bridge* bridge) {
  MutexGuard g(&bridge->lock);
  return bridge->sensor;
}

std::string subdev_node_path(v4l2_subdev* sd) {
  if (!sd->devnode_in_use.load() || !video_is_registered(&sd->devnode)) return "";
  return "/dev/" + sd->devnode.dev.name;
}

std::string media_node_path(media_device* mdev) {
  if (!media_devnode_is_registered(mdev)) return "";
  return "/dev/" + mdev->devnode.dev.name;
}

int test_sensor_released_count() { return g_sensor_released.load(); }
int test_bridge_released_count() { return g_bridge_released.load(); }

}  // namespace mcf::testing
