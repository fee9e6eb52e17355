// V4L2 ioctl dispatch, after drivers/media/v4l2-core/v4l2-ioctl.c
// (video_usercopy, __video_do_ioctl, check_fmt, the v4l_* handlers and the
// v4l2_ioctls[] table). See v4l2_ioctl.h for the steps.
#include "core/v4l2/v4l2_ioctl.h"

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

#include "core/kernel/kerrno.h"
#include "core/kernel/platform.h"
#include "core/kernel/report.h"
#include "core/mc/media_device.h"
#include "core/v4l2/v4l2_dev.h"
#include "core/v4l2/v4l2_device.h"
#include "core/v4l2/videobuf2.h"

namespace mcf {
namespace {

// Table flags. INFO_FL_CLEAR: copy in only up to the end of `field` (the
// input part) and zero the rest, as upstream.
constexpr uint32_t INFO_FL_QUEUE = 1u << 0;  // serialised by vdev->queue->lock
constexpr uint32_t INFO_FL_CLEAR_MASK = 0xffffu << 16;
#define INFO_FL_CLEAR(type, field) \
  static_cast<uint32_t>((offsetof(type, field) + sizeof(type::field)) << 16)

// One argument buffer large enough for every command in the table.
union v4l2_ioctl_arg {
  v4l2_capability cap;
  v4l2_fmtdesc fmtdesc;
  v4l2_format fmt;
  v4l2_requestbuffers req;
  v4l2_buffer buf;
  v4l2_input input;
  unsigned int u32;
};

using v4l2_ioctl_func = int (*)(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg);
using v4l2_ioctl_valid = bool (*)(const video_device* vfd, const v4l2_ioctl_ops* ops);

struct v4l2_ioctl_info {
  unsigned int ioctl = 0;
  uint32_t flags = 0;
  const char* name = nullptr;
  v4l2_ioctl_valid valid = nullptr;  // determine_valid_ioctls(), per call
  v4l2_ioctl_func func = nullptr;
};

// --- Node kind (determine_valid_ioctls / check_fmt).

bool is_vid(const video_device* vfd) {
  constexpr uint32_t vid_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE |
                                V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE;
  return vfd->vfl_type == VFL_TYPE_VIDEO && (vfd->device_caps & vid_caps) != 0;
}
bool is_rx(const video_device* vfd) { return vfd->vfl_dir != VFL_DIR_TX; }

// -EINVAL for a buffer type the node does not handle.
int check_fmt(file* filp, unsigned type) {
  video_device* vfd = video_devdata(filp);
  const v4l2_ioctl_ops* ops = vfd->ioctl_ops;
  if (ops == nullptr) return -EINVAL;
  switch (type) {
    case V4L2_BUF_TYPE_VIDEO_CAPTURE:
      if (is_vid(vfd) && is_rx(vfd) && ops->vidioc_g_fmt_vid_cap != nullptr) return 0;
      break;
    default:
      break;
  }
  return -EINVAL;
}

// v4l_sanitize_format: fields after `priv` are valid only with the magic.
void v4l_sanitize_format(v4l2_format* fmt) {
  if (fmt->type != V4L2_BUF_TYPE_VIDEO_CAPTURE && fmt->type != V4L2_BUF_TYPE_VIDEO_OUTPUT) return;
  if (fmt->fmt.pix.priv == V4L2_PIX_FMT_PRIV_MAGIC) return;
  fmt->fmt.pix.priv = V4L2_PIX_FMT_PRIV_MAGIC;
  constexpr size_t offset = offsetof(v4l2_pix_format, priv) + sizeof(fmt->fmt.pix.priv);
  std::memset(reinterpret_cast<char*>(&fmt->fmt.pix) + offset, 0, sizeof(fmt->fmt.pix) - offset);
}

// CLEAR_AFTER_FIELD(p, fmt.pix): zero the rest of the format union.
void clear_after_pix(v4l2_format* p) {
  constexpr size_t end = offsetof(v4l2_format, fmt) + sizeof(v4l2_pix_format);
  std::memset(reinterpret_cast<char*>(p) + end, 0, sizeof(*p) - end);
}

// media_set_bus_info()
void set_bus_info(char* bus_info, size_t size, device* dev) {
  if (dev == nullptr) {
    std::snprintf(bus_info, size, "no bus info");
  } else if (dev->bus == &platform_bus_type) {
    std::snprintf(bus_info, size, "platform:%s",
                  dev->driver != nullptr ? dev->driver->name : dev_name(dev));
  }
}

// --- Handlers (v4l_*). `arg` is the kernel copy.

int v4l_querycap(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  auto* cap = static_cast<v4l2_capability*>(arg);
  video_device* vfd = video_devdata(filp);
  cap->version = MCF_LINUX_VERSION_CODE;
  cap->device_caps = vfd->device_caps;
  cap->capabilities = vfd->device_caps | V4L2_CAP_DEVICE_CAPS;
  // video_register_device() defaults dev_parent to the v4l2_device's device.
  device* parent = vfd->dev_parent != nullptr ? vfd->dev_parent : vfd->v4l2_dev->dev;
  set_bus_info(reinterpret_cast<char*>(cap->bus_info), sizeof(cap->bus_info), parent);
  int ret = ops->vidioc_querycap(filp, fh, cap);
  // Drivers must not change device_caps.
  MCF_WARN_ON(cap->device_caps != vfd->device_caps);
  cap->capabilities |= V4L2_CAP_EXT_PIX_FORMAT;
  cap->device_caps |= V4L2_CAP_EXT_PIX_FORMAT;
  return ret;
}

int v4l_enum_fmt(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  auto* p = static_cast<v4l2_fmtdesc*>(arg);
  int ret = check_fmt(filp, p->type);
  if (ret != 0) return ret;
  // As upstream (5.8+): everything after `type` is cleared except mbus_code,
  // which filters the list on V4L2_CAP_IO_MC nodes. [fix by the vimc helper:
  // the table cleared mbus_code with the rest, so an IO_MC driver (vimc's
  // captures) never saw the filter.]
  uint32_t mbus_code = (video_devdata(filp)->device_caps & V4L2_CAP_IO_MC) ? p->mbus_code : 0;
  std::memset(&p->flags, 0, sizeof(*p) - offsetof(v4l2_fmtdesc, flags));
  p->mbus_code = mbus_code;
  if (p->type == V4L2_BUF_TYPE_VIDEO_CAPTURE && ops->vidioc_enum_fmt_vid_cap != nullptr)
    return ops->vidioc_enum_fmt_vid_cap(filp, fh, p);
  return -EINVAL;
}

int v4l_g_fmt(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  auto* p = static_cast<v4l2_format*>(arg);
  int ret = check_fmt(filp, p->type);
  if (ret != 0) return ret;
  std::memset(&p->fmt, 0, sizeof(p->fmt));
  if (p->type == V4L2_BUF_TYPE_VIDEO_CAPTURE && ops->vidioc_g_fmt_vid_cap != nullptr) {
    p->fmt.pix.priv = V4L2_PIX_FMT_PRIV_MAGIC;
    ret = ops->vidioc_g_fmt_vid_cap(filp, fh, p);
    p->fmt.pix.priv = V4L2_PIX_FMT_PRIV_MAGIC;  // in case the driver zeroed it
    return ret;
  }
  return -EINVAL;
}

int v4l_s_or_try_fmt(int (*op)(file*, void*, v4l2_format*), file* filp, void* fh,
                     v4l2_format* p) {
  int ret = check_fmt(filp, p->type);
  if (ret != 0) return ret;
  v4l_sanitize_format(p);
  if (p->type == V4L2_BUF_TYPE_VIDEO_CAPTURE && op != nullptr) {
    clear_after_pix(p);
    ret = op(filp, fh, p);
    p->fmt.pix.priv = V4L2_PIX_FMT_PRIV_MAGIC;
    return ret;
  }
  return -EINVAL;
}

int v4l_s_fmt(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  return v4l_s_or_try_fmt(ops->vidioc_s_fmt_vid_cap, filp, fh, static_cast<v4l2_format*>(arg));
}

int v4l_try_fmt(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  return v4l_s_or_try_fmt(ops->vidioc_try_fmt_vid_cap, filp, fh, static_cast<v4l2_format*>(arg));
}

int v4l_reqbufs(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  auto* p = static_cast<v4l2_requestbuffers*>(arg);
  int ret = check_fmt(filp, p->type);
  if (ret != 0) return ret;
  std::memset(p->reserved, 0, sizeof(p->reserved));  // memset_after(p, 0, flags)
  return ops->vidioc_reqbufs(filp, fh, p);
}

int v4l_querybuf(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  auto* p = static_cast<v4l2_buffer*>(arg);
  int ret = check_fmt(filp, p->type);
  return ret != 0 ? ret : ops->vidioc_querybuf(filp, fh, p);
}

int v4l_qbuf(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  auto* p = static_cast<v4l2_buffer*>(arg);
  int ret = check_fmt(filp, p->type);
  return ret != 0 ? ret : ops->vidioc_qbuf(filp, fh, p);
}

int v4l_dqbuf(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  auto* p = static_cast<v4l2_buffer*>(arg);
  int ret = check_fmt(filp, p->type);
  return ret != 0 ? ret : ops->vidioc_dqbuf(filp, fh, p);
}

// The type is checked before it becomes an enum v4l2_buf_type: a value
// outside the enum is undefined behaviour in C++ (v4l2_ioctl_fuzzer found
// it under UBSan). Upstream passes it on and vb2 refuses it with -EINVAL,
// which check_fmt answers too.
int v4l_streamon(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  unsigned type = *static_cast<unsigned*>(arg);
  int ret = check_fmt(filp, type);
  return ret != 0 ? ret : ops->vidioc_streamon(filp, fh, static_cast<v4l2_buf_type>(type));
}

int v4l_streamoff(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  unsigned type = *static_cast<unsigned*>(arg);
  int ret = check_fmt(filp, type);
  return ret != 0 ? ret : ops->vidioc_streamoff(filp, fh, static_cast<v4l2_buf_type>(type));
}

int v4l_enuminput(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  return ops->vidioc_enum_input(filp, fh, static_cast<v4l2_input*>(arg));
}

int v4l_g_input(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  return ops->vidioc_g_input(filp, fh, static_cast<unsigned*>(arg));
}

int v4l_s_input(const v4l2_ioctl_ops* ops, file* filp, void* fh, void* arg) {
  return ops->vidioc_s_input(filp, fh, *static_cast<unsigned*>(arg));
}

// --- The table.

#define VALID(expr) [](const video_device* vfd, const v4l2_ioctl_ops* ops) -> bool { return expr; }

const v4l2_ioctl_info kIoctls[] = {
    {VIDIOC_QUERYCAP, 0, "VIDIOC_QUERYCAP", VALID(ops->vidioc_querycap != nullptr), v4l_querycap},
    {VIDIOC_ENUM_FMT, 0, "VIDIOC_ENUM_FMT",
     VALID(is_vid(vfd) && is_rx(vfd) && ops->vidioc_enum_fmt_vid_cap != nullptr), v4l_enum_fmt},
    {VIDIOC_G_FMT, 0, "VIDIOC_G_FMT",
     VALID(is_vid(vfd) && is_rx(vfd) && ops->vidioc_g_fmt_vid_cap != nullptr), v4l_g_fmt},
    {VIDIOC_S_FMT, 0, "VIDIOC_S_FMT",
     VALID(is_vid(vfd) && is_rx(vfd) && ops->vidioc_s_fmt_vid_cap != nullptr), v4l_s_fmt},
    {VIDIOC_TRY_FMT, 0, "VIDIOC_TRY_FMT",
     VALID(is_vid(vfd) && is_rx(vfd) && ops->vidioc_try_fmt_vid_cap != nullptr), v4l_try_fmt},
    {VIDIOC_REQBUFS, INFO_FL_QUEUE, "VIDIOC_REQBUFS", VALID(ops->vidioc_reqbufs != nullptr),
     v4l_reqbufs},
    {VIDIOC_QUERYBUF, INFO_FL_QUEUE | INFO_FL_CLEAR(v4l2_buffer, length), "VIDIOC_QUERYBUF",
     VALID(ops->vidioc_querybuf != nullptr), v4l_querybuf},
    {VIDIOC_QBUF, INFO_FL_QUEUE, "VIDIOC_QBUF", VALID(ops->vidioc_qbuf != nullptr), v4l_qbuf},
    {VIDIOC_DQBUF, INFO_FL_QUEUE, "VIDIOC_DQBUF", VALID(ops->vidioc_dqbuf != nullptr), v4l_dqbuf},
    {VIDIOC_STREAMON, INFO_FL_QUEUE, "VIDIOC_STREAMON", VALID(ops->vidioc_streamon != nullptr),
     v4l_streamon},
    {VIDIOC_STREAMOFF, INFO_FL_QUEUE, "VIDIOC_STREAMOFF", VALID(ops->vidioc_streamoff != nullptr),
     v4l_streamoff},
    {VIDIOC_ENUMINPUT, INFO_FL_CLEAR(v4l2_input, index), "VIDIOC_ENUMINPUT",
     VALID(is_vid(vfd) && is_rx(vfd) && ops->vidioc_enum_input != nullptr), v4l_enuminput},
    {VIDIOC_G_INPUT, 0, "VIDIOC_G_INPUT",
     VALID(is_vid(vfd) && is_rx(vfd) && ops->vidioc_g_input != nullptr), v4l_g_input},
    {VIDIOC_S_INPUT, 0, "VIDIOC_S_INPUT",
     VALID(is_vid(vfd) && is_rx(vfd) && ops->vidioc_s_input != nullptr), v4l_s_input},
};

#undef VALID

// By command number, as v4l2_ioctls[]; a slot matches only its exact command
// (direction, type and size included).
constexpr size_t kV4l2Ioctls = 128;

const v4l2_ioctl_info* v4l2_ioctl_lookup(unsigned int cmd) {
  static const std::array<v4l2_ioctl_info, kV4l2Ioctls> table = [] {
    std::array<v4l2_ioctl_info, kV4l2Ioctls> t{};
    for (const v4l2_ioctl_info& info : kIoctls) t[_IOC_NR(info.ioctl)] = info;
    return t;
  }();
  unsigned nr = _IOC_NR(cmd);
  if (nr >= table.size() || table[nr].ioctl == 0 || table[nr].ioctl != cmd) return nullptr;
  return &table[nr];
}

// v4l2_ioctl_get_lock()
Mutex* v4l2_ioctl_get_lock(video_device* vfd, const v4l2_ioctl_info* info) {
  if ((info->flags & INFO_FL_QUEUE) && vfd->queue != nullptr && vfd->queue->lock != nullptr)
    return vfd->queue->lock;
  return vfd->lock;
}

// Steps 3 to 5 of v4l2_ioctl.h: the handler under the serialisation lock,
// after re-checking registration under it.
long v4l2_call_locked(Mutex* lock, const v4l2_ioctl_info* info, file* filp, void* karg)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  video_device* vfd = video_devdata(filp);
  if (lock != nullptr) lock->lock();
  long ret = -ENODEV;
  // R12: unregistration may have started while this call waited for the lock.
  if (video_is_registered(vfd)) ret = info->func(vfd->ioctl_ops, filp, filp->private_data, karg);
  if (lock != nullptr) lock->unlock();
  return ret;
}

}  // namespace

