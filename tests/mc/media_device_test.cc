// The media device end to end with the test-only driver: probe, open, ioctls,
// remove with the file open, close, and every live count back to zero.
#include "core/mc/media_device.h"

#include <gtest/gtest.h>
#include <linux/media.h>

#include <cstring>

#include "core/fs/process.h"
#include "core/kernel/live_objects.h"
#include "tests/support/live_objects_check.h"
#include "tests/support/test_media_driver.h"

namespace mcf {
namespace {

using testing::alive_objects;

class MediaDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(alive_objects(), "");
    ASSERT_EQ(testing::test_media_driver_register(), 0);
    pdev_ = testing::test_media_device_add(0);
    ASSERT_NE(pdev_, nullptr);
    ASSERT_NE(testing::test_media_drvdata(pdev_), nullptr);
  }
  void TearDown() override {
    proc_.close_all();
    if (pdev_ != nullptr) platform_device_unregister(pdev_);
    testing::test_media_driver_unregister();
    EXPECT_EQ(alive_objects(), "");
  }

  template <typename T>
  long ioctl_with(int fd, unsigned long cmd, T* arg, user_addr_t at = user_arena::kDefaultBase) {
    EXPECT_TRUE(proc_.mem().write(at, arg, sizeof(*arg)));
    long ret = proc_.ioctl(fd, cmd, at);
    EXPECT_TRUE(proc_.mem().read(at, arg, sizeof(*arg)));
    return ret;
  }

  process proc_;
  platform_device* pdev_ = nullptr;
};

TEST_F(MediaDeviceTest, DeviceInfo) {
  int fd = proc_.open("/dev/media0", O_RDWR_);
  ASSERT_GE(fd, 0);
  media_device_info info;
  std::memset(&info, 0xff, sizeof(info));
  ASSERT_EQ(ioctl_with(fd, MEDIA_IOC_DEVICE_INFO, &info), 0);
  EXPECT_STREQ(info.driver, "mcf-test-media");
  EXPECT_STREQ(info.model, "MCF TEST MDEV");
  EXPECT_STREQ(info.bus_info, "platform:mcf-test-media");
  EXPECT_STREQ(info.serial, "");
  EXPECT_EQ(info.media_version, MCF_LINUX_VERSION_CODE);
  EXPECT_EQ(info.reserved[0], 0u);
}

TEST_F(MediaDeviceTest, RemoveWithFileOpenThenClose) {
  int fd = proc_.open("/dev/media0", O_RDWR_);
  ASSERT_GE(fd, 0);
  platform_device_unregister(pdev_);
  pdev_ = nullptr;
  // R12: the node is gone; the memory is not (R1, R2).
  media_device_info info = {};
  EXPECT_EQ(ioctl_with(fd, MEDIA_IOC_DEVICE_INFO, &info), -EIO);
  EXPECT_EQ(proc_.open("/dev/media0", O_RDWR_), -ENOENT);
  EXPECT_EQ(live_objects_count("test_media_drv"), 1);
  int released = testing::test_media_released_count();
  EXPECT_EQ(proc_.close(fd), 0);
  EXPECT_EQ(testing::test_media_released_count(), released + 1);
}

}  // namespace
}  // namespace mcf
