// V4L2 sub-devices: see v4l2_subdev.h. Upstream: v4l2-core/v4l2-subdev.c
// (init, states, node open/release) and v4l2-core/v4l2-device.c
// (v4l2_device_register_subdev, _nodes, v4l2_device_unregister_subdev).
#include "core/v4l2/v4l2_subdev.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "core/kernel/report.h"
#include "core/kernel/slab.h"
#include "core/mc/media_device.h"

namespace mcf {
namespace {

// Who calls it: the last v4l2_subdev_put() (media_entity_release), outside
// every graph lock. By then the node's device is released too (it held a
// reference), so nothing reaches the sub-device any more: free its state,
// then let the driver free the memory.
void v4l2_subdev_entity_release(media_entity* entity) {
  v4l2_subdev* sd = container_of(entity, v4l2_subdev, entity);
  v4l2_subdev_cleanup(sd);
  if (sd->internal_ops != nullptr && sd->internal_ops->release != nullptr)
    sd->internal_ops->release(sd);  // may free sd
}

// Who calls it: the last put of sd->devnode.dev (video_device_dev_release):
// the node's last file closed after unregistration, or the unregistration
// itself when no file was open. Drops the node's entity reference (R7).
void v4l2_subdev_devnode_release(video_device* vdev) {
  v4l2_subdev* sd = vdev_to_v4l2_subdev(vdev);
  // From here the node may be registered again (it is out of every table).
  sd->devnode_in_use.store(false, std::memory_order_release);
  v4l2_subdev_put(sd);  // may be the last: touch nothing after
}

// A new state for `sd`, filled by internal_ops->init_state with its lock
// held. -ENOMEM, or init_state's error.
int v4l2_subdev_state_alloc(v4l2_subdev* sd, const char* lock_class, v4l2_subdev_state** out) {
  v4l2_subdev_state* state = kzalloc<v4l2_subdev_state>(lock_class);
  if (state == nullptr) return -ENOMEM;
  state->pads.resize(sd->entity.num_pads);
  int ret = 0;
  if (sd->internal_ops != nullptr && sd->internal_ops->init_state != nullptr) {
    MutexGuard g(&state->lock);
    ret = sd->internal_ops->init_state(sd, state);
  }
  if (ret < 0) {
    kfree(state);
    return ret;
  }
  *out = state;
  return 0;
}

void v4l2_subdev_state_free(v4l2_subdev_state* state) { kfree(state); }

// R7: open takes a reference on the sub-device (try_get: fails once the
// count reached zero, even though the memory is still there because this
// file pins the node), allocates the file handle and its TRY state.
int subdev_open(file* filp) {
  video_device* vdev = video_devdata(filp);
  v4l2_subdev* sd = vdev_to_v4l2_subdev(vdev);
  if (!v4l2_subdev_try_get(sd)) return -ENODEV;
  int ret = -ENOMEM;
  v4l2_subdev_fh* fh = kzalloc<v4l2_subdev_fh>();
  if (fh == nullptr) goto err_put;
  ret = v4l2_subdev_state_alloc(sd, "v4l2_subdev_fh.state.lock", &fh->state);
  if (ret != 0) goto err_free_fh;
  v4l2_fh_init(&fh->vfh, vdev);
  v4l2_fh_add(&fh->vfh);
  filp->private_data = &fh->vfh;
  if (sd->internal_ops != nullptr && sd->internal_ops->open != nullptr) {
    ret = sd->internal_ops->open(sd, fh);
    if (ret < 0) goto err_fh_del;
  }
  return 0;

err_fh_del:
  filp->private_data = nullptr;
  v4l2_fh_del(&fh->vfh);
  v4l2_fh_exit(&fh->vfh);
  v4l2_subdev_state_free(fh->state);
err_free_fh:
  kfree(fh);
err_put:
  v4l2_subdev_put(sd);
  return ret;
}

// The file's last fput. Runs whether or not the node is still registered;
// the node's device (pinned by the file) keeps the memory until it returns.
int subdev_close(file* filp) {
  video_device* vdev = video_devdata(filp);
  v4l2_subdev* sd = vdev_to_v4l2_subdev(vdev);
  v4l2_fh* vfh = file_to_v4l2_fh(filp);
  if (vfh == nullptr) return 0;
  v4l2_subdev_fh* fh = to_v4l2_subdev_fh(vfh);
  if (sd->internal_ops != nullptr && sd->internal_ops->close != nullptr)
    sd->internal_ops->close(sd, fh);
  v4l2_fh_del(vfh);
  v4l2_fh_exit(vfh);
  v4l2_subdev_state_free(fh->state);
  kfree(fh);
  filp->private_data = nullptr;
  // R7: open's reference. Not the last: the node (pinned by this file until
  // v4l2_release's video_put) holds one too.
  v4l2_subdev_put(sd);
  return 0;
}

// No events are modelled: a node without V4L2_SUBDEV_FL_HAS_EVENTS answers
// EPOLLERR (as upstream's subdev_poll); one with it has nothing pending and
// sleeps until unregistration wakes it (R14, through v4l2_poll).
__poll_t subdev_poll(file* filp, poll_table* pt) {
  v4l2_subdev* sd = vdev_to_v4l2_subdev(video_devdata(filp));
  return (sd->flags & V4L2_SUBDEV_FL_HAS_EVENTS) ? 0 : EPOLLERR;
}

// Registers sd's embedded node. The node holds an entity reference from here
// until its release (R7). Caller holds a sub-device reference.
int v4l2_subdev_register_devnode(v4l2_device* v4l2_dev, v4l2_subdev* sd, bool read_only) {
  video_device* vdev = &sd->devnode;
  // A previous node of this sub-device is released: reset what its
  // registration left behind.
  vdev->v4l2_dev = v4l2_dev;
  vdev->fops = &v4l2_subdev_fops;
  vdev->release = v4l2_subdev_devnode_release;
  vdev->dev_parent = sd->dev;
  vdev->intf_devnode = nullptr;
  vdev->mdev_ref = nullptr;
  vdev->minor = -1;
  vdev->num = -1;
  vdev->flags.store(1ul << V4L2_FL_USES_V4L2_FH, std::memory_order_relaxed);
  std::snprintf(vdev->name, sizeof(vdev->name), "%s", sd->name);
  sd->devnode_ro = read_only;

  sd->devnode_in_use.store(true, std::memory_order_relaxed);
  v4l2_subdev_get(sd);  // the node's reference (R7), put by its release
  int ret = video_register_device(vdev, VFL_TYPE_SUBDEV, -1);
  if (ret != 0) {
    // Failures before the node's device had its release do not call it:
    // then the node's reference is still ours to drop.
    if (sd->devnode_in_use.exchange(false)) v4l2_subdev_put(sd);
    return ret;
  }
  media_device* mdev = v4l2_dev->mdev;
  if (mdev != nullptr) {
    {
      // ENUM_ENTITIES reads it under the graph lock.
      MutexGuard g(&mdev->graph_mutex);
      sd->entity.info.major = VIDEO_MAJOR;
      sd->entity.info.minor = static_cast<uint32_t>(vdev->minor);
    }
    // The interface video_register_device created links to the entity.
    if (media_create_intf_link(&sd->entity, &vdev->intf_devnode->intf,
                               MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE) == nullptr) {
      video_unregister_device(vdev);
      return -ENOMEM;
    }
  }
  return 0;
}

void v4l2_subdev_unregister_devnode(v4l2_subdev* sd) {
  media_device* mdev = sd->v4l2_dev->mdev;
  if (mdev != nullptr && (sd->devnode.flags.load() & (1ul << V4L2_FL_NODE_ADDED))) {
    MutexGuard g(&mdev->graph_mutex);
    sd->entity.info.major = 0;
    sd->entity.info.minor = 0;
  }
  // R13: no new calls; waits for the calls in flight. The interface and its
  // link leave the graph. The node's memory stays with its open files.
  video_unregister_device(&sd->devnode);
}

int register_subdev_nodes(v4l2_device* v4l2_dev, bool read_only) {
  // A counted snapshot: registering a node sleeps and takes graph locks, so
  // subdevs_lock (a leaf) is not held across it.
  std::vector<v4l2_subdev*> subdevs;
  {
    MutexGuard g(&v4l2_dev->subdevs_lock);
    for (v4l2_subdev* sd : v4l2_dev->subdevs)
      if (v4l2_subdev_try_get(sd)) subdevs.push_back(sd);
  }
  std::vector<v4l2_subdev*> added;
  int ret = 0;
  for (v4l2_subdev* sd : subdevs) {
    if (!(sd->flags & V4L2_SUBDEV_FL_HAS_DEVNODE)) continue;
    if (sd->v4l2_dev != v4l2_dev) continue;  // unregistered meanwhile
    // Already has a node, or its previous node is still open (see header).
    if (sd->devnode_in_use.load(std::memory_order_acquire)) continue;
    ret = v4l2_subdev_register_devnode(v4l2_dev, sd, read_only);
    if (ret != 0) break;
    added.push_back(sd);
  }
  if (ret != 0) {
    for (auto it = added.rbegin(); it != added.rend(); ++it) v4l2_subdev_unregister_devnode(*it);
  }
  for (v4l2_subdev* sd : subdevs) v4l2_subdev_put(sd);
  return ret;
}

}  // namespace

const v4l2_file_operations v4l2_subdev_fops = {
    .open = subdev_open,
    .release = subdev_close,
    .unlocked_ioctl = v4l2_subdev_ioctl,
    .poll = subdev_poll,
};

void v4l2_subdev_init(v4l2_subdev* sd, const v4l2_subdev_ops* ops) {
  sd->ops = ops;
  sd->entity.obj_type = MEDIA_ENTITY_TYPE_V4L2_SUBDEV;
  sd->entity.function = MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN;
  sd->entity.release = v4l2_subdev_entity_release;
  kref_init(&sd->entity.ref, "media_entity");  // the driver's reference (R4)
}

int v4l2_subdev_init_finalize(v4l2_subdev* sd) {
  if (sd->active_state != nullptr) return 0;
  return v4l2_subdev_state_alloc(sd, "v4l2_subdev.active_state.lock", &sd->active_state);
}

void v4l2_subdev_cleanup(v4l2_subdev* sd) {
  v4l2_subdev_state_free(sd->active_state);
  sd->active_state = nullptr;
}

void v4l2_subdev_lock_state(v4l2_subdev_state* state) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  state->lock.lock();
}

