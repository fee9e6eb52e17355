// Shared scaffolding of the vimc tests (tests/drivers/vimc_*_test.cc):
//  - VimcTest: the vimc driver registered and the device "vimc.0" bound, a
//    process, the device's nodes by entity name, typed ioctl helpers for the
//    media node, the sub-device nodes and the capture nodes;
//  - the format configurations under which the captures can stream (with
//    upstream's defaults none can: the sensors' RGB888_1X24 does not match
//    the debayers' SRGGB8_1X8, and media_pipeline_start validates every
//    enabled link of the connected component);
//  - the expected content of a frame, written from the colour bar table
//    here, not from the driver's code.
// TearDown closes every fd, removes the device and the driver and checks
// that every model object was released.
#pragma once

#include <gtest/gtest.h>
#include <linux/media-bus-format.h>
#include <linux/media.h>
#include <linux/v4l2-subdev.h>
#include <linux/videodev2.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/fs/process.h"
#include "core/kernel/devtmpfs.h"
#include "core/kernel/platform.h"
#include "core/v4l2/videobuf2.h"
#include "drivers/vimc/vimc.h"
#include "tests/support/live_objects_check.h"
#include "tests/support/test_video_driver.h"

namespace mcf::vimctest {

using ::mcf::testing::alive_objects;
using ::mcf::testing::user_buf_ioctl;
using ::mcf::testing::user_ioctl;
using ::mcf::testing::user_reqbufs;
using ::mcf::testing::user_stream;

constexpr user_addr_t kArg = user_arena::kDefaultBase;  // one ioctl's struct
constexpr user_addr_t kArgB = kArg + 0x1000;             // a second thread's
constexpr user_addr_t kArrays = kArg + 0x10000;           // arrays handed to ioctls

// Entity names, in registration order.
inline const std::vector<std::string>& vimc_entity_names() {
  static const std::vector<std::string> names = {
      "Sensor A",      "Sensor B", "Debayer A",       "Debayer B", "Raw Capture 0", "Raw Capture 1",
      "RGB/YUV Input", "Scaler",   "RGB/YUV Capture", "Lens A",    "Lens B"};
  return names;
}
// Capture entities in video node order, sub-devices in sub-device node order.
inline const std::vector<std::string>& vimc_capture_names() {
  static const std::vector<std::string> names = {"Raw Capture 0", "Raw Capture 1",
                                                 "RGB/YUV Capture"};
  return names;
}
inline const std::vector<std::string>& vimc_subdev_names() {
  static const std::vector<std::string> names = {"Sensor A",      "Sensor B", "Debayer A",
                                                 "Debayer B",     "RGB/YUV Input",
                                                 "Scaler",        "Lens A",   "Lens B"};
  return names;
}

// The 75% colour bars, left to right, as the sensors' documentation says.
struct rgb {
  uint8_t r, g, b;
};
constexpr rgb kBars[8] = {{191, 191, 191}, {191, 191, 0}, {0, 191, 191}, {0, 191, 0},
                          {191, 0, 191},   {191, 0, 0},   {0, 0, 191},   {0, 0, 0}};
inline rgb bar_color(unsigned x, unsigned width, uint64_t tick) {
  return kBars[(uint64_t{x} * 8 / width + tick) % 8];
}
// The tick of a frame, from its time stamp.
inline uint64_t frame_tick(const v4l2_buffer& b) {
  uint64_t ns = uint64_t(b.timestamp.tv_sec) * 1000000000ull + uint64_t(b.timestamp.tv_usec) * 1000;
  return (ns + kVimcFramePeriodNs / 2) / kVimcFramePeriodNs;
}

class VimcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(alive_objects(), "");
    ASSERT_EQ(vimc_driver_register(), 0);
    ASSERT_NO_FATAL_FAILURE(add_device(0));
  }

  void TearDown() override {
    proc_.close_all();
    remove_device();
    vimc_driver_unregister();
    EXPECT_EQ(alive_objects(), "");
  }

  // Adds "vimc.<id>" and looks up its nodes.
  void add_device(int id) {
    pdev_ = vimc_device_add(id);
    ASSERT_NE(pdev_, nullptr);
    dev_name_ = pdev_->dev.name;
    ASSERT_NE(vimc_drvdata(pdev_), nullptr);
    ASSERT_NO_FATAL_FAILURE(find_nodes());
  }

  void find_nodes() {
    std::vector<std::string> media = devtmpfs_nodes_of(dev_name_, "media");
    ASSERT_EQ(media.size(), 1u);
    media_path_ = media[0];
    std::vector<std::string> videos = devtmpfs_nodes_of(dev_name_, "video");
    std::vector<std::string> subdevs = devtmpfs_nodes_of(dev_name_, "v4l-subdev");
    ASSERT_EQ(videos.size(), vimc_capture_names().size());
    ASSERT_EQ(subdevs.size(), vimc_subdev_names().size());
    node_.clear();
    for (size_t i = 0; i < videos.size(); ++i) node_[vimc_capture_names()[i]] = videos[i];
    for (size_t i = 0; i < subdevs.size(); ++i) node_[vimc_subdev_names()[i]] = subdevs[i];
  }

  // Unbinds and unregisters the platform device (no-op once done).
  void remove_device() {
    if (pdev_ == nullptr) return;
    platform_device_unregister(pdev_);
    pdev_ = nullptr;
  }

  int open_node(const std::string& entity, unsigned flags = O_RDWR_) {
    return proc_.open(node_.at(entity), flags);
  }
  int open_media() { return proc_.open(media_path_, O_RDWR_); }

  vb2_queue* queue(const std::string& capture) {
    return vimc_capture_queue(vimc_drvdata(pdev_), capture.c_str());
  }

  // --- Media node.

  // ENUM_ENTITIES id of `name`, or 0.
  uint32_t entity_id(int media_fd, const std::string& name) {
    for (uint32_t id = 0;;) {
      media_entity_desc d = {};
      d.id = id | MEDIA_ENT_ID_FLAG_NEXT;
      if (user_ioctl(proc_, media_fd, MEDIA_IOC_ENUM_ENTITIES, &d, kArg) != 0) return 0;
      if (name == d.name) return d.id;
      id = d.id;
    }
  }

  long setup_link(int media_fd, const std::string& src, uint16_t src_pad, const std::string& sink,
                  uint16_t sink_pad, uint32_t flags) {
    media_link_desc l = {};
    l.source.entity = entity_id(media_fd, src);
    l.source.index = src_pad;
    l.sink.entity = entity_id(media_fd, sink);
    l.sink.index = sink_pad;
    l.flags = flags;
    return user_ioctl(proc_, media_fd, MEDIA_IOC_SETUP_LINK, &l, kArg);
  }

  // The flags of the data link src:src_pad -> sink:sink_pad, or -1.
  long link_flags(int media_fd, const std::string& src, uint16_t src_pad, const std::string& sink,
                  uint16_t sink_pad) {
    uint32_t src_id = entity_id(media_fd, src), sink_id = entity_id(media_fd, sink);
    media_entity_desc d = {};
    d.id = src_id;
    if (user_ioctl(proc_, media_fd, MEDIA_IOC_ENUM_ENTITIES, &d, kArg) != 0) return -1;
    media_links_enum le = {};
    le.entity = src_id;
    le.links = reinterpret_cast<media_link_desc*>(static_cast<uintptr_t>(kArrays));
    if (user_ioctl(proc_, media_fd, MEDIA_IOC_ENUM_LINKS, &le, kArg) != 0) return -1;
    std::vector<media_link_desc> links(d.links);
    proc_.mem().read(kArrays, links.data(), links.size() * sizeof(media_link_desc));
    for (const media_link_desc& l : links)
      if (l.source.index == src_pad && l.sink.entity == sink_id && l.sink.index == sink_pad)
        return l.flags;
    return -1;
  }

  // --- Sub-device nodes.

  long subdev_set_fmt(const std::string& entity, uint32_t pad, uint32_t code, uint32_t width,
                      uint32_t height, v4l2_mbus_framefmt* out = nullptr) {
    int fd = open_node(entity);
    if (fd < 0) return fd;
    v4l2_subdev_format f = {};
    f.which = V4L2_SUBDEV_FORMAT_ACTIVE;
    f.pad = pad;
    f.format.code = code;
    f.format.width = width;
    f.format.height = height;
    f.format.field = V4L2_FIELD_NONE;
    f.format.colorspace = V4L2_COLORSPACE_SRGB;
    long ret = user_ioctl(proc_, fd, VIDIOC_SUBDEV_S_FMT, &f, kArg);
    if (out != nullptr) *out = f.format;
    proc_.close(fd);
    return ret;
  }

  long subdev_get_fmt(const std::string& entity, uint32_t pad, v4l2_mbus_framefmt* out) {
    int fd = open_node(entity);
    if (fd < 0) return fd;
    v4l2_subdev_format f = {};
    f.which = V4L2_SUBDEV_FORMAT_ACTIVE;
    f.pad = pad;
    long ret = user_ioctl(proc_, fd, VIDIOC_SUBDEV_G_FMT, &f, kArg);
    *out = f.format;
    proc_.close(fd);
    return ret;
  }

  // --- Capture nodes.

  long capture_s_fmt(int fd, uint32_t pixelformat, uint32_t width, uint32_t height,
                     v4l2_pix_format* out = nullptr) {
    v4l2_format f = {};
    f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    f.fmt.pix.pixelformat = pixelformat;
    f.fmt.pix.width = width;
    f.fmt.pix.height = height;
    f.fmt.pix.field = V4L2_FIELD_NONE;
    f.fmt.pix.colorspace = V4L2_COLORSPACE_SRGB;
    long ret = user_ioctl(proc_, fd, VIDIOC_S_FMT, &f, kArg);
    if (out != nullptr) *out = f.fmt.pix;
    return ret;
  }
  long capture_s_fmt(const std::string& capture, uint32_t pixelformat, uint32_t width,
                     uint32_t height) {
    int fd = open_node(capture);
    if (fd < 0) return fd;
    long ret = capture_s_fmt(fd, pixelformat, width, height);
    proc_.close(fd);
    return ret;
  }

  // REQBUFS(n), QBUF of every buffer, STREAMON. Returns STREAMON's result.
  long start_capture(int fd, unsigned n, user_addr_t at = kArg) {
    if (long ret = user_reqbufs(proc_, fd, n, at); ret != 0) return ret;
    for (unsigned i = 0; i < n; ++i)
      if (long ret = user_buf_ioctl(proc_, fd, VIDIOC_QBUF, i, nullptr, at); ret != 0) return ret;
    return user_stream(proc_, fd, VIDIOC_STREAMON, at);
  }

  // The frame timer: `n` interrupts on line 0.
  void fire(int n = 1) {
    unsigned irq = static_cast<unsigned>(platform_get_irq(pdev_, 0));
    for (int i = 0; i < n; ++i) ASSERT_EQ(irq_fire(irq), 1);
  }

  // Payload of dequeued buffer `index` of `capture`.
  const uint8_t* payload(const std::string& capture, unsigned index) {
    return static_cast<const uint8_t*>(vb2_plane_vaddr(queue(capture)->bufs[index], 0));
  }

  // Every capture streams: both sensors give what the debayers take by
  // default, the raw captures take that too. Sizes: `w` x `h` everywhere.
  void configure_all(uint32_t w = 640, uint32_t h = 480) {
    for (const char* sensor : {"Sensor A", "Sensor B"})
      ASSERT_EQ(subdev_set_fmt(sensor, 0, MEDIA_BUS_FMT_SRGGB8_1X8, w, h), 0);
    for (const char* debayer : {"Debayer A", "Debayer B"})
      ASSERT_EQ(subdev_set_fmt(debayer, 0, MEDIA_BUS_FMT_SRGGB8_1X8, w, h), 0);
    ASSERT_EQ(subdev_set_fmt("RGB/YUV Input", 0, MEDIA_BUS_FMT_RGB888_1X24, w, h), 0);
    ASSERT_EQ(subdev_set_fmt("Scaler", 0, MEDIA_BUS_FMT_RGB888_1X24, w, h), 0);
    for (const char* raw : {"Raw Capture 0", "Raw Capture 1"})
      ASSERT_EQ(capture_s_fmt(raw, V4L2_PIX_FMT_SRGGB8, w, h), 0);
    ASSERT_EQ(capture_s_fmt("RGB/YUV Capture", V4L2_PIX_FMT_RGB24, w, h), 0);
  }

  process proc_;
  platform_device* pdev_ = nullptr;
  std::string dev_name_;
  std::string media_path_;
  std::map<std::string, std::string> node_;  // entity name -> /dev path
};

}  // namespace mcf::vimctest
