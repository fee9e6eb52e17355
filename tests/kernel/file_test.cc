// The file layer (core/fs/): open by path through devtmpfs and the cdev map,
// counted files (an ioctl holds its file; release at the last fput), dup,
// close, poll, the fd table's limits and the errno of every failure.
#include "core/fs/process.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/fs/char_dev.h"
#include "core/fs/file.h"
#include "core/kernel/devtmpfs.h"
#include "core/kernel/hooks.h"
#include "core/kernel/kerrno.h"
#include "core/kernel/live_objects.h"
#include "core/kernel/lock.h"
#include "tests/support/fail_at.h"
#include "tests/support/hook_recorder.h"
#include "tests/support/live_objects_check.h"
#include "tests/support/test_chardev.h"

namespace mcf {
namespace {

using ::mcf::testing::HookRecorder;
using ::mcf::testing::test_chardev;
using ::mcf::testing::test_chardev_create;
using ::mcf::testing::test_chardev_from_file;
using ::mcf::testing::test_chardev_ops;
using ::mcf::testing::test_chardev_path;
using ::mcf::testing::test_chardev_remove;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    lockdep_reset();
  }
  void TearDown() override { EXPECT_EQ(::mcf::testing::alive_objects(), ""); }

  test_chardev* make(const char* name, test_chardev_ops ops = {}) {
    int err = 0;
    test_chardev* tc = test_chardev_create(name, std::move(ops), &err);
    EXPECT_EQ(err, 0) << errno_name(err);
    return tc;
  }
};
using FileDeathTest = FileTest;

// ioctl returning cmd + 100, so a test sees its call went through.
long echo_ioctl(file*, unsigned cmd, unsigned long) { return cmd + 100; }

TEST_F(FileTest, OpenIoctlClose) {
  test_chardev* tc = make("ftest_basic", {.ioctl = echo_ioctl});
  ASSERT_NE(tc, nullptr);
  EXPECT_EQ(test_chardev_path(tc), "/dev/ftest_basic");
  {
    process p;
    int fd = p.open("/dev/ftest_basic", O_RDWR_);
    ASSERT_EQ(fd, 0);  // the lowest free fd
    EXPECT_EQ(tc->opens.load(), 1);
    EXPECT_EQ(live_objects_count("file"), 1);
    EXPECT_EQ(p.ioctl(fd, 5, 0), 105);
    EXPECT_EQ(p.ioctl(fd, 7, 0), 107);
    EXPECT_EQ(tc->ioctls.load(), 2);
    EXPECT_EQ(p.open_fd_count(), 1);
    EXPECT_EQ(p.close(fd), 0);
    EXPECT_EQ(tc->releases.load(), 1);
    EXPECT_EQ(live_objects_count("file"), 0);
    EXPECT_EQ(p.open_fd_count(), 0);
  }
  test_chardev_remove(tc);
}

TEST_F(FileTest, FileRecordsOpenFlagsAndPath) {
  unsigned seen_flags = 0;
  std::string seen_path;
  dev_t seen_rdev = 0;
  test_chardev* tc = make("ftest_flags", {.open = [&](file* f) {
                            seen_flags = f->f_flags;
                            seen_path = f->path;
                            seen_rdev = file_inode(f)->i_rdev;
                            return 0;
                          }});
  ASSERT_NE(tc, nullptr);
  {
    process p;
    ASSERT_GE(p.open("/dev/ftest_flags", O_RDWR_ | O_NONBLOCK_), 0);
    EXPECT_EQ(seen_flags, O_RDWR_ | O_NONBLOCK_);
    EXPECT_EQ(seen_path, "/dev/ftest_flags");
    EXPECT_EQ(seen_rdev, tc->dev.devt);
  }  // ~process closes it
  EXPECT_EQ(tc->releases.load(), 1);
  test_chardev_remove(tc);
}

TEST_F(FileTest, OpenOfUnknownPathIsENOENT) {
  process p;
  EXPECT_EQ(p.open("/dev/ftest_nonexistent", O_RDWR_), -ENOENT);
  EXPECT_EQ(p.open("", O_RDWR_), -ENOENT);
  EXPECT_EQ(p.open("ftest_nonexistent", O_RDWR_), -ENOENT);
  EXPECT_EQ(p.open_fd_count(), 0);
}

