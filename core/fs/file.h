// Open files, after include/linux/fs.h and fs/file_table.c.
//
// A file is counted (f_count). The fd table holds one reference; every system
// call that uses a file holds another for its whole duration (fget/fput), so
// closing the fd from another thread during an ioctl is safe: the last fput,
// wherever it happens, calls f_op->release and then drops the char device's
// pin on its device (cdev_put).
#pragma once

#include <string>
#include <vector>

#include "core/kernel/device.h"
#include "core/kernel/live_objects.h"
#include "core/kernel/refcount.h"
#include "core/kernel/uaccess.h"
#include "core/kernel/wait.h"

namespace mcf {

struct cdev;
struct file;

using __poll_t = unsigned;
// <uapi/linux/eventpoll.h> values.
constexpr __poll_t EPOLLIN = 0x001, EPOLLPRI = 0x002, EPOLLOUT = 0x004, EPOLLERR = 0x008,
                   EPOLLHUP = 0x010, EPOLLRDNORM = 0x040, EPOLLWRNORM = 0x100;
constexpr __poll_t DEFAULT_POLLMASK = EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM;

// open(2) flags the model looks at (<asm-generic/fcntl.h> values).
constexpr unsigned O_RDONLY_ = 00, O_WRONLY_ = 01, O_RDWR_ = 02, O_NONBLOCK_ = 04000;

struct inode {
  dev_t i_rdev = 0;
  cdev* i_cdev = nullptr;
};

// The poll() sleeper: f_op->poll registers it on every queue it may be woken
// from with poll_wait().
struct poll_table_struct {
  wait_queue_entry entry;
  std::vector<wait_queue_head*> queues;
};
using poll_table = poll_table_struct;
void poll_wait(file* filp, wait_queue_head* wq, poll_table* pt);

struct file_operations {
  int (*open)(inode* ino, file* filp) = nullptr;
  int (*release)(inode* ino, file* filp) = nullptr;
  long (*unlocked_ioctl)(file* filp, unsigned int cmd, unsigned long arg) = nullptr;
  __poll_t (*poll)(file* filp, poll_table* pt) = nullptr;
};

struct file : Tracked<file> {
  static constexpr const char kObjName[] = "file";
  refcount_t f_count;
  const file_operations* f_op = nullptr;
  unsigned f_flags = 0;
  void* private_data = nullptr;  // owned by the driver between open and release
  inode f_inode;
  std::string path;
};

inline inode* file_inode(file* f) { return &f->f_inode; }
file* get_file(file* f);
// Drops a reference; the last one releases the file (f_op->release, cdev_put).
void fput(file* f);

}  // namespace mcf
