// V4L2 file handles: see v4l2_fh.h. Upstream: v4l2-core/v4l2-fh.c.
#include "core/v4l2/v4l2_fh.h"

#include <algorithm>
#include <cerrno>

#include "core/kernel/slab.h"
#include "core/v4l2/v4l2_dev.h"

namespace mcf {

void v4l2_fh_init(v4l2_fh* fh, video_device* vdev) { fh->vdev = vdev; }

void v4l2_fh_add(v4l2_fh* fh) {
  SpinGuard g(&fh->vdev->fh_lock);
  fh->vdev->fh_list.push_back(fh);
}

void v4l2_fh_del(v4l2_fh* fh) {
  SpinGuard g(&fh->vdev->fh_lock);
  auto& list = fh->vdev->fh_list;
  auto it = std::find(list.begin(), list.end(), fh);
  if (it != list.end()) list.erase(it);
}

void v4l2_fh_exit(v4l2_fh* fh) { fh->vdev = nullptr; }

bool v4l2_fh_is_singular(v4l2_fh* fh) {
  SpinGuard g(&fh->vdev->fh_lock);
  return fh->vdev->fh_list.size() == 1 && fh->vdev->fh_list.front() == fh;
}

int v4l2_fh_open(file* filp) {
  v4l2_fh* fh = kzalloc<v4l2_fh>();
  if (fh == nullptr) return -ENOMEM;
  v4l2_fh_init(fh, video_devdata(filp));
  v4l2_fh_add(fh);
  filp->private_data = fh;
  return 0;
}

int v4l2_fh_release(file* filp) {
  v4l2_fh* fh = file_to_v4l2_fh(filp);
  if (fh != nullptr) {
    v4l2_fh_del(fh);
    v4l2_fh_exit(fh);
    kfree(fh);
    filp->private_data = nullptr;
  }
  return 0;
}

}  // namespace mcf
