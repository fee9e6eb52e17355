// videobuf2 through the test video driver: REQBUFS / QUERYBUF / QBUF / DQBUF
// / STREAMON / STREAMOFF semantics and error codes as upstream, queue
// ownership between file handles, frames completed by the simulated IRQ.
#include "core/v4l2/videobuf2.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/kernel/hw.h"
#include "core/kernel/live_objects.h"
#include "tests/support/test_video_driver.h"

namespace mcf {
namespace {

using namespace mcf::testing;

constexpr uint32_t kStateFlags = V4L2_BUF_FLAG_QUEUED | V4L2_BUF_FLAG_DONE | V4L2_BUF_FLAG_ERROR;

class Vb2QueueTest : public TestVideoFixture {
 protected:
  // The flags QUERYBUF reports for buffer `index`.
  uint32_t buf_flags(int fd, unsigned index) {
    v4l2_buffer b;
    EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QUERYBUF, index, &b), 0);
    return b.flags;
  }
  // The payload byte the driver wrote at `offset` of buffer `index` (the
  // buffer must be dequeued: user space owns it).
  uint8_t payload(unsigned index, size_t offset) {
    return static_cast<uint8_t*>(vb2_plane_vaddr(drv_->queue.bufs[index], 0))[offset];
  }
};

TEST_F(Vb2QueueTest, ReqbufsAllocatesWithinLimits) {
  int fd = open_node();
  ASSERT_GE(fd, 0);
  v4l2_requestbuffers req;
  ASSERT_EQ(user_reqbufs(proc_, fd, 4, user_arena::kDefaultBase, &req), 0);
  EXPECT_EQ(req.count, 4u);
  EXPECT_TRUE(req.capabilities & V4L2_BUF_CAP_SUPPORTS_MMAP);
  EXPECT_FALSE(req.capabilities & V4L2_BUF_CAP_SUPPORTS_USERPTR);
  EXPECT_EQ(live_objects_count("vb2_v4l2_buffer"), 4);
  // Fewer than min_queued_buffers is raised; more than VB2_MAX_FRAME capped.
  ASSERT_EQ(user_reqbufs(proc_, fd, 1, user_arena::kDefaultBase, &req), 0);
  EXPECT_EQ(req.count, kTestVideoMinQueued);
  ASSERT_EQ(user_reqbufs(proc_, fd, 1000, user_arena::kDefaultBase, &req), 0);
  EXPECT_EQ(req.count, VB2_MAX_FRAME);
  ASSERT_EQ(user_reqbufs(proc_, fd, 0, user_arena::kDefaultBase, &req), 0);
  EXPECT_EQ(req.count, 0u);
  EXPECT_EQ(live_objects_count("vb2_v4l2_buffer"), 0);
}

TEST_F(Vb2QueueTest, ReqbufsRefusesOtherTypesAndMemory) {
  int fd = open_node();
  v4l2_requestbuffers req = {};
  req.count = 2;
  req.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;  // a capture node
  req.memory = V4L2_MEMORY_MMAP;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_REQBUFS, &req), -EINVAL);
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_USERPTR;  // MMAP only
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_REQBUFS, &req), -EINVAL);
  req.memory = 77;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_REQBUFS, &req), -EINVAL);
  EXPECT_EQ(live_objects_count("vb2_v4l2_buffer"), 0);
}

TEST_F(Vb2QueueTest, QuerybufDescribesEachBuffer) {
  int fd = open_node();
  ASSERT_EQ(user_reqbufs(proc_, fd, 3), 0);
  uint32_t offsets[3];
  for (unsigned i = 0; i < 3; ++i) {
    v4l2_buffer b;
    ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QUERYBUF, i, &b), 0);
    EXPECT_EQ(b.index, i);
    EXPECT_EQ(b.type, static_cast<uint32_t>(V4L2_BUF_TYPE_VIDEO_CAPTURE));
    EXPECT_EQ(b.memory, static_cast<uint32_t>(V4L2_MEMORY_MMAP));
    EXPECT_EQ(b.length, kTestVideoSizeImage);
    EXPECT_EQ(b.bytesused, 0u);
    EXPECT_EQ(b.flags & kStateFlags, 0u);
    EXPECT_EQ(b.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK, V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC);
    offsets[i] = b.m.offset;
  }
  EXPECT_NE(offsets[0], offsets[1]);
  EXPECT_NE(offsets[1], offsets[2]);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QUERYBUF, 3), -EINVAL);
  v4l2_buffer b = {};
  b.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_QUERYBUF, &b), -EINVAL);
}

