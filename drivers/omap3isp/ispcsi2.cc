// The CSI-2 receiver A, after drivers/media/platform/ti/omap3isp/ispcsi2.c.
//
// "OMAP3 ISP CSI2a": sink pad 0 (SINK|MUST_CONNECT) fed by the sensor
// (an ENABLED|IMMUTABLE link created in bound()), source pad 1 to the CCDC
// and to its video node "OMAP3 ISP CSI2a output" (writes to memory), one
// at a time (-EBUSY). Formats: the raw Bayer 10-bit codes, their
// DPCM8 compressed forms and YUYV8_2X8 on the sink; the source follows the
// sink, or decompresses DPCM8 to 10 bits. CSI2c (ISP 15.0) is not
// registered, as upstream.
#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "drivers/omap3isp/isp.h"

namespace mcf {
namespace {

const uint32_t csi2_input_fmts[] = {
    MEDIA_BUS_FMT_SGRBG10_1X10, MEDIA_BUS_FMT_SGRBG10_DPCM8_1X8,
    MEDIA_BUS_FMT_SRGGB10_1X10, MEDIA_BUS_FMT_SRGGB10_DPCM8_1X8,
    MEDIA_BUS_FMT_SBGGR10_1X10, MEDIA_BUS_FMT_SBGGR10_DPCM8_1X8,
    MEDIA_BUS_FMT_SGBRG10_1X10, MEDIA_BUS_FMT_SGBRG10_DPCM8_1X8,
    MEDIA_BUS_FMT_YUYV8_2X8,
};
constexpr uint32_t kCsi2MaxSize = 8191;

isp_csi2_device* to_csi2(v4l2_subdev* sd) { return container_of(sd, isp_csi2_device, subdev); }
isp_device* csi2_isp(isp_csi2_device* csi2) { return container_of(csi2, isp_device, isp_csi2a); }

// csi2_try_format, with the state locked.
void csi2_try_format(v4l2_subdev_state* state, unsigned pad, v4l2_mbus_framefmt* fmt) {
  if (pad == CSI2_PAD_SINK) {
    if (std::find(std::begin(csi2_input_fmts), std::end(csi2_input_fmts), fmt->code) ==
        std::end(csi2_input_fmts))
      fmt->code = MEDIA_BUS_FMT_SGRBG10_1X10;
    fmt->width = isp_clamp(fmt->width, 1, kCsi2MaxSize);
    fmt->height = isp_clamp(fmt->height, 1, kCsi2MaxSize);
  } else {
    // The source pad follows the sink; DPCM8 may be decompressed.
    uint32_t code = fmt->code;
    *fmt = *v4l2_subdev_state_get_format(state, CSI2_PAD_SINK);
    const isp_format_info* info = omap3isp_video_format_info(fmt->code);
    if (info != nullptr && code == info->uncompressed) fmt->code = code;
  }
  fmt->colorspace = V4L2_COLORSPACE_SRGB;
  fmt->field = V4L2_FIELD_NONE;
}

int csi2_set_format(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* fmt) {
  v4l2_mbus_framefmt* format = v4l2_subdev_state_get_format(state, fmt->pad);
  if (format == nullptr) return -EINVAL;
  csi2_try_format(state, fmt->pad, &fmt->format);
  *format = fmt->format;
  // Propagate to the source pad.
  if (fmt->pad == CSI2_PAD_SINK) {
    v4l2_mbus_framefmt* source = v4l2_subdev_state_get_format(state, CSI2_PAD_SOURCE);
    *source = fmt->format;
    csi2_try_format(state, CSI2_PAD_SOURCE, source);
  }
  return 0;
}

int csi2_enum_mbus_code(v4l2_subdev* sd, v4l2_subdev_state* state,
                        v4l2_subdev_mbus_code_enum* code) {
  if (code->pad == CSI2_PAD_SINK) {
    if (code->index >= std::size(csi2_input_fmts)) return -EINVAL;
    code->code = csi2_input_fmts[code->index];
    return 0;
  }
  const v4l2_mbus_framefmt* sink = v4l2_subdev_state_get_format(state, CSI2_PAD_SINK);
  const isp_format_info* info = omap3isp_video_format_info(sink->code);
  if (code->index == 0) {
    code->code = sink->code;
  } else if (code->index == 1 && info != nullptr && info->uncompressed != sink->code) {
    code->code = info->uncompressed;
  } else {
    return -EINVAL;
  }
  return 0;
}

int csi2_enum_frame_size(v4l2_subdev* sd, v4l2_subdev_state* state,
                         v4l2_subdev_frame_size_enum* fse) {
  if (fse->index != 0) return -EINVAL;
  v4l2_mbus_framefmt f = {};
  f.code = fse->code;
  f.width = 1;
  f.height = 1;
  csi2_try_format(state, fse->pad, &f);
  if (f.code != fse->code) return -EINVAL;
  fse->min_width = f.width;
  fse->min_height = f.height;
  f.width = f.height = ~0u;
  csi2_try_format(state, fse->pad, &f);
  fse->max_width = f.width;
  fse->max_height = f.height;
  return 0;
}

int csi2_init_state(v4l2_subdev* sd, v4l2_subdev_state* state) {
  v4l2_subdev_format format = {};
  format.pad = CSI2_PAD_SINK;
  format.format.code = MEDIA_BUS_FMT_SGRBG10_1X10;
  format.format.width = 4096;
  format.format.height = 4096;
  return csi2_set_format(sd, state, &format);
}

// Called by the pipeline walk (graph mutex held) while the ISP is bound.
int csi2_set_stream(v4l2_subdev* sd, int enable) {
  isp_csi2_device* csi2 = to_csi2(sd);
  isp_device* isp = csi2_isp(csi2);
  if (enable != 0) {
    isp_reg_set(isp, OMAP3_ISP_IOMEM_CSI2A, ISPCSI2_CTRL, ISPCSI2_CTRL_IF_EN);
    csi2->state.store(enable);
  } else {
    csi2->state.store(ISP_PIPELINE_STREAM_STOPPED);
    isp_reg_clr(isp, OMAP3_ISP_IOMEM_CSI2A, ISPCSI2_CTRL, ISPCSI2_CTRL_IF_EN);
  }
  return 0;
}

// csi2_link_setup: the source writes to memory or feeds the CCDC, not both;
// the sensor link is immutable (-EINVAL for any other pad).
int csi2_link_setup(media_entity* entity, const media_pad* local, const media_pad* remote,
                    uint32_t flags) {
  isp_csi2_device* csi2 = to_csi2(media_entity_to_v4l2_subdev(entity));
  unsigned bit;
  if (local->index == CSI2_PAD_SOURCE && !isp_remote_is_subdev(remote)) {
    bit = CSI2_OUTPUT_MEMORY;
  } else if (local->index == CSI2_PAD_SOURCE) {
    bit = CSI2_OUTPUT_CCDC;
  } else {
    return -EINVAL;
  }
  if (flags & MEDIA_LNK_FL_ENABLED) {
    // No pipeline with two video outputs: one output at a time.
    if (csi2->output.load() & ~bit) return -EBUSY;
    csi2->output.fetch_or(bit);
  } else {
    csi2->output.fetch_and(~bit);
  }
  return 0;
}

void csi2_queue(isp_video* video, vb2_v4l2_buffer* buffer) {
  isp_csi2_device* csi2 = container_of(video, isp_csi2_device, video_out);
  isp_reg_writel(csi2_isp(csi2), buffer->vb2_buf.index + 1, OMAP3_ISP_IOMEM_CSI2A,
                 ISPCSI2_CTX_DAT_PING_ADDR);
}

const isp_video_operations csi2_video_ops = {.queue = csi2_queue};
const v4l2_subdev_video_ops csi2_video_ops_sd = {.s_stream = csi2_set_stream};
const v4l2_subdev_pad_ops csi2_pad_ops = {
    .enum_mbus_code = csi2_enum_mbus_code,
    .enum_frame_size = csi2_enum_frame_size,
    .get_fmt = v4l2_subdev_get_fmt,
    .set_fmt = csi2_set_format,
};
const v4l2_subdev_ops csi2_ops = {.video = &csi2_video_ops_sd, .pad = &csi2_pad_ops};
const v4l2_subdev_internal_ops csi2_internal_ops = {.init_state = csi2_init_state};
const media_entity_operations csi2_media_ops = {
    .link_setup = csi2_link_setup,
    .link_validate = omap3isp_link_validate,
};

}  // namespace

void omap3isp_csi2_isr(isp_csi2_device* csi2) {
  if (csi2->state.load() == ISP_PIPELINE_STREAM_STOPPED) return;
  // A frame end: the context's buffer is complete if we write to memory.
  if (csi2->output.load() & CSI2_OUTPUT_MEMORY) omap3isp_video_frame_done(&csi2->video_out);
}

int omap3isp_csi2_init(isp_device* isp) {
  isp_csi2_device* csi2 = &isp->isp_csi2a;
  v4l2_subdev* sd = &csi2->subdev;
  v4l2_subdev_init(sd, &csi2_ops);  // the driver's reference
  sd->internal_ops = &csi2_internal_ops;
  std::snprintf(sd->name, sizeof(sd->name), "OMAP3 ISP CSI2a");
  sd->grp_id = 1u << 16;  // group id of the ISP sub-devices
  sd->flags |= V4L2_SUBDEV_FL_HAS_DEVNODE;
  csi2->pads[CSI2_PAD_SINK].flags = MEDIA_PAD_FL_SINK | MEDIA_PAD_FL_MUST_CONNECT;
  csi2->pads[CSI2_PAD_SOURCE].flags = MEDIA_PAD_FL_SOURCE;
  sd->entity.ops = &csi2_media_ops;
  int ret = media_entity_pads_init(&sd->entity, CSI2_PADS_NUM, csi2->pads);
  if (ret == 0) ret = v4l2_subdev_init_finalize(sd);
  if (ret < 0) return ret;

  csi2->video_out.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  csi2->video_out.ops = &csi2_video_ops;
  csi2->video_out.isp = isp;
  csi2->video_out.capture_mem = 4096 * 4096 * 3;
  csi2->video_out.bpl_alignment = 32;
  csi2->video_out.bpl_zero_padding = true;
  csi2->video_out.bpl_max = 0x1ffe0;
  return omap3isp_video_init(&csi2->video_out, "CSI2a");
}

}  // namespace mcf
