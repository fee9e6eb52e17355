// videobuf2 with real threads: a blocking DQBUF sleeps on done_wq without
// holding the driver's lock, and wakes for a frame, for STREAMOFF and for a
// second sleeper's refusal; an IRQ thread and a capture thread stream for a
// while.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/kernel/hw.h"
#include "core/v4l2/videobuf2.h"
#include "tests/support/hook_recorder.h"
#include "tests/support/test_video_driver.h"

namespace mcf {
namespace {

using namespace mcf::testing;

constexpr user_addr_t kScratchA = user_arena::kDefaultBase + 0x1000;
constexpr user_addr_t kScratchB = user_arena::kDefaultBase + 0x2000;

class Vb2BlockingTest : public TestVideoFixture {};

TEST_F(Vb2BlockingTest, BlockingDqbufWokenByIrqAndLockDroppedWhileAsleep) {
  int fd = open_node();
  start_capture(fd, 2, 2);
  HookRecorder rec;
  long ret = 1;
  v4l2_buffer b = {};
  std::thread sleeper([&] { ret = user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, &b, kScratchA); });
  rec.wait_for(HookKind::kWaitSleep, "vb2_queue.done_wq", 1);
  // The sleeper let go of the driver's lock: other queue calls get through.
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QUERYBUF, 1, nullptr, kScratchB), 0);
  // A second sleeper on the same queue is refused, as upstream.
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, nullptr, kScratchB), -EBUSY);
  ASSERT_EQ(irq_fire(irq_), 1);
  sleeper.join();
  EXPECT_EQ(ret, 0);
  EXPECT_EQ(b.index, 0u);
  EXPECT_EQ(b.sequence, 0u);
  EXPECT_EQ(b.bytesused, kTestVideoSizeImage);
}

TEST_F(Vb2BlockingTest, BlockingDqbufWokenByStreamoff) {
  int fd = open_node();
  start_capture(fd, 2, 2);
  HookRecorder rec;
  long ret = 1;
  std::thread sleeper([&] { ret = user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, nullptr, kScratchA); });
  rec.wait_for(HookKind::kWaitSleep, "vb2_queue.done_wq", 1);
  ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMOFF, kScratchB), 0);
  sleeper.join();
  EXPECT_EQ(ret, -EINVAL);  // not streaming any more
}

TEST_F(Vb2BlockingTest, CaptureThreadAgainstIrqThread) {
  int fd = open_node();
  start_capture(fd, 4, 4);
  constexpr uint32_t kFrames = 200;
  std::atomic<bool> stop{false};
  std::thread irq([&] {
    while (!stop.load()) {
      irq_fire(irq_);
      std::this_thread::yield();
    }
  });
  uint32_t last_seq = 0;
  uint32_t got = 0;
  bool ordered = true;
  while (got < kFrames) {
    v4l2_buffer b;
    ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, &b, kScratchA), 0);
    if (got > 0 && b.sequence <= last_seq) ordered = false;
    last_seq = b.sequence;
    ++got;
    ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, b.index, nullptr, kScratchA), 0);
  }
  stop = true;
  irq.join();
  EXPECT_TRUE(ordered);
  ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMOFF, kScratchA), 0);
}

}  // namespace
}  // namespace mcf
