// V4L2 sub-devices, after include/media/v4l2-subdev.h and
// drivers/media/v4l2-core/v4l2-subdev.c (+ the sub-device parts of
// v4l2-device.c).
//
// A sub-device is a media entity with operations (pad, video, core) that
// other drivers call through v4l2_subdev_call(), and optionally a device node
// /dev/v4l-subdevN whose ioctls are those of <linux/v4l2-subdev.h>.
//
// Lifetime (DESIGN.md §1):
//  R4  The sub-device is counted through its entity: v4l2_subdev_get/put/
//      try_get wrap media_entity_get/put/try_get. One allocation (the
//      driver's struct embedding the sub-device, its pads and its devnode)
//      is released as a whole by the entity's release, which frees the
//      active state and then calls internal_ops->release: the driver frees
//      its struct there.
//      References on the entity: the driver's (media_entity_pads_init or
//      v4l2_subdev_init, put by the driver at remove), the v4l2_device's
//      subdev list (register .. unregister), the media-device registration
//      (R3), the device node (registration .. the node's release), every
//      open file (R7), v4l2_async's waiting list, graph walkers (R10).
//      No reference points back: the entity pins nothing of the node, so
//      there is no cycle (R11): node device -> entity -> memory.
//  R7  The sub-device node is a video_device embedded here (`devnode`).
//      Its struct device holds one entity reference, put by its release;
//      open() does v4l2_subdev_try_get() (-ENODEV once the count reached
//      zero) and the file's release puts it.
//  R12/R13 The node is a video node: calls on it fail with -ENODEV once it is
//      unregistered, and v4l2_device_unregister_subdev() first unregisters
//      the node (waiting for calls in flight), so no ioctl is inside the
//      sub-device's operations after it returns.
//  R16 Sub-device operations called by another driver (a bridge calling its
//      sensor) are allowed only while the sub-device is registered with a
//      v4l2_device. v4l2_subdev_call() on an unregistered sub-device is a
//      report (kWarn "v4l2_subdev_call on unregistered subdev"): a bridge
//      must stop using a sensor in its v4l2_async unbind callback, which runs
//      before the sensor is unregistered. A driver calls its own operations
//      directly, not through v4l2_subdev_call(), before registration.
//
// Re-registration: a sub-device bound through v4l2_async may be registered
// with a new v4l2_device after the old one went away (bridge re-probe). Its
// embedded node can be registered again only once the previous node was
// released (its last file closed): until then v4l2_device_register_subdev_
// nodes() skips it, and the sub-device has no node in the new graph.
//
// Locking: each state (the active one, and each file handle's TRY state) has
// a mutex; operations that take a state are called with it held (the ioctl
// path and v4l2_subdev_call with a null state lock the active state).
// Lock order: v4l2_async.list_lock -> v4l2_device.subdevs_lock (a leaf: held
// only to edit the list); video_device.lock (if the driver set one) ->
// v4l2_subdev state lock.
#pragma once

#include <linux/v4l2-subdev.h>

#include <atomic>
#include <string>
#include <type_traits>
#include <vector>

#include "core/kernel/container_of.h"
#include "core/kernel/kerrno.h"
#include "core/kernel/live_objects.h"
#include "core/kernel/lock.h"
#include "core/mc/media_entity.h"
#include "core/v4l2/v4l2_dev.h"
#include "core/v4l2/v4l2_device.h"
#include "core/v4l2/v4l2_fh.h"

