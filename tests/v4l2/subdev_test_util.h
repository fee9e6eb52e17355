// Shared scaffolding of the sub-device and v4l2_async tests
// (tests/v4l2/subdev_*_test.cc, async_*_test.cc):
//  - SensorBridgeTest: both test-only drivers registered
//    (tests/support/test_sensor_bridge.h), helpers to add/remove the sensor
//    "mcf-test-sensor.0" and the bridge "mcf-test-bridge.0" in any order, a
//    process, ioctl helpers for sub-device and media nodes, and the teardown
//    check that every model object was released;
//  - owned_subdev: a sub-device whose memory the test owns (its release only
//    counts), registered with a bare v4l2_device, to look at a count after it
//    reached zero without a sanitizer seeing a use-after-free first.
#pragma once

#include <gtest/gtest.h>
#include <linux/media.h>
#include <linux/v4l2-subdev.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "core/fs/process.h"
#include "core/kernel/live_objects.h"
#include "core/kernel/platform.h"
#include "core/v4l2/v4l2_async.h"
#include "core/v4l2/v4l2_device.h"
#include "core/v4l2/v4l2_subdev.h"
#include "tests/support/live_objects_check.h"
#include "tests/support/test_sensor_bridge.h"

namespace mcf::v4l2test {

using ::mcf::testing::alive_objects;
using ::mcf::testing::test_bridge;
using ::mcf::testing::test_sensor;

// User addresses inside the process's arena.
constexpr user_addr_t kArg = user_arena::kDefaultBase;
constexpr user_addr_t kArray = kArg + 0x4000;
constexpr size_t kArenaSize = 1 << 20;
constexpr user_addr_t kBadPtr = 4;  // outside every arena

inline v4l2_subdev_format make_format(uint32_t which, uint32_t pad, uint32_t width = 0,
                                      uint32_t height = 0, uint32_t code = 0) {
  v4l2_subdev_format f;
  std::memset(&f, 0, sizeof(f));
  f.which = which;
  f.pad = pad;
  f.format.width = width;
  f.format.height = height;
  f.format.code = code;
  return f;
}

// Sends an ioctl from `proc` with *arg copied to `at` and back.
template <typename T>
long ioctl_arg(process& proc, int fd, unsigned long cmd, T* arg, user_addr_t at = kArg) {
  EXPECT_TRUE(proc.mem().write(at, arg, sizeof(*arg)));
  long ret = proc.ioctl(fd, cmd, at);
  EXPECT_TRUE(proc.mem().read(at, arg, sizeof(*arg)));
  return ret;
}

class SensorBridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Death tests re-run the test in a fresh process: safe with threads.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    ASSERT_EQ(alive_objects(), "");
    ASSERT_EQ(::mcf::testing::test_sensor_driver_register(), 0);
    ASSERT_EQ(::mcf::testing::test_bridge_driver_register(), 0);
  }
  void TearDown() override {
    proc_.close_all();
    remove_sensor();
    remove_bridge();
    ::mcf::testing::test_bridge_driver_unregister();
    ::mcf::testing::test_sensor_driver_unregister();
    EXPECT_EQ(v4l2_async_waiting_subdev_count(), 0u);
    EXPECT_EQ(v4l2_async_notifier_count(), 0u);
    EXPECT_EQ(alive_objects(), "");
  }

  void add_sensor() {
    sensor_pdev_ = ::mcf::testing::test_sensor_add(0);
    ASSERT_NE(sensor_pdev_, nullptr);
    ASSERT_NE(sensor(), nullptr);
  }
  void add_bridge() {
    bridge_pdev_ = ::mcf::testing::test_bridge_add(0);
    ASSERT_NE(bridge_pdev_, nullptr);
    ASSERT_NE(bridge(), nullptr);
  }
  void bind_both() {
    add_sensor();
    add_bridge();
    ASSERT_TRUE(v4l2_subdev_is_registered(&sensor()->sd));
    ASSERT_EQ(bridge()->complete_calls.load(), 1);
  }
  // The driver's remove() runs. The structs stay while references remain.
  void remove_sensor() {
    if (sensor_pdev_ == nullptr) return;
    platform_device_unregister(sensor_pdev_);
    sensor_pdev_ = nullptr;
  }
  void remove_bridge() {
    if (bridge_pdev_ == nullptr) return;
    platform_device_unregister(bridge_pdev_);
    bridge_pdev_ = nullptr;
  }

  test_sensor* sensor() { return ::mcf::testing::test_sensor_drvdata(sensor_pdev_); }
  test_bridge* bridge() { return ::mcf::testing::test_bridge_drvdata(bridge_pdev_); }
  std::string sensor_node() { return ::mcf::testing::subdev_node_path(&sensor()->sd); }
  std::string receiver_node() { return ::mcf::testing::subdev_node_path(&bridge()->receiver); }
  std::string media_node() { return ::mcf::testing::media_node_path(&bridge()->mdev); }

  int open_node(const std::string& path) { return proc_.open(path, O_RDWR_); }

  template <typename T>
  long ioctl(int fd, unsigned long cmd, T* arg, user_addr_t at = kArg) {
    return ioctl_arg(proc_, fd, cmd, arg, at);
  }

  long g_fmt(int fd, uint32_t which, uint32_t pad, v4l2_mbus_framefmt* out) {
    v4l2_subdev_format f = make_format(which, pad);
    long ret = ioctl(fd, VIDIOC_SUBDEV_G_FMT, &f);
    if (out != nullptr) *out = f.format;
    return ret;
  }

  // Names of the entities ENUM_ENTITIES lists on a media node fd.
  std::vector<std::string> entity_names(int fd) {
    std::vector<std::string> names;
    media_entity_desc d = {};
    d.id = MEDIA_ENT_ID_FLAG_NEXT;
    while (ioctl(fd, MEDIA_IOC_ENUM_ENTITIES, &d) == 0) {
      names.push_back(d.name);
      d.id |= MEDIA_ENT_ID_FLAG_NEXT;
    }
    return names;
  }
  // The outbound data links of the entity with id `id`.
  std::vector<media_link_desc> links_of(int fd, uint32_t id) {
    media_entity_desc d = {};
    d.id = id;
    EXPECT_EQ(ioctl(fd, MEDIA_IOC_ENUM_ENTITIES, &d), 0);
    media_links_enum le = {};
    le.entity = id;
    le.links = reinterpret_cast<media_link_desc*>(static_cast<uintptr_t>(kArray));
    EXPECT_EQ(ioctl(fd, MEDIA_IOC_ENUM_LINKS, &le), 0);
    std::vector<media_link_desc> links(d.links);
    EXPECT_TRUE(proc_.mem().read(kArray, links.data(), links.size() * sizeof(media_link_desc)));
    return links;
  }

  process proc_{kArenaSize};
  platform_device* sensor_pdev_ = nullptr;
  platform_device* bridge_pdev_ = nullptr;
};

