// Asynchronous sub-device binding: see v4l2_async.h. Upstream:
// drivers/media/v4l2-core/v4l2-async.c (without sub-notifiers and
// ancillary links; matching by name instead of fwnode).
#include "core/v4l2/v4l2_async.h"

#include <algorithm>
#include <cerrno>

#include "core/kernel/fault.h"
#include "core/kernel/hooks.h"
#include "core/kernel/report.h"
#include "core/kernel/slab.h"

namespace mcf {
namespace {

// The one lock of this file (upstream's static `list_lock`).
Mutex& list_lock() {
  static Mutex* m = new Mutex("v4l2_async.list_lock");
  return *m;
}

// Guarded by list_lock.
struct AsyncLists {
  std::vector<v4l2_subdev*> subdevs;             // registered sub-devices (referenced)
  std::vector<v4l2_async_notifier*> notifiers;   // registered notifiers
};
AsyncLists& lists() {
  static AsyncLists* l = new AsyncLists();
  return *l;
}

template <typename T>
void erase_one(std::vector<T*>* v, T* p) {
  auto it = std::find(v->begin(), v->end(), p);
  if (it != v->end()) v->erase(it);
}

v4l2_async_connection* find_match_locked(v4l2_async_notifier* notifier, v4l2_subdev* sd) {
  list_lock().assert_held();
  for (v4l2_async_connection* asc : notifier->waiting_list)
    if (asc->match == sd->async_match) return asc;
  return nullptr;
}

int call_bound(v4l2_async_notifier* n, v4l2_subdev* sd, v4l2_async_connection* asc) {
  return n->ops != nullptr && n->ops->bound != nullptr ? n->ops->bound(n, sd, asc) : 0;
}
void call_unbind(v4l2_async_notifier* n, v4l2_subdev* sd, v4l2_async_connection* asc) {
  if (n->ops != nullptr && n->ops->unbind != nullptr) n->ops->unbind(n, sd, asc);
}
int call_complete(v4l2_async_notifier* n) {
  return n->ops != nullptr && n->ops->complete != nullptr ? n->ops->complete(n) : 0;
}

// Binds `sd` to `asc` (v4l2_async_match_notify): registration with the
// bridge's v4l2_device, then the bridge's bound().
int match_notify_locked(v4l2_async_notifier* notifier, v4l2_subdev* sd,
                        v4l2_async_connection* asc) {
  list_lock().assert_held();
  bool registered_here = false;
  if (sd->asc_list.empty()) {
    int ret = v4l2_device_register_subdev(notifier->v4l2_dev, sd);
    if (ret < 0) return ret;
    registered_here = true;
  }
  int ret = call_bound(notifier, sd, asc);
  if (ret < 0) {
    if (registered_here) v4l2_device_unregister_subdev(sd);
    return ret;
  }
  sd->asc_list.push_back(asc);
  asc->sd = sd;
  // From the waiting list to the notifier's done list.
  erase_one(&notifier->waiting_list, asc);
  notifier->done_list.push_back(asc);
  return 0;
}

// Undoes one binding (v4l2_async_unbind_subdev_one). R16: the bridge's
// unbind() runs first, while the sub-device is still registered; the
// sub-device is unregistered (node two-phase, graph) when it was its last
// connection. The connection waits again.
void unbind_subdev_one_locked(v4l2_async_notifier* notifier, v4l2_async_connection* asc) {
  list_lock().assert_held();
  v4l2_subdev* sd = asc->sd;
  erase_one(&notifier->done_list, asc);
  notifier->waiting_list.push_back(asc);
  erase_one(&sd->asc_list, asc);
  call_unbind(notifier, sd, asc);
  // Not the last reference: the global list (or the sensor driver) holds one.
  if (sd->asc_list.empty()) v4l2_device_unregister_subdev(sd);
  asc->sd = nullptr;
}

void unbind_all_locked(v4l2_async_notifier* notifier) {
  while (!notifier->done_list.empty())
    unbind_subdev_one_locked(notifier, notifier->done_list.back());
}

// Binds every waiting sub-device that matches a connection of `notifier`.
int try_all_subdevs_locked(v4l2_async_notifier* notifier) {
  list_lock().assert_held();
again:
  for (v4l2_subdev* sd : lists().subdevs) {
    v4l2_async_connection* asc = find_match_locked(notifier, sd);
    if (asc == nullptr) continue;
    int ret = match_notify_locked(notifier, sd, asc);
    if (ret < 0) return ret;
    // bound() ran driver code: start over rather than trust the iterator.
    goto again;
  }
  return 0;
}

int try_complete_locked(v4l2_async_notifier* notifier) {
  list_lock().assert_held();
  if (!notifier->waiting_list.empty()) return 0;
  return call_complete(notifier);
}

}  // namespace

void v4l2_async_nf_init(v4l2_async_notifier* notifier) {
  notifier->v4l2_dev = nullptr;
  notifier->waiting_list.clear();
  notifier->done_list.clear();
  notifier->registered = false;
}

v4l2_async_connection* v4l2_async_nf_add_match(v4l2_async_notifier* notifier, const char* match) {
  if (notifier == nullptr || match == nullptr || match[0] == '\0') return nullptr;
  v4l2_async_connection* asc = kzalloc<v4l2_async_connection>();
  if (asc == nullptr) return nullptr;
  asc->match = match;
  asc->notifier = notifier;
  MutexGuard g(&list_lock());
  bool duplicate = false;
  for (auto* list : {&notifier->waiting_list, &notifier->done_list})
    for (v4l2_async_connection* other : *list) duplicate |= other->match == asc->match;
  if (duplicate || notifier->registered) {
    kfree(asc);
    return nullptr;
  }
  notifier->waiting_list.push_back(asc);
  return asc;
}

int v4l2_async_nf_register(v4l2_device* v4l2_dev, v4l2_async_notifier* notifier) {
  if (v4l2_dev == nullptr || notifier == nullptr) return -EINVAL;
  MutexGuard g(&list_lock());
  if (notifier->registered) return -EBUSY;
  notifier->v4l2_dev = v4l2_dev;
  int ret = try_all_subdevs_locked(notifier);
  if (ret == 0) ret = try_complete_locked(notifier);
  if (ret < 0) {
    unbind_all_locked(notifier);
    notifier->v4l2_dev = nullptr;
    return ret;
  }
  // Completed notifiers stay on the list: a sensor may leave and come back.
  lists().notifiers.push_back(notifier);
  notifier->registered = true;
  hook(HookKind::kPublish, "v4l2_async_notifier", notifier, v4l2_dev->name);
  return 0;
}

void v4l2_async_nf_unregister(v4l2_async_notifier* notifier) {
  if (notifier == nullptr) return;
  MutexGuard g(&list_lock());
  if (!notifier->registered) return;
  unbind_all_locked(notifier);
  erase_one(&lists().notifiers, notifier);
  hook(HookKind::kUnpublish, "v4l2_async_notifier", notifier);
  notifier->registered = false;
  notifier->v4l2_dev = nullptr;
}

void v4l2_async_nf_cleanup(v4l2_async_notifier* notifier) {
  if (notifier == nullptr) return;
  std::vector<v4l2_async_connection*> all;
  {
    MutexGuard g(&list_lock());
    // Freeing the connections of a registered notifier would leave them on
    // the lists the sub-devices are matched against.
    MCF_WARN_ON(notifier->registered);
    all = notifier->waiting_list;
    all.insert(all.end(), notifier->done_list.begin(), notifier->done_list.end());
    notifier->waiting_list.clear();
    notifier->done_list.clear();
  }
  for (v4l2_async_connection* asc : all) {
    if (notifier->ops != nullptr && notifier->ops->destroy != nullptr) notifier->ops->destroy(asc);
    kfree(asc);
  }
}

int v4l2_async_register_subdev(v4l2_subdev* sd) {
  // Upstream allocates the sub-device's endpoint list entry here.
  if (int err = fault_point("v4l2_async_register", sd->name, -ENOMEM)) return err;
  MutexGuard g(&list_lock());
  if (sd->async_registered) return -EBUSY;
  if (sd->async_match.empty()) sd->async_match = sd->dev != nullptr ? dev_name(sd->dev) : sd->name;
  int ret = 0;
  // Every registered notifier waiting for it. Callbacks cannot register or
  // unregister notifiers (they run under list_lock), so the list is stable.
  for (v4l2_async_notifier* notifier : lists().notifiers) {
    while (v4l2_async_connection* asc = find_match_locked(notifier, sd)) {
      ret = match_notify_locked(notifier, sd, asc);
      if (ret == 0) ret = try_complete_locked(notifier);
      if (ret != 0) goto err_unbind;
    }
  }
  // Bound or not, it stays available: when its bridge leaves and comes
  // back, it binds again. The list's reference (R4).
  v4l2_subdev_get(sd);
  lists().subdevs.push_back(sd);
  sd->async_registered = true;
  hook(HookKind::kPublish, "v4l2_subdev", sd, sd->name);
  return 0;

err_unbind:
  // A bound() or complete() failed: undo every binding made here.
  while (!sd->asc_list.empty()) {
    v4l2_async_connection* asc = sd->asc_list.back();
    unbind_subdev_one_locked(asc->notifier, asc);
  }
  return ret;
}

void v4l2_async_unregister_subdev(v4l2_subdev* sd) {
  {
    MutexGuard g(&list_lock());
    if (!sd->async_registered) return;
    // Unbind from every notifier: each bridge's unbind(), then the
    // unregistration (R16: nothing calls sd's ops after this).
    while (!sd->asc_list.empty()) {
      v4l2_async_connection* asc = sd->asc_list.back();
      unbind_subdev_one_locked(asc->notifier, asc);
    }
    erase_one(&lists().subdevs, sd);
    sd->async_registered = false;
    hook(HookKind::kUnpublish, "v4l2_subdev", sd, sd->name);
  }
  // Outside the lock: the put may run release callbacks (not the last one
  // while the driver still holds its own reference).
  v4l2_subdev_put(sd);
}

bool v4l2_async_nf_is_complete(v4l2_async_notifier* notifier) {
  MutexGuard g(&list_lock());
  return notifier->registered && notifier->waiting_list.empty();
}

size_t v4l2_async_waiting_subdev_count() {
  MutexGuard g(&list_lock());
  return lists().subdevs.size();
}

size_t v4l2_async_notifier_count() {
  MutexGuard g(&list_lock());
  return lists().notifiers.size();
}

}  // namespace mcf
