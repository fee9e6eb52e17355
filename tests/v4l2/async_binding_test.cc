// v4l2_async binding between the test sensor and the test bridge: both
// probe orders, each side removed first with files open on the sensor's
// node, the receiver's node and /dev/media0, re-probe, and every failure
// point of the bring-up unwinding to nothing. Every test ends (TearDown) with
// every model object released.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/support/fail_at.h"
#include "tests/v4l2/subdev_test_util.h"

namespace mcf::v4l2test {
namespace {

using AsyncBindingTest = SensorBridgeTest;
using ::mcf::testing::FailAt;
using ::mcf::testing::FailKind;

TEST_F(AsyncBindingTest, SensorFirstThenBridge) {
  add_sensor();
  // Nobody waits for it yet: no v4l2_device, no node.
  EXPECT_EQ(v4l2_async_waiting_subdev_count(), 1u);
  EXPECT_FALSE(v4l2_subdev_is_registered(&sensor()->sd));
  EXPECT_EQ(sensor()->sd.v4l2_dev, nullptr);
  EXPECT_EQ(proc_.open("/dev/v4l-subdev0", O_RDWR_), -ENOENT);

  add_bridge();
  test_bridge* b = bridge();
  EXPECT_EQ(b->bound_calls.load(), 1);
  EXPECT_EQ(b->complete_calls.load(), 1);
  EXPECT_TRUE(v4l2_async_nf_is_complete(&b->notifier));
  EXPECT_EQ(sensor()->sd.v4l2_dev, &b->v4l2_dev);
  EXPECT_EQ(testing::test_bridge_sensor(b), &sensor()->sd);
  EXPECT_EQ(media_node(), "/dev/media0");
  EXPECT_NE(sensor_node(), "");
  EXPECT_NE(receiver_node(), "");
  int mfd = open_node(media_node());
  ASSERT_GE(mfd, 0);
  EXPECT_EQ(entity_names(mfd).size(), 2u);
  EXPECT_EQ(links_of(mfd, media_entity_id(&sensor()->sd.entity)).size(), 1u);
}

TEST_F(AsyncBindingTest, BridgeFirstThenSensor) {
  add_bridge();
  test_bridge* b = bridge();
  // Waiting for its sensor: as omap3isp, no media node and no sub-device
  // nodes until complete().
  EXPECT_EQ(b->bound_calls.load(), 0);
  EXPECT_EQ(b->complete_calls.load(), 0);
  EXPECT_FALSE(v4l2_async_nf_is_complete(&b->notifier));
  EXPECT_EQ(media_node(), "");
  EXPECT_EQ(receiver_node(), "");
  EXPECT_EQ(proc_.open("/dev/media0", O_RDWR_), -ENOENT);
  EXPECT_EQ(v4l2_async_notifier_count(), 1u);

  add_sensor();
  EXPECT_EQ(b->bound_calls.load(), 1);
  EXPECT_EQ(b->complete_calls.load(), 1);
  EXPECT_EQ(media_node(), "/dev/media0");
  EXPECT_EQ(receiver_node(), "/dev/v4l-subdev0");
  EXPECT_EQ(sensor_node(), "/dev/v4l-subdev1");
  int sfd = open_node(sensor_node());
  ASSERT_GE(sfd, 0);
  v4l2_mbus_framefmt fmt;
  EXPECT_EQ(g_fmt(sfd, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), 0);
}

// Drivers registered after the devices: binding happens at driver
// registration, in either driver order.
TEST_F(AsyncBindingTest, DevicesFirstThenDriversInEitherOrder) {
  for (bool bridge_driver_first : {true, false}) {
    testing::test_bridge_driver_unregister();
    testing::test_sensor_driver_unregister();
    sensor_pdev_ = testing::test_sensor_add(0);
    bridge_pdev_ = testing::test_bridge_add(0);
    ASSERT_EQ(sensor(), nullptr);
    ASSERT_EQ(bridge(), nullptr);
    if (bridge_driver_first) {
      ASSERT_EQ(testing::test_bridge_driver_register(), 0);
      ASSERT_EQ(testing::test_sensor_driver_register(), 0);
    } else {
      ASSERT_EQ(testing::test_sensor_driver_register(), 0);
      ASSERT_EQ(testing::test_bridge_driver_register(), 0);
    }
    ASSERT_NE(bridge(), nullptr);
    EXPECT_EQ(bridge()->complete_calls.load(), 1);
    EXPECT_TRUE(v4l2_subdev_is_registered(&sensor()->sd));
    // Driver unregistration unbinds (remove) too.
    int sfd = open_node(sensor_node());
    ASSERT_GE(sfd, 0);
    if (bridge_driver_first) {
      testing::test_sensor_driver_unregister();
      ASSERT_EQ(testing::test_sensor_driver_register(), 0);  // probes the sensor again
      EXPECT_EQ(bridge()->complete_calls.load(), 2);
    } else {
      testing::test_bridge_driver_unregister();
      ASSERT_EQ(testing::test_bridge_driver_register(), 0);
      EXPECT_EQ(bridge()->complete_calls.load(), 1);  // a new bridge struct
    }
    EXPECT_EQ(proc_.close(sfd), 0);
    remove_sensor();
    remove_bridge();
    EXPECT_EQ(alive_objects(), "");
  }
}

// The sensor leaves first while files are open on the sensor's node, the
// receiver's node and /dev/media0; then it comes back.
// Broken rules -> failures: a sensor freed at remove (R8) is an ASan
// use-after-free at the sensor fd's ioctl/close; a missing unbind (R16) is
// seen as the bridge still holding the sensor; a node left registered
// answers the ioctl (R12 report in the file layer).
TEST_F(AsyncBindingTest, SensorRemovedFirstWithFilesOpenThenComesBack) {
  bind_both();
  test_bridge* b = bridge();
  int sfd = open_node(sensor_node());
  int rfd = open_node(receiver_node());
  int mfd = open_node(media_node());
  ASSERT_GE(sfd, 0);
  ASSERT_GE(rfd, 0);
  ASSERT_GE(mfd, 0);
  const std::string old_sensor_node = sensor_node();
  const int released = testing::test_sensor_released_count();

  remove_sensor();
  EXPECT_EQ(b->unbind_calls.load(), 1);
  EXPECT_EQ(testing::test_bridge_sensor(b), nullptr);
  EXPECT_EQ(v4l2_async_waiting_subdev_count(), 0u);
  EXPECT_FALSE(v4l2_async_nf_is_complete(&b->notifier));
  // The sensor's node is dead; the bridge's nodes live on.
  v4l2_mbus_framefmt fmt;
  EXPECT_EQ(g_fmt(sfd, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), -ENODEV);
  EXPECT_EQ(proc_.open(old_sensor_node, O_RDWR_), -ENOENT);
  EXPECT_EQ(g_fmt(rfd, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), 0);
  EXPECT_EQ(entity_names(mfd), (std::vector<std::string>{"mcf-test-bridge.0 receiver"}));
  EXPECT_EQ(links_of(mfd, media_entity_id(&b->receiver.entity)).size(), 0u);
  // The open file keeps the sensor's memory (R4, R8).
  EXPECT_EQ(live_objects_count("test_sensor"), 1);
  EXPECT_EQ(proc_.close(sfd), 0);
  EXPECT_EQ(testing::test_sensor_released_count(), released + 1);
  EXPECT_EQ(live_objects_count("test_sensor"), 0);

  // It comes back: bound and complete again, a node again, the link again.
  add_sensor();
  EXPECT_EQ(b->bound_calls.load(), 2);
  EXPECT_EQ(b->complete_calls.load(), 2);
  EXPECT_TRUE(v4l2_async_nf_is_complete(&b->notifier));
  EXPECT_NE(sensor_node(), "");
  EXPECT_EQ(entity_names(mfd).size(), 2u);
  EXPECT_EQ(links_of(mfd, media_entity_id(&sensor()->sd.entity)).size(), 1u);
  sfd = open_node(sensor_node());
  ASSERT_GE(sfd, 0);
  EXPECT_EQ(g_fmt(sfd, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), 0);
  EXPECT_EQ(testing::test_bridge_s_stream(b, 1), 0);
  EXPECT_EQ(testing::test_bridge_s_stream(b, 0), 0);
}

// The bridge leaves first while files are open everywhere; the sensor goes
// back to waiting and binds to the re-probed bridge.
// Broken rules -> failures: a bridge struct freed at remove (R8, R9) is an
// ASan use-after-free at the media fd's ioctl or any close; a sensor that
// could not register with a second media device would not bind again.
TEST_F(AsyncBindingTest, BridgeRemovedFirstWithFilesOpenThenReprobes) {
  bind_both();
  test_sensor* s = sensor();
  int sfd = open_node(sensor_node());
  int rfd = open_node(receiver_node());
  int mfd = open_node(media_node());
  ASSERT_GE(sfd, 0);
  ASSERT_GE(rfd, 0);
  ASSERT_GE(mfd, 0);
  const int bridges_released = testing::test_bridge_released_count();

  remove_bridge();
  // Every node of the bridge's world is dead (R12)...
  v4l2_mbus_framefmt fmt;
  EXPECT_EQ(g_fmt(sfd, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), -ENODEV);
  EXPECT_EQ(g_fmt(rfd, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), -ENODEV);
  media_device_info info = {};
  EXPECT_EQ(ioctl(mfd, MEDIA_IOC_DEVICE_INFO, &info), -EIO);
  EXPECT_EQ(proc_.open("/dev/media0", O_RDWR_), -ENOENT);
  // ...the sensor waits again, alive and unregistered...
  EXPECT_FALSE(v4l2_subdev_is_registered(&s->sd));
  EXPECT_EQ(v4l2_async_waiting_subdev_count(), 1u);
  EXPECT_EQ(v4l2_async_notifier_count(), 0u);
  // ...and the bridge's memory is kept by the files and by the sensor's
  // entity, which still holds the media device of its last registration (R3).
  EXPECT_EQ(live_objects_count("test_bridge"), 1);
  EXPECT_EQ(proc_.close(rfd), 0);
  EXPECT_EQ(proc_.close(mfd), 0);
  EXPECT_EQ(proc_.close(sfd), 0);
  EXPECT_EQ(live_objects_count("test_bridge"), 1);
  EXPECT_EQ(testing::test_bridge_released_count(), bridges_released);

  // Re-probe: the sensor binds to the new bridge; the old bridge's last
  // reference (the sensor entity's) goes, and with it the old struct.
  add_bridge();
  EXPECT_EQ(testing::test_bridge_released_count(), bridges_released + 1);
  EXPECT_EQ(live_objects_count("test_bridge"), 1);
  EXPECT_EQ(bridge()->bound_calls.load(), 1);
  EXPECT_EQ(bridge()->complete_calls.load(), 1);
  EXPECT_EQ(s->sd.v4l2_dev, &bridge()->v4l2_dev);
  EXPECT_EQ(media_node(), "/dev/media0");
  ASSERT_NE(sensor_node(), "");
  sfd = open_node(sensor_node());
  mfd = open_node(media_node());
  ASSERT_GE(sfd, 0);
  ASSERT_GE(mfd, 0);
  EXPECT_EQ(g_fmt(sfd, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), 0);
  EXPECT_EQ(entity_names(mfd).size(), 2u);
  EXPECT_EQ(links_of(mfd, media_entity_id(&s->sd.entity)).size(), 1u);
}

// The sensor's embedded node cannot be registered again while a file of its
// previous registration is open: the re-probed bridge completes without it.
// The rest works, and everything is released at the end.
TEST_F(AsyncBindingTest, ReprobeWhileTheOldSensorNodeIsOpen) {
  bind_both();
  int sfd = open_node(sensor_node());
  ASSERT_GE(sfd, 0);
  remove_bridge();
  add_bridge();
  EXPECT_TRUE(v4l2_subdev_is_registered(&sensor()->sd));
  EXPECT_EQ(bridge()->complete_calls.load(), 1);
  EXPECT_EQ(sensor_node(), "");
  EXPECT_NE(receiver_node(), "");
  EXPECT_NE(media_node(), "");
  v4l2_mbus_framefmt fmt;
  EXPECT_EQ(g_fmt(sfd, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), -ENODEV);
  EXPECT_EQ(proc_.close(sfd), 0);
  // The next complete() (after the sensor comes back) gives it a node.
  remove_sensor();
  add_sensor();
  EXPECT_NE(sensor_node(), "");
}

// Both removed, in each order, with all files still open; then the files go.
TEST_F(AsyncBindingTest, BothRemovedWithFilesOpen) {
  for (bool sensor_first : {true, false}) {
    bind_both();
    int sfd = open_node(sensor_node());
    int rfd = open_node(receiver_node());
    int mfd = open_node(media_node());
    ASSERT_GE(sfd, 0);
    ASSERT_GE(rfd, 0);
    ASSERT_GE(mfd, 0);
    if (sensor_first) {
      remove_sensor();
      remove_bridge();
    } else {
      remove_bridge();
      remove_sensor();
    }
    EXPECT_EQ(live_objects_count("test_sensor"), 1);
    EXPECT_EQ(live_objects_count("test_bridge"), 1);
    v4l2_mbus_framefmt fmt;
    EXPECT_EQ(g_fmt(sfd, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), -ENODEV);
    EXPECT_EQ(g_fmt(rfd, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), -ENODEV);
    EXPECT_EQ(proc_.close_all(), 3);
    EXPECT_EQ(alive_objects(), "");
  }
}

// Two bridge/sensor pairs side by side: each notifier binds its own sensor.
TEST_F(AsyncBindingTest, TwoPairsBindByName) {
  platform_device* s1 = testing::test_sensor_add(1);
  bind_both();
  platform_device* b1 = testing::test_bridge_add(1);
  ASSERT_NE(s1, nullptr);
  ASSERT_NE(b1, nullptr);
  test_bridge* bridge1 = testing::test_bridge_drvdata(b1);
  EXPECT_EQ(testing::test_bridge_sensor(bridge1), &testing::test_sensor_drvdata(s1)->sd);
  EXPECT_EQ(testing::test_bridge_sensor(bridge()), &sensor()->sd);
  EXPECT_EQ(media_node(), "/dev/media0");
  EXPECT_EQ(testing::media_node_path(&bridge1->mdev), "/dev/media1");
  platform_device_unregister(b1);
  platform_device_unregister(s1);
}

// A notifier refuses duplicate keys and additions once registered; cleanup
// of a registered notifier is a driver bug (WARN).
TEST_F(AsyncBindingTest, NotifierAddMatchRules) {
  add_bridge();
  v4l2_async_notifier* n = &bridge()->notifier;
  EXPECT_EQ(v4l2_async_nf_add_match(n, "another"), nullptr);  // registered
  v4l2_async_notifier local;
  v4l2_async_nf_init(&local);
  EXPECT_NE(v4l2_async_nf_add_match(&local, "x"), nullptr);
  EXPECT_EQ(v4l2_async_nf_add_match(&local, "x"), nullptr);
  EXPECT_EQ(v4l2_async_nf_add_match(&local, ""), nullptr);
  EXPECT_NE(v4l2_async_nf_add_match(&local, "y"), nullptr);
  EXPECT_EQ(local.waiting_list.size(), 2u);
  v4l2_async_nf_cleanup(&local);
  EXPECT_EQ(live_objects_count("v4l2_async_connection"), 1);  // the bridge's
  EXPECT_DEATH(v4l2_async_nf_cleanup(n), "WARN_ON\\(notifier->registered\\)");
}

// A bridge whose complete() fails makes the sensor's registration fail; the
// sensor's probe unwinds and nothing is left bound.
TEST_F(AsyncBindingTest, FailingAsyncRegistrationUnwinds) {
  add_bridge();
  {
    FailKind fail("v4l2_async_register");
    sensor_pdev_ = testing::test_sensor_add(0);
  }
  ASSERT_NE(sensor_pdev_, nullptr);
  EXPECT_EQ(sensor(), nullptr);  // probe failed
  EXPECT_EQ(live_objects_count("test_sensor"), 0);
  EXPECT_EQ(bridge()->bound_calls.load(), 0);
  // The cdev_add of a node fails inside complete(): the sensor's probe fails.
  remove_sensor();
  {
    FailKind fail_cdev("cdev_add");
    sensor_pdev_ = testing::test_sensor_add(0);
  }
  EXPECT_EQ(sensor(), nullptr);
  EXPECT_EQ(bridge()->bound_calls.load(), 1);
  EXPECT_EQ(bridge()->unbind_calls.load(), 1);
  EXPECT_EQ(testing::test_bridge_sensor(bridge()), nullptr);
  EXPECT_EQ(live_objects_count("test_sensor"), 0);
  EXPECT_EQ(v4l2_async_waiting_subdev_count(), 0u);
  // And a clean probe afterwards works.
  remove_sensor();
  add_sensor();
  EXPECT_EQ(bridge()->complete_calls.load(), 2);
  EXPECT_NE(sensor_node(), "");
}

// Fails the n-th failure point of the bring-up, for every n, in both probe
// orders: whatever failed, removing both devices releases every object.
// Broken unwinding -> failure: a leaked object (alive_objects), a double put
// (refcount underflow report) or a use-after-free (ASan).
TEST_F(AsyncBindingTest, EveryFailurePointOfTheBringUpUnwinds) {
  for (bool sensor_first : {true, false}) {
    int n = 0;
    for (;; ++n) {
      FailAt inj(n);
      inj.arm(true);
      if (sensor_first) {
        sensor_pdev_ = testing::test_sensor_add(0);
        bridge_pdev_ = testing::test_bridge_add(0);
      } else {
        bridge_pdev_ = testing::test_bridge_add(0);
        sensor_pdev_ = testing::test_sensor_add(0);
      }
      inj.arm(false);
      SCOPED_TRACE(::testing::Message() << "sensor_first=" << sensor_first << " n=" << n
                                      << " site=" << (inj.fired() ? inj.site() : "none"));
      // Whatever is up works: open and close what exists.
      if (bridge_pdev_ != nullptr && bridge() != nullptr) {
        for (const std::string& path : {media_node(), receiver_node()}) {
          if (path.empty()) continue;
          int fd = open_node(path);
          EXPECT_GE(fd, 0);
        }
      }
      remove_sensor();
      remove_bridge();
      proc_.close_all();
      EXPECT_EQ(alive_objects(), "");
      if (!inj.fired()) break;  // n is past the last failure point
      ASSERT_LT(n, 500);
    }
    // Platform devices, probes, async registration, entities, links, nodes,
    // interfaces, the media node: dozens of points.
    EXPECT_GT(n, 20);
    std::printf("sensor_first=%d: %d failure points\n", sensor_first, n);
  }
}

}  // namespace
}  // namespace mcf::v4l2test
