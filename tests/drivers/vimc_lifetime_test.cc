// vimc's lifetime under the rules (DESIGN.md §1): remove() while streaming,
// with a DQBUF asleep, files open on every kind of node and the frame timer
// firing; the memory goes only at the last close, whichever it is (R8, R9);
// no interrupt or register access after remove() (R15); re-binding gives a
// working device; every failure point of the probe unwinds cleanly.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "tests/support/fail_at.h"
#include "core/kernel/hw.h"
#include "tests/drivers/vimc_test_util.h"
#include "tests/support/hook_recorder.h"
#include "tools/topology/topology.h"

namespace mcf::vimctest {
namespace {

using ::mcf::testing::HookRecorder;

class VimcLifetimeTest : public VimcTest {
 protected:
  // Starts Raw Capture 0 with two buffers, takes both frames, and leaves the
  // queue streaming with nothing queued: a blocking DQBUF sleeps.
  int streaming_capture_with_no_buffer() {
    configure_all(32, 16);
    int fd = open_node("Raw Capture 0");
    EXPECT_EQ(start_capture(fd, 2), 0);
    fire(2);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, nullptr, kArg), 0);
    return fd;
  }
};

TEST_F(VimcLifetimeTest, RemoveWhileStreamingWithDqbufAsleepThenClose) {
  int cap = streaming_capture_with_no_buffer();
  int rgb = open_node("RGB/YUV Capture");
  int media = open_media();
  int sensor = open_node("Sensor A");
  int lens = open_node("Lens B");
  ASSERT_GE(rgb, 0);
  ASSERT_GE(media, 0);
  ASSERT_GE(sensor, 0);
  ASSERT_GE(lens, 0);
  const unsigned irq = static_cast<unsigned>(platform_get_irq(pdev_, 0));
  const int released = vimc_released_count();

  HookRecorder rec;
  long dq = 1;
  std::thread sleeper([&] { dq = user_buf_ioctl(proc_, cap, VIDIOC_DQBUF, 0, nullptr, kArgB); });
  rec.wait_for(HookKind::kWaitSleep, "vb2_queue.done_wq", 1);

  // remove(): the timer stops, the sleeper wakes (R14), the streams stop.
  ASSERT_EQ(device_driver_attach(&vimc_platform_driver()->driver, &pdev_->dev), -EBUSY);
  device_release_driver(&pdev_->dev);
  sleeper.join();
  EXPECT_EQ(dq, -ENODEV);
  EXPECT_EQ(vimc_drvdata(pdev_), nullptr);
  // R15: the handler is gone; a late interrupt reaches nothing.
  EXPECT_EQ(irq_fire(irq), 0);

  // R12: every node refuses, the memory is still there (the files hold it).
  EXPECT_EQ(user_buf_ioctl(proc_, cap, VIDIOC_QUERYBUF, 0, nullptr, kArg), -ENODEV);
  EXPECT_EQ(user_stream(proc_, rgb, VIDIOC_STREAMON, kArg), -ENODEV);
  media_device_info info = {};
  EXPECT_EQ(user_ioctl(proc_, media, MEDIA_IOC_DEVICE_INFO, &info, kArg), -EIO);
  v4l2_subdev_format f = {};
  f.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  EXPECT_EQ(user_ioctl(proc_, sensor, VIDIOC_SUBDEV_G_FMT, &f, kArg), -ENODEV);
  EXPECT_EQ(proc_.poll(cap, EPOLLIN, false) & EPOLLERR, EPOLLERR);
  EXPECT_TRUE(devtmpfs_nodes_of(dev_name_, "video").empty());
  EXPECT_TRUE(devtmpfs_nodes_of(dev_name_, "media").empty());
  EXPECT_EQ(proc_.open(media_path_, O_RDWR_), -ENOENT);

  // The last close, whichever it is, frees everything.
  for (int fd : {cap, rgb, sensor, media}) {
    EXPECT_EQ(vimc_released_count(), released);
    EXPECT_EQ(proc_.close(fd), 0);
  }
  EXPECT_EQ(vimc_released_count(), released);
  EXPECT_EQ(proc_.close(lens), 0);
  EXPECT_EQ(vimc_released_count(), released + 1);
  // Only the (unbound) platform device is left; with it gone, nothing.
  remove_device();
  EXPECT_EQ(alive_objects(), "");
  EXPECT_TRUE(devtmpfs_list().empty());
}

