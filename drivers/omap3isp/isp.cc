// The OMAP3 ISP core: probe/remove, the media device and its release, the
// async notifier, links, power, the IRQ and the pipelines. After
// drivers/media/platform/ti/omap3isp/isp.c; see isp.h for the lifetime rules
// and where the model departs from upstream.
//
// Topology (upstream's, ids as media-ctl printed them on 4.11):
//   1 OMAP3 ISP CCP2            0 sink, 1 source        v4l-subdev
//   4 OMAP3 ISP CCP2 input      0 source                video (OUTPUT)
//   8 OMAP3 ISP CSI2a           0 sink, 1 source        v4l-subdev
//  11 OMAP3 ISP CSI2a output    0 sink                  video
//  15 OMAP3 ISP CCDC            0 sink, 1 OF, 2 VP      v4l-subdev
//  19 OMAP3 ISP CCDC output     0 sink                  video
//  23 OMAP3 ISP preview         0 sink, 1 source        v4l-subdev
//  26/30 preview input/output                           video
//  34 OMAP3 ISP resizer         0 sink, 1 source        v4l-subdev
//  37/41 resizer input/output (output: MEDIA_ENT_FL_DEFAULT)
//  45/47/49 OMAP3 ISP AEWB / AF / histogram   0 sink    v4l-subdev
// Links (isp_create_links, all 0 = disabled and mutable unless said):
//   CSI2a:1->CSI2a output:0, CCP2 input:0->CCP2:0, CCDC:1->CCDC output:0,
//   preview input:0->preview:0, preview:1->preview output:0,
//   resizer input:0->resizer:0, resizer:1->resizer output:0,
//   CSI2a:1->CCDC:0, CCP2:1->CCDC:0, CCDC:2->preview:0, CCDC:1->resizer:0,
//   preview:1->resizer:0, CCDC:2->AEWB:0 / AF:0 / histogram:0 ENABLED|IMMUTABLE.
// The sensor's source pad goes to CSI2a:0 (ENABLED|IMMUTABLE), CCP2:0 (0)
// or CCDC:0 (0), per its endpoint, in bound().
#include "drivers/omap3isp/isp.h"

#include <cerrno>
#include <cstdio>
#include <map>
#include <mutex>

#include "core/kernel/report.h"
#include "core/kernel/slab.h"
#include "drivers/omap3isp/omap3isp.h"

