// The OMAP3 ISP model, after drivers/media/platform/ti/omap3isp/isp.h and
// ispreg.h. This header is shared by the files of the driver (isp.cc and one
// file per ISP module) and by its tests; drivers/omap3isp/omap3isp.h is the
// small public face (driver registration, devices, the sensor match key).
//
// What is modelled (upstream names, pads, links, flags; see isp.cc):
//   CCP2, CSI2a, CCDC, preview, resizer, H3A AEWB, H3A AF, histogram
//   sub-devices; the CCP2/preview/resizer input and the CSI2a/CCDC/preview/
//   resizer output video nodes; one external sensor bound through a
//   v4l2_async notifier and linked to CSI2a (or CCP2, or the CCDC's parallel
//   input) in bound(); one register block and one IRQ line.
//
// Lifetime (DESIGN.md §1), where this model differs from upstream on purpose:
//  R9  Everything lives in one kzalloc'd isp_device. Its media device's
//      release (isp_release) is the single gatekeeper: every entity, video
//      node, sub-device node and the v4l2_device hold media-device references,
//      so the struct goes only after the last of them. Upstream kfree()s it in
//      remove() (reference §2.4).
//  R15 The IRQ is requested with request_irq() and freed in remove() after
//      every pipeline stopped and before the driver's references go; upstream
//      uses devm_request_irq(), whose handler may run after remove().
//  R16 The notifier has an unbind callback: the ISP stops and forgets its
//      sensor there, under the graph mutex, before the sensor is unregistered.
//      Upstream has none.
//  R8  Nothing user space or the IRQ can reach is devm-allocated.
//
// Locking (outermost first):
//   isp_video.stream_lock (STREAMON/OFF, remove) -> isp_video.queue_lock
//   (vb2's q->lock) -> isp_video.mutex (file formats)
//   -> media_device.graph_mutex (pipeline walks, link_validate, the sensor
//      pointer, pipe->external) -> v4l2_subdev state locks (the sensor's too)
//   v4l2_async.list_lock (notifier callbacks) -> media_device.graph_mutex
//   isp_device.isp_mutex (power count): a leaf.
//   Spinlocks, also taken by the IRQ handler: isp_video.irqlock (then vb2's
//   done_lock), isp_pipeline.lock; never held across a sleeping call.
#pragma once

#include <linux/media-bus-format.h>
#include <linux/media.h>
#include <linux/videodev2.h>

#include <atomic>
#include <cstdint>
#include <deque>

#include "core/kernel/hw.h"
#include "core/kernel/lock.h"
#include "core/kernel/platform.h"
#include "core/mc/media_device.h"
#include "core/v4l2/v4l2_async.h"
#include "core/v4l2/v4l2_dev.h"
#include "core/v4l2/v4l2_device.h"
#include "core/v4l2/v4l2_fh.h"
#include "core/v4l2/v4l2_subdev.h"
#include "core/v4l2/videobuf2.h"
#include "drivers/omap3isp/omap3isp.h"

