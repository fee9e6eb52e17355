// Real-thread variants of the v4l2_async / sub-device lifetime tests: a
// sensor or a bridge removed while other threads run sub-device ioctls,
// media ioctls and bridge-to-sensor calls in loops; probes racing each other.
// They are written for ThreadSanitizer and AddressSanitizer: the assertions
// only check that every call returns one of its legal codes; the sanitizers
// and the model's reports check the rest (R4, R7, R8, R12, R13, R16).
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "tests/v4l2/subdev_test_util.h"

namespace mcf::v4l2test {
namespace {

using AsyncThreadsTest = SensorBridgeTest;

// Runs `body(iteration)` in a loop on its own thread until stopped.
class Looper {
 public:
  Looper(std::function<void(int)> body) : body_(std::move(body)) {
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

// `ret` is one of `allowed`.
void expect_one_of(long ret, std::initializer_list<long> allowed, const char* what) {
  for (long a : allowed)
    if (ret == a) return;
  ADD_FAILURE() << what << " returned " << ret;
}

// Ioctls on the sensor's node in a loop, with their own argument slot.
std::function<void(int)> subdev_ioctl_loop(process& proc, int fd, user_addr_t slot,
                                           std::atomic<int>* enodev) {
  return [&proc, fd, slot, enodev](int i) {
    long ret;
    switch (i % 4) {
      case 0: {
        v4l2_subdev_format f = make_format(V4L2_SUBDEV_FORMAT_ACTIVE, 0);
        ret = ioctl_arg(proc, fd, VIDIOC_SUBDEV_G_FMT, &f, slot);
        break;
      }
      case 1: {
        v4l2_subdev_format f = make_format(V4L2_SUBDEV_FORMAT_TRY, 0, 640 + 2 * (i % 64), 480);
        ret = ioctl_arg(proc, fd, VIDIOC_SUBDEV_S_FMT, &f, slot);
        break;
      }
      case 2: {
        v4l2_subdev_format f = make_format(V4L2_SUBDEV_FORMAT_ACTIVE, 0, 1024 + 2 * (i % 64), 768);
        ret = ioctl_arg(proc, fd, VIDIOC_SUBDEV_S_FMT, &f, slot);
        break;
      }
      default: {
        v4l2_subdev_mbus_code_enum c = {};
        c.which = V4L2_SUBDEV_FORMAT_ACTIVE;
        c.index = static_cast<uint32_t>(i % 2);
        ret = ioctl_arg(proc, fd, VIDIOC_SUBDEV_ENUM_MBUS_CODE, &c, slot);
        break;
      }
    }
    expect_one_of(ret, {0, -ENODEV}, "sub-device ioctl");
    if (ret == -ENODEV) enodev->fetch_add(1);
  };
}

std::function<void(int)> media_ioctl_loop(process& proc, int fd, user_addr_t slot) {
  return [&proc, fd, slot](int i) {
    media_v2_topology topo = {};
    long ret = ioctl_arg(proc, fd, MEDIA_IOC_G_TOPOLOGY, &topo, slot);
    expect_one_of(ret, {0, -EIO}, "G_TOPOLOGY");
    media_entity_desc d = {};
    d.id = MEDIA_ENT_ID_FLAG_NEXT;
    ret = ioctl_arg(proc, fd, MEDIA_IOC_ENUM_ENTITIES, &d, slot);
    // -EINVAL: the call passed the registration check just before
    // media_device_unregister() emptied the graph (the memory stays, R1).
    expect_one_of(ret, {0, -EIO, -EINVAL}, "ENUM_ENTITIES");
  };
}

std::function<void(int)> bridge_uses_sensor_loop(test_bridge* b) {
  return [b](int i) {
    v4l2_mbus_framefmt fmt;
    expect_one_of(testing::test_bridge_sensor_get_fmt(b, &fmt), {0, -ENODEV}, "bridge get_fmt");
    expect_one_of(testing::test_bridge_s_stream(b, i % 2), {0, -ENODEV}, "bridge s_stream");
  };
}

// The sensor leaves while its node, the receiver's node, the media node and
// the bridge's own calls into the sensor are busy. Every call either works or
// sees the sensor gone; nothing touches freed memory (ASan), nothing races
// (TSan), no sub-device op runs after unbind (R16 report).
TEST_F(AsyncThreadsTest, SensorRemovedWhileEveryoneIsBusy) {
  bind_both();
  test_bridge* b = bridge();
  int sfd = open_node(sensor_node());
  int rfd = open_node(receiver_node());
  int mfd = open_node(media_node());
  ASSERT_GE(sfd, 0);
  ASSERT_GE(rfd, 0);
  ASSERT_GE(mfd, 0);
  std::atomic<int> sensor_enodev{0}, receiver_enodev{0};
  {
    Looper t1(subdev_ioctl_loop(proc_, sfd, kArg + 0x100, &sensor_enodev));
    Looper t2(subdev_ioctl_loop(proc_, rfd, kArg + 0x200, &receiver_enodev));
    Looper t3(media_ioctl_loop(proc_, mfd, kArg + 0x300));
    Looper t4(bridge_uses_sensor_loop(b));
    t1.wait_for(50);
    t2.wait_for(50);
    t3.wait_for(20);
    t4.wait_for(50);
    remove_sensor();
    while (sensor_enodev.load() < 10) std::this_thread::yield();
    t2.wait_for(200);
  }
  EXPECT_EQ(receiver_enodev.load(), 0);  // the bridge is still there
  EXPECT_EQ(testing::test_bridge_sensor(b), nullptr);
  EXPECT_EQ(testing::test_bridge_s_stream(b, 1), -ENODEV);
}

// The bridge leaves while the same calls run. Its struct is kept by the open
// files (R8, R9); the bridge's calls into the sensor see it unbound.
TEST_F(AsyncThreadsTest, BridgeRemovedWhileEveryoneIsBusy) {
  bind_both();
  test_bridge* b = bridge();
  media_device_get(&b->mdev);  // keeps `b` for the bridge loop after remove()
  int sfd = open_node(sensor_node());
  int rfd = open_node(receiver_node());
  int mfd = open_node(media_node());
  ASSERT_GE(sfd, 0);
  ASSERT_GE(rfd, 0);
  ASSERT_GE(mfd, 0);
  std::atomic<int> sensor_enodev{0}, receiver_enodev{0};
  {
    Looper t1(subdev_ioctl_loop(proc_, sfd, kArg + 0x100, &sensor_enodev));
    Looper t2(subdev_ioctl_loop(proc_, rfd, kArg + 0x200, &receiver_enodev));
    Looper t3(media_ioctl_loop(proc_, mfd, kArg + 0x300));
    Looper t4(bridge_uses_sensor_loop(b));
    t1.wait_for(50);
    t2.wait_for(50);
    t3.wait_for(20);
    t4.wait_for(50);
    remove_bridge();
    while (sensor_enodev.load() < 10 || receiver_enodev.load() < 10) std::this_thread::yield();
    t3.wait_for(100);
    t4.wait_for(100);
  }
  EXPECT_FALSE(v4l2_subdev_is_registered(&sensor()->sd));
  EXPECT_EQ(v4l2_async_waiting_subdev_count(), 1u);
  proc_.close_all();
  // The sensor still holds the old media device (its last registration's).
  EXPECT_EQ(live_objects_count("test_bridge"), 1);
  media_device_put(&b->mdev);
  remove_sensor();
}

// Sensor and bridge probe at the same time, then are removed at the same
// time, many times: exactly one binding each round, nothing left behind.
TEST_F(AsyncThreadsTest, ConcurrentProbeAndRemove) {
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> go{0};
    auto start = [&go] {
      go.fetch_add(1);
      while (go.load() < 2) std::this_thread::yield();
    };
    std::thread ts([&] {
      start();
      sensor_pdev_ = testing::test_sensor_add(0);
    });
    std::thread tb([&] {
      start();
      bridge_pdev_ = testing::test_bridge_add(0);
    });
    ts.join();
    tb.join();
    ASSERT_NE(sensor(), nullptr);
    ASSERT_NE(bridge(), nullptr);
    EXPECT_EQ(bridge()->bound_calls.load(), 1);
    EXPECT_EQ(bridge()->complete_calls.load(), 1);
    EXPECT_TRUE(v4l2_subdev_is_registered(&sensor()->sd));
    int sfd = open_node(sensor_node());
    ASSERT_GE(sfd, 0);

    go.store(0);
    platform_device* s = sensor_pdev_;
    platform_device* b = bridge_pdev_;
    sensor_pdev_ = bridge_pdev_ = nullptr;
    std::thread rs([&] {
      start();
      platform_device_unregister(s);
    });
    std::thread rb([&] {
      start();
      platform_device_unregister(b);
    });
    rs.join();
    rb.join();
    EXPECT_EQ(proc_.close(sfd), 0);
    EXPECT_EQ(v4l2_async_waiting_subdev_count(), 0u);
    ASSERT_EQ(alive_objects(), "") << "round " << round;
  }
}

// The sensor comes and goes while the bridge keeps using it: every call
// lands on a bound sensor or is refused.
TEST_F(AsyncThreadsTest, SensorComesAndGoesWhileTheBridgeStreams) {
  add_bridge();
  test_bridge* b = bridge();
  {
    Looper t(bridge_uses_sensor_loop(b));
    for (int round = 0; round < 10; ++round) {
      add_sensor();
      t.wait_for(20 * (round + 1));
      remove_sensor();
    }
  }
  EXPECT_EQ(b->bound_calls.load(), 10);
  EXPECT_EQ(b->unbind_calls.load(), 10);
  EXPECT_EQ(b->complete_calls.load(), 10);
}

}  // namespace
}  // namespace mcf::v4l2test