TEST_F(Vb2QueueTest, FramesFromIrqRoundTrip) {
  int fd = open_node();
  ASSERT_GE(fd, 0);
  start_capture(fd, 4, 4);
  EXPECT_EQ(readl(drv_->regs, kTestVideoRegStreamCtrl), 1u);
  for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(buf_flags(fd, i) & kStateFlags, V4L2_BUF_FLAG_QUEUED);

  uint32_t next_seq = 0;
  uint64_t last_ts = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 4; ++i) ASSERT_EQ(irq_fire(irq_), 1);
    for (int i = 0; i < 4; ++i) {
      v4l2_buffer b;
      ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, &b), 0);
      // Buffers come back in queue order, each with the next frame.
      EXPECT_EQ(b.index, static_cast<unsigned>(i));
      EXPECT_EQ(b.sequence, next_seq);
      EXPECT_EQ(b.bytesused, kTestVideoSizeImage);
      EXPECT_EQ(b.field, static_cast<uint32_t>(V4L2_FIELD_NONE));
      EXPECT_EQ(b.flags & kStateFlags, 0u);  // DONE is cleared by DQBUF
      uint64_t ts = b.timestamp.tv_sec * 1000000000ull + b.timestamp.tv_usec * 1000ull;
      EXPECT_GT(ts, last_ts);
      last_ts = ts;
      EXPECT_EQ(payload(b.index, 0), test_video_pattern(next_seq, 0));
      EXPECT_EQ(payload(b.index, kTestVideoSizeImage - 1),
                test_video_pattern(next_seq, kTestVideoSizeImage - 1));
      ++next_seq;
    }
    for (unsigned i = 0; i < 4; ++i) ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, i), 0);
  }
  EXPECT_EQ(readl(drv_->regs, kTestVideoRegFrameCount), next_seq);
}

TEST_F(Vb2QueueTest, DroppedFramesAdvanceTheSequence) {
  int fd = open_node();
  start_capture(fd, 2, 2);
  for (int i = 0; i < 2; ++i) ASSERT_EQ(irq_fire(irq_), 1);
  ASSERT_EQ(irq_fire(irq_), 1);  // no buffer: dropped
  v4l2_buffer b;
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, &b), 0);
  EXPECT_EQ(b.sequence, 0u);
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, b.index), 0);
  ASSERT_EQ(irq_fire(irq_), 1);
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, &b), 0);
  EXPECT_EQ(b.sequence, 1u);
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, &b), 0);
  EXPECT_EQ(b.sequence, 3u);  // frame 2 had no buffer
}

TEST_F(Vb2QueueTest, NonblockingDqbufWithNothingDoneIsEagain) {
  int fd = open_node(O_RDWR_ | O_NONBLOCK_);
  start_capture(fd, 2, 2);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0), -EAGAIN);
  ASSERT_EQ(irq_fire(irq_), 1);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0), 0);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0), -EAGAIN);
}

TEST_F(Vb2QueueTest, BufferCallsWithoutBuffersOrStreamingAreEinval) {
  int fd = open_node(O_RDWR_ | O_NONBLOCK_);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, 0), -EINVAL);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0), -EINVAL);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QUERYBUF, 0), -EINVAL);
  EXPECT_EQ(user_stream(proc_, fd, VIDIOC_STREAMON), -EINVAL);
  EXPECT_EQ(user_stream(proc_, fd, VIDIOC_STREAMOFF), 0);  // nothing to stop
  ASSERT_EQ(user_reqbufs(proc_, fd, 2), 0);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0), -EINVAL);  // not streaming
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, 2), -EINVAL);   // no such index
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, 0), 0);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, 0), -EINVAL);   // already queued
  v4l2_buffer b = {};
  b.index = 1;
  b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  b.memory = V4L2_MEMORY_USERPTR;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_QBUF, &b), -EINVAL);      // wrong memory
  b.memory = V4L2_MEMORY_MMAP;
  b.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_QBUF, &b), -EINVAL);      // wrong type
  int type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_STREAMON, &type), -EINVAL);
}