namespace mcf {

struct isp_device;
struct isp_video;

// ---------------------------------------------------------------------------
// Registers (byte offsets in the one register block of the platform device).
// Upstream maps two MMIO areas; the model puts the second (CSI2a, CSIPHY2)
// after the first. Offsets inside a module are upstream's (ispreg.h) where
// the model uses the register; a few DMA address registers are the model's.

constexpr uint32_t OMAP3_ISP_IOMEM_MAIN = 0x0000;
constexpr uint32_t OMAP3_ISP_IOMEM_CCP2 = 0x0400;
constexpr uint32_t OMAP3_ISP_IOMEM_CCDC = 0x0600;
constexpr uint32_t OMAP3_ISP_IOMEM_HIST = 0x0a00;
constexpr uint32_t OMAP3_ISP_IOMEM_H3A = 0x0c00;
constexpr uint32_t OMAP3_ISP_IOMEM_PREV = 0x0e00;
constexpr uint32_t OMAP3_ISP_IOMEM_RESZ = 0x1000;
constexpr uint32_t OMAP3_ISP_IOMEM_SBL = 0x1200;
constexpr uint32_t OMAP3_ISP_IOMEM_CSI2A = 0x1800;
constexpr uint32_t OMAP3_ISP_IOMEM_CSIPHY2 = 0x1970;
constexpr size_t OMAP3_ISP_NUM_REGS = 0x2000 / 4;

// Main area.
constexpr uint32_t ISP_REVISION = 0x000;
constexpr uint32_t ISP_SYSCONFIG = 0x004;
constexpr uint32_t ISP_SYSSTATUS = 0x008;
constexpr uint32_t ISP_IRQ0ENABLE = 0x00c;
constexpr uint32_t ISP_IRQ0STATUS = 0x010;
constexpr uint32_t ISP_CTRL = 0x040;
// The revision the model's hardware reports (ISP 15.0, OMAP3630/DM3730, the
// board of the reference's media-ctl dump: hw_revision 0xf0).
constexpr uint32_t ISP_REVISION_15_0 = 0xf0;
constexpr uint32_t ISP_SYSCONFIG_SOFTRESET = 1u << 1;

// IRQ0STATUS / IRQ0ENABLE bits (upstream's).
constexpr uint32_t IRQ0STATUS_CSIA_IRQ = 1u << 0;
constexpr uint32_t IRQ0STATUS_CSIB_IRQ = 1u << 4;
constexpr uint32_t IRQ0STATUS_CCDC_VD0_IRQ = 1u << 8;
constexpr uint32_t IRQ0STATUS_CCDC_VD1_IRQ = 1u << 9;
constexpr uint32_t IRQ0STATUS_H3A_AF_DONE_IRQ = 1u << 12;
constexpr uint32_t IRQ0STATUS_H3A_AWB_DONE_IRQ = 1u << 13;
constexpr uint32_t IRQ0STATUS_HIST_DONE_IRQ = 1u << 16;
constexpr uint32_t IRQ0STATUS_PRV_DONE_IRQ = 1u << 20;
constexpr uint32_t IRQ0STATUS_RSZ_DONE_IRQ = 1u << 24;
constexpr uint32_t IRQ0STATUS_HS_VS_IRQ = 1u << 31;

// Module enable registers and bits.
constexpr uint32_t ISPCCP2_CTRL = 0x004;  // IF_EN: bit 0
constexpr uint32_t ISPCCP2_CTRL_IF_EN = 1u << 0;
constexpr uint32_t ISPCSI2_CTRL = 0x040;  // IF_EN: bit 0
constexpr uint32_t ISPCSI2_CTRL_IF_EN = 1u << 0;
constexpr uint32_t ISPCCDC_PCR = 0x004;
constexpr uint32_t ISPCCDC_PCR_EN = 1u << 0;
constexpr uint32_t ISPCCDC_SDR_ADDR = 0x060;
constexpr uint32_t ISPPRV_PCR = 0x004;
constexpr uint32_t ISPPRV_PCR_EN = 1u << 0;
constexpr uint32_t ISPPRV_WADD_OFFSET = 0x020;  // the model's write address
constexpr uint32_t ISPRSZ_PCR = 0x004;
constexpr uint32_t ISPRSZ_PCR_ENABLE = 1u << 0;
constexpr uint32_t ISPRSZ_SDR_OUTADD = 0x058;
constexpr uint32_t ISPCSI2_CTX_DAT_PING_ADDR = 0x080;  // the model's (context 0)
constexpr uint32_t ISPH3A_PCR = 0x000;
constexpr uint32_t ISPH3A_PCR_AF_EN = 1u << 0;
constexpr uint32_t ISPH3A_PCR_AEW_EN = 1u << 16;
constexpr uint32_t ISPHIST_PCR = 0x000;
constexpr uint32_t ISPHIST_PCR_ENABLE = 1u << 0;

uint32_t isp_reg_readl(isp_device* isp, uint32_t area, uint32_t reg);
void isp_reg_writel(isp_device* isp, uint32_t value, uint32_t area, uint32_t reg);
void isp_reg_set(isp_device* isp, uint32_t area, uint32_t reg, uint32_t bits);
void isp_reg_clr(isp_device* isp, uint32_t area, uint32_t reg, uint32_t bits);

// ---------------------------------------------------------------------------
// Formats (ispvideo.c's table: media bus code, its 10-bit truncation, its
// uncompressed form, its 8-bit "flavour", the pixel format, bits, bytes).

struct isp_format_info {
  uint32_t code;
  uint32_t truncated;
  uint32_t uncompressed;
  uint32_t flavor;
  uint32_t pixelformat;
  unsigned width;
  unsigned bpp;
};
// The entry for `code`, or null.
const isp_format_info* omap3isp_video_format_info(uint32_t code);

// ---------------------------------------------------------------------------
// Pipelines (ispvideo.h).

enum isp_pipeline_stream_state {
  ISP_PIPELINE_STREAM_STOPPED = 0,
  ISP_PIPELINE_STREAM_CONTINUOUS = 1,
  ISP_PIPELINE_STREAM_SINGLESHOT = 2,
};

enum isp_pipeline_state : unsigned {
  ISP_PIPELINE_STREAM_INPUT = 1,
  ISP_PIPELINE_STREAM_OUTPUT = 2,
  ISP_PIPELINE_QUEUE_INPUT = 4,
  ISP_PIPELINE_QUEUE_OUTPUT = 8,
  ISP_PIPELINE_IDLE_INPUT = 16,
  ISP_PIPELINE_IDLE_OUTPUT = 32,
  ISP_PIPELINE_STREAM = 64,
};

// A pipeline: the media pipeline plus the ISP's state. Embedded in the video
// node at its output (upstream: every pipeline has one output video node).
struct isp_pipeline {
  media_pipeline pipe;
  SpinLock lock{"isp_pipeline.lock"};
  unsigned state ABSL_GUARDED_BY(lock) = 0;
  std::atomic<int> stream_state{ISP_PIPELINE_STREAM_STOPPED};
  // Set at STREAMON, under the output video's stream_lock.
  isp_video* input = nullptr;
  isp_video* output = nullptr;
  // The external sub-device feeding the pipeline (the sensor), an identity
  // tag only: compared, never dereferenced. Written and read under the media
  // device's graph_mutex, so the unbind callback can find the pipelines its
  // sensor feeds.
  v4l2_subdev* external = nullptr;
  // Set when the external source left while streaming: buffers come back in
  // error until STREAMOFF.
  std::atomic<bool> error{false};
  uint32_t field = V4L2_FIELD_NONE;  // the output video's irqlock (read by the IRQ)
};

// ---------------------------------------------------------------------------
// Video nodes (ispvideo.h). One per DMA engine port.

struct isp_video_operations {
  // Programs the module's DMA address with `buf` (IRQ or process context,
  // irqlock held).
  void (*queue)(isp_video* video, vb2_v4l2_buffer* buf) = nullptr;
};

struct isp_video {
  video_device video;
  media_pad pad;
  v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  isp_device* isp = nullptr;
  const isp_video_operations* ops = nullptr;
  unsigned capture_mem = 0;
  unsigned bpl_alignment = 1;
  unsigned bpl_max = 0;
  bool bpl_zero_padding = false;

