// videobuf2's V4L2 layer, after drivers/media/common/videobuf2/videobuf2-v4l2.c:
// struct v4l2_buffer in and out, type and memory checks, the ready-made
// vb2_ioctl_* ops and vb2_fop_* file operations with queue ownership.
#include <cerrno>

#include "core/kernel/report.h"
#include "core/v4l2/v4l2_dev.h"
#include "core/v4l2/v4l2_fh.h"
#include "core/v4l2/videobuf2.h"

namespace mcf {
namespace {

// Flags vb2 owns in v4l2_buffer.flags; what user space passes there is ignored.
constexpr uint32_t V4L2_BUFFER_MASK_FLAGS =
    V4L2_BUF_FLAG_MAPPED | V4L2_BUF_FLAG_QUEUED | V4L2_BUF_FLAG_DONE | V4L2_BUF_FLAG_ERROR |
    V4L2_BUF_FLAG_PREPARED | V4L2_BUF_FLAG_IN_REQUEST | V4L2_BUF_FLAG_REQUEST_FD |
    V4L2_BUF_FLAG_TIMESTAMP_MASK;
// Output-only flags, cleared on a capture QBUF.
constexpr uint32_t V4L2_BUFFER_OUT_FLAGS =
    V4L2_BUF_FLAG_PFRAME | V4L2_BUF_FLAG_BFRAME | V4L2_BUF_FLAG_KEYFRAME | V4L2_BUF_FLAG_TIMECODE;

// vb2_verify_memory_type: only MMAP is modelled; USERPTR and DMABUF are
// refused as a queue without their io_modes is upstream.
int vb2_verify_memory_type(vb2_queue* q, unsigned memory, unsigned type) {
  if (memory != V4L2_MEMORY_MMAP && memory != V4L2_MEMORY_USERPTR &&
      memory != V4L2_MEMORY_DMABUF)
    return -EINVAL;
  if (type != q->type) return -EINVAL;
  if (memory != V4L2_MEMORY_MMAP || !(q->io_modes & VB2_MMAP)) return -EINVAL;
  return 0;
}

uint32_t vb2_buf_caps(vb2_queue* q) {
  uint32_t caps = V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS;
  if (q->io_modes & VB2_MMAP) caps |= V4L2_BUF_CAP_SUPPORTS_MMAP;
  return caps;
}

// Copies what user space may set at QBUF into a buffer it owns
// (vb2_fill_vb2_v4l2_buffer, capture side).
void vb2_fill_vb2_v4l2_buffer(vb2_buffer* vb, const v4l2_buffer* b) {
  vb2_v4l2_buffer* vbuf = to_vb2_v4l2_buffer(vb);
  uint32_t flags = b->flags & ~V4L2_BUFFER_MASK_FLAGS;
  flags &= ~V4L2_BUF_FLAG_TSTAMP_SRC_MASK;  // the queue's timestamp source is reported
  if (!vb->vb2_queue->is_output) {
    flags &= ~V4L2_BUFFER_OUT_FLAGS;
    flags &= ~V4L2_BUF_FLAG_LAST;  // a signal from the driver, not from user space
  } else {
    vbuf->field = b->field;
  }
  vbuf->flags = flags;
}

// A file that is not the queue's owner may not use it (vb2_queue_is_busy).
// q->lock is held (video_ioctl2 takes it for queue ioctls).
bool vb2_queue_is_busy(vb2_queue* q, file* filp) {
  return q->owner != nullptr && q->owner != filp->private_data;
}

Mutex* vb2_fop_lock(video_device* vdev) {
  return vdev->queue->lock != nullptr ? vdev->queue->lock : vdev->lock;
}

}  // namespace

// __fill_v4l2_buffer. The fields the driver writes while it owns the buffer
// (payload size, flags, field, timestamp, timecode, sequence) are read only
// once it gave the buffer back; an ACTIVE buffer reports them as zero, where
// upstream reads them racily.
void vb2_fill_v4l2_buffer(vb2_buffer* vb, v4l2_buffer* b) {
  vb2_queue* q = vb->vb2_queue;
  vb2_v4l2_buffer* vbuf = to_vb2_v4l2_buffer(vb);
  // Acquire: pairs with vb2_buffer_done's release of DONE/ERROR.
  vb2_buffer_state state = vb->state.load(std::memory_order_acquire);
  bool driver_owns = state == VB2_BUF_STATE_ACTIVE;

  b->index = vb->index;
  b->type = vb->type;
  b->memory = vb->memory;
  b->length = vb->planes[0].length;
  b->m.offset = vb->planes[0].mem_offset;
  b->reserved2 = 0;
  b->request_fd = 0;
  b->bytesused = driver_owns ? 0 : vb->planes[0].bytesused;
  b->field = driver_owns ? V4L2_FIELD_NONE : vbuf->field;
  b->sequence = driver_owns ? 0 : vbuf->sequence;
  b->timecode = driver_owns ? v4l2_timecode{} : vbuf->timecode;
  uint64_t ns = driver_owns ? 0 : vb->timestamp;
  b->timestamp.tv_sec = static_cast<time_t>(ns / 1000000000ull);
  b->timestamp.tv_usec = static_cast<suseconds_t>((ns % 1000000000ull) / 1000);

  uint32_t flags = driver_owns ? 0 : vbuf->flags;
  flags &= ~V4L2_BUFFER_MASK_FLAGS;
  flags |= q->timestamp_flags & V4L2_BUF_FLAG_TIMESTAMP_MASK;
  flags &= ~V4L2_BUF_FLAG_TSTAMP_SRC_MASK;
  flags |= q->timestamp_flags & V4L2_BUF_FLAG_TSTAMP_SRC_MASK;
  switch (state) {
    case VB2_BUF_STATE_QUEUED:
    case VB2_BUF_STATE_ACTIVE:
      flags |= V4L2_BUF_FLAG_QUEUED;
      break;
    case VB2_BUF_STATE_IN_REQUEST:
      flags |= V4L2_BUF_FLAG_IN_REQUEST;
      break;
    case VB2_BUF_STATE_ERROR:
      flags |= V4L2_BUF_FLAG_ERROR;
      [[fallthrough]];
    case VB2_BUF_STATE_DONE:
      flags |= V4L2_BUF_FLAG_DONE;
      break;
    case VB2_BUF_STATE_PREPARING:
    case VB2_BUF_STATE_DEQUEUED:
      break;
  }
  b->flags = flags;
}

int vb2_reqbufs(vb2_queue* q, v4l2_requestbuffers* req) {
  int ret = vb2_verify_memory_type(q, req->memory, req->type);
  req->capabilities = vb2_buf_caps(q);
  req->flags = 0;  // no cache hints: V4L2_MEMORY_FLAG_NON_COHERENT is dropped
  return ret != 0 ? ret : vb2_core_reqbufs(q, req->memory, &req->count);
}

int vb2_querybuf(vb2_queue* q, v4l2_buffer* b) {
  if (b->type != q->type) return -EINVAL;
  return vb2_core_querybuf(q, b->index, b);
}

int vb2_qbuf(vb2_queue* q, v4l2_buffer* b) {
  // vb2_queue_or_prepare_buf
  if (b->type != q->type) return -EINVAL;
  if (b->index >= q->bufs.size()) return -EINVAL;
  if (b->memory != q->memory) return -EINVAL;
  vb2_buffer* vb = q->bufs[b->index];
  // Only a buffer user space owns takes its fields (state checked again in core).
  if (!vb->prepared && vb->state.load(std::memory_order_acquire) == VB2_BUF_STATE_DEQUEUED)
    vb2_fill_vb2_v4l2_buffer(vb, b);
  return vb2_core_qbuf(q, b->index, b);
}

int vb2_dqbuf(vb2_queue* q, v4l2_buffer* b, bool nonblocking) {
  if (b->type != q->type) return -EINVAL;
  int ret = vb2_core_dqbuf(q, b, nonblocking);
  // After VIDIOC_DQBUF, V4L2_BUF_FLAG_DONE must be cleared (ERROR stays).
  b->flags &= ~V4L2_BUF_FLAG_DONE;
  return ret;
}

int vb2_streamon(vb2_queue* q, v4l2_buf_type type) { return vb2_core_streamon(q, type); }
int vb2_streamoff(vb2_queue* q, v4l2_buf_type type) { return vb2_core_streamoff(q, type); }

__poll_t vb2_poll(vb2_queue* q, file* filp, poll_table* pt) {
  // No events are modelled on v4l2_fh, so no EPOLLPRI source here.
  return vb2_core_poll(q, filp, pt);
}

int vb2_ioctl_reqbufs(file* filp, void* fh, v4l2_requestbuffers* p) {
  video_device* vdev = video_devdata(filp);
  vb2_queue* q = vdev->queue;
  int res = vb2_verify_memory_type(q, p->memory, p->type);
  p->capabilities = vb2_buf_caps(q);
  p->flags = 0;
  if (res != 0) return res;
  if (vb2_queue_is_busy(q, filp)) return -EBUSY;
  res = vb2_core_reqbufs(q, p->memory, &p->count);
  // count 0: the owner freed everything and is no longer the owner;
  // otherwise this file is the (new) owner.
  if (res == 0) q->owner = p->count != 0 ? filp->private_data : nullptr;
  return res;
}

int vb2_ioctl_querybuf(file* filp, void* fh, v4l2_buffer* p) {
  // Anyone may query buffers: no ownership check (as upstream).
  return vb2_querybuf(video_devdata(filp)->queue, p);
}

int vb2_ioctl_qbuf(file* filp, void* fh, v4l2_buffer* p) {
  vb2_queue* q = video_devdata(filp)->queue;
  if (vb2_queue_is_busy(q, filp)) return -EBUSY;
  return vb2_qbuf(q, p);
}

int vb2_ioctl_dqbuf(file* filp, void* fh, v4l2_buffer* p) {
  vb2_queue* q = video_devdata(filp)->queue;
  if (vb2_queue_is_busy(q, filp)) return -EBUSY;
  return vb2_dqbuf(q, p, (filp->f_flags & O_NONBLOCK_) != 0);
}

int vb2_ioctl_streamon(file* filp, void* fh, v4l2_buf_type i) {
  vb2_queue* q = video_devdata(filp)->queue;
  if (vb2_queue_is_busy(q, filp)) return -EBUSY;
  return vb2_streamon(q, i);
}

int vb2_ioctl_streamoff(file* filp, void* fh, v4l2_buf_type i) {
  vb2_queue* q = video_devdata(filp)->queue;
  if (vb2_queue_is_busy(q, filp)) return -EBUSY;
  return vb2_streamoff(q, i);
}

// Who calls it: the v4l2 release wrapper at the file's last fput, also on an
// unregistered node (vb2_video_unregister_device already released the queue
// and cleared the owner then, so nothing reaches the driver after remove).
int vb2_fop_release(file* filp) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  video_device* vdev = video_devdata(filp);
  vb2_queue* q = vdev->queue;
  Mutex* lock = vb2_fop_lock(vdev);
  if (lock != nullptr) lock->lock();
  if (q->owner != nullptr && filp->private_data == q->owner) {
    vb2_queue_release(q);
    q->owner = nullptr;
  }
  if (lock != nullptr) lock->unlock();
  return v4l2_fh_release(filp);
}

