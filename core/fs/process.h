// A user process: an fd table and user memory, and the system calls the
// harness drives the model through (the syscall surface of DESIGN.md §2).
//
// Every call is a hook point at entry and exit, runs with `current()->mm` set
// to this process's arena, and on return checks that no model lock is held.
// Results are the kernel's: a non-negative value, or a negative errno.
//
// Thread safety: several threads may call into one process at once, as user
// threads do. The fd table is guarded by `file_lock`; a call holds its file
// (fget) for its whole duration.
#pragma once

#include <string>
#include <vector>

#include "core/fs/file.h"
#include "core/kernel/lock.h"
#include "core/kernel/uaccess.h"

namespace mcf {

class process {
 public:
  static constexpr int kMaxFds = 64;

  explicit process(size_t arena_size = 1 << 20,
                   user_addr_t arena_base = user_arena::kDefaultBase);
  ~process();  // closes every fd left open
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  int open(const std::string& path, unsigned flags);
  int close(int fd);
  int dup(int fd);
  long ioctl(int fd, unsigned long cmd, user_addr_t arg);
  // Returns the ready mask. With `block`, sleeps until one of `events` (or
  // EPOLLERR/EPOLLHUP) is ready; otherwise returns at once.
  long poll(int fd, __poll_t events, bool block);
  // Closes every open fd (teardown); returns how many were open.
  int close_all();
  int open_fd_count();

  user_arena& mem() { return arena_; }

 private:
  file* fget(int fd);
  int install_fd(file* f);

  user_arena arena_;
  SpinLock file_lock_{"files_struct.file_lock"};
  std::vector<file*> fds_ ABSL_GUARDED_BY(file_lock_);
};

}  // namespace mcf