// A /dev node whose devt has no char device behind it: -ENXIO, as chrdev_open.
TEST_F(FileTest, OpenOfNodeWithoutCdevIsENXIO) {
  ASSERT_EQ(devtmpfs_create_node("ftest_orphan", MKDEV(242, 1)), 0);
  process p;
  EXPECT_EQ(p.open("/dev/ftest_orphan", O_RDWR_), -ENXIO);
  devtmpfs_delete_node("ftest_orphan");
  EXPECT_EQ(p.open("/dev/ftest_orphan", O_RDWR_), -ENOENT);
}

TEST_F(FileTest, OpenAfterCdevDeviceDelFails) {
  test_chardev* tc = make("ftest_gone");
  ASSERT_NE(tc, nullptr);
  std::vector<std::string> nodes = devtmpfs_list();
  EXPECT_NE(std::find(nodes.begin(), nodes.end(), "/dev/ftest_gone"), nodes.end());
  test_chardev_remove(tc);  // no file open: freed now
  EXPECT_EQ(live_objects_count("test_chardev"), 0);
  process p;
  int fd = p.open("/dev/ftest_gone", O_RDWR_);
  EXPECT_TRUE(fd == -ENOENT || fd == -ENXIO) << fd;
}

TEST_F(FileTest, DuplicateDevtIsEBUSY) {
  test_chardev* tc = make("ftest_devt_a");
  ASSERT_NE(tc, nullptr);
  // A second cdev claiming the same devt.
  cdev other;
  device dev;
  device_initialize(&dev);
  dev.name = "ftest_devt_b";
  dev.devt = tc->dev.devt;
  dev.release = [](device*) {};
  cdev_init(&other, nullptr);
  EXPECT_EQ(cdev_device_add(&other, &dev), -EBUSY);
  put_device(&dev);
  // The first one is unaffected.
  process p;
  int fd = p.open("/dev/ftest_devt_a", O_RDWR_);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(p.open("/dev/ftest_devt_b", O_RDWR_), -ENOENT);
  p.close_all();
  test_chardev_remove(tc);
}

// A failed ->open never reaches ->release, and drops its pin on the device.
TEST_F(FileTest, FailedOpenDoesNotRelease) {
  test_chardev* tc = make("ftest_failopen", {.open = [](file*) { return -EBUSY; }});
  ASSERT_NE(tc, nullptr);
  {
    process p;
    EXPECT_EQ(p.open("/dev/ftest_failopen", O_RDWR_), -EBUSY);
    EXPECT_EQ(tc->opens.load(), 1);
    EXPECT_EQ(tc->releases.load(), 0);
    EXPECT_EQ(live_objects_count("file"), 0);
    EXPECT_EQ(kref_read(&tc->dev.kobj), 1u);  // only the creator's reference
    EXPECT_EQ(p.open_fd_count(), 0);
  }
  test_chardev_remove(tc);
}

// An open file pins the device (R1): unregistering frees nothing until the
// last close, and the driver's callbacks stay reachable through the file.
TEST_F(FileTest, OpenFileKeepsDeviceAliveAfterRemoval) {
  int released = 0;  // outlives the test_chardev, unlike its counters
  test_chardev* tc = make("ftest_pinned", {.release =
                                               [&](file*) {
                                                 ++released;
                                                 return 0;
                                               },
                                           .ioctl = echo_ioctl});
  ASSERT_NE(tc, nullptr);
  process p;
  int fd = p.open("/dev/ftest_pinned", O_RDWR_);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(kref_read(&tc->dev.kobj), 2u);
  test_chardev_remove(tc);
  EXPECT_EQ(live_objects_count("test_chardev"), 1);
  EXPECT_EQ(p.open("/dev/ftest_pinned", O_RDWR_), -ENOENT);  // no new opens
  EXPECT_EQ(p.ioctl(fd, 1, 0), -ENODEV);  // R12: the driver refuses (no report)
  EXPECT_EQ(tc->ioctls.load(), 0);
  EXPECT_EQ(p.poll(fd, EPOLLIN, false), static_cast<long>(EPOLLIN));
  EXPECT_EQ(released, 0);
  EXPECT_EQ(p.close(fd), 0);  // release, then the last put frees it
  EXPECT_EQ(released, 1);
  EXPECT_EQ(live_objects_count("test_chardev"), 0);
}

