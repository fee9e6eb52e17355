// The vimc platform driver: the topology, probe, remove and the frame timer.
// Upstream: drivers/media/test-drivers/vimc/vimc-core.c.
//
// Probe, in order (each step undone in reverse on failure):
//   1. the media device (model "VIMC MDEV", bus_info "platform:vimc"), with
//      the driver's reference; from here vimc_device is freed only by the
//      media device release (R2, R9);
//   2. the v4l2_device, which holds a media device reference (R9);
//   3. the frame timer IRQ (R15: freed in remove(), never devm);
//   4. the entities in ent_config[] order: sub-devices join the v4l2_device
//      and the graph, captures register their video nodes (reachable at once);
//   5. the data links, then the ancillary links;
//   6. /dev/mediaN;
//   7. the sub-device nodes, in registration order.
// Object ids follow: entities and pads in step 4, interface + interface link
// of each capture right after its entity, two ids per data link (link and
// hidden backlink), one per ancillary link, then interface + link per
// sub-device node (kernel-media.md §1.4).
#include <atomic>
#include <cerrno>
#include <cstdio>

#include "core/kernel/slab.h"
#include "drivers/vimc/vimc_common.h"
#include "drivers/vimc/vimc_streamer.h"

namespace mcf {
namespace {

constexpr const char VIMC_MDEV_MODEL_NAME[] = "VIMC MDEV";

std::atomic<int> g_released{0};

struct vimc_data_link {
  unsigned src_ent;
  uint16_t src_pad;
  unsigned sink_ent;
  uint16_t sink_pad;
  uint32_t flags;
};

struct vimc_ancillary_link {
  unsigned primary_ent;
  unsigned ancillary_ent;
};

// --- Topology configuration (upstream's ent_config[], data_links[] and
// ancillary_links[]). ent_config[] is indexed by vimc_ent_index.

const vimc_ent_config ent_config[VIMC_NUM_ENTS] = {
    {"Sensor A", &vimc_sensor_type},
    {"Sensor B", &vimc_sensor_type},
    {"Debayer A", &vimc_debayer_type},
    {"Debayer B", &vimc_debayer_type},
    {"Raw Capture 0", &vimc_capture_type},
    {"Raw Capture 1", &vimc_capture_type},
    // Upstream's TODO: "change this to vimc-input when it is implemented".
    {"RGB/YUV Input", &vimc_sensor_type},
    {"Scaler", &vimc_scaler_type},
    {"RGB/YUV Capture", &vimc_capture_type},
    {"Lens A", &vimc_lens_type},
    {"Lens B", &vimc_lens_type},
};

constexpr uint32_t kOnFixed = MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE;
const vimc_data_link data_links[] = {
    {VIMC_SENSOR_A, 0, VIMC_DEBAYER_A, 0, kOnFixed},
    {VIMC_SENSOR_A, 0, VIMC_RAW_CAPTURE_0, 0, kOnFixed},
    {VIMC_SENSOR_B, 0, VIMC_DEBAYER_B, 0, kOnFixed},
    {VIMC_SENSOR_B, 0, VIMC_RAW_CAPTURE_1, 0, kOnFixed},
    {VIMC_DEBAYER_A, 1, VIMC_SCALER, 0, MEDIA_LNK_FL_ENABLED},
    {VIMC_DEBAYER_B, 1, VIMC_SCALER, 0, 0},
    {VIMC_RGB_YUV_INPUT, 0, VIMC_SCALER, 0, 0},
    {VIMC_SCALER, 1, VIMC_RGB_YUV_CAPTURE, 0, kOnFixed},
};

const vimc_ancillary_link ancillary_links[] = {
    {VIMC_SENSOR_A, VIMC_LENS_A},
    {VIMC_SENSOR_B, VIMC_LENS_B},
};

// --- The frame timer.

// Hard-IRQ context: no sleeping, spinlocks only. One tick: acknowledge,
// count, and run one frame through every started stream.
irqreturn_t vimc_frame_irq(int irq, void* dev_id) {
  auto* vimc = static_cast<vimc_device*>(dev_id);
  SpinGuard g(&vimc->stream_lock);
  writel(1, vimc->regs, VIMC_REG_IRQ_ACK);
  vimc_frame_ctx ctx;
  ctx.tick = ++vimc->frame_count;
  ctx.timestamp_ns = ctx.tick * kVimcFramePeriodNs;
  writel(static_cast<uint32_t>(ctx.tick), vimc->regs, VIMC_REG_FRAME_COUNT);
  vimc_streamer_frame(vimc, ctx);
  return IRQ_HANDLED;
}

// --- Entities.

int vimc_add_subdevs(vimc_device* vimc) {
  for (unsigned i = 0; i < VIMC_NUM_ENTS; ++i) {
    int ret = ent_config[i].type->add(vimc, i, ent_config[i].name);
    if (ret != 0) return ret;  // the caller unwinds the ones added before
    vimc->added[i] = true;
  }
  return 0;
}

// Takes the entities away from user space (the captures' nodes).
void vimc_unregister_subdevs(vimc_device* vimc) {
  for (unsigned i = 0; i < VIMC_NUM_ENTS; ++i)
    if (vimc->added[i] && ent_config[i].type->unregister != nullptr)
      ent_config[i].type->unregister(vimc->ent_devs[i]);
}

// Drops the driver's references on the sub-devices (after
// v4l2_device_unregister took them out of the graph).
void vimc_put_subdevs(vimc_device* vimc) {
  for (unsigned i = 0; i < VIMC_NUM_ENTS; ++i) {
    if (vimc->added[i] && ent_config[i].type->put != nullptr)
      ent_config[i].type->put(vimc->ent_devs[i]);
    vimc->added[i] = false;
  }
}

int vimc_create_links(vimc_device* vimc) {
  for (const vimc_data_link& link : data_links) {
    int ret = media_create_pad_link(vimc->ent_devs[link.src_ent]->ent, link.src_pad,
                                    vimc->ent_devs[link.sink_ent]->ent, link.sink_pad, link.flags);
    if (ret != 0) return ret;  // the links go with their entities
  }
  for (const vimc_ancillary_link& link : ancillary_links) {
    if (media_create_ancillary_link(vimc->ent_devs[link.primary_ent]->ent,
                                    vimc->ent_devs[link.ancillary_ent]->ent) == nullptr)
      return -ENOMEM;
  }
  return 0;
}

// --- Releases.

// R9: the single gatekeeper. Who calls it: the last media device reference:
// the driver's (remove), the v4l2_device's (its release), an open
// /dev/mediaN, a video or sub-device node, a registered entity or interface,
// whichever is last. Every entity struct and the driver's struct go here.
void vimc_mdev_release(media_device* mdev) {
  vimc_device* vimc = container_of(mdev, vimc_device, mdev);
  for (unsigned i = 0; i < VIMC_NUM_ENTS; ++i)
    if (vimc->ent_devs[i] != nullptr) ent_config[i].type->release(vimc->ent_devs[i]);
  kfree(vimc);
  g_released.fetch_add(1);
}

const media_device_ops vimc_mdev_ops = {.release = vimc_mdev_release};

// Who calls it: the last v4l2_device_put(): the driver's, or the release of
// the last video or sub-device node. The v4l2_device held a media device
// reference.
void vimc_v4l2_dev_release(v4l2_device* v4l2_dev) {
  media_device_put(&container_of(v4l2_dev, vimc_device, v4l2_dev)->mdev);
}

// --- Probe and remove.

int vimc_probe(platform_device* pdev) {
  int irq = platform_get_irq(pdev, 0);
  if (irq < 0) return irq;
  iomem* regs = platform_get_iomem(pdev);
  if (regs == nullptr) return -ENXIO;
  vimc_device* vimc = kzalloc<vimc_device>();
  if (vimc == nullptr) return -ENOMEM;
  vimc->pdev = pdev;
  vimc->irq = irq;
  vimc->regs = regs;

  // 1. The media device, with the driver's reference.
  media_device* mdev = &vimc->mdev;
  std::snprintf(mdev->model, sizeof(mdev->model), "%s", VIMC_MDEV_MODEL_NAME);
  std::snprintf(mdev->bus_info, sizeof(mdev->bus_info), "platform:%s", kVimcDriverName);
  mdev->dev = &pdev->dev;
  mdev->ops = &vimc_mdev_ops;
  media_device_init(mdev);

  // 2. The v4l2_device, holding a media device reference.
  vimc->v4l2_dev.mdev = mdev;
  int ret = v4l2_device_register(&pdev->dev, &vimc->v4l2_dev);
  if (ret != 0) goto err_mdev;
  media_device_get(mdev);
  vimc->v4l2_dev.release = vimc_v4l2_dev_release;

  // 3. The frame timer. Ticks before any stream starts only count.
  ret = request_irq(static_cast<unsigned>(irq), vimc_frame_irq, 0, kVimcDriverName, vimc);
  if (ret != 0) goto err_v4l2;

  // 4.-7. Entities, links, media node, sub-device nodes.
  ret = vimc_add_subdevs(vimc);
  if (ret == 0) ret = vimc_create_links(vimc);
  if (ret == 0) ret = media_device_register(mdev);
  if (ret != 0) goto err_entities;
  ret = v4l2_device_register_subdev_nodes(&vimc->v4l2_dev);
  if (ret != 0) goto err_mdev_unregister;

  platform_set_drvdata(pdev, vimc);
  return 0;

  // Unwind in reverse. The memory goes with the last media device reference.
err_mdev_unregister:
  media_device_unregister(mdev);
err_entities:
  vimc_unregister_subdevs(vimc);
  v4l2_device_unregister(&vimc->v4l2_dev);
  vimc_put_subdevs(vimc);
  free_irq(static_cast<unsigned>(irq), vimc);
err_v4l2:
  v4l2_device_put(&vimc->v4l2_dev);
err_mdev:
  media_device_put(mdev);
  return ret;
}

// R8: unregister everything and drop the driver's references. Files open on
// any node (and /dev/mediaN) keep the memory until they close.
void vimc_remove(platform_device* pdev) {
  vimc_device* vimc = vimc_drvdata(pdev);
  // 1. R15: the frame timer stops first; free_irq waits for a frame in
  //    progress. No interrupt reaches vimc after this.
  free_irq(static_cast<unsigned>(vimc->irq), vimc);
  // 2. The capture nodes (R13, R14): calls in flight finish, sleepers wake,
  //    streams stop while the sub-devices are still registered (R16).
  vimc_unregister_subdevs(vimc);
  // 3. /dev/mediaN and the graph, then the sub-devices and their nodes.
  media_device_unregister(&vimc->mdev);
  v4l2_device_unregister(&vimc->v4l2_dev);
  // 4. The driver's references; the last put may free everything.
  vimc_put_subdevs(vimc);
  platform_set_drvdata(pdev, nullptr);
  v4l2_device_put(&vimc->v4l2_dev);
  media_device_put(&vimc->mdev);
}

platform_driver vimc_pdrv = [] {
  platform_driver d;
  d.probe = vimc_probe;
  d.remove = vimc_remove;
  d.driver.name = kVimcDriverName;
  return d;
}();

}  // namespace

int vimc_driver_register() { return platform_driver_register(&vimc_pdrv); }
void vimc_driver_unregister() { platform_driver_unregister(&vimc_pdrv); }
platform_driver* vimc_platform_driver() { return &vimc_pdrv; }

platform_device* vimc_device_add(int id) {
  return platform_device_register_simple(kVimcDriverName, id, kVimcNumIrqs, kVimcNumRegs);
}

vimc_device* vimc_drvdata(platform_device* pdev) {
  return static_cast<vimc_device*>(platform_get_drvdata(pdev));
}

media_device* vimc_media_device(vimc_device* vimc) { return &vimc->mdev; }

int vimc_released_count() { return g_released.load(); }

}  // namespace mcf
