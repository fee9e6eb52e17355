// Shared scaffolding of the omap3isp tests (tests/drivers/omap3isp_*_test.cc):
//  - Omap3ispTest: the "omap3isp" and "mcf-sensor" drivers registered, helpers
//    to add and remove ISP 0 and sensor 0 in any order, a process, node paths,
//    typed ioctl helpers for the media node, the sub-device nodes and the
//    video nodes; TearDown closes every fd, removes both devices and both
//    drivers and checks that every model object was released;
//  - the two pipelines of the streaming tests (sensor -> CSI2a -> CCDC ->
//    "CCDC output", and sensor -> CSI2a -> CCDC -> preview -> resizer ->
//    "resizer output") configured from user space the way media-ctl would:
//    SETUP_LINK, then S_FMT on each sub-device from the sensor downstream,
//    then S_FMT on the video node;
//  - a media_v2_topology reader (G_TOPOLOGY's two-call pattern).
#pragma once

#include <gtest/gtest.h>
#include <linux/media-bus-format.h>
#include <linux/media.h>
#include <linux/v4l2-subdev.h>
#include <linux/videodev2.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/fs/process.h"
#include "core/kernel/hw.h"
#include "core/kernel/platform.h"
#include "core/v4l2/v4l2_async.h"
#include "drivers/omap3isp/isp.h"
#include "drivers/omap3isp/mcf_sensor.h"
#include "drivers/omap3isp/omap3isp.h"
#include "tests/support/live_objects_check.h"
#include "tests/support/test_sensor_bridge.h"
#include "tests/support/test_video_driver.h"

namespace mcf::omap3isp_test {

using ::mcf::testing::alive_objects;
using ::mcf::testing::user_buf_ioctl;
using ::mcf::testing::user_ioctl;
using ::mcf::testing::user_reqbufs;
using ::mcf::testing::user_stream;

constexpr user_addr_t kArg = user_arena::kDefaultBase;  // the main thread's slot
constexpr user_addr_t kArrays = kArg + 0x10000;          // arrays handed to ioctls
constexpr size_t kArenaSize = 1 << 20;
// A slot per helper thread: kSlot(i) for i in 1..8.
constexpr user_addr_t kSlot(int i) { return kArg + 0x1000 * static_cast<user_addr_t>(i); }

// The frame the pipelines stream: small, so that buffers stay cheap.
constexpr uint32_t kWidth = 128;
constexpr uint32_t kHeight = 96;

// `ret` is one of `allowed`.
inline void expect_one_of(long ret, std::initializer_list<long> allowed, const char* what) {
  for (long a : allowed)
    if (ret == a) return;
  ADD_FAILURE() << what << " returned " << ret;
}

// Runs `body(iteration)` in a loop on its own thread until stopped.
class Looper {
 public:
  explicit Looper(std::function<void(int)> body) : body_(std::move(body)) {
    thread_ = std::thread([this] {
      for (int i = 0; !stop_.load(std::memory_order_acquire); ++i) {
        body_(i);
        iterations_.fetch_add(1, std::memory_order_release);
      }
    });
  }
  ~Looper() { stop(); }
  void wait_for(int n) {
    while (iterations_.load(std::memory_order_acquire) < n) std::this_thread::yield();
  }
  void stop() {
    stop_.store(true, std::memory_order_release);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::function<void(int)> body_;
  std::atomic<bool> stop_{false};
  std::atomic<int> iterations_{0};
  std::thread thread_;
};

// The topology as G_TOPOLOGY reports it.
struct Topology {
  std::vector<media_v2_entity> entities;
  std::vector<media_v2_interface> interfaces;
  std::vector<media_v2_pad> pads;
  std::vector<media_v2_link> links;
  uint64_t version = 0;

