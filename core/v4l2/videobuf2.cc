// videobuf2 core, after drivers/media/common/videobuf2/videobuf2-core.c.
// The V4L2 layer (type checks, v4l2_buffer, ioctl helpers) is in
// videobuf2_v4l2.cc. See videobuf2.h for states, locking and R14.
#include "core/v4l2/videobuf2.h"

#include <cerrno>

#include "core/kernel/report.h"
#include "core/kernel/slab.h"

namespace mcf {
namespace {

constexpr unsigned PAGE_SHIFT = 12;
constexpr unsigned PLANE_INDEX_BITS = 3;  // VB2_MAX_PLANES == 1 << 3

// Queue calls from user space hold q->lock when the queue has one; a driver
// that calls in without it races with every other file and the IRQ path.
void vb2_assert_locked(vb2_queue* q) {
  if (q->lock != nullptr) q->lock->assert_held();
}

bool vb2_done_list_empty(vb2_queue* q) {
  SpinGuard g(&q->done_lock);
  return q->done_list.empty();
}

// Hands a buffer to the driver: from here until vb2_buffer_done() only the
// driver (and its IRQ) may touch the buffer's payload and metadata.
void vb2_enqueue_in_driver(vb2_buffer* vb) {
  vb2_queue* q = vb->vb2_queue;
  vb->state.store(VB2_BUF_STATE_ACTIVE, std::memory_order_release);
  q->owned_by_drv_count.fetch_add(1, std::memory_order_acq_rel);
  q->ops->buf_queue(vb);
}

// Allocates up to `num_buffers` buffers after the existing ones; returns how
// many it got (kzalloc is a failure point).
unsigned vb2_queue_alloc(vb2_queue* q, unsigned memory, unsigned num_buffers,
                         unsigned num_planes, const unsigned sizes[]) {
  unsigned room = VB2_MAX_FRAME - static_cast<unsigned>(q->bufs.size());
  if (num_buffers > room) num_buffers = room;
  unsigned n = 0;
  for (; n < num_buffers; ++n) {
    vb2_v4l2_buffer* vbuf = kzalloc<vb2_v4l2_buffer>();
    if (vbuf == nullptr) break;
    vb2_buffer* vb = &vbuf->vb2_buf;
    vb->vb2_queue = q;
    vb->index = static_cast<unsigned>(q->bufs.size());
    vb->type = q->type;
    vb->memory = memory;
    vb->num_planes = num_planes;
    for (unsigned p = 0; p < num_planes; ++p) {
      vb->planes[p].length = sizes[p];
      vb->planes[p].mem.assign(sizes[p], 0);
      // The mmap cookie of 6.8+: buffer index and plane number, page aligned.
      vb->planes[p].mem_offset = (vb->index << (PAGE_SHIFT + PLANE_INDEX_BITS)) | (p << PAGE_SHIFT);
    }
    q->bufs.push_back(vb);
  }
  return n;
}

// Frees the last `n` buffers. None of them may be owned by the driver or on
// a list (the caller cancelled the queue first).
void vb2_queue_free(vb2_queue* q, unsigned n) {
  for (; n > 0 && !q->bufs.empty(); --n) {
    vb2_buffer* vb = q->bufs.back();
    MCF_WARN_ON(vb->state.load(std::memory_order_acquire) == VB2_BUF_STATE_ACTIVE);
    if (q->ops->buf_cleanup != nullptr) q->ops->buf_cleanup(vb);
    q->bufs.pop_back();
    kfree(to_vb2_v4l2_buffer(vb));
  }
  if (q->bufs.empty()) {
    q->memory = VB2_MEMORY_UNKNOWN;
    q->num_planes = 0;
  }
}

// __vb2_queue_cancel: stops the driver and takes every buffer back to
// DEQUEUED. Wakes every DQBUF sleeper (which then sees !streaming).
void vb2_queue_cancel(vb2_queue* q) {
  if (q->start_streaming_called.load(std::memory_order_acquire) && q->ops->stop_streaming != nullptr)
    q->ops->stop_streaming(q);
  // Upstream WARNs and reclaims; here a driver that kept a buffer past
  // stop_streaming is a finding: its IRQ could still complete into freed memory.
  MCF_WARN_ON(q->owned_by_drv_count.load(std::memory_order_acquire) != 0);

  q->streaming.store(false, std::memory_order_release);
  q->start_streaming_called.store(false, std::memory_order_release);
  q->error.store(false, std::memory_order_release);
  q->queued_count = 0;
  q->queued_list.clear();
  {
    // User space gets nothing it had not dequeued before the cancel.
    SpinGuard g(&q->done_lock);
    q->done_list.clear();
  }
  wake_up_all(&q->done_wq);
  for (vb2_buffer* vb : q->bufs) {
    vb->state.store(VB2_BUF_STATE_DEQUEUED, std::memory_order_release);
    vb->prepared = false;
  }
}

// Gives every queued buffer to the driver and starts it. On failure the
// driver must have returned them all as QUEUED (a WARN otherwise).
int vb2_start_streaming(vb2_queue* q) {
  for (vb2_buffer* vb : q->queued_list) vb2_enqueue_in_driver(vb);
  q->start_streaming_called.store(true, std::memory_order_release);
  int ret = 0;
  if (q->ops->start_streaming != nullptr) {
    ret = q->ops->start_streaming(
        q, static_cast<unsigned>(q->owned_by_drv_count.load(std::memory_order_acquire)));
  }
  if (ret == 0) return 0;
  q->start_streaming_called.store(false, std::memory_order_release);
  MCF_WARN_ON(q->owned_by_drv_count.load(std::memory_order_acquire) != 0);
  // A buffer completed DONE/ERROR instead of QUEUED during a failed start.
  MCF_WARN_ON(!vb2_done_list_empty(q));
  return ret;
}

// wait_prepare / wait_finish: let go of the serialisation lock while a DQBUF
// sleeps, as upstream does, so that QBUF, STREAMOFF and unregistration run.
void vb2_wait_prepare(vb2_queue* q) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (q->lock != nullptr) {
    q->lock->unlock();
  } else if (q->ops->wait_prepare != nullptr) {
    q->ops->wait_prepare(q);
  }
}

void vb2_wait_finish(vb2_queue* q) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (q->lock != nullptr) {
    q->lock->lock();
  } else if (q->ops->wait_finish != nullptr) {
    q->ops->wait_finish(q);
  }
}

