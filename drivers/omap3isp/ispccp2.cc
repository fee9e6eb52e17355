// The CCP2 (CSI-1) receiver, after drivers/media/platform/ti/omap3isp/ispccp2.c.
//
// "OMAP3 ISP CCP2": sink pad 0 (SINK|MUST_CONNECT) fed by a sensor or by the
// video node "OMAP3 ISP CCP2 input" (reads from memory), one at a time
// (-EBUSY); source pad 1 to the CCDC. Formats: SGRBG10_1X10 and its DPCM8
// form on the sink; the source decompresses DPCM8 to 10 bits.
#include <cerrno>
#include <cstdio>

#include "drivers/omap3isp/isp.h"

namespace mcf {
namespace {

const uint32_t ccp2_fmts[] = {MEDIA_BUS_FMT_SGRBG10_1X10, MEDIA_BUS_FMT_SGRBG10_DPCM8_1X8};
constexpr uint32_t kCcp2MinSize = 64;
constexpr uint32_t kCcp2MaxSize = 4095;

isp_ccp2_device* to_ccp2(v4l2_subdev* sd) { return container_of(sd, isp_ccp2_device, subdev); }
isp_device* ccp2_isp(isp_ccp2_device* ccp2) { return container_of(ccp2, isp_device, isp_ccp2); }

void ccp2_try_format(isp_ccp2_device* ccp2, v4l2_subdev_state* state, unsigned pad,
                     v4l2_mbus_framefmt* fmt) {
  if (pad == CCP2_PAD_SINK) {
    if (fmt->code != MEDIA_BUS_FMT_SGRBG10_DPCM8_1X8) fmt->code = MEDIA_BUS_FMT_SGRBG10_1X10;
    if (ccp2->input.load() == CCP2_INPUT_MEMORY) {
      fmt->width = isp_clamp(fmt->width, kCcp2MinSize, kCcp2MaxSize);
      fmt->height = isp_clamp(fmt->height, 1, kCcp2MaxSize);
    }
  } else {
    // The source follows the sink, decompressed.
    *fmt = *v4l2_subdev_state_get_format(state, CCP2_PAD_SINK);
    fmt->code = MEDIA_BUS_FMT_SGRBG10_1X10;
  }
  fmt->field = V4L2_FIELD_NONE;
  fmt->colorspace = V4L2_COLORSPACE_SRGB;
}

int ccp2_set_format(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* fmt) {
  isp_ccp2_device* ccp2 = to_ccp2(sd);
  v4l2_mbus_framefmt* format = v4l2_subdev_state_get_format(state, fmt->pad);
  if (format == nullptr) return -EINVAL;
  ccp2_try_format(ccp2, state, fmt->pad, &fmt->format);
  *format = fmt->format;
  if (fmt->pad == CCP2_PAD_SINK) {
    v4l2_mbus_framefmt* source = v4l2_subdev_state_get_format(state, CCP2_PAD_SOURCE);
    ccp2_try_format(ccp2, state, CCP2_PAD_SOURCE, source);
  }
  return 0;
}

int ccp2_enum_mbus_code(v4l2_subdev* sd, v4l2_subdev_state* state,
                        v4l2_subdev_mbus_code_enum* code) {
  if (code->pad == CCP2_PAD_SINK) {
    if (code->index >= std::size(ccp2_fmts)) return -EINVAL;
    code->code = ccp2_fmts[code->index];
    return 0;
  }
  if (code->index != 0) return -EINVAL;
  code->code = v4l2_subdev_state_get_format(state, CCP2_PAD_SOURCE)->code;
  return 0;
}

int ccp2_init_state(v4l2_subdev* sd, v4l2_subdev_state* state) {
  v4l2_subdev_format format = {};
  format.pad = CCP2_PAD_SINK;
  format.format.code = MEDIA_BUS_FMT_SGRBG10_1X10;
  format.format.width = 4096;
  format.format.height = 4096;
  return ccp2_set_format(sd, state, &format);
}

int ccp2_s_stream(v4l2_subdev* sd, int enable) {
  isp_ccp2_device* ccp2 = to_ccp2(sd);
  isp_device* isp = ccp2_isp(ccp2);
  if (enable != 0) {
    isp_reg_set(isp, OMAP3_ISP_IOMEM_CCP2, ISPCCP2_CTRL, ISPCCP2_CTRL_IF_EN);
    ccp2->state.store(enable);
  } else {
    ccp2->state.store(ISP_PIPELINE_STREAM_STOPPED);
    isp_reg_clr(isp, OMAP3_ISP_IOMEM_CCP2, ISPCCP2_CTRL, ISPCCP2_CTRL_IF_EN);
  }
  return 0;
}

// ccp2_link_setup: the sink reads from memory or from a sensor; the source
// feeds the CCDC.
int ccp2_link_setup(media_entity* entity, const media_pad* local, const media_pad* remote,
                    uint32_t flags) {
  isp_ccp2_device* ccp2 = to_ccp2(media_entity_to_v4l2_subdev(entity));
  bool enable = (flags & MEDIA_LNK_FL_ENABLED) != 0;
  if (local->index == CCP2_PAD_SINK) {
    int mine = isp_remote_is_subdev(remote) ? CCP2_INPUT_SENSOR : CCP2_INPUT_MEMORY;
    int other = mine == CCP2_INPUT_SENSOR ? CCP2_INPUT_MEMORY : CCP2_INPUT_SENSOR;
    if (enable) {
      if (ccp2->input.load() == other) return -EBUSY;
      ccp2->input.store(mine);
    } else if (ccp2->input.load() == mine) {
      ccp2->input.store(CCP2_INPUT_NONE);
    }
    return 0;
  }
  if (local->index == CCP2_PAD_SOURCE && isp_remote_is_subdev(remote)) return 0;
  return -EINVAL;
}

const v4l2_subdev_video_ops ccp2_video_ops = {.s_stream = ccp2_s_stream};
const v4l2_subdev_pad_ops ccp2_pad_ops = {
    .enum_mbus_code = ccp2_enum_mbus_code,
    .get_fmt = v4l2_subdev_get_fmt,
    .set_fmt = ccp2_set_format,
};
const v4l2_subdev_ops ccp2_ops = {.video = &ccp2_video_ops, .pad = &ccp2_pad_ops};
const v4l2_subdev_internal_ops ccp2_internal_ops = {.init_state = ccp2_init_state};
const media_entity_operations ccp2_media_ops = {
    .link_setup = ccp2_link_setup,
    .link_validate = omap3isp_link_validate,
};

}  // namespace

// The receiver writes nothing to memory: its frame ends need no buffer.
void omap3isp_ccp2_isr(isp_ccp2_device* ccp2) {}

int omap3isp_ccp2_init(isp_device* isp) {
  isp_ccp2_device* ccp2 = &isp->isp_ccp2;
  v4l2_subdev* sd = &ccp2->subdev;
  v4l2_subdev_init(sd, &ccp2_ops);
  sd->internal_ops = &ccp2_internal_ops;
  std::snprintf(sd->name, sizeof(sd->name), "OMAP3 ISP CCP2");
  sd->grp_id = 1u << 16;
  sd->flags |= V4L2_SUBDEV_FL_HAS_DEVNODE;
  ccp2->pads[CCP2_PAD_SINK].flags = MEDIA_PAD_FL_SINK | MEDIA_PAD_FL_MUST_CONNECT;
  ccp2->pads[CCP2_PAD_SOURCE].flags = MEDIA_PAD_FL_SOURCE;
  sd->entity.ops = &ccp2_media_ops;
  int ret = media_entity_pads_init(&sd->entity, CCP2_PADS_NUM, ccp2->pads);
  if (ret == 0) ret = v4l2_subdev_init_finalize(sd);
  if (ret < 0) return ret;

  ccp2->video_in.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
  ccp2->video_in.isp = isp;
  ccp2->video_in.bpl_alignment = 32;
  ccp2->video_in.bpl_max = 0xffe0;
  ccp2->video_in.capture_mem = 4096 * 4096 * 3;
  return omap3isp_video_init(&ccp2->video_in, "CCP2");
}

}  // namespace mcf
