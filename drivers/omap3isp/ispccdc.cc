// The CCDC, after drivers/media/platform/ti/omap3isp/ispccdc.c.
//
// "OMAP3 ISP CCDC": sink pad 0 (SINK|MUST_CONNECT), source pad 1 = output
// formatter (OF: to memory through "OMAP3 ISP CCDC output", or to the
// resizer), source pad 2 = video port (VP: to the preview engine, and always
// to the statistics engines through immutable links). One input and one
// output at a time (-EBUSY), as upstream's ccdc_link_setup. Formats: raw
// Bayer 8/10/12-bit, Y8/10/12 and YUV 2X8 on the sink (32..4096 pixels);
// OF = sink cropped (crop on the OF pad, widths multiple of 16); VP = sink
// truncated to 10 bits, one line less. link_validate accepts what the lane
// shifter can convert (up to 6 bits dropped). Lens shading, fault pixel
// correction and the private ioctls are not modelled.
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>

#include "drivers/omap3isp/isp.h"

namespace mcf {
namespace {

const uint32_t ccdc_fmts[] = {
    MEDIA_BUS_FMT_Y8_1X8,       MEDIA_BUS_FMT_Y10_1X10,     MEDIA_BUS_FMT_Y12_1X12,
    MEDIA_BUS_FMT_SGRBG8_1X8,   MEDIA_BUS_FMT_SRGGB8_1X8,   MEDIA_BUS_FMT_SBGGR8_1X8,
    MEDIA_BUS_FMT_SGBRG8_1X8,   MEDIA_BUS_FMT_SGRBG10_1X10, MEDIA_BUS_FMT_SRGGB10_1X10,
    MEDIA_BUS_FMT_SBGGR10_1X10, MEDIA_BUS_FMT_SGBRG10_1X10, MEDIA_BUS_FMT_SGRBG12_1X12,
    MEDIA_BUS_FMT_SRGGB12_1X12, MEDIA_BUS_FMT_SBGGR12_1X12, MEDIA_BUS_FMT_SGBRG12_1X12,
    MEDIA_BUS_FMT_YUYV8_2X8,    MEDIA_BUS_FMT_UYVY8_2X8,
};
constexpr uint32_t CCDC_MIN_WIDTH = 32;
constexpr uint32_t CCDC_MIN_HEIGHT = 32;
constexpr uint32_t CCDC_MAX_SIZE = 4096;

isp_ccdc_device* to_ccdc(v4l2_subdev* sd) { return container_of(sd, isp_ccdc_device, subdev); }
isp_device* ccdc_isp(isp_ccdc_device* ccdc) { return container_of(ccdc, isp_device, isp_ccdc); }

bool is_yuv_2x8(uint32_t code) {
  return code == MEDIA_BUS_FMT_YUYV8_2X8 || code == MEDIA_BUS_FMT_UYVY8_2X8;
}

// ccdc_try_crop: within the sink, even offsets for Bayer data, widths a
// multiple of 16 (the data formatter's unit).
void ccdc_try_crop(const v4l2_mbus_framefmt* sink, v4l2_rect* crop) {
  const isp_format_info* info = omap3isp_video_format_info(sink->code);
  if (info == nullptr || info->flavor != MEDIA_BUS_FMT_Y8_1X8) {
    crop->left &= ~1;
    crop->top &= ~1;
  }
  uint32_t left = isp_clamp(static_cast<uint32_t>(std::max(crop->left, 0)), 0,
                            sink->width - CCDC_MIN_WIDTH);
  uint32_t top = isp_clamp(static_cast<uint32_t>(std::max(crop->top, 0)), 0,
                           sink->height - CCDC_MIN_HEIGHT);
  uint32_t max_width = (sink->width - left + 15) & ~15u;
  crop->left = static_cast<int32_t>(left);
  crop->top = static_cast<int32_t>(top);
  crop->width = isp_clamp(crop->width, CCDC_MIN_WIDTH, max_width) & ~15u;
  crop->height = isp_clamp(crop->height, CCDC_MIN_HEIGHT, sink->height - top);
}

void ccdc_try_format(v4l2_subdev_state* state, unsigned pad, v4l2_mbus_framefmt* fmt) {
  const v4l2_mbus_framefmt* sink = v4l2_subdev_state_get_format(state, CCDC_PAD_SINK);
  uint32_t width = fmt->width;
  uint32_t height = fmt->height;
  uint32_t code = fmt->code;
  switch (pad) {
    case CCDC_PAD_SINK:
      if (std::find(std::begin(ccdc_fmts), std::end(ccdc_fmts), code) == std::end(ccdc_fmts))
        fmt->code = MEDIA_BUS_FMT_SGRBG10_1X10;
      fmt->width = isp_clamp(width, CCDC_MIN_WIDTH, CCDC_MAX_SIZE);
      fmt->height = isp_clamp(height, CCDC_MIN_HEIGHT, CCDC_MAX_SIZE);
      if (fmt->field == V4L2_FIELD_ANY) fmt->field = V4L2_FIELD_NONE;
      break;
    case CCDC_PAD_SOURCE_OF: {
      *fmt = *sink;
      // YUV is converted from 2X8 to 1X16 by the bridge and may be swapped.
      if (is_yuv_2x8(fmt->code)) {
        if (code == MEDIA_BUS_FMT_UYVY8_2X8 || code == MEDIA_BUS_FMT_UYVY8_1X16)
          fmt->code = MEDIA_BUS_FMT_UYVY8_1X16;
        else
          fmt->code = MEDIA_BUS_FMT_YUYV8_1X16;
      }
      // The output size is the crop rectangle's.
      const v4l2_rect* crop = v4l2_subdev_state_get_crop(state, CCDC_PAD_SOURCE_OF);
      fmt->width = crop->width;
      fmt->height = crop->height;
      break;
    }
    case CCDC_PAD_SOURCE_VP: {
      *fmt = *sink;
      // The video port truncates to 10 bits and carries no YUV.
      const isp_format_info* info = omap3isp_video_format_info(fmt->code);
      fmt->code = info != nullptr && !is_yuv_2x8(fmt->code) ? info->truncated : 0;
      // At least one line less than the input.
      fmt->width = isp_clamp(width, 32, sink->width);
      fmt->height = isp_clamp(height, 32, sink->height - 1);
      break;
    }
  }
  fmt->colorspace = V4L2_COLORSPACE_SRGB;
}

int ccdc_set_format(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* fmt) {
  v4l2_mbus_framefmt* format = v4l2_subdev_state_get_format(state, fmt->pad);
  if (format == nullptr) return -EINVAL;
  ccdc_try_format(state, fmt->pad, &fmt->format);
  *format = fmt->format;
  if (fmt->pad == CCDC_PAD_SINK) {
    // A new input resets the crop, then both source pads follow.
    v4l2_rect* crop = v4l2_subdev_state_get_crop(state, CCDC_PAD_SOURCE_OF);
    *crop = {0, 0, fmt->format.width, fmt->format.height};
    ccdc_try_crop(&fmt->format, crop);
    for (unsigned pad : {CCDC_PAD_SOURCE_OF, CCDC_PAD_SOURCE_VP}) {
      v4l2_mbus_framefmt* source = v4l2_subdev_state_get_format(state, pad);
      *source = fmt->format;
      ccdc_try_format(state, pad, source);
    }
  }
  return 0;
}

int ccdc_enum_mbus_code(v4l2_subdev* sd, v4l2_subdev_state* state,
                        v4l2_subdev_mbus_code_enum* code) {
  switch (code->pad) {
    case CCDC_PAD_SINK:
      if (code->index >= std::size(ccdc_fmts)) return -EINVAL;
      code->code = ccdc_fmts[code->index];
      return 0;
    case CCDC_PAD_SOURCE_OF: {
      uint32_t sink_code = v4l2_subdev_state_get_format(state, CCDC_PAD_SINK)->code;
      if (is_yuv_2x8(sink_code)) {
        if (code->index > 1) return -EINVAL;
        code->code = code->index == 0 ? MEDIA_BUS_FMT_YUYV8_1X16 : MEDIA_BUS_FMT_UYVY8_1X16;
        return 0;
      }
      if (code->index != 0) return -EINVAL;
      code->code = sink_code;
      return 0;
    }
    default: {
      uint32_t vp = v4l2_subdev_state_get_format(state, CCDC_PAD_SOURCE_VP)->code;
      if (code->index != 0 || vp == 0) return -EINVAL;  // 0: the port cannot carry it
      code->code = vp;
      return 0;
    }
  }
}

int ccdc_get_selection(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_selection* sel) {
  if (sel->pad != CCDC_PAD_SOURCE_OF) return -EINVAL;
  switch (sel->target) {
    case V4L2_SEL_TGT_CROP_BOUNDS:
      sel->r = {0, 0, INT_MAX, INT_MAX};
      ccdc_try_crop(v4l2_subdev_state_get_format(state, CCDC_PAD_SINK), &sel->r);
      return 0;
    case V4L2_SEL_TGT_CROP:
      sel->r = *v4l2_subdev_state_get_crop(state, CCDC_PAD_SOURCE_OF);
      return 0;
    default:
      return -EINVAL;
  }
}

int ccdc_set_selection(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_selection* sel) {
  if (sel->target != V4L2_SEL_TGT_CROP || sel->pad != CCDC_PAD_SOURCE_OF) return -EINVAL;
  // Not while streaming (the ACTIVE crop programs the hardware).
  if (sel->which == V4L2_SUBDEV_FORMAT_ACTIVE &&
      to_ccdc(sd)->state.load() != ISP_PIPELINE_STREAM_STOPPED)
    return -EBUSY;
  v4l2_rect* crop = v4l2_subdev_state_get_crop(state, CCDC_PAD_SOURCE_OF);
  if (sel->flags & V4L2_SEL_FLAG_KEEP_CONFIG) {
    sel->r = *crop;
    return 0;
  }
  ccdc_try_crop(v4l2_subdev_state_get_format(state, CCDC_PAD_SINK), &sel->r);
  *crop = sel->r;
  ccdc_try_format(state, CCDC_PAD_SOURCE_OF,
                  v4l2_subdev_state_get_format(state, CCDC_PAD_SOURCE_OF));
  return 0;
}

int ccdc_init_state(v4l2_subdev* sd, v4l2_subdev_state* state) {
  v4l2_subdev_format format = {};
  format.pad = CCDC_PAD_SINK;
  format.format.code = MEDIA_BUS_FMT_SGRBG10_1X10;
  format.format.width = 4096;
  format.format.height = 4096;
  return ccdc_set_format(sd, state, &format);
}

int ccdc_set_stream(v4l2_subdev* sd, int enable) {
  isp_ccdc_device* ccdc = to_ccdc(sd);
  isp_device* isp = ccdc_isp(ccdc);
  if (enable != 0) {
    isp_reg_set(isp, OMAP3_ISP_IOMEM_CCDC, ISPCCDC_PCR, ISPCCDC_PCR_EN);
    ccdc->state.store(enable);
  } else {
    ccdc->state.store(ISP_PIPELINE_STREAM_STOPPED);
    isp_reg_clr(isp, OMAP3_ISP_IOMEM_CCDC, ISPCCDC_PCR, ISPCCDC_PCR_EN);
  }
  return 0;
}

// ccdc_link_setup: one input; the VP (preview), OF->memory and OF->resizer
// outputs exclude each other ("no pipelines with multiple video outputs").
int ccdc_link_setup(media_entity* entity, const media_pad* local, const media_pad* remote,
                    uint32_t flags) {
  v4l2_subdev* sd = media_entity_to_v4l2_subdev(entity);
  isp_ccdc_device* ccdc = to_ccdc(sd);
  isp_device* isp = ccdc_isp(ccdc);
  bool enable = (flags & MEDIA_LNK_FL_ENABLED) != 0;
  bool from_subdev = isp_remote_is_subdev(remote);
  if (local->index == CCDC_PAD_SINK && from_subdev) {
    // From the sensor (parallel), CCP2, CSI2a or CSI2c.
    if (!enable) {
      ccdc->input.store(CCDC_INPUT_NONE);
      return 0;
    }
    if (ccdc->input.load() != CCDC_INPUT_NONE) return -EBUSY;
    if (remote->entity == &isp->isp_ccp2.subdev.entity)
      ccdc->input.store(CCDC_INPUT_CCP2B);
    else if (remote->entity == &isp->isp_csi2a.subdev.entity)
      ccdc->input.store(CCDC_INPUT_CSI2A);
    else
      ccdc->input.store(CCDC_INPUT_PARALLEL);
    return 0;
  }
  unsigned bit;
  if (local->index == CCDC_PAD_SOURCE_VP && from_subdev)
    bit = CCDC_OUTPUT_PREVIEW;
  else if (local->index == CCDC_PAD_SOURCE_OF && !from_subdev)
    bit = CCDC_OUTPUT_MEMORY;
  else if (local->index == CCDC_PAD_SOURCE_OF && from_subdev)
    bit = CCDC_OUTPUT_RESIZER;
  else
    return -EINVAL;
  if (enable) {
    if (ccdc->output.load() & ~bit) return -EBUSY;
    ccdc->output.fetch_or(bit);
  } else {
    ccdc->output.fetch_and(~bit);
  }
  return 0;
}

void ccdc_queue(isp_video* video, vb2_v4l2_buffer* buffer) {
  isp_ccdc_device* ccdc = container_of(video, isp_ccdc_device, video_out);
  isp_reg_writel(ccdc_isp(ccdc), buffer->vb2_buf.index + 1, OMAP3_ISP_IOMEM_CCDC,
                 ISPCCDC_SDR_ADDR);
}

const isp_video_operations ccdc_video_ops = {.queue = ccdc_queue};
const v4l2_subdev_video_ops ccdc_v4l2_video_ops = {.s_stream = ccdc_set_stream};
const v4l2_subdev_pad_ops ccdc_v4l2_pad_ops = {
    .enum_mbus_code = ccdc_enum_mbus_code,
    .get_fmt = v4l2_subdev_get_fmt,
    .set_fmt = ccdc_set_format,
    .get_selection = ccdc_get_selection,
    .set_selection = ccdc_set_selection,
};
const v4l2_subdev_ops ccdc_v4l2_ops = {.video = &ccdc_v4l2_video_ops, .pad = &ccdc_v4l2_pad_ops};
const v4l2_subdev_internal_ops ccdc_v4l2_internal_ops = {.init_state = ccdc_init_state};
const media_entity_operations ccdc_media_ops = {
    .link_setup = ccdc_link_setup,
    .link_validate = omap3isp_link_validate,
};

}  // namespace

// VD0/VD1: the frame the output formatter wrote is complete.
void omap3isp_ccdc_isr(isp_ccdc_device* ccdc) {
  if (ccdc->state.load() == ISP_PIPELINE_STREAM_STOPPED) return;
  if (ccdc->output.load() & CCDC_OUTPUT_MEMORY) omap3isp_video_frame_done(&ccdc->video_out);
}

int omap3isp_ccdc_init(isp_device* isp) {
  isp_ccdc_device* ccdc = &isp->isp_ccdc;
  v4l2_subdev* sd = &ccdc->subdev;
  v4l2_subdev_init(sd, &ccdc_v4l2_ops);
  sd->internal_ops = &ccdc_v4l2_internal_ops;
  std::snprintf(sd->name, sizeof(sd->name), "OMAP3 ISP CCDC");
  sd->grp_id = 1u << 16;
  sd->flags |= V4L2_SUBDEV_FL_HAS_EVENTS | V4L2_SUBDEV_FL_HAS_DEVNODE;
  ccdc->pads[CCDC_PAD_SINK].flags = MEDIA_PAD_FL_SINK | MEDIA_PAD_FL_MUST_CONNECT;
  ccdc->pads[CCDC_PAD_SOURCE_VP].flags = MEDIA_PAD_FL_SOURCE;
  ccdc->pads[CCDC_PAD_SOURCE_OF].flags = MEDIA_PAD_FL_SOURCE;
  sd->entity.ops = &ccdc_media_ops;
  int ret = media_entity_pads_init(&sd->entity, CCDC_PADS_NUM, ccdc->pads);
  if (ret == 0) ret = v4l2_subdev_init_finalize(sd);
  if (ret < 0) return ret;

  ccdc->video_out.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  ccdc->video_out.ops = &ccdc_video_ops;
  ccdc->video_out.isp = isp;
  ccdc->video_out.capture_mem = 4096 * 4096 * 3;
  ccdc->video_out.bpl_alignment = 32;
  return omap3isp_video_init(&ccdc->video_out, "CCDC");
}

}  // namespace mcf