TEST_F(Vb2QueueTest, SecondFileHandleIsBusyUntilOwnerLetsGo) {
  int owner = open_node();
  int other = open_node();
  ASSERT_EQ(user_reqbufs(proc_, owner, 2), 0);
  EXPECT_EQ(user_reqbufs(proc_, other, 2), -EBUSY);
  EXPECT_EQ(user_reqbufs(proc_, other, 0), -EBUSY);
  EXPECT_EQ(user_buf_ioctl(proc_, other, VIDIOC_QBUF, 0), -EBUSY);
  EXPECT_EQ(user_buf_ioctl(proc_, other, VIDIOC_DQBUF, 0), -EBUSY);
  EXPECT_EQ(user_stream(proc_, other, VIDIOC_STREAMON), -EBUSY);
  EXPECT_EQ(user_stream(proc_, other, VIDIOC_STREAMOFF), -EBUSY);
  EXPECT_EQ(user_buf_ioctl(proc_, other, VIDIOC_QUERYBUF, 0), 0);  // anyone may query
  // REQBUFS(0) frees the buffers and the ownership.
  ASSERT_EQ(user_reqbufs(proc_, owner, 0), 0);
  EXPECT_EQ(user_reqbufs(proc_, other, 2), 0);
  EXPECT_EQ(user_reqbufs(proc_, owner, 2), -EBUSY);
  // A dup()ed fd is the same file: same owner.
  int dup = proc_.dup(other);
  EXPECT_EQ(user_buf_ioctl(proc_, dup, VIDIOC_QBUF, 0), 0);
}

TEST_F(Vb2QueueTest, OwnerCloseReleasesTheQueue) {
  int owner = open_node();
  int other = open_node();
  start_capture(owner, 3, 3);
  ASSERT_EQ(irq_fire(irq_), 1);
  EXPECT_EQ(live_objects_count("vb2_v4l2_buffer"), 3);
  ASSERT_EQ(proc_.close(owner), 0);
  // stop_streaming ran and the buffers are gone with the owner.
  EXPECT_EQ(live_objects_count("vb2_v4l2_buffer"), 0);
  EXPECT_EQ(readl(drv_->regs, kTestVideoRegStreamCtrl), 0u);
  EXPECT_EQ(user_reqbufs(proc_, other, 2), 0);
  // A non-owner's close leaves the queue alone.
  int third = open_node();
  ASSERT_EQ(proc_.close(third), 0);
  EXPECT_EQ(live_objects_count("vb2_v4l2_buffer"), 2);
}

TEST_F(Vb2QueueTest, StreamonWaitsForMinQueuedBuffers) {
  int fd = open_node(O_RDWR_ | O_NONBLOCK_);
  ASSERT_EQ(user_reqbufs(proc_, fd, 4), 0);
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, 0), 0);
  ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMON), 0);
  ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMON), 0);  // already streaming: no-op
  // One buffer: start_streaming has not run, the hardware is off.
  EXPECT_EQ(readl(drv_->regs, kTestVideoRegStreamCtrl), 0u);
  ASSERT_EQ(irq_fire(irq_), 1);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0), -EAGAIN);
  // The second QBUF reaches min_queued_buffers and starts the driver.
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, 1), 0);
  EXPECT_EQ(readl(drv_->regs, kTestVideoRegStreamCtrl), 1u);
  ASSERT_EQ(irq_fire(irq_), 1);
  v4l2_buffer b;
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, &b), 0);
  EXPECT_EQ(b.index, 0u);
  EXPECT_EQ(b.sequence, 0u);
}