TEST_F(FileTest, BadFdIsEBADF) {
  test_chardev* tc = make("ftest_badfd", {.ioctl = echo_ioctl});
  ASSERT_NE(tc, nullptr);
  {
    process p;
    for (int fd : {-1, 3, process::kMaxFds, 1 << 20}) {
      EXPECT_EQ(p.ioctl(fd, 0, 0), -EBADF) << fd;
      EXPECT_EQ(p.close(fd), -EBADF) << fd;
      EXPECT_EQ(p.dup(fd), -EBADF) << fd;
      EXPECT_EQ(p.poll(fd, EPOLLIN, false), -EBADF) << fd;
    }
    int fd = p.open("/dev/ftest_badfd", O_RDWR_);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(p.close(fd), 0);
    EXPECT_EQ(p.close(fd), -EBADF);  // double close
    EXPECT_EQ(p.ioctl(fd, 0, 0), -EBADF);
    EXPECT_EQ(tc->ioctls.load(), 0);
    EXPECT_EQ(tc->releases.load(), 1);
  }
  test_chardev_remove(tc);
}

// dup shares the file: one release, at the last close.
TEST_F(FileTest, DupSharesTheFile) {
  std::vector<file*> seen;
  test_chardev* tc = make("ftest_dup", {.ioctl = [&](file* f, unsigned, unsigned long) -> long {
                            seen.push_back(f);
                            return 0;
                          }});
  ASSERT_NE(tc, nullptr);
  {
    process p;
    int fd = p.open("/dev/ftest_dup", O_RDWR_);
    ASSERT_GE(fd, 0);
    int fd2 = p.dup(fd);
    ASSERT_GE(fd2, 0);
    EXPECT_NE(fd2, fd);
    EXPECT_EQ(p.open_fd_count(), 2);
    EXPECT_EQ(live_objects_count("file"), 1);  // one file, two fds
    EXPECT_EQ(p.ioctl(fd, 0, 0), 0);
    EXPECT_EQ(p.ioctl(fd2, 0, 0), 0);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0], seen[1]);
    EXPECT_EQ(seen[0]->f_count.read(), 2);

    EXPECT_EQ(p.close(fd), 0);
    EXPECT_EQ(tc->releases.load(), 0);  // fd2 still holds it
    EXPECT_EQ(p.ioctl(fd, 0, 0), -EBADF);
    EXPECT_EQ(p.ioctl(fd2, 0, 0), 0);
    EXPECT_EQ(p.close(fd2), 0);
    EXPECT_EQ(tc->releases.load(), 1);
    EXPECT_EQ(tc->opens.load(), 1);
  }
  test_chardev_remove(tc);
}

// close() from another thread while an ioctl is in flight: the ioctl holds
// the file, so ->release runs only when the ioctl returns, on its thread.
TEST_F(FileTest, CloseDuringIoctlReleasesAfterIoctlReturns) {
  std::latch entered(1);
  std::latch proceed(1);
  std::atomic<int> releases_seen_in_ioctl{-1};
  std::atomic<int> refs_seen_in_ioctl{-1};
  std::thread::id release_thread;
  test_chardev* tc = nullptr;
  tc = make("ftest_inflight",
            {.release =
                 [&](file*) {
                   release_thread = std::this_thread::get_id();
                   return 0;
                 },
             .ioctl = [&](file* f, unsigned, unsigned long) -> long {
               entered.count_down();
               proceed.wait();
               // close() has returned by now; the file is still ours.
               releases_seen_in_ioctl = test_chardev_from_file(f)->releases.load();
               refs_seen_in_ioctl = f->f_count.read();
               return 0;
             }});
  ASSERT_NE(tc, nullptr);
  {
    process p;
    int fd = p.open("/dev/ftest_inflight", O_RDWR_);
    ASSERT_GE(fd, 0);
    long ioctl_ret = -1;
    std::thread::id ioctl_thread;
    std::thread caller([&] {
      ioctl_thread = std::this_thread::get_id();
      ioctl_ret = p.ioctl(fd, 0, 0);
    });
    entered.wait();
    EXPECT_EQ(p.close(fd), 0);
    EXPECT_EQ(tc->releases.load(), 0);  // the ioctl's reference keeps it open
    EXPECT_EQ(live_objects_count("file"), 1);
    EXPECT_EQ(p.ioctl(fd, 0, 0), -EBADF);  // but the fd is gone
    proceed.count_down();
    caller.join();
    EXPECT_EQ(ioctl_ret, 0);
    EXPECT_EQ(releases_seen_in_ioctl.load(), 0);
    EXPECT_EQ(refs_seen_in_ioctl.load(), 1);
    EXPECT_EQ(tc->releases.load(), 1);
    EXPECT_EQ(release_thread, ioctl_thread);  // the last fput was the ioctl's
    EXPECT_EQ(live_objects_count("file"), 0);
  }
  test_chardev_remove(tc);
}

