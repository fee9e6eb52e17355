// omap3isp lifetime: every removal order, with a thread asleep in DQBUF, an
// ioctl in flight on another thread and files open on the sub-device nodes
// (or on every node): no report (a report aborts the test), every call on a
// removed node refused with upstream's codes (R12), the sensor stopped by the
// ISP's unbind before it goes (R16), no interrupt reaching a removed ISP
// (R15), nothing left once the files are closed (R8, R9), and re-probe of
// either side working afterwards. Then the probes failing at every failure
// point, unwinding cleanly.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "tests/support/fail_at.h"
#include "core/kernel/live_objects.h"
#include "tests/drivers/omap3isp_test_util.h"
#include "tests/support/hook_recorder.h"

namespace mcf::omap3isp_test {
namespace {

using ::mcf::testing::HookRecorder;

class Omap3ispLifetimeTest : public Omap3ispTest {
 protected:
  struct Node {
    int fd;
    enum { kMedia, kVideo, kSubdev } kind;
    std::string path;
  };

  // Opens /dev/mediaN, the 7 video nodes and the 9 sub-device nodes.
  std::vector<Node> open_every_node() {
    std::vector<Node> nodes;
    isp_device* d = isp();
    auto add = [&](const std::string& path, decltype(Node::kind) kind) {
      ASSERT_NE(path, "");
      int fd = open_path(path);
      ASSERT_GE(fd, 0) << path;
      nodes.push_back({fd, kind, path});
    };
    add(media_path(), Node::kMedia);
    for (isp_video* v : {&d->isp_ccp2.video_in, &d->isp_csi2a.video_out, &d->isp_ccdc.video_out,
                         &d->isp_prev.video_in, &d->isp_prev.video_out, &d->isp_res.video_in,
                         &d->isp_res.video_out})
      add(video_path(v), Node::kVideo);
    for (v4l2_subdev* sd : {&d->isp_ccp2.subdev, &d->isp_csi2a.subdev, &d->isp_ccdc.subdev,
                            &d->isp_prev.subdev, &d->isp_res.subdev, &d->isp_aewb.subdev,
                            &d->isp_af.subdev, &d->isp_hist.subdev, &sensor()->sd})
      add(subdev_path(sd), Node::kSubdev);
    EXPECT_EQ(nodes.size(), 17u);
    return nodes;
  }

  // Every node of a removed device refuses its calls (R12).
  void expect_refused(const std::vector<Node>& nodes) {
    for (const Node& n : nodes) {
      SCOPED_TRACE(n.path);
      switch (n.kind) {
        case Node::kMedia: {
          media_device_info info = {};
          EXPECT_EQ(ioctl(n.fd, MEDIA_IOC_DEVICE_INFO, &info), -EIO);
          break;
        }
        case Node::kVideo: {
          v4l2_capability cap = {};
          EXPECT_EQ(ioctl(n.fd, VIDIOC_QUERYCAP, &cap), -ENODEV);
          EXPECT_EQ(proc_.poll(n.fd, EPOLLIN, false) & EPOLLERR, EPOLLERR);
          break;
        }
        case Node::kSubdev: {
          v4l2_mbus_framefmt f;
          EXPECT_EQ(subdev_g_fmt(n.fd, 0, &f), -ENODEV);
          break;
        }
      }
    }
  }

  // A DQBUF asleep on `fd` (its result lands in *ret / *buf).
  std::thread sleep_in_dqbuf(int fd, long* ret, v4l2_buffer* buf) {
    HookRecorder rec;
    std::thread t([this, fd, ret, buf] {
      *ret = user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, buf, kSlot(1));
    });
    rec.wait_for(HookKind::kWaitSleep, "vb2_queue.done_wq", 1);
    return t;
  }

