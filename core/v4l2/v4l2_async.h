// Asynchronous sub-device binding, after include/media/v4l2-async.h and
// drivers/media/v4l2-core/v4l2-async.c.
//
// A bridge (an ISP, a receiver) does not probe its sensors: it describes
// them in a notifier — one connection per sensor, matched by key (here the
// sensor device's name, standing in for a fwnode) — and registers it. A
// sensor driver registers its sub-device with v4l2_async_register_subdev().
// Whichever comes second binds them:
//   1. v4l2_device_register_subdev(bridge's v4l2_dev, sd)  (sd joins the
//      bridge's media graph);
//   2. ops->bound(notifier, sd, asc)  (the bridge creates its links);
//   3. once no connection is waiting: ops->complete(notifier)  (the bridge
//      registers the sub-device nodes and its media device). complete runs
//      again each time the notifier becomes whole again (a sensor came
//      back), so it must be idempotent.
// Unbinding, when either side leaves:
//   1. ops->unbind(notifier, sd, asc)  (R16: the bridge stops using sd; it
//      is still registered during the callback);
//   2. v4l2_device_unregister_subdev(sd) when sd has no other connection
//      (its node is unregistered, waiting for calls in flight, R13).
// Then the connection waits again; a removed sensor's sub-device leaves the
// global list (its driver drops its reference next), a sensor whose bridge
// left stays on it and binds again when the bridge re-probes.
//
// Locking: one global mutex, "v4l2_async.list_lock", guards both global
// lists, every notifier's lists and every sub-device's async fields. Notifier
// callbacks run with it held, as upstream. Lock order:
//   device.mutex (driver probe/remove) -> v4l2_async.list_lock
//     -> the bridge's own locks taken in callbacks
//     -> media_device.graph_mutex, videodev_lock, v4l2_device.subdevs_lock,
//        media_devnode_lock (registration and unregistration steps)
// Unbinding sleeps under list_lock (waiting for calls in flight on the
// sensor's node), so no system call path may take list_lock.
//
// Memory: connections are allocated by v4l2_async_nf_add_match() and freed by
// v4l2_async_nf_cleanup(); the global sub-device list holds a sub-device
// reference (R4) while the sub-device is on it.
#pragma once

#include <string>
#include <vector>

#include "core/kernel/live_objects.h"
#include "core/v4l2/v4l2_subdev.h"

namespace mcf {

struct v4l2_async_notifier;

// One awaited sub-device of a notifier.
struct v4l2_async_connection : Tracked<v4l2_async_connection> {
  static constexpr const char kObjName[] = "v4l2_async_connection";
  std::string match;                        // the sub-device's async_match key
  v4l2_async_notifier* notifier = nullptr;
  v4l2_subdev* sd = nullptr;                // bound sub-device, or null
  void* priv = nullptr;                     // the bridge's data for this connection
};

struct v4l2_async_notifier_operations {
  // sd is registered with the notifier's v4l2_device. An error undoes the
  // binding (and fails whichever registration triggered it).
  int (*bound)(v4l2_async_notifier* notifier, v4l2_subdev* sd,
               v4l2_async_connection* asc) = nullptr;
  // Every connection is bound. An error unbinds what this binding did.
  int (*complete)(v4l2_async_notifier* notifier) = nullptr;
  // sd is going away (or the notifier is): stop using it (R16). sd is still
  // registered during the call.
  void (*unbind)(v4l2_async_notifier* notifier, v4l2_subdev* sd,
                 v4l2_async_connection* asc) = nullptr;
  // v4l2_async_nf_cleanup is about to free `asc` (the bridge frees `priv`).
  void (*destroy)(v4l2_async_connection* asc) = nullptr;
};

// Embedded in the bridge's struct. Its lists are guarded by list_lock.
struct v4l2_async_notifier {
  const v4l2_async_notifier_operations* ops = nullptr;
  v4l2_device* v4l2_dev = nullptr;                    // set while registered
  std::vector<v4l2_async_connection*> waiting_list;   // not bound yet
  std::vector<v4l2_async_connection*> done_list;      // bound
  bool registered = false;
};

// Initialises an empty notifier.
void v4l2_async_nf_init(v4l2_async_notifier* notifier);
// Adds a connection waiting for the sub-device whose async_match is `match`.
// Null on failure: allocation (failure point "kzalloc"), a duplicate key
// (-EEXIST upstream) or a notifier already registered.
v4l2_async_connection* v4l2_async_nf_add_match(v4l2_async_notifier* notifier, const char* match);
// Binds every waiting sub-device that matches, calls complete() if nothing
// is left waiting, and keeps the notifier on the global list. On error
// (bound/complete failed, a registration failed) everything it bound is
// unbound again and the notifier is not registered.
int v4l2_async_nf_register(v4l2_device* v4l2_dev, v4l2_async_notifier* notifier);
// Unbinds every bound sub-device (unbind, then unregistration) and takes the
// notifier off the global list. The sub-devices stay waiting. No-op if not
// registered.
void v4l2_async_nf_unregister(v4l2_async_notifier* notifier);
// Frees the connections. The notifier must be unregistered (WARN).
void v4l2_async_nf_cleanup(v4l2_async_notifier* notifier);

// Makes `sd` available to notifiers: binds it if one is waiting for it
// (async_match, defaulting to dev_name(sd->dev), else sd->name), else leaves
// it on the global waiting list. -ENOMEM (failure point
// "v4l2_async_register", upstream's endpoint allocation), or the error of
// the bridge's bound/complete (then nothing is left registered).
int v4l2_async_register_subdev(v4l2_subdev* sd);
// Unbinds `sd` from every notifier it is bound to and takes it off the
// global list. The driver then puts its reference. No-op if not registered.
void v4l2_async_unregister_subdev(v4l2_subdev* sd);

// Introspection for tests and the harness (each takes list_lock).
bool v4l2_async_nf_is_complete(v4l2_async_notifier* notifier);
size_t v4l2_async_waiting_subdev_count();  // sub-devices on the global list, bound or not
size_t v4l2_async_notifier_count();        // registered notifiers

}  // namespace mcf