void v4l2_subdev_unlock_state(v4l2_subdev_state* state) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  state->lock.unlock();
}

v4l2_subdev_state* v4l2_subdev_lock_and_get_active_state(v4l2_subdev* sd) {
  if (sd->active_state != nullptr) v4l2_subdev_lock_state(sd->active_state);
  return sd->active_state;
}

v4l2_mbus_framefmt* v4l2_subdev_state_get_format(v4l2_subdev_state* state, unsigned pad) {
  if (state == nullptr) return nullptr;
  state->lock.assert_held();  // lockdep_assert_held(state->lock)
  return pad < state->pads.size() ? &state->pads[pad].format : nullptr;
}

v4l2_rect* v4l2_subdev_state_get_crop(v4l2_subdev_state* state, unsigned pad) {
  if (state == nullptr) return nullptr;
  state->lock.assert_held();
  return pad < state->pads.size() ? &state->pads[pad].crop : nullptr;
}

v4l2_rect* v4l2_subdev_state_get_compose(v4l2_subdev_state* state, unsigned pad) {
  if (state == nullptr) return nullptr;
  state->lock.assert_held();
  return pad < state->pads.size() ? &state->pads[pad].compose : nullptr;
}

int v4l2_subdev_get_fmt(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* format) {
  v4l2_mbus_framefmt* fmt = v4l2_subdev_state_get_format(state, format->pad);
  if (fmt == nullptr) return -EINVAL;
  format->format = *fmt;
  return 0;
}

