// V4L2 file handles, after include/media/v4l2-fh.h and v4l2-fh.c.
// A file opened on a video node that uses v4l2_fh has one in private_data.
#pragma once

#include "core/fs/file.h"
#include "core/kernel/live_objects.h"

namespace mcf {

struct video_device;

struct v4l2_fh : Tracked<v4l2_fh> {
  static constexpr const char kObjName[] = "v4l2_fh";
  video_device* vdev = nullptr;
};

void v4l2_fh_init(v4l2_fh* fh, video_device* vdev);
void v4l2_fh_add(v4l2_fh* fh);  // onto vdev->fh_list
void v4l2_fh_del(v4l2_fh* fh);
void v4l2_fh_exit(v4l2_fh* fh);
bool v4l2_fh_is_singular(v4l2_fh* fh);
// Ready-made open/release: allocate an fh into private_data / free it.
int v4l2_fh_open(file* filp);
int v4l2_fh_release(file* filp);
inline v4l2_fh* file_to_v4l2_fh(file* filp) { return static_cast<v4l2_fh*>(filp->private_data); }

}  // namespace mcf