// __vb2_wait_for_done_vb: returns 0 with q->lock held and done_list not empty.
int vb2_wait_for_done_vb(vb2_queue* q, bool nonblocking) {
  for (;;) {
    // R14, checked first after every wake-up: the node is going away and
    // unregistration waits for this call; touch nothing, leave.
    if (q->unregistered.load(std::memory_order_acquire)) return -ENODEV;
    if (q->waiting_in_dqbuf) return -EBUSY;  // another dup()ed fd sleeps here
    if (!q->streaming.load(std::memory_order_acquire)) return -EINVAL;
    if (q->error.load(std::memory_order_acquire)) return -EIO;
    if (!vb2_done_list_empty(q)) return 0;
    if (nonblocking) return -EAGAIN;

    q->waiting_in_dqbuf = true;
    vb2_wait_prepare(q);
    // Woken by vb2_buffer_done, cancel (STREAMOFF/release), vb2_queue_error
    // and unregistration; q->lock is not held here.
    wait_event(&q->done_wq, [q] {
      return q->unregistered.load(std::memory_order_acquire) ||
             !q->streaming.load(std::memory_order_acquire) ||
             q->error.load(std::memory_order_acquire) || !vb2_done_list_empty(q);
    });
    vb2_wait_finish(q);
    q->waiting_in_dqbuf = false;
  }
}

}  // namespace

const char* vb2_state_name(vb2_buffer_state state) {
  switch (state) {
    case VB2_BUF_STATE_DEQUEUED: return "dequeued";
    case VB2_BUF_STATE_IN_REQUEST: return "in request";
    case VB2_BUF_STATE_PREPARING: return "preparing";
    case VB2_BUF_STATE_QUEUED: return "queued";
    case VB2_BUF_STATE_ACTIVE: return "active";
    case VB2_BUF_STATE_DONE: return "done";
    case VB2_BUF_STATE_ERROR: return "error";
  }
  return "unknown";
}

int vb2_queue_init(vb2_queue* q) {
  if (q == nullptr || q->type == 0 || !(q->io_modes & VB2_MMAP) || q->ops == nullptr ||
      q->ops->queue_setup == nullptr || q->ops->buf_queue == nullptr)
    return -EINVAL;
  q->is_output = V4L2_TYPE_IS_OUTPUT(q->type);
  q->memory = VB2_MEMORY_UNKNOWN;
  q->owner = nullptr;
  q->unregistered.store(false, std::memory_order_release);  // a queue re-used by a new probe
  return 0;
}

void vb2_queue_release(vb2_queue* q) {
  vb2_queue_cancel(q);
  vb2_queue_free(q, static_cast<unsigned>(q->bufs.size()));
}