  // Sub-device G_FMT in a loop on `fd`; counts -ENODEV answers.
  std::function<void(int)> subdev_loop(int fd, user_addr_t slot, std::atomic<int>* enodev) {
    return [this, fd, slot, enodev](int i) {
      v4l2_subdev_format f = {};
      f.which = i % 2 ? V4L2_SUBDEV_FORMAT_TRY : V4L2_SUBDEV_FORMAT_ACTIVE;
      long ret = user_ioctl(proc_, fd, VIDIOC_SUBDEV_G_FMT, &f, slot);
      expect_one_of(ret, {0, -ENODEV}, "sub-device G_FMT");
      if (ret == -ENODEV) enodev->fetch_add(1);
    };
  }

  // Streams a few frames through the CCDC output pipeline (a new pipeline
  // on fresh fds) and stops.
  void stream_some_frames() {
    Pipeline p = ccdc_pipeline();
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_EQ(start_capture(p.video, 2), 0);
    ASSERT_EQ(irq_fire(isp_irq()), 1);
    v4l2_buffer b = {};
    ASSERT_EQ(user_buf_ioctl(proc_, p.video, VIDIOC_DQBUF, 0, &b), 0);
    EXPECT_EQ(b.flags & V4L2_BUF_FLAG_ERROR, 0u);
    EXPECT_EQ(b.sequence, 0u);
    ASSERT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMOFF), 0);
    EXPECT_EQ(sensor()->streaming.load(), 0);
  }
};

// The sensor leaves while the ISP streams from it. The ISP's unbind stops it
// (while it may still be called) and forgets it; the stream's buffers come
// back in error, the sleeper with them; the sensor's node refuses its calls;
// the ISP is untouched. The sensor comes back and streams again.
TEST_F(Omap3ispLifetimeTest, SensorRemovedWhileStreaming) {
  bind_both();
  isp_device* d = isp();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(start_capture(p.video, 2), 0);
  long ret = 1;
  v4l2_buffer b = {};
  std::thread sleeper = sleep_in_dqbuf(p.video, &ret, &b);
  std::atomic<int> sensor_enodev{0}, ccdc_enodev{0};
  {
    Looper t1(subdev_loop(p.sensor, kSlot(2), &sensor_enodev));
    Looper t2(subdev_loop(p.ccdc, kSlot(3), &ccdc_enodev));
    t1.wait_for(20);
    t2.wait_for(20);
    remove_sensor();
    sleeper.join();
    while (sensor_enodev.load() < 5) std::this_thread::yield();
    t2.wait_for(100);
  }
  EXPECT_EQ(ccdc_enodev.load(), 0);  // the ISP is still there
  EXPECT_EQ(ret, 0);
  EXPECT_NE(b.flags & V4L2_BUF_FLAG_ERROR, 0u);  // cancelled, not a frame
  EXPECT_EQ(d->unbind_calls.load(), 1);
  // The other buffer came back in error too; new ones are refused until
  // STREAMOFF (upstream's buf_prepare on a cancelled node: -EIO).
  v4l2_buffer b2 = {};
  ASSERT_EQ(user_buf_ioctl(proc_, p.video, VIDIOC_DQBUF, 0, &b2), 0);
  EXPECT_NE(b2.flags & V4L2_BUF_FLAG_ERROR, 0u);
  EXPECT_EQ(user_buf_ioctl(proc_, p.video, VIDIOC_QBUF, b2.index), -EIO);
  EXPECT_EQ(irq_fire(isp_irq()), 1);  // nothing runs, nothing completes
  EXPECT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMOFF), 0);
  EXPECT_EQ(user_buf_ioctl(proc_, p.video, VIDIOC_QBUF, b2.index), 0);
  // The sensor struct stays while its node is open, and goes at close.
  EXPECT_EQ(live_objects_count("mcf_sensor"), 1);
  proc_.close_all();
  EXPECT_EQ(live_objects_count("mcf_sensor"), 0);
  EXPECT_EQ(live_objects_count("isp_device"), 1);

  add_sensor();
  EXPECT_EQ(d->bound_calls.load(), 2);
  EXPECT_EQ(d->complete_calls.load(), 2);
  stream_some_frames();
}

