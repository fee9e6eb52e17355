// The resizer, after drivers/media/platform/ti/omap3isp/ispresizer.c.
//
// "OMAP3 ISP resizer": sink pad 0 (SINK|MUST_CONNECT) fed by the CCDC's
// output formatter or the preview engine (the "video port" input), or by
// "OMAP3 ISP resizer input" (memory), -EBUSY between the two kinds; source
// pad 1 to "OMAP3 ISP resizer output" (always memory; the default capture
// node: MEDIA_ENT_FL_DEFAULT). YUYV8_1X16/UYVY8_1X16 in and out; a crop
// rectangle on the sink; the output size is free within the scaler's 1/4x to
// 4x range of the crop (upstream computes exact ratios and filter phases;
// the model keeps the range only).
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>

#include "drivers/omap3isp/isp.h"

namespace mcf {
namespace {

const uint32_t resizer_formats[] = {MEDIA_BUS_FMT_UYVY8_1X16, MEDIA_BUS_FMT_YUYV8_1X16};
constexpr uint32_t MIN_IN_WIDTH = 32;
constexpr uint32_t MIN_IN_HEIGHT = 32;
constexpr uint32_t MAX_IN_WIDTH = 4095;
constexpr uint32_t MAX_IN_HEIGHT = 4095;
constexpr uint32_t MIN_OUT_SIZE = 16;
constexpr uint32_t MAX_OUT_WIDTH = 4096;
constexpr uint32_t MAX_OUT_HEIGHT = 4095;

isp_res_device* to_res(v4l2_subdev* sd) { return container_of(sd, isp_res_device, subdev); }
isp_device* res_isp(isp_res_device* res) { return container_of(res, isp_device, isp_res); }

void resizer_try_crop(const v4l2_mbus_framefmt* sink, v4l2_rect* crop) {
  uint32_t left = isp_clamp(static_cast<uint32_t>(std::max(crop->left, 0)), 0, sink->width - 2);
  uint32_t top = isp_clamp(static_cast<uint32_t>(std::max(crop->top, 0)), 0, sink->height - 2);
  crop->left = static_cast<int32_t>(left);
  crop->top = static_cast<int32_t>(top);
  crop->width = isp_clamp(crop->width, 2, sink->width - left);
  crop->height = isp_clamp(crop->height, 2, sink->height - top);
}

void resizer_try_format(v4l2_subdev_state* state, unsigned pad, v4l2_mbus_framefmt* fmt) {
  if (pad == RESZ_PAD_SINK) {
    if (fmt->code != MEDIA_BUS_FMT_YUYV8_1X16 && fmt->code != MEDIA_BUS_FMT_UYVY8_1X16)
      fmt->code = MEDIA_BUS_FMT_YUYV8_1X16;
    fmt->width = isp_clamp(fmt->width, MIN_IN_WIDTH, MAX_IN_WIDTH);
    fmt->height = isp_clamp(fmt->height, MIN_IN_HEIGHT, MAX_IN_HEIGHT);
  } else {
    fmt->code = v4l2_subdev_state_get_format(state, RESZ_PAD_SINK)->code;
    const v4l2_rect* crop = v4l2_subdev_state_get_crop(state, RESZ_PAD_SINK);
    // Downscaling to 1/4, upscaling to 4x; even widths (YUV 4:2:2).
    uint32_t w = isp_clamp(fmt->width, std::max(MIN_OUT_SIZE, (crop->width + 3) / 4),
                           std::min(MAX_OUT_WIDTH, crop->width * 4));
    uint32_t h = isp_clamp(fmt->height, std::max(MIN_OUT_SIZE, (crop->height + 3) / 4),
                           std::min(MAX_OUT_HEIGHT, crop->height * 4));
    fmt->width = (w + 1) & ~1u;
    fmt->height = h;
  }
  fmt->colorspace = V4L2_COLORSPACE_SRGB;
  fmt->field = V4L2_FIELD_NONE;
}

int resizer_set_format(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* fmt) {
  v4l2_mbus_framefmt* format = v4l2_subdev_state_get_format(state, fmt->pad);
  if (format == nullptr) return -EINVAL;
  resizer_try_format(state, fmt->pad, &fmt->format);
  *format = fmt->format;
  if (fmt->pad == RESZ_PAD_SINK) {
    // A new input resets the crop; the output keeps its size if it can.
    v4l2_rect* crop = v4l2_subdev_state_get_crop(state, RESZ_PAD_SINK);
    *crop = {0, 0, fmt->format.width, fmt->format.height};
    v4l2_mbus_framefmt* source = v4l2_subdev_state_get_format(state, RESZ_PAD_SOURCE);
    if (source->width == 0) *source = fmt->format;
    resizer_try_format(state, RESZ_PAD_SOURCE, source);
  }
  return 0;
}

int resizer_enum_mbus_code(v4l2_subdev* sd, v4l2_subdev_state* state,
                           v4l2_subdev_mbus_code_enum* code) {
  if (code->pad == RESZ_PAD_SINK) {
    if (code->index >= std::size(resizer_formats)) return -EINVAL;
    code->code = resizer_formats[code->index];
    return 0;
  }
  if (code->index != 0) return -EINVAL;
  code->code = v4l2_subdev_state_get_format(state, RESZ_PAD_SINK)->code;
  return 0;
}

int resizer_get_selection(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_selection* sel) {
  if (sel->pad != RESZ_PAD_SINK) return -EINVAL;
  switch (sel->target) {
    case V4L2_SEL_TGT_CROP_BOUNDS:
      sel->r = {0, 0, INT_MAX, INT_MAX};
      resizer_try_crop(v4l2_subdev_state_get_format(state, RESZ_PAD_SINK), &sel->r);
      return 0;
    case V4L2_SEL_TGT_CROP:
      sel->r = *v4l2_subdev_state_get_crop(state, RESZ_PAD_SINK);
      return 0;
    default:
      return -EINVAL;
  }
}

// The crop may change while streaming upstream (applied at the next frame);
// the output size follows within the scaling range.
int resizer_set_selection(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_selection* sel) {
  if (sel->target != V4L2_SEL_TGT_CROP || sel->pad != RESZ_PAD_SINK) return -EINVAL;
  resizer_try_crop(v4l2_subdev_state_get_format(state, RESZ_PAD_SINK), &sel->r);
  *v4l2_subdev_state_get_crop(state, RESZ_PAD_SINK) = sel->r;
  resizer_try_format(state, RESZ_PAD_SOURCE, v4l2_subdev_state_get_format(state, RESZ_PAD_SOURCE));
  return 0;
}

int resizer_init_state(v4l2_subdev* sd, v4l2_subdev_state* state) {
  v4l2_subdev_format format = {};
  format.pad = RESZ_PAD_SINK;
  format.format.code = MEDIA_BUS_FMT_YUYV8_1X16;
  format.format.width = 4096;
  format.format.height = 4096;
  return resizer_set_format(sd, state, &format);
}

int resizer_set_stream(v4l2_subdev* sd, int enable) {
  isp_res_device* res = to_res(sd);
  isp_device* isp = res_isp(res);
  if (enable != 0) {
    isp_reg_set(isp, OMAP3_ISP_IOMEM_RESZ, ISPRSZ_PCR, ISPRSZ_PCR_ENABLE);
    res->state.store(enable);
  } else {
    res->state.store(ISP_PIPELINE_STREAM_STOPPED);
    isp_reg_clr(isp, OMAP3_ISP_IOMEM_RESZ, ISPRSZ_PCR, ISPRSZ_PCR_ENABLE);
  }
  return 0;
}

// resizer_link_setup: memory or video-port input, -EBUSY between the two.
int resizer_link_setup(media_entity* entity, const media_pad* local, const media_pad* remote,
                       uint32_t flags) {
  isp_res_device* res = to_res(media_entity_to_v4l2_subdev(entity));
  bool enable = (flags & MEDIA_LNK_FL_ENABLED) != 0;
  if (local->index == RESZ_PAD_SOURCE) return 0;  // always writes to memory
  if (local->index != RESZ_PAD_SINK) return -EINVAL;
  int mine = isp_remote_is_subdev(remote) ? RESIZER_INPUT_VP : RESIZER_INPUT_MEMORY;
  int other = mine == RESIZER_INPUT_VP ? RESIZER_INPUT_MEMORY : RESIZER_INPUT_VP;
  if (enable) {
    if (res->input.load() == other) return -EBUSY;
    res->input.store(mine);
  } else if (res->input.load() == mine) {
    res->input.store(RESIZER_INPUT_NONE);
  }
  return 0;
}

void resizer_queue(isp_video* video, vb2_v4l2_buffer* buffer) {
  isp_res_device* res = container_of(video, isp_res_device, video_out);
  isp_reg_writel(res_isp(res), buffer->vb2_buf.index + 1, OMAP3_ISP_IOMEM_RESZ, ISPRSZ_SDR_OUTADD);
}

const isp_video_operations resizer_video_ops = {.queue = resizer_queue};
const v4l2_subdev_video_ops resizer_v4l2_video_ops = {.s_stream = resizer_set_stream};
const v4l2_subdev_pad_ops resizer_v4l2_pad_ops = {
    .enum_mbus_code = resizer_enum_mbus_code,
    .get_fmt = v4l2_subdev_get_fmt,
    .set_fmt = resizer_set_format,
    .get_selection = resizer_get_selection,
    .set_selection = resizer_set_selection,
};
const v4l2_subdev_ops resizer_v4l2_ops = {.video = &resizer_v4l2_video_ops,
                                          .pad = &resizer_v4l2_pad_ops};
const v4l2_subdev_internal_ops resizer_v4l2_internal_ops = {.init_state = resizer_init_state};
const media_entity_operations resizer_media_ops = {
    .link_setup = resizer_link_setup,
    .link_validate = omap3isp_link_validate,
};

}  // namespace

void omap3isp_resizer_isr(isp_res_device* res) {
  if (res->state.load() == ISP_PIPELINE_STREAM_STOPPED) return;
  omap3isp_video_frame_done(&res->video_out);
}

int omap3isp_resizer_init(isp_device* isp) {
  isp_res_device* res = &isp->isp_res;
  v4l2_subdev* sd = &res->subdev;
  v4l2_subdev_init(sd, &resizer_v4l2_ops);
  sd->internal_ops = &resizer_v4l2_internal_ops;
  std::snprintf(sd->name, sizeof(sd->name), "OMAP3 ISP resizer");
  sd->grp_id = 1u << 16;
  sd->flags |= V4L2_SUBDEV_FL_HAS_DEVNODE;
  res->pads[RESZ_PAD_SINK].flags = MEDIA_PAD_FL_SINK | MEDIA_PAD_FL_MUST_CONNECT;
  res->pads[RESZ_PAD_SOURCE].flags = MEDIA_PAD_FL_SOURCE;
  sd->entity.ops = &resizer_media_ops;
  int ret = media_entity_pads_init(&sd->entity, RESZ_PADS_NUM, res->pads);
  if (ret == 0) ret = v4l2_subdev_init_finalize(sd);
  if (ret < 0) return ret;

  res->video_in.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
  res->video_in.isp = isp;
  res->video_in.bpl_alignment = 32;
  res->video_in.capture_mem = 4096 * 4096 * 2;
  res->video_out.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  res->video_out.ops = &resizer_video_ops;
  res->video_out.isp = isp;
  res->video_out.bpl_alignment = 32;
  res->video_out.capture_mem = 4096 * 4096 * 2;
  ret = omap3isp_video_init(&res->video_in, "resizer");
  if (ret == 0) ret = omap3isp_video_init(&res->video_out, "resizer");
  // The default capture node of the ISP.
  res->video_out.video.entity.flags |= MEDIA_ENT_FL_DEFAULT;
  return ret;
}

}  // namespace mcf
