// The videobuf2 core on a bare queue (no video node, a minimal in-test
// driver): the buffer state machine, vb2_queue_error, and the reports a
// misbehaving driver or caller gets (each would otherwise be a silent
// use-after-free or race: a buffer kept past stop_streaming can be completed
// by a late IRQ into freed memory; a queue call without q->lock races with
// every other file).
#include "core/v4l2/videobuf2.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/kernel/live_objects.h"
#include "tests/support/live_objects_check.h"

namespace mcf {
namespace {

using testing::alive_objects;

constexpr unsigned kPlaneSize = 64;

struct bare_drv {
  Mutex lock{"bare_vb2.lock"};
  vb2_queue q;
  std::vector<vb2_buffer*> held;  // the buffers the "driver" owns; single-threaded
  bool keep_one_on_stop = false;
  int start_calls = 0;
};

bare_drv* drv_of(vb2_queue* q) { return static_cast<bare_drv*>(q->drv_priv); }

int bare_queue_setup(vb2_queue* q, unsigned* n, unsigned* planes, unsigned sizes[]) {
  *planes = 1;
  sizes[0] = kPlaneSize;
  return 0;
}
void bare_buf_queue(vb2_buffer* vb) { drv_of(vb->vb2_queue)->held.push_back(vb); }
int bare_start(vb2_queue* q, unsigned count) {
  drv_of(q)->start_calls++;
  return 0;
}
void bare_stop(vb2_queue* q) {
  bare_drv* d = drv_of(q);
  size_t keep = d->keep_one_on_stop ? 1 : 0;
  while (d->held.size() > keep) {
    vb2_buffer_done(d->held.back(), VB2_BUF_STATE_ERROR);
    d->held.pop_back();
  }
}
const vb2_ops bare_ops = {
    .queue_setup = bare_queue_setup,
    .start_streaming = bare_start,
    .stop_streaming = bare_stop,
    .buf_queue = bare_buf_queue,
};

class Vb2CoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(alive_objects(), "");
    d_ = new bare_drv();
    d_->q.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    d_->q.io_modes = VB2_MMAP;
    d_->q.lock = &d_->lock;
    d_->q.ops = &bare_ops;
    d_->q.drv_priv = d_;
    d_->q.min_queued_buffers = 1;
    ASSERT_EQ(vb2_queue_init(&d_->q), 0);
  }
  void TearDown() override {
    {
      MutexGuard g(&d_->lock);
      vb2_queue_release(&d_->q);
    }
    delete d_;
    EXPECT_EQ(alive_objects(), "");
  }
  // Completes the oldest buffer the driver holds.
  void complete_one(vb2_buffer_state state = VB2_BUF_STATE_DONE) {
    ASSERT_FALSE(d_->held.empty());
    vb2_buffer* vb = d_->held.front();
    d_->held.erase(d_->held.begin());
    vb2_set_plane_payload(vb, 0, kPlaneSize);
    vb2_buffer_done(vb, state);
  }
  vb2_buffer_state state(unsigned i) { return d_->q.bufs[i]->state.load(); }

  bare_drv* d_ = nullptr;
};

TEST(Vb2QueueInit, RefusesIncompleteQueues) {
  vb2_queue q;
  EXPECT_EQ(vb2_queue_init(&q), -EINVAL);  // no type
  q.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  q.ops = &bare_ops;
  EXPECT_EQ(vb2_queue_init(&q), -EINVAL);  // no MMAP
  q.io_modes = VB2_MMAP;
  EXPECT_EQ(vb2_queue_init(&q), 0);
  vb2_ops no_buf_queue = bare_ops;
  no_buf_queue.buf_queue = nullptr;
  q.ops = &no_buf_queue;
  EXPECT_EQ(vb2_queue_init(&q), -EINVAL);
}

TEST_F(Vb2CoreTest, StateMachine) {
  MutexGuard g(&d_->lock);
  unsigned count = 3;
  ASSERT_EQ(vb2_core_reqbufs(&d_->q, V4L2_MEMORY_MMAP, &count), 0);
  ASSERT_EQ(count, 3u);
  EXPECT_EQ(state(0), VB2_BUF_STATE_DEQUEUED);
  ASSERT_EQ(vb2_core_qbuf(&d_->q, 0, nullptr), 0);
  EXPECT_EQ(state(0), VB2_BUF_STATE_QUEUED);  // not streaming: vb2 keeps it
  ASSERT_EQ(vb2_core_streamon(&d_->q, V4L2_BUF_TYPE_VIDEO_CAPTURE), 0);
  EXPECT_EQ(d_->start_calls, 1);
  EXPECT_EQ(state(0), VB2_BUF_STATE_ACTIVE);  // given to the driver
  ASSERT_EQ(vb2_core_qbuf(&d_->q, 1, nullptr), 0);
  EXPECT_EQ(state(1), VB2_BUF_STATE_ACTIVE);  // streaming: straight to the driver
  EXPECT_EQ(d_->q.owned_by_drv_count.load(), 2);
  complete_one(VB2_BUF_STATE_ERROR);
  EXPECT_EQ(state(0), VB2_BUF_STATE_ERROR);
  v4l2_buffer b = {};
  ASSERT_EQ(vb2_core_dqbuf(&d_->q, &b, true), 0);
  EXPECT_EQ(b.index, 0u);
  EXPECT_TRUE(b.flags & V4L2_BUF_FLAG_ERROR);  // the error survives DQBUF
  EXPECT_EQ(b.bytesused, kPlaneSize);
  EXPECT_EQ(state(0), VB2_BUF_STATE_DEQUEUED);
  EXPECT_EQ(vb2_core_dqbuf(&d_->q, nullptr, true), -EAGAIN);
  ASSERT_EQ(vb2_core_streamoff(&d_->q, V4L2_BUF_TYPE_VIDEO_CAPTURE), 0);
  EXPECT_EQ(state(1), VB2_BUF_STATE_DEQUEUED);
  EXPECT_EQ(d_->q.owned_by_drv_count.load(), 0);
}

