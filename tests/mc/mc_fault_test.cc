// Error paths of the media controller under fault injection (syzkaller's
// fail_nth): the n-th failure point reached while the test driver probes
// fails, for every n until a probe runs through without reaching the n-th
// point. Whatever fails (an allocation, an entity registration, the char
// device, the device add), the unwinding must leave nothing behind: no
// report, no leak, and a device that probed must still work and go away
// cleanly with a file open. A missing put in an unwind path shows as a live
// object (alive_objects() != ""), a put too many as a refcount report, a
// free too early as an ASan use-after-free.
#include <gtest/gtest.h>
#include <linux/media.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <string>

#include "core/kernel/devtmpfs.h"
#include "tests/support/fail_at.h"
#include "tests/mc/mc_test_util.h"

namespace mcf::mctest {
namespace {

using ::mcf::testing::FailAt;

bool devtmpfs_list_has_no_media() {
  for (const std::string& path : devtmpfs_list())
    if (path.rfind("/dev/media", 0) == 0) return false;
  return true;
}

class McFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(alive_objects(), "");
    ASSERT_EQ(::mcf::testing::test_media_driver_register(), 0);
  }
  void TearDown() override {
    ::mcf::testing::test_media_driver_unregister();
    EXPECT_EQ(alive_objects(), "");
  }
};

TEST_F(McFaultTest, ProbeFailingAtEveryPointUnwindsCleanly) {
  std::map<std::string, int> failed_sites;
  int n = 0;
  for (;; ++n) {
    SCOPED_TRACE(n);
    ASSERT_LT(n, 200) << "probe never ran out of failure points";
    FailAt inject(n);
    inject.arm(true);
    platform_device* pdev = ::mcf::testing::test_media_device_add(0);
    inject.arm(false);
    if (!inject.fired()) {
      // The n-th point was never reached: the probe ran through. Done.
      ASSERT_NE(pdev, nullptr);
      ASSERT_NE(::mcf::testing::test_media_drvdata(pdev), nullptr);
      platform_device_unregister(pdev);
      ASSERT_EQ(alive_objects(), "");
      break;
    }
    failed_sites[inject.site()]++;
    if (pdev != nullptr) {
      test_media_drv* drv = ::mcf::testing::test_media_drvdata(pdev);
      if (drv != nullptr) {
        // Probe succeeded despite the failure (a failure it may ignore):
        // the device must work and go away with a file open.
        process proc;
        int fd = proc.open("/dev/" + drv->mdev.devnode.dev.name, O_RDWR_);
        ASSERT_GE(fd, 0);
        media_v2_topology t = {};
        ASSERT_TRUE(proc.mem().write(kArg, &t, sizeof(t)));
        EXPECT_EQ(proc.ioctl(fd, MEDIA_IOC_G_TOPOLOGY, kArg), 0);
        platform_device_unregister(pdev);
        EXPECT_EQ(proc.close(fd), 0);
      } else {
        // Probe failed: the device is there, unbound, and no media node.
        EXPECT_TRUE(devtmpfs_list_has_no_media());
        platform_device_unregister(pdev);
      }
    }
    ASSERT_EQ(alive_objects(), "") << "after failing " << inject.site();
  }
  // The sweep went through the interesting steps of the media probe.
  EXPECT_GT(n, 10);
  EXPECT_GT(failed_sites["kzalloc"], 5);
  EXPECT_EQ(failed_sites["media_device_register_entity"], 4);
  EXPECT_GE(failed_sites["cdev_add"], 1);
  EXPECT_GE(failed_sites["device_add"], 2);  // the platform device's and the devnode's
}

}  // namespace
}  // namespace mcf::mctest