// A sub-device in test-owned memory: two pads (sink 0, source 1), a node,
// formats in the state. Its release only counts, so a test may look at it
// after the count reached zero; the test frees the memory (it outlives every
// reference by construction: teardown() drops them all).
struct owned_subdev {
  v4l2_device v4l2_dev;
  v4l2_subdev sd;
  media_pad pads[2];
  std::atomic<int> released{0};
  v4l2_subdev_internal_ops internal_ops;

  static int set_fmt(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* format) {
    *v4l2_subdev_state_get_format(state, format->pad) = format->format;
    return 0;
  }
  static const v4l2_subdev_ops* ops() {
    static const v4l2_subdev_pad_ops pad = {.get_fmt = v4l2_subdev_get_fmt, .set_fmt = set_fmt};
    static const v4l2_subdev_ops o = {.pad = &pad};
    return &o;
  }

  explicit owned_subdev(const char* name) {
    v4l2_device_register(nullptr, &v4l2_dev);
    std::snprintf(v4l2_dev.name, sizeof(v4l2_dev.name), "owned");
    v4l2_subdev_init(&sd, ops());
    internal_ops.release = [](v4l2_subdev* s) {
      container_of(s, owned_subdev, sd)->released.fetch_add(1);
    };
    sd.internal_ops = &internal_ops;
    std::snprintf(sd.name, sizeof(sd.name), "%s", name);
    sd.flags |= V4L2_SUBDEV_FL_HAS_DEVNODE;
    pads[0].flags = MEDIA_PAD_FL_SINK;
    pads[1].flags = MEDIA_PAD_FL_SOURCE;
    media_entity_pads_init(&sd.entity, 2, pads);
    EXPECT_EQ(v4l2_subdev_init_finalize(&sd), 0);
  }
  // Registers the sub-device and its node (read-only if asked).
  void register_all(bool read_only = false) {
    ASSERT_EQ(v4l2_device_register_subdev(&v4l2_dev, &sd), 0);
    ASSERT_EQ(read_only ? v4l2_device_register_ro_subdev_nodes(&v4l2_dev)
                        : v4l2_device_register_subdev_nodes(&v4l2_dev),
              0);
  }
  std::string path() { return ::mcf::testing::subdev_node_path(&sd); }
  // Unregisters, drops the driver's references: the release runs once the
  // last file is closed.
  void teardown() {
    v4l2_device_unregister(&v4l2_dev);
    v4l2_subdev_put(&sd);
    v4l2_device_put(&v4l2_dev);
  }
};

}  // namespace mcf::v4l2test