TEST_F(Vb2CoreTest, QueueErrorFailsQbufAndDqbufUntilStreamoff) {
  MutexGuard g(&d_->lock);
  unsigned count = 2;
  ASSERT_EQ(vb2_core_reqbufs(&d_->q, V4L2_MEMORY_MMAP, &count), 0);
  ASSERT_EQ(vb2_core_qbuf(&d_->q, 0, nullptr), 0);
  ASSERT_EQ(vb2_core_streamon(&d_->q, V4L2_BUF_TYPE_VIDEO_CAPTURE), 0);
  vb2_queue_error(&d_->q);
  EXPECT_EQ(vb2_core_qbuf(&d_->q, 1, nullptr), -EIO);
  EXPECT_EQ(vb2_core_dqbuf(&d_->q, nullptr, false), -EIO);  // does not sleep
  EXPECT_EQ(vb2_core_poll(&d_->q, nullptr, nullptr), EPOLLERR);
  ASSERT_EQ(vb2_core_streamoff(&d_->q, V4L2_BUF_TYPE_VIDEO_CAPTURE), 0);
  EXPECT_EQ(vb2_core_qbuf(&d_->q, 1, nullptr), 0);
}

TEST_F(Vb2CoreTest, WakeForUnregisterMakesDqbufAndPollFail) {
  MutexGuard g(&d_->lock);
  unsigned count = 2;
  ASSERT_EQ(vb2_core_reqbufs(&d_->q, V4L2_MEMORY_MMAP, &count), 0);
  ASSERT_EQ(vb2_core_qbuf(&d_->q, 0, nullptr), 0);
  ASSERT_EQ(vb2_core_streamon(&d_->q, V4L2_BUF_TYPE_VIDEO_CAPTURE), 0);
  complete_one();
  vb2_queue_wake_for_unregister(&d_->q);
  vb2_queue_wake_for_unregister(&d_->q);  // idempotent
  // Even with a buffer done: the node is going, nothing is handed out.
  EXPECT_EQ(vb2_core_dqbuf(&d_->q, nullptr, true), -ENODEV);
  EXPECT_EQ(vb2_core_poll(&d_->q, nullptr, nullptr), EPOLLERR | EPOLLHUP);
}

TEST_F(Vb2CoreTest, ReqbufsAgainReplacesBuffers) {
  MutexGuard g(&d_->lock);
  unsigned count = 4;
  ASSERT_EQ(vb2_core_reqbufs(&d_->q, V4L2_MEMORY_MMAP, &count), 0);
  ASSERT_EQ(vb2_core_qbuf(&d_->q, 2, nullptr), 0);  // queued without STREAMON
  count = 2;
  ASSERT_EQ(vb2_core_reqbufs(&d_->q, V4L2_MEMORY_MMAP, &count), 0);
  EXPECT_EQ(d_->q.bufs.size(), 2u);
  EXPECT_EQ(d_->q.queued_count, 0u);
  EXPECT_EQ(live_objects_count("vb2_v4l2_buffer"), 2);
}

using Vb2CoreDeathTest = Vb2CoreTest;

// A driver that keeps a buffer past stop_streaming: its IRQ could complete
// it after REQBUFS(0) freed it. Reported at the cancel, as upstream's WARN.
TEST_F(Vb2CoreDeathTest, StopStreamingKeepingABufferIsReported) {
  EXPECT_DEATH(
      {
        MutexGuard g(&d_->lock);
        unsigned count = 2;
        vb2_core_reqbufs(&d_->q, V4L2_MEMORY_MMAP, &count);
        vb2_core_qbuf(&d_->q, 0, nullptr);
        vb2_core_streamon(&d_->q, V4L2_BUF_TYPE_VIDEO_CAPTURE);
        d_->keep_one_on_stop = true;
        vb2_core_streamoff(&d_->q, V4L2_BUF_TYPE_VIDEO_CAPTURE);
      },
      "REPORT warning: WARN_ON\\(q->owned_by_drv_count");
}

// Completing a buffer the driver does not own (twice, or never queued).
TEST_F(Vb2CoreDeathTest, BufferDoneOnABufferNotOwnedIsReported) {
  EXPECT_DEATH(
      {
        MutexGuard g(&d_->lock);
        unsigned count = 1;
        vb2_core_reqbufs(&d_->q, V4L2_MEMORY_MMAP, &count);
        vb2_buffer_done(d_->q.bufs[0], VB2_BUF_STATE_DONE);
      },
      "REPORT warning: WARN_ON\\(vb->state");
}

// A queue call without the queue's lock.
TEST_F(Vb2CoreDeathTest, QueueCallWithoutQueueLockIsReported) {
  unsigned count = 1;
  EXPECT_DEATH(vb2_core_reqbufs(&d_->q, V4L2_MEMORY_MMAP, &count),
               "REPORT bug: lockdep_assert_held\\(bare_vb2.lock\\) failed");
}

}  // namespace
}  // namespace mcf
