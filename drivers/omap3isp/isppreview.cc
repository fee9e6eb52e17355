// The preview engine, after drivers/media/platform/ti/omap3isp/isppreview.c.
//
// "OMAP3 ISP preview": sink pad 0 (SINK|MUST_CONNECT) fed by the CCDC's video
// port or by "OMAP3 ISP preview input" (memory), one at a time (-EBUSY);
// source pad 1 to "OMAP3 ISP preview output" (memory) or to the resizer, one
// at a time. Raw Bayer or Y 8/10-bit in, YUYV8_1X16/UYVY8_1X16 out; the
// output is the crop rectangle of the sink, whose margins (6/4/2/2 pixels,
// 2 more each side from the CCDC and for Bayer data) are what the filters eat.
// The filters, tables and controls are not modelled.
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>

#include "drivers/omap3isp/isp.h"

namespace mcf {
namespace {

const uint32_t preview_input_fmts[] = {
    MEDIA_BUS_FMT_Y8_1X8,       MEDIA_BUS_FMT_SGRBG8_1X8,   MEDIA_BUS_FMT_SRGGB8_1X8,
    MEDIA_BUS_FMT_SBGGR8_1X8,   MEDIA_BUS_FMT_SGBRG8_1X8,   MEDIA_BUS_FMT_Y10_1X10,
    MEDIA_BUS_FMT_SGRBG10_1X10, MEDIA_BUS_FMT_SRGGB10_1X10, MEDIA_BUS_FMT_SBGGR10_1X10,
    MEDIA_BUS_FMT_SGBRG10_1X10,
};
const uint32_t preview_output_fmts[] = {MEDIA_BUS_FMT_UYVY8_1X16, MEDIA_BUS_FMT_YUYV8_1X16};

constexpr uint32_t PREV_MARGIN_LEFT = 6;
constexpr uint32_t PREV_MARGIN_RIGHT = 4;
constexpr uint32_t PREV_MARGIN_TOP = 2;
constexpr uint32_t PREV_MARGIN_BOTTOM = 2;
constexpr uint32_t PREV_MIN_IN_WIDTH = 64;
constexpr uint32_t PREV_MIN_IN_HEIGHT = 8;
constexpr uint32_t PREV_MAX_IN_HEIGHT = 16384;
constexpr uint32_t PREV_MAX_OUT_WIDTH_REV_15 = 4096;

isp_prev_device* to_prev(v4l2_subdev* sd) { return container_of(sd, isp_prev_device, subdev); }
isp_device* prev_isp(isp_prev_device* prev) { return container_of(prev, isp_device, isp_prev); }

// preview_try_crop: the filters crop lines and columns; keep those margins.
void preview_try_crop(isp_prev_device* prev, const v4l2_mbus_framefmt* sink, v4l2_rect* crop) {
  uint32_t left = PREV_MARGIN_LEFT;
  uint32_t right = sink->width - PREV_MARGIN_RIGHT;
  uint32_t top = PREV_MARGIN_TOP;
  uint32_t bottom = sink->height - PREV_MARGIN_BOTTOM;
  if (prev->input.load() == PREVIEW_INPUT_CCDC) {
    left += 2;
    right -= 2;
  }
  if (sink->code != MEDIA_BUS_FMT_Y8_1X8 && sink->code != MEDIA_BUS_FMT_Y10_1X10) {
    left += 2;
    right -= 2;
    top += 2;
    bottom -= 2;
  }
  // Even left/top keep the Bayer pattern.
  uint32_t l = static_cast<uint32_t>(std::max(crop->left, 0)) & ~1u;
  uint32_t t = static_cast<uint32_t>(std::max(crop->top, 0)) & ~1u;
  l = isp_clamp(l, left, right);
  t = isp_clamp(t, top, bottom);
  crop->left = static_cast<int32_t>(l);
  crop->top = static_cast<int32_t>(t);
  crop->width = isp_clamp(crop->width, 0, right - l);
  crop->height = isp_clamp(crop->height, 0, bottom - t);
}

void preview_try_format(isp_prev_device* prev, v4l2_subdev_state* state, unsigned pad,
                        v4l2_mbus_framefmt* fmt) {
  if (pad == PREV_PAD_SINK) {
    // From the CCDC the size was already set by its video port.
    if (prev->input.load() == PREVIEW_INPUT_MEMORY) {
      fmt->width = isp_clamp(fmt->width, PREV_MIN_IN_WIDTH, PREV_MAX_OUT_WIDTH_REV_15);
      fmt->height = isp_clamp(fmt->height, PREV_MIN_IN_HEIGHT, PREV_MAX_IN_HEIGHT);
    }
    fmt->colorspace = V4L2_COLORSPACE_SRGB;
    if (std::find(std::begin(preview_input_fmts), std::end(preview_input_fmts), fmt->code) ==
        std::end(preview_input_fmts))
      fmt->code = MEDIA_BUS_FMT_SGRBG10_1X10;
  } else {
    uint32_t code = fmt->code;
    *fmt = *v4l2_subdev_state_get_format(state, PREV_PAD_SINK);
    fmt->code = code == MEDIA_BUS_FMT_UYVY8_1X16 ? code : MEDIA_BUS_FMT_YUYV8_1X16;
    // No averager: the output is the crop rectangle.
    const v4l2_rect* crop = v4l2_subdev_state_get_crop(state, PREV_PAD_SINK);
    fmt->width = crop->width;
    fmt->height = crop->height;
    fmt->colorspace = V4L2_COLORSPACE_SRGB;
  }
  fmt->field = V4L2_FIELD_NONE;
}

int preview_set_format(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* fmt) {
  isp_prev_device* prev = to_prev(sd);
  v4l2_mbus_framefmt* format = v4l2_subdev_state_get_format(state, fmt->pad);
  if (format == nullptr) return -EINVAL;
  preview_try_format(prev, state, fmt->pad, &fmt->format);
  *format = fmt->format;
  if (fmt->pad == PREV_PAD_SINK) {
    v4l2_rect* crop = v4l2_subdev_state_get_crop(state, PREV_PAD_SINK);
    *crop = {0, 0, fmt->format.width, fmt->format.height};
    preview_try_crop(prev, &fmt->format, crop);
    preview_try_format(prev, state, PREV_PAD_SOURCE,
                       v4l2_subdev_state_get_format(state, PREV_PAD_SOURCE));
  }
  return 0;
}

int preview_enum_mbus_code(v4l2_subdev* sd, v4l2_subdev_state* state,
                           v4l2_subdev_mbus_code_enum* code) {
  if (code->pad == PREV_PAD_SINK) {
    if (code->index >= std::size(preview_input_fmts)) return -EINVAL;
    code->code = preview_input_fmts[code->index];
  } else {
    if (code->index >= std::size(preview_output_fmts)) return -EINVAL;
    code->code = preview_output_fmts[code->index];
  }
  return 0;
}

int preview_get_selection(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_selection* sel) {
  if (sel->pad != PREV_PAD_SINK) return -EINVAL;
  switch (sel->target) {
    case V4L2_SEL_TGT_CROP_BOUNDS:
      sel->r = {0, 0, INT_MAX, INT_MAX};
      preview_try_crop(to_prev(sd), v4l2_subdev_state_get_format(state, PREV_PAD_SINK), &sel->r);
      return 0;
    case V4L2_SEL_TGT_CROP:
      sel->r = *v4l2_subdev_state_get_crop(state, PREV_PAD_SINK);
      return 0;
    default:
      return -EINVAL;
  }
}

int preview_set_selection(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_selection* sel) {
  isp_prev_device* prev = to_prev(sd);
  if (sel->target != V4L2_SEL_TGT_CROP || sel->pad != PREV_PAD_SINK) return -EINVAL;
  if (sel->which == V4L2_SUBDEV_FORMAT_ACTIVE &&
      prev->state.load() != ISP_PIPELINE_STREAM_STOPPED)
    return -EBUSY;
  v4l2_rect* crop = v4l2_subdev_state_get_crop(state, PREV_PAD_SINK);
  if (sel->flags & V4L2_SEL_FLAG_KEEP_CONFIG) {
    sel->r = *crop;
    return 0;
  }
  preview_try_crop(prev, v4l2_subdev_state_get_format(state, PREV_PAD_SINK), &sel->r);
  *crop = sel->r;
  preview_try_format(prev, state, PREV_PAD_SOURCE,
                     v4l2_subdev_state_get_format(state, PREV_PAD_SOURCE));
  return 0;
}

int preview_init_state(v4l2_subdev* sd, v4l2_subdev_state* state) {
  v4l2_subdev_format format = {};
  format.pad = PREV_PAD_SINK;
  format.format.code = MEDIA_BUS_FMT_SGRBG10_1X10;
  format.format.width = 4096;
  format.format.height = 4096;
  return preview_set_format(sd, state, &format);
}

int preview_set_stream(v4l2_subdev* sd, int enable) {
  isp_prev_device* prev = to_prev(sd);
  isp_device* isp = prev_isp(prev);
  if (enable != 0) {
    isp_reg_set(isp, OMAP3_ISP_IOMEM_PREV, ISPPRV_PCR, ISPPRV_PCR_EN);
    prev->state.store(enable);
  } else {
    prev->state.store(ISP_PIPELINE_STREAM_STOPPED);
    isp_reg_clr(isp, OMAP3_ISP_IOMEM_PREV, ISPPRV_PCR, ISPPRV_PCR_EN);
  }
  return 0;
}

// preview_link_setup: one input (CCDC or memory), one output (memory or
// resizer).
int preview_link_setup(media_entity* entity, const media_pad* local, const media_pad* remote,
                       uint32_t flags) {
  isp_prev_device* prev = to_prev(media_entity_to_v4l2_subdev(entity));
  bool enable = (flags & MEDIA_LNK_FL_ENABLED) != 0;
  bool from_subdev = isp_remote_is_subdev(remote);
  if (local->index == PREV_PAD_SINK) {
    int mine = from_subdev ? PREVIEW_INPUT_CCDC : PREVIEW_INPUT_MEMORY;
    int other = from_subdev ? PREVIEW_INPUT_MEMORY : PREVIEW_INPUT_CCDC;
    if (enable) {
      if (prev->input.load() == other) return -EBUSY;
      prev->input.store(mine);
    } else if (prev->input.load() == mine) {
      prev->input.store(PREVIEW_INPUT_NONE);
    }
    return 0;
  }
  if (local->index != PREV_PAD_SOURCE) return -EINVAL;
  unsigned bit = from_subdev ? PREVIEW_OUTPUT_RESIZER : PREVIEW_OUTPUT_MEMORY;
  if (enable) {
    if (prev->output.load() & ~bit) return -EBUSY;
    prev->output.fetch_or(bit);
  } else {
    prev->output.fetch_and(~bit);
  }
  return 0;
}

void preview_queue(isp_video* video, vb2_v4l2_buffer* buffer) {
  isp_prev_device* prev = container_of(video, isp_prev_device, video_out);
  isp_reg_writel(prev_isp(prev), buffer->vb2_buf.index + 1, OMAP3_ISP_IOMEM_PREV,
                 ISPPRV_WADD_OFFSET);
}

const isp_video_operations preview_video_ops = {.queue = preview_queue};
const v4l2_subdev_video_ops preview_v4l2_video_ops = {.s_stream = preview_set_stream};
const v4l2_subdev_pad_ops preview_v4l2_pad_ops = {
    .enum_mbus_code = preview_enum_mbus_code,
    .get_fmt = v4l2_subdev_get_fmt,
    .set_fmt = preview_set_format,
    .get_selection = preview_get_selection,
    .set_selection = preview_set_selection,
};
const v4l2_subdev_ops preview_v4l2_ops = {.video = &preview_v4l2_video_ops,
                                          .pad = &preview_v4l2_pad_ops};
const v4l2_subdev_internal_ops preview_v4l2_internal_ops = {.init_state = preview_init_state};
const media_entity_operations preview_media_ops = {
    .link_setup = preview_link_setup,
    .link_validate = omap3isp_link_validate,
};

}  // namespace

void omap3isp_preview_isr(isp_prev_device* prev) {
  if (prev->state.load() == ISP_PIPELINE_STREAM_STOPPED) return;
  if (prev->output.load() & PREVIEW_OUTPUT_MEMORY) omap3isp_video_frame_done(&prev->video_out);
}

int omap3isp_preview_init(isp_device* isp) {
  isp_prev_device* prev = &isp->isp_prev;
  v4l2_subdev* sd = &prev->subdev;
  v4l2_subdev_init(sd, &preview_v4l2_ops);
  sd->internal_ops = &preview_v4l2_internal_ops;
  std::snprintf(sd->name, sizeof(sd->name), "OMAP3 ISP preview");
  sd->grp_id = 1u << 16;
  sd->flags |= V4L2_SUBDEV_FL_HAS_DEVNODE;
  prev->pads[PREV_PAD_SINK].flags = MEDIA_PAD_FL_SINK | MEDIA_PAD_FL_MUST_CONNECT;
  prev->pads[PREV_PAD_SOURCE].flags = MEDIA_PAD_FL_SOURCE;
  sd->entity.ops = &preview_media_ops;
  int ret = media_entity_pads_init(&sd->entity, PREV_PADS_NUM, prev->pads);
  if (ret == 0) ret = v4l2_subdev_init_finalize(sd);
  if (ret < 0) return ret;

  prev->video_in.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
  prev->video_in.isp = isp;
  prev->video_in.capture_mem = 4096 * 4096 * 4;
  prev->video_in.bpl_alignment = 64;
  prev->video_out.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  prev->video_out.ops = &preview_video_ops;
  prev->video_out.isp = isp;
  prev->video_out.capture_mem = 4096 * 4096 * 4;
  prev->video_out.bpl_alignment = 32;
  ret = omap3isp_video_init(&prev->video_in, "preview");
  if (ret == 0) ret = omap3isp_video_init(&prev->video_out, "preview");
  return ret;
}

}  // namespace mcf