  Mutex mutex{"isp_video.mutex"};              // file formats
  Mutex stream_lock{"isp_video.stream_lock"};  // STREAMON/STREAMOFF, remove()
  Mutex queue_lock{"isp_video.queue_lock"};    // every file's vb2 queue (q->lock)

  // Buffers given to the hardware, shared with the IRQ handler.
  SpinLock irqlock{"isp_video.irqlock"};
  std::deque<vb2_v4l2_buffer*> dmaqueue ABSL_GUARDED_BY(irqlock);
  bool error ABSL_GUARDED_BY(irqlock) = false;  // cancelled: buffers complete in error
  int sequence ABSL_GUARDED_BY(irqlock) = -1;   // frame number of the pipeline

  // The queue of the file that streams (upstream video->queue).
  vb2_queue* queue ABSL_GUARDED_BY(stream_lock) = nullptr;
  isp_pipeline pipe;

  std::atomic<long> frames_done{0};     // buffers completed by the IRQ
  std::atomic<long> frames_dropped{0};  // frame ends with no buffer queued
};

// A file handle of a video node: upstream's isp_video_fh. The vb2 queue and
// the format belong to the file, as upstream.
struct isp_video_fh : Tracked<isp_video_fh> {
  static constexpr const char kObjName[] = "isp_video_fh";
  v4l2_fh vfh;
  isp_video* video = nullptr;
  vb2_queue queue;
  v4l2_format format = {};   // video->mutex
  v4l2_fract timeperframe = {0, 1};
};

int omap3isp_video_init(isp_video* video, const char* name);
int omap3isp_video_register(isp_video* video, v4l2_device* vdev);
// R13/R14/R15: no new calls, every file's sleeping DQBUF woken, calls in
// flight waited for, then the stream stopped while the hardware is there.
void omap3isp_video_unregister(isp_video* video);
// IRQ context: the frame the DMA engine was writing is complete.
void omap3isp_video_frame_done(isp_video* video);
// Every queued buffer back in error; new ones complete in error until
// STREAMOFF (upstream omap3isp_video_cancel_stream).
void omap3isp_video_cancel_stream(isp_video* video);
// Byte `offset` of frame `sequence` as the model's DMA writes it.
inline uint8_t omap3isp_frame_pattern(uint32_t sequence, size_t offset) {
  return static_cast<uint8_t>(sequence * 13 + offset);
}

// ---------------------------------------------------------------------------
// Modules. Pad numbers and module states are upstream's.

enum { CSI2_PAD_SINK = 0, CSI2_PAD_SOURCE = 1, CSI2_PADS_NUM = 2 };
enum { CCP2_PAD_SINK = 0, CCP2_PAD_SOURCE = 1, CCP2_PADS_NUM = 2 };
enum { CCDC_PAD_SINK = 0, CCDC_PAD_SOURCE_OF = 1, CCDC_PAD_SOURCE_VP = 2, CCDC_PADS_NUM = 3 };
enum { PREV_PAD_SINK = 0, PREV_PAD_SOURCE = 1, PREV_PADS_NUM = 2 };
enum { RESZ_PAD_SINK = 0, RESZ_PAD_SOURCE = 1, RESZ_PADS_NUM = 2 };

enum ccdc_input_entity {
  CCDC_INPUT_NONE,
  CCDC_INPUT_PARALLEL,
  CCDC_INPUT_CSI2A,
  CCDC_INPUT_CCP2B,
  CCDC_INPUT_CSI2C,
};
constexpr unsigned CCDC_OUTPUT_MEMORY = 1u << 0;
constexpr unsigned CCDC_OUTPUT_PREVIEW = 1u << 1;
constexpr unsigned CCDC_OUTPUT_RESIZER = 1u << 2;

enum csi2_output { CSI2_OUTPUT_CCDC = 1u << 0, CSI2_OUTPUT_MEMORY = 1u << 1 };
enum ccp2_input_entity { CCP2_INPUT_NONE, CCP2_INPUT_SENSOR, CCP2_INPUT_MEMORY };
enum preview_input_entity { PREVIEW_INPUT_NONE, PREVIEW_INPUT_CCDC, PREVIEW_INPUT_MEMORY };
constexpr unsigned PREVIEW_OUTPUT_MEMORY = 1u << 0;
constexpr unsigned PREVIEW_OUTPUT_RESIZER = 1u << 1;
enum resizer_input_entity { RESIZER_INPUT_NONE, RESIZER_INPUT_VP, RESIZER_INPUT_MEMORY };

// Module fields written by link_setup (graph_mutex) or s_stream and read by
// the format code and the IRQ are atomics: the IRQ takes no mutex.
struct isp_csi2_device {
  v4l2_subdev subdev;
  media_pad pads[CSI2_PADS_NUM];
  isp_video video_out;
  std::atomic<unsigned> output{0};
  std::atomic<int> state{ISP_PIPELINE_STREAM_STOPPED};
};

struct isp_ccp2_device {
  v4l2_subdev subdev;
  media_pad pads[CCP2_PADS_NUM];
  isp_video video_in;
  std::atomic<int> input{CCP2_INPUT_NONE};
  std::atomic<int> state{ISP_PIPELINE_STREAM_STOPPED};
};

struct isp_ccdc_device {
  v4l2_subdev subdev;
  media_pad pads[CCDC_PADS_NUM];
  isp_video video_out;
  std::atomic<int> input{CCDC_INPUT_NONE};
  std::atomic<unsigned> output{0};
  std::atomic<int> state{ISP_PIPELINE_STREAM_STOPPED};
};

struct isp_prev_device {
  v4l2_subdev subdev;
  media_pad pads[PREV_PADS_NUM];
  isp_video video_in;
  isp_video video_out;
  std::atomic<int> input{PREVIEW_INPUT_NONE};
  std::atomic<unsigned> output{0};
  std::atomic<int> state{ISP_PIPELINE_STREAM_STOPPED};
};

struct isp_res_device {
  v4l2_subdev subdev;
  media_pad pads[RESZ_PADS_NUM];
  isp_video video_in;
  isp_video video_out;
  std::atomic<int> input{RESIZER_INPUT_NONE};
  std::atomic<int> state{ISP_PIPELINE_STREAM_STOPPED};
};

// The statistics engines (ispstat.c + isph3a_aewb.c, isph3a_af.c,
// isphist.c). Their buffers go to user space through private ioctls that are
// not modelled; the model counts the frames they processed.
struct ispstat {
  v4l2_subdev subdev;
  media_pad pad;
  isp_device* isp = nullptr;
  uint32_t pcr_area = 0;
  uint32_t pcr_enable = 0;
  std::atomic<int> state{ISP_PIPELINE_STREAM_STOPPED};
  std::atomic<long> frames{0};
};

// Which receiver the sensor's endpoint is wired to (upstream's
// isp_interface_type, from the device tree; here from omap3isp_set_endpoint).
enum isp_interface_type {
  ISP_INTERFACE_PARALLEL,
  ISP_INTERFACE_CSI2A_PHY2,
  ISP_INTERFACE_CCP2B_PHY1,
  ISP_INTERFACE_CCP2B_PHY2,
  ISP_INTERFACE_CSI2C_PHY1,
};

struct isp_device : Tracked<isp_device> {
  static constexpr const char kObjName[] = "isp_device";