// The ISP leaves while it streams from the sensor, which stays. The sleeper
// leaves with -ENODEV (R14), calls in flight finish and new ones are refused
// (R12, R13), the sensor is stopped by the unbind before its unregistration
// (R16), the IRQ is gone (R15). The ISP's memory stays while files are open
// and while the sensor's entity still belongs to its media device; a new ISP
// binds the sensor again and frees the old one.
TEST_F(Omap3ispLifetimeTest, IspRemovedWhileStreamingSensorStays) {
  bind_both();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(start_capture(p.video, 2), 0);
  unsigned irq = isp_irq();
  int other = open_path(video_path(&isp()->isp_res.video_out));
  ASSERT_GE(other, 0);
  // Both buffers filled and dequeued: the sleeper below waits with nothing
  // queued, so only the node's unregistration can wake it (the sensor's
  // unbind cancels no buffer).
  ASSERT_EQ(irq_fire(irq), 1);
  ASSERT_EQ(irq_fire(irq), 1);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(user_buf_ioctl(proc_, p.video, VIDIOC_DQBUF, 0), 0);
  long ret = 1;
  v4l2_buffer b = {};
  std::thread sleeper = sleep_in_dqbuf(p.video, &ret, &b);
  std::atomic<int> sensor_enodev{0}, ccdc_enodev{0}, video_enodev{0};
  {
    Looper t1(subdev_loop(p.sensor, kSlot(2), &sensor_enodev));
    Looper t2(subdev_loop(p.ccdc, kSlot(3), &ccdc_enodev));
    Looper t3([&](int i) {
      v4l2_format f = {};
      f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      long r = user_ioctl(proc_, other, i % 2 ? VIDIOC_G_FMT : VIDIOC_TRY_FMT, &f, kSlot(4));
      expect_one_of(r, {0, -ENODEV, -EINVAL}, "video G_FMT/TRY_FMT");
      if (r == -ENODEV) video_enodev.fetch_add(1);
    });
    Looper t4([&](int) {
      media_v2_topology topo = {};
      expect_one_of(user_ioctl(proc_, p.media, MEDIA_IOC_G_TOPOLOGY, &topo, kSlot(5)), {0, -EIO},
                    "G_TOPOLOGY");
    });
    t1.wait_for(20);
    t2.wait_for(20);
    t3.wait_for(20);
    t4.wait_for(5);
    remove_isp();
    sleeper.join();
    while (sensor_enodev.load() < 5 || ccdc_enodev.load() < 5 || video_enodev.load() < 5)
      std::this_thread::yield();
  }
  EXPECT_EQ(ret, -ENODEV);
  // R16: stopped by the ISP's unbind, then unregistered from its graph.
  EXPECT_EQ(sensor()->streaming.load(), 0);
  EXPECT_EQ(sensor()->s_stream_calls.load(), 2);
  EXPECT_FALSE(v4l2_subdev_is_registered(&sensor()->sd));
  EXPECT_EQ(v4l2_async_waiting_subdev_count(), 1u);
  EXPECT_EQ(v4l2_async_notifier_count(), 0u);
  // R15: the handler is gone with remove().
  EXPECT_NE(irq_fire(irq), 1);
  EXPECT_EQ(user_buf_ioctl(proc_, p.video, VIDIOC_QBUF, 0), -ENODEV);
  EXPECT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMOFF), -ENODEV);

  proc_.close_all();
  // The sensor's entity still points at the old media device (R3).
  EXPECT_EQ(live_objects_count("isp_device"), 1);
  add_isp();
  EXPECT_EQ(isp()->bound_calls.load(), 1);
  EXPECT_TRUE(v4l2_subdev_is_registered(&sensor()->sd));
  EXPECT_EQ(live_objects_count("isp_device"), 1);  // the old one is gone
  stream_some_frames();
}

