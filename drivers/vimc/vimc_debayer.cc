// The vimc debayer: a sub-device that turns a Bayer frame (sink pad 0) into
// RGB (source pad 1). Upstream: drivers/media/test-drivers/vimc/vimc-debayer.c.
//
// Formats: the sink takes the Bayer codes of its table (default 640x480
// SRGGB8_1X8); the source pad follows the sink's size and colorimetry with
// code RGB888_1X24 and cannot be set (set_fmt on it returns the current
// format). set_fmt(ACTIVE) fails with -EBUSY while streaming. Each output
// pixel is the mean, per colour, of the Bayer samples in a window of
// mean_win_size x mean_win_size around it (3: the control's default; the
// model has no controls).
#include <algorithm>
#include <atomic>
#include <cerrno>

#include "core/kernel/slab.h"
#include "drivers/vimc/vimc_common.h"

namespace mcf {
namespace {

constexpr uint32_t VIMC_DEBAYER_SOURCE_MBUS_FMT = MEDIA_BUS_FMT_RGB888_1X24;
constexpr unsigned VIMC_DEBAYER_MEAN_WIN_SIZE_DEFAULT = 3;

enum vimc_debayer_rgb_colors { VIMC_DEBAYER_RED = 0, VIMC_DEBAYER_GREEN = 1, VIMC_DEBAYER_BLUE = 2 };

struct vimc_debayer_pix_map {
  uint32_t code;
  vimc_debayer_rgb_colors order[2][2];
};

constexpr vimc_debayer_rgb_colors R = VIMC_DEBAYER_RED, G = VIMC_DEBAYER_GREEN,
                                  B = VIMC_DEBAYER_BLUE;
constexpr vimc_debayer_pix_map vimc_debayer_pix_map_list[] = {
    {MEDIA_BUS_FMT_SBGGR8_1X8, {{B, G}, {G, R}}},   {MEDIA_BUS_FMT_SGBRG8_1X8, {{G, B}, {R, G}}},
    {MEDIA_BUS_FMT_SGRBG8_1X8, {{G, R}, {B, G}}},   {MEDIA_BUS_FMT_SRGGB8_1X8, {{R, G}, {G, B}}},
    {MEDIA_BUS_FMT_SBGGR10_1X10, {{B, G}, {G, R}}}, {MEDIA_BUS_FMT_SGBRG10_1X10, {{G, B}, {R, G}}},
    {MEDIA_BUS_FMT_SGRBG10_1X10, {{G, R}, {B, G}}}, {MEDIA_BUS_FMT_SRGGB10_1X10, {{R, G}, {G, B}}},
    {MEDIA_BUS_FMT_SBGGR12_1X12, {{B, G}, {G, R}}}, {MEDIA_BUS_FMT_SGBRG12_1X12, {{G, B}, {R, G}}},
    {MEDIA_BUS_FMT_SGRBG12_1X12, {{G, R}, {B, G}}}, {MEDIA_BUS_FMT_SRGGB12_1X12, {{R, G}, {G, B}}},
};

constexpr uint32_t vimc_debayer_src_mbus_codes[] = {
    MEDIA_BUS_FMT_GBR888_1X24,        MEDIA_BUS_FMT_BGR888_1X24,
    MEDIA_BUS_FMT_BGR888_3X8,         MEDIA_BUS_FMT_RGB888_1X24,
    MEDIA_BUS_FMT_RGB888_2X12_BE,     MEDIA_BUS_FMT_RGB888_2X12_LE,
    MEDIA_BUS_FMT_RGB888_3X8,         MEDIA_BUS_FMT_RGB888_1X7X4_SPWG,
    MEDIA_BUS_FMT_RGB888_1X7X4_JEIDA, MEDIA_BUS_FMT_RGB888_1X32_PADHI,
};

struct vimc_debayer_device : Tracked<vimc_debayer_device> {
  static constexpr const char kObjName[] = "vimc_debayer_device";
  vimc_ent_device ved;
  v4l2_subdev sd;
  media_pad pads[2];
  std::atomic<bool> streaming{false};  // written under the ACTIVE state's lock
  // Configuration and output frame: as the sensor's (vimc_sensor.cc).
  struct {
    const vimc_debayer_pix_map* sink_pix_map = nullptr;
    unsigned sink_bpp = 0;
    unsigned width = 0, height = 0;
    unsigned mean_win_size = VIMC_DEBAYER_MEAN_WIN_SIZE_DEFAULT;
    uint32_t src_code = 0;
  } hw;
  std::vector<uint8_t> src_frame;
};

vimc_debayer_device* to_debayer(v4l2_subdev* sd) {
  return container_of(sd, vimc_debayer_device, sd);
}

const v4l2_mbus_framefmt& sink_fmt_default() {
  static const v4l2_mbus_framefmt f = [] {
    v4l2_mbus_framefmt m = {};
    m.width = 640;
    m.height = 480;
    m.code = MEDIA_BUS_FMT_SRGGB8_1X8;
    m.field = V4L2_FIELD_NONE;
    m.colorspace = V4L2_COLORSPACE_SRGB;
    return m;
  }();
  return f;
}

const vimc_debayer_pix_map* vimc_debayer_pix_map_by_code(uint32_t code) {
  for (const vimc_debayer_pix_map& m : vimc_debayer_pix_map_list)
    if (m.code == code) return &m;
  return nullptr;
}

bool vimc_debayer_src_code_is_valid(uint32_t code) {
  return std::find(std::begin(vimc_debayer_src_mbus_codes), std::end(vimc_debayer_src_mbus_codes),
                   code) != std::end(vimc_debayer_src_mbus_codes);
}

int vimc_debayer_init_state(v4l2_subdev* sd, v4l2_subdev_state* state) {
  *v4l2_subdev_state_get_format(state, 0) = sink_fmt_default();
  v4l2_mbus_framefmt* src = v4l2_subdev_state_get_format(state, 1);
  *src = sink_fmt_default();
  src->code = VIMC_DEBAYER_SOURCE_MBUS_FMT;
  return 0;
}

int vimc_debayer_enum_mbus_code(v4l2_subdev* sd, v4l2_subdev_state* state,
                                v4l2_subdev_mbus_code_enum* code) {
  if (VIMC_IS_SRC(code->pad)) {
    if (code->index >= std::size(vimc_debayer_src_mbus_codes)) return -EINVAL;
    code->code = vimc_debayer_src_mbus_codes[code->index];
  } else {
    if (code->index >= std::size(vimc_debayer_pix_map_list)) return -EINVAL;
    code->code = vimc_debayer_pix_map_list[code->index].code;
  }
  return 0;
}

int vimc_debayer_enum_frame_size(v4l2_subdev* sd, v4l2_subdev_state* state,
                                 v4l2_subdev_frame_size_enum* fse) {
  if (fse->index != 0) return -EINVAL;
  if (VIMC_IS_SINK(fse->pad) ? vimc_debayer_pix_map_by_code(fse->code) == nullptr
                             : !vimc_debayer_src_code_is_valid(fse->code))
    return -EINVAL;
  fse->min_width = VIMC_FRAME_MIN_WIDTH;
  fse->max_width = VIMC_FRAME_MAX_WIDTH;
  fse->min_height = VIMC_FRAME_MIN_HEIGHT;
  fse->max_height = VIMC_FRAME_MAX_HEIGHT;
  return 0;
}

void vimc_debayer_adjust_sink_fmt(v4l2_mbus_framefmt* fmt) {
  // Only codes of the debayer's table.
  if (vimc_debayer_pix_map_by_code(fmt->code) == nullptr) fmt->code = sink_fmt_default().code;
  fmt->width = std::clamp(fmt->width, VIMC_FRAME_MIN_WIDTH, VIMC_FRAME_MAX_WIDTH) & ~1u;
  fmt->height = std::clamp(fmt->height, VIMC_FRAME_MIN_HEIGHT, VIMC_FRAME_MAX_HEIGHT) & ~1u;
  if (fmt->field == V4L2_FIELD_ANY) fmt->field = sink_fmt_default().field;
  vimc_colorimetry_clamp(fmt);
}

int vimc_debayer_set_fmt(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* fmt) {
  // The format cannot change while the stream is on.
  if (fmt->which == V4L2_SUBDEV_FORMAT_ACTIVE && to_debayer(sd)->streaming.load()) return -EBUSY;
  // The source pad is propagated from the sink: report it, change nothing.
  if (VIMC_IS_SRC(fmt->pad)) return v4l2_subdev_get_fmt(sd, state, fmt);
  vimc_debayer_adjust_sink_fmt(&fmt->format);
  *v4l2_subdev_state_get_format(state, 0) = fmt->format;
  // Propagate to the source pad.
  v4l2_mbus_framefmt* src = v4l2_subdev_state_get_format(state, 1);
  *src = fmt->format;
  src->code = VIMC_DEBAYER_SOURCE_MBUS_FMT;
  return 0;
}

int vimc_debayer_s_stream(v4l2_subdev* sd, int enable) {
  vimc_debayer_device* vdebayer = to_debayer(sd);
  if (!enable) {
    vdebayer->streaming.store(false);
    std::vector<uint8_t>().swap(vdebayer->src_frame);
    return 0;
  }
  if (vdebayer->streaming.load()) return 0;
  v4l2_subdev_state* state = v4l2_subdev_lock_and_get_active_state(sd);
  const v4l2_mbus_framefmt* sink_fmt = v4l2_subdev_state_get_format(state, 0);
  const v4l2_mbus_framefmt* src_fmt = v4l2_subdev_state_get_format(state, 1);
  const vimc_pix_map* src_vpix = vimc_pix_map_by_code(src_fmt->code);
  const vimc_pix_map* sink_vpix = vimc_pix_map_by_code(sink_fmt->code);
  const vimc_debayer_pix_map* sink_map = vimc_debayer_pix_map_by_code(sink_fmt->code);
  int ret = src_vpix != nullptr && sink_vpix != nullptr && sink_map != nullptr ? 0 : -EINVAL;
  if (ret == 0) {
    vdebayer->hw.sink_bpp = sink_vpix->bpp;
    vdebayer->hw.sink_pix_map = sink_map;
    vdebayer->hw.width = sink_fmt->width;
    vdebayer->hw.height = sink_fmt->height;
    vdebayer->hw.src_code = src_fmt->code;
    ret = vimc_frame_alloc(&vdebayer->src_frame,
                           size_t{src_fmt->width} * src_fmt->height * src_vpix->bpp);
  }
  if (ret == 0) vdebayer->streaming.store(true);
  v4l2_subdev_unlock_state(state);
  return ret;
}

// A Bayer sample: `n_bytes` little-endian bytes.
unsigned vimc_debayer_get_val(const uint8_t* bytes, unsigned n_bytes) {
  unsigned acc = 0;
  for (unsigned i = 0; i < n_bytes; ++i) acc += unsigned{bytes[i]} << (8 * i);
  return acc;
}

// The mean of each colour over the window centred on (lin, col), clipped at
// the frame's edges.
void vimc_debayer_calc_rgb_sink(const vimc_debayer_device* vdebayer, const uint8_t* frame,
                                unsigned lin, unsigned col, unsigned rgb[3]) {
  const auto& hw = vdebayer->hw;
  unsigned n_rgb[3] = {0, 0, 0};
  rgb[0] = rgb[1] = rgb[2] = 0;
  const unsigned seek = hw.mean_win_size / 2;
  for (unsigned wlin = seek > lin ? 0 : lin - seek; wlin < lin + seek + 1 && wlin < hw.height;
       ++wlin) {
    for (unsigned wcol = seek > col ? 0 : col - seek; wcol < col + seek + 1 && wcol < hw.width;
         ++wcol) {
      vimc_debayer_rgb_colors color = hw.sink_pix_map->order[wlin % 2][wcol % 2];
      size_t index = (size_t{wlin} * hw.width + wcol) * hw.sink_bpp;
      rgb[color] += vimc_debayer_get_val(&frame[index], hw.sink_bpp);
      n_rgb[color]++;
    }
  }
  for (unsigned i = 0; i < 3; ++i)
    if (n_rgb[i] != 0) rgb[i] /= n_rgb[i];
}

// vimc_debayer_process_rgb_frame: RGB24 or BGR24 byte order (the source
// code is always RGB888_1X24 here). Values above 255 (10/12-bit input) are
// truncated to a byte, as upstream does.
void vimc_debayer_set_rgb_src(vimc_debayer_device* vdebayer, const vimc_pix_map* vpix,
                              unsigned lin, unsigned col, const unsigned rgb[3]) {
  size_t index = (size_t{lin} * vdebayer->hw.width + col) * 3;
  for (unsigned i = 0; i < 3; ++i) {
    if (vpix->pixelformat == V4L2_PIX_FMT_RGB24)
      vdebayer->src_frame[index + i] = static_cast<uint8_t>(rgb[i]);
    else if (vpix->pixelformat == V4L2_PIX_FMT_BGR24)
      vdebayer->src_frame[index + i] = static_cast<uint8_t>(rgb[2 - i]);
  }
}

vimc_frame vimc_debayer_process_frame(vimc_ent_device* ved, const vimc_frame& sink_frame,
                                      const vimc_frame_ctx& ctx) {
  vimc_debayer_device* vdebayer = container_of(ved, vimc_debayer_device, ved);
  // Not streaming, or an input that is not the configured sink frame (the
  // model refuses it rather than read past its end).
  const auto& hw = vdebayer->hw;
  if (vdebayer->src_frame.empty() ||
      sink_frame.size < size_t{hw.width} * hw.height * hw.sink_bpp ||
      vdebayer->src_frame.size() < size_t{hw.width} * hw.height * 3)
    return {};
  const vimc_pix_map* vpix = vimc_pix_map_by_code(hw.src_code);
  unsigned rgb[3];
  for (unsigned i = 0; i < hw.height; ++i) {
    for (unsigned j = 0; j < hw.width; ++j) {
      vimc_debayer_calc_rgb_sink(vdebayer, sink_frame.data, i, j, rgb);
      vimc_debayer_set_rgb_src(vdebayer, vpix, i, j, rgb);
    }
  }
  return {vdebayer->src_frame.data(), vdebayer->src_frame.size()};
}

const v4l2_subdev_pad_ops vimc_debayer_pad_ops = {
    .enum_mbus_code = vimc_debayer_enum_mbus_code,
    .enum_frame_size = vimc_debayer_enum_frame_size,
    .get_fmt = v4l2_subdev_get_fmt,
    .set_fmt = vimc_debayer_set_fmt,
};
const v4l2_subdev_video_ops vimc_debayer_video_ops = {.s_stream = vimc_debayer_s_stream};
const v4l2_subdev_ops vimc_debayer_ops = {
    .video = &vimc_debayer_video_ops,
    .pad = &vimc_debayer_pad_ops,
};
const v4l2_subdev_internal_ops vimc_debayer_internal_ops = {.init_state = vimc_debayer_init_state};

int vimc_debayer_add(vimc_device* vimc, unsigned index, const char* name) {
  vimc_debayer_device* vdebayer = kzalloc<vimc_debayer_device>();
  if (vdebayer == nullptr) return -ENOMEM;
  vimc->ent_devs[index] = &vdebayer->ved;  // from here freed by the media device release
  vdebayer->pads[0].flags = MEDIA_PAD_FL_SINK;
  vdebayer->pads[1].flags = MEDIA_PAD_FL_SOURCE;
  int ret = vimc_ent_sd_register(&vdebayer->ved, &vdebayer->sd, vimc, name,
                                 MEDIA_ENT_F_PROC_VIDEO_PIXEL_ENC_CONV, 2, vdebayer->pads,
                                 &vimc_debayer_internal_ops, &vimc_debayer_ops,
                                 /*has_controls=*/true);
  if (ret != 0) return ret;
  vdebayer->ved.process_frame = vimc_debayer_process_frame;
  return 0;
}

void vimc_debayer_put(vimc_ent_device* ved) {
  v4l2_subdev_put(&container_of(ved, vimc_debayer_device, ved)->sd);
}

// Who calls it: the media device release (R9).
void vimc_debayer_release(vimc_ent_device* ved) {
  kfree(container_of(ved, vimc_debayer_device, ved));
}

}  // namespace

const vimc_ent_type vimc_debayer_type = {
    .add = vimc_debayer_add,
    .put = vimc_debayer_put,
    .release = vimc_debayer_release,
};

}  // namespace mcf
