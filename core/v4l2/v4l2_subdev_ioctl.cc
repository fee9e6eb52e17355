// The sub-device node's ioctls, after v4l2-core/v4l2-subdev.c
// (subdev_do_ioctl, subdev_do_ioctl_lock, subdev_ioctl) and
// v4l2-ioctl.c's video_usercopy.
//
// As upstream:
//  - the argument is copied in (_IOC_WRITE; -EFAULT on a bad pointer) or
//    zeroed (_IOC_READ only), and copied back only when the handler
//    returned >= 0 and _IOC_READ is set;
//  - the state is chosen by `which`: ACTIVE -> sd->active_state, anything
//    else -> the file handle's TRY state (an invalid `which` is then refused
//    by v4l2_subdev_call's checks with -EINVAL), and held locked for the call,
//    inside vdev->lock if the driver set one;
//  - `pad` out of range: -EINVAL; a missing op: -ENOIOCTLCMD, which user space
//    sees as ENOTTY (as for a command nobody knows);
//  - read-only nodes refuse ACTIVE S_FMT / S_CROP / S_SELECTION with -EPERM.
// The call is already counted in flight by v4l2_ioctl (R13), which refused it
// on an unregistered node (-ENODEV, R12).
#include <linux/ioctl.h>
#include <linux/v4l2-subdev.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/kernel/uaccess.h"
#include "core/mc/media_device.h"
#include "core/v4l2/v4l2_subdev.h"

