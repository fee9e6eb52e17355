// The ISP's video nodes, after drivers/media/platform/ti/omap3isp/ispvideo.c.
//
// As upstream: one node per DMA port, named "OMAP3 ISP <module> output" for
// capture and "OMAP3 ISP <module> input" for output queues, with one
// MUST_CONNECT pad; the vb2 queue and the format belong to the file handle
// (isp_video_fh); STREAMON starts the media pipeline (link_validate), checks
// the file's format against the connected sub-device (-EINVAL) and the
// external source, then starts the modules through s_stream.
//
// Differences, each for a lifetime rule:
//  - omap3isp_video_unregister() is two-phase (R13): new calls fail, the
//    DQBUF sleepers of every file's queue are woken (R14: the queues are per
//    file, so the core cannot find them), the stream is stopped while the
//    hardware is there (R15), then the node goes.
//  - STREAMON re-checks the registration under stream_lock (R12).
//  - The IRQ completes buffers with the irqlock held, so STREAMOFF cannot
//    return while a buffer is half done (upstream waits for the hardware).
//  - A second file cannot STREAMON a node another file streams (-EBUSY).
// Not modelled: OUTPUT queues (the core has no VIDEO_OUTPUT buffer type:
// input nodes answer QUERYCAP only), USERPTR, G/S_SELECTION, G/S_PARM.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/kernel/slab.h"
#include "core/v4l2/v4l2_ioctl.h"
#include "drivers/omap3isp/isp.h"

