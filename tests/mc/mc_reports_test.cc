// Refcount and lock reports triggered on purpose through the media
// controller's API: each must be recognised (the child dies with the report's
// stable first line). If a check were missing, the child would survive (or
// die of something else) and EXPECT_DEATH would fail.
#include <gtest/gtest.h>
#include <linux/media.h>

#include <cerrno>

#include "tests/mc/mc_test_util.h"

namespace mcf::mctest {
namespace {

using McReportsDeathTest = MediaDriverTest;

// The driver's media_device_put done twice: the second one underflows. The
// media device's memory stays (bare device, release only counts), so the
// refcount check is what speaks, not ASan.
TEST_F(McReportsDeathTest, MediaDevicePutOneTooManyIsRefcountUnderflow) {
  bare_media_device b;
  media_device_get(&b.mdev);
  media_device_put(&b.mdev);
  media_device_put(&b.mdev);
  ASSERT_EQ(b.released.load(), 1);
  EXPECT_DEATH(media_device_put(&b.mdev),
               "REPORT refcount-underflow: refcount_t: underflow; use-after-free"
               "(.|\n)*object: device");
}

TEST_F(McReportsDeathTest, EntityPutOneTooManyIsRefcountUnderflow) {
  test_entity te("Twice");
  media_entity_put(&te.entity);
  ASSERT_EQ(te.released.load(), 1);
  EXPECT_DEATH(media_entity_put(&te.entity),
               "REPORT refcount-underflow(.|\n)*object: media_entity");
}

// An interface frees itself at its last put, so a put one too many would
// be a use-after-free first; the count is forced to zero (the state right
// after that last put) to see that the refcount check itself speaks.
TEST_F(McReportsDeathTest, InterfacePutAtZeroIsRefcountUnderflow) {
  media_intf_devnode* nd = media_devnode_create(&drv_->mdev, MEDIA_INTF_T_V4L_SUBDEV, 0, 81, 1);
  ASSERT_NE(nd, nullptr);
  EXPECT_DEATH(
      {
        nd->intf.ref.refcount.set(0);
        media_interface_put(&nd->intf);
      },
      "REPORT refcount-underflow(.|\n)*object: media_interface");
  media_devnode_remove(nd);
}

// Graph functions that take graph_mutex themselves, called with it held:
// the lock checker reports a recursive acquisition instead of deadlocking.
TEST_F(McReportsDeathTest, CreateLinkWithGraphMutexHeldIsRecursiveLock) {
  EXPECT_DEATH(
      {
        MutexGuard g(&drv_->mdev.graph_mutex);
        media_create_pad_link(&drv_->source, 0, &drv_->sink, 0, 0);
      },
      "REPORT recursive-lock: possible recursive locking: task already holds "
      "media_device.graph_mutex");
}

TEST_F(McReportsDeathTest, PipelineStartWithGraphMutexHeldIsRecursiveLock) {
  EXPECT_DEATH(
      {
        media_pipeline pipe;
        MutexGuard g(&drv_->mdev.graph_mutex);
        media_pipeline_start(&drv_->source, &pipe);
      },
      "REPORT recursive-lock(.|\n)*media_device.graph_mutex");
}

// The _locked variants and lookups need graph_mutex.
// The static analysis (-Wthread-safety) would refuse this call; the point is
// the run-time check that catches callers the analysis cannot see.
void find_entity_unlocked(media_device* mdev, uint32_t id) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  media_device_find_entity(mdev, id);
}

TEST_F(McReportsDeathTest, FindEntityWithoutGraphMutexIsReported) {
  EXPECT_DEATH(find_entity_unlocked(&drv_->mdev, media_entity_id(&drv_->proc)),
               "REPORT bug: lockdep_assert_held\\(media_device.graph_mutex\\) failed");
}

// A driver callback that returns to user space with a lock held: the file
// layer's exit check names the lock.
Mutex g_driver_lock("test_media_driver.leaky_lock");
int leaky_link_notify(media_link*, uint32_t, unsigned notification) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (notification == MEDIA_DEV_NOTIFY_PRE_LINK_CH) g_driver_lock.lock();
  return 0;
}

TEST_F(McReportsDeathTest, LockHeldWhenSetupLinkReturnsIsReported) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  static media_device_ops leaky_ops;
  EXPECT_DEATH(
      {
        leaky_ops = *drv_->mdev.ops;
        leaky_ops.link_notify = leaky_link_notify;
        drv_->mdev.ops = &leaky_ops;
        setup_link(fd, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_ENABLED);
      },
      "REPORT lock-held-at-return: lock held when returning to user space from ioctl: "
      "test_media_driver.leaky_lock");
}

// An ioctl that succeeds on a node whose char device was already deleted is
// the file layer's R12 oracle. Reach it by calling the media ioctl handler
// while the node is gone but the registered flag is (wrongly) still set:
// a media device whose cdev was deleted without unregister_prepare.
TEST_F(McReportsDeathTest, IoctlSucceedingOnDeletedNodeIsCallOnUnregistered) {
  bare_media_device b;
  ASSERT_EQ(media_device_register(&b.mdev), 0);
  int fd = proc_.open(b.path(), O_RDWR_);
  ASSERT_GE(fd, 0);
  EXPECT_DEATH(
      {
        // Skips step 1 of media_device_unregister (the flag): a broken
        // unregistration. The ioctl then passes media_ioctl's check.
        media_devnode_unregister(&b.mdev);
        media_device_info info = {};
        ioctl_arg(fd, MEDIA_IOC_DEVICE_INFO, &info);
      },
      "REPORT call-on-unregistered");
  EXPECT_TRUE(media_devnode_unregister_prepare(&b.mdev));
  media_devnode_unregister(&b.mdev);
  EXPECT_EQ(proc_.close(fd), 0);
  media_device_put(&b.mdev);
  EXPECT_EQ(b.released.load(), 1);
}

}  // namespace
}  // namespace mcf::mctest