namespace mcf {

struct v4l2_subdev;
struct v4l2_subdev_fh;
struct v4l2_async_connection;

// sd->flags bits (upstream values).
constexpr uint32_t V4L2_SUBDEV_FL_IS_I2C = 1u << 0;
constexpr uint32_t V4L2_SUBDEV_FL_IS_SPI = 1u << 1;
constexpr uint32_t V4L2_SUBDEV_FL_HAS_DEVNODE = 1u << 2;
constexpr uint32_t V4L2_SUBDEV_FL_HAS_EVENTS = 1u << 3;

// Per-pad configuration of a state.
struct v4l2_subdev_pad_config {
  v4l2_mbus_framefmt format;
  v4l2_rect crop;
  v4l2_rect compose;
};

// A sub-device state: the ACTIVE one (sd->active_state, owned by the
// sub-device) or a file handle's TRY state. `pads` is read and written with
// `lock` held (the accessors below assert it).
struct v4l2_subdev_state : Tracked<v4l2_subdev_state> {
  static constexpr const char kObjName[] = "v4l2_subdev_state";
  explicit v4l2_subdev_state(const char* lock_class) : lock(lock_class) {}
  Mutex lock;
  std::vector<v4l2_subdev_pad_config> pads;
};

struct v4l2_subdev_core_ops {
  // Private ioctls: anything the sub-device node does not know.
  long (*ioctl)(v4l2_subdev* sd, unsigned int cmd, void* arg) = nullptr;
  int (*log_status)(v4l2_subdev* sd) = nullptr;
};

struct v4l2_subdev_video_ops {
  int (*s_stream)(v4l2_subdev* sd, int enable) = nullptr;
};

// Pad operations take the state to act on (held locked by the caller) and
// an argument whose `which` (TRY/ACTIVE) and `pad` v4l2_subdev_call()
// validates before calling the driver (upstream's call_*() wrappers).
struct v4l2_subdev_pad_ops {
  int (*enum_mbus_code)(v4l2_subdev* sd, v4l2_subdev_state* state,
                        v4l2_subdev_mbus_code_enum* code) = nullptr;
  int (*enum_frame_size)(v4l2_subdev* sd, v4l2_subdev_state* state,
                         v4l2_subdev_frame_size_enum* fse) = nullptr;
  int (*get_fmt)(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* format) = nullptr;
  int (*set_fmt)(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* format) = nullptr;
  int (*get_selection)(v4l2_subdev* sd, v4l2_subdev_state* state,
                       v4l2_subdev_selection* sel) = nullptr;
  int (*set_selection)(v4l2_subdev* sd, v4l2_subdev_state* state,
                       v4l2_subdev_selection* sel) = nullptr;
};

struct v4l2_subdev_ops {
  const v4l2_subdev_core_ops* core = nullptr;
  const v4l2_subdev_video_ops* video = nullptr;
  const v4l2_subdev_pad_ops* pad = nullptr;
};

// Called by the framework only (never through v4l2_subdev_call).
struct v4l2_subdev_internal_ops {
  // Fills a new state (the active one at init_finalize, each file's TRY
  // state at open), with its lock held.
  int (*init_state)(v4l2_subdev* sd, v4l2_subdev_state* state) = nullptr;
  // v4l2_device_register_subdev / v4l2_device_unregister_subdev.
  int (*registered)(v4l2_subdev* sd) = nullptr;
  void (*unregistered)(v4l2_subdev* sd) = nullptr;
  // The node's open (after the R7 try_get) and the file's release. close
  // runs even after unregistration: it must not touch hardware.
  int (*open)(v4l2_subdev* sd, v4l2_subdev_fh* fh) = nullptr;
  int (*close)(v4l2_subdev* sd, v4l2_subdev_fh* fh) = nullptr;
  // Who calls it: the entity's release, at the last v4l2_subdev_put(), after
  // the active state was freed. The driver frees its struct here.
  void (*release)(v4l2_subdev* sd) = nullptr;
};

struct v4l2_subdev : Tracked<v4l2_subdev> {
  static constexpr const char kObjName[] = "v4l2_subdev";

  media_entity entity;                // obj_type V4L2_SUBDEV; R4: the count
  v4l2_device* v4l2_dev = nullptr;    // set while registered with one
  const v4l2_subdev_ops* ops = nullptr;
  const v4l2_subdev_internal_ops* internal_ops = nullptr;
  char name[52] = {};
  uint32_t flags = 0;                 // V4L2_SUBDEV_FL_*
  uint32_t grp_id = 0;
  device* dev = nullptr;              // the driver's device; valid while bound, not counted
  void* dev_priv = nullptr;
  void* host_priv = nullptr;

  // R7: the node, embedded. Registered by v4l2_device_register_subdev_nodes.
  video_device devnode;
  // From the node's registration to its release (its last put): while set,
  // the node holds an entity reference and cannot be registered again.
  std::atomic<bool> devnode_in_use{false};
  bool devnode_ro = false;            // registered read-only (S_FMT/S_SELECTION ACTIVE: -EPERM)

  // The ACTIVE state (v4l2_subdev_init_finalize), freed by the release.
  v4l2_subdev_state* active_state = nullptr;