namespace internal {

void v4l2_subdev_call_check(v4l2_subdev* sd, const char* op) {
  // R16: the bridge's unbind callback ran before the sub-device was
  // unregistered; a caller still holding the pointer after that is a bug
  // (upstream it reaches a removed driver's memory or hardware).
  if (!v4l2_subdev_is_registered(sd)) {
    report(ReportKind::kWarn, sd->name,
           "v4l2_subdev_call on unregistered subdev '%s': %s (R16: a sub-device's operations "
           "must not be called after it was unbound)",
           sd->name, op);
  }
}

int v4l2_subdev_check_which_pad(v4l2_subdev* sd, v4l2_subdev_state* state, uint32_t which,
                                uint32_t pad) {
  if (which != V4L2_SUBDEV_FORMAT_TRY && which != V4L2_SUBDEV_FORMAT_ACTIVE) return -EINVAL;
  if (sd->entity.num_pads != 0 ? pad >= sd->entity.num_pads : pad != 0) return -EINVAL;
  // TRY formats live in a file handle's state only.
  if (which == V4L2_SUBDEV_FORMAT_TRY && state == nullptr) return -EINVAL;
  return 0;
}

}  // namespace internal

int v4l2_device_register_subdev(v4l2_device* v4l2_dev, v4l2_subdev* sd) {
  if (v4l2_dev == nullptr || sd == nullptr || sd->name[0] == '\0') return -EINVAL;
  // A sub-device registers with one v4l2_device at a time (a driver bug).
  MCF_WARN_ON(sd->v4l2_dev != nullptr);
  if (sd->entity.name.empty()) sd->entity.name = sd->name;
  sd->v4l2_dev = v4l2_dev;

  // Step 1: the driver's callback.
  int ret = 0;
  if (sd->internal_ops != nullptr && sd->internal_ops->registered != nullptr) {
    ret = sd->internal_ops->registered(sd);
    if (ret != 0) goto err_unset;
  }
  // Step 2: the graph; takes an entity and a media-device reference (R3).
  if (v4l2_dev->mdev != nullptr) {
    ret = media_device_register_entity(v4l2_dev->mdev, &sd->entity);
    if (ret != 0) goto err_unregistered;
  }
  // Step 3: the list's references: the sub-device (R4) and the v4l2_device
  // (sd->v4l2_dev stays valid until unregistration).
  v4l2_subdev_get(sd);
  v4l2_device_get(v4l2_dev);
  {
    MutexGuard g(&v4l2_dev->subdevs_lock);
    v4l2_dev->subdevs.push_back(sd);
  }
  // Step 4 (R16): from here other drivers may call its operations.
  sd->registered.store(true, std::memory_order_release);
  return 0;

err_unregistered:
  if (sd->internal_ops != nullptr && sd->internal_ops->unregistered != nullptr)
    sd->internal_ops->unregistered(sd);
err_unset:
  sd->v4l2_dev = nullptr;
  return ret;
}

