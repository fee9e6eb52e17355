// The fixture driver with bugs A to E: see fixture_driver.h. Each bug is
// marked "BUG A..E"; everything else follows the lifetime rules as
// tests/support/test_video_driver.cc does.
#include "tests/repro_fixture/fixture_driver.h"

#include <linux/videodev2.h>

#include <cstdio>
#include <thread>

#include "core/kernel/refcount.h"
#include "core/kernel/slab.h"
#include "core/v4l2/v4l2_dev.h"
#include "core/v4l2/v4l2_device.h"
#include "core/v4l2/v4l2_fh.h"
#include "core/v4l2/v4l2_ioctl.h"

namespace mcf::fixture {
namespace {

// Plain memory, devm-managed (BUG C). The counter sits past the first bytes,
// which the C library's allocator reuses for its own links once freed, so a
// late write does not corrupt the heap outside ASan builds.
struct fixture_stats {
  char pad[64];
  int closes;
  int g_fmt_calls;  // BUG E
};

struct fixture_drv : Tracked<fixture_drv> {
  static constexpr const char kObjName[] = "fixture_drv";
  v4l2_device v4l2_dev;
  video_device vdev;
  Mutex lock{"mcf_fixture.lock"};              // every ioctl (vdev.lock)
  Mutex state_lock{"mcf_fixture.state_lock"};  // the input state
  unsigned input = 0;
  kref users;  // the driver's reference (probe..remove) and one per open file
  fixture_stats* stats = nullptr;
};

fixture_drv* file_drv(file* filp) { return container_of(video_devdata(filp), fixture_drv, vdev); }

// Who calls it: the last kref_put of `users`. Nothing to free: the struct
// goes with the v4l2_device (R9).
void fixture_users_release(kref* k) {}

int fixture_open(file* filp) {
  int ret = v4l2_fh_open(filp);
  if (ret != 0) return ret;
  kref_get(&file_drv(filp)->users);  // the file's reference, put in release
  return 0;
}

int fixture_release(file* filp) {
  fixture_drv* drv = file_drv(filp);
  // BUG C: devm memory, freed after remove(); this file may outlive it.
  drv->stats->closes++;
  kref_put(&drv->users, fixture_users_release);
  return v4l2_fh_release(filp);
}

int fixture_querycap(file* filp, void* fh, v4l2_capability* cap) {
  std::snprintf(reinterpret_cast<char*>(cap->driver), sizeof(cap->driver), "%s", kFixtureDriverName);
  std::snprintf(reinterpret_cast<char*>(cap->card), sizeof(cap->card), "MCF repro fixture");
  return 0;
}

// BUG B: the error path returns with state_lock held.
int fixture_enum_input(file* filp, void* fh, v4l2_input* inp) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  fixture_drv* drv = file_drv(filp);
  drv->state_lock.lock();
  if (inp->index != 0) return -EINVAL;
  std::snprintf(reinterpret_cast<char*>(inp->name), sizeof(inp->name), "Fixture 0");
  inp->type = V4L2_INPUT_TYPE_CAMERA;
  drv->state_lock.unlock();
  return 0;
}

int fixture_g_input(file* filp, void* fh, unsigned* i) {
  fixture_drv* drv = file_drv(filp);
  MutexGuard g(&drv->state_lock);
  *i = drv->input;
  return 0;
}

int fixture_s_input(file* filp, void* fh, unsigned i) {
  fixture_drv* drv = file_drv(filp);
  if (i != 0) {
    // BUG A: "drop the reference taken above" -- but nothing was taken.
    kref_put(&drv->users, fixture_users_release);
    return -EINVAL;
  }
  MutexGuard g(&drv->state_lock);
  drv->input = i;
  return 0;
}

// BUG D: the format table is looked up by a bit mask built from the
// user's index, unchecked: an index of 32 or more shifts past the type.
int fixture_enum_fmt(file* filp, void* fh, v4l2_fmtdesc* f) {
  constexpr unsigned kFormatMask = 1u;  // one format, index 0
  if ((kFormatMask & (1u << f->index)) == 0) return -EINVAL;
  f->pixelformat = V4L2_PIX_FMT_GREY;
  return 0;
}

// BUG E: the statistics are updated both by a work item (a thread of its
// own here) and by the ioctl, neither under drv->lock: a data race however
// the two are timed, as nothing orders them.
int fixture_g_fmt(file* filp, void* fh, v4l2_format* f) {
  fixture_stats* stats = file_drv(filp)->stats;
  std::thread work([stats] { stats->g_fmt_calls++; });
  stats->g_fmt_calls++;
  work.join();
  f->fmt.pix.width = 640;
  f->fmt.pix.height = 480;
  f->fmt.pix.pixelformat = V4L2_PIX_FMT_GREY;
  return 0;
}

const v4l2_ioctl_ops fixture_ioctl_ops = {
    .vidioc_querycap = fixture_querycap,
    .vidioc_enum_fmt_vid_cap = fixture_enum_fmt,
    .vidioc_g_fmt_vid_cap = fixture_g_fmt,
    .vidioc_enum_input = fixture_enum_input,
    .vidioc_g_input = fixture_g_input,
    .vidioc_s_input = fixture_s_input,
};

const v4l2_file_operations fixture_fops = {
    .open = fixture_open,
    .release = fixture_release,
    .unlocked_ioctl = video_ioctl2,
};

// Who calls it: the last v4l2_device_put (remove, or the node's release
// after the last close), R9.
void fixture_v4l2_release(v4l2_device* v4l2_dev) {
  kfree(container_of(v4l2_dev, fixture_drv, v4l2_dev));
}

int fixture_probe(platform_device* pdev) {
  fixture_drv* drv = kzalloc<fixture_drv>();
  if (drv == nullptr) return -ENOMEM;
  kref_init(&drv->users, "fixture_drv.users");
  // 1. BUG C's memory.
  drv->stats = devm_kzalloc<fixture_stats>(&pdev->dev);
  if (drv->stats == nullptr) {
    kfree(drv);
    return -ENOMEM;
  }
  // 2. The v4l2_device: from here drv is freed by its release (R9).
  drv->v4l2_dev.release = fixture_v4l2_release;
  int ret = v4l2_device_register(&pdev->dev, &drv->v4l2_dev);
  if (ret != 0) {
    kfree(drv);
    return ret;
  }
  // 3. The node.
  video_device* vdev = &drv->vdev;
  std::snprintf(vdev->name, sizeof(vdev->name), "%s", pdev->name.c_str());
  vdev->v4l2_dev = &drv->v4l2_dev;
  vdev->fops = &fixture_fops;
  vdev->ioctl_ops = &fixture_ioctl_ops;
  vdev->device_caps = V4L2_CAP_VIDEO_CAPTURE;
  vdev->lock = &drv->lock;
  vdev->vfl_dir = VFL_DIR_RX;
  vdev->release = video_device_release_empty;  // embedded: freed with drv
  ret = video_register_device(vdev, VFL_TYPE_VIDEO, -1);
  if (ret != 0) {
    v4l2_device_unregister(&drv->v4l2_dev);
    v4l2_device_put(&drv->v4l2_dev);
    return ret;
  }
  platform_set_drvdata(pdev, drv);
  return 0;
}

void fixture_remove(platform_device* pdev) {
  auto* drv = static_cast<fixture_drv*>(platform_get_drvdata(pdev));
  // 1. R13: waits for calls in flight; later calls fail with -ENODEV.
  video_unregister_device(&drv->vdev);
  // 2. The driver's `users` reference (BUG A underflows here).
  kref_put(&drv->users, fixture_users_release);
  // 3. The driver's v4l2_device reference; may free drv.
  v4l2_device_unregister(&drv->v4l2_dev);
  platform_set_drvdata(pdev, nullptr);
  v4l2_device_put(&drv->v4l2_dev);
}

platform_driver make_driver() {
  platform_driver d;
  d.probe = fixture_probe;
  d.remove = fixture_remove;
  d.driver.name = kFixtureDriverName;
  return d;
}
platform_driver fixture_platform_driver = make_driver();

}  // namespace

int fixture_driver_register() { return platform_driver_register(&fixture_platform_driver); }
void fixture_driver_unregister() { platform_driver_unregister(&fixture_platform_driver); }
platform_device* fixture_device_add(int id) {
  return platform_device_register_simple(kFixtureDriverName, id, 0, 0);
}

}  // namespace mcf::fixture
