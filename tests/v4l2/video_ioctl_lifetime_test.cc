// Removing the test video driver while files are open, calls are in flight,
// calls are asleep, streaming runs and IRQs fire: R12-R15 on a V4L2 capture
// node with a vb2 queue. Real threads.
//
// Semantics after remove() (what user space sees): every call on the node
// fails with -ENODEV (poll: EPOLLERR|EPOLLHUP), including a DQBUF that was
// asleep when remove() started. remove() released the queue: stop_streaming
// gave the driver's buffers back with VB2_BUF_STATE_ERROR and every buffer,
// done or not, was freed before remove() returned, so nothing is ever
// dequeued after unregistration. The driver struct stays until the last
// close.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/kernel/hooks.h"
#include "core/kernel/hw.h"
#include "core/kernel/live_objects.h"
#include "tests/support/hook_recorder.h"
#include "tests/support/test_video_driver.h"

namespace mcf {
namespace {

using namespace mcf::testing;

constexpr user_addr_t kScratchA = user_arena::kDefaultBase + 0x1000;
constexpr user_addr_t kScratchB = user_arena::kDefaultBase + 0x2000;
constexpr user_addr_t kScratchC = user_arena::kDefaultBase + 0x3000;

class VideoLifetimeTest : public TestVideoFixture {};

// Parks one chosen thread at the first hook of a given kind and class it
// reaches, until released; records every hook of every thread so a test can
// wait for another thread to reach a point.
class ParkingSink : public HookSink {
 public:
  ParkingSink() { set_hook_sink(this); }
  ~ParkingSink() override { set_hook_sink(nullptr); }

  void arm(std::thread::id tid, HookKind kind, const std::string& object_class) {
    std::lock_guard<std::mutex> g(m_);
    park_tid_ = tid;
    park_kind_ = kind;
    park_class_ = object_class;
    armed_ = true;
  }

  void on_hook(const HookPoint& p) override {
    std::unique_lock<std::mutex> g(m_);
    std::string cls = p.object_class != nullptr ? p.object_class : "";
    seen_.push_back({std::this_thread::get_id(), p.kind, cls});
    cv_.notify_all();
    if (armed_ && std::this_thread::get_id() == park_tid_ && p.kind == park_kind_ &&
        cls == park_class_) {
      armed_ = false;
      parked_ = true;
      cv_.notify_all();
      cv_.wait(g, [this] { return released_; });
    }
  }

  void wait_parked() {
    std::unique_lock<std::mutex> g(m_);
    cv_.wait(g, [this] { return parked_; });
  }
  void release() {
    std::lock_guard<std::mutex> g(m_);
    released_ = true;
    cv_.notify_all();
  }
  // Blocks until thread `tid` reached a hook of (kind, object_class).
  void wait_for(std::thread::id tid, HookKind kind, const std::string& object_class) {
    std::unique_lock<std::mutex> g(m_);
    cv_.wait(g, [&] {
      for (const Seen& s : seen_)
        if (s.tid == tid && s.kind == kind && s.cls == object_class) return true;
      return false;
    });
  }

 private:
  struct Seen {
    std::thread::id tid;
    HookKind kind;
    std::string cls;
  };
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<Seen> seen_;
  bool armed_ = false, parked_ = false, released_ = false;
  std::thread::id park_tid_;
  HookKind park_kind_ = HookKind::kCallEntry;
  std::string park_class_;
};

// R12: after remove() every call on the open node fails; the memory stays
// until the last close, then everything goes.
TEST_F(VideoLifetimeTest, RemoveWithFileOpenThenClose) {
  int fd = open_node();
  ASSERT_GE(fd, 0);
  int released = test_video_released_count();
  remove_device();
  v4l2_capability cap = {};
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_QUERYCAP, &cap), -ENODEV);
  EXPECT_EQ(proc_.poll(fd, EPOLLIN, false), static_cast<long>(EPOLLERR | EPOLLHUP));
  EXPECT_EQ(proc_.open(node_, O_RDWR_), -ENOENT);
  EXPECT_EQ(live_objects_count("test_video_drv"), 1);
  EXPECT_EQ(test_video_released_count(), released);
  ASSERT_EQ(proc_.close(fd), 0);
  EXPECT_EQ(test_video_released_count(), released + 1);
}