// Both devices go, in either order, while a file streams (a sleeper in DQBUF)
// and every node is open; every call is then refused, and closing the files
// releases everything. Both come back, in either order, and stream.
class Omap3ispBothRemovedTest : public Omap3ispLifetimeTest,
                                public ::testing::WithParamInterface<std::tuple<bool, bool>> {};

TEST_P(Omap3ispBothRemovedTest, FilesOpenOnEveryNode) {
  const bool sensor_first = std::get<0>(GetParam());
  const bool reprobe_sensor_first = std::get<1>(GetParam());
  bind_both();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  std::vector<Node> nodes = open_every_node();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(start_capture(p.video, 2), 0);
  long ret = 1;
  v4l2_buffer b = {};
  std::thread sleeper = sleep_in_dqbuf(p.video, &ret, &b);
  std::atomic<int> enodev{0};
  {
    Looper t1(subdev_loop(p.csi2, kSlot(2), &enodev));
    t1.wait_for(20);
    if (sensor_first) {
      remove_sensor();
      remove_isp();
    } else {
      remove_isp();
      remove_sensor();
    }
    sleeper.join();
    while (enodev.load() < 5) std::this_thread::yield();
  }
  // Either order, the sensor's unbind cancels the stream first: the sleeper
  // gets an error buffer, unless it saw the node go before it woke.
  if (ret == 0) {
    EXPECT_NE(b.flags & V4L2_BUF_FLAG_ERROR, 0u);
  } else {
    EXPECT_EQ(ret, -ENODEV);
  }
  expect_refused(nodes);
  EXPECT_NE(alive_objects(), "");  // the files keep the memory
  proc_.close_all();
  EXPECT_EQ(alive_objects(), "");

  if (reprobe_sensor_first) {
    add_sensor();
    add_isp();
  } else {
    add_isp();
    add_sensor();
  }
  EXPECT_EQ(isp()->complete_calls.load(), 1);
  stream_some_frames();
}

INSTANTIATE_TEST_SUITE_P(Orders, Omap3ispBothRemovedTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "SensorFirst"
                                                                      : "IspFirst") +
                                  "_Reprobe" +
                                  (std::get<1>(info.param) ? "SensorFirst" : "IspFirst");
                         });

// Only sub-device nodes open (the case upstream's kfree in remove() breaks):
// the ISP's memory stays until the last one closes.
TEST_F(Omap3ispLifetimeTest, OpenSubdevNodesKeepTheIspAfterRemove) {
  bind_both();
  isp_device* d = isp();
  int ccdc = open_path(subdev_path(&d->isp_ccdc.subdev));
  int hist = open_path(subdev_path(&d->isp_hist.subdev));
  ASSERT_GE(ccdc, 0);
  ASSERT_GE(hist, 0);
  remove_sensor();
  remove_isp();
  EXPECT_EQ(live_objects_count("isp_device"), 1);
  v4l2_mbus_framefmt f;
  EXPECT_EQ(subdev_g_fmt(ccdc, CCDC_PAD_SINK, &f), -ENODEV);
  // A poll on a node with events sleeps until unregistration: it is gone.
  EXPECT_EQ(proc_.poll(hist, EPOLLPRI, true) & EPOLLERR, EPOLLERR);
  proc_.close(ccdc);
  EXPECT_EQ(live_objects_count("isp_device"), 1);
  proc_.close(hist);
  EXPECT_EQ(live_objects_count("isp_device"), 0);
}

