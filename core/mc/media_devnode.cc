// The media node: see media_devnode.h. Upstream: drivers/media/mc/mc-devnode.c.
#include "core/mc/media_devnode.h"

#include <cerrno>
#include <cstdio>

#include "core/kernel/lock.h"
#include "core/mc/media_device.h"

namespace mcf {
namespace {

Mutex& media_devnode_lock() {
  static Mutex* m = new Mutex("media_devnode_lock");
  return *m;
}
// Minors in use; guarded by media_devnode_lock.
bool g_minors[MEDIA_NUM_DEVICES];

media_devnode* file_devnode(file* filp) { return static_cast<media_devnode*>(filp->private_data); }

int media_open(inode* ino, file* filp) {
  media_devnode* devnode = container_of(ino->i_cdev, media_devnode, cdev);
  {
    // Checked under the lock, so open never races with unregister_prepare.
    MutexGuard g(&media_devnode_lock());
    if (!media_devnode_is_registered(devnode)) return -ENXIO;
    // The file's own reference on the media device (R2), put in release.
    get_device(&devnode->dev);
  }
  filp->private_data = devnode;
  return 0;
}

int media_release(inode* ino, file* filp) {
  media_devnode* devnode = file_devnode(filp);
  filp->private_data = nullptr;
  // Always runs, registered or not: the file's reference goes.
  put_device(&devnode->dev);
  return 0;
}

long media_ioctl(file* filp, unsigned int cmd, unsigned long arg) {
  media_devnode* devnode = file_devnode(filp);
  // R12: a node that is gone answers -EIO. The media device itself stays
  // valid for the whole call: this file holds a reference on it (R1, R2).
  if (!media_devnode_is_registered(devnode)) return -EIO;
  return media_device_ioctl(devnode_to_media_device(devnode), cmd, arg);
}

__poll_t media_poll(file* filp, poll_table* pt) {
  if (!media_devnode_is_registered(file_devnode(filp))) return EPOLLERR | EPOLLHUP;
  return 0;
}

const file_operations media_devnode_fops = {
    .open = media_open,
    .release = media_release,
    .unlocked_ioctl = media_ioctl,
    .poll = media_poll,
};

}  // namespace

bool media_devnode_is_registered(media_devnode* devnode) {
  return __atomic_load_n(&devnode->flags, __ATOMIC_ACQUIRE) & MEDIA_FLAG_REGISTERED;
}

int media_devnode_register(media_device* mdev) {
  media_devnode* devnode = &mdev->devnode;
  int minor = -1;
  {
    MutexGuard g(&media_devnode_lock());
    for (unsigned i = 0; i < MEDIA_NUM_DEVICES; ++i) {
      if (!g_minors[i]) {
        g_minors[i] = true;
        minor = static_cast<int>(i);
        break;
      }
    }
  }
  if (minor < 0) return -ENFILE;
  devnode->minor = minor;
  devnode->dev.devt = MKDEV(MEDIA_MAJOR, static_cast<unsigned>(minor));
  devnode->dev.name = "media" + std::to_string(minor);
  cdev_init(&devnode->cdev, &media_devnode_fops);
  // Part 1 of 2: make the node reachable. Part 2: mark it registered, under
  // the lock, so an open that finds the cdev also sees the flag.
  int ret = cdev_device_add(&devnode->cdev, &devnode->dev);
  if (ret != 0) {
    MutexGuard g(&media_devnode_lock());
    g_minors[minor] = false;
    devnode->minor = -1;
    return ret;
  }
  MutexGuard g(&media_devnode_lock());
  __atomic_or_fetch(&devnode->flags, MEDIA_FLAG_REGISTERED, __ATOMIC_RELEASE);
  return 0;
}

bool media_devnode_unregister_prepare(media_device* mdev) {
  MutexGuard g(&media_devnode_lock());
  media_devnode* devnode = &mdev->devnode;
  if (!media_devnode_is_registered(devnode)) return false;
  // This must be in a critical section to prevent a race with open: once the
  // bit is cleared, media_open never takes a new reference.
  __atomic_and_fetch(&devnode->flags, ~MEDIA_FLAG_REGISTERED, __ATOMIC_RELEASE);
  return true;
}

void media_devnode_unregister(media_device* mdev) {
  media_devnode* devnode = &mdev->devnode;
  if (devnode->minor < 0) return;
  cdev_device_del(&devnode->cdev, &devnode->dev);
  // The minor is free again at unregistration (not at release), so a
  // re-probe gets the same /dev/mediaN while old files are still open.
  MutexGuard g(&media_devnode_lock());
  g_minors[devnode->minor] = false;
  devnode->minor = -1;
}

}  // namespace mcf