TEST_F(VimcLifetimeTest, EachKindOfFileAloneKeepsTheMemory) {
  // An open /dev/mediaN alone pins the media device, hence vimc: upstream's
  // gap (its media fd pins nothing of vimc) is closed by R1/R2 + R9.
  for (const std::string& node : {std::string("media"), std::string("Debayer B"),
                                  std::string("RGB/YUV Capture"), std::string("Lens A")}) {
    SCOPED_TRACE(node);
    int fd = node == "media" ? open_media() : open_node(node);
    ASSERT_GE(fd, 0);
    const int released = vimc_released_count();
    device_release_driver(&pdev_->dev);
    EXPECT_EQ(vimc_released_count(), released);
    EXPECT_EQ(proc_.close(fd), 0);
    EXPECT_EQ(vimc_released_count(), released + 1);
    ASSERT_EQ(device_driver_attach(&vimc_platform_driver()->driver, &pdev_->dev), 0);
    ASSERT_NO_FATAL_FAILURE(find_nodes());
  }
}

TEST_F(VimcLifetimeTest, RebindAfterRemoveGivesAWorkingDevice) {
  int old_media = open_media();
  int old_cap = streaming_capture_with_no_buffer();
  // Unbind (sysfs "unbind"), bind again (sysfs "bind") with files still open.
  device_release_driver(&pdev_->dev);
  ASSERT_EQ(device_driver_attach(&vimc_platform_driver()->driver, &pdev_->dev), 0);
  ASSERT_NE(vimc_drvdata(pdev_), nullptr);
  ASSERT_NO_FATAL_FAILURE(find_nodes());
  // The media node's minor was freed at unregistration: /dev/media0 again.
  EXPECT_EQ(media_path_, "/dev/media0");
  int media = open_media();
  ASSERT_GE(media, 0);
  topology::media_snapshot snap;
  ASSERT_EQ(topology::topology_read(proc_, media, &snap, kArrays), 0);
  EXPECT_EQ(snap.entities.size(), 11u);
  EXPECT_EQ(snap.v2_links.size(), 21u);
  EXPECT_EQ(snap.topology_version, 16u);
  EXPECT_STREQ(snap.info.model, "VIMC MDEV");
  // The old files still see their (dead) nodes.
  media_device_info info = {};
  EXPECT_EQ(user_ioctl(proc_, old_media, MEDIA_IOC_DEVICE_INFO, &info, kArg), -EIO);
  EXPECT_EQ(user_buf_ioctl(proc_, old_cap, VIDIOC_DQBUF, 0, nullptr, kArg), -ENODEV);
  // The new device streams (upstream's defaults again: configure).
  ASSERT_NO_FATAL_FAILURE(configure_all(32, 16));
  int cap = open_node("Raw Capture 1", O_RDWR_ | O_NONBLOCK_);
  ASSERT_EQ(start_capture(cap, 2), 0);
  ASSERT_NO_FATAL_FAILURE(fire());
  v4l2_buffer b = {};
  ASSERT_EQ(user_buf_ioctl(proc_, cap, VIDIOC_DQBUF, 0, &b, kArg), 0);
  EXPECT_EQ(b.sequence, 0u);

  // Driver re-registration: unregistering unbinds, registering binds again.
  vimc_driver_unregister();
  EXPECT_EQ(vimc_drvdata(pdev_), nullptr);
  ASSERT_EQ(vimc_driver_register(), 0);
  ASSERT_NE(vimc_drvdata(pdev_), nullptr);
  ASSERT_NO_FATAL_FAILURE(find_nodes());
  int media2 = open_media();
  ASSERT_EQ(topology::topology_read(proc_, media2, &snap, kArrays), 0);
  EXPECT_EQ(snap.entities.size(), 11u);
}