TEST_F(Vb2QueueTest, FailedStartStreamingReturnsBuffersQueued) {
  int fd = open_node(O_RDWR_ | O_NONBLOCK_);
  ASSERT_EQ(user_reqbufs(proc_, fd, 3), 0);
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, 0), 0);
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, 1), 0);
  drv_->start_streaming_error = -EIO;
  EXPECT_EQ(user_stream(proc_, fd, VIDIOC_STREAMON), -EIO);
  // The driver gave them back as QUEUED; the queue is not streaming.
  EXPECT_EQ(buf_flags(fd, 0) & kStateFlags, V4L2_BUF_FLAG_QUEUED);
  EXPECT_EQ(buf_flags(fd, 1) & kStateFlags, V4L2_BUF_FLAG_QUEUED);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0), -EINVAL);

  // Deferred start failing in QBUF: that QBUF fails and its buffer stays
  // with user space; the others stay queued.
  ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMOFF), 0);
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, 0), 0);
  ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMON), 0);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, 1), -EIO);
  EXPECT_EQ(buf_flags(fd, 0) & kStateFlags, V4L2_BUF_FLAG_QUEUED);
  EXPECT_EQ(buf_flags(fd, 1) & kStateFlags, 0u);

  drv_->start_streaming_error = 0;
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, 1), 0);
  EXPECT_EQ(readl(drv_->regs, kTestVideoRegStreamCtrl), 1u);
  ASSERT_EQ(irq_fire(irq_), 1);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0), 0);
}

TEST_F(Vb2QueueTest, StreamoffReturnsAllBuffers) {
  int fd = open_node(O_RDWR_ | O_NONBLOCK_);
  start_capture(fd, 4, 4);
  ASSERT_EQ(irq_fire(irq_), 1);
  ASSERT_EQ(irq_fire(irq_), 1);
  EXPECT_EQ(buf_flags(fd, 0) & kStateFlags, V4L2_BUF_FLAG_DONE);
  EXPECT_EQ(buf_flags(fd, 3) & kStateFlags, V4L2_BUF_FLAG_QUEUED);
  ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMOFF), 0);
  EXPECT_EQ(readl(drv_->regs, kTestVideoRegStreamCtrl), 0u);
  // Done or still with the driver, every buffer is back with user space;
  // nothing is left to dequeue.
  for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(buf_flags(fd, i) & kStateFlags, 0u) << i;
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0), -EINVAL);
  // An IRQ now finds nothing to complete.
  ASSERT_EQ(irq_fire(irq_), 1);
  // And every buffer can be queued again.
  for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, i), 0);
  ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMON), 0);
  ASSERT_EQ(irq_fire(irq_), 1);
  v4l2_buffer b;
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, &b), 0);
  EXPECT_EQ(b.sequence, 0u);  // a new stream
}

TEST_F(Vb2QueueTest, ReqbufsAndSFmtWhileBusy) {
  int fd = open_node();
  start_capture(fd, 2, 2);
  EXPECT_EQ(user_reqbufs(proc_, fd, 0), -EBUSY);  // streaming
  EXPECT_EQ(user_reqbufs(proc_, fd, 4), -EBUSY);
  v4l2_format f = {};
  f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_S_FMT, &f), -EBUSY);  // buffers allocated
  ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMOFF), 0);
  EXPECT_EQ(user_reqbufs(proc_, fd, 0), 0);
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_S_FMT, &f), 0);
}

TEST_F(Vb2QueueTest, PollReportsStreamingAndDoneBuffers) {
  int fd = open_node();
  EXPECT_EQ(proc_.poll(fd, EPOLLIN, false), static_cast<long>(EPOLLERR));  // not streaming
  start_capture(fd, 2, 2);
  EXPECT_EQ(proc_.poll(fd, EPOLLIN, false), 0);
  ASSERT_EQ(irq_fire(irq_), 1);
  EXPECT_EQ(proc_.poll(fd, EPOLLIN | EPOLLRDNORM, false), static_cast<long>(EPOLLIN | EPOLLRDNORM));
  // Blocking poll with a buffer ready returns at once.
  EXPECT_EQ(proc_.poll(fd, EPOLLIN, true), static_cast<long>(EPOLLIN));
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0), 0);
  EXPECT_EQ(proc_.poll(fd, EPOLLIN, false), 0);
}

}  // namespace
}  // namespace mcf
