// omap3isp with real threads, for ThreadSanitizer and AddressSanitizer: the
// ISP or the sensor removed while other threads capture, fire interrupts,
// call sub-device, video and media ioctls and toggle links; STREAMON/OFF
// racing the sensor's removal and return; the two probes racing. The
// assertions only check that each call returns one of its legal codes; the
// sanitizers and the model's reports (R12-R16) check the rest.
#include <gtest/gtest.h>

#include <thread>

#include "core/kernel/live_objects.h"
#include "tests/drivers/omap3isp_test_util.h"

namespace mcf::omap3isp_test {
namespace {

class Omap3ispThreadsTest : public Omap3ispTest {
 protected:
  // Everything user space and the hardware do with a running CCDC pipeline,
  // each on its own thread and argument slot.
  struct Busy {
    std::unique_ptr<Looper> capture, irq, csi2, sensor, media, video, links;
    void stop() {
      for (auto* l : {&capture, &irq, &csi2, &sensor, &media, &video, &links})
        if (*l) (*l)->stop();
    }
  };

  void start_busy(Busy* b, const Pipeline& p, unsigned irq, int other_video) {
    isp_device* d = isp();
    media_entity* prev = &d->isp_prev.subdev.entity;
    media_entity* prev_out = &d->isp_prev.video_out.video.entity;
    b->capture = std::make_unique<Looper>([this, fd = p.video](int) {
      v4l2_buffer buf = {};
      long r = user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, &buf, kSlot(1));
      expect_one_of(r, {0, -EAGAIN, -ENODEV, -EINVAL, -EIO}, "DQBUF");
      if (r == 0) {
        expect_one_of(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, buf.index, nullptr, kSlot(1)),
                      {0, -ENODEV, -EIO, -EINVAL}, "QBUF");
      }
    });
    b->irq = std::make_unique<Looper>([irq](int) {
      irq_fire(irq);
      std::this_thread::yield();
    });
    b->csi2 = std::make_unique<Looper>([this, fd = p.csi2](int i) {
      v4l2_mbus_framefmt f;
      expect_one_of(subdev_g_fmt(fd, i % 2, &f, V4L2_SUBDEV_FORMAT_ACTIVE, kSlot(2)),
                    {0, -ENODEV}, "CSI2a G_FMT");
    });
    b->sensor = std::make_unique<Looper>([this, fd = p.sensor](int i) {
      v4l2_mbus_framefmt f = {};
      f.width = kWidth;
      f.height = kHeight;
      // TRY formats only: the ACTIVE one is busy while streaming.
      expect_one_of(subdev_s_fmt(fd, 0, &f, V4L2_SUBDEV_FORMAT_TRY, kSlot(3)), {0, -ENODEV},
                    "sensor S_FMT TRY");
    });
    b->media = std::make_unique<Looper>([this, fd = p.media](int i) {
      media_v2_topology topo = {};
      expect_one_of(user_ioctl(proc_, fd, MEDIA_IOC_G_TOPOLOGY, &topo, kSlot(4)), {0, -EIO},
                    "G_TOPOLOGY");
      media_entity_desc e = {};
      e.id = MEDIA_ENT_ID_FLAG_NEXT;
      expect_one_of(user_ioctl(proc_, fd, MEDIA_IOC_ENUM_ENTITIES, &e, kSlot(4)),
                    {0, -EIO, -EINVAL}, "ENUM_ENTITIES");
    });
    b->video = std::make_unique<Looper>([this, other_video](int i) {
      v4l2_format f = {};
      f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
      f.fmt.pix.width = 64;
      f.fmt.pix.height = 48;
      f.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
      unsigned long cmd = i % 3 == 0 ? VIDIOC_TRY_FMT : i % 3 == 1 ? VIDIOC_S_FMT : VIDIOC_G_FMT;
      expect_one_of(user_ioctl(proc_, other_video, cmd, &f, kSlot(5)), {0, -ENODEV, -EINVAL},
                    "video format ioctl");
    });
    // A link outside the running pipeline, toggled (no entity of it streams).
    b->links = std::make_unique<Looper>([this, fd = p.media, prev, prev_out](int i) {
      media_link_desc l = {};
      l.source.entity = media_entity_id(prev);
      l.source.index = PREV_PAD_SOURCE;
      l.sink.entity = media_entity_id(prev_out);
      l.sink.index = 0;
      l.flags = i % 2 ? MEDIA_LNK_FL_ENABLED : 0;
      // -EINVAL: past the registration check just before
      // media_device_unregister() emptied the graph (the memory stays, R1).
      expect_one_of(user_ioctl(proc_, fd, MEDIA_IOC_SETUP_LINK, &l, kSlot(6)),
                    {0, -EIO, -EINVAL}, "SETUP_LINK");
    });
    for (auto* l : {&b->capture, &b->irq, &b->csi2, &b->sensor, &b->media, &b->video, &b->links})
      (*l)->wait_for(20);
  }
};