  platform_device* pdev = nullptr;  // referenced until isp_release (regs live in it)
  iomem* regs = nullptr;            // accessed only while bound (R15)
  int irq = -1;
  uint32_t revision = 0;
  isp_interface_type interface = ISP_INTERFACE_CSI2A_PHY2;

  media_device media_dev;
  v4l2_device v4l2_dev;
  v4l2_async_notifier notifier;

  // Power (omap3isp_get/put): the first get enables the interrupts, the
  // last put disables them; once remove() ran the hardware is off limits.
  Mutex isp_mutex{"isp_device.isp_mutex"};
  int ref_count ABSL_GUARDED_BY(isp_mutex) = 0;
  bool removed ABSL_GUARDED_BY(isp_mutex) = false;

  // The bound sensor (R16): set in bound(), cleared in unbind(), both under
  // the graph mutex; every call into the sensor checks it under that mutex.
  v4l2_subdev* sensor ABSL_GUARDED_BY(media_dev.graph_mutex) = nullptr;
  int sensor_streaming ABSL_GUARDED_BY(media_dev.graph_mutex) = 0;

  isp_ccp2_device isp_ccp2;
  isp_csi2_device isp_csi2a;
  isp_ccdc_device isp_ccdc;
  isp_prev_device isp_prev;
  isp_res_device isp_res;
  ispstat isp_aewb;
  ispstat isp_af;
  ispstat isp_hist;

