// Character devices, after fs/char_dev.c.
//
// cdev_device_add() makes a (major, minor) reachable by open() and adds the
// device (which creates its /dev node); cdev_device_del() undoes both, so no
// new open can find it. An open file pins the cdev's parent device until its
// last fput: that is what keeps the structures a system call uses alive (R1).
#pragma once

#include <atomic>

#include "core/fs/file.h"

namespace mcf {

struct cdev {
  const file_operations* ops = nullptr;
  device* parent = nullptr;  // the kobject parent: pinned by every open file
  dev_t dev = 0;
  // Between cdev_device_add and cdev_device_del. The file layer's oracle
  // (R12): an ioctl that starts after this went false must fail.
  std::atomic<bool> live{false};
};

void cdev_init(cdev* cd, const file_operations* fops);
// -EBUSY if the devt is taken; failure point "cdev_add". `dev` must have its
// devt set and be initialised.
int cdev_device_add(cdev* cd, device* dev);
void cdev_device_del(cdev* cd, device* dev);

// chrdev_open()'s lookup: the cdev for `devt` with its parent pinned, or null
// if none is registered (or its parent is already being released).
cdev* cdev_lookup_get(dev_t devt);
void cdev_put(cdev* cd);

}  // namespace mcf