TEST_F(Omap3ispThreadsTest, IspRemovedWhileEverythingRuns) {
  bind_both();
  Pipeline p = ccdc_pipeline(O_RDWR_ | O_NONBLOCK_);
  ASSERT_FALSE(HasFailure());
  int other = open_path(video_path(&isp()->isp_res.video_out));
  ASSERT_GE(other, 0);
  ASSERT_EQ(start_capture(p.video, 4), 0);
  unsigned irq = isp_irq();
  Busy busy;
  start_busy(&busy, p, irq, other);
  remove_isp();
  busy.capture->wait_for(1000);
  busy.stop();
  EXPECT_EQ(sensor()->streaming.load(), 0);
  EXPECT_FALSE(v4l2_subdev_is_registered(&sensor()->sd));
  proc_.close_all();
  add_isp();
  EXPECT_EQ(live_objects_count("isp_device"), 1);
}

TEST_F(Omap3ispThreadsTest, SensorRemovedWhileEverythingRuns) {
  bind_both();
  Pipeline p = ccdc_pipeline(O_RDWR_ | O_NONBLOCK_);
  ASSERT_FALSE(HasFailure());
  int other = open_path(video_path(&isp()->isp_res.video_out));
  ASSERT_GE(other, 0);
  ASSERT_EQ(start_capture(p.video, 4), 0);
  Busy busy;
  start_busy(&busy, p, isp_irq(), other);
  remove_sensor();
  busy.capture->wait_for(1000);
  busy.stop();
  EXPECT_EQ(isp()->unbind_calls.load(), 1);
  EXPECT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMOFF), 0);
  proc_.close_all();
  add_sensor();
  EXPECT_EQ(isp()->bound_calls.load(), 2);
}

// STREAMON/STREAMOFF in a loop while the sensor leaves and comes back: each
// STREAMON either runs the pipeline down to the bound sensor or fails; the
// sensor is never called once unbound (a report would abort).
TEST_F(Omap3ispThreadsTest, StreamOnOffAgainstSensorRemoval) {
  bind_both();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(user_reqbufs(proc_, p.video, 2), 0);
  std::atomic<int> started{0};
  {
    Looper streamer([&](int i) {
      long r = user_stream(proc_, p.video, VIDIOC_STREAMON, kSlot(1));
      expect_one_of(r, {0, -EPIPE, -EINVAL}, "STREAMON");
      if (r == 0) started.fetch_add(1);
      expect_one_of(user_stream(proc_, p.video, VIDIOC_STREAMOFF, kSlot(1)), {0}, "STREAMOFF");
    });
    Looper irqs([irq = isp_irq()](int) { irq_fire(irq); });
    streamer.wait_for(20);
    for (int round = 0; round < 5; ++round) {
      proc_.close(p.sensor);
      remove_sensor();
      streamer.wait_for(20 * (2 * round + 2));
      add_sensor();
      streamer.wait_for(20 * (2 * round + 3));
    }
  }
  EXPECT_GT(started.load(), 0);
}

// Sensor and ISP probe at the same time, then go at the same time: one
// binding a round, nothing left behind.
TEST_F(Omap3ispThreadsTest, ConcurrentProbeAndRemove) {
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE(round);
    std::atomic<int> go{0};
    auto start = [&go] {
      go.fetch_add(1);
      while (go.load() < 2) std::this_thread::yield();
    };
    std::thread ts([&] {
      start();
      sensor_pdev_ = mcf_sensor_device_add(0);
    });
    std::thread ti([&] {
      start();
      isp_pdev_ = omap3isp_device_add(0);
    });
    ts.join();
    ti.join();
    ASSERT_NE(isp(), nullptr);
    ASSERT_NE(sensor(), nullptr);
    EXPECT_EQ(isp()->bound_calls.load(), 1);
    EXPECT_EQ(isp()->complete_calls.load(), 1);
    go.store(0);
    std::thread rs([&] {
      start();
      remove_sensor();
    });
    std::thread ri([&] {
      start();
      remove_isp();
    });
    rs.join();
    ri.join();
    ASSERT_EQ(alive_objects(), "");
  }
}

}  // namespace
}  // namespace mcf::omap3isp_test