// The same, with the device unregistered while the ioctl is in flight: the
// file pins it, so it is freed only after the ioctl returned and released.
TEST_F(FileTest, UnregisterDuringIoctlFreesAfterLastPut) {
  std::latch entered(1);
  std::latch proceed(1);
  test_chardev* tc = make("ftest_unplug", {.ioctl = [&](file*, unsigned, unsigned long) -> long {
                            entered.count_down();
                            proceed.wait();
                            return 0;
                          }});
  ASSERT_NE(tc, nullptr);
  process p;
  int fd = p.open("/dev/ftest_unplug", O_RDWR_);
  ASSERT_GE(fd, 0);
  std::thread caller([&] { EXPECT_EQ(p.ioctl(fd, 0, 0), 0); });
  entered.wait();
  test_chardev_remove(tc);
  EXPECT_EQ(p.close(fd), 0);
  EXPECT_EQ(live_objects_count("test_chardev"), 1);  // the ioctl still holds the file
  proceed.count_down();
  caller.join();
  EXPECT_EQ(live_objects_count("test_chardev"), 0);
  EXPECT_EQ(live_objects_count("file"), 0);
}

// Unsequenced: one thread issues ioctls while another closes the fd. Every
// ioctl either ran or got -EBADF; release runs exactly once; ASan/TSan watch
// the file's memory.
TEST_F(FileTest, CloseRacingWithIoctls) {
  test_chardev* tc = make("ftest_race", {.ioctl = echo_ioctl});
  ASSERT_NE(tc, nullptr);
  for (int round = 0; round < 200; ++round) {
    process p;
    int fd = p.open("/dev/ftest_race", O_RDWR_);
    ASSERT_GE(fd, 0);
    std::atomic<bool> go{false};
    int ok = 0, badf = 0, other = 0;
    std::thread caller([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 50; ++i) {
        long r = p.ioctl(fd, 1, 0);
        (r == 101 ? ok : r == -EBADF ? badf : other)++;
      }
    });
    go = true;
    EXPECT_EQ(p.close(fd), 0);
    caller.join();
    EXPECT_EQ(other, 0);
    EXPECT_EQ(ok + badf, 50);
  }
  EXPECT_EQ(tc->releases.load(), 200);
  EXPECT_EQ(tc->opens.load(), 200);
  test_chardev_remove(tc);
}

// Several threads of one process opening, dup'ing, calling and closing.
TEST_F(FileTest, ConcurrentOpenDupIoctlClose) {
  test_chardev* tc = make("ftest_busy", {.ioctl = echo_ioctl});
  ASSERT_NE(tc, nullptr);
  {
    process p;
    auto worker = [&] {
      for (int i = 0; i < 300; ++i) {
        int fd = p.open("/dev/ftest_busy", O_RDWR_);
        ASSERT_GE(fd, 0);
        int fd2 = p.dup(fd);
        ASSERT_GE(fd2, 0);
        EXPECT_EQ(p.ioctl(fd2, 2, 0), 102);
        EXPECT_EQ(p.close(fd), 0);
        EXPECT_EQ(p.ioctl(fd2, 3, 0), 103);
        EXPECT_EQ(p.close(fd2), 0);
      }
    };
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    EXPECT_EQ(p.open_fd_count(), 0);
  }
  EXPECT_EQ(tc->opens.load(), 600);
  EXPECT_EQ(tc->releases.load(), 600);
  test_chardev_remove(tc);
}