TEST_F(VimcLifetimeTest, RemoveRacesTheTimerAndUserThreads) {
  // Real threads: an interrupt storm, a capture loop, a media ioctl loop and
  // a sub-device ioctl loop, while the device goes. Nothing may be reported
  // (use after free, lock inversion, hardware access after remove) and
  // nothing may stay alive after the last close.
  ASSERT_NO_FATAL_FAILURE(configure_all(32, 16));
  int cap = open_node("RGB/YUV Capture");
  int media = open_media();
  int scaler = open_node("Scaler");
  ASSERT_EQ(start_capture(cap, 3), 0);
  const unsigned irq = static_cast<unsigned>(platform_get_irq(pdev_, 0));
  std::atomic<bool> stop{false};
  std::thread timer([&] {
    while (!stop.load()) irq_fire(irq);
  });
  std::thread capture([&, at = kArg + 0x100] {
    for (;;) {
      v4l2_buffer b = {};
      if (user_buf_ioctl(proc_, cap, VIDIOC_DQBUF, 0, &b, at) != 0) break;
      if (user_buf_ioctl(proc_, cap, VIDIOC_QBUF, b.index, nullptr, at) != 0) break;
    }
  });
  std::thread control([&, at = kArg + 0x200] {
    while (!stop.load()) {
      media_entity_desc d = {};
      d.id = MEDIA_ENT_ID_FLAG_NEXT;
      if (user_ioctl(proc_, media, MEDIA_IOC_ENUM_ENTITIES, &d, at) != 0) break;
      v4l2_subdev_format f = {};
      f.which = V4L2_SUBDEV_FORMAT_ACTIVE;
      if (user_ioctl(proc_, scaler, VIDIOC_SUBDEV_G_FMT, &f, at) != 0) break;
    }
  });
  // Let a few frames through, then remove.
  while (vimc_drvdata(pdev_) != nullptr &&
         readl(platform_get_iomem(pdev_), VIMC_REG_FRAME_COUNT) < 20)
    std::this_thread::yield();
  remove_device();
  capture.join();
  control.join();
  stop = true;
  timer.join();
  EXPECT_EQ(proc_.close_all(), 3);
  EXPECT_EQ(alive_objects().find("vimc"), std::string::npos) << alive_objects();
}

TEST_F(VimcLifetimeTest, SeveralInstancesComeAndGoIndependently) {
  platform_device* other = vimc_device_add(1);
  ASSERT_NE(other, nullptr);
  ASSERT_NE(vimc_drvdata(other), nullptr);
  int other_media = proc_.open(devtmpfs_nodes_of("vimc.1", "media")[0], O_RDWR_);
  ASSERT_GE(other_media, 0);
  remove_device();  // vimc.0 goes; vimc.1 is untouched
  media_device_info info = {};
  EXPECT_EQ(user_ioctl(proc_, other_media, MEDIA_IOC_DEVICE_INFO, &info, kArg), 0);
  EXPECT_STREQ(info.driver, "vimc");
  platform_device_unregister(other);
  EXPECT_EQ(user_ioctl(proc_, other_media, MEDIA_IOC_DEVICE_INFO, &info, kArg), -EIO);
}

using ::mcf::testing::FailAt;

TEST_F(VimcLifetimeTest, ProbeFailingAtEveryPointUnwindsCleanly) {
  remove_device();
  ASSERT_EQ(alive_objects(), "");
  std::map<std::string, int> sites;
  for (int n = 0;; ++n) {
    SCOPED_TRACE(n);
    ASSERT_LT(n, 1000) << "probe never ran out of failure points";
    FailAt inject(n);
    inject.arm(true);
    platform_device* pdev = vimc_device_add(0);
    inject.arm(false);
    if (!inject.fired()) {
      // The probe ran through: the device works and goes away cleanly.
      ASSERT_NE(pdev, nullptr);
      pdev_ = pdev;
      ASSERT_NE(vimc_drvdata(pdev), nullptr);
      ASSERT_NO_FATAL_FAILURE(find_nodes());
      break;
    }
    sites[inject.site()]++;
    // A failed probe leaves an unbound device (or none, if adding it failed)
    // and nothing else.
    if (pdev != nullptr) {
      EXPECT_EQ(vimc_drvdata(pdev), nullptr) << inject.site();
      platform_device_unregister(pdev);
    }
    ASSERT_EQ(alive_objects(), "") << "after failing " << inject.site();
    ASSERT_TRUE(devtmpfs_list().empty()) << "after failing " << inject.site();
  }
  // The probe's failure points: the driver's allocations, the states, the
  // entities' registrations, the links, the nodes, the IRQ.
  EXPECT_GT(sites["kzalloc"], 30);
  EXPECT_GT(sites["media_device_register_entity"], 0);
  EXPECT_GT(sites["request_irq"], 0);
  EXPECT_GT(sites["cdev_add"], 0);
}

}  // namespace
}  // namespace mcf::vimctest
