// Rules R6, R8 and R9 of DESIGN.md §1 for video nodes: the references a
// video node takes on its media device and v4l2_device, and the driver
// memory that must outlive remove() while a file is open.
#include <gtest/gtest.h>

#include "core/fs/process.h"
#include "core/kernel/live_objects.h"
#include "core/kernel/slab.h"
#include "core/mc/media_device.h"
#include "core/v4l2/v4l2_dev.h"
#include "core/v4l2/v4l2_device.h"
#include "tests/support/live_objects_check.h"
#include "tests/support/test_video_driver.h"

namespace mcf {
namespace {

using testing::alive_objects;

// A driver-less bundle: media device, v4l2_device and one video node in one
// allocation, freed by the media device's release (R9's gatekeeper).
struct rules_drv {
  media_device mdev;
  v4l2_device v4l2_dev;
  video_device vdev;
  media_pad pad;
};

bool g_v4l2_released;
bool g_mdev_released;

const v4l2_file_operations kNoFops = {};

void rules_v4l2_release(v4l2_device*) { g_v4l2_released = true; }
void rules_mdev_release(media_device* mdev) {
  g_mdev_released = true;
  kfree(container_of(mdev, rules_drv, mdev));
}
const media_device_ops kRulesMdevOps = {.release = rules_mdev_release};

unsigned mdev_count(rules_drv* d) { return kref_read(&d->mdev.devnode.dev.kobj); }

rules_drv* rules_drv_create() {
  g_v4l2_released = g_mdev_released = false;
  rules_drv* d = kzalloc<rules_drv>();
  d->mdev.ops = &kRulesMdevOps;
  media_device_init(&d->mdev);
  d->v4l2_dev.mdev = &d->mdev;
  d->v4l2_dev.release = rules_v4l2_release;
  v4l2_device_register(nullptr, &d->v4l2_dev);
  d->vdev.v4l2_dev = &d->v4l2_dev;
  d->vdev.fops = &kNoFops;
  d->vdev.release = video_device_release_empty;
  d->pad.flags = MEDIA_PAD_FL_SINK;
  media_entity_pads_init(&d->vdev.entity, 1, &d->pad);
  return d;
}

// R6: registering a video node with a media device takes a media-device
// reference that only the node's release puts. Breaking it: without the
// get, the count after unregistration with the file still open would equal
// `before` (and the final put would underflow); without the put in the
// release, the count after close would stay at before + 1 and the media
// device would never be released (object-leak at the end).
TEST(V4l2Rules, R6_VideoNodeHoldsMediaDeviceUntilItsRelease) {
  ASSERT_EQ(alive_objects(), "");
  rules_drv* d = rules_drv_create();
  unsigned before = mdev_count(d);
  ASSERT_EQ(video_register_device(&d->vdev, VFL_TYPE_VIDEO, -1), 0);
  // Entity registration (R3), its interface (R5) and the node itself (R6).
  EXPECT_EQ(mdev_count(d), before + 3);

  process proc;
  int fd = proc.open("/dev/" + d->vdev.dev.name, O_RDWR_);
  ASSERT_GE(fd, 0);
  video_unregister_device(&d->vdev);
  // Entity and interface are gone from the graph; the node is not released:
  // the open file keeps it, and with it the R6 reference.
  EXPECT_EQ(mdev_count(d), before + 1);
  EXPECT_EQ(proc.close(fd), 0);
  EXPECT_EQ(mdev_count(d), before);

  v4l2_device_put(&d->v4l2_dev);
  EXPECT_FALSE(g_mdev_released);
  media_device_put(&d->mdev);
  EXPECT_TRUE(g_mdev_released);
  EXPECT_EQ(alive_objects(), "");
}

// R9: a registered node holds a v4l2_device reference, so the v4l2_device's
// release (where a driver frees its struct) runs only after the node's
// release. Breaking it: without the node's reference, the driver's put
// right after unregistration would release the v4l2_device while the file
// is still open (g_v4l2_released true too early).
TEST(V4l2Rules, R9_V4l2DeviceReleasedAfterLastNodeRelease) {
  ASSERT_EQ(alive_objects(), "");
  rules_drv* d = rules_drv_create();
  ASSERT_EQ(video_register_device(&d->vdev, VFL_TYPE_VIDEO, -1), 0);
  process proc;
  int fd = proc.open("/dev/" + d->vdev.dev.name, O_RDWR_);
  ASSERT_GE(fd, 0);
  video_unregister_device(&d->vdev);
  v4l2_device_put(&d->v4l2_dev);  // the driver's reference
  EXPECT_FALSE(g_v4l2_released);
  EXPECT_EQ(proc.close(fd), 0);
  EXPECT_TRUE(g_v4l2_released);
  media_device_put(&d->mdev);
  EXPECT_TRUE(g_mdev_released);
  EXPECT_EQ(alive_objects(), "");
}

using V4l2RulesDriverTest = testing::TestVideoFixture;

// R8: remove() unregisters and drops the driver's references; the driver's
// memory stays until the last file handle is gone. Breaking it (a devm or a
// kfree in remove): the struct would be gone right after remove (live count
// 0 below), and the close would touch freed memory (ASan use-after-free).
TEST_F(V4l2RulesDriverTest, R8_DriverMemoryOutlivesRemoveWhileFileOpen) {
  int fd = open_node();
  ASSERT_GE(fd, 0);
  int released = testing::test_video_released_count();
  remove_device();
  EXPECT_EQ(live_objects_count("test_video_drv"), 1);
  EXPECT_EQ(testing::test_video_released_count(), released);
  v4l2_capability cap = {};
  EXPECT_EQ(testing::user_ioctl(proc_, fd, VIDIOC_QUERYCAP, &cap), -ENODEV);
  EXPECT_EQ(proc_.close(fd), 0);
  EXPECT_EQ(live_objects_count("test_video_drv"), 0);
  EXPECT_EQ(testing::test_video_released_count(), released + 1);
}

}  // namespace
}  // namespace mcf