TEST_F(FileTest, IoctlErrnoConversion) {
  test_chardev* tc = make("ftest_errno", {.ioctl = [](file*, unsigned cmd, unsigned long) -> long {
                            if (cmd == 1) return -ENOIOCTLCMD;
                            if (cmd == 2) return -EINVAL;
                            return 0;
                          }});
  test_chardev* no_ioctl = make("ftest_noioctl");
  ASSERT_NE(tc, nullptr);
  ASSERT_NE(no_ioctl, nullptr);
  {
    process p;
    int fd = p.open("/dev/ftest_errno", O_RDWR_);
    int fd2 = p.open("/dev/ftest_noioctl", O_RDWR_);
    ASSERT_GE(fd, 0);
    ASSERT_GE(fd2, 0);
    EXPECT_EQ(p.ioctl(fd, 1, 0), -ENOTTY);  // -ENOIOCTLCMD never reaches user space
    EXPECT_EQ(p.ioctl(fd, 2, 0), -EINVAL);  // other errors pass through
    EXPECT_EQ(p.ioctl(fd, 3, 0), 0);
    EXPECT_EQ(p.ioctl(fd2, 1, 0), -ENOTTY);  // no ioctl op at all
  }
  EXPECT_STREQ(errno_name(-ENOIOCTLCMD), "ENOIOCTLCMD");
  EXPECT_STREQ(errno_name(ENOTTY), "ENOTTY");
  test_chardev_remove(tc);
  test_chardev_remove(no_ioctl);
}

TEST_F(FileTest, PollWithoutPollOpReturnsDefaultMask) {
  test_chardev* tc = make("ftest_nopoll");
  ASSERT_NE(tc, nullptr);
  {
    process p;
    int fd = p.open("/dev/ftest_nopoll", O_RDWR_);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(p.poll(fd, EPOLLIN | EPOLLOUT, false), static_cast<long>(EPOLLIN | EPOLLOUT));
    EXPECT_EQ(p.poll(fd, EPOLLIN | EPOLLRDNORM, false), static_cast<long>(EPOLLIN | EPOLLRDNORM));
    EXPECT_EQ(p.poll(fd, EPOLLPRI, false), 0);
    EXPECT_EQ(p.poll(fd, EPOLLPRI, true), 0);  // blocking, but nothing to wait on
  }
  test_chardev_remove(tc);
}

// A poll op in the kernel's shape: register on the queue, then report state.
struct poll_state {
  std::atomic<bool> readable{false};
  std::atomic<bool> error{false};
};
test_chardev_ops pollable_ops(poll_state* st) {
  return {.poll = [st](file* f, poll_table* pt) -> __poll_t {
    poll_wait(f, &test_chardev_from_file(f)->wq, pt);
    __poll_t mask = EPOLLOUT;
    if (st->readable.load()) mask |= EPOLLIN;
    if (st->error.load()) mask |= EPOLLERR;
    return mask;
  }};
}

size_t queue_length(wait_queue_head* wq) {
  std::lock_guard<std::mutex> g(wq->lock);
  return wq->entries.size();
}

TEST_F(FileTest, PollWithPollOp) {
  poll_state st;
  test_chardev* tc = make("ftest_poll", pollable_ops(&st));
  ASSERT_NE(tc, nullptr);
  {
    process p;
    int fd = p.open("/dev/ftest_poll", O_RDWR_);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(p.poll(fd, EPOLLIN, false), 0);
    EXPECT_EQ(p.poll(fd, EPOLLIN | EPOLLOUT, false), static_cast<long>(EPOLLOUT));
    st.readable = true;
    EXPECT_EQ(p.poll(fd, EPOLLIN, false), static_cast<long>(EPOLLIN));
    st.error = true;  // EPOLLERR is always reported
    EXPECT_EQ(p.poll(fd, EPOLLPRI, false), static_cast<long>(EPOLLERR));
    EXPECT_EQ(p.poll(fd, EPOLLPRI, true), static_cast<long>(EPOLLERR));
    EXPECT_EQ(tc->polls.load(), 5);
    EXPECT_EQ(queue_length(&tc->wq), 0u);  // every poll left the queue
  }
  test_chardev_remove(tc);
}

TEST_F(FileTest, BlockingPollIsWokenByWakeUpAll) {
  poll_state st;
  test_chardev* tc = make("ftest_pollwait", pollable_ops(&st));
  ASSERT_NE(tc, nullptr);
  {
    process p;
    int fd = p.open("/dev/ftest_pollwait", O_RDWR_);
    ASSERT_GE(fd, 0);
    HookRecorder rec;
    long result = -1;
    std::thread poller([&] { result = p.poll(fd, EPOLLIN, true); });
    rec.wait_for(HookKind::kWaitSleep, "poll", 1);  // asleep in poll
    EXPECT_EQ(queue_length(&tc->wq), 1u);
    wake_up_all(&tc->wq);                            // nothing ready: sleeps again
    rec.wait_for(HookKind::kWaitSleep, "poll", 2);
    st.readable = true;
    wake_up_all(&tc->wq);
    poller.join();
    EXPECT_EQ(result, static_cast<long>(EPOLLIN));
    EXPECT_EQ(tc->polls.load(), 3);
    EXPECT_EQ(queue_length(&tc->wq), 0u);
  }
  test_chardev_remove(tc);
}

