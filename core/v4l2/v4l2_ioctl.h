// V4L2 ioctl dispatch, after include/media/v4l2-ioctl.h and
// drivers/media/v4l2-core/v4l2-ioctl.c.
//
// video_ioctl2() is what a driver puts in v4l2_file_operations.unlocked_ioctl.
// It runs inside the v4l2 ioctl wrapper, which counts the call in flight
// (R13), so it does no counting itself. For each call:
//   1. Look the command up in the table by number: an unknown command, or
//      one whose op the driver lacks, is -ENOTTY (no user memory touched).
//   2. Copy the argument in if _IOC_WRITE (-EFAULT on a fault; only the
//      input prefix for commands where upstream copies a prefix, the rest
//      zeroed), else zero it.
//   3. Take the serialisation lock: vdev->queue->lock for queue ioctls
//      (REQBUFS, QUERYBUF, QBUF, DQBUF, STREAMON, STREAMOFF) when the queue
//      has one, else vdev->lock (either may be null). A blocking DQBUF drops
//      q->lock while it sleeps (videobuf2.h).
//   4. Re-check registration under the lock: -ENODEV once unregistered (R12).
//   5. Check the buffer type against the node (check_fmt: -EINVAL), call the
//      op, unlock, and copy out only on success and only for _IOC_READ.
// The ops' `fh` argument is file->private_data (the v4l2_fh).
#pragma once

#include <linux/videodev2.h>

#include "core/fs/file.h"

namespace mcf {

// Every op returns 0 or a negative errno. Ops run with the lock of step 3.
struct v4l2_ioctl_ops {
  // QUERYCAP: the core fills version, device_caps and capabilities
  // (device_caps | V4L2_CAP_DEVICE_CAPS) before; the driver fills driver,
  // card and bus_info, and must not change device_caps (a WARN).
  int (*vidioc_querycap)(file* filp, void* fh, v4l2_capability* cap) = nullptr;

  int (*vidioc_enum_fmt_vid_cap)(file* filp, void* fh, v4l2_fmtdesc* f) = nullptr;
  int (*vidioc_g_fmt_vid_cap)(file* filp, void* fh, v4l2_format* f) = nullptr;
  int (*vidioc_s_fmt_vid_cap)(file* filp, void* fh, v4l2_format* f) = nullptr;
  int (*vidioc_try_fmt_vid_cap)(file* filp, void* fh, v4l2_format* f) = nullptr;

  // Buffer queue ops: usually the vb2_ioctl_* helpers (videobuf2.h).
  int (*vidioc_reqbufs)(file* filp, void* fh, v4l2_requestbuffers* b) = nullptr;
  int (*vidioc_querybuf)(file* filp, void* fh, v4l2_buffer* b) = nullptr;
  int (*vidioc_qbuf)(file* filp, void* fh, v4l2_buffer* b) = nullptr;
  int (*vidioc_dqbuf)(file* filp, void* fh, v4l2_buffer* b) = nullptr;
  int (*vidioc_streamon)(file* filp, void* fh, v4l2_buf_type i) = nullptr;
  int (*vidioc_streamoff)(file* filp, void* fh, v4l2_buf_type i) = nullptr;

  int (*vidioc_enum_input)(file* filp, void* fh, v4l2_input* inp) = nullptr;
  int (*vidioc_g_input)(file* filp, void* fh, unsigned int* i) = nullptr;
  int (*vidioc_s_input)(file* filp, void* fh, unsigned int i) = nullptr;
};

// The generic ioctl handler. `arg` is a user address (user_addr_t).
long video_ioctl2(file* filp, unsigned int cmd, unsigned long arg);

// The command's name ("VIDIOC_QBUF"), or null for a command not in the table.
const char* v4l2_ioctl_name(unsigned int cmd);
// True for REQBUFS, QUERYBUF, QBUF, DQBUF, STREAMON and STREAMOFF.
bool v4l2_is_queue_ioctl(unsigned int cmd);

}  // namespace mcf
