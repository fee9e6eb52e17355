// Character devices: see char_dev.h.
#include "core/fs/char_dev.h"

#include <cerrno>
#include <map>
#include <mutex>

#include "core/kernel/fault.h"
#include "core/kernel/hooks.h"

namespace mcf {
namespace {
// chrdevs_lock. cdev_lookup_get() takes a device reference (a hook point)
// under it, so it must be a lock the deterministic scheduler sees
// (SchedMutexGuard): a raw std::mutex held across a scheduling point blocked
// the OS thread holding the baton (a hang lifetime_fuzzer found).
struct CdevMap {
  std::mutex m;
  std::map<dev_t, cdev*> by_devt;
};
CdevMap& cdev_map() {
  static CdevMap* m = new CdevMap();
  return *m;
}
}  // namespace

void cdev_init(cdev* cd, const file_operations* fops) { cd->ops = fops; }

int cdev_device_add(cdev* cd, device* dev) {
  if (int err = fault_point("cdev_add", dev->name, -ENOMEM)) return err;
  cd->dev = dev->devt;
  cd->parent = dev;
  {
    CdevMap& map = cdev_map();
    SchedMutexGuard g(map.m, "chrdevs_lock");
    if (!map.by_devt.emplace(cd->dev, cd).second) return -EBUSY;
  }
  hook(HookKind::kPublish, "cdev", cd, dev_name(dev));
  cd->live.store(true, std::memory_order_release);
  int ret = device_add(dev);
  if (ret != 0) {
    cd->live.store(false, std::memory_order_release);
    CdevMap& map = cdev_map();
    SchedMutexGuard g(map.m, "chrdevs_lock");
    map.by_devt.erase(cd->dev);
  }
  return ret;
}

void cdev_device_del(cdev* cd, device* dev) {
  device_del(dev);
  cd->live.store(false, std::memory_order_release);
  {
    CdevMap& map = cdev_map();
    SchedMutexGuard g(map.m, "chrdevs_lock");
    auto it = map.by_devt.find(cd->dev);
    if (it != map.by_devt.end() && it->second == cd) map.by_devt.erase(it);
  }
  hook(HookKind::kUnpublish, "cdev", cd, dev_name(dev));
}

cdev* cdev_lookup_get(dev_t devt) {
  CdevMap& map = cdev_map();
  SchedMutexGuard g(map.m, "chrdevs_lock");
  auto it = map.by_devt.find(devt);
  if (it == map.by_devt.end()) return nullptr;
  // get-unless-zero: the parent may be on its way out (its last put raced
  // with this lookup); then the node is as good as gone.
  if (!kref_get_unless_zero(&it->second->parent->kobj)) return nullptr;
  return it->second;
}

void cdev_put(cdev* cd) { put_device(cd->parent); }

}  // namespace mcf