namespace mcf {
namespace {

template <typename T>
void zero_reserved(T* p) {
  std::memset(p->reserved, 0, sizeof(p->reserved));
}

// The state an ioctl acts on (subdev_ioctl_get_state). Null for commands
// without a `which`.
v4l2_subdev_state* subdev_ioctl_get_state(v4l2_subdev* sd, v4l2_subdev_fh* fh, unsigned int cmd,
                                          void* arg) {
  uint32_t which;
  switch (cmd) {
    case VIDIOC_SUBDEV_G_FMT:
    case VIDIOC_SUBDEV_S_FMT:
      which = static_cast<v4l2_subdev_format*>(arg)->which;
      break;
    case VIDIOC_SUBDEV_G_CROP:
    case VIDIOC_SUBDEV_S_CROP:
      which = static_cast<v4l2_subdev_crop*>(arg)->which;
      break;
    case VIDIOC_SUBDEV_ENUM_MBUS_CODE:
      which = static_cast<v4l2_subdev_mbus_code_enum*>(arg)->which;
      break;
    case VIDIOC_SUBDEV_ENUM_FRAME_SIZE:
      which = static_cast<v4l2_subdev_frame_size_enum*>(arg)->which;
      break;
    case VIDIOC_SUBDEV_G_SELECTION:
    case VIDIOC_SUBDEV_S_SELECTION:
      which = static_cast<v4l2_subdev_selection*>(arg)->which;
      break;
    default:
      return nullptr;
  }
  // `which` is validated by the call wrappers, not here.
  return which == V4L2_SUBDEV_FORMAT_ACTIVE ? sd->active_state : fh->state;
}

long subdev_crop(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_crop* crop, bool set) {
  v4l2_subdev_selection sel;
  std::memset(&sel, 0, sizeof(sel));
  zero_reserved(crop);
  sel.which = crop->which;
  sel.pad = crop->pad;
  sel.target = V4L2_SEL_TGT_CROP;
  long ret;
  if (set) {
    sel.r = crop->rect;
    ret = v4l2_subdev_call(sd, pad, set_selection, state, &sel);
  } else {
    ret = v4l2_subdev_call(sd, pad, get_selection, state, &sel);
  }
  crop->rect = sel.r;
  return ret;
}

long subdev_do_ioctl(v4l2_subdev* sd, unsigned int cmd, void* arg, v4l2_subdev_state* state) {
  const bool ro = sd->devnode_ro;
  switch (cmd) {
    case VIDIOC_SUBDEV_QUERYCAP: {
      auto* cap = static_cast<v4l2_subdev_capability*>(arg);
      std::memset(cap, 0, sizeof(*cap));
      cap->version = MCF_LINUX_VERSION_CODE;
      cap->capabilities = ro ? V4L2_SUBDEV_CAP_RO_SUBDEV : 0;
      return 0;
    }
    case VIDIOC_SUBDEV_G_FMT: {
      auto* format = static_cast<v4l2_subdev_format*>(arg);
      zero_reserved(format);
      zero_reserved(&format->format);
      return v4l2_subdev_call(sd, pad, get_fmt, state, format);
    }
    case VIDIOC_SUBDEV_S_FMT: {
      auto* format = static_cast<v4l2_subdev_format*>(arg);
      if (format->which != V4L2_SUBDEV_FORMAT_TRY && ro) return -EPERM;
      zero_reserved(format);
      zero_reserved(&format->format);
      return v4l2_subdev_call(sd, pad, set_fmt, state, format);
    }
    case VIDIOC_SUBDEV_G_CROP:
      return subdev_crop(sd, state, static_cast<v4l2_subdev_crop*>(arg), false);
    case VIDIOC_SUBDEV_S_CROP: {
      auto* crop = static_cast<v4l2_subdev_crop*>(arg);
      if (crop->which != V4L2_SUBDEV_FORMAT_TRY && ro) return -EPERM;
      return subdev_crop(sd, state, crop, true);
    }
    case VIDIOC_SUBDEV_ENUM_MBUS_CODE: {
      auto* code = static_cast<v4l2_subdev_mbus_code_enum*>(arg);
      zero_reserved(code);
      return v4l2_subdev_call(sd, pad, enum_mbus_code, state, code);
    }
    case VIDIOC_SUBDEV_ENUM_FRAME_SIZE: {
      auto* fse = static_cast<v4l2_subdev_frame_size_enum*>(arg);
      zero_reserved(fse);
      return v4l2_subdev_call(sd, pad, enum_frame_size, state, fse);
    }
    case VIDIOC_SUBDEV_G_SELECTION: {
      auto* sel = static_cast<v4l2_subdev_selection*>(arg);
      zero_reserved(sel);
      return v4l2_subdev_call(sd, pad, get_selection, state, sel);
    }
    case VIDIOC_SUBDEV_S_SELECTION: {
      auto* sel = static_cast<v4l2_subdev_selection*>(arg);
      if (sel->which != V4L2_SUBDEV_FORMAT_TRY && ro) return -EPERM;
      zero_reserved(sel);
      return v4l2_subdev_call(sd, pad, set_selection, state, sel);
    }
    default:
      return v4l2_subdev_call(sd, core, ioctl, cmd, arg);
  }
}

// subdev_do_ioctl_lock: the driver's serialisation lock, then the state's.
long subdev_do_ioctl_lock(file* filp, unsigned int cmd, void* arg)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  video_device* vdev = video_devdata(filp);
  v4l2_subdev* sd = vdev_to_v4l2_subdev(vdev);
  v4l2_subdev_fh* fh = to_v4l2_subdev_fh(file_to_v4l2_fh(filp));
  Mutex* lock = vdev->lock;
  if (lock != nullptr) lock->lock();
  v4l2_subdev_state* state = arg != nullptr ? subdev_ioctl_get_state(sd, fh, cmd, arg) : nullptr;
  if (state != nullptr) v4l2_subdev_lock_state(state);
  long ret = subdev_do_ioctl(sd, cmd, arg, state);
  if (state != nullptr) v4l2_subdev_unlock_state(state);
  if (lock != nullptr) lock->unlock();
  return ret;
}

}  // namespace

long v4l2_subdev_ioctl(file* filp, unsigned int cmd, unsigned long arg) {
  // video_usercopy: the argument lives in a kernel buffer for the call.
  const size_t size = _IOC_SIZE(cmd);
  std::vector<unsigned char> kbuf;
  void* parg = nullptr;
  if (_IOC_DIR(cmd) != _IOC_NONE) {
    kbuf.assign(size, 0);  // _IOC_READ only: handed to the handler zeroed
    parg = kbuf.data();
    if ((_IOC_DIR(cmd) & _IOC_WRITE) && copy_from_user(parg, arg, size) != 0) return -EFAULT;
  }
  long ret = subdev_do_ioctl_lock(filp, cmd, parg);
  // Copied back on success only: a failed call leaves user memory untouched.
  if (ret >= 0 && (_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(arg, parg, size) != 0)
    ret = -EFAULT;
  return ret;
}

}  // namespace mcf
