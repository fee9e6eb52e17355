// A videobuf2-like buffer queue, after include/media/videobuf2-core.h,
// videobuf2-v4l2.h, videobuf2-core.c and videobuf2-v4l2.c. MMAP memory only;
// single-planar API; each plane is a heap byte vector owned by the queue.
//
// Buffer states (vb->state), as upstream:
//
//   DEQUEUED --QBUF--> QUEUED --STREAMON / start--> ACTIVE (owned by driver)
//      ^                  ^                           |  vb2_buffer_done()
//      |                  +------- QUEUED ------------+  (start_streaming failure)
//      +------DQBUF------ DONE / ERROR <--------------+  (done_list, wakes done_wq)
//
// STREAMOFF (and REQBUFS, vb2_queue_release) cancels: the driver's
// stop_streaming must give every ACTIVE buffer back with vb2_buffer_done(ERROR)
// (a buffer it keeps is a WARN, as upstream), then every buffer, done or not,
// goes back to DEQUEUED: user space gets nothing it had not dequeued before.
//
// Ownership (videobuf2-v4l2.c): the file handle whose REQBUFS allocated
// buffers owns the queue; queue ioctls from another one fail with -EBUSY.
// REQBUFS(0) frees the buffers and drops ownership; the owner's last close
// releases the queue (vb2_fop_release).
//
// Locking:
//  - q->lock (the driver's serialisation mutex, may be null) is held around
//    every queue operation coming from user space: video_ioctl2 takes it for
//    queue ioctls, vb2_fop_poll/vb2_fop_release take it. Fields marked
//    "q->lock" below are touched only there.
//  - done_lock (a spinlock) guards done_list; vb2_buffer_done() takes it and
//    may run in IRQ context: it never sleeps and takes no mutex.
//  - A blocking DQBUF drops q->lock while it sleeps on done_wq (upstream's
//    wait_prepare / wait_finish), so QBUF, STREAMOFF and unregistration can
//    proceed; it re-checks everything after re-taking the lock.
//
// R14: video_unregister_device() calls vb2_queue_wake_for_unregister(): it
// sets `unregistered` and wakes done_wq; a DQBUF asleep there returns
// -ENODEV without touching a buffer, and poll reports EPOLLERR|EPOLLHUP.
// vb2_video_unregister_device() also releases the queue (stop_streaming while
// the hardware is still there, buffers freed) before remove() goes on.
#pragma once

#include <linux/videodev2.h>

#include <atomic>
#include <cstdint>
#include <list>
#include <vector>

#include "core/fs/file.h"
#include "core/kernel/container_of.h"
#include "core/kernel/live_objects.h"
#include "core/kernel/lock.h"
#include "core/kernel/wait.h"

