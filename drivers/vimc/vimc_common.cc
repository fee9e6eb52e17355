// Shared helpers of the vimc model. Upstream:
// drivers/media/test-drivers/vimc/vimc-common.c.
#include "drivers/vimc/vimc_common.h"

#include <cerrno>
#include <cstdio>

#include "core/kernel/fault.h"
#include "core/kernel/kerrno.h"

namespace mcf {
namespace {

// Non-bayer formats come first: the scaler's enum_mbus_code relies on it.
const vimc_pix_map vimc_pix_map_list[] = {
    // RGB formats
    {{MEDIA_BUS_FMT_BGR888_1X24, MEDIA_BUS_FMT_BGR888_3X8}, 3, V4L2_PIX_FMT_BGR24, false},
    {{MEDIA_BUS_FMT_RGB888_1X24, MEDIA_BUS_FMT_RGB888_2X12_BE, MEDIA_BUS_FMT_RGB888_2X12_LE,
      MEDIA_BUS_FMT_RGB888_3X8, MEDIA_BUS_FMT_RGB888_1X7X4_SPWG, MEDIA_BUS_FMT_RGB888_1X7X4_JEIDA,
      MEDIA_BUS_FMT_RGB888_1X32_PADHI, MEDIA_BUS_FMT_GBR888_1X24},
     3,
     V4L2_PIX_FMT_RGB24,
     false},
    {{MEDIA_BUS_FMT_ARGB8888_1X32}, 4, V4L2_PIX_FMT_ARGB32, false},
    // Bayer formats
    {{MEDIA_BUS_FMT_SBGGR8_1X8}, 1, V4L2_PIX_FMT_SBGGR8, true},
    {{MEDIA_BUS_FMT_SGBRG8_1X8}, 1, V4L2_PIX_FMT_SGBRG8, true},
    {{MEDIA_BUS_FMT_SGRBG8_1X8}, 1, V4L2_PIX_FMT_SGRBG8, true},
    {{MEDIA_BUS_FMT_SRGGB8_1X8}, 1, V4L2_PIX_FMT_SRGGB8, true},
    {{MEDIA_BUS_FMT_SBGGR10_1X10}, 2, V4L2_PIX_FMT_SBGGR10, true},
    {{MEDIA_BUS_FMT_SGBRG10_1X10}, 2, V4L2_PIX_FMT_SGBRG10, true},
    {{MEDIA_BUS_FMT_SGRBG10_1X10}, 2, V4L2_PIX_FMT_SGRBG10, true},
    {{MEDIA_BUS_FMT_SRGGB10_1X10}, 2, V4L2_PIX_FMT_SRGGB10, true},
    // 10-bit raw bayer, a-law compressed to 8 bits
    {{MEDIA_BUS_FMT_SBGGR10_ALAW8_1X8}, 1, V4L2_PIX_FMT_SBGGR10ALAW8, true},
    {{MEDIA_BUS_FMT_SGBRG10_ALAW8_1X8}, 1, V4L2_PIX_FMT_SGBRG10ALAW8, true},
    {{MEDIA_BUS_FMT_SGRBG10_ALAW8_1X8}, 1, V4L2_PIX_FMT_SGRBG10ALAW8, true},
    {{MEDIA_BUS_FMT_SRGGB10_ALAW8_1X8}, 1, V4L2_PIX_FMT_SRGGB10ALAW8, true},
    // 10-bit raw bayer, DPCM compressed to 8 bits
    {{MEDIA_BUS_FMT_SBGGR10_DPCM8_1X8}, 1, V4L2_PIX_FMT_SBGGR10DPCM8, true},
    {{MEDIA_BUS_FMT_SGBRG10_DPCM8_1X8}, 1, V4L2_PIX_FMT_SGBRG10DPCM8, true},
    {{MEDIA_BUS_FMT_SGRBG10_DPCM8_1X8}, 1, V4L2_PIX_FMT_SGRBG10DPCM8, true},
    {{MEDIA_BUS_FMT_SRGGB10_DPCM8_1X8}, 1, V4L2_PIX_FMT_SRGGB10DPCM8, true},
    {{MEDIA_BUS_FMT_SBGGR12_1X12}, 2, V4L2_PIX_FMT_SBGGR12, true},
    {{MEDIA_BUS_FMT_SGBRG12_1X12}, 2, V4L2_PIX_FMT_SGBRG12, true},
    {{MEDIA_BUS_FMT_SGRBG12_1X12}, 2, V4L2_PIX_FMT_SGRBG12, true},
    {{MEDIA_BUS_FMT_SRGGB12_1X12}, 2, V4L2_PIX_FMT_SRGGB12, true},
};

// The pixel format of the other end of a link (vimc_get_pix_format): a
// sub-device's ACTIVE pad format, or a capture node's format.
int vimc_get_pix_format(media_pad* pad, v4l2_pix_format* fmt) {
  if (is_media_entity_v4l2_subdev(pad->entity)) {
    v4l2_subdev* sd = media_entity_to_v4l2_subdev(pad->entity);
    v4l2_subdev_format sd_fmt = {};
    sd_fmt.which = V4L2_SUBDEV_FORMAT_ACTIVE;
    sd_fmt.pad = pad->index;
    int ret = v4l2_subdev_call(sd, pad, get_fmt, nullptr, &sd_fmt);
    if (ret != 0) return ret;
    // v4l2_fill_pix_format()
    *fmt = {};
    fmt->width = sd_fmt.format.width;
    fmt->height = sd_fmt.format.height;
    fmt->field = sd_fmt.format.field;
    fmt->colorspace = sd_fmt.format.colorspace;
    fmt->ycbcr_enc = sd_fmt.format.ycbcr_enc;
    fmt->quantization = sd_fmt.format.quantization;
    fmt->xfer_func = sd_fmt.format.xfer_func;
    const vimc_pix_map* vpix = vimc_pix_map_by_code(sd_fmt.format.code);
    // Every vimc sub-device keeps a code of the table (set_fmt adjusts it).
    fmt->pixelformat = vpix != nullptr ? vpix->pixelformat : 0;
    return 0;
  }
  if (is_media_entity_v4l2_video_device(pad->entity)) {
    vimc_ent_device* ved = vimc_ent_device_of(
        container_of(pad->entity->graph_obj.mdev, vimc_device, mdev), pad->entity);
    if (ved == nullptr || ved->vdev_get_format == nullptr) return -ENOIOCTLCMD;
    ved->vdev_get_format(ved, fmt);
    return 0;
  }
  return -EINVAL;
}

int vimc_subdev_get_active_fmt(media_pad* pad, v4l2_subdev_format* fmt) {
  v4l2_subdev* sd = media_entity_to_v4l2_subdev(pad->entity);
  *fmt = {};
  fmt->which = V4L2_SUBDEV_FORMAT_ACTIVE;
  fmt->pad = pad->index;
  return v4l2_subdev_call(sd, pad, get_fmt, nullptr, fmt);
}

const media_entity_operations vimc_ent_sd_mops = {.link_validate = vimc_subdev_link_validate};

}  // namespace

const vimc_pix_map* vimc_pix_map_by_index(unsigned i) {
  return i < std::size(vimc_pix_map_list) ? &vimc_pix_map_list[i] : nullptr;
}

uint32_t vimc_mbus_code_by_index(unsigned index) {
  for (const vimc_pix_map& vpix : vimc_pix_map_list) {
    for (uint32_t code : vpix.code) {
      if (code == 0) break;
      if (index == 0) return code;
      index--;
    }
  }
  return 0;
}

const vimc_pix_map* vimc_pix_map_by_code(uint32_t code) {
  if (code == 0) return nullptr;
  for (const vimc_pix_map& vpix : vimc_pix_map_list)
    for (uint32_t c : vpix.code)
      if (c == code) return &vpix;
  return nullptr;
}

const vimc_pix_map* vimc_pix_map_by_pixelformat(uint32_t pixelformat) {
  for (const vimc_pix_map& vpix : vimc_pix_map_list)
    if (vpix.pixelformat == pixelformat) return &vpix;
  return nullptr;
}

vimc_ent_device* vimc_ent_device_of(vimc_device* vimc, const media_entity* entity) {
  for (vimc_ent_device* ved : vimc->ent_devs)
    if (ved != nullptr && ved->ent == entity) return ved;
  return nullptr;
}

bool vimc_is_source(const media_entity* ent) {
  for (uint16_t i = 0; i < ent->num_pads; ++i)
    if (ent->pads[i].flags & MEDIA_PAD_FL_SINK) return false;
  return true;
}

int vimc_vdev_link_validate(media_link* link) {
  v4l2_pix_format source_fmt, sink_fmt;
  int ret = vimc_get_pix_format(link->source, &source_fmt);
  if (ret != 0) return ret;
  ret = vimc_get_pix_format(link->sink, &sink_fmt);
  if (ret != 0) return ret;

  // The width, height and pixel format must match.
  if (source_fmt.width != sink_fmt.width || source_fmt.height != sink_fmt.height ||
      source_fmt.pixelformat != sink_fmt.pixelformat)
    return -EPIPE;
  // The field order must match, or the sink's be NONE (interlaced hardware
  // feeding a progressive-only bridge).
  if (source_fmt.field != sink_fmt.field && sink_fmt.field != V4L2_FIELD_NONE) return -EPIPE;
  // DEFAULT colorspace on either side: the rest of the colorimetry is too.
  if (source_fmt.colorspace == V4L2_COLORSPACE_DEFAULT ||
      sink_fmt.colorspace == V4L2_COLORSPACE_DEFAULT)
    return 0;
  if (source_fmt.colorspace != sink_fmt.colorspace) return -EPIPE;
  if (source_fmt.ycbcr_enc != V4L2_YCBCR_ENC_DEFAULT &&
      sink_fmt.ycbcr_enc != V4L2_YCBCR_ENC_DEFAULT && source_fmt.ycbcr_enc != sink_fmt.ycbcr_enc)
    return -EPIPE;
  if (source_fmt.quantization != V4L2_QUANTIZATION_DEFAULT &&
      sink_fmt.quantization != V4L2_QUANTIZATION_DEFAULT &&
      source_fmt.quantization != sink_fmt.quantization)
    return -EPIPE;
  if (source_fmt.xfer_func != V4L2_XFER_FUNC_DEFAULT &&
      sink_fmt.xfer_func != V4L2_XFER_FUNC_DEFAULT && source_fmt.xfer_func != sink_fmt.xfer_func)
    return -EPIPE;
  return 0;
}

int vimc_subdev_link_validate(media_link* link) {
  // Called by media_pipeline_start() with the graph mutex held, for each
  // enabled link whose sink is a vimc sub-device.
  if (!is_media_entity_v4l2_subdev(link->sink->entity)) return -EINVAL;
  if (!is_media_entity_v4l2_subdev(link->source->entity)) return 0;  // upstream: warn, accept
  v4l2_subdev_format source_fmt, sink_fmt;
  int ret = vimc_subdev_get_active_fmt(link->source, &source_fmt);
  if (ret == 0) ret = vimc_subdev_get_active_fmt(link->sink, &sink_fmt);
  if (ret != 0) return ret;
  // v4l2_subdev_link_validate_default()
  bool pass = source_fmt.format.width == sink_fmt.format.width &&
              source_fmt.format.height == sink_fmt.format.height &&
              source_fmt.format.code == sink_fmt.format.code;
  if (source_fmt.format.field != sink_fmt.format.field &&
      sink_fmt.format.field != V4L2_FIELD_NONE)
    pass = false;
  return pass ? 0 : -EPIPE;
}

int vimc_ent_sd_register(vimc_ent_device* ved, v4l2_subdev* sd, vimc_device* vimc,
                         const char* name, uint32_t function, uint16_t num_pads,
                         media_pad* pads, const v4l2_subdev_internal_ops* int_ops,
                         const v4l2_subdev_ops* sd_ops, bool has_controls) {
  ved->vimc = vimc;
  ved->dev = &vimc->pdev->dev;
  ved->ent = &sd->entity;

  // 1. The sub-device, with the driver's reference (R4).
  v4l2_subdev_init(sd, sd_ops);
  sd->internal_ops = int_ops;
  sd->entity.function = function;
  sd->entity.ops = &vimc_ent_sd_mops;
  sd->dev = &vimc->pdev->dev;
  sd->dev_priv = ved;
  std::snprintf(sd->name, sizeof(sd->name), "%s", name);
  // 2. Exposed to user space through a node; upstream's entities with a
  //    control handler also get events (the model has no controls, the flag
  //    only changes what poll() answers).
  sd->flags |= V4L2_SUBDEV_FL_HAS_DEVNODE;
  if (has_controls) sd->flags |= V4L2_SUBDEV_FL_HAS_EVENTS;
  // 3. The pads and, for types with init_state, the ACTIVE state.
  int ret = media_entity_pads_init(&sd->entity, num_pads, pads);
  if (ret == 0 && int_ops != nullptr && int_ops->init_state != nullptr)
    ret = v4l2_subdev_init_finalize(sd);
  // 4. Into the v4l2_device's list and the media graph.
  if (ret == 0) ret = v4l2_device_register_subdev(&vimc->v4l2_dev, sd);
  if (ret != 0) {
    // Unwind: the driver's reference was the only one; its release frees
    // the ACTIVE state, the memory stays for the media device release.
    v4l2_subdev_put(sd);
  }
  return ret;
}

int vimc_frame_alloc(std::vector<uint8_t>* frame, size_t size) {
  if (int err = fault_point("vmalloc", "vimc frame", -ENOMEM)) return err;
  frame->assign(size, 0);
  return 0;
}

}  // namespace mcf