  // R16: registered with a v4l2_device; v4l2_subdev_call() checks it.
  std::atomic<bool> registered{false};

  // v4l2_async, guarded by its list_lock (v4l2_async.cc).
  std::string async_match;            // match key; default: dev_name(dev)
  bool async_registered = false;      // on the global waiting list
  std::vector<v4l2_async_connection*> asc_list;  // connections bound to
};

inline v4l2_subdev* vdev_to_v4l2_subdev(video_device* vdev) {
  return container_of(vdev, v4l2_subdev, devnode);
}
inline v4l2_subdev* media_entity_to_v4l2_subdev(media_entity* entity) {
  return is_media_entity_v4l2_subdev(entity) ? container_of(entity, v4l2_subdev, entity) : nullptr;
}

// The file handle of a sub-device node (file->private_data = &fh->vfh).
struct v4l2_subdev_fh : Tracked<v4l2_subdev_fh> {
  static constexpr const char kObjName[] = "v4l2_subdev_fh";
  v4l2_fh vfh;
  v4l2_subdev_state* state = nullptr;  // the TRY state of this file
};
inline v4l2_subdev_fh* to_v4l2_subdev_fh(v4l2_fh* fh) {
  return container_of(fh, v4l2_subdev_fh, vfh);
}

// Initialises `sd`: ops, entity type, the entity's release, and the count
// (1: the driver's reference; media_entity_pads_init() afterwards sets it to
// 1 again). The driver sets name, flags, internal_ops and dev, then calls
// media_entity_pads_init().
void v4l2_subdev_init(v4l2_subdev* sd, const v4l2_subdev_ops* ops);
// Allocates and initialises the ACTIVE state (internal_ops->init_state).
// -ENOMEM (failure point "kzalloc"). Call after media_entity_pads_init().
int v4l2_subdev_init_finalize(v4l2_subdev* sd);
// Frees the ACTIVE state. The entity's release calls it; idempotent. A
// driver must not call it at remove(): files still open would find no ACTIVE
// state (upstream drivers that do so have that bug).
void v4l2_subdev_cleanup(v4l2_subdev* sd);

// R4: references, over the entity's count.
inline void v4l2_subdev_get(v4l2_subdev* sd) { media_entity_get(&sd->entity); }
inline bool v4l2_subdev_try_get(v4l2_subdev* sd) { return media_entity_try_get(&sd->entity); }
inline void v4l2_subdev_put(v4l2_subdev* sd) { media_entity_put(&sd->entity); }
inline unsigned v4l2_subdev_refcount(const v4l2_subdev* sd) { return kref_read(&sd->entity.ref); }

// R16: registered with a v4l2_device, i.e. its operations may be called.
inline bool v4l2_subdev_is_registered(const v4l2_subdev* sd) {
  return sd->registered.load(std::memory_order_acquire);
}

// States.
void v4l2_subdev_lock_state(v4l2_subdev_state* state);
void v4l2_subdev_unlock_state(v4l2_subdev_state* state);
// The ACTIVE state locked, or null if the sub-device has none.
v4l2_subdev_state* v4l2_subdev_lock_and_get_active_state(v4l2_subdev* sd);
// Per-pad accessors; null for a pad out of range. The caller holds state->lock.
v4l2_mbus_framefmt* v4l2_subdev_state_get_format(v4l2_subdev_state* state, unsigned pad);
v4l2_rect* v4l2_subdev_state_get_crop(v4l2_subdev_state* state, unsigned pad);
v4l2_rect* v4l2_subdev_state_get_compose(v4l2_subdev_state* state, unsigned pad);
// A ready-made get_fmt: copies the state's format of format->pad.
int v4l2_subdev_get_fmt(v4l2_subdev* sd, v4l2_subdev_state* state, v4l2_subdev_format* format);

// Registration with a v4l2_device (declared in v4l2_device.h):
//   v4l2_device_register_subdev(v4l2_dev, sd): internal_ops->registered, the
//     entity into v4l2_dev->mdev's graph (R3), onto v4l2_dev->subdevs; takes
//     a sub-device reference (the list's) and a v4l2_device reference.
//   v4l2_device_unregister_subdev(sd): in this order, the node (two-phase,
//     R13), internal_ops->unregistered, the R16 flag, the entity out of the
//     graph, the references. No-op if not registered. May drop the last
//     reference: `sd` may be gone when it returns.
//   v4l2_device_register_subdev_nodes(v4l2_dev): a node for every registered
//     sub-device with V4L2_SUBDEV_FL_HAS_DEVNODE that has none (see the
//     re-registration note above); on failure, unregisters the nodes this
//     call registered.
// The read-only flavour: ACTIVE S_FMT / S_SELECTION on these nodes: -EPERM.
int v4l2_device_register_ro_subdev_nodes(v4l2_device* v4l2_dev);

// The sub-device node's file operations (given to sd->devnode.fops).
extern const v4l2_file_operations v4l2_subdev_fops;
// The node's ioctl handler (v4l2_subdev_ioctl.cc): copy in, dispatch with the
// right state locked, copy out on success.
long v4l2_subdev_ioctl(file* filp, unsigned int cmd, unsigned long arg);

namespace internal {

// R16's oracle: reports (kWarn) when `sd` is not registered.
void v4l2_subdev_call_check(v4l2_subdev* sd, const char* op);

// Upstream's check_which + check_pad + check_state.
int v4l2_subdev_check_which_pad(v4l2_subdev* sd, v4l2_subdev_state* state, uint32_t which,
                                uint32_t pad);

// Every op: called as is.
template <typename F>
struct v4l2_subdev_op_caller {
  template <typename... A>
  static auto call(v4l2_subdev* sd, F fn, A&&... args) {
    return fn(sd, std::forward<A>(args)...);
  }
};

// Pad ops with a state and a (which, pad) argument: validated, and with the
// ACTIVE state locked around the call when the caller passed none.
template <typename Arg>
struct v4l2_subdev_op_caller<int (*)(v4l2_subdev*, v4l2_subdev_state*, Arg*)> {
  using F = int (*)(v4l2_subdev*, v4l2_subdev_state*, Arg*);
  static int call(v4l2_subdev* sd, F fn, v4l2_subdev_state* state, Arg* arg) {
    if (arg == nullptr) return -EINVAL;
    int ret = v4l2_subdev_check_which_pad(sd, state, arg->which, arg->pad);
    if (ret != 0) return ret;
    if (state != nullptr) return fn(sd, state, arg);
    v4l2_subdev_state* active = v4l2_subdev_lock_and_get_active_state(sd);
    ret = fn(sd, active, arg);
    if (active != nullptr) v4l2_subdev_unlock_state(active);
    return ret;
  }
};

template <typename Getter, typename... A>
auto v4l2_subdev_call_op(v4l2_subdev* sd, const char* op, Getter get, A&&... args) {
  using Caller = v4l2_subdev_op_caller<decltype(get(sd))>;
  using R = decltype(Caller::call(sd, get(sd), std::forward<A>(args)...));
  if (sd == nullptr) return static_cast<R>(-ENODEV);  // as upstream's macro
  v4l2_subdev_call_check(sd, op);                     // R16
  auto fn = get(sd);
  if (fn == nullptr) return static_cast<R>(-ENOIOCTLCMD);
  return Caller::call(sd, fn, std::forward<A>(args)...);
}

}  // namespace internal
}  // namespace mcf

// v4l2_subdev_call(sd, o, f, args...): calls sd->ops->o->f(sd, args...);
// -ENOIOCTLCMD when the op (or the ops group) is missing, -ENODEV for a null
// sd. Reports if `sd` is
// not registered (R16). Pad ops with a state: a null state means "the ACTIVE
// one, locked for the call"; `which` and `pad` are checked first (-EINVAL).
#define v4l2_subdev_call(sd, o, f, ...)                                                  \
  ::mcf::internal::v4l2_subdev_call_op(                                                  \
      (sd), #o "." #f,                                                                   \
      [](const ::mcf::v4l2_subdev* s_) {                                                 \
        return (s_->ops != nullptr && s_->ops->o != nullptr) ? s_->ops->o->f : nullptr; \
      } __VA_OPT__(, ) __VA_ARGS__)

// Whether `sd` implements o.f.
#define v4l2_subdev_has_op(sd, o, f) \
  ((sd)->ops != nullptr && (sd)->ops->o != nullptr && (sd)->ops->o->f != nullptr)