// Polls asleep on a video node and on a sub-device node with events wake at
// the ISP's removal (R14): the video poller first sees the buffers the
// sensor's unbind cancelled, the sub-device poller the node gone.
TEST_F(Omap3ispLifetimeTest, PollAsleepWokenByRemove) {
  bind_both();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(start_capture(p.video, 2), 0);
  long video_mask = 0, subdev_mask = 0;
  std::thread video_poller, subdev_poller;
  {
    HookRecorder rec;
    video_poller = std::thread([&] { video_mask = proc_.poll(p.video, EPOLLIN, true); });
    subdev_poller = std::thread([&] { subdev_mask = proc_.poll(p.ccdc, EPOLLPRI, true); });
    rec.wait_for(HookKind::kWaitSleep, "poll", 2);
  }
  remove_isp();
  video_poller.join();
  subdev_poller.join();
  EXPECT_NE(video_mask & (EPOLLIN | EPOLLERR), 0);
  EXPECT_NE(subdev_mask & EPOLLERR, 0);
  EXPECT_NE(proc_.poll(p.video, EPOLLIN, true) & EPOLLERR, 0);
}

// Three rounds of probe orders, streaming each time.
TEST_F(Omap3ispLifetimeTest, ReprobeCycles) {
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    if (round % 2 == 0) {
      add_isp();
      add_sensor();
    } else {
      add_sensor();
      add_isp();
    }
    stream_some_frames();
    proc_.close_all();
    if (round == 1) {
      remove_isp();
      remove_sensor();
    } else {
      remove_sensor();
      remove_isp();
    }
    EXPECT_EQ(alive_objects(), "");
  }
}

// --- Error paths (fail_nth).

using ::mcf::testing::FailAt;

// The ISP's probe (with the sensor there, so binding and complete() are part
// of it) failing at each failure point: nothing left behind, the sensor
// back to waiting, and a later probe works.
TEST_F(Omap3ispLifetimeTest, IspProbeFailingAtEveryPointUnwindsCleanly) {
  add_sensor();
  std::map<std::string, int> sites;
  for (int n = 0;; ++n) {
    SCOPED_TRACE(n);
    ASSERT_LT(n, 400);
    FailAt inject(n);
    inject.arm(true);
    isp_pdev_ = omap3isp_device_add(0);
    inject.arm(false);
    if (!inject.fired()) {
      ASSERT_NE(isp(), nullptr);
      EXPECT_NE(media_path(), "");
      remove_isp();
      break;
    }
    sites[inject.site()]++;
    SCOPED_TRACE(inject.site());
    EXPECT_EQ(isp(), nullptr);  // the probe failed (or the device was never added)
    remove_isp();
    EXPECT_FALSE(v4l2_subdev_is_registered(&sensor()->sd));
    EXPECT_EQ(v4l2_async_notifier_count(), 0u);
    // A failure after the sensor joined the graph leaves the sensor's entity
    // holding that media device (R3) until it joins the next one.
    EXPECT_LE(live_objects_count("isp_device"), 1);
  }
  EXPECT_GT(sites["kzalloc"], 10);
  EXPECT_GT(sites["request_irq"], 0);
  EXPECT_GT(sites["media_device_register_entity"], 0);
  add_isp();
  EXPECT_EQ(live_objects_count("isp_device"), 1);
  stream_some_frames();
}

// The sensor's probe (with the ISP waiting: bound and complete run in it).
TEST_F(Omap3ispLifetimeTest, SensorProbeFailingAtEveryPointUnwindsCleanly) {
  add_isp();
  for (int n = 0;; ++n) {
    SCOPED_TRACE(n);
    ASSERT_LT(n, 200);
    FailAt inject(n);
    inject.arm(true);
    sensor_pdev_ = mcf_sensor_device_add(0);
    inject.arm(false);
    if (!inject.fired()) {
      ASSERT_NE(sensor(), nullptr);
      break;
    }
    remove_sensor();
    EXPECT_EQ(live_objects_count("mcf_sensor"), 0);
    EXPECT_EQ(v4l2_async_waiting_subdev_count(), 0u);
  }
  EXPECT_GE(isp()->complete_calls.load(), 1);
  stream_some_frames();
}

}  // namespace
}  // namespace mcf::omap3isp_test