  // For tests: notifier callbacks seen, interrupts handled.
  std::atomic<int> bound_calls{0};
  std::atomic<int> unbind_calls{0};
  std::atomic<int> complete_calls{0};
  std::atomic<long> irq_count{0};
};

inline isp_device* to_isp_device_from_v4l2(v4l2_device* v4l2_dev) {
  return container_of(v4l2_dev, isp_device, v4l2_dev);
}

// Power (isp.cc). get returns null once remove() ran.
isp_device* omap3isp_get(isp_device* isp);
void omap3isp_put(isp_device* isp);

// Pipelines (isp.cc).
int omap3isp_pipeline_set_stream(isp_pipeline* pipe, isp_pipeline_stream_state state);
// link_validate of the ISP sub-devices (v4l2_subdev_link_validate): the
// formats at both ends must match, -EPIPE otherwise. Caller holds the graph
// mutex (media_pipeline_start).
int omap3isp_link_validate(media_link* link);
// Whether `sd` is one of the ISP's own sub-devices (upstream: sd->dev ==
// isp->dev) rather than the external sensor.
bool omap3isp_is_internal_subdev(isp_device* isp, const v4l2_subdev* sd);
// The bound sensor if `sd` is it, else null. Caller holds the graph mutex.
v4l2_subdev* omap3isp_bound_sensor(isp_device* isp, v4l2_subdev* sd);

// Module init/cleanup and entity registration (one file each).
int omap3isp_csi2_init(isp_device* isp);
int omap3isp_ccp2_init(isp_device* isp);
int omap3isp_ccdc_init(isp_device* isp);
int omap3isp_preview_init(isp_device* isp);
int omap3isp_resizer_init(isp_device* isp);
int omap3isp_stat_init(isp_device* isp, ispstat* stat, const char* name, uint32_t pcr_area,
                       uint32_t pcr_enable);

// IRQ handlers of the modules (hard-IRQ context).
void omap3isp_csi2_isr(isp_csi2_device* csi2);
void omap3isp_ccp2_isr(isp_ccp2_device* ccp2);
void omap3isp_ccdc_isr(isp_ccdc_device* ccdc);
void omap3isp_preview_isr(isp_prev_device* prev);
void omap3isp_resizer_isr(isp_res_device* res);
void omap3isp_stat_isr(ispstat* stat);

// Shared helpers of the modules' pad operations.
uint32_t isp_clamp(uint32_t v, uint32_t lo, uint32_t hi);
// A sub-device's pads: whether `remote` is a sub-device (upstream's
// "index |= 2 << 16" hack in every link_setup).
inline bool isp_remote_is_subdev(const media_pad* remote) {
  return is_media_entity_v4l2_subdev(remote->entity);
}

}  // namespace mcf
