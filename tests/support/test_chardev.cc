// Test scaffolding: see test_chardev.h.
#include "tests/support/test_chardev.h"

#include "core/kernel/container_of.h"
#include "core/kernel/slab.h"

namespace mcf::testing {
namespace {

// A major no real driver of the model uses; minors are handed out in order so
// every test device has its own devt.
constexpr unsigned kTestMajor = 240;
std::atomic<unsigned> g_next_minor{0};

test_chardev* from_inode(inode* ino) { return container_of(ino->i_cdev, test_chardev, cd); }

int tc_open(inode* ino, file* filp) {
  test_chardev* tc = from_inode(ino);
  tc->opens.fetch_add(1);
  return tc->ops.open ? tc->ops.open(filp) : 0;
}

int tc_release(inode* ino, file* filp) {
  test_chardev* tc = from_inode(ino);
  tc->releases.fetch_add(1);
  return tc->ops.release ? tc->ops.release(filp) : 0;
}

long tc_ioctl(file* filp, unsigned cmd, unsigned long arg) {
  test_chardev* tc = test_chardev_from_file(filp);
  // R12: the node may have been unregistered while this file stayed open.
  if (!tc->ops.ignore_unregistered && !tc->registered.load()) return -ENODEV;
  tc->ioctls.fetch_add(1);
  return tc->ops.ioctl(filp, cmd, arg);
}

__poll_t tc_poll(file* filp, poll_table* pt) {
  test_chardev* tc = test_chardev_from_file(filp);
  tc->polls.fetch_add(1);
  return tc->ops.poll(filp, pt);
}

// Who calls it: the last put_device() -- test_chardev_remove() if no file is
// open, else the last fput() of a file opened on it.
void tc_dev_release(device* dev) { kfree(container_of(dev, test_chardev, dev)); }

}  // namespace

test_chardev* test_chardev_create(const std::string& name, test_chardev_ops ops, int* err) {
  test_chardev* tc = kzalloc<test_chardev>();
  if (tc == nullptr) {
    if (err) *err = -ENOMEM;
    return nullptr;
  }
  tc->ops = std::move(ops);
  tc->fops.open = tc_open;
  tc->fops.release = tc_release;
  if (tc->ops.ioctl) tc->fops.unlocked_ioctl = tc_ioctl;
  if (tc->ops.poll) tc->fops.poll = tc_poll;

  device_initialize(&tc->dev);
  tc->dev.name = name;
  tc->dev.devt = MKDEV(kTestMajor, g_next_minor.fetch_add(1));
  tc->dev.release = tc_dev_release;
  cdev_init(&tc->cd, &tc->fops);
  int ret = cdev_device_add(&tc->cd, &tc->dev);
  if (err) *err = ret;
  if (ret != 0) {
    put_device(&tc->dev);  // frees tc through tc_dev_release
    return nullptr;
  }
  tc->registered.store(true);
  return tc;
}

void test_chardev_remove(test_chardev* tc) {
  // First: calls that start from now on fail, before the node goes.
  tc->registered.store(false);
  cdev_device_del(&tc->cd, &tc->dev);
  put_device(&tc->dev);  // the creator's reference; open files keep their pins
}

test_chardev* test_chardev_from_file(file* filp) { return from_inode(file_inode(filp)); }

std::string test_chardev_path(const test_chardev* tc) { return "/dev/" + tc->dev.name; }

}  // namespace mcf::testing