void vb2_buffer_done(vb2_buffer* vb, vb2_buffer_state state) {
  vb2_queue* q = vb->vb2_queue;
  // The driver completes only what it owns, with a completion state.
  MCF_WARN_ON(vb->state.load(std::memory_order_acquire) != VB2_BUF_STATE_ACTIVE);
  MCF_WARN_ON(state != VB2_BUF_STATE_DONE && state != VB2_BUF_STATE_ERROR &&
              state != VB2_BUF_STATE_QUEUED);
  {
    SpinGuard g(&q->done_lock);
    if (state == VB2_BUF_STATE_QUEUED) {
      vb->state.store(VB2_BUF_STATE_QUEUED, std::memory_order_release);
    } else {
      q->done_list.push_back(vb);
      // Release: publishes the driver's payload and metadata to DQBUF/QUERYBUF.
      vb->state.store(state, std::memory_order_release);
    }
    q->owned_by_drv_count.fetch_sub(1, std::memory_order_acq_rel);
  }
  if (state != VB2_BUF_STATE_QUEUED) wake_up(&q->done_wq);
}

void vb2_queue_error(vb2_queue* q) {
  q->error.store(true, std::memory_order_release);
  wake_up_all(&q->done_wq);
}

void* vb2_plane_vaddr(vb2_buffer* vb, unsigned plane_no) {
  if (plane_no >= vb->num_planes || vb->planes[plane_no].mem.empty()) return nullptr;
  return vb->planes[plane_no].mem.data();
}

void vb2_set_plane_payload(vb2_buffer* vb, unsigned plane_no, unsigned size) {
  if (plane_no >= vb->num_planes) return;
  MCF_WARN_ON(size > vb->planes[plane_no].length);
  vb->planes[plane_no].bytesused = size;
}

unsigned vb2_plane_size(vb2_buffer* vb, unsigned plane_no) {
  return plane_no < vb->num_planes ? vb->planes[plane_no].length : 0;
}

void vb2_queue_wake_for_unregister(vb2_queue* q) {
  if (q == nullptr) return;
  // Set before the wake-up: a sleeper re-checks its condition after being
  // added to done_wq, so it either sees the flag or gets the wake-up.
  q->unregistered.store(true, std::memory_order_release);
  wake_up_all(&q->done_wq);
}

int vb2_core_reqbufs(vb2_queue* q, unsigned memory, unsigned* count) {
  vb2_assert_locked(q);
  if (q->streaming.load(std::memory_order_acquire)) return -EBUSY;
  if (q->waiting_in_dqbuf && *count != 0) return -EBUSY;

  // 1. Existing buffers (or REQBUFS 0): cancel anything queued without
  //    STREAMON and free them all.
  if (*count == 0 || !q->bufs.empty() ||
      (q->memory != VB2_MEMORY_UNKNOWN && q->memory != memory)) {
    vb2_queue_cancel(q);
    vb2_queue_free(q, static_cast<unsigned>(q->bufs.size()));
    if (*count == 0) return 0;
  }

  // 2. Ask the driver for the count and the plane size.
  unsigned num_buffers = *count < q->min_queued_buffers ? q->min_queued_buffers : *count;
  if (num_buffers > VB2_MAX_FRAME) num_buffers = VB2_MAX_FRAME;
  unsigned num_planes = 0;
  unsigned sizes[VB2_MAX_PLANES] = {};
  q->memory = memory;
  int ret = q->ops->queue_setup(q, &num_buffers, &num_planes, sizes);
  // Single-planar API only: exactly one plane with a size.
  if (ret == 0 && (num_planes != 1 || sizes[0] == 0)) ret = -EINVAL;
  if (ret != 0) {
    q->memory = VB2_MEMORY_UNKNOWN;
    return ret;
  }
  if (num_buffers > VB2_MAX_FRAME) num_buffers = VB2_MAX_FRAME;

  // 3. Allocate; with fewer than asked, ask the driver again whether it can
  //    live with what we got.
  unsigned allocated = vb2_queue_alloc(q, memory, num_buffers, num_planes, sizes);
  if (allocated == 0) {
    q->memory = VB2_MEMORY_UNKNOWN;
    return -ENOMEM;
  }
  if (allocated < q->min_queued_buffers) ret = -ENOMEM;
  if (ret == 0 && allocated < num_buffers) {
    num_buffers = allocated;
    num_planes = 0;
    ret = q->ops->queue_setup(q, &num_buffers, &num_planes, sizes);
    if (ret == 0 && allocated < num_buffers) ret = -ENOMEM;
  }
  if (ret != 0) {
    vb2_queue_free(q, allocated);
    return ret;
  }
  q->num_planes = num_planes;
  *count = allocated;
  return 0;
}

int vb2_core_querybuf(vb2_queue* q, unsigned index, v4l2_buffer* pb) {
  if (index >= q->bufs.size()) return -EINVAL;
  vb2_fill_v4l2_buffer(q->bufs[index], pb);
  return 0;
}

