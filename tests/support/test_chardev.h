// Test scaffolding: a character device with a /dev node whose file operations
// call per-device callbacks, so a test can script a driver in a few lines.
//
//   test_chardev* tc = test_chardev_create("tcdev0", {.ioctl = ...});
//   process p;
//   int fd = p.open(test_chardev_path(tc), O_RDWR_);
//   ...
//   test_chardev_remove(tc);  // unregisters; memory goes at the last put
//
// Lifetime is the kernel's: test_chardev_create() returns the device
// registered, holding one reference (the creator's); test_chardev_remove()
// deletes the cdev and the device (no new open finds it) and drops that
// reference. Every open file pins the device (cdev_put at its last fput), so
// the struct, its callbacks and its counters stay valid until the last close.
// The struct is Tracked as "test_chardev", so a test can see when it is freed.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "core/fs/char_dev.h"
#include "core/fs/file.h"
#include "core/kernel/device.h"
#include "core/kernel/live_objects.h"
#include "core/kernel/wait.h"

namespace mcf::testing {

// Callbacks of the scripted driver. open and release are always installed
// (they count); ioctl and poll only when given, so a test can also check what
// the file layer does for a driver without them.
struct test_chardev_ops {
  std::function<int(file* filp)> open;
  std::function<int(file* filp)> release;
  std::function<long(file* filp, unsigned cmd, unsigned long arg)> ioctl;
  std::function<__poll_t(file* filp, poll_table* pt)> poll;
  // A correct driver fails an ioctl on a node that is no longer registered
  // (R12): the dispatcher returns -ENODEV then, without calling `ioctl`.
  // Set this to play a driver that forgot the check.
  bool ignore_unregistered = false;
};

struct test_chardev : Tracked<test_chardev> {
  static constexpr const char kObjName[] = "test_chardev";

  device dev;             // devt set: /dev/<name>; release frees the struct
  cdev cd;
  file_operations fops;   // owned here: valid while any file pins `dev`
  test_chardev_ops ops;
  wait_queue_head wq{"test_chardev.wq"};  // for poll tests: poll_wait() on it
  // Set by test_chardev_create, cleared by test_chardev_remove before the
  // node goes (the driver's own "registered" bit).
  std::atomic<bool> registered{false};

  // How often each operation reached the driver.
  std::atomic<int> opens{0};
  std::atomic<int> releases{0};
  std::atomic<int> ioctls{0};
  std::atomic<int> polls{0};
};

// Creates and registers /dev/<name>. Null on failure (the error in *err).
test_chardev* test_chardev_create(const std::string& name, test_chardev_ops ops,
                                  int* err = nullptr);
// Clears `registered`, then cdev_device_del() and the creator's put_device().
void test_chardev_remove(test_chardev* tc);
// The driver side: the test_chardev a file was opened on.
test_chardev* test_chardev_from_file(file* filp);
std::string test_chardev_path(const test_chardev* tc);

}  // namespace mcf::testing
