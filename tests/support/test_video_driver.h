// A small test-only platform driver with one capture video node, written the
// way the lifetime rules want a V4L2 driver written (R8, R9, R13-R15):
//
//   /dev/videoN  (VIDEO_CAPTURE | STREAMING, 64x48 GREY, one input)
//     fops: v4l2_fh_open / vb2_fop_release / video_ioctl2 / vb2_fop_poll
//     ioctls: QUERYCAP, ENUM_FMT, G/S/TRY_FMT, ENUMINPUT, G/S_INPUT and the
//             vb2_ioctl_* queue helpers; drv->lock serialises them all
//   vb2 queue: MMAP, min_queued_buffers = 2 (STREAMON starts the "hardware"
//     once two buffers are queued)
//   IRQ line 0: each interrupt is one frame. While streaming it completes
//     the first buffer the driver holds with a test pattern, a sequence
//     number and a timestamp; a frame with no buffer is dropped (the
//     sequence still advances, as on real hardware).
//   registers: STREAM_CTRL (start/stop), IRQ_ACK, FRAME_COUNT; written from
//     start/stop_streaming and the IRQ, so any of them running after remove()
//     is a report (R15).
//
// Everything lives in one kzalloc'd struct (test_video_drv) freed only by
// the v4l2_device release (R9), i.e. after the video node's release, which
// runs at the node's last reference (last close). remove() unregisters the
// node with vb2_video_unregister_device (waits for calls in flight, wakes
// sleepers, releases the queue while the hardware is still there), frees
// the IRQ, and drops the driver's reference (R8, R15).
//
// A second driver, "mcf-test-video-min", binds the same code with only
// QUERYCAP, the format ioctls and the queue ioctls (no input ioctls, no
// TRY_FMT), for -ENOTTY tests.
#pragma once

#include <gtest/gtest.h>
#include <linux/videodev2.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <string>

#include "core/fs/process.h"
#include "core/kernel/platform.h"
#include "core/v4l2/v4l2_dev.h"
#include "core/v4l2/v4l2_device.h"
#include "core/v4l2/videobuf2.h"
#include "tests/support/live_objects_check.h"

