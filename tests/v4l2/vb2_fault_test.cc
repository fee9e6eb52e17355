// Error paths under fault injection (fail_nth): the test video driver's
// probe failing at every failure point it reaches, and REQBUFS with buffer
// allocations failing. The unwinding must leave nothing behind (a missing put
// is a live object, a put too many a refcount report, a free too early an
// ASan report), and partial allocations follow upstream: fewer buffers if
// the driver accepts them, -ENOMEM below min_queued_buffers.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/kernel/devtmpfs.h"
#include "tests/support/fail_at.h"
#include "core/kernel/live_objects.h"
#include "tests/support/test_video_driver.h"

namespace mcf {
namespace {

using namespace mcf::testing;

bool no_video_node() {
  for (const std::string& path : devtmpfs_list())
    if (path.rfind("/dev/video", 0) == 0) return false;
  return true;
}

class Vb2FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(alive_objects(), "");
    ASSERT_EQ(test_video_driver_register(), 0);
  }
  void TearDown() override {
    test_video_driver_unregister();
    EXPECT_EQ(alive_objects(), "");
  }
};

TEST_F(Vb2FaultTest, ProbeFailingAtEveryPointUnwindsCleanly) {
  std::map<std::string, int> failed_sites;
  int n = 0;
  for (;; ++n) {
    SCOPED_TRACE(n);
    ASSERT_LT(n, 100) << "probe never ran out of failure points";
    FailAt inject(n);
    inject.arm(true);
    platform_device* pdev = test_video_device_add(0);
    inject.arm(false);
    if (!inject.fired()) {
      ASSERT_NE(pdev, nullptr);
      ASSERT_NE(test_video_drvdata(pdev), nullptr);
      platform_device_unregister(pdev);
      ASSERT_EQ(alive_objects(), "");
      break;
    }
    failed_sites[inject.site()]++;
    if (pdev != nullptr) {
      test_video_drv* drv = test_video_drvdata(pdev);
      if (drv != nullptr) {
        // Bound despite the failure: it must stream and go away with a file open.
        process proc;
        int fd = proc.open(test_video_devnode(drv), O_RDWR_);
        ASSERT_GE(fd, 0);
        EXPECT_EQ(user_reqbufs(proc, fd, 2), 0);
        platform_device_unregister(pdev);
        EXPECT_EQ(proc.close(fd), 0);
      } else {
        EXPECT_TRUE(no_video_node());
        platform_device_unregister(pdev);
      }
    }
    ASSERT_EQ(alive_objects(), "") << "after failing " << inject.site();
  }
  EXPECT_GE(failed_sites["kzalloc"], 1);
  EXPECT_GE(failed_sites["request_irq"], 1);
  EXPECT_GE(failed_sites["cdev_add"], 1);
  EXPECT_GE(failed_sites["device_add"], 2);  // the platform device's and the node's
}

class Vb2ReqbufsFaultTest : public TestVideoFixture {
 protected:
  // REQBUFS(4) with the n-th allocation failing: the result and the count.
  long reqbufs_failing(int fd, int n, unsigned* count) {
    FailAt inject(n);
    inject.arm(true);
    v4l2_requestbuffers req;
    long ret = user_reqbufs(proc_, fd, 4, user_arena::kDefaultBase, &req);
    inject.arm(false);
    EXPECT_TRUE(inject.fired());
    EXPECT_EQ(inject.site(), "kzalloc");
    *count = req.count;
    return ret;
  }
};

TEST_F(Vb2ReqbufsFaultTest, PartialAllocation) {
  int fd = open_node();
  unsigned count = 0;
  // First buffer: nothing allocated.
  EXPECT_EQ(reqbufs_failing(fd, 0, &count), -ENOMEM);
  EXPECT_EQ(live_objects_count("vb2_v4l2_buffer"), 0);
  // Second: one buffer is below min_queued_buffers (2): -ENOMEM, freed.
  EXPECT_EQ(reqbufs_failing(fd, 1, &count), -ENOMEM);
  EXPECT_EQ(live_objects_count("vb2_v4l2_buffer"), 0);
  // Third: two buffers, which the driver accepts.
  EXPECT_EQ(reqbufs_failing(fd, 2, &count), 0);
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(live_objects_count("vb2_v4l2_buffer"), 2);
  // The successful REQBUFS made this file the owner.
  int other = open_node();
  EXPECT_EQ(user_reqbufs(proc_, other, 2), -EBUSY);
  start_capture(fd, 2, 2);
}

}  // namespace
}  // namespace mcf