namespace mcf {

struct vb2_queue;
struct video_device;

constexpr unsigned VB2_MAX_FRAME = 32;
constexpr unsigned VB2_MAX_PLANES = 8;

// q->memory: the V4L2_MEMORY_* value of the allocated buffers.
enum vb2_memory : unsigned {
  VB2_MEMORY_UNKNOWN = 0,
  VB2_MEMORY_MMAP = V4L2_MEMORY_MMAP,
};

// q->io_modes bits.
enum vb2_io_modes : unsigned {
  VB2_MMAP = 1u << 0,
  VB2_USERPTR = 1u << 1,  // not modelled: REQBUFS with it fails with -EINVAL
  VB2_READ = 1u << 2,     // not modelled
  VB2_WRITE = 1u << 3,    // not modelled
  VB2_DMABUF = 1u << 4,   // not modelled
};

enum vb2_buffer_state {
  VB2_BUF_STATE_DEQUEUED,  // owned by user space
  VB2_BUF_STATE_IN_REQUEST,  // (requests are not modelled)
  VB2_BUF_STATE_PREPARING,   // (not used: buf_prepare runs synchronously in QBUF)
  VB2_BUF_STATE_QUEUED,    // queued in vb2, not yet given to the driver
  VB2_BUF_STATE_ACTIVE,    // owned by the driver
  VB2_BUF_STATE_DONE,      // on done_list, waiting for DQBUF
  VB2_BUF_STATE_ERROR,     // on done_list, with V4L2_BUF_FLAG_ERROR
};
const char* vb2_state_name(vb2_buffer_state state);

struct vb2_plane {
  std::vector<uint8_t> mem;  // `length` bytes, allocated at REQBUFS
  unsigned length = 0;
  unsigned bytesused = 0;    // set by the driver (vb2_set_plane_payload)
  unsigned mem_offset = 0;   // the MMAP cookie reported in v4l2_buffer.m.offset
};

struct vb2_buffer {
  vb2_queue* vb2_queue = nullptr;
  unsigned index = 0;
  unsigned type = 0;
  unsigned memory = 0;
  unsigned num_planes = 0;
  // Written by the driver while it owns the buffer (ACTIVE), before
  // vb2_buffer_done(); read by vb2 only once the buffer came back.
  uint64_t timestamp = 0;  // ns
  // Atomic: the IRQ path moves ACTIVE -> DONE/ERROR/QUEUED under done_lock
  // while QUERYBUF may look at it under q->lock.
  std::atomic<vb2_buffer_state> state{VB2_BUF_STATE_DEQUEUED};
  bool prepared = false;  // q->lock
  vb2_plane planes[VB2_MAX_PLANES];
};

// The V4L2 view of a buffer. Upstream embeds it in a driver struct of
// q->buf_struct_size bytes; here the driver hangs its per-buffer data on
// drv_priv instead.
struct vb2_v4l2_buffer : Tracked<vb2_v4l2_buffer> {
  static constexpr const char kObjName[] = "vb2_v4l2_buffer";
  vb2_buffer vb2_buf;
  // Written by the driver while it owns the buffer (field, sequence,
  // timecode); flags keeps the user's non-state flags from QBUF.
  uint32_t flags = 0;
  uint32_t field = V4L2_FIELD_NONE;
  v4l2_timecode timecode = {};
  uint32_t sequence = 0;
  void* drv_priv = nullptr;
};
inline vb2_v4l2_buffer* to_vb2_v4l2_buffer(vb2_buffer* vb) {
  return container_of(vb, vb2_v4l2_buffer, vb2_buf);
}

// Driver callbacks. Unless said otherwise they run with q->lock held, in
// process context.
struct vb2_ops {
  // REQBUFS: how many buffers (may raise *num_buffers) and the size of each
  // plane. *num_planes is 0 on entry; set it (1 for single-planar) and
  // sizes[0]. Required.
  int (*queue_setup)(vb2_queue* q, unsigned* num_buffers, unsigned* num_planes,
                     unsigned sizes[]) = nullptr;
  // Around a blocking DQBUF's sleep when q->lock is null: release / retake
  // whatever lock the driver serialises queue calls with.
  void (*wait_prepare)(vb2_queue* q) = nullptr;
  void (*wait_finish)(vb2_queue* q) = nullptr;
  // QBUF of a buffer not yet prepared; an error refuses the QBUF.
  int (*buf_prepare)(vb2_buffer* vb) = nullptr;
  // Before the buffer's memory is freed.
  void (*buf_cleanup)(vb2_buffer* vb) = nullptr;
  // The first time enough buffers are queued after STREAMON (count = number
  // of buffers already given to buf_queue). On failure the driver must give
  // every buffer back with vb2_buffer_done(vb, VB2_BUF_STATE_QUEUED).
  int (*start_streaming)(vb2_queue* q, unsigned count) = nullptr;
  // STREAMOFF / release: stop the hardware and give every buffer back with
  // vb2_buffer_done(vb, VB2_BUF_STATE_ERROR) before returning.
  void (*stop_streaming)(vb2_queue* q) = nullptr;
  // Hands a buffer to the driver (it becomes ACTIVE). Required.
  void (*buf_queue)(vb2_buffer* vb) = nullptr;
};

struct vb2_queue : Tracked<vb2_queue> {
  static constexpr const char kObjName[] = "vb2_queue";

  // --- Set by the driver before vb2_queue_init.
  unsigned type = 0;               // V4L2_BUF_TYPE_*
  unsigned io_modes = 0;           // VB2_MMAP
  unsigned timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
  Mutex* lock = nullptr;           // the driver's serialisation lock (may be null)
  const vb2_ops* ops = nullptr;
  void* drv_priv = nullptr;
  unsigned min_queued_buffers = 0; // start_streaming waits for this many QBUFs