  const media_v2_entity* entity(const std::string& name) const {
    for (const auto& e : entities)
      if (name == e.name) return &e;
    return nullptr;
  }
  const media_v2_entity* entity_by_id(uint32_t id) const {
    for (const auto& e : entities)
      if (e.id == id) return &e;
    return nullptr;
  }
  // The pads of entity `id`, by index.
  std::vector<media_v2_pad> pads_of(uint32_t id) const {
    std::vector<media_v2_pad> out;
    for (const auto& p : pads)
      if (p.entity_id == id) out.push_back(p);
    std::sort(out.begin(), out.end(),
              [](const media_v2_pad& a, const media_v2_pad& b) { return a.index < b.index; });
    return out;
  }
  const media_v2_pad* pad_by_id(uint32_t id) const {
    for (const auto& p : pads)
      if (p.id == id) return &p;
    return nullptr;
  }
  // "source:pad->sink:pad" of every data link, with its flags.
  std::vector<std::pair<std::string, uint32_t>> data_links() const {
    std::vector<std::pair<std::string, uint32_t>> out;
    for (const auto& l : links) {
      if ((l.flags & MEDIA_LNK_FL_LINK_TYPE) != MEDIA_LNK_FL_DATA_LINK) continue;
      const media_v2_pad* src = pad_by_id(l.source_id);
      const media_v2_pad* dst = pad_by_id(l.sink_id);
      if (src == nullptr || dst == nullptr) continue;
      out.emplace_back(std::string(entity_by_id(src->entity_id)->name) + ":" +
                           std::to_string(src->index) + "->" +
                           entity_by_id(dst->entity_id)->name + ":" + std::to_string(dst->index),
                       l.flags & ~MEDIA_LNK_FL_LINK_TYPE);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

class Omap3ispTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    ASSERT_EQ(alive_objects(), "");
    ASSERT_EQ(omap3isp_driver_register(), 0);
    ASSERT_EQ(mcf_sensor_driver_register(), 0);
  }

  void TearDown() override {
    proc_.close_all();
    remove_sensor();
    remove_isp();
    mcf_sensor_driver_unregister();
    omap3isp_driver_unregister();
    EXPECT_EQ(v4l2_async_waiting_subdev_count(), 0u);
    EXPECT_EQ(v4l2_async_notifier_count(), 0u);
    EXPECT_EQ(alive_objects(), "");
  }

  // --- Devices.
  void add_isp() {
    isp_pdev_ = omap3isp_device_add(0);
    ASSERT_NE(isp_pdev_, nullptr);
    ASSERT_NE(isp(), nullptr);
  }
  void add_sensor() {
    sensor_pdev_ = mcf_sensor_device_add(0);
    ASSERT_NE(sensor_pdev_, nullptr);
    ASSERT_NE(sensor(), nullptr);
  }
  // Both, sensor first; the ISP completes at its probe.
  void bind_both() {
    add_sensor();
    add_isp();
    ASSERT_EQ(isp()->complete_calls.load(), 1);
    ASSERT_NE(media_path(), "");
  }
  void remove_isp() {
    if (isp_pdev_ == nullptr) return;
    platform_device_unregister(isp_pdev_);
    isp_pdev_ = nullptr;
  }
  void remove_sensor() {
    if (sensor_pdev_ == nullptr) return;
    platform_device_unregister(sensor_pdev_);
    sensor_pdev_ = nullptr;
  }
  isp_device* isp() {
    return isp_pdev_ ? static_cast<isp_device*>(platform_get_drvdata(isp_pdev_)) : nullptr;
  }
  mcf_sensor* sensor() { return sensor_pdev_ ? mcf_sensor_drvdata(sensor_pdev_) : nullptr; }

  // --- Node paths ("" when the node is not registered).
  std::string media_path() { return ::mcf::testing::media_node_path(&isp()->media_dev); }
  static std::string video_path(isp_video* video) {
    return video_is_registered(&video->video) ? "/dev/" + video->video.dev.name : "";
  }
  static std::string subdev_path(v4l2_subdev* sd) { return ::mcf::testing::subdev_node_path(sd); }

  int open_path(const std::string& path, unsigned flags = O_RDWR_) {
    return proc_.open(path, flags);
  }

  template <typename T>
  long ioctl(int fd, unsigned long cmd, T* arg, user_addr_t at = kArg) {
    return user_ioctl(proc_, fd, cmd, arg, at);
  }

  // --- Media node.
  long setup_link(int mfd, media_entity* source, uint16_t source_pad, media_entity* sink,
                  uint16_t sink_pad, uint32_t flags) {
    media_link_desc l = {};
    l.source.entity = media_entity_id(source);
    l.source.index = source_pad;
    l.sink.entity = media_entity_id(sink);
    l.sink.index = sink_pad;
    l.flags = flags;
    return ioctl(mfd, MEDIA_IOC_SETUP_LINK, &l);
  }

  // G_TOPOLOGY twice: counts, then arrays.
  Topology topology(int mfd) {
    Topology t;
    media_v2_topology topo = {};
    EXPECT_EQ(ioctl(mfd, MEDIA_IOC_G_TOPOLOGY, &topo), 0);
    t.entities.resize(topo.num_entities);
    t.interfaces.resize(topo.num_interfaces);
    t.pads.resize(topo.num_pads);
    t.links.resize(topo.num_links);
    user_addr_t at = kArrays;
    auto place = [&at](size_t bytes) {
      user_addr_t p = at;
      at += (bytes + 63) & ~size_t{63};
      return p;
    };
    user_addr_t pe = place(t.entities.size() * sizeof(media_v2_entity));
    user_addr_t pi = place(t.interfaces.size() * sizeof(media_v2_interface));
    user_addr_t pp = place(t.pads.size() * sizeof(media_v2_pad));
    user_addr_t pl = place(t.links.size() * sizeof(media_v2_link));
    topo.ptr_entities = pe;
    topo.ptr_interfaces = pi;
    topo.ptr_pads = pp;
    topo.ptr_links = pl;
    EXPECT_EQ(ioctl(mfd, MEDIA_IOC_G_TOPOLOGY, &topo), 0);
    proc_.mem().read(pe, t.entities.data(), t.entities.size() * sizeof(media_v2_entity));
    proc_.mem().read(pi, t.interfaces.data(), t.interfaces.size() * sizeof(media_v2_interface));
    proc_.mem().read(pp, t.pads.data(), t.pads.size() * sizeof(media_v2_pad));
    proc_.mem().read(pl, t.links.data(), t.links.size() * sizeof(media_v2_link));
    t.version = topo.topology_version;
    return t;
  }

  // --- Sub-device nodes.
  long subdev_s_fmt(int fd, uint32_t pad, v4l2_mbus_framefmt* fmt,
                    uint32_t which = V4L2_SUBDEV_FORMAT_ACTIVE, user_addr_t at = kArg) {
    v4l2_subdev_format f = {};
    f.which = which;
    f.pad = pad;
    f.format = *fmt;
    long ret = ioctl(fd, VIDIOC_SUBDEV_S_FMT, &f, at);
    *fmt = f.format;
    return ret;
  }
  long subdev_g_fmt(int fd, uint32_t pad, v4l2_mbus_framefmt* fmt,
                    uint32_t which = V4L2_SUBDEV_FORMAT_ACTIVE, user_addr_t at = kArg) {
    v4l2_subdev_format f = {};
    f.which = which;
    f.pad = pad;
    long ret = ioctl(fd, VIDIOC_SUBDEV_G_FMT, &f, at);
    *fmt = f.format;
    return ret;
  }
  long subdev_s_crop(int fd, uint32_t pad, v4l2_rect r) {
    v4l2_subdev_selection s = {};
    s.which = V4L2_SUBDEV_FORMAT_ACTIVE;
    s.pad = pad;
    s.target = V4L2_SEL_TGT_CROP;
    s.r = r;
    return ioctl(fd, VIDIOC_SUBDEV_S_SELECTION, &s);
  }

  // --- Video nodes.
  long video_s_fmt(int fd, const v4l2_mbus_framefmt& mbus, v4l2_pix_format* out = nullptr) {
    const isp_format_info* info = omap3isp_video_format_info(mbus.code);
    v4l2_format f = {};
    f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    f.fmt.pix.width = mbus.width;
    f.fmt.pix.height = mbus.height;
    f.fmt.pix.pixelformat = info != nullptr ? info->pixelformat : 0;
    f.fmt.pix.field = V4L2_FIELD_NONE;
    f.fmt.pix.colorspace = mbus.colorspace;
    long ret = ioctl(fd, VIDIOC_S_FMT, &f);
    if (out != nullptr) *out = f.fmt.pix;
    return ret;
  }

  // The pipelines. Each opens what it needs (kept open in the test's
  // process) and returns the capture node's fd, or -1 with a failure.
  struct Pipeline {
    int media = -1, sensor = -1, csi2 = -1, ccdc = -1, prev = -1, res = -1, video = -1;
    v4l2_mbus_framefmt out = {};  // the bus format reaching the video node
    v4l2_pix_format pix = {};     // the video node's format
  };

  // sensor (crop kWidth x kHeight) -> CSI2a sink; returns the CSI2a source.
  void configure_sensor_csi2(Pipeline* p, v4l2_mbus_framefmt* csi2_out) {
    isp_device* d = isp();
    p->media = open_path(media_path());
    p->sensor = open_path(subdev_path(&sensor()->sd));
    p->csi2 = open_path(subdev_path(&d->isp_csi2a.subdev));
    ASSERT_GE(p->media, 0);
    ASSERT_GE(p->sensor, 0);
    ASSERT_GE(p->csi2, 0);
    ASSERT_EQ(subdev_s_crop(p->sensor, 0, {0, 0, kWidth, kHeight}), 0);
    v4l2_mbus_framefmt fmt = {};
    fmt.code = MEDIA_BUS_FMT_SGRBG10_1X10;
    fmt.width = kWidth;
    fmt.height = kHeight;
    ASSERT_EQ(subdev_s_fmt(p->sensor, 0, &fmt), 0);
    ASSERT_EQ(fmt.width, kWidth);
    ASSERT_EQ(subdev_s_fmt(p->csi2, CSI2_PAD_SINK, &fmt), 0);
    ASSERT_EQ(subdev_g_fmt(p->csi2, CSI2_PAD_SOURCE, csi2_out), 0);
    ASSERT_EQ(setup_link(p->media, &d->isp_csi2a.subdev.entity, CSI2_PAD_SOURCE,
                         &d->isp_ccdc.subdev.entity, CCDC_PAD_SINK, MEDIA_LNK_FL_ENABLED),
              0);
  }

  // sensor -> CSI2a -> CCDC -> "OMAP3 ISP CCDC output"; the video node is
  // opened with `video_flags`.
  Pipeline ccdc_pipeline(unsigned video_flags = O_RDWR_) {
    Pipeline p;
    isp_device* d = isp();
    v4l2_mbus_framefmt fmt = {};
    configure_sensor_csi2(&p, &fmt);
    if (::testing::Test::HasFatalFailure()) return p;
    p.ccdc = open_path(subdev_path(&d->isp_ccdc.subdev));
    EXPECT_GE(p.ccdc, 0);
    EXPECT_EQ(setup_link(p.media, &d->isp_ccdc.subdev.entity, CCDC_PAD_SOURCE_OF,
                         &d->isp_ccdc.video_out.video.entity, 0, MEDIA_LNK_FL_ENABLED),
              0);
    EXPECT_EQ(subdev_s_fmt(p.ccdc, CCDC_PAD_SINK, &fmt), 0);
    EXPECT_EQ(subdev_g_fmt(p.ccdc, CCDC_PAD_SOURCE_OF, &p.out), 0);
    p.video = open_path(video_path(&d->isp_ccdc.video_out), video_flags);
    EXPECT_GE(p.video, 0);
    EXPECT_EQ(video_s_fmt(p.video, p.out, &p.pix), 0);
    return p;
  }

  // sensor -> CSI2a -> CCDC (VP) -> preview -> resizer -> "OMAP3 ISP resizer
  // output", scaled to out_w x out_h.
  Pipeline resizer_pipeline(uint32_t out_w = 64, uint32_t out_h = 48) {
    Pipeline p;
    isp_device* d = isp();
    v4l2_mbus_framefmt fmt = {};
    configure_sensor_csi2(&p, &fmt);
    if (::testing::Test::HasFatalFailure()) return p;
    p.ccdc = open_path(subdev_path(&d->isp_ccdc.subdev));
    p.prev = open_path(subdev_path(&d->isp_prev.subdev));
    p.res = open_path(subdev_path(&d->isp_res.subdev));
    EXPECT_GE(p.ccdc, 0);
    EXPECT_GE(p.prev, 0);
    EXPECT_GE(p.res, 0);
    EXPECT_EQ(setup_link(p.media, &d->isp_ccdc.subdev.entity, CCDC_PAD_SOURCE_VP,
                         &d->isp_prev.subdev.entity, PREV_PAD_SINK, MEDIA_LNK_FL_ENABLED),
              0);
    EXPECT_EQ(setup_link(p.media, &d->isp_prev.subdev.entity, PREV_PAD_SOURCE,
                         &d->isp_res.subdev.entity, RESZ_PAD_SINK, MEDIA_LNK_FL_ENABLED),
              0);
    EXPECT_EQ(setup_link(p.media, &d->isp_res.subdev.entity, RESZ_PAD_SOURCE,
                         &d->isp_res.video_out.video.entity, 0, MEDIA_LNK_FL_ENABLED),
              0);
    EXPECT_EQ(subdev_s_fmt(p.ccdc, CCDC_PAD_SINK, &fmt), 0);
    EXPECT_EQ(subdev_g_fmt(p.ccdc, CCDC_PAD_SOURCE_VP, &fmt), 0);
    EXPECT_EQ(subdev_s_fmt(p.prev, PREV_PAD_SINK, &fmt), 0);
    EXPECT_EQ(subdev_g_fmt(p.prev, PREV_PAD_SOURCE, &fmt), 0);
    EXPECT_EQ(subdev_s_fmt(p.res, RESZ_PAD_SINK, &fmt), 0);
    fmt.width = out_w;
    fmt.height = out_h;
    EXPECT_EQ(subdev_s_fmt(p.res, RESZ_PAD_SOURCE, &fmt), 0);
    p.out = fmt;
    p.video = open_path(video_path(&d->isp_res.video_out));
    EXPECT_GE(p.video, 0);
    EXPECT_EQ(video_s_fmt(p.video, p.out, &p.pix), 0);
    return p;
  }

  // REQBUFS(n), QBUF of every buffer, STREAMON.
  long start_capture(int fd, unsigned n, user_addr_t at = kArg) {
    long ret = user_reqbufs(proc_, fd, n, at);
    if (ret != 0) return ret;
    for (unsigned i = 0; i < n; ++i) {
      ret = user_buf_ioctl(proc_, fd, VIDIOC_QBUF, i, nullptr, at);
      if (ret != 0) return ret;
    }
    return user_stream(proc_, fd, VIDIOC_STREAMON, at);
  }

  unsigned isp_irq() { return static_cast<unsigned>(isp()->irq); }

  process proc_{kArenaSize};
  platform_device* isp_pdev_ = nullptr;
  platform_device* sensor_pdev_ = nullptr;
};

}  // namespace mcf::omap3isp_test