// Many rounds of the poll race: the state flips and the queue is woken while
// the poller may be anywhere between its check and its sleep.
TEST_F(FileTest, BlockingPollLosesNoWakeUp) {
  poll_state st;
  test_chardev* tc = make("ftest_pollrace", pollable_ops(&st));
  ASSERT_NE(tc, nullptr);
  {
    process p;
    int fd = p.open("/dev/ftest_pollrace", O_RDWR_);
    ASSERT_GE(fd, 0);
    for (int round = 0; round < 300; ++round) {
      st.readable = false;
      long result = -1;
      std::thread poller([&] { result = p.poll(fd, EPOLLIN, true); });
      st.readable = true;
      wake_up_all(&tc->wq);
      poller.join();  // a lost wake-up hangs here (ctest's timeout reports it)
      EXPECT_EQ(result, static_cast<long>(EPOLLIN));
    }
  }
  test_chardev_remove(tc);
}

TEST_F(FileTest, FdTableFullIsEMFILE) {
  test_chardev* tc = make("ftest_emfile");
  ASSERT_NE(tc, nullptr);
  {
    process p;
    for (int i = 0; i < process::kMaxFds; ++i) ASSERT_EQ(p.open("/dev/ftest_emfile", O_RDWR_), i);
    EXPECT_EQ(p.open_fd_count(), process::kMaxFds);
    EXPECT_EQ(p.open("/dev/ftest_emfile", O_RDWR_), -EMFILE);
    EXPECT_EQ(p.dup(0), -EMFILE);
    // The file made for the failed open was released; the dup'ed one was not
    // (it belongs to fd 0).
    EXPECT_EQ(tc->releases.load(), 1);
    EXPECT_EQ(live_objects_count("file"), process::kMaxFds);
    EXPECT_EQ(p.close(17), 0);
    EXPECT_EQ(p.dup(3), 17);  // the lowest free fd again
    EXPECT_EQ(p.close_all(), process::kMaxFds);
    EXPECT_EQ(p.open_fd_count(), 0);
  }
  EXPECT_EQ(tc->opens.load(), process::kMaxFds + 1);
  EXPECT_EQ(tc->releases.load(), process::kMaxFds + 1);
  test_chardev_remove(tc);
}

TEST_F(FileTest, ProcessExitClosesEveryFd) {
  test_chardev* tc = make("ftest_exit");
  ASSERT_NE(tc, nullptr);
  {
    process p;
    ASSERT_GE(p.open("/dev/ftest_exit", O_RDWR_), 0);
    ASSERT_GE(p.open("/dev/ftest_exit", O_RDWR_), 0);
    ASSERT_GE(p.dup(1), 0);
    EXPECT_EQ(live_objects_count("file"), 2);
  }
  EXPECT_EQ(tc->releases.load(), 2);
  EXPECT_EQ(live_objects_count("file"), 0);
  test_chardev_remove(tc);
}

TEST_F(FileTest, SystemCallsAreHookPoints) {
  test_chardev* tc = make("ftest_hooks", {.ioctl = echo_ioctl});
  ASSERT_NE(tc, nullptr);
  std::vector<::mcf::testing::RecordedHook> seen;
  {
    process p;
    HookRecorder rec;
    int fd = p.open("/dev/ftest_hooks", O_RDWR_);
    p.ioctl(fd, 0, 0);
    p.close(fd);
    seen = rec.points();
  }
  std::vector<std::string> calls;
  for (const auto& h : seen) {
    if (h.kind == HookKind::kCallEntry) calls.push_back("enter " + h.label);
    if (h.kind == HookKind::kCallExit) calls.push_back("exit " + h.label);
  }
  EXPECT_EQ(calls, (std::vector<std::string>{"enter open", "exit open", "enter ioctl",
                                             "exit ioctl", "enter close", "exit close"}));
  test_chardev_remove(tc);
}