namespace mcf {

// --- Registers.

uint32_t isp_reg_readl(isp_device* isp, uint32_t area, uint32_t reg) {
  return readl(isp->regs, area + reg);
}
void isp_reg_writel(isp_device* isp, uint32_t value, uint32_t area, uint32_t reg) {
  writel(value, isp->regs, area + reg);
}
void isp_reg_set(isp_device* isp, uint32_t area, uint32_t reg, uint32_t bits) {
  isp_reg_writel(isp, isp_reg_readl(isp, area, reg) | bits, area, reg);
}
void isp_reg_clr(isp_device* isp, uint32_t area, uint32_t reg, uint32_t bits) {
  isp_reg_writel(isp, isp_reg_readl(isp, area, reg) & ~bits, area, reg);
}

uint32_t isp_clamp(uint32_t v, uint32_t lo, uint32_t hi) {
  return v < lo ? lo : (v > hi ? (hi < lo ? lo : hi) : v);
}

namespace {

// The "device tree": endpoint per ISP id (omap3isp_set_endpoint).
std::mutex g_endpoints_lock;
std::map<int, omap3isp_endpoint>& endpoints() {
  static auto* m = new std::map<int, omap3isp_endpoint>();
  return *m;
}

isp_interface_type isp_parse_endpoint(int id) {
  std::lock_guard<std::mutex> g(g_endpoints_lock);
  auto it = endpoints().find(id);
  omap3isp_endpoint ep = it == endpoints().end() ? OMAP3ISP_EP_CSI2A : it->second;
  switch (ep) {
    case OMAP3ISP_EP_CCP2:
      return ISP_INTERFACE_CCP2B_PHY1;
    case OMAP3ISP_EP_PARALLEL:
      return ISP_INTERFACE_PARALLEL;
    case OMAP3ISP_EP_CSI2A:
      break;
  }
  return ISP_INTERFACE_CSI2A_PHY2;
}

// --- The simulated hardware.
//
// The model's ISP raises, at each frame end, the "done" interrupt of every
// module whose enable bit is set, exactly as the silicon latches them in
// IRQ0STATUS. An interrupt delivered on the line (irq_fire) is such a frame
// end: the handler first lets the hardware latch its events (register
// accesses, so a late interrupt is reported as R15), then handles them as
// upstream's isp_isr does.
void isp_hw_latch_frame_end(isp_device* isp) {
  uint32_t events = 0;
  if (isp_reg_readl(isp, OMAP3_ISP_IOMEM_CSI2A, ISPCSI2_CTRL) & ISPCSI2_CTRL_IF_EN)
    events |= IRQ0STATUS_CSIA_IRQ;
  if (isp_reg_readl(isp, OMAP3_ISP_IOMEM_CCP2, ISPCCP2_CTRL) & ISPCCP2_CTRL_IF_EN)
    events |= IRQ0STATUS_CSIB_IRQ;
  if (isp_reg_readl(isp, OMAP3_ISP_IOMEM_CCDC, ISPCCDC_PCR) & ISPCCDC_PCR_EN)
    events |= IRQ0STATUS_CCDC_VD0_IRQ | IRQ0STATUS_CCDC_VD1_IRQ | IRQ0STATUS_HS_VS_IRQ;
  if (isp_reg_readl(isp, OMAP3_ISP_IOMEM_PREV, ISPPRV_PCR) & ISPPRV_PCR_EN)
    events |= IRQ0STATUS_PRV_DONE_IRQ;
  if (isp_reg_readl(isp, OMAP3_ISP_IOMEM_RESZ, ISPRSZ_PCR) & ISPRSZ_PCR_ENABLE)
    events |= IRQ0STATUS_RSZ_DONE_IRQ;
  uint32_t h3a = isp_reg_readl(isp, OMAP3_ISP_IOMEM_H3A, ISPH3A_PCR);
  if (h3a & ISPH3A_PCR_AEW_EN) events |= IRQ0STATUS_H3A_AWB_DONE_IRQ;
  if (h3a & ISPH3A_PCR_AF_EN) events |= IRQ0STATUS_H3A_AF_DONE_IRQ;
  if (isp_reg_readl(isp, OMAP3_ISP_IOMEM_HIST, ISPHIST_PCR) & ISPHIST_PCR_ENABLE)
    events |= IRQ0STATUS_HIST_DONE_IRQ;
  uint32_t enabled = isp_reg_readl(isp, OMAP3_ISP_IOMEM_MAIN, ISP_IRQ0ENABLE);
  isp_reg_set(isp, OMAP3_ISP_IOMEM_MAIN, ISP_IRQ0STATUS, events & enabled);
}

// The registers' reset values, which the model's hardware takes when the
// driver first powers it (the register block starts zeroed).
void isp_hw_power_on(isp_device* isp) {
  isp_reg_writel(isp, ISP_REVISION_15_0, OMAP3_ISP_IOMEM_MAIN, ISP_REVISION);
}

// --- Interrupts.

constexpr uint32_t kIspIrqs = IRQ0STATUS_CSIA_IRQ | IRQ0STATUS_CSIB_IRQ |
                              IRQ0STATUS_CCDC_VD0_IRQ | IRQ0STATUS_CCDC_VD1_IRQ |
                              IRQ0STATUS_HS_VS_IRQ | IRQ0STATUS_HIST_DONE_IRQ |
                              IRQ0STATUS_H3A_AWB_DONE_IRQ | IRQ0STATUS_H3A_AF_DONE_IRQ |
                              IRQ0STATUS_PRV_DONE_IRQ | IRQ0STATUS_RSZ_DONE_IRQ;

void isp_enable_interrupts(isp_device* isp) {
  isp_reg_writel(isp, kIspIrqs, OMAP3_ISP_IOMEM_MAIN, ISP_IRQ0STATUS);
  isp_reg_writel(isp, kIspIrqs, OMAP3_ISP_IOMEM_MAIN, ISP_IRQ0ENABLE);
}

void isp_disable_interrupts(isp_device* isp) {
  isp_reg_writel(isp, 0, OMAP3_ISP_IOMEM_MAIN, ISP_IRQ0ENABLE);
}

// Hard-IRQ context: no sleeping, no mutex; the modules take spinlocks only.
// `isp` is valid: remove() frees the line before the struct can go (R15).
irqreturn_t isp_isr(int irq, void* dev_id) {
  auto* isp = static_cast<isp_device*>(dev_id);
  isp->irq_count.fetch_add(1);
  isp_hw_latch_frame_end(isp);
  uint32_t irqstatus = isp_reg_readl(isp, OMAP3_ISP_IOMEM_MAIN, ISP_IRQ0STATUS);
  isp_reg_writel(isp, irqstatus, OMAP3_ISP_IOMEM_MAIN, ISP_IRQ0STATUS);

  if (irqstatus & IRQ0STATUS_CSIA_IRQ) omap3isp_csi2_isr(&isp->isp_csi2a);
  if (irqstatus & IRQ0STATUS_CSIB_IRQ) omap3isp_ccp2_isr(&isp->isp_ccp2);
  if (irqstatus & (IRQ0STATUS_CCDC_VD0_IRQ | IRQ0STATUS_CCDC_VD1_IRQ | IRQ0STATUS_HS_VS_IRQ))
    omap3isp_ccdc_isr(&isp->isp_ccdc);
  if (irqstatus & IRQ0STATUS_PRV_DONE_IRQ) omap3isp_preview_isr(&isp->isp_prev);
  if (irqstatus & IRQ0STATUS_RSZ_DONE_IRQ) omap3isp_resizer_isr(&isp->isp_res);
  if (irqstatus & IRQ0STATUS_H3A_AWB_DONE_IRQ) omap3isp_stat_isr(&isp->isp_aewb);
  if (irqstatus & IRQ0STATUS_H3A_AF_DONE_IRQ) omap3isp_stat_isr(&isp->isp_af);
  if (irqstatus & IRQ0STATUS_HIST_DONE_IRQ) omap3isp_stat_isr(&isp->isp_hist);

  // omap3isp_flush: post the writes by a read back.
  isp_reg_writel(isp, 0, OMAP3_ISP_IOMEM_MAIN, ISP_REVISION);
  isp_reg_readl(isp, OMAP3_ISP_IOMEM_MAIN, ISP_REVISION);
  return IRQ_HANDLED;
}

// --- Pipelines.

// Calls s_stream on an entity of the pipeline. The ISP's own sub-devices are
// registered as long as a pipeline can run (their nodes and the video nodes
// go first at remove). The sensor is called only while it is the one we are
// bound to (R16), and its use is counted under the graph mutex, so unbind()
// knows whether to stop it.
int isp_pipeline_s_stream_locked(isp_device* isp, v4l2_subdev* sd, int mode)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(isp->media_dev.graph_mutex) {
  if (omap3isp_is_internal_subdev(isp, sd)) return v4l2_subdev_call(sd, video, s_stream, mode);
  // The sensor feeds one pipeline at most (its receiver takes one input).
  if (isp->sensor != sd) return mode != 0 ? -EPIPE : 0;  // unbound: never called again
  int ret = v4l2_subdev_call(sd, video, s_stream, mode);
  isp->sensor_streaming = mode != 0 && (ret == 0 || ret == -ENOIOCTLCMD) ? 1 : 0;
  return ret;
}

// The entity feeding `entity`'s first pad through an enabled link, if it is
// a sub-device (upstream's walk: "ISP entities always have sink pad 0").
v4l2_subdev* isp_pipeline_upstream_subdev(media_entity* entity) {
  media_pad* pad = &entity->pads[0];
  if (entity->num_pads == 0 || !(pad->flags & MEDIA_PAD_FL_SINK)) return nullptr;
  media_pad* remote = media_pad_remote_pad_first(pad);
  if (remote == nullptr || !is_media_entity_v4l2_subdev(remote->entity)) return nullptr;
  return media_entity_to_v4l2_subdev(remote->entity);
}

// isp_pipeline_enable: from the output video node upstream, s_stream(mode)
// on each module (and on the statistics engines with the CCDC), stopping at
// the first external sub-device. Under the graph mutex, as upstream.
int isp_pipeline_enable(isp_pipeline* pipe, isp_pipeline_stream_state mode) {
  isp_device* isp = pipe->output->isp;
  {
    SpinGuard g(&pipe->lock);
    pipe->state &= ~(ISP_PIPELINE_IDLE_INPUT | ISP_PIPELINE_IDLE_OUTPUT);
  }
  MutexGuard g(&isp->media_dev.graph_mutex);
  media_entity* entity = &pipe->output->video.entity;
  while (v4l2_subdev* subdev = isp_pipeline_upstream_subdev(entity)) {
    entity = &subdev->entity;
    int ret = isp_pipeline_s_stream_locked(isp, subdev, mode);
    if (ret < 0 && ret != -ENOIOCTLCMD) return ret;
    if (subdev == &isp->isp_ccdc.subdev) {
      v4l2_subdev_call(&isp->isp_aewb.subdev, video, s_stream, mode);
      v4l2_subdev_call(&isp->isp_af.subdev, video, s_stream, mode);
      v4l2_subdev_call(&isp->isp_hist.subdev, video, s_stream, mode);
    }
    if (!omap3isp_is_internal_subdev(isp, subdev)) break;
  }
  return 0;
}

// isp_pipeline_disable: the same walk with s_stream(0). The model's modules
// stop at once (upstream busy-waits for them and marks a preview engine that
// does not stop as crashed).
int isp_pipeline_disable(isp_pipeline* pipe) {
  isp_device* isp = pipe->output->isp;
  MutexGuard g(&isp->media_dev.graph_mutex);
  media_entity* entity = &pipe->output->video.entity;
  while (v4l2_subdev* subdev = isp_pipeline_upstream_subdev(entity)) {
    entity = &subdev->entity;
    if (subdev == &isp->isp_ccdc.subdev) {
      v4l2_subdev_call(&isp->isp_aewb.subdev, video, s_stream, 0);
      v4l2_subdev_call(&isp->isp_af.subdev, video, s_stream, 0);
      v4l2_subdev_call(&isp->isp_hist.subdev, video, s_stream, 0);
    }
    isp_pipeline_s_stream_locked(isp, subdev, 0);
    if (!omap3isp_is_internal_subdev(isp, subdev)) break;
  }
  return 0;
}

// --- Links.

int isp_create_links(isp_device* isp) {
  struct {
    media_entity* source;
    uint16_t source_pad;
    media_entity* sink;
    uint16_t sink_pad;
    uint32_t flags;
  } const links[] = {
      // Entities to video nodes.
      {&isp->isp_csi2a.subdev.entity, CSI2_PAD_SOURCE, &isp->isp_csi2a.video_out.video.entity, 0, 0},
      {&isp->isp_ccp2.video_in.video.entity, 0, &isp->isp_ccp2.subdev.entity, CCP2_PAD_SINK, 0},
      {&isp->isp_ccdc.subdev.entity, CCDC_PAD_SOURCE_OF, &isp->isp_ccdc.video_out.video.entity, 0, 0},
      {&isp->isp_prev.video_in.video.entity, 0, &isp->isp_prev.subdev.entity, PREV_PAD_SINK, 0},
      {&isp->isp_prev.subdev.entity, PREV_PAD_SOURCE, &isp->isp_prev.video_out.video.entity, 0, 0},
      {&isp->isp_res.video_in.video.entity, 0, &isp->isp_res.subdev.entity, RESZ_PAD_SINK, 0},
      {&isp->isp_res.subdev.entity, RESZ_PAD_SOURCE, &isp->isp_res.video_out.video.entity, 0, 0},
      // Between entities.
      {&isp->isp_csi2a.subdev.entity, CSI2_PAD_SOURCE, &isp->isp_ccdc.subdev.entity, CCDC_PAD_SINK, 0},
      {&isp->isp_ccp2.subdev.entity, CCP2_PAD_SOURCE, &isp->isp_ccdc.subdev.entity, CCDC_PAD_SINK, 0},
      {&isp->isp_ccdc.subdev.entity, CCDC_PAD_SOURCE_VP, &isp->isp_prev.subdev.entity, PREV_PAD_SINK, 0},
      {&isp->isp_ccdc.subdev.entity, CCDC_PAD_SOURCE_OF, &isp->isp_res.subdev.entity, RESZ_PAD_SINK, 0},
      {&isp->isp_prev.subdev.entity, PREV_PAD_SOURCE, &isp->isp_res.subdev.entity, RESZ_PAD_SINK, 0},
      {&isp->isp_ccdc.subdev.entity, CCDC_PAD_SOURCE_VP, &isp->isp_aewb.subdev.entity, 0,
       MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE},
      {&isp->isp_ccdc.subdev.entity, CCDC_PAD_SOURCE_VP, &isp->isp_af.subdev.entity, 0,
       MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE},
      {&isp->isp_ccdc.subdev.entity, CCDC_PAD_SOURCE_VP, &isp->isp_hist.subdev.entity, 0,
       MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE},
  };
  for (const auto& l : links) {
    int ret = media_create_pad_link(l.source, l.source_pad, l.sink, l.sink_pad, l.flags);
    if (ret < 0) return ret;
  }
  return 0;
}

// isp_link_entity: the sensor's first source pad to the receiver of its
// endpoint. Takes the graph mutex (the model's media_create_pad_link does).
int isp_link_entity(isp_device* isp, media_entity* entity, isp_interface_type interface) {
  media_entity* input;
  uint16_t pad;
  uint32_t flags;
  switch (interface) {
    case ISP_INTERFACE_PARALLEL:
      input = &isp->isp_ccdc.subdev.entity;
      pad = CCDC_PAD_SINK;
      flags = 0;
      break;
    case ISP_INTERFACE_CSI2A_PHY2:
      input = &isp->isp_csi2a.subdev.entity;
      pad = CSI2_PAD_SINK;
      flags = MEDIA_LNK_FL_IMMUTABLE | MEDIA_LNK_FL_ENABLED;
      break;
    case ISP_INTERFACE_CCP2B_PHY1:
    case ISP_INTERFACE_CCP2B_PHY2:
      input = &isp->isp_ccp2.subdev.entity;
      pad = CCP2_PAD_SINK;
      flags = 0;
      break;
    default:  // CSI2c is initialised upstream but never registered
      return -EINVAL;
  }
  uint16_t i = 0;
  for (; i < entity->num_pads; ++i)
    if (entity->pads[i].flags & MEDIA_PAD_FL_SOURCE) break;
  if (i == entity->num_pads) return -EINVAL;  // no source pad in the external entity
  return media_create_pad_link(entity, i, input, pad, flags);
}

// --- The async notifier (runs under v4l2_async.list_lock).

isp_device* notifier_to_isp(v4l2_async_notifier* n) {
  return container_of(n, isp_device, notifier);
}

// `sd` is registered with our v4l2_device: link it, then start using it.
int isp_subdev_notifier_bound(v4l2_async_notifier* n, v4l2_subdev* sd,
                              v4l2_async_connection* asc) {
  isp_device* isp = notifier_to_isp(n);
  int ret = isp_link_entity(isp, &sd->entity, isp->interface);
  if (ret < 0) return ret;
  {
    MutexGuard g(&isp->media_dev.graph_mutex);
    isp->sensor = sd;
    isp->sensor_streaming = 0;
  }
  isp->bound_calls.fetch_add(1);
  return 0;
}

// R16: the sensor is leaving, or we are. It is still registered during this
// call: stop it if a pipeline runs it, and forget it, under the graph mutex
// every pipeline walk and link_validate holds, so nothing calls it after this
// returns. The pipelines it fed get their buffers back in error; STREAMOFF
// then stops them normally. (The link goes with the sensor's entity.)
void isp_subdev_notifier_unbind(v4l2_async_notifier* n, v4l2_subdev* sd,
                                v4l2_async_connection* asc) {
  isp_device* isp = notifier_to_isp(n);
  isp_video* fed[] = {&isp->isp_csi2a.video_out, &isp->isp_ccdc.video_out,
                      &isp->isp_prev.video_out, &isp->isp_res.video_out};
  bool cancel[std::size(fed)] = {};
  {
    MutexGuard g(&isp->media_dev.graph_mutex);
    if (isp->sensor == sd) {
      if (isp->sensor_streaming > 0) v4l2_subdev_call(sd, video, s_stream, 0);
      isp->sensor_streaming = 0;
      isp->sensor = nullptr;
    }
    for (size_t i = 0; i < std::size(fed); ++i) {
      if (fed[i]->pipe.external != sd) continue;
      fed[i]->pipe.external = nullptr;
      cancel[i] = true;
    }
  }
  for (size_t i = 0; i < std::size(fed); ++i) {
    if (!cancel[i]) continue;
    fed[i]->pipe.error.store(true);
    omap3isp_video_cancel_stream(fed[i]);
  }
  isp->unbind_calls.fetch_add(1);
}

// Every sensor is there: the sub-device nodes, then /dev/mediaN (as
// upstream). Runs again each time the sensor comes back: only what is
// missing is registered.
int isp_subdev_notifier_complete(v4l2_async_notifier* n) {
  isp_device* isp = notifier_to_isp(n);
  isp->complete_calls.fetch_add(1);
  int ret = v4l2_device_register_subdev_nodes(&isp->v4l2_dev);
  if (ret < 0) return ret;
  if (media_devnode_is_registered(&isp->media_dev)) return 0;
  return media_device_register(&isp->media_dev);
}

const v4l2_async_notifier_operations isp_subdev_notifier_ops = {
    .bound = isp_subdev_notifier_bound,
    .complete = isp_subdev_notifier_complete,
    .unbind = isp_subdev_notifier_unbind,
};

// --- Lifetime.

// R9: the single gatekeeper. Who calls it: the last media-device reference,
// after the v4l2_device's release, every entity's, interface's and video or
// sub-device node's. Nothing can reach the struct any more.
void isp_release(media_device* mdev) {
  isp_device* isp = container_of(mdev, isp_device, media_dev);
  platform_device* pdev = isp->pdev;
  kfree(isp);
  put_device(&pdev->dev);  // taken at probe: the registers live in it
}
const media_device_ops isp_media_ops = {.release = isp_release};

// Who calls it: the last v4l2_device_put() (the driver's at remove, or the
// last node's release). The v4l2_device held a media-device reference.
void isp_v4l2_release(v4l2_device* v4l2_dev) {
  media_device_put(&to_isp_device_from_v4l2(v4l2_dev)->media_dev);
}

isp_video* isp_videos(isp_device* isp, size_t i) {
  isp_video* v[] = {&isp->isp_ccp2.video_in,  &isp->isp_csi2a.video_out,
                    &isp->isp_ccdc.video_out, &isp->isp_prev.video_in,
                    &isp->isp_prev.video_out, &isp->isp_res.video_in,
                    &isp->isp_res.video_out};
  return i < std::size(v) ? v[i] : nullptr;
}
v4l2_subdev* isp_subdevs(isp_device* isp, size_t i) {
  v4l2_subdev* s[] = {&isp->isp_ccp2.subdev, &isp->isp_csi2a.subdev, &isp->isp_ccdc.subdev,
                      &isp->isp_prev.subdev, &isp->isp_res.subdev,   &isp->isp_aewb.subdev,
                      &isp->isp_af.subdev,   &isp->isp_hist.subdev};
  return i < std::size(s) ? s[i] : nullptr;
}

// isp_register_entities: each module's sub-device, then its video nodes, in
// upstream's module order (CCP2, CSI2a, CCDC, preview, resizer, AEWB, AF,
// histogram), which gives upstream's entity ids.
int isp_register_entities(isp_device* isp) {
  struct {
    v4l2_subdev* sd;
    isp_video* videos[2];
  } const modules[] = {
      {&isp->isp_ccp2.subdev, {&isp->isp_ccp2.video_in, nullptr}},
      {&isp->isp_csi2a.subdev, {&isp->isp_csi2a.video_out, nullptr}},
      {&isp->isp_ccdc.subdev, {&isp->isp_ccdc.video_out, nullptr}},
      {&isp->isp_prev.subdev, {&isp->isp_prev.video_in, &isp->isp_prev.video_out}},
      {&isp->isp_res.subdev, {&isp->isp_res.video_in, &isp->isp_res.video_out}},
      {&isp->isp_aewb.subdev, {nullptr, nullptr}},
      {&isp->isp_af.subdev, {nullptr, nullptr}},
      {&isp->isp_hist.subdev, {nullptr, nullptr}},
  };
  for (const auto& m : modules) {
    m.sd->dev = &isp->pdev->dev;  // upstream: vdev->mdev->dev
    int ret = v4l2_device_register_subdev(&isp->v4l2_dev, m.sd);
    if (ret < 0) return ret;
    for (isp_video* video : m.videos) {
      if (video == nullptr) continue;
      ret = omap3isp_video_register(video, &isp->v4l2_dev);
      if (ret < 0) return ret;
    }
  }
  return 0;
}

// Unregisters everything the ISP registered, stopping what runs first. Used
// by remove() and by the probe error path (where most steps are no-ops).
//   1. every video node: no new calls, sleepers woken, streams stopped while
//      the hardware is there, calls in flight waited for (R13-R15);
//   2. the media node;
//   3. the sub-devices and their nodes (the same, inside the core).
// Video nodes go before the sub-devices they call into (upstream interleaves
// them per module, so a video ioctl in flight could call an unregistered
// sub-device: R16).
void isp_unregister_entities(isp_device* isp) {
  // No new call on any node while the streams stop one after the other.
  for (size_t i = 0; isp_video* video = isp_videos(isp, i); ++i)
    video_unregister_device_prepare(&video->video);
  for (size_t i = 0; isp_video* video = isp_videos(isp, i); ++i)
    omap3isp_video_unregister(video);
  media_device_unregister(&isp->media_dev);
  v4l2_device_unregister(&isp->v4l2_dev);
}

// Drops the driver's references on its own sub-devices (v4l2_subdev_init's).
void isp_put_subdevs(isp_device* isp) {
  for (size_t i = 0; v4l2_subdev* sd = isp_subdevs(isp, i); ++i) {
    // Only those v4l2_subdev_init() reached (a probe may fail half way).
    if (sd->ops != nullptr) v4l2_subdev_put(sd);
  }
}

int isp_initialize_modules(isp_device* isp) {
  int ret = omap3isp_csi2_init(isp);
  if (ret == 0) ret = omap3isp_ccp2_init(isp);
  if (ret == 0) ret = omap3isp_ccdc_init(isp);
  if (ret == 0) ret = omap3isp_preview_init(isp);
  if (ret == 0) ret = omap3isp_resizer_init(isp);
  if (ret == 0) ret = omap3isp_stat_init(isp, &isp->isp_hist, "histogram", OMAP3_ISP_IOMEM_HIST,
                                         ISPHIST_PCR_ENABLE);
  if (ret == 0) ret = omap3isp_stat_init(isp, &isp->isp_aewb, "AEWB", OMAP3_ISP_IOMEM_H3A,
                                         ISPH3A_PCR_AEW_EN);
  if (ret == 0)
    ret = omap3isp_stat_init(isp, &isp->isp_af, "AF", OMAP3_ISP_IOMEM_H3A, ISPH3A_PCR_AF_EN);
  return ret;
}

// isp_reset: software reset; the model's hardware completes it at once.
int isp_reset(isp_device* isp) {
  isp_reg_set(isp, OMAP3_ISP_IOMEM_MAIN, ISP_SYSCONFIG, ISP_SYSCONFIG_SOFTRESET);
  isp_reg_writel(isp, 1, OMAP3_ISP_IOMEM_MAIN, ISP_SYSSTATUS);  // the hardware's answer
  isp_reg_clr(isp, OMAP3_ISP_IOMEM_MAIN, ISP_SYSCONFIG, ISP_SYSCONFIG_SOFTRESET);
  return (isp_reg_readl(isp, OMAP3_ISP_IOMEM_MAIN, ISP_SYSSTATUS) & 1) ? 0 : -ETIMEDOUT;
}

int isp_probe(platform_device* pdev) {
  int irq = platform_get_irq(pdev, 0);
  if (irq < 0) return -ENODEV;
  iomem* regs = platform_get_iomem(pdev);
  if (regs == nullptr || regs->regs.size() < OMAP3_ISP_NUM_REGS) return -ENODEV;
  isp_device* isp = kzalloc<isp_device>();
  if (isp == nullptr) return -ENOMEM;
  isp->pdev = pdev;
  get_device(&pdev->dev);  // put by isp_release
  isp->regs = regs;
  isp->irq = irq;
  isp->interface = isp_parse_endpoint(pdev->id);

  // 1. The media device: from here the struct is freed by its release (R9).
  media_device* mdev = &isp->media_dev;
  mdev->dev = &pdev->dev;
  mdev->ops = &isp_media_ops;
  std::snprintf(mdev->model, sizeof(mdev->model), "TI OMAP3 ISP");
  std::snprintf(mdev->bus_info, sizeof(mdev->bus_info), "platform:%s", dev_name(&pdev->dev));
  media_device_init(mdev);

  // 2. The hardware: revision (the model's is 15.0), reset.
  isp_hw_power_on(isp);
  isp->revision = isp_reg_readl(isp, OMAP3_ISP_IOMEM_MAIN, ISP_REVISION);
  mdev->hw_revision = isp->revision;
  int ret = isp_reset(isp);
  if (ret < 0) goto err_mdev;

  // 3. The v4l2_device, holding a media-device reference (put in its release).
  isp->v4l2_dev.mdev = mdev;
  ret = v4l2_device_register(&pdev->dev, &isp->v4l2_dev);
  if (ret < 0) goto err_mdev;
  media_device_get(mdev);
  isp->v4l2_dev.release = isp_v4l2_release;

  // 4. The modules' entities (each holds the driver's reference from here).
  ret = isp_initialize_modules(isp);
  if (ret < 0) goto err_v4l2;

  // 5. The IRQ, not devm (R15): remove() frees it before the references go.
  //    The handler does nothing until a pipeline enables a module.
  ret = request_irq(static_cast<unsigned>(irq), isp_isr, 0, "OMAP3 ISP", isp);
  if (ret < 0) goto err_v4l2;

  // 6. Entities, video nodes, links.
  ret = isp_register_entities(isp);
  if (ret == 0) ret = isp_create_links(isp);
  if (ret < 0) goto err_entities;

  // 7. Wait for the sensor; binds (and completes) now if it is there.
  v4l2_async_nf_init(&isp->notifier);
  isp->notifier.ops = &isp_subdev_notifier_ops;
  if (v4l2_async_nf_add_match(&isp->notifier, omap3isp_sensor_match_key(pdev->id).c_str()) ==
      nullptr) {
    ret = -ENOMEM;
    goto err_notifier;
  }
  platform_set_drvdata(pdev, isp);
  ret = v4l2_async_nf_register(&isp->v4l2_dev, &isp->notifier);
  if (ret < 0) goto err_notifier;
  return 0;

  // Unwind in reverse; the memory goes with the last media-device reference.
err_notifier:
  platform_set_drvdata(pdev, nullptr);
  v4l2_async_nf_cleanup(&isp->notifier);
err_entities:
  isp_unregister_entities(isp);
  free_irq(static_cast<unsigned>(irq), isp);
err_v4l2:
  v4l2_device_unregister(&isp->v4l2_dev);
  isp_put_subdevs(isp);
  v4l2_device_put(&isp->v4l2_dev);
err_mdev:
  media_device_put(mdev);
  return ret;
}

// R8: unregister everything, stop the hardware, drop the driver's
// references. Files open on any node keep the memory until they close.
void isp_remove(platform_device* pdev) {
  isp_device* isp = static_cast<isp_device*>(platform_get_drvdata(pdev));
  // 1. R16: the sensor is unbound (our unbind stops and forgets it) and goes
  //    back to waiting for a new ISP.
  v4l2_async_nf_unregister(&isp->notifier);
  // 2. Streams stopped, nodes and sub-devices unregistered (R12-R15).
  isp_unregister_entities(isp);
  // 3. R15: the handler uses isp; no interrupt reaches it after this.
  free_irq(static_cast<unsigned>(isp->irq), isp);
  // 4. Power: files still open keep a count; the hardware is switched off
  //    now, and their release must not touch it (upstream's last put would).
  {
    MutexGuard g(&isp->isp_mutex);
    if (isp->ref_count > 0) isp_disable_interrupts(isp);
    isp->removed = true;
  }
  // 5. The driver's references; the last one frees isp.
  v4l2_async_nf_cleanup(&isp->notifier);
  platform_set_drvdata(pdev, nullptr);
  isp_put_subdevs(isp);
  v4l2_device_put(&isp->v4l2_dev);
  media_device_put(&isp->media_dev);
}

platform_driver make_isp_driver() {
  platform_driver d;
  d.probe = isp_probe;
  d.remove = isp_remove;
  d.driver.name = kOmap3ispDriverName;
  return d;
}
platform_driver g_isp_driver = make_isp_driver();

}  // namespace

bool omap3isp_is_internal_subdev(isp_device* isp, const v4l2_subdev* sd) {
  for (size_t i = 0; v4l2_subdev* own = isp_subdevs(isp, i); ++i)
    if (own == sd) return true;
  return false;
}

v4l2_subdev* omap3isp_bound_sensor(isp_device* isp, v4l2_subdev* sd) {
  isp->media_dev.graph_mutex.assert_held();
  return sd != nullptr && isp->sensor == sd ? sd : nullptr;
}

isp_device* omap3isp_get(isp_device* isp) {
  MutexGuard g(&isp->isp_mutex);
  if (isp->removed) return nullptr;
  if (isp->ref_count++ == 0) isp_enable_interrupts(isp);
  return isp;
}

void omap3isp_put(isp_device* isp) {
  MutexGuard g(&isp->isp_mutex);
  MCF_BUG_ON(isp->ref_count == 0);
  // R15: after remove() the hardware was switched off there; not again here.
  if (--isp->ref_count == 0 && !isp->removed) isp_disable_interrupts(isp);
}

int omap3isp_pipeline_set_stream(isp_pipeline* pipe, isp_pipeline_stream_state state) {
  int ret = state == ISP_PIPELINE_STREAM_STOPPED ? isp_pipeline_disable(pipe)
                                                 : isp_pipeline_enable(pipe, state);
  if (ret == 0 || state == ISP_PIPELINE_STREAM_STOPPED) pipe->stream_state.store(state);
  return ret;
}

int omap3isp_link_validate(media_link* link) {
  media_entity* source = link->source->entity;
  media_entity* sink = link->sink->entity;
  // Memory inputs are checked at STREAMON (isp_video_check_format).
  if (!is_media_entity_v4l2_subdev(source) || !is_media_entity_v4l2_subdev(sink)) return 0;
  v4l2_subdev* sink_sd = media_entity_to_v4l2_subdev(sink);
  v4l2_subdev* source_sd = media_entity_to_v4l2_subdev(source);
  isp_device* isp = to_isp_device_from_v4l2(sink_sd->v4l2_dev);
  isp->media_dev.graph_mutex.assert_held();
  // R16: the external end is called only while it is our bound sensor.
  if (!omap3isp_is_internal_subdev(isp, source_sd) &&
      omap3isp_bound_sensor(isp, source_sd) == nullptr)
    return -EPIPE;

  v4l2_subdev_format source_fmt = {};
  source_fmt.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  source_fmt.pad = link->source->index;
  v4l2_subdev_format sink_fmt = {};
  sink_fmt.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  sink_fmt.pad = link->sink->index;
  int ret = v4l2_subdev_call(source_sd, pad, get_fmt, nullptr, &source_fmt);
  if (ret == 0) ret = v4l2_subdev_call(sink_sd, pad, get_fmt, nullptr, &sink_fmt);
  if (ret < 0) return ret == -ENOIOCTLCMD ? 0 : ret;

  const v4l2_mbus_framefmt& a = source_fmt.format;
  const v4l2_mbus_framefmt& b = sink_fmt.format;
  if (a.width != b.width || a.height != b.height) return -EPIPE;
  if (sink_sd == &isp->isp_ccdc.subdev) {
    // ccdc_link_validate: the lane shifter may drop up to 6 low bits.
    if (a.code == b.code) return 0;
    const isp_format_info* in = omap3isp_video_format_info(a.code);
    const isp_format_info* out = omap3isp_video_format_info(b.code);
    if (in == nullptr || out == nullptr || in->flavor == 0 || in->flavor != out->flavor)
      return -EPIPE;
    return in->width >= out->width && in->width - out->width <= 6 ? 0 : -EPIPE;
  }
  // v4l2_subdev_link_validate_default.
  if (a.code != b.code) return -EPIPE;
  if (a.field != b.field && b.field != V4L2_FIELD_NONE) return -EPIPE;
  return 0;
}

int omap3isp_driver_register() { return platform_driver_register(&g_isp_driver); }
void omap3isp_driver_unregister() { platform_driver_unregister(&g_isp_driver); }

platform_device* omap3isp_device_add(int id) {
  return platform_device_register_simple(kOmap3ispDriverName, id, 1, OMAP3_ISP_NUM_REGS);
}

std::string omap3isp_sensor_match_key(int isp_id) {
  return isp_id == PLATFORM_DEVID_NONE ? std::string(kMcfSensorDriverName)
                                       : std::string(kMcfSensorDriverName) + "." +
                                             std::to_string(isp_id);
}

void omap3isp_set_endpoint(int isp_id, omap3isp_endpoint ep) {
  std::lock_guard<std::mutex> g(g_endpoints_lock);
  endpoints()[isp_id] = ep;
}

}  // namespace mcf