__poll_t vb2_fop_poll(file* filp, poll_table* pt) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  video_device* vdev = video_devdata(filp);
  Mutex* lock = vb2_fop_lock(vdev);
  // Upstream WARNs on a node without a lock: this helper could not
  // serialise against QBUF/STREAMOFF.
  MCF_WARN_ON(lock == nullptr);
  lock->lock();
  __poll_t res = vb2_poll(vdev->queue, filp, pt);
  lock->unlock();
  return res;
}

void vb2_video_unregister_device(video_device* vdev) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (vdev == nullptr || !video_is_registered(vdev)) return;
  vb2_queue* q = vdev->queue;
  // Keeps vdev (and the driver struct it lives in) across the release below
  // even if the last file closes meanwhile.
  video_get(vdev);
  // R13 phase 1, then R14: new calls fail, sleepers wake and leave, then
  // phase 2 waits for every call in flight. (video_unregister_device wakes
  // the queue too; doing it here as well keeps this helper correct alone.)
  video_unregister_device_prepare(vdev);
  vb2_queue_wake_for_unregister(q);
  video_unregister_device(vdev);
  if (q != nullptr) {
    // No call is in flight any more, but a file's release may run: it takes
    // the same lock and finds owner cleared.
    Mutex* lock = vb2_fop_lock(vdev);
    if (lock != nullptr) lock->lock();
    vb2_queue_release(q);
    q->owner = nullptr;
    if (lock != nullptr) lock->unlock();
  }
  video_put(vdev);
}

}  // namespace mcf
