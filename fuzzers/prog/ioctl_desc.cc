// The ioctl table: see ioctl_desc.h. Numbers and layouts come from the UAPI
// headers themselves (offsetof on the real structs).
#include "fuzzers/prog/ioctl_desc.h"

#include <linux/media-bus-format.h>
#include <linux/media.h>
#include <linux/v4l2-subdev.h>
#include <linux/videodev2.h>

#include <cstddef>

namespace mcf::fuzz {
namespace {

// A kEnum / kFlags choice with its UAPI name.
struct Choice {
  uint64_t value;
  const char* name;
};
using Choices = std::vector<Choice>;
#define C(x) Choice{static_cast<uint64_t>(x), #x}

FieldDesc field(const char* name, size_t offset, size_t size, FieldType type,
                const Choices& choices = {}) {
  FieldDesc f{name, static_cast<uint16_t>(offset), static_cast<uint8_t>(size), type, {}, {}};
  for (const Choice& c : choices) {
    f.values.push_back(c.value);
    f.value_names.push_back(c.name);
  }
  return f;
}

#define F(S, member, type, ...) \
  field(#member, offsetof(S, member), sizeof(((S*)nullptr)->member), type __VA_OPT__(, ) __VA_ARGS__)

const Choices kBufTypes = {C(V4L2_BUF_TYPE_VIDEO_CAPTURE), C(V4L2_BUF_TYPE_VIDEO_OUTPUT),
                           C(V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE), C(V4L2_BUF_TYPE_META_CAPTURE),
                           Choice{0, nullptr}};
const Choices kMemory = {C(V4L2_MEMORY_MMAP), C(V4L2_MEMORY_USERPTR), C(V4L2_MEMORY_DMABUF)};
const Choices kPixFmts = {
    C(V4L2_PIX_FMT_RGB24),   C(V4L2_PIX_FMT_BGR24),   C(V4L2_PIX_FMT_GREY),
    C(V4L2_PIX_FMT_YUYV),    C(V4L2_PIX_FMT_UYVY),    C(V4L2_PIX_FMT_SBGGR8),
    C(V4L2_PIX_FMT_SGBRG8),  C(V4L2_PIX_FMT_SGRBG8),  C(V4L2_PIX_FMT_SRGGB8),
    C(V4L2_PIX_FMT_SBGGR10), C(V4L2_PIX_FMT_SGRBG10), C(V4L2_PIX_FMT_ARGB32)};
const Choices kFields = {C(V4L2_FIELD_ANY), C(V4L2_FIELD_NONE), C(V4L2_FIELD_INTERLACED)};
const Choices kMbusCodes = {
    C(MEDIA_BUS_FMT_RGB888_1X24),  C(MEDIA_BUS_FMT_BGR888_1X24),  C(MEDIA_BUS_FMT_SBGGR8_1X8),
    C(MEDIA_BUS_FMT_SGBRG8_1X8),   C(MEDIA_BUS_FMT_SGRBG8_1X8),   C(MEDIA_BUS_FMT_SRGGB8_1X8),
    C(MEDIA_BUS_FMT_SGRBG10_1X10), C(MEDIA_BUS_FMT_SBGGR10_1X10), C(MEDIA_BUS_FMT_YUYV8_2X8),
    C(MEDIA_BUS_FMT_UYVY8_2X8),    C(MEDIA_BUS_FMT_YUYV8_1X16),   C(MEDIA_BUS_FMT_Y8_1X8),
    C(MEDIA_BUS_FMT_FIXED)};
const Choices kWhich = {C(V4L2_SUBDEV_FORMAT_TRY), C(V4L2_SUBDEV_FORMAT_ACTIVE)};
const Choices kSelTargets = {C(V4L2_SEL_TGT_CROP), C(V4L2_SEL_TGT_CROP_DEFAULT),
                             C(V4L2_SEL_TGT_CROP_BOUNDS), C(V4L2_SEL_TGT_COMPOSE),
                             C(V4L2_SEL_TGT_COMPOSE_BOUNDS)};
const Choices kLinkFlags = {C(MEDIA_LNK_FL_ENABLED), C(MEDIA_LNK_FL_IMMUTABLE),
                            C(MEDIA_LNK_FL_DYNAMIC), C(MEDIA_LNK_FL_INTERFACE_LINK)};
const Choices kSelFlags = {C(V4L2_SEL_FLAG_GE), C(V4L2_SEL_FLAG_LE)};
#undef C

std::vector<IoctlDesc> build_table() {
  using FT = FieldType;
  std::vector<IoctlDesc> t;
  // <linux/media.h>
  t.push_back({"MEDIA_IOC_DEVICE_INFO", MEDIA_IOC_DEVICE_INFO, NodeKind::kMedia,
               sizeof(media_device_info), {}});
  t.push_back({"MEDIA_IOC_ENUM_ENTITIES", MEDIA_IOC_ENUM_ENTITIES, NodeKind::kMedia,
               sizeof(media_entity_desc), {F(media_entity_desc, id, FT::kEntityId)}});
  t.push_back({"MEDIA_IOC_ENUM_LINKS", MEDIA_IOC_ENUM_LINKS, NodeKind::kMedia,
               sizeof(media_links_enum),
               {F(media_links_enum, entity, FT::kEntityId), F(media_links_enum, pads, FT::kUserPtr),
                F(media_links_enum, links, FT::kUserPtr)}});
  t.push_back({"MEDIA_IOC_SETUP_LINK", MEDIA_IOC_SETUP_LINK, NodeKind::kMedia,
               sizeof(media_link_desc),
               {F(media_link_desc, source.entity, FT::kEntityId),
                F(media_link_desc, source.index, FT::kPadIndex),
                F(media_link_desc, sink.entity, FT::kEntityId),
                F(media_link_desc, sink.index, FT::kPadIndex),
                F(media_link_desc, flags, FT::kFlags, kLinkFlags)}});
  t.push_back({"MEDIA_IOC_G_TOPOLOGY", MEDIA_IOC_G_TOPOLOGY, NodeKind::kMedia,
               sizeof(media_v2_topology),
               {F(media_v2_topology, num_entities, FT::kCount),
                F(media_v2_topology, ptr_entities, FT::kUserPtr),
                F(media_v2_topology, num_interfaces, FT::kCount),
                F(media_v2_topology, ptr_interfaces, FT::kUserPtr),
                F(media_v2_topology, num_pads, FT::kCount),
                F(media_v2_topology, ptr_pads, FT::kUserPtr),
                F(media_v2_topology, num_links, FT::kCount),
                F(media_v2_topology, ptr_links, FT::kUserPtr)}});
  t.push_back({"MEDIA_IOC_REQUEST_ALLOC", MEDIA_IOC_REQUEST_ALLOC, NodeKind::kMedia, sizeof(int), {}});

  // <linux/videodev2.h>
  t.push_back({"VIDIOC_QUERYCAP", VIDIOC_QUERYCAP, NodeKind::kVideo, sizeof(v4l2_capability), {}});
  t.push_back({"VIDIOC_ENUM_FMT", VIDIOC_ENUM_FMT, NodeKind::kVideo, sizeof(v4l2_fmtdesc),
               {F(v4l2_fmtdesc, index, FT::kInt), F(v4l2_fmtdesc, type, FT::kEnum, kBufTypes),
                F(v4l2_fmtdesc, mbus_code, FT::kEnum, kMbusCodes)}});
  t.push_back({"VIDIOC_G_FMT", VIDIOC_G_FMT, NodeKind::kVideo, sizeof(v4l2_format),
               {F(v4l2_format, type, FT::kEnum, kBufTypes)}});
  for (auto [name, cmd] : {std::pair{"VIDIOC_S_FMT", VIDIOC_S_FMT},
                           std::pair{"VIDIOC_TRY_FMT", VIDIOC_TRY_FMT}}) {
    t.push_back({name, cmd, NodeKind::kVideo, sizeof(v4l2_format),
                 {F(v4l2_format, type, FT::kEnum, kBufTypes), F(v4l2_format, fmt.pix.width, FT::kInt),
                  F(v4l2_format, fmt.pix.height, FT::kInt),
                  F(v4l2_format, fmt.pix.pixelformat, FT::kEnum, kPixFmts),
                  F(v4l2_format, fmt.pix.field, FT::kEnum, kFields),
                  F(v4l2_format, fmt.pix.bytesperline, FT::kInt),
                  F(v4l2_format, fmt.pix.sizeimage, FT::kInt)}});
  }
  t.push_back({"VIDIOC_REQBUFS", VIDIOC_REQBUFS, NodeKind::kVideo, sizeof(v4l2_requestbuffers),
               {F(v4l2_requestbuffers, count, FT::kCount),
                F(v4l2_requestbuffers, type, FT::kEnum, kBufTypes),
                F(v4l2_requestbuffers, memory, FT::kEnum, kMemory)}});
  for (auto [name, cmd] : {std::pair{"VIDIOC_QUERYBUF", VIDIOC_QUERYBUF},
                           std::pair{"VIDIOC_QBUF", VIDIOC_QBUF},
                           std::pair{"VIDIOC_DQBUF", VIDIOC_DQBUF}}) {
    t.push_back({name, cmd, NodeKind::kVideo, sizeof(v4l2_buffer),
                 {F(v4l2_buffer, index, FT::kBufIndex), F(v4l2_buffer, type, FT::kEnum, kBufTypes),
                  F(v4l2_buffer, memory, FT::kEnum, kMemory)}});
  }
  for (auto [name, cmd] : {std::pair{"VIDIOC_STREAMON", VIDIOC_STREAMON},
                           std::pair{"VIDIOC_STREAMOFF", VIDIOC_STREAMOFF}}) {
    t.push_back({name, cmd, NodeKind::kVideo, sizeof(int),
                 {field("type", 0, sizeof(int), FT::kEnum, kBufTypes)}});
  }
  t.push_back({"VIDIOC_ENUMINPUT", VIDIOC_ENUMINPUT, NodeKind::kVideo, sizeof(v4l2_input),
               {F(v4l2_input, index, FT::kInt)}});
  t.push_back({"VIDIOC_G_INPUT", VIDIOC_G_INPUT, NodeKind::kVideo, sizeof(int), {}});
  t.push_back({"VIDIOC_S_INPUT", VIDIOC_S_INPUT, NodeKind::kVideo, sizeof(int),
               {field("input", 0, sizeof(int), FT::kInt)}});

  // <linux/v4l2-subdev.h>
  t.push_back({"VIDIOC_SUBDEV_QUERYCAP", VIDIOC_SUBDEV_QUERYCAP, NodeKind::kSubdev,
               sizeof(v4l2_subdev_capability), {}});
  t.push_back({"VIDIOC_SUBDEV_G_FMT", VIDIOC_SUBDEV_G_FMT, NodeKind::kSubdev,
               sizeof(v4l2_subdev_format),
               {F(v4l2_subdev_format, which, FT::kEnum, kWhich),
                F(v4l2_subdev_format, pad, FT::kPadIndex)}});
  t.push_back({"VIDIOC_SUBDEV_S_FMT", VIDIOC_SUBDEV_S_FMT, NodeKind::kSubdev,
               sizeof(v4l2_subdev_format),
               {F(v4l2_subdev_format, which, FT::kEnum, kWhich), F(v4l2_subdev_format, pad, FT::kPadIndex),
                F(v4l2_subdev_format, format.width, FT::kInt),
                F(v4l2_subdev_format, format.height, FT::kInt),
                F(v4l2_subdev_format, format.code, FT::kEnum, kMbusCodes),
                F(v4l2_subdev_format, format.field, FT::kEnum, kFields)}});
  t.push_back({"VIDIOC_SUBDEV_ENUM_MBUS_CODE", VIDIOC_SUBDEV_ENUM_MBUS_CODE, NodeKind::kSubdev,
               sizeof(v4l2_subdev_mbus_code_enum),
               {F(v4l2_subdev_mbus_code_enum, pad, FT::kPadIndex),
                F(v4l2_subdev_mbus_code_enum, index, FT::kInt),
                F(v4l2_subdev_mbus_code_enum, which, FT::kEnum, kWhich)}});
  t.push_back({"VIDIOC_SUBDEV_G_SELECTION", VIDIOC_SUBDEV_G_SELECTION, NodeKind::kSubdev,
               sizeof(v4l2_subdev_selection),
               {F(v4l2_subdev_selection, which, FT::kEnum, kWhich),
                F(v4l2_subdev_selection, pad, FT::kPadIndex),
                F(v4l2_subdev_selection, target, FT::kEnum, kSelTargets)}});
  t.push_back({"VIDIOC_SUBDEV_S_SELECTION", VIDIOC_SUBDEV_S_SELECTION, NodeKind::kSubdev,
               sizeof(v4l2_subdev_selection),
               {F(v4l2_subdev_selection, which, FT::kEnum, kWhich),
                F(v4l2_subdev_selection, pad, FT::kPadIndex),
                F(v4l2_subdev_selection, target, FT::kEnum, kSelTargets),
                F(v4l2_subdev_selection, flags, FT::kFlags, kSelFlags),
                F(v4l2_subdev_selection, r.left, FT::kInt), F(v4l2_subdev_selection, r.top, FT::kInt),
                F(v4l2_subdev_selection, r.width, FT::kInt),
                F(v4l2_subdev_selection, r.height, FT::kInt)}});
  return t;
}
#undef F

}  // namespace

const std::vector<IoctlDesc>& ioctl_table() {
  static const std::vector<IoctlDesc> table = build_table();
  return table;
}

int find_ioctl(const std::string& name) {
  const auto& t = ioctl_table();
  for (size_t i = 0; i < t.size(); ++i)
    if (name == t[i].name) return static_cast<int>(i);
  return -1;
}

}  // namespace mcf::fuzz