namespace mcf {
namespace {

constexpr char ISP_VIDEO_DRIVER_NAME[] = "ispvideo";
constexpr unsigned PAGE_SIZE = 4096;
constexpr uint64_t kFrameIntervalNs = 33333333;  // the model's 30 fps

// Upstream's table, in its order (code, truncated, uncompressed, flavour,
// pixel format, bits per pixel, bytes per pixel). The empty last entry
// catches unsupported codes (the CCDC video port uses code 0).
const isp_format_info kFormats[] = {
    {MEDIA_BUS_FMT_Y8_1X8, MEDIA_BUS_FMT_Y8_1X8, MEDIA_BUS_FMT_Y8_1X8, MEDIA_BUS_FMT_Y8_1X8,
     V4L2_PIX_FMT_GREY, 8, 1},
    {MEDIA_BUS_FMT_Y10_1X10, MEDIA_BUS_FMT_Y10_1X10, MEDIA_BUS_FMT_Y10_1X10,
     MEDIA_BUS_FMT_Y8_1X8, V4L2_PIX_FMT_Y10, 10, 2},
    {MEDIA_BUS_FMT_Y12_1X12, MEDIA_BUS_FMT_Y10_1X10, MEDIA_BUS_FMT_Y12_1X12,
     MEDIA_BUS_FMT_Y8_1X8, V4L2_PIX_FMT_Y12, 12, 2},
    {MEDIA_BUS_FMT_SBGGR8_1X8, MEDIA_BUS_FMT_SBGGR8_1X8, MEDIA_BUS_FMT_SBGGR8_1X8,
     MEDIA_BUS_FMT_SBGGR8_1X8, V4L2_PIX_FMT_SBGGR8, 8, 1},
    {MEDIA_BUS_FMT_SGBRG8_1X8, MEDIA_BUS_FMT_SGBRG8_1X8, MEDIA_BUS_FMT_SGBRG8_1X8,
     MEDIA_BUS_FMT_SGBRG8_1X8, V4L2_PIX_FMT_SGBRG8, 8, 1},
    {MEDIA_BUS_FMT_SGRBG8_1X8, MEDIA_BUS_FMT_SGRBG8_1X8, MEDIA_BUS_FMT_SGRBG8_1X8,
     MEDIA_BUS_FMT_SGRBG8_1X8, V4L2_PIX_FMT_SGRBG8, 8, 1},
    {MEDIA_BUS_FMT_SRGGB8_1X8, MEDIA_BUS_FMT_SRGGB8_1X8, MEDIA_BUS_FMT_SRGGB8_1X8,
     MEDIA_BUS_FMT_SRGGB8_1X8, V4L2_PIX_FMT_SRGGB8, 8, 1},
    {MEDIA_BUS_FMT_SBGGR10_DPCM8_1X8, MEDIA_BUS_FMT_SBGGR10_DPCM8_1X8,
     MEDIA_BUS_FMT_SBGGR10_1X10, 0, V4L2_PIX_FMT_SBGGR10DPCM8, 8, 1},
    {MEDIA_BUS_FMT_SGBRG10_DPCM8_1X8, MEDIA_BUS_FMT_SGBRG10_DPCM8_1X8,
     MEDIA_BUS_FMT_SGBRG10_1X10, 0, V4L2_PIX_FMT_SGBRG10DPCM8, 8, 1},
    {MEDIA_BUS_FMT_SGRBG10_DPCM8_1X8, MEDIA_BUS_FMT_SGRBG10_DPCM8_1X8,
     MEDIA_BUS_FMT_SGRBG10_1X10, 0, V4L2_PIX_FMT_SGRBG10DPCM8, 8, 1},
    {MEDIA_BUS_FMT_SRGGB10_DPCM8_1X8, MEDIA_BUS_FMT_SRGGB10_DPCM8_1X8,
     MEDIA_BUS_FMT_SRGGB10_1X10, 0, V4L2_PIX_FMT_SRGGB10DPCM8, 8, 1},
    {MEDIA_BUS_FMT_SBGGR10_1X10, MEDIA_BUS_FMT_SBGGR10_1X10, MEDIA_BUS_FMT_SBGGR10_1X10,
     MEDIA_BUS_FMT_SBGGR8_1X8, V4L2_PIX_FMT_SBGGR10, 10, 2},
    {MEDIA_BUS_FMT_SGBRG10_1X10, MEDIA_BUS_FMT_SGBRG10_1X10, MEDIA_BUS_FMT_SGBRG10_1X10,
     MEDIA_BUS_FMT_SGBRG8_1X8, V4L2_PIX_FMT_SGBRG10, 10, 2},
    {MEDIA_BUS_FMT_SGRBG10_1X10, MEDIA_BUS_FMT_SGRBG10_1X10, MEDIA_BUS_FMT_SGRBG10_1X10,
     MEDIA_BUS_FMT_SGRBG8_1X8, V4L2_PIX_FMT_SGRBG10, 10, 2},
    {MEDIA_BUS_FMT_SRGGB10_1X10, MEDIA_BUS_FMT_SRGGB10_1X10, MEDIA_BUS_FMT_SRGGB10_1X10,
     MEDIA_BUS_FMT_SRGGB8_1X8, V4L2_PIX_FMT_SRGGB10, 10, 2},
    {MEDIA_BUS_FMT_SBGGR12_1X12, MEDIA_BUS_FMT_SBGGR10_1X10, MEDIA_BUS_FMT_SBGGR12_1X12,
     MEDIA_BUS_FMT_SBGGR8_1X8, V4L2_PIX_FMT_SBGGR12, 12, 2},
    {MEDIA_BUS_FMT_SGBRG12_1X12, MEDIA_BUS_FMT_SGBRG10_1X10, MEDIA_BUS_FMT_SGBRG12_1X12,
     MEDIA_BUS_FMT_SGBRG8_1X8, V4L2_PIX_FMT_SGBRG12, 12, 2},
    {MEDIA_BUS_FMT_SGRBG12_1X12, MEDIA_BUS_FMT_SGRBG10_1X10, MEDIA_BUS_FMT_SGRBG12_1X12,
     MEDIA_BUS_FMT_SGRBG8_1X8, V4L2_PIX_FMT_SGRBG12, 12, 2},
    {MEDIA_BUS_FMT_SRGGB12_1X12, MEDIA_BUS_FMT_SRGGB10_1X10, MEDIA_BUS_FMT_SRGGB12_1X12,
     MEDIA_BUS_FMT_SRGGB8_1X8, V4L2_PIX_FMT_SRGGB12, 12, 2},
    {MEDIA_BUS_FMT_UYVY8_1X16, MEDIA_BUS_FMT_UYVY8_1X16, MEDIA_BUS_FMT_UYVY8_1X16, 0,
     V4L2_PIX_FMT_UYVY, 16, 2},
    {MEDIA_BUS_FMT_YUYV8_1X16, MEDIA_BUS_FMT_YUYV8_1X16, MEDIA_BUS_FMT_YUYV8_1X16, 0,
     V4L2_PIX_FMT_YUYV, 16, 2},
    {MEDIA_BUS_FMT_UYVY8_2X8, MEDIA_BUS_FMT_UYVY8_2X8, MEDIA_BUS_FMT_UYVY8_2X8, 0,
     V4L2_PIX_FMT_UYVY, 8, 2},
    {MEDIA_BUS_FMT_YUYV8_2X8, MEDIA_BUS_FMT_YUYV8_2X8, MEDIA_BUS_FMT_YUYV8_2X8, 0,
     V4L2_PIX_FMT_YUYV, 8, 2},
    {0, 0, 0, 0, 0, 0, 0},
};

isp_video* file_video(file* filp) {
  return container_of(video_devdata(filp), isp_video, video);
}
isp_video_fh* to_isp_video_fh(void* fh) {
  return container_of(static_cast<v4l2_fh*>(fh), isp_video_fh, vfh);
}

unsigned align_up(unsigned v, unsigned a) { return a <= 1 ? v : (v + a - 1) / a * a; }

// isp_video_mbus_to_pix: fills `pix` from `mbus`; bytesperline is the
// requested one clamped and aligned. Returns the padding at the end of a line.
unsigned isp_video_mbus_to_pix(const isp_video* video, const v4l2_mbus_framefmt* mbus,
                               v4l2_pix_format* pix) {
  unsigned bpl = pix->bytesperline;
  std::memset(pix, 0, sizeof(*pix));
  pix->width = mbus->width;
  pix->height = mbus->height;
  size_t i = 0;
  for (; i < std::size(kFormats); ++i)
    if (kFormats[i].code == mbus->code) break;
  if (i == std::size(kFormats)) return 0;  // upstream WARNs
  unsigned min_bpl = pix->width * kFormats[i].bpp;
  bpl = video->bpl_max != 0 ? std::clamp(bpl, min_bpl, video->bpl_max) : min_bpl;
  if (!video->bpl_zero_padding || bpl != min_bpl) bpl = align_up(bpl, video->bpl_alignment);
  pix->pixelformat = kFormats[i].pixelformat;
  pix->bytesperline = bpl;
  pix->sizeimage = pix->bytesperline * pix->height;
  pix->colorspace = mbus->colorspace;
  pix->field = mbus->field;
  return bpl - min_bpl;
}

void isp_video_pix_to_mbus(const v4l2_pix_format* pix, v4l2_mbus_framefmt* mbus) {
  std::memset(mbus, 0, sizeof(*mbus));
  mbus->width = pix->width;
  mbus->height = pix->height;
  // The last (empty) entry is the answer when nothing matches.
  size_t i = 0;
  for (; i < std::size(kFormats) - 1; ++i)
    if (kFormats[i].pixelformat == pix->pixelformat) break;
  mbus->code = kFormats[i].code;
  mbus->colorspace = pix->colorspace;
  mbus->field = pix->field;
}

// The sub-device at the other end of the node's enabled link and its pad, or
// null. Caller holds the graph mutex (upstream reads the links without it).
v4l2_subdev* isp_video_remote_subdev(isp_video* video, uint32_t* pad) {
  video->isp->media_dev.graph_mutex.assert_held();
  media_pad* remote = media_pad_remote_pad_first(&video->pad);
  if (remote == nullptr || !is_media_entity_v4l2_subdev(remote->entity)) return nullptr;
  if (pad != nullptr) *pad = remote->index;
  return media_entity_to_v4l2_subdev(remote->entity);
}

// The format of the sub-device pad feeding the node. The remote is always
// one of the ISP's own sub-devices, registered while this node is.
int isp_video_remote_format(isp_video* video, v4l2_subdev_format* fmt) {
  MutexGuard g(&video->isp->media_dev.graph_mutex);
  uint32_t pad = 0;
  v4l2_subdev* subdev = isp_video_remote_subdev(video, &pad);
  if (subdev == nullptr) return -EINVAL;
  fmt->pad = pad;
  return v4l2_subdev_call(subdev, pad, get_fmt, nullptr, fmt);
}

int isp_video_get_subdev_format(isp_video* video, v4l2_format* format) {
  v4l2_subdev_format fmt = {};
  fmt.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  int ret;
  {
    MutexGuard g(&video->mutex);
    ret = isp_video_remote_format(video, &fmt);
  }
  if (ret != 0) return ret;
  format->type = video->type;
  return static_cast<int>(isp_video_mbus_to_pix(video, &fmt.format, &format->fmt.pix));
}

// The file's format must be what the connected sub-device produces.
int isp_video_check_format(isp_video* video, isp_video_fh* vfh) {
  v4l2_format current;
  {
    MutexGuard g(&video->mutex);
    current = vfh->format;
  }
  v4l2_format format = current;
  int ret = isp_video_get_subdev_format(video, &format);
  if (ret < 0) return ret;
  const v4l2_pix_format& a = current.fmt.pix;
  const v4l2_pix_format& b = format.fmt.pix;
  if (a.pixelformat != b.pixelformat || a.height != b.height || a.width != b.width ||
      a.bytesperline != b.bytesperline || a.sizeimage != b.sizeimage || a.field != b.field)
    return -EINVAL;
  return ret;
}

// isp_video_get_graph_data: the video node at the other end of the pipeline
// (a memory input), if any.
int isp_video_get_graph_data(isp_video* video, isp_pipeline* pipe) {
  media_device* mdev = &video->isp->media_dev;
  isp_video* far_end = nullptr;
  media_graph graph;
  {
    MutexGuard g(&mdev->graph_mutex);
    media_graph_walk_start(&graph, &video->video.entity);
    while (media_entity* entity = media_graph_walk_next(&graph)) {
      if (far_end != nullptr || entity == &video->video.entity) continue;
      if (!is_media_entity_v4l2_video_device(entity)) continue;
      isp_video* other = container_of(container_of(entity, video_device, entity), isp_video, video);
      if (other->type != video->type) far_end = other;
    }
  }
  media_graph_walk_cleanup(&graph);  // outside the mutex: a put may be the last
  if (video->type == V4L2_BUF_TYPE_VIDEO_CAPTURE) {
    pipe->input = far_end;
    pipe->output = video;
    return 0;
  }
  if (far_end == nullptr) return -EPIPE;
  pipe->input = video;
  pipe->output = far_end;
  return 0;
}

// isp_video_check_external_subdevs: a sensor-to-memory pipeline needs its
// source, the bound sensor, at the input of one of the receivers. Its
// identity goes to pipe->external so that unbind() can find the pipeline.
int isp_video_check_external_subdevs(isp_video* video, isp_pipeline* pipe) {
  isp_device* isp = video->isp;
  if (pipe->input != nullptr) return 0;  // memory-to-memory
  MutexGuard g(&isp->media_dev.graph_mutex);
  // Walk upstream from the node through the first pad of each entity, as
  // the pipeline will when it starts.
  media_entity* entity = &video->video.entity;
  for (;;) {
    media_pad* pad = &entity->pads[0];
    if (!(pad->flags & MEDIA_PAD_FL_SINK)) return -EINVAL;
    media_pad* remote = media_pad_remote_pad_first(pad);
    if (remote == nullptr || !is_media_entity_v4l2_subdev(remote->entity)) return -EINVAL;
    v4l2_subdev* sd = media_entity_to_v4l2_subdev(remote->entity);
    if (!omap3isp_is_internal_subdev(isp, sd)) {
      // R16: only the sensor we are bound to; one being unbound is gone.
      if (omap3isp_bound_sensor(isp, sd) == nullptr) return -EINVAL;
      pipe->external = sd;
      return 0;
    }
    entity = remote->entity;
  }
}

// Stops the stream of `q` (the streaming file's queue). stream_lock held.
void isp_video_stream_stop_locked(isp_video* video, vb2_queue* q)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(video->stream_lock) {
  isp_pipeline* pipe = &video->pipe;
  unsigned state = video->type == V4L2_BUF_TYPE_VIDEO_CAPTURE
                       ? (ISP_PIPELINE_STREAM_OUTPUT | ISP_PIPELINE_QUEUE_OUTPUT)
                       : (ISP_PIPELINE_STREAM_INPUT | ISP_PIPELINE_QUEUE_INPUT);
  {
    SpinGuard g(&pipe->lock);
    pipe->state &= ~state;
  }
  // The modules first (hardware: this runs before remove() returns), then
  // every buffer back, then vb2, then the media pipeline.
  omap3isp_pipeline_set_stream(pipe, ISP_PIPELINE_STREAM_STOPPED);
  omap3isp_video_cancel_stream(video);
  {
    MutexGuard g(&video->queue_lock);
    vb2_streamoff(q, video->type);
  }
  video->queue = nullptr;
  {
    SpinGuard g(&video->irqlock);
    video->error = false;
  }
  pipe->error.store(false);
  {
    MutexGuard g(&video->isp->media_dev.graph_mutex);
    pipe->external = nullptr;
  }
  media_pipeline_stop(&video->video.entity);
}

// --- vb2 operations (q->lock = video->queue_lock held).

int isp_video_queue_setup(vb2_queue* queue, unsigned* count, unsigned* num_planes,
                          unsigned sizes[]) {
  auto* vfh = static_cast<isp_video_fh*>(vb2_get_drv_priv(queue));
  isp_video* video = vfh->video;
  unsigned size;
  {
    MutexGuard g(&video->mutex);
    size = vfh->format.fmt.pix.sizeimage;
  }
  if (size == 0) return -EINVAL;
  *num_planes = 1;
  sizes[0] = size;
  *count = std::min(*count, video->capture_mem / align_up(size, PAGE_SIZE));
  return 0;
}

int isp_video_buffer_prepare(vb2_buffer* buf) {
  auto* vfh = static_cast<isp_video_fh*>(vb2_get_drv_priv(buf->vb2_queue));
  isp_video* video = vfh->video;
  // A best effort, as upstream: buf_queue makes the authoritative check.
  {
    SpinGuard g(&video->irqlock);
    if (video->error) return -EIO;
  }
  vb2_set_plane_payload(buf, 0, vb2_plane_size(buf, 0));
  return 0;
}

void isp_video_buffer_queue(vb2_buffer* buf) {
  auto* vfh = static_cast<isp_video_fh*>(vb2_get_drv_priv(buf->vb2_queue));
  isp_video* video = vfh->video;
  isp_pipeline* pipe = &video->pipe;
  vb2_v4l2_buffer* vbuf = to_vb2_v4l2_buffer(buf);
  bool empty;
  {
    SpinGuard g(&video->irqlock);
    if (video->error) {
      vb2_buffer_done(buf, VB2_BUF_STATE_ERROR);
      return;
    }
    empty = video->dmaqueue.empty();
    video->dmaqueue.push_back(vbuf);
    // The DMA engine was idle: give it this buffer.
    if (empty && video->ops != nullptr && video->ops->queue != nullptr)
      video->ops->queue(video, vbuf);
  }
  if (empty) {
    SpinGuard g(&pipe->lock);
    pipe->state |= video->type == V4L2_BUF_TYPE_VIDEO_CAPTURE ? ISP_PIPELINE_QUEUE_OUTPUT
                                                               : ISP_PIPELINE_QUEUE_INPUT;
  }
}

void isp_video_return_buffers_locked(isp_video* video, vb2_buffer_state state)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(video->irqlock) {
  for (vb2_v4l2_buffer* buf : video->dmaqueue) vb2_buffer_done(&buf->vb2_buf, state);
  video->dmaqueue.clear();
}

int isp_video_start_streaming(vb2_queue* queue, unsigned count) {
  auto* vfh = static_cast<isp_video_fh*>(vb2_get_drv_priv(queue));
  isp_video* video = vfh->video;
  isp_pipeline* pipe = &video->pipe;
  // Memory-to-memory pipelines start when both ends have buffers.
  if (pipe->input != nullptr) return 0;
  int ret = omap3isp_pipeline_set_stream(pipe, ISP_PIPELINE_STREAM_CONTINUOUS);
  if (ret < 0) {
    // The modules the walk started before the failure stop again (upstream
    // leaves them running).
    omap3isp_pipeline_set_stream(pipe, ISP_PIPELINE_STREAM_STOPPED);
    SpinGuard g(&video->irqlock);
    isp_video_return_buffers_locked(video, VB2_BUF_STATE_QUEUED);
  }
  return ret;
}

const vb2_ops isp_video_queue_ops = {
    .queue_setup = isp_video_queue_setup,
    .buf_prepare = isp_video_buffer_prepare,
    .start_streaming = isp_video_start_streaming,
    .buf_queue = isp_video_buffer_queue,
};

// --- ioctls (no core serialisation lock: the driver takes its own).

int isp_video_querycap(file* filp, void* fh, v4l2_capability* cap) {
  isp_video* video = file_video(filp);
  std::snprintf(reinterpret_cast<char*>(cap->driver), sizeof(cap->driver), "%s",
                ISP_VIDEO_DRIVER_NAME);
  std::snprintf(reinterpret_cast<char*>(cap->card), sizeof(cap->card), "%s", video->video.name);
  std::snprintf(reinterpret_cast<char*>(cap->bus_info), sizeof(cap->bus_info), "media");
  cap->capabilities =
      V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_STREAMING | V4L2_CAP_DEVICE_CAPS;
  return 0;
}

int isp_video_get_format(file* filp, void* fh, v4l2_format* format) {
  isp_video* video = file_video(filp);
  if (format->type != video->type) return -EINVAL;
  MutexGuard g(&video->mutex);
  *format = to_isp_video_fh(fh)->format;
  return 0;
}

int isp_video_set_format(file* filp, void* fh, v4l2_format* format) {
  isp_video* video = file_video(filp);
  if (format->type != video->type) return -EINVAL;
  // Unsupported field orders become sane defaults (upstream's table).
  switch (format->fmt.pix.field) {
    case V4L2_FIELD_NONE:
      break;
    case V4L2_FIELD_ALTERNATE:
      if (video->type == V4L2_BUF_TYPE_VIDEO_OUTPUT) format->fmt.pix.field = V4L2_FIELD_NONE;
      break;
    case V4L2_FIELD_INTERLACED:
      format->fmt.pix.field = V4L2_FIELD_INTERLACED_TB;
      [[fallthrough]];
    case V4L2_FIELD_INTERLACED_TB:
    case V4L2_FIELD_INTERLACED_BT:
      if (video != &video->isp->isp_ccdc.video_out) format->fmt.pix.field = V4L2_FIELD_NONE;
      break;
    default:
      format->fmt.pix.field = V4L2_FIELD_NONE;
      break;
  }
  // bytesperline and sizeimage by a round trip through the bus format.
  v4l2_mbus_framefmt fmt;
  isp_video_pix_to_mbus(&format->fmt.pix, &fmt);
  isp_video_mbus_to_pix(video, &fmt, &format->fmt.pix);
  MutexGuard g(&video->mutex);
  to_isp_video_fh(fh)->format = *format;
  return 0;
}

int isp_video_try_format(file* filp, void* fh, v4l2_format* format) {
  isp_video* video = file_video(filp);
  if (format->type != video->type) return -EINVAL;
  v4l2_subdev_format fmt = {};
  fmt.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  isp_video_pix_to_mbus(&format->fmt.pix, &fmt.format);
  int ret = isp_video_remote_format(video, &fmt);
  if (ret != 0) return ret == -ENOIOCTLCMD ? -ENOTTY : ret;
  isp_video_mbus_to_pix(video, &fmt.format, &format->fmt.pix);
  return 0;
}

int isp_video_reqbufs(file* filp, void* fh, v4l2_requestbuffers* rb) {
  isp_video* video = file_video(filp);
  MutexGuard g(&video->queue_lock);
  return vb2_reqbufs(&to_isp_video_fh(fh)->queue, rb);
}

int isp_video_querybuf(file* filp, void* fh, v4l2_buffer* b) {
  isp_video* video = file_video(filp);
  MutexGuard g(&video->queue_lock);
  return vb2_querybuf(&to_isp_video_fh(fh)->queue, b);
}

int isp_video_qbuf(file* filp, void* fh, v4l2_buffer* b) {
  isp_video* video = file_video(filp);
  MutexGuard g(&video->queue_lock);
  return vb2_qbuf(&to_isp_video_fh(fh)->queue, b);
}

int isp_video_dqbuf(file* filp, void* fh, v4l2_buffer* b) {
  isp_video* video = file_video(filp);
  // vb2 lets go of queue_lock (the queue's lock) while it sleeps.
  MutexGuard g(&video->queue_lock);
  return vb2_dqbuf(&to_isp_video_fh(fh)->queue, b, (filp->f_flags & O_NONBLOCK_) != 0);
}

int isp_video_streamon(file* filp, void* fh, v4l2_buf_type type) {
  isp_video* video = file_video(filp);
  isp_video_fh* vfh = to_isp_video_fh(fh);
  if (type != video->type) return -EINVAL;
  MutexGuard g(&video->stream_lock);
  // R12: remove() stops the stream under this lock once the node is
  // unregistered; a STREAMON that waited for the lock must not restart it.
  if (!video_is_registered(&video->video)) return -ENODEV;
  // One streaming file per node (the model's; upstream lets a second
  // file's queue replace the first one's).
  if (video->queue != nullptr) return video->queue == &vfh->queue ? 0 : -EBUSY;

  isp_pipeline* pipe = &video->pipe;
  // 1. The media pipeline: every enabled link validated (-EPIPE), no link
  //    touching it may change until it stops.
  int ret = media_pipeline_start(&video->video.entity, &pipe->pipe);
  if (ret < 0) return ret;
  // 2. The file's format against the connected sub-device's.
  ret = isp_video_check_format(video, vfh);
  if (ret < 0) goto err_pipeline;
  ret = isp_video_get_graph_data(video, pipe);
  if (ret < 0) goto err_pipeline;
  ret = isp_video_check_external_subdevs(video, pipe);
  if (ret < 0) goto err_pipeline;
  pipe->error.store(false);
  {
    SpinGuard sg(&pipe->lock);
    pipe->state &= ~ISP_PIPELINE_STREAM;
    pipe->state |= video->type == V4L2_BUF_TYPE_VIDEO_CAPTURE
                       ? (ISP_PIPELINE_STREAM_OUTPUT | ISP_PIPELINE_IDLE_OUTPUT)
                       : (ISP_PIPELINE_STREAM_INPUT | ISP_PIPELINE_IDLE_INPUT);
  }
  uint32_t field;
  {
    MutexGuard fg(&video->mutex);
    field = vfh->format.fmt.pix.field;
  }
  {
    // The IRQ reads these under irqlock.
    SpinGuard ig(&video->irqlock);
    video->dmaqueue.clear();
    video->sequence = -1;
    // A cancellation (the sensor's unbind) that raced the previous STREAMOFF
    // must not outlive it.
    video->error = false;
    pipe->field = field;
  }
  video->queue = &vfh->queue;
  // 3. vb2: start_streaming starts the modules (s_stream) down to the sensor.
  {
    MutexGuard qg(&video->queue_lock);
    ret = vb2_streamon(&vfh->queue, type);
  }
  if (ret < 0) {
    video->queue = nullptr;
    goto err_pipeline;
  }
  return 0;

err_pipeline:
  {
    MutexGuard gg(&video->isp->media_dev.graph_mutex);
    pipe->external = nullptr;
  }
  media_pipeline_stop(&video->video.entity);
  return ret;
}

int isp_video_streamoff(file* filp, void* fh, v4l2_buf_type type) {
  isp_video* video = file_video(filp);
  isp_video_fh* vfh = to_isp_video_fh(fh);
  if (type != video->type) return -EINVAL;
  MutexGuard g(&video->stream_lock);
  // Only the streaming file stops the stream; remove() may have done it.
  if (video->queue != &vfh->queue) return 0;
  isp_video_stream_stop_locked(video, &vfh->queue);
  return 0;
}

int isp_video_enum_input(file* filp, void* fh, v4l2_input* input) {
  if (input->index > 0) return -EINVAL;
  std::snprintf(reinterpret_cast<char*>(input->name), sizeof(input->name), "camera");
  input->type = V4L2_INPUT_TYPE_CAMERA;
  return 0;
}

int isp_video_g_input(file* filp, void* fh, unsigned* input) {
  *input = 0;
  return 0;
}

int isp_video_s_input(file* filp, void* fh, unsigned input) { return input == 0 ? 0 : -EINVAL; }

const v4l2_ioctl_ops isp_video_ioctl_ops = {
    .vidioc_querycap = isp_video_querycap,
    .vidioc_g_fmt_vid_cap = isp_video_get_format,
    .vidioc_s_fmt_vid_cap = isp_video_set_format,
    .vidioc_try_fmt_vid_cap = isp_video_try_format,
    .vidioc_reqbufs = isp_video_reqbufs,
    .vidioc_querybuf = isp_video_querybuf,
    .vidioc_qbuf = isp_video_qbuf,
    .vidioc_dqbuf = isp_video_dqbuf,
    .vidioc_streamon = isp_video_streamon,
    .vidioc_streamoff = isp_video_streamoff,
    .vidioc_enum_input = isp_video_enum_input,
    .vidioc_g_input = isp_video_g_input,
    .vidioc_s_input = isp_video_s_input,
};

// --- File operations.

int isp_video_open(file* filp) {
  isp_video* video = file_video(filp);
  isp_video_fh* handle = kzalloc<isp_video_fh>();
  if (handle == nullptr) return -ENOMEM;
  v4l2_fh_init(&handle->vfh, &video->video);
  v4l2_fh_add(&handle->vfh);

  // The first user powers the ISP up (upstream: -EBUSY on failure).
  int ret = 0;
  if (omap3isp_get(video->isp) == nullptr) {
    ret = -EBUSY;
    goto err_fh;
  }
  {
    vb2_queue* queue = &handle->queue;
    queue->type = video->type;
    queue->io_modes = VB2_MMAP;
    queue->drv_priv = handle;
    queue->ops = &isp_video_queue_ops;
    queue->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
    queue->lock = &video->queue_lock;
    ret = vb2_queue_init(queue);
  }
  if (ret < 0) {
    omap3isp_put(video->isp);
    goto err_fh;
  }
  handle->format.type = video->type;
  handle->timeperframe.denominator = 1;
  handle->video = video;
  filp->private_data = &handle->vfh;
  return 0;

err_fh:
  v4l2_fh_del(&handle->vfh);
  v4l2_fh_exit(&handle->vfh);
  kfree(handle);
  return ret;
}

// Who calls it: the file's last fput, registered or not. After remove() the
// stream is already stopped (omap3isp_video_unregister), so nothing here
// touches the hardware; omap3isp_put knows remove() ran.
int isp_video_release(file* filp) {
  isp_video* video = file_video(filp);
  v4l2_fh* vfh = file_to_v4l2_fh(filp);
  if (vfh == nullptr) return 0;
  isp_video_fh* handle = to_isp_video_fh(vfh);
  isp_video_streamoff(filp, vfh, video->type);
  {
    MutexGuard g(&video->queue_lock);
    vb2_queue_release(&handle->queue);
  }
  v4l2_fh_del(vfh);
  v4l2_fh_exit(vfh);
  kfree(handle);
  filp->private_data = nullptr;
  omap3isp_put(video->isp);
  return 0;
}

__poll_t isp_video_poll(file* filp, poll_table* wait) {
  isp_video* video = file_video(filp);
  isp_video_fh* vfh = to_isp_video_fh(filp->private_data);
  MutexGuard g(&video->queue_lock);
  return vb2_poll(&vfh->queue, filp, wait);
}

const v4l2_file_operations isp_video_fops = {
    .open = isp_video_open,
    .release = isp_video_release,
    .unlocked_ioctl = video_ioctl2,
    .poll = isp_video_poll,
};

}  // namespace

const isp_format_info* omap3isp_video_format_info(uint32_t code) {
  for (const isp_format_info& info : kFormats)
    if (info.code == code) return &info;
  return nullptr;
}

int omap3isp_video_init(isp_video* video, const char* name) {
  const char* direction;
  switch (video->type) {
    case V4L2_BUF_TYPE_VIDEO_CAPTURE:
      direction = "output";
      video->pad.flags = MEDIA_PAD_FL_SINK | MEDIA_PAD_FL_MUST_CONNECT;
      break;
    case V4L2_BUF_TYPE_VIDEO_OUTPUT:
      direction = "input";
      video->pad.flags = MEDIA_PAD_FL_SOURCE | MEDIA_PAD_FL_MUST_CONNECT;
      video->video.vfl_dir = VFL_DIR_TX;
      break;
    default:
      return -EINVAL;
  }
  int ret = media_entity_pads_init(&video->video.entity, 1, &video->pad);
  if (ret < 0) return ret;
  video->video.fops = &isp_video_fops;
  std::snprintf(video->video.name, sizeof(video->video.name), "OMAP3 ISP %s %s", name, direction);
  video->video.vfl_type = VFL_TYPE_VIDEO;
  // Embedded in isp_device: the media device's release frees it (R9).
  video->video.release = video_device_release_empty;
  video->video.ioctl_ops = &isp_video_ioctl_ops;
  video->video.device_caps = video->type == V4L2_BUF_TYPE_VIDEO_CAPTURE
                                 ? (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING)
                                 : (V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_STREAMING);
  video->pipe.stream_state.store(ISP_PIPELINE_STREAM_STOPPED);
  return 0;
}

int omap3isp_video_register(isp_video* video, v4l2_device* vdev) {
  video->video.v4l2_dev = vdev;
  return video_register_device(&video->video, VFL_TYPE_VIDEO, -1);
}

void omap3isp_video_unregister(isp_video* video) {
  video_device* vdev = &video->video;
  // Every step is a no-op on a node that was never registered.
  // 1. R13 phase 1: no new call gets in (idempotent).
  video_unregister_device_prepare(vdev);
  // 2. R14: every file has its own queue; wake their DQBUF sleepers, which
  //    then leave with -ENODEV. A file on the list is not freed while we hold
  //    fh_lock (its release takes it to leave the list first).
  {
    SpinGuard g(&vdev->fh_lock);
    for (v4l2_fh* fh : vdev->fh_list)
      vb2_queue_wake_for_unregister(&container_of(fh, isp_video_fh, vfh)->queue);
  }
  // 3. R15: stop the stream now, while the hardware and the graph are there.
  //    A STREAMON waiting for stream_lock sees the node unregistered.
  {
    MutexGuard g(&video->stream_lock);
    if (video->queue != nullptr) isp_video_stream_stop_locked(video, video->queue);
  }
  // 4. R13 phase 2: wait for the calls in flight, remove the node.
  video_unregister_device(vdev);
}

void omap3isp_video_frame_done(isp_video* video) {
  SpinGuard g(&video->irqlock);
  uint32_t seq = static_cast<uint32_t>(++video->sequence);
  if (video->dmaqueue.empty()) {
    // Underrun: the frame is lost, its number is not.
    video->frames_dropped.fetch_add(1);
    return;
  }
  vb2_v4l2_buffer* vbuf = video->dmaqueue.front();
  video->dmaqueue.pop_front();
  vb2_buffer* vb = &vbuf->vb2_buf;
  // The "DMA": the frame lands in the buffer.
  auto* p = static_cast<uint8_t*>(vb2_plane_vaddr(vb, 0));
  unsigned size = vb2_plane_size(vb, 0);
  for (unsigned i = 0; p != nullptr && i < size; ++i) p[i] = omap3isp_frame_pattern(seq, i);
  vb2_set_plane_payload(vb, 0, size);
  vbuf->sequence = seq;
  vbuf->field = video->pipe.field;
  vb->timestamp = (static_cast<uint64_t>(seq) + 1) * kFrameIntervalNs;
  // Pipeline errors are reported on the capture side (upstream).
  vb2_buffer_state state =
      video->type == V4L2_BUF_TYPE_VIDEO_CAPTURE && video->pipe.error.load()
          ? VB2_BUF_STATE_ERROR
          : VB2_BUF_STATE_DONE;
  vb2_buffer_done(vb, state);
  video->frames_done.fetch_add(1);
  if (!video->dmaqueue.empty() && video->ops != nullptr && video->ops->queue != nullptr)
    video->ops->queue(video, video->dmaqueue.front());
}

void omap3isp_video_cancel_stream(isp_video* video) {
  SpinGuard g(&video->irqlock);
  isp_video_return_buffers_locked(video, VB2_BUF_STATE_ERROR);
  video->error = true;
}

}  // namespace mcf
