// The vimc capture: a video node with one sink pad, fed by the frame timer.
// Upstream: drivers/media/test-drivers/vimc/vimc-capture.c.
//
//   /dev/videoN  (VIDEO_CAPTURE | STREAMING | IO_MC)
//     fops: v4l2_fh_open / vb2_fop_release / video_ioctl2 / vb2_fop_poll
//     ioctls: QUERYCAP, ENUM_FMT, G/S/TRY_FMT and the vb2_ioctl_* helpers,
//             serialised by the capture's `lock`
//   formats: every pixel format of the pix map table, 16x16 to 4096x2160
//     (even sizes), default 640x480 RGB24, field NONE, sRGB; S_FMT is
//     -EBUSY once buffers are allocated.
//   start_streaming: media_pipeline_start (link_validate: -EPIPE on any
//     mismatch in the connected component), then the streamer; on failure
//     the buffers go back QUEUED. stop_streaming: streamer, pipeline, then
//     every buffer back with ERROR.
//   process_frame (frame IRQ): the first queued buffer gets the frame, the
//     tick's time stamp and the next sequence number; with no buffer the
//     frame is dropped and the sequence does not advance (as upstream).
//
// Lifetime: the video_device is embedded in the struct, whose memory the
// media device release frees (R9); vdev.release is empty. remove() calls
// vb2_video_unregister_device (R13, R14: waits for calls in flight, wakes
// sleepers, stops streaming while the hardware is still there).
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>

#include "core/kernel/slab.h"
#include "core/v4l2/v4l2_dev.h"
#include "core/v4l2/v4l2_fh.h"
#include "core/v4l2/v4l2_ioctl.h"
#include "core/v4l2/videobuf2.h"
#include "drivers/vimc/vimc_streamer.h"