TEST_F(FileTest, CdevPublishAndUnpublishAreHookPoints) {
  HookRecorder rec;
  test_chardev* tc = make("ftest_publish");
  ASSERT_NE(tc, nullptr);
  EXPECT_EQ(rec.count(HookKind::kPublish, "cdev"), 1);
  EXPECT_EQ(rec.count(HookKind::kUnpublish, "cdev"), 0);
  test_chardev_remove(tc);
  EXPECT_EQ(rec.count(HookKind::kUnpublish, "cdev"), 1);
}

// After closing everything and unregistering, no file or device is alive.
TEST_F(FileTest, LiveObjectsReturnToZeroAfterTeardown) {
  test_chardev* a = make("ftest_live_a", {.ioctl = echo_ioctl});
  test_chardev* b = make("ftest_live_b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto p = std::make_unique<process>();
  int fa = p->open("/dev/ftest_live_a", O_RDWR_);
  int fb = p->open("/dev/ftest_live_b", O_RDWR_);
  ASSERT_GE(fa, 0);
  ASSERT_GE(fb, 0);
  ASSERT_GE(p->dup(fa), 0);
  EXPECT_EQ(live_objects_count("file"), 2);
  EXPECT_EQ(live_objects_count("device"), 2);
  EXPECT_NE(::mcf::testing::alive_objects(), "");
  test_chardev_remove(a);
  test_chardev_remove(b);
  EXPECT_EQ(live_objects_count("device"), 2);  // pinned by the open files
  EXPECT_EQ(p->close_all(), 3);
  EXPECT_EQ(live_objects_count("file"), 0);
  EXPECT_EQ(live_objects_count("device"), 0);
  EXPECT_EQ(::mcf::testing::alive_objects(), "");
  p.reset();
  live_objects_check_all_released("after the file test");  // reports if not
}

TEST_F(FileTest, OpenFailurePoints) {
  test_chardev* tc = make("ftest_fail");
  ASSERT_NE(tc, nullptr);
  {
    process p;
    int fd;
    {
      ::mcf::testing::FailKind inject("kzalloc");
      fd = p.open("/dev/ftest_fail", O_RDWR_);
    }
    EXPECT_EQ(fd, -ENOMEM);
    EXPECT_EQ(tc->opens.load(), 0);
    EXPECT_EQ(kref_read(&tc->dev.kobj), 1u);  // the pin was dropped
  }
  test_chardev_remove(tc);
}

// --- Reports -----------------------------------------------------------------------

// The file layer's R12 oracle: an ioctl on a node deleted before the call
// started must not succeed.
TEST_F(FileDeathTest, IoctlSucceedingOnUnregisteredNodeIsReported) {
  test_chardev* tc =
      make("ftest_unchecked", {.ioctl = echo_ioctl, .ignore_unregistered = true});
  ASSERT_NE(tc, nullptr);
  process p;
  int fd = p.open("/dev/ftest_unchecked", O_RDWR_);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(p.ioctl(fd, 1, 0), 101);  // registered: fine
  test_chardev_remove(tc);
  EXPECT_DEATH(p.ioctl(fd, 1, 0),
               "==mcfuzz== REPORT call-on-unregistered: ioctl 0x1 on /dev/ftest_unchecked "
               "succeeded \\(101\\) after the node was unregistered");
  EXPECT_EQ(p.close(fd), 0);
}

void spin_lock_and_keep(SpinLock* s) ABSL_NO_THREAD_SAFETY_ANALYSIS { s->lock(); }

TEST_F(FileDeathTest, IoctlReturningWithSpinLockHeldIsReported) {
  static SpinLock* leaked = new SpinLock("test.file_spin");
  test_chardev* tc = make("ftest_spin_leak", {.ioctl = [](file*, unsigned, unsigned long) -> long {
                            spin_lock_and_keep(leaked);
                            return 0;
                          }});
  ASSERT_NE(tc, nullptr);
  {
    process p;
    int fd = p.open("/dev/ftest_spin_leak", O_RDWR_);
    ASSERT_GE(fd, 0);
    EXPECT_DEATH(p.ioctl(fd, 0, 0),
                 "==mcfuzz== REPORT lock-held-at-return: .*from ioctl: test.file_spin");
  }
  test_chardev_remove(tc);
}

}  // namespace
}  // namespace mcf
