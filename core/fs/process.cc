// A user process and its system calls: see process.h.
#include "core/fs/process.h"

#include <cerrno>

#include "core/fs/char_dev.h"
#include "core/kernel/devtmpfs.h"
#include "core/kernel/kerrno.h"
#include "core/kernel/report.h"
#include "core/kernel/hooks.h"
#include "core/kernel/slab.h"
#include "core/kernel/task.h"

namespace mcf {
namespace {

// Entry and exit of one system call on the calling task.
class SyscallScope {
 public:
  SyscallScope(user_arena* mm, const char* call, const char* detail) : t_(current()) {
    saved_mm_ = t_->mm;
    saved_call_ = t_->call;
    saved_detail_ = t_->call_detail;
    t_->mm = mm;
    t_->call = call;
    t_->call_detail = detail;
    hook(HookKind::kCallEntry, "syscall", mm, call);
  }
  ~SyscallScope() {
    lockdep_assert_no_locks_held(t_->call);
    hook(HookKind::kCallExit, "syscall", t_->mm, t_->call);
    t_->mm = saved_mm_;
    t_->call = saved_call_;
    t_->call_detail = saved_detail_;
  }

 private:
  task_struct* t_;
  user_arena* saved_mm_;
  const char* saved_call_;
  const char* saved_detail_;
};

}  // namespace

process::process(size_t arena_size, user_addr_t arena_base)
    : arena_(arena_base, arena_size), fds_(kMaxFds, nullptr) {}

process::~process() { close_all(); }

file* process::fget(int fd) {
  SpinGuard g(&file_lock_);
  if (fd < 0 || fd >= kMaxFds || fds_[fd] == nullptr) return nullptr;
  return get_file(fds_[fd]);
}

int process::install_fd(file* f) {
  SpinGuard g(&file_lock_);
  for (int fd = 0; fd < kMaxFds; ++fd) {
    if (fds_[fd] == nullptr) {
      fds_[fd] = f;
      return fd;
    }
  }
  return -EMFILE;
}

int process::open(const std::string& path, unsigned flags) {
  SyscallScope scope(&arena_, "open", path.c_str());
  dev_t devt = devtmpfs_lookup(path);
  if (devt == 0) return -ENOENT;
  // chrdev_open(): the cdev, with its device pinned for the file's lifetime.
  cdev* cd = cdev_lookup_get(devt);
  if (cd == nullptr) return -ENXIO;
  file* f = kzalloc<file>();
  if (f == nullptr) {
    cdev_put(cd);
    return -ENOMEM;
  }
  f->f_count.init(1, "file");
  f->f_op = cd->ops;
  f->f_flags = flags;
  f->f_inode.i_rdev = devt;
  f->f_inode.i_cdev = cd;
  f->path = path;
  if (f->f_op != nullptr && f->f_op->open != nullptr) {
    int ret = f->f_op->open(&f->f_inode, f);
    if (ret != 0) {
      // A failed open never reaches release; only the pin is dropped.
      cdev_put(cd);
      kfree(f);
      return ret;
    }
  }
  int fd = install_fd(f);
  if (fd < 0) fput(f);
  return fd;
}

int process::close(int fd) {
  SyscallScope scope(&arena_, "close", nullptr);
  file* f = nullptr;
  {
    SpinGuard g(&file_lock_);
    if (fd < 0 || fd >= kMaxFds || fds_[fd] == nullptr) return -EBADF;
    f = fds_[fd];
    fds_[fd] = nullptr;
  }
  fput(f);  // may be the last put, or a call in flight may hold the file
  return 0;
}

int process::dup(int fd) {
  SyscallScope scope(&arena_, "dup", nullptr);
  file* f = fget(fd);
  if (f == nullptr) return -EBADF;
  int nfd = install_fd(f);  // the reference from fget becomes the new fd's
  if (nfd < 0) fput(f);
  return nfd;
}

long process::ioctl(int fd, unsigned long cmd, user_addr_t arg) {
  SyscallScope scope(&arena_, "ioctl", nullptr);
  file* f = fget(fd);
  if (f == nullptr) return -EBADF;
  // Oracle (R12): a node whose char device was already deleted when the call
  // started must refuse it; success there means a missing registration check.
  cdev* cd = f->f_inode.i_cdev;
  bool node_was_live = cd == nullptr || cd->live.load(std::memory_order_acquire);
  long ret = -ENOTTY;
  if (f->f_op != nullptr && f->f_op->unlocked_ioctl != nullptr)
    ret = f->f_op->unlocked_ioctl(f, static_cast<unsigned>(cmd), arg);
  if (ret == -ENOIOCTLCMD) ret = -ENOTTY;  // never leaks to user space
  if (!node_was_live && ret >= 0) {
    report(ReportKind::kCallOnUnregistered, f->path.c_str(),
           "ioctl 0x%lx on %s succeeded (%ld) after the node was unregistered", cmd,
           f->path.c_str(), ret);
  }
  fput(f);
  return ret;
}

long process::poll(int fd, __poll_t events, bool block) {
  SyscallScope scope(&arena_, "poll", nullptr);
  file* f = fget(fd);
  if (f == nullptr) return -EBADF;
  __poll_t mask = DEFAULT_POLLMASK;
  if (f->f_op != nullptr && f->f_op->poll != nullptr) {
    poll_table pt;
    for (;;) {
      mask = f->f_op->poll(f, &pt);
      if ((mask & (events | EPOLLERR | EPOLLHUP)) || !block || pt.queues.empty()) break;
      wait_woken(&pt.entry, "poll");
    }
    for (wait_queue_head* wq : pt.queues) remove_wait_queue(wq, &pt.entry);
  }
  fput(f);
  return static_cast<long>(mask & (events | EPOLLERR | EPOLLHUP));
}

int process::close_all() {
  std::vector<int> open;
  {
    SpinGuard g(&file_lock_);
    for (int fd = 0; fd < kMaxFds; ++fd)
      if (fds_[fd] != nullptr) open.push_back(fd);
  }
  for (int fd : open) close(fd);
  return static_cast<int>(open.size());
}

int process::open_fd_count() {
  SpinGuard g(&file_lock_);
  int n = 0;
  for (file* f : fds_) n += f != nullptr;
  return n;
}

}  // namespace mcf
