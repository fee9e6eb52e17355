// The vimc sensor: a sub-device with one source pad that generates the test
// pattern. Upstream: drivers/media/test-drivers/vimc/vimc-sensor.c.
//
// Formats: any code of the pix map table, 16x16 to 4096x2160 (even sizes),
// default 640x480 RGB888_1X24, field NONE, sRGB. set_fmt(ACTIVE) fails with
// -EBUSY while streaming. s_stream(1) takes the ACTIVE format as the
// "hardware" configuration and allocates the frame; s_stream(0) frees it.
// The frame is generated in the frame IRQ (process_frame).
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "core/kernel/slab.h"
#include "drivers/vimc/vimc_common.h"

namespace mcf {
namespace {

struct vimc_sensor_device : Tracked<vimc_sensor_device> {
  static constexpr const char kObjName[] = "vimc_sensor_device";
  vimc_ent_device ved;
  v4l2_subdev sd;
  media_pad pad;
  // Set under the ACTIVE state's lock by s_stream, so set_fmt(ACTIVE) sees
  // it under the same lock.
  std::atomic<bool> streaming{false};
  // The "hardware" configuration and the frame: written by s_stream(1)
  // before the stream is published to the frame IRQ, read by the IRQ, freed
  // by s_stream(0) after the stream left it (vimc_device.stream_lock orders
  // the three).
  struct {
    const vimc_pix_map* vpix = nullptr;
    unsigned width = 0, height = 0;
  } hw;
  std::vector<uint8_t> frame;
};

const v4l2_mbus_framefmt& fmt_default() {
  static const v4l2_mbus_framefmt f = [] {
    v4l2_mbus_framefmt m = {};
    m.width = 640;
    m.height = 480;
    m.code = MEDIA_BUS_FMT_RGB888_1X24;
    m.field = V4L2_FIELD_NONE;
    m.colorspace = V4L2_COLORSPACE_SRGB;
    return m;
  }();
  return f;
}

vimc_sensor_device* to_sensor(v4l2_subdev* sd) { return container_of(sd, vimc_sensor_device, sd); }

// 75% colour bars, as v4l2-tpg's default pattern.
constexpr vimc_rgb kBars[8] = {
    {191, 191, 191}, {191, 191, 0}, {0, 191, 191}, {0, 191, 0},
    {191, 0, 191},   {191, 0, 0},   {0, 0, 191},   {0, 0, 0},
};

// Which colour a Bayer pattern samples at (row & 1, col & 1): 0 R, 1 G, 2 B.
struct bayer_desc {
  uint32_t pixelformat;
  uint8_t order[2][2];
  unsigned shift;  // the 8-bit sample's position in a 10/12-bit value
};
constexpr uint8_t R = 0, G = 1, B = 2;
constexpr bayer_desc kBayer[] = {
    {V4L2_PIX_FMT_SBGGR8, {{B, G}, {G, R}}, 0},        {V4L2_PIX_FMT_SGBRG8, {{G, B}, {R, G}}, 0},
    {V4L2_PIX_FMT_SGRBG8, {{G, R}, {B, G}}, 0},        {V4L2_PIX_FMT_SRGGB8, {{R, G}, {G, B}}, 0},
    {V4L2_PIX_FMT_SBGGR10, {{B, G}, {G, R}}, 2},       {V4L2_PIX_FMT_SGBRG10, {{G, B}, {R, G}}, 2},
    {V4L2_PIX_FMT_SGRBG10, {{G, R}, {B, G}}, 2},       {V4L2_PIX_FMT_SRGGB10, {{R, G}, {G, B}}, 2},
    {V4L2_PIX_FMT_SBGGR10ALAW8, {{B, G}, {G, R}}, 0},  {V4L2_PIX_FMT_SGBRG10ALAW8, {{G, B}, {R, G}}, 0},
    {V4L2_PIX_FMT_SGRBG10ALAW8, {{G, R}, {B, G}}, 0},  {V4L2_PIX_FMT_SRGGB10ALAW8, {{R, G}, {G, B}}, 0},
    {V4L2_PIX_FMT_SBGGR10DPCM8, {{B, G}, {G, R}}, 0},  {V4L2_PIX_FMT_SGBRG10DPCM8, {{G, B}, {R, G}}, 0},
    {V4L2_PIX_FMT_SGRBG10DPCM8, {{G, R}, {B, G}}, 0},  {V4L2_PIX_FMT_SRGGB10DPCM8, {{R, G}, {G, B}}, 0},
    {V4L2_PIX_FMT_SBGGR12, {{B, G}, {G, R}}, 4},       {V4L2_PIX_FMT_SGBRG12, {{G, B}, {R, G}}, 4},
    {V4L2_PIX_FMT_SGRBG12, {{G, R}, {B, G}}, 4},       {V4L2_PIX_FMT_SRGGB12, {{R, G}, {G, B}}, 4},
};

const bayer_desc* bayer_by_pixelformat(uint32_t pixelformat) {
  for (const bayer_desc& b : kBayer)
    if (b.pixelformat == pixelformat) return &b;
  return nullptr;
}

// Writes pixel (x, y) of colour `c` in the memory layout of `vpix`.
void put_pixel(const vimc_pix_map* vpix, const bayer_desc* bayer, unsigned y, unsigned x,
               vimc_rgb c, uint8_t* out) {
  const uint8_t rgb[3] = {c.r, c.g, c.b};
  switch (vpix->pixelformat) {
    case V4L2_PIX_FMT_RGB24:
      out[0] = c.r, out[1] = c.g, out[2] = c.b;
      return;
    case V4L2_PIX_FMT_BGR24:
      out[0] = c.b, out[1] = c.g, out[2] = c.r;
      return;
    case V4L2_PIX_FMT_ARGB32:
      out[0] = 0xff, out[1] = c.r, out[2] = c.g, out[3] = c.b;
      return;
    default:
      break;
  }
  uint8_t sample = bayer != nullptr ? rgb[bayer->order[y & 1][x & 1]] : 0;
  if (vpix->bpp == 1) {
    out[0] = sample;
  } else {
    uint16_t v = static_cast<uint16_t>(sample << (bayer != nullptr ? bayer->shift : 0));
    out[0] = static_cast<uint8_t>(v & 0xff);  // little endian, as V4L2's 16-bit Bayer
    out[1] = static_cast<uint8_t>(v >> 8);
  }
}

void vimc_sensor_adjust_fmt(v4l2_mbus_framefmt* fmt) {
  // Only codes of the pix map table.
  if (vimc_pix_map_by_code(fmt->code) == nullptr) fmt->code = fmt_default().code;
  fmt->width = std::clamp(fmt->width, VIMC_FRAME_MIN_WIDTH, VIMC_FRAME_MAX_WIDTH) & ~1u;
  fmt->height = std::clamp(fmt->height, VIMC_FRAME_MIN_HEIGHT, VIMC_FRAME_MAX_HEIGHT) & ~1u;
  // No V4L2_FIELD_ALTERNATE (upstream's TODO).
  if (fmt->field == V4L2_FIELD_ANY || fmt->field == V4L2_FIELD_ALTERNATE)
    fmt->field = fmt_default().field;
  vimc_colorimetry_clamp(fmt);
}

// --- Pad and video ops (the state passed in is locked by the caller).

int vimc_sensor_init_state(v4l2_subdev* sd, v4l2_subdev_state* state) {
  *v4l2_subdev_state_get_format(state, 0) = fmt_default();
  return 0;
}

int vimc_sensor_enum_mbus_code(v4l2_subdev* sd, v4l2_subdev_state* state,
                               v4l2_subdev_mbus_code_enum* code) {
  uint32_t mbus_code = vimc_mbus_code_by_index(code->index);
  if (mbus_code == 0) return -EINVAL;
  code->code = mbus_code;
  return 0;
}

int vimc_sensor_enum_frame_size(v4l2_subdev* sd, v4l2_subdev_state* state,
                                v4l2_subdev_frame_size_enum* fse) {
  if (fse->index != 0 || vimc_pix_map_by_code(fse->code) == nullptr) return -EINVAL;
  fse->min_width = VIMC_FRAME_MIN_WIDTH;
  fse->max_width = VIMC_FRAME_MAX_WIDTH;
  fse->min_height = VIMC_FRAME_MIN_HEIGHT;
  fse->max_height = VIMC_FRAME_MAX_HEIGHT;
  return 0;
}

int vimc_sensor_set_fmt(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* fmt) {
  // The format cannot change while the stream is on.
  if (fmt->which == V4L2_SUBDEV_FORMAT_ACTIVE && to_sensor(sd)->streaming.load()) return -EBUSY;
  vimc_sensor_adjust_fmt(&fmt->format);
  *v4l2_subdev_state_get_format(state, fmt->pad) = fmt->format;
  return 0;
}

int vimc_sensor_s_stream(v4l2_subdev* sd, int enable) {
  vimc_sensor_device* vsensor = to_sensor(sd);
  if (!enable) {
    vsensor->streaming.store(false);
    std::vector<uint8_t>().swap(vsensor->frame);  // vfree
    return 0;
  }
  // Upstream allocates again (and leaks) on a second s_stream(1); the
  // pipeline rules never let two streams share a sensor, so this stays a no-op.
  if (vsensor->streaming.load()) return 0;
  v4l2_subdev_state* state = v4l2_subdev_lock_and_get_active_state(sd);
  const v4l2_mbus_framefmt* format = v4l2_subdev_state_get_format(state, 0);
  const vimc_pix_map* vpix = vimc_pix_map_by_code(format->code);
  int ret = vpix != nullptr ? 0 : -EINVAL;
  if (ret == 0) {
    vsensor->hw.vpix = vpix;
    vsensor->hw.width = format->width;
    vsensor->hw.height = format->height;
    ret = vimc_frame_alloc(&vsensor->frame, size_t{format->width} * format->height * vpix->bpp);
  }
  // Under the state lock: a set_fmt(ACTIVE) either ran before the format was
  // taken above or sees the sensor streaming.
  if (ret == 0) vsensor->streaming.store(true);
  v4l2_subdev_unlock_state(state);
  return ret;
}

// Frame IRQ: the pattern of this tick in the configured format.
vimc_frame vimc_sensor_process_frame(vimc_ent_device* ved, const vimc_frame& sink_frame,
                                     const vimc_frame_ctx& ctx) {
  vimc_sensor_device* vsensor = container_of(ved, vimc_sensor_device, ved);
  if (vsensor->frame.empty()) return {};
  const vimc_pix_map* vpix = vsensor->hw.vpix;
  const bayer_desc* bayer = bayer_by_pixelformat(vpix->pixelformat);
  const unsigned w = vsensor->hw.width, h = vsensor->hw.height, bpp = vpix->bpp;
  const size_t line = size_t{w} * bpp;
  uint8_t* out = vsensor->frame.data();
  // The bars are vertical: two lines (the two Bayer phases) are enough,
  // the others are copies.
  for (unsigned y = 0; y < h; ++y) {
    uint8_t* row = out + y * line;
    if (y >= 2) {
      std::memcpy(row, out + (y & 1) * line, line);
      continue;
    }
    for (unsigned x = 0; x < w; ++x)
      put_pixel(vpix, bayer, y, x, vimc_tpg_color(x, w, ctx.tick), row + x * bpp);
  }
  return {out, vsensor->frame.size()};
}

const v4l2_subdev_pad_ops vimc_sensor_pad_ops = {
    .enum_mbus_code = vimc_sensor_enum_mbus_code,
    .enum_frame_size = vimc_sensor_enum_frame_size,
    .get_fmt = v4l2_subdev_get_fmt,
    .set_fmt = vimc_sensor_set_fmt,
};
const v4l2_subdev_video_ops vimc_sensor_video_ops = {.s_stream = vimc_sensor_s_stream};
const v4l2_subdev_ops vimc_sensor_ops = {
    .video = &vimc_sensor_video_ops,
    .pad = &vimc_sensor_pad_ops,
};
// No release: the media device's release frees the struct (R9).
const v4l2_subdev_internal_ops vimc_sensor_internal_ops = {.init_state = vimc_sensor_init_state};

// --- Entity type callbacks.

int vimc_sensor_add(vimc_device* vimc, unsigned index, const char* name) {
  vimc_sensor_device* vsensor = kzalloc<vimc_sensor_device>();
  if (vsensor == nullptr) return -ENOMEM;
  vimc->ent_devs[index] = &vsensor->ved;  // from here freed by the media device release
  vsensor->pad.flags = MEDIA_PAD_FL_SOURCE;
  int ret = vimc_ent_sd_register(&vsensor->ved, &vsensor->sd, vimc, name, MEDIA_ENT_F_CAM_SENSOR,
                                 1, &vsensor->pad, &vimc_sensor_internal_ops, &vimc_sensor_ops,
                                 /*has_controls=*/true);
  if (ret != 0) return ret;
  vsensor->ved.process_frame = vimc_sensor_process_frame;
  return 0;
}

// remove(): the driver's reference (R4); the entity lives on while a file,
// the graph or the node holds it.
void vimc_sensor_put(vimc_ent_device* ved) {
  v4l2_subdev_put(&container_of(ved, vimc_sensor_device, ved)->sd);
}

// Who calls it: the media device release, after the sub-device's last
// reference went (its entity release freed the ACTIVE state).
void vimc_sensor_release(vimc_ent_device* ved) {
  kfree(container_of(ved, vimc_sensor_device, ved));
}

}  // namespace

vimc_rgb vimc_tpg_color(unsigned x, unsigned width, uint64_t tick) {
  if (width == 0) return kBars[0];
  return kBars[(uint64_t{x} * 8 / width + tick) % 8];
}

const vimc_ent_type vimc_sensor_type = {
    .add = vimc_sensor_add,
    .put = vimc_sensor_put,
    .release = vimc_sensor_release,
};

}  // namespace mcf