int vb2_core_qbuf(vb2_queue* q, unsigned index, v4l2_buffer* pb) {
  vb2_assert_locked(q);
  if (q->error.load(std::memory_order_acquire)) return -EIO;
  if (index >= q->bufs.size()) return -EINVAL;
  vb2_buffer* vb = q->bufs[index];
  if (vb->state.load(std::memory_order_acquire) != VB2_BUF_STATE_DEQUEUED) return -EINVAL;
  if (!vb->prepared) {
    int ret = q->ops->buf_prepare != nullptr ? q->ops->buf_prepare(vb) : 0;
    if (ret != 0) return ret;
    vb->prepared = true;
  }

  // On queued_list until DQBUF; to the driver now if it already started.
  q->queued_list.push_back(vb);
  q->queued_count++;
  vb->state.store(VB2_BUF_STATE_QUEUED, std::memory_order_release);
  if (q->start_streaming_called.load(std::memory_order_acquire)) vb2_enqueue_in_driver(vb);
  if (pb != nullptr) vb2_fill_v4l2_buffer(vb, pb);

  // STREAMON was deferred until enough buffers were queued: start now.
  if (q->streaming.load(std::memory_order_acquire) &&
      !q->start_streaming_called.load(std::memory_order_acquire) &&
      q->queued_count >= q->min_queued_buffers) {
    int ret = vb2_start_streaming(q);
    if (ret != 0) {
      // The QBUF fails, so this buffer was not queued after all.
      q->queued_list.remove(vb);
      q->queued_count--;
      vb->state.store(VB2_BUF_STATE_DEQUEUED, std::memory_order_release);
      return ret;
    }
  }
  return 0;
}

int vb2_core_dqbuf(vb2_queue* q, v4l2_buffer* pb, bool nonblocking) {
  vb2_assert_locked(q);
  int ret = vb2_wait_for_done_vb(q, nonblocking);
  if (ret != 0) return ret;
  // q->lock has been held since done_list was seen non-empty, and only a
  // cancel (under q->lock) empties it.
  vb2_buffer* vb = nullptr;
  {
    SpinGuard g(&q->done_lock);
    MCF_WARN_ON(q->done_list.empty());
    vb = q->done_list.front();
    q->done_list.pop_front();
  }
  vb2_buffer_state state = vb->state.load(std::memory_order_acquire);
  MCF_WARN_ON(state != VB2_BUF_STATE_DONE && state != VB2_BUF_STATE_ERROR);
  vb->prepared = false;
  if (pb != nullptr) vb2_fill_v4l2_buffer(vb, pb);
  q->queued_list.remove(vb);
  q->queued_count--;
  vb->state.store(VB2_BUF_STATE_DEQUEUED, std::memory_order_release);
  return 0;
}

int vb2_core_streamon(vb2_queue* q, unsigned type) {
  vb2_assert_locked(q);
  if (type != q->type) return -EINVAL;
  if (q->streaming.load(std::memory_order_acquire)) return 0;
  if (q->bufs.empty()) return -EINVAL;
  if (q->bufs.size() < q->min_queued_buffers) return -EINVAL;
  // Start the driver now if enough buffers are queued; otherwise the QBUF
  // that reaches min_queued_buffers does.
  if (q->queued_count >= q->min_queued_buffers) {
    int ret = vb2_start_streaming(q);
    if (ret != 0) return ret;
  }
  q->streaming.store(true, std::memory_order_release);
  return 0;
}

int vb2_core_streamoff(vb2_queue* q, unsigned type) {
  vb2_assert_locked(q);
  if (type != q->type) return -EINVAL;
  // Even without STREAMON: buffers queued before go back to DEQUEUED.
  vb2_queue_cancel(q);
  return 0;
}

__poll_t vb2_core_poll(vb2_queue* q, file* filp, poll_table* pt) {
  // Register first (upstream does it only with an empty done_list): a
  // completion between the checks below and the caller's sleep then still
  // wakes it.
  poll_wait(filp, &q->done_wq, pt);
  if (q->unregistered.load(std::memory_order_acquire)) return EPOLLERR | EPOLLHUP;  // R14
  if (!q->streaming.load(std::memory_order_acquire) || q->error.load(std::memory_order_acquire))
    return EPOLLERR;
  SpinGuard g(&q->done_lock);
  if (q->done_list.empty()) return 0;
  vb2_buffer_state state = q->done_list.front()->state.load(std::memory_order_acquire);
  if (state != VB2_BUF_STATE_DONE && state != VB2_BUF_STATE_ERROR) return 0;
  return q->is_output ? (EPOLLOUT | EPOLLWRNORM) : (EPOLLIN | EPOLLRDNORM);
}

}  // namespace mcf
