// Hand-built seed programs and call builders for the mutator tests
// (mutate_*_test.cc). Each seed is canonical; together they use every call
// kind, every node kind, several threads, dup chains and fail_nth.
#pragma once

#include <fcntl.h>
#include <linux/media.h>
#include <linux/v4l2-subdev.h>
#include <linux/videodev2.h>
#include <poll.h>

#include <string>
#include <vector>

#include "fuzzers/prog/ioctl_desc.h"
#include "fuzzers/prog/prog.h"

namespace mcf::fuzz::testing {

inline Call open_call(NodeKind kind, uint8_t index = 0, uint8_t thread = 0, uint32_t flags = O_RDWR) {
  Call c;
  c.kind = CallKind::kOpen;
  c.node.kind = kind;
  c.node.index = index;
  c.flags = flags;
  c.thread = thread;
  return c;
}

inline Call fd_call(CallKind kind, int fd, uint8_t thread = 0) {
  Call c;
  c.kind = kind;
  c.fd = static_cast<int16_t>(fd);
  c.thread = thread;
  if (kind == CallKind::kPoll) c.flags = POLLIN;
  return c;
}

// ioctl(fd, name, fields...): missing fields are 0.
inline Call ioctl_call(int fd, const std::string& name, std::vector<uint64_t> fields = {},
                       uint8_t thread = 0) {
  Call c = fd_call(CallKind::kIoctl, fd, thread);
  int desc = find_ioctl(name);
  c.ioctl.desc = static_cast<uint16_t>(desc < 0 ? 0 : desc);
  fields.resize(ioctl_table()[c.ioctl.desc].fields.size(), 0);
  c.ioctl.fields = fields;
  return c;
}

inline Call dev_call(CallKind kind, uint8_t id = 0, uint8_t thread = 0) {
  Call c;
  c.kind = kind;
  c.thread = thread;
  if (kind == CallKind::kRegisterDriver || kind == CallKind::kUnregisterDriver) return c;
  c.dev.id = id;
  return c;
}

// Media controller: topology, entities, links.
inline Program media_seed() {
  Program p;
  p.calls = {
      dev_call(CallKind::kRegisterDriver),
      dev_call(CallKind::kPlug),
      open_call(NodeKind::kMedia),
      ioctl_call(2, "MEDIA_IOC_DEVICE_INFO"),
      ioctl_call(2, "MEDIA_IOC_G_TOPOLOGY", {4, 0x100, 4, 0x200, 8, 0x300, 8, 0x400}),
      ioctl_call(2, "MEDIA_IOC_ENUM_ENTITIES", {MEDIA_ENT_ID_FLAG_NEXT | 0}),
      ioctl_call(2, "MEDIA_IOC_SETUP_LINK", {1, 0, 2, 0, MEDIA_LNK_FL_ENABLED}),
      fd_call(CallKind::kClose, 2),
  };
  return p;
}

// Video streaming with an interrupt in the middle.
inline Program video_seed() {
  Program p;
  p.calls = {
      open_call(NodeKind::kVideo, 0, 0, O_RDWR | O_NONBLOCK),
      ioctl_call(0, "VIDIOC_QUERYCAP"),
      ioctl_call(0, "VIDIOC_REQBUFS", {4, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_MMAP}),
      ioctl_call(0, "VIDIOC_QBUF", {0, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_MMAP}),
      ioctl_call(0, "VIDIOC_STREAMON", {V4L2_BUF_TYPE_VIDEO_CAPTURE}),
      dev_call(CallKind::kIrq),
      fd_call(CallKind::kPoll, 0),
      ioctl_call(0, "VIDIOC_DQBUF", {0, V4L2_BUF_TYPE_VIDEO_CAPTURE, V4L2_MEMORY_MMAP}),
      ioctl_call(0, "VIDIOC_STREAMOFF", {V4L2_BUF_TYPE_VIDEO_CAPTURE}),
      fd_call(CallKind::kClose, 0),
  };
  return p;
}

// Sub-device on a dup'ed fd, unbound from another thread; fault injection.
inline Program subdev_seed() {
  Program p;
  p.calls = {
      open_call(NodeKind::kSubdev, 1, 0),
      fd_call(CallKind::kDup, 0, 0),
      ioctl_call(1, "VIDIOC_SUBDEV_S_FMT", {V4L2_SUBDEV_FORMAT_ACTIVE, 0, 640, 480}, 1),
      dev_call(CallKind::kUnbind, 0, 2),
      fd_call(CallKind::kPoll, 1, 1),
      dev_call(CallKind::kBind, 0, 3),
      ioctl_call(0, "VIDIOC_SUBDEV_G_SELECTION", {V4L2_SUBDEV_FORMAT_TRY, 0, 0}, 0),
      fd_call(CallKind::kClose, 0),
      fd_call(CallKind::kClose, 1, 1),
  };
  p.calls[2].fail_nth = 2;
  return p;
}

// Hot-unplug with two files open on different nodes.
inline Program unplug_seed() {
  Program p;
  p.calls = {
      open_call(NodeKind::kMedia, 0, 0),
      open_call(NodeKind::kVideo, 1, 1),
      dev_call(CallKind::kUnplug, 0, 2),
      ioctl_call(0, "MEDIA_IOC_ENUM_LINKS", {1, 0x80, 0x180}),
      ioctl_call(1, "VIDIOC_G_FMT", {V4L2_BUF_TYPE_VIDEO_CAPTURE}, 1),
      dev_call(CallKind::kUnregisterDriver, 0, 3),
  };
  return p;
}

inline std::vector<Program> all_seeds() {
  return {media_seed(), video_seed(), subdev_seed(), unplug_seed(), Program{}};
}

// Calls using an fd whose fd is not an earlier fd-making call ("dangling").
inline int dangling_refs(const Program& p) {
  int n = 0;
  for (size_t i = 0; i < p.calls.size(); ++i) {
    const Call& c = p.calls[i];
    if (!call_uses_fd(c.kind) || c.fd < 0) continue;
    if (static_cast<size_t>(c.fd) >= i || !call_makes_fd(p.calls[c.fd].kind)) ++n;
  }
  return n;
}

}  // namespace mcf::fuzz::testing