namespace mcf::testing {

constexpr const char kTestVideoDriverName[] = "mcf-test-video";
constexpr const char kTestVideoMinDriverName[] = "mcf-test-video-min";

constexpr unsigned kTestVideoWidth = 64;
constexpr unsigned kTestVideoHeight = 48;
constexpr unsigned kTestVideoSizeImage = kTestVideoWidth * kTestVideoHeight;  // GREY
constexpr unsigned kTestVideoMinQueued = 2;
constexpr uint64_t kTestVideoFrameNs = 33333333;  // timestamp of frame s: (s + 1) * this

// Register offsets.
constexpr uint32_t kTestVideoRegStreamCtrl = 0x0;
constexpr uint32_t kTestVideoRegIrqAck = 0x4;
constexpr uint32_t kTestVideoRegFrameCount = 0x8;
constexpr size_t kTestVideoNumRegs = 4;

struct test_video_drv : Tracked<test_video_drv> {
  static constexpr const char kObjName[] = "test_video_drv";
  platform_device* pdev = nullptr;  // not counted: valid from probe to remove
  v4l2_device v4l2_dev;
  video_device vdev;
  vb2_queue queue;
  // Serialises every ioctl (vdev.lock) and the queue (queue.lock).
  Mutex lock{"test_video.lock"};
  // The buffers the driver holds, shared between process context
  // (buf_queue, start/stop_streaming) and the IRQ handler.
  SpinLock irqlock{"test_video.irqlock"};
  std::deque<vb2_v4l2_buffer*> buf_list ABSL_GUARDED_BY(irqlock);
  bool streaming ABSL_GUARDED_BY(irqlock) = false;
  uint32_t sequence ABSL_GUARDED_BY(irqlock) = 0;
  int irq = -1;
  iomem* regs = nullptr;
  // start_streaming's answer (0 or a negative errno), for failure tests.
  std::atomic<int> start_streaming_error{0};
};

// Registers both platform drivers (pair with test_video_driver_unregister).
int test_video_driver_register();
void test_video_driver_unregister();

// Adds the platform device "mcf-test-video[-min].<id>" with one IRQ line and
// the registers; it is probed if the driver is registered. Returns the device
// with the caller's reference (platform_device_unregister drops it).
platform_device* test_video_device_add(int id, bool minimal = false);

// The driver data of a bound device, or null.
test_video_drv* test_video_drvdata(platform_device* pdev);
// "/dev/videoN" of a bound device's node.
std::string test_video_devnode(test_video_drv* drv);

// Byte `offset` of the test pattern of frame `sequence`.
inline uint8_t test_video_pattern(uint32_t sequence, size_t offset) {
  return static_cast<uint8_t>(sequence * 7 + offset);
}

// Number of times any test_video IRQ handler ran, and of driver structs
// freed (by the v4l2_device release), since the process started.
int test_video_irq_handled_count();
int test_video_released_count();

// --- User-space side: typed ioctls through a process's user memory. `at` is
// the scratch user address (distinct per thread when threads share a process).

template <typename T>
long user_ioctl(process& proc, int fd, unsigned long cmd, T* arg,
                user_addr_t at = user_arena::kDefaultBase) {
  if (!proc.mem().write(at, arg, sizeof(*arg))) return -EFAULT;
  long ret = proc.ioctl(fd, cmd, at);
  proc.mem().read(at, arg, sizeof(*arg));
  return ret;
}

inline long user_reqbufs(process& proc, int fd, unsigned count,
                         user_addr_t at = user_arena::kDefaultBase,
                         v4l2_requestbuffers* out = nullptr) {
  v4l2_requestbuffers req = {};
  req.count = count;
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_MMAP;
  long ret = user_ioctl(proc, fd, VIDIOC_REQBUFS, &req, at);
  if (out != nullptr) *out = req;
  return ret;
}

inline long user_buf_ioctl(process& proc, int fd, unsigned long cmd, unsigned index,
                           v4l2_buffer* out = nullptr, user_addr_t at = user_arena::kDefaultBase) {
  v4l2_buffer buf = {};
  buf.index = index;
  buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  buf.memory = V4L2_MEMORY_MMAP;
  long ret = user_ioctl(proc, fd, cmd, &buf, at);
  if (out != nullptr) *out = buf;
  return ret;
}

inline long user_stream(process& proc, int fd, unsigned long cmd,
                        user_addr_t at = user_arena::kDefaultBase) {
  int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  return user_ioctl(proc, fd, cmd, &type, at);
}

// --- A GoogleTest fixture for tests/v4l2: both drivers registered, one
// device bound (the minimal one if minimal() says so), one process. TearDown
// closes every fd, removes the device if the test did not, and checks that
// every model object was released.
class TestVideoFixture : public ::testing::Test {
 protected:
  virtual bool minimal() const { return false; }

  void SetUp() override {
    ASSERT_EQ(alive_objects(), "");
    ASSERT_EQ(test_video_driver_register(), 0);
    pdev_ = test_video_device_add(0, minimal());
    ASSERT_NE(pdev_, nullptr);
    drv_ = test_video_drvdata(pdev_);
    ASSERT_NE(drv_, nullptr);
    node_ = test_video_devnode(drv_);
    irq_ = static_cast<unsigned>(drv_->irq);
  }

  void TearDown() override {
    proc_.close_all();
    remove_device();
    test_video_driver_unregister();
    EXPECT_EQ(alive_objects(), "");
  }

  // platform_device_unregister: unbind (remove()) and drop our reference.
  void remove_device() {
    if (pdev_ == nullptr) return;
    platform_device_unregister(pdev_);
    pdev_ = nullptr;
    drv_ = nullptr;
  }

  int open_node(unsigned flags = O_RDWR_) { return proc_.open(node_, flags); }

  // REQBUFS(n), QBUF of buffers [0, queued), STREAMON; asserts each succeeds.
  void start_capture(int fd, unsigned n, unsigned queued) {
    ASSERT_EQ(user_reqbufs(proc_, fd, n), 0);
    for (unsigned i = 0; i < queued; ++i) ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, i), 0);
    ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMON), 0);
  }

  process proc_;
  platform_device* pdev_ = nullptr;
  test_video_drv* drv_ = nullptr;
  std::string node_;
  unsigned irq_ = 0;
};

}  // namespace mcf::testing
