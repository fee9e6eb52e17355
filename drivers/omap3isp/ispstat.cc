// The statistics engines, after drivers/media/platform/ti/omap3isp/ispstat.c,
// isph3a_aewb.c, isph3a_af.c and isphist.c.
//
// "OMAP3 ISP AEWB", "OMAP3 ISP AF", "OMAP3 ISP histogram": one sink pad each
// (SINK|MUST_CONNECT), fed by the CCDC's video port through an ENABLED|
// IMMUTABLE link; no pad operations and no entity operations (upstream sets
// me->ops = NULL); events and a node. The pipeline starts and stops them with
// the CCDC. Their statistics buffers travel through private ioctls
// (VIDIOC_OMAP3ISP_*), which the model does not have: each engine counts the
// frames it processed instead.
#include <cstdio>

#include "drivers/omap3isp/isp.h"

namespace mcf {
namespace {

ispstat* to_stat(v4l2_subdev* sd) { return container_of(sd, ispstat, subdev); }

// Called by the pipeline walk with the CCDC (graph mutex held).
int isp_stat_s_stream(v4l2_subdev* sd, int enable) {
  ispstat* stat = to_stat(sd);
  isp_device* isp = stat->isp;
  if (enable != 0) {
    isp_reg_set(isp, stat->pcr_area, ISPH3A_PCR, stat->pcr_enable);
    stat->state.store(enable);
  } else {
    stat->state.store(ISP_PIPELINE_STREAM_STOPPED);
    isp_reg_clr(isp, stat->pcr_area, ISPH3A_PCR, stat->pcr_enable);
  }
  return 0;
}

const v4l2_subdev_video_ops stat_video_ops = {.s_stream = isp_stat_s_stream};
const v4l2_subdev_ops stat_ops = {.video = &stat_video_ops};

}  // namespace

void omap3isp_stat_isr(ispstat* stat) {
  if (stat->state.load() == ISP_PIPELINE_STREAM_STOPPED) return;
  stat->frames.fetch_add(1);
}

int omap3isp_stat_init(isp_device* isp, ispstat* stat, const char* name, uint32_t pcr_area,
                       uint32_t pcr_enable) {
  static_assert(ISPH3A_PCR == ISPHIST_PCR, "the engines' enable register is at offset 0");
  stat->isp = isp;
  stat->pcr_area = pcr_area;
  stat->pcr_enable = pcr_enable;
  v4l2_subdev* sd = &stat->subdev;
  v4l2_subdev_init(sd, &stat_ops);
  std::snprintf(sd->name, sizeof(sd->name), "OMAP3 ISP %s", name);
  sd->grp_id = 1u << 16;
  sd->flags |= V4L2_SUBDEV_FL_HAS_EVENTS | V4L2_SUBDEV_FL_HAS_DEVNODE;
  stat->pad.flags = MEDIA_PAD_FL_SINK | MEDIA_PAD_FL_MUST_CONNECT;
  sd->entity.ops = nullptr;
  int ret = media_entity_pads_init(&sd->entity, 1, &stat->pad);
  if (ret == 0) ret = v4l2_subdev_init_finalize(sd);
  return ret;
}

}  // namespace mcf