// Streaming with frames done and buffers still with the driver when remove()
// runs. Would fail if remove() left the queue to the owner's close:
// stop_streaming would then write STREAM_CTRL after remove() returned (a
// hw-access-after-remove report), and the buffers would outlive remove().
TEST_F(VideoLifetimeTest, RemoveWhileStreaming) {
  int fd = open_node();
  start_capture(fd, 4, 4);
  ASSERT_EQ(irq_fire(irq_), 1);
  ASSERT_EQ(irq_fire(irq_), 1);  // two done, two with the driver
  remove_device();
  // The queue went with remove(); the driver struct waits for the close.
  EXPECT_EQ(live_objects_count("vb2_v4l2_buffer"), 0);
  EXPECT_EQ(live_objects_count("test_video_drv"), 1);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0), -ENODEV);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QUERYBUF, 0), -ENODEV);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, 2), -ENODEV);
  EXPECT_EQ(user_stream(proc_, fd, VIDIOC_STREAMOFF), -ENODEV);
  ASSERT_EQ(proc_.close(fd), 0);
  EXPECT_EQ(alive_objects(), "");
}

// R13: unregistration waits for a call in flight. The ioctl thread is parked
// inside video_ioctl2 (at the driver lock, after the in-flight count was
// taken); the remover must sleep on unreg_wait until it is released. Without
// the in-flight count the remover would return while the ioctl is still in
// the driver (the `removed` check below fails, and the driver could free
// what the ioctl uses).
TEST_F(VideoLifetimeTest, R13_UnregisterWaitsForIoctlInFlight) {
  int fd = open_node();
  ParkingSink sink;
  std::atomic<bool> go{false};
  long ioctl_ret = 1;
  std::thread caller([&] {
    while (!go.load()) std::this_thread::yield();
    v4l2_capability cap = {};
    ioctl_ret = user_ioctl(proc_, fd, VIDIOC_QUERYCAP, &cap, kScratchA);
  });
  sink.arm(caller.get_id(), HookKind::kLockAcquire, "test_video.lock");
  go = true;
  sink.wait_parked();

  std::atomic<bool> removed{false};
  std::thread remover([&] {
    remove_device();
    removed = true;
  });
  sink.wait_for(remover.get_id(), HookKind::kWaitSleep, "video_device.unreg_wait");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(removed.load()) << "unregistration returned with an ioctl in flight";

  sink.release();
  caller.join();
  remover.join();
  EXPECT_TRUE(removed.load());
  // The parked call re-checked registration under the lock (R12).
  EXPECT_EQ(ioctl_ret, -ENODEV);
}

// R14: a DQBUF asleep in the driver is woken by unregistration and leaves
// with -ENODEV. Without the wake-up it would sleep forever while
// video_unregister_device waits for it (a hang: the test times out); without
// the re-check it would go back to sleep (the queue is still streaming at
// that point) and hang the same way.
TEST_F(VideoLifetimeTest, R14_BlockingDqbufWokenByUnregister) {
  int fd = open_node();
  start_capture(fd, 2, 2);
  HookRecorder rec;
  long ret = 1;
  std::thread sleeper([&] { ret = user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, nullptr, kScratchA); });
  rec.wait_for(HookKind::kWaitSleep, "vb2_queue.done_wq", 1);
  std::thread remover([&] { remove_device(); });
  sleeper.join();
  remover.join();
  EXPECT_EQ(ret, -ENODEV);
  EXPECT_EQ(live_objects_count("vb2_v4l2_buffer"), 0);
  ASSERT_EQ(proc_.close(fd), 0);
  EXPECT_EQ(alive_objects(), "");
}

// R14: a poll() asleep on the node returns EPOLLERR|EPOLLHUP at
// unregistration. Without the wake-up it would sleep forever (hang); without
// the registration re-check it would call into a released queue.
TEST_F(VideoLifetimeTest, R14_PollInProgressGetsErrHup) {
  int fd = open_node();
  start_capture(fd, 2, 2);
  HookRecorder rec;
  long mask = -1;
  std::thread poller([&] { mask = proc_.poll(fd, EPOLLIN, true); });
  rec.wait_for(HookKind::kWaitSleep, "poll", 1);
  remove_device();
  poller.join();
  EXPECT_EQ(mask, static_cast<long>(EPOLLERR | EPOLLHUP));
}