void v4l2_device_unregister_subdev(v4l2_subdev* sd) {
  if (sd == nullptr || sd->v4l2_dev == nullptr) return;
  v4l2_device* v4l2_dev = sd->v4l2_dev;
  {
    // Off the list first: whoever removes it owns the rest of the teardown.
    MutexGuard g(&v4l2_dev->subdevs_lock);
    auto& list = v4l2_dev->subdevs;
    auto it = std::find(list.begin(), list.end(), sd);
    if (it == list.end()) return;
    list.erase(it);
  }
  // Step 1 (R12, R13): the node: new calls fail with -ENODEV, calls in
  // flight finish before this returns; so no ioctl is inside the ops below.
  v4l2_subdev_unregister_devnode(sd);
  // Step 2: the driver's callback.
  if (sd->internal_ops != nullptr && sd->internal_ops->unregistered != nullptr)
    sd->internal_ops->unregistered(sd);
  // Step 3 (R16): its operations may no longer be called by anyone.
  sd->registered.store(false, std::memory_order_release);
  sd->v4l2_dev = nullptr;
  // Step 4: out of the graph, with its links (puts the registration's
  // reference, R3), then the list's references. The put may be the last
  // one: the sub-device may be gone after it.
  media_device_unregister_entity(&sd->entity);
  v4l2_subdev_put(sd);
  v4l2_device_put(v4l2_dev);
}

int v4l2_device_register_subdev_nodes(v4l2_device* v4l2_dev) {
  return register_subdev_nodes(v4l2_dev, false);
}

int v4l2_device_register_ro_subdev_nodes(v4l2_device* v4l2_dev) {
  return register_subdev_nodes(v4l2_dev, true);
}

}  // namespace mcf