  // --- Framework state.
  void* owner = nullptr;           // q->lock: the owning file's private_data (v4l2_fh)
  unsigned memory = VB2_MEMORY_UNKNOWN;      // q->lock
  unsigned num_planes = 0;                   // q->lock
  std::vector<vb2_buffer*> bufs;             // q->lock; bufs[i]->index == i
  std::list<vb2_buffer*> queued_list;        // q->lock: QBUF'd and not yet DQBUF'd
  unsigned queued_count = 0;                 // q->lock
  std::atomic<int> owned_by_drv_count{0};    // buffers ACTIVE
  SpinLock done_lock{"vb2_queue.done_lock"};
  std::list<vb2_buffer*> done_list ABSL_GUARDED_BY(done_lock);
  wait_queue_head done_wq{"vb2_queue.done_wq"};
  // Atomic: read without q->lock by a sleeping DQBUF's wake-up condition.
  std::atomic<bool> streaming{false};        // STREAMON done (start may be deferred)
  std::atomic<bool> start_streaming_called{false};
  std::atomic<bool> error{false};            // vb2_queue_error()
  std::atomic<bool> unregistered{false};     // R14: the video node is going away
  bool waiting_in_dqbuf = false;             // q->lock
  bool is_output = false;
};

inline bool vb2_is_streaming(vb2_queue* q) { return q->streaming.load(std::memory_order_acquire); }
// Buffers are allocated: format changes must be refused (-EBUSY).
inline bool vb2_is_busy(vb2_queue* q) { return !q->bufs.empty(); }
inline void* vb2_get_drv_priv(vb2_queue* q) { return q->drv_priv; }

// --- Driver API (videobuf2-core.h).

// -EINVAL for a queue without type, MMAP mode, queue_setup or buf_queue.
int vb2_queue_init(vb2_queue* q);
// Stops streaming (stop_streaming) and frees every buffer. The caller holds
// q->lock if anyone else can reach the queue.
void vb2_queue_release(vb2_queue* q);
// The driver gives a buffer back; any context, IRQ included (does not sleep).
// DONE/ERROR: onto done_list, wakes DQBUF and poll. QUEUED: only from a
// failing start_streaming. A buffer the driver does not own is a WARN.
void vb2_buffer_done(vb2_buffer* vb, vb2_buffer_state state);
// Fatal queue error: QBUF/DQBUF fail with -EIO until STREAMOFF or REQBUFS.
void vb2_queue_error(vb2_queue* q);
void* vb2_plane_vaddr(vb2_buffer* vb, unsigned plane_no);
void vb2_set_plane_payload(vb2_buffer* vb, unsigned plane_no, unsigned size);
unsigned vb2_plane_size(vb2_buffer* vb, unsigned plane_no);

// R14: wakes every sleeper of `q` for an unregistration. Safe in any state,
// without q->lock, and more than once.
void vb2_queue_wake_for_unregister(vb2_queue* q);

// --- Core calls (videobuf2-core.c). The caller holds q->lock. `pb` (may be
// null) receives the buffer's user view.
int vb2_core_reqbufs(vb2_queue* q, unsigned memory, unsigned* count);
int vb2_core_querybuf(vb2_queue* q, unsigned index, v4l2_buffer* pb);
int vb2_core_qbuf(vb2_queue* q, unsigned index, v4l2_buffer* pb);
// -EINVAL not streaming, -EIO queue error, -EAGAIN nonblocking and nothing
// done, -EBUSY another caller already sleeps here, -ENODEV the node was
// unregistered while waiting (R14).
int vb2_core_dqbuf(vb2_queue* q, v4l2_buffer* pb, bool nonblocking);
int vb2_core_streamon(vb2_queue* q, unsigned type);
int vb2_core_streamoff(vb2_queue* q, unsigned type);
// Registers `pt` on done_wq and returns the ready mask (EPOLLIN|EPOLLRDNORM
// with a buffer to dequeue, EPOLLERR when not streaming).
__poll_t vb2_core_poll(vb2_queue* q, file* filp, poll_table* pt);

// --- V4L2 layer (videobuf2-v4l2.c): type and memory checks, then core.
int vb2_reqbufs(vb2_queue* q, v4l2_requestbuffers* req);
int vb2_querybuf(vb2_queue* q, v4l2_buffer* b);
int vb2_qbuf(vb2_queue* q, v4l2_buffer* b);
int vb2_dqbuf(vb2_queue* q, v4l2_buffer* b, bool nonblocking);
int vb2_streamon(vb2_queue* q, v4l2_buf_type type);
int vb2_streamoff(vb2_queue* q, v4l2_buf_type type);
__poll_t vb2_poll(vb2_queue* q, file* filp, poll_table* pt);
// Fills `b` from `vb` (__fill_v4l2_buffer). Used by the core.
void vb2_fill_v4l2_buffer(vb2_buffer* vb, v4l2_buffer* b);

// --- Ready-made ioctl ops and file operations for a node with vdev->queue,
// serialised by vdev->queue->lock (or vdev->lock). They add the ownership
// rule: -EBUSY for a file that is not the queue's owner.
int vb2_ioctl_reqbufs(file* filp, void* fh, v4l2_requestbuffers* p);
int vb2_ioctl_querybuf(file* filp, void* fh, v4l2_buffer* p);  // anyone may query
int vb2_ioctl_qbuf(file* filp, void* fh, v4l2_buffer* p);
int vb2_ioctl_dqbuf(file* filp, void* fh, v4l2_buffer* p);
int vb2_ioctl_streamon(file* filp, void* fh, v4l2_buf_type i);
int vb2_ioctl_streamoff(file* filp, void* fh, v4l2_buf_type i);
// Releases the queue if `filp` owns it, then v4l2_fh_release().
int vb2_fop_release(file* filp);
__poll_t vb2_fop_poll(file* filp, poll_table* pt);

// For remove(): video_unregister_device() (waits for calls in flight, wakes
// sleepers), then releases the queue under its lock, so stop_streaming runs
// while the hardware is still there and no buffer outlives remove().
void vb2_video_unregister_device(video_device* vdev);

}  // namespace mcf