namespace mcf {
namespace {

struct vimc_capture_device : Tracked<vimc_capture_device> {
  static constexpr const char kObjName[] = "vimc_capture_device";
  vimc_ent_device ved;
  video_device vdev;
  vb2_queue queue;
  // Serialises every ioctl (vdev.lock) and the queue (queue.lock).
  Mutex lock{"vimc_capture.lock"};
  // The format: written under `lock` and fmt_lock, read under either.
  // link_validate reads it under the graph mutex for captures other than
  // the one starting, without their `lock` (a leaf spinlock instead).
  SpinLock fmt_lock{"vimc_capture.fmt_lock"};
  v4l2_pix_format format = {};
  // The buffers the driver holds, shared with the frame IRQ.
  SpinLock qlock{"vimc_capture.qlock"};
  std::deque<vb2_v4l2_buffer*> buf_list ABSL_GUARDED_BY(qlock);
  // Written by start_streaming before the stream is published to the frame
  // IRQ, then only by the IRQ (under vimc_device.stream_lock).
  uint32_t sequence = 0;
  struct {
    unsigned sizeimage = 0;
    uint32_t field = V4L2_FIELD_NONE;
  } hw;
  vimc_stream stream;
  media_pad pad;
};

v4l2_pix_format fmt_default() {
  v4l2_pix_format f = {};
  f.width = 640;
  f.height = 480;
  f.pixelformat = V4L2_PIX_FMT_RGB24;
  f.field = V4L2_FIELD_NONE;
  f.colorspace = V4L2_COLORSPACE_SRGB;
  return f;
}

vimc_capture_device* to_capture(vb2_queue* q) {
  return static_cast<vimc_capture_device*>(vb2_get_drv_priv(q));
}
vimc_capture_device* file_capture(file* filp) {
  return container_of(video_devdata(filp), vimc_capture_device, vdev);
}

// --- ioctl ops (vcapture->lock held).

int vimc_capture_querycap(file* filp, void* fh, v4l2_capability* cap) {
  std::snprintf(reinterpret_cast<char*>(cap->driver), sizeof(cap->driver), "%s", kVimcDriverName);
  std::snprintf(reinterpret_cast<char*>(cap->card), sizeof(cap->card), "%s", kVimcDriverName);
  std::snprintf(reinterpret_cast<char*>(cap->bus_info), sizeof(cap->bus_info), "platform:%s",
                kVimcDriverName);
  return 0;
}

int vimc_capture_g_fmt_vid_cap(file* filp, void* fh, v4l2_format* f) {
  f->fmt.pix = file_capture(filp)->format;
  return 0;
}

int vimc_capture_try_fmt_vid_cap(file* filp, void* fh, v4l2_format* f) {
  v4l2_pix_format* format = &f->fmt.pix;
  format->width = std::clamp(format->width, VIMC_FRAME_MIN_WIDTH, VIMC_FRAME_MAX_WIDTH) & ~1u;
  format->height = std::clamp(format->height, VIMC_FRAME_MIN_HEIGHT, VIMC_FRAME_MAX_HEIGHT) & ~1u;
  // Only pixel formats of the table.
  const vimc_pix_map* vpix = vimc_pix_map_by_pixelformat(format->pixelformat);
  if (vpix == nullptr) {
    format->pixelformat = fmt_default().pixelformat;
    vpix = vimc_pix_map_by_pixelformat(format->pixelformat);
  }
  // No custom bytesperline (upstream's TODO).
  format->bytesperline = format->width * vpix->bpp;
  format->sizeimage = format->bytesperline * format->height;
  if (format->field == V4L2_FIELD_ANY) format->field = fmt_default().field;
  vimc_colorimetry_clamp(format);
  if (format->colorspace == V4L2_COLORSPACE_DEFAULT) format->colorspace = fmt_default().colorspace;
  return 0;
}

int vimc_capture_s_fmt_vid_cap(file* filp, void* fh, v4l2_format* f) {
  vimc_capture_device* vcapture = file_capture(filp);
  // The format cannot change under allocated buffers.
  if (vb2_is_busy(&vcapture->queue)) return -EBUSY;
  int ret = vimc_capture_try_fmt_vid_cap(filp, fh, f);
  if (ret != 0) return ret;
  SpinGuard g(&vcapture->fmt_lock);
  vcapture->format = f->fmt.pix;
  return 0;
}

int vimc_capture_enum_fmt_vid_cap(file* filp, void* fh, v4l2_fmtdesc* f) {
  const vimc_pix_map* vpix;
  if (f->mbus_code != 0) {
    if (f->index > 0) return -EINVAL;
    vpix = vimc_pix_map_by_code(f->mbus_code);
  } else {
    vpix = vimc_pix_map_by_index(f->index);
  }
  if (vpix == nullptr) return -EINVAL;
  f->pixelformat = vpix->pixelformat;
  return 0;
}

const v4l2_ioctl_ops vimc_capture_ioctl_ops = {
    .vidioc_querycap = vimc_capture_querycap,
    .vidioc_enum_fmt_vid_cap = vimc_capture_enum_fmt_vid_cap,
    .vidioc_g_fmt_vid_cap = vimc_capture_g_fmt_vid_cap,
    .vidioc_s_fmt_vid_cap = vimc_capture_s_fmt_vid_cap,
    .vidioc_try_fmt_vid_cap = vimc_capture_try_fmt_vid_cap,
    .vidioc_reqbufs = vb2_ioctl_reqbufs,
    .vidioc_querybuf = vb2_ioctl_querybuf,
    .vidioc_qbuf = vb2_ioctl_qbuf,
    .vidioc_dqbuf = vb2_ioctl_dqbuf,
    .vidioc_streamon = vb2_ioctl_streamon,
    .vidioc_streamoff = vb2_ioctl_streamoff,
};

const v4l2_file_operations vimc_capture_fops = {
    .open = v4l2_fh_open,
    .release = vb2_fop_release,
    .unlocked_ioctl = video_ioctl2,
    .poll = vb2_fop_poll,
};

// --- vb2 ops (vcapture->lock held, process context).

void vimc_capture_return_all_buffers(vimc_capture_device* vcapture, vb2_buffer_state state) {
  SpinGuard g(&vcapture->qlock);
  for (vb2_v4l2_buffer* vbuf : vcapture->buf_list) vb2_buffer_done(&vbuf->vb2_buf, state);
  vcapture->buf_list.clear();
}

int vimc_capture_start_streaming(vb2_queue* q, unsigned count) {
  vimc_capture_device* vcapture = to_capture(q);
  vcapture->sequence = 0;
  vcapture->hw.sizeimage = vcapture->format.sizeimage;
  vcapture->hw.field = vcapture->format.field;
  // 1. The media pipeline: validates every enabled link of the connected
  //    component (-EPIPE on a format mismatch, -EBUSY if another capture's
  //    pipeline holds part of it).
  int ret = media_pipeline_start(&vcapture->vdev.entity, &vcapture->stream.pipe);
  if (ret != 0) {
    vimc_capture_return_all_buffers(vcapture, VB2_BUF_STATE_QUEUED);
    return ret;
  }
  // 2. The chain of entities, handed to the frame timer.
  ret = vimc_streamer_s_stream(&vcapture->stream, &vcapture->ved, 1);
  if (ret != 0) {
    media_pipeline_stop(&vcapture->vdev.entity);
    vimc_capture_return_all_buffers(vcapture, VB2_BUF_STATE_QUEUED);
    return ret;
  }
  return 0;
}

// STREAMOFF, close of the owner, REQBUFS(0), vb2_video_unregister_device.
void vimc_capture_stop_streaming(vb2_queue* q) {
  vimc_capture_device* vcapture = to_capture(q);
  vimc_streamer_s_stream(&vcapture->stream, &vcapture->ved, 0);
  media_pipeline_stop(&vcapture->vdev.entity);
  // The frame timer no longer reaches this capture: every buffer goes back.
  vimc_capture_return_all_buffers(vcapture, VB2_BUF_STATE_ERROR);
}

void vimc_capture_buf_queue(vb2_buffer* vb) {
  vimc_capture_device* vcapture = to_capture(vb->vb2_queue);
  SpinGuard g(&vcapture->qlock);
  vcapture->buf_list.push_back(to_vb2_v4l2_buffer(vb));
}

int vimc_capture_queue_setup(vb2_queue* q, unsigned* nbuffers, unsigned* nplanes,
                             unsigned sizes[]) {
  vimc_capture_device* vcapture = to_capture(q);
  if (*nplanes != 0) return sizes[0] < vcapture->format.sizeimage ? -EINVAL : 0;
  // Single-planar only.
  *nplanes = 1;
  sizes[0] = vcapture->format.sizeimage;
  return 0;
}

int vimc_capture_buffer_prepare(vb2_buffer* vb) {
  vimc_capture_device* vcapture = to_capture(vb->vb2_queue);
  return vb2_plane_size(vb, 0) < vcapture->format.sizeimage ? -EINVAL : 0;
}

const vb2_ops vimc_capture_qops = {
    .queue_setup = vimc_capture_queue_setup,
    .buf_prepare = vimc_capture_buffer_prepare,
    .start_streaming = vimc_capture_start_streaming,
    .stop_streaming = vimc_capture_stop_streaming,
    .buf_queue = vimc_capture_buf_queue,
};

const media_entity_operations vimc_capture_mops = {.link_validate = vimc_vdev_link_validate};

// --- The entity's callbacks.

void vimc_capture_get_format(vimc_ent_device* ved, v4l2_pix_format* fmt) {
  vimc_capture_device* vcapture = container_of(ved, vimc_capture_device, ved);
  SpinGuard g(&vcapture->fmt_lock);
  *fmt = vcapture->format;
}

// Frame IRQ (vimc_device.stream_lock held): the frame into the first buffer.
vimc_frame vimc_capture_process_frame(vimc_ent_device* ved, const vimc_frame& frame,
                                      const vimc_frame_ctx& ctx) {
  vimc_capture_device* vcapture = container_of(ved, vimc_capture_device, ved);
  vb2_v4l2_buffer* vbuf;
  {
    SpinGuard g(&vcapture->qlock);
    if (vcapture->buf_list.empty()) return {};  // dropped
    vbuf = vcapture->buf_list.front();
    vcapture->buf_list.pop_front();
  }
  // The driver owns the buffer until vb2_buffer_done.
  vb2_buffer* vb = &vbuf->vb2_buf;
  vb->timestamp = ctx.timestamp_ns;
  vbuf->sequence = vcapture->sequence++;
  vbuf->field = vcapture->hw.field;
  // link_validate made the frame exactly sizeimage bytes; a frame that is
  // not (formats changed behind a started pipeline) is copied only as far as
  // both go, so the model never reads or writes past either buffer.
  size_t n = std::min<size_t>({frame.size, vcapture->hw.sizeimage, vb2_plane_size(vb, 0)});
  std::memcpy(vb2_plane_vaddr(vb, 0), frame.data, n);
  vb2_set_plane_payload(vb, 0, vcapture->hw.sizeimage);
  vb2_buffer_done(vb, VB2_BUF_STATE_DONE);
  return {};
}

int vimc_capture_add(vimc_device* vimc, unsigned index, const char* name) {
  vimc_capture_device* vcapture = kzalloc<vimc_capture_device>();
  if (vcapture == nullptr) return -ENOMEM;
  vimc->ent_devs[index] = &vcapture->ved;  // from here freed by the media device release
  video_device* vdev = &vcapture->vdev;

  // 1. The entity, with the driver's reference.
  vdev->entity.name = name;
  vdev->entity.function = MEDIA_ENT_F_IO_V4L;
  vcapture->pad.flags = MEDIA_PAD_FL_SINK;
  media_entity_pads_init(&vdev->entity, 1, &vcapture->pad);

  // 2. The buffer queue.
  vb2_queue* q = &vcapture->queue;
  q->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  // USERPTR and DMABUF are offered as upstream (vmalloc allocator); the
  // model's vb2 serves MMAP only.
  q->io_modes = VB2_MMAP | VB2_DMABUF | VB2_USERPTR;
  q->drv_priv = vcapture;
  q->ops = &vimc_capture_qops;
  q->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
  q->lock = &vcapture->lock;
  // Upstream: min_queued_buffers 0 (start at STREAMON), min_reqbufs_allocation 2.
  q->min_queued_buffers = 0;
  int ret = vb2_queue_init(q);
  if (ret != 0) goto err_put_entity;

  // 3. The default format and the entity's callbacks.
  vcapture->format = fmt_default();
  {
    const vimc_pix_map* vpix = vimc_pix_map_by_pixelformat(vcapture->format.pixelformat);
    vcapture->format.bytesperline = vcapture->format.width * vpix->bpp;
    vcapture->format.sizeimage = vcapture->format.bytesperline * vcapture->format.height;
  }
  vcapture->ved.vimc = vimc;
  vcapture->ved.dev = &vimc->pdev->dev;
  vcapture->ved.ent = &vdev->entity;
  vcapture->ved.process_frame = vimc_capture_process_frame;
  vcapture->ved.vdev_get_format = vimc_capture_get_format;

  // 4. The node: reachable from user space as soon as this returns.
  vdev->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_IO_MC;
  vdev->entity.ops = &vimc_capture_mops;
  vdev->release = video_device_release_empty;  // embedded: the media device release frees it
  vdev->fops = &vimc_capture_fops;
  vdev->ioctl_ops = &vimc_capture_ioctl_ops;
  vdev->lock = &vcapture->lock;
  vdev->queue = q;
  vdev->v4l2_dev = &vimc->v4l2_dev;
  vdev->vfl_dir = VFL_DIR_RX;
  std::snprintf(vdev->name, sizeof(vdev->name), "%s", name);
  ret = video_register_device(vdev, VFL_TYPE_VIDEO, -1);
  if (ret != 0) goto err_put_entity;
  return 0;

err_put_entity:
  // A registration that failed after the node's device was set up has
  // dropped the entity's count itself; otherwise it is still the driver's:
  // its release puts the media device the entity may have been registered
  // with.
  if (kref_read(&vdev->entity.ref) != 0) media_entity_put(&vdev->entity);
  return ret;
}

// remove(): R13/R14, then the queue's release while the hardware is there.
void vimc_capture_unregister(vimc_ent_device* ved) {
  vb2_video_unregister_device(&container_of(ved, vimc_capture_device, ved)->vdev);
}

// Who calls it: the media device release (R9), after the node's release.
void vimc_capture_release(vimc_ent_device* ved) {
  kfree(container_of(ved, vimc_capture_device, ved));
}

}  // namespace

const vimc_ent_type vimc_capture_type = {
    .add = vimc_capture_add,
    .unregister = vimc_capture_unregister,
    .release = vimc_capture_release,
};

vb2_queue* vimc_capture_queue(vimc_device* vimc, const char* name) {
  for (unsigned i : {VIMC_RAW_CAPTURE_0, VIMC_RAW_CAPTURE_1, VIMC_RGB_YUV_CAPTURE}) {
    vimc_ent_device* ved = vimc->ent_devs[i];
    if (ved != nullptr && ved->ent != nullptr && ved->ent->name == name)
      return &container_of(ved, vimc_capture_device, ved)->queue;
  }
  return nullptr;
}

}  // namespace mcf
