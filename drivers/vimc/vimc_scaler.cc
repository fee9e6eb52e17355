// The vimc scaler: crops its sink frame and resizes it to the source pad's
// size. Upstream: drivers/media/test-drivers/vimc/vimc-scaler.c.
//
// Formats: non-Bayer codes of the pix map table, default 640x480
// RGB888_1X24 on both pads. Code and colorimetry are set on the sink and
// followed by the source; a sink format resets the crop to the whole frame
// and is propagated to the source; the source's size may then be set freely
// (16x16 to 4096x2160, even). Crop: the sink's V4L2_SEL_TGT_CROP, at least
// 16x16 and inside the sink frame. set_fmt / set_selection (ACTIVE) fail
// with -EBUSY while streaming. Scaling is nearest-neighbour.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "core/kernel/slab.h"
#include "drivers/vimc/vimc_common.h"

namespace mcf {
namespace {

enum vimc_scaler_pad { VIMC_SCALER_SINK = 0, VIMC_SCALER_SRC = 1 };

constexpr unsigned VIMC_SCALER_FMT_WIDTH_DEFAULT = 640;
constexpr unsigned VIMC_SCALER_FMT_HEIGHT_DEFAULT = 480;

struct vimc_scaler_device : Tracked<vimc_scaler_device> {
  static constexpr const char kObjName[] = "vimc_scaler_device";
  vimc_ent_device ved;
  v4l2_subdev sd;
  media_pad pads[2];
  std::atomic<bool> streaming{false};  // written under the ACTIVE state's lock
  // Configuration and output frame: as the sensor's (vimc_sensor.cc).
  struct {
    v4l2_mbus_framefmt sink_fmt = {};
    v4l2_mbus_framefmt src_fmt = {};
    v4l2_rect sink_crop = {};
    unsigned bpp = 0;
  } hw;
  std::vector<uint8_t> src_frame;
};

vimc_scaler_device* to_scaler(v4l2_subdev* sd) { return container_of(sd, vimc_scaler_device, sd); }

const v4l2_mbus_framefmt& fmt_default() {
  static const v4l2_mbus_framefmt f = [] {
    v4l2_mbus_framefmt m = {};
    m.width = VIMC_SCALER_FMT_WIDTH_DEFAULT;
    m.height = VIMC_SCALER_FMT_HEIGHT_DEFAULT;
    m.code = MEDIA_BUS_FMT_RGB888_1X24;
    m.field = V4L2_FIELD_NONE;
    m.colorspace = V4L2_COLORSPACE_SRGB;
    return m;
  }();
  return f;
}

constexpr v4l2_rect crop_rect_default = {0, 0, VIMC_SCALER_FMT_WIDTH_DEFAULT,
                                         VIMC_SCALER_FMT_HEIGHT_DEFAULT};
constexpr v4l2_rect crop_rect_min = {0, 0, VIMC_FRAME_MIN_WIDTH, VIMC_FRAME_MIN_HEIGHT};

v4l2_rect vimc_scaler_get_crop_bound_sink(const v4l2_mbus_framefmt* sink_fmt) {
  return v4l2_rect{0, 0, sink_fmt->width, sink_fmt->height};
}

// v4l2_rect_set_min_size + v4l2_rect_map_inside.
void vimc_scaler_adjust_sink_crop(v4l2_rect* r, const v4l2_mbus_framefmt* sink_fmt) {
  const v4l2_rect bounds = vimc_scaler_get_crop_bound_sink(sink_fmt);
  r->width = std::max(r->width, crop_rect_min.width);
  r->height = std::max(r->height, crop_rect_min.height);
  r->width = std::min(r->width, bounds.width);
  r->height = std::min(r->height, bounds.height);
  if (r->left < bounds.left) r->left = bounds.left;
  if (r->top < bounds.top) r->top = bounds.top;
  if (static_cast<int64_t>(r->left) + r->width > static_cast<int64_t>(bounds.left) + bounds.width)
    r->left = bounds.left + static_cast<int32_t>(bounds.width - r->width);
  if (static_cast<int64_t>(r->top) + r->height > static_cast<int64_t>(bounds.top) + bounds.height)
    r->top = bounds.top + static_cast<int32_t>(bounds.height - r->height);
}

int vimc_scaler_init_state(v4l2_subdev* sd, v4l2_subdev_state* state) {
  for (unsigned i = 0; i < sd->entity.num_pads; ++i)
    *v4l2_subdev_state_get_format(state, i) = fmt_default();
  *v4l2_subdev_state_get_crop(state, VIMC_SCALER_SINK) = crop_rect_default;
  return 0;
}

int vimc_scaler_enum_mbus_code(v4l2_subdev* sd, v4l2_subdev_state* state,
                               v4l2_subdev_mbus_code_enum* code) {
  uint32_t mbus_code = vimc_mbus_code_by_index(code->index);
  if (mbus_code == 0) return -EINVAL;
  // No Bayer formats (they come last in the table).
  const vimc_pix_map* vpix = vimc_pix_map_by_code(mbus_code);
  if (vpix == nullptr || vpix->bayer) return -EINVAL;
  code->code = mbus_code;
  return 0;
}

int vimc_scaler_enum_frame_size(v4l2_subdev* sd, v4l2_subdev_state* state,
                                v4l2_subdev_frame_size_enum* fse) {
  if (fse->index != 0) return -EINVAL;
  const vimc_pix_map* vpix = vimc_pix_map_by_code(fse->code);
  if (vpix == nullptr || vpix->bayer) return -EINVAL;
  fse->min_width = VIMC_FRAME_MIN_WIDTH;
  fse->min_height = VIMC_FRAME_MIN_HEIGHT;
  fse->max_width = VIMC_FRAME_MAX_WIDTH;
  fse->max_height = VIMC_FRAME_MAX_HEIGHT;
  return 0;
}

int vimc_scaler_set_fmt(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* format) {
  // The active format cannot change while the stream is on.
  if (format->which == V4L2_SUBDEV_FORMAT_ACTIVE && to_scaler(sd)->streaming.load()) return -EBUSY;
  v4l2_mbus_framefmt* fmt = v4l2_subdev_state_get_format(state, format->pad);
  // Code and colorspace are changed on the sink pad only; the source follows.
  if (format->pad == VIMC_SCALER_SINK) {
    const vimc_pix_map* vpix = vimc_pix_map_by_code(format->format.code);
    fmt->code = vpix != nullptr && !vpix->bayer ? format->format.code : fmt_default().code;
    fmt->colorspace = format->format.colorspace;
    fmt->ycbcr_enc = format->format.ycbcr_enc;
    fmt->quantization = format->format.quantization;
    fmt->xfer_func = format->format.xfer_func;
    vimc_colorimetry_clamp(fmt);
  }
  fmt->width = std::clamp(format->format.width, VIMC_FRAME_MIN_WIDTH, VIMC_FRAME_MAX_WIDTH) & ~1u;
  fmt->height =
      std::clamp(format->format.height, VIMC_FRAME_MIN_HEIGHT, VIMC_FRAME_MAX_HEIGHT) & ~1u;
  // A sink format resets the crop rectangle and the source pad.
  if (format->pad == VIMC_SCALER_SINK) {
    *v4l2_subdev_state_get_crop(state, VIMC_SCALER_SINK) = {0, 0, fmt->width, fmt->height};
    *v4l2_subdev_state_get_format(state, VIMC_SCALER_SRC) = *fmt;
  }
  format->format = *fmt;
  return 0;
}

int vimc_scaler_get_selection(v4l2_subdev* sd, v4l2_subdev_state* state,
                              v4l2_subdev_selection* sel) {
  if (VIMC_IS_SRC(sel->pad)) return -EINVAL;
  switch (sel->target) {
    case V4L2_SEL_TGT_CROP:
      sel->r = *v4l2_subdev_state_get_crop(state, VIMC_SCALER_SINK);
      return 0;
    case V4L2_SEL_TGT_CROP_BOUNDS:
      sel->r = vimc_scaler_get_crop_bound_sink(
          v4l2_subdev_state_get_format(state, VIMC_SCALER_SINK));
      return 0;
    default:
      return -EINVAL;
  }
}

int vimc_scaler_set_selection(v4l2_subdev* sd, v4l2_subdev_state* state,
                              v4l2_subdev_selection* sel) {
  // Only the crop of the sink pad.
  if (VIMC_IS_SRC(sel->pad) || sel->target != V4L2_SEL_TGT_CROP) return -EINVAL;
  if (sel->which == V4L2_SUBDEV_FORMAT_ACTIVE && to_scaler(sd)->streaming.load()) return -EBUSY;
  vimc_scaler_adjust_sink_crop(&sel->r, v4l2_subdev_state_get_format(state, VIMC_SCALER_SINK));
  *v4l2_subdev_state_get_crop(state, VIMC_SCALER_SINK) = sel->r;
  return 0;
}

int vimc_scaler_s_stream(v4l2_subdev* sd, int enable) {
  vimc_scaler_device* vscaler = to_scaler(sd);
  if (!enable) {
    vscaler->streaming.store(false);
    std::vector<uint8_t>().swap(vscaler->src_frame);
    return 0;
  }
  if (vscaler->streaming.load()) return 0;
  v4l2_subdev_state* state = v4l2_subdev_lock_and_get_active_state(sd);
  const v4l2_mbus_framefmt* sink = v4l2_subdev_state_get_format(state, VIMC_SCALER_SINK);
  const vimc_pix_map* vpix = vimc_pix_map_by_code(sink->code);
  int ret = vpix != nullptr ? 0 : -EINVAL;
  if (ret == 0) {
    vscaler->hw.sink_fmt = *sink;
    vscaler->hw.bpp = vpix->bpp;
    vscaler->hw.src_fmt = *v4l2_subdev_state_get_format(state, VIMC_SCALER_SRC);
    vscaler->hw.sink_crop = *v4l2_subdev_state_get_crop(state, VIMC_SCALER_SINK);
    ret = vimc_frame_alloc(&vscaler->src_frame,
                           size_t{vscaler->hw.src_fmt.width} * vscaler->hw.src_fmt.height *
                               vscaler->hw.bpp);
  }
  if (ret == 0) vscaler->streaming.store(true);
  v4l2_subdev_unlock_state(state);
  return ret;
}

vimc_frame vimc_scaler_process_frame(vimc_ent_device* ved, const vimc_frame& sink_frame,
                                     const vimc_frame_ctx& ctx) {
  vimc_scaler_device* vscaler = container_of(ved, vimc_scaler_device, ved);
  const auto& hw = vscaler->hw;
  if (vscaler->src_frame.empty() ||
      sink_frame.size < size_t{hw.sink_fmt.width} * hw.sink_fmt.height * hw.bpp)
    return {};
  const v4l2_rect& r = hw.sink_crop;
  uint8_t* walker = vscaler->src_frame.data();
  // Each source pixel takes its nearest sink pixel inside the crop.
  for (unsigned src_y = 0; src_y < hw.src_fmt.height; ++src_y) {
    size_t snk_y = size_t{src_y} * r.height / hw.src_fmt.height + static_cast<size_t>(r.top);
    size_t y_offset = snk_y * hw.sink_fmt.width * hw.bpp;
    for (unsigned src_x = 0; src_x < hw.src_fmt.width; ++src_x) {
      size_t snk_x = size_t{src_x} * r.width / hw.src_fmt.width + static_cast<size_t>(r.left);
      std::memcpy(walker, &sink_frame.data[y_offset + snk_x * hw.bpp], hw.bpp);
      walker += hw.bpp;
    }
  }
  return {vscaler->src_frame.data(), vscaler->src_frame.size()};
}

const v4l2_subdev_pad_ops vimc_scaler_pad_ops = {
    .enum_mbus_code = vimc_scaler_enum_mbus_code,
    .enum_frame_size = vimc_scaler_enum_frame_size,
    .get_fmt = v4l2_subdev_get_fmt,
    .set_fmt = vimc_scaler_set_fmt,
    .get_selection = vimc_scaler_get_selection,
    .set_selection = vimc_scaler_set_selection,
};
const v4l2_subdev_video_ops vimc_scaler_video_ops = {.s_stream = vimc_scaler_s_stream};
const v4l2_subdev_ops vimc_scaler_ops = {
    .video = &vimc_scaler_video_ops,
    .pad = &vimc_scaler_pad_ops,
};
const v4l2_subdev_internal_ops vimc_scaler_internal_ops = {.init_state = vimc_scaler_init_state};

int vimc_scaler_add(vimc_device* vimc, unsigned index, const char* name) {
  vimc_scaler_device* vscaler = kzalloc<vimc_scaler_device>();
  if (vscaler == nullptr) return -ENOMEM;
  vimc->ent_devs[index] = &vscaler->ved;  // from here freed by the media device release
  vscaler->pads[VIMC_SCALER_SINK].flags = MEDIA_PAD_FL_SINK;
  vscaler->pads[VIMC_SCALER_SRC].flags = MEDIA_PAD_FL_SOURCE;
  // Upstream's scaler has no control handler: no events.
  int ret = vimc_ent_sd_register(&vscaler->ved, &vscaler->sd, vimc, name,
                                 MEDIA_ENT_F_PROC_VIDEO_SCALER, 2, vscaler->pads,
                                 &vimc_scaler_internal_ops, &vimc_scaler_ops,
                                 /*has_controls=*/false);
  if (ret != 0) return ret;
  vscaler->ved.process_frame = vimc_scaler_process_frame;
  return 0;
}

void vimc_scaler_put(vimc_ent_device* ved) {
  v4l2_subdev_put(&container_of(ved, vimc_scaler_device, ved)->sd);
}

// Who calls it: the media device release (R9).
void vimc_scaler_release(vimc_ent_device* ved) {
  kfree(container_of(ved, vimc_scaler_device, ved));
}

}  // namespace

const vimc_ent_type vimc_scaler_type = {
    .add = vimc_scaler_add,
    .put = vimc_scaler_put,
    .release = vimc_scaler_release,
};

}  // namespace mcf