const char* v4l2_ioctl_name(unsigned int cmd) {
  const v4l2_ioctl_info* info = v4l2_ioctl_lookup(cmd);
  return info != nullptr ? info->name : nullptr;
}

bool v4l2_is_queue_ioctl(unsigned int cmd) {
  const v4l2_ioctl_info* info = v4l2_ioctl_lookup(cmd);
  return info != nullptr && (info->flags & INFO_FL_QUEUE) != 0;
}

long video_ioctl2(file* filp, unsigned int cmd, unsigned long arg) {
  video_device* vfd = video_devdata(filp);
  const v4l2_ioctl_ops* ops = vfd->ioctl_ops;

  // 1. Known command, implemented by this node.
  const v4l2_ioctl_info* info = v4l2_ioctl_lookup(cmd);
  if (info == nullptr || ops == nullptr || !info->valid(vfd, ops)) return -ENOTTY;

  // 2. video_get_user(): copy in (the input prefix) or zero.
  v4l2_ioctl_arg karg;
  const size_t size = _IOC_SIZE(cmd);
  MCF_BUG_ON(size > sizeof(karg));
  std::memset(&karg, 0, sizeof(karg));
  if (_IOC_DIR(cmd) & _IOC_WRITE) {
    size_t n = size;
    if (info->flags & INFO_FL_CLEAR_MASK) n = (info->flags & INFO_FL_CLEAR_MASK) >> 16;
    if (copy_from_user(&karg, static_cast<user_addr_t>(arg), n) != 0) return -EFAULT;
  }

  // 3.-5. Lock, registration check, handler.
  long ret = v4l2_call_locked(v4l2_ioctl_get_lock(vfd, info), info, filp, &karg);
  if (ret == -ENOIOCTLCMD) ret = -ENOTTY;
  if (ret < 0) return ret;  // nothing is copied back on failure

  // video_put_user(): copy out for _IOC_READ commands.
  if ((_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(static_cast<user_addr_t>(arg), &karg, size) != 0)
    return -EFAULT;
  return ret;
}

}  // namespace mcf