// R15: after remove() an interrupt on the line reaches no handler. Would fail
// if the driver freed its IRQ after remove() (devm) or not at all: irq_fire
// would run the handler with the hardware gone (an irq-after-remove report),
// or on freed memory (ASan).
TEST_F(VideoLifetimeTest, R15_IrqAfterRemoveDoesNotReachHandler) {
  int fd = open_node();
  start_capture(fd, 2, 2);
  platform_device* pdev = pdev_;
  get_device(&pdev->dev);  // keeps the IRQ line (not the driver) alive
  ASSERT_EQ(irq_fire(irq_), 1);
  remove_device();
  int handled = test_video_irq_handled_count();
  EXPECT_EQ(irq_fire(irq_), 0);  // spurious: no handler installed
  EXPECT_EQ(test_video_irq_handled_count(), handled);
  ASSERT_EQ(proc_.close(fd), 0);
  EXPECT_EQ(irq_fire(irq_), 0);  // and after the driver's memory went
  put_device(&pdev->dev);
}

// Everything at once, a few times: a capture thread (blocking QBUF/DQBUF
// loop), an IRQ thread, a non-blocking poller, a second file handle querying
// buffers, and remove() from the main thread after some frames. Every thread
// must end with -ENODEV / EPOLLHUP, and everything is released after close.
TEST_F(VideoLifetimeTest, RemoveDuringCaptureIrqAndPoll) {
  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      pdev_ = test_video_device_add(round, false);
      ASSERT_NE(pdev_, nullptr);
      drv_ = test_video_drvdata(pdev_);
      ASSERT_NE(drv_, nullptr);
      node_ = test_video_devnode(drv_);
      irq_ = static_cast<unsigned>(drv_->irq);
    }
    int fd = open_node();
    int other = open_node(O_RDWR_ | O_NONBLOCK_);
    ASSERT_GE(fd, 0);
    ASSERT_GE(other, 0);
    start_capture(fd, 4, 4);
    platform_device* pdev = pdev_;
    get_device(&pdev->dev);

    std::atomic<int> frames{0};
    std::atomic<bool> stop_irq{false};
    long capture_end = 0, query_end = 0;
    long poll_end = 0;
    std::thread capture([&] {
      for (;;) {
        v4l2_buffer b;
        long r = user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, &b, kScratchA);
        if (r == 0) r = user_buf_ioctl(proc_, fd, VIDIOC_QBUF, b.index, nullptr, kScratchA);
        if (r != 0) {
          capture_end = r;
          return;
        }
        frames.fetch_add(1);
      }
    });
    std::thread irq([&] {
      while (!stop_irq.load()) {
        irq_fire(irq_);
        std::this_thread::yield();
      }
    });
    std::thread poller([&] {
      for (;;) {
        long m = proc_.poll(fd, EPOLLIN, false);
        if (m & EPOLLHUP) {
          poll_end = m;
          return;
        }
        std::this_thread::yield();
      }
    });
    std::thread querier([&] {
      for (unsigned i = 0;; i = (i + 1) % 4) {
        long r = user_buf_ioctl(proc_, other, VIDIOC_QUERYBUF, i, nullptr, kScratchB);
        if (r != 0) {
          query_end = r;
          return;
        }
        std::this_thread::yield();
      }
    });
    while (frames.load() < 10) std::this_thread::yield();
    remove_device();
    capture.join();
    poller.join();
    querier.join();
    stop_irq = true;
    irq.join();
    EXPECT_EQ(capture_end, -ENODEV);
    EXPECT_EQ(query_end, -ENODEV);
    EXPECT_EQ(poll_end, static_cast<long>(EPOLLERR | EPOLLHUP));
    EXPECT_EQ(user_stream(proc_, fd, VIDIOC_STREAMON, kScratchC), -ENODEV);
    proc_.close_all();
    put_device(&pdev->dev);
    EXPECT_EQ(alive_objects(), "") << "round " << round;
  }
}

}  // namespace
}  // namespace mcf
