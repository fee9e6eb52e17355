// vimc streaming end to end: every capture node, frames produced by the
// frame timer IRQ through the enabled pipeline, their content checked
// against the colour bars (computed here, not with the driver's code),
// sequence numbers and time stamps; what link_validate refuses at STREAMON
// (-EPIPE) and what a started pipeline makes busy.
#include <gtest/gtest.h>

#include <thread>

#include "core/kernel/hw.h"
#include "tests/drivers/vimc_test_util.h"
#include "tests/support/hook_recorder.h"

namespace mcf::vimctest {
namespace {

// The Bayer sample an RGGB sensor gives at (x, y) of a colour.
uint8_t rggb_sample(rgb c, unsigned x, unsigned y) {
  if (y % 2 == 0) return x % 2 == 0 ? c.r : c.g;
  return x % 2 == 0 ? c.g : c.b;
}

::testing::AssertionResult raw_rggb_frame(const uint8_t* p, unsigned w, unsigned h,
                                          uint64_t tick) {
  for (unsigned y = 0; y < h; ++y)
    for (unsigned x = 0; x < w; ++x)
      if (p[y * w + x] != rggb_sample(bar_color(x, w, tick), x, y))
        return ::testing::AssertionFailure() << "pixel (" << x << "," << y << ") of tick " << tick;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult rgb24_pixel(const uint8_t* p, unsigned w, unsigned x, unsigned y,
                                       rgb c) {
  const uint8_t* px = p + (size_t{y} * w + x) * 3;
  if (px[0] == c.r && px[1] == c.g && px[2] == c.b) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "pixel (" << x << "," << y << ") is " << int(px[0])
                                       << "," << int(px[1]) << "," << int(px[2]) << " not "
                                       << int(c.r) << "," << int(c.g) << "," << int(c.b);
}

::testing::AssertionResult rgb24_frame(const uint8_t* p, unsigned w, unsigned h, uint64_t tick) {
  for (unsigned y = 0; y < h; ++y)
    for (unsigned x = 0; x < w; ++x)
      if (auto r = rgb24_pixel(p, w, x, y, bar_color(x, w, tick)); !r) return r;
  return ::testing::AssertionSuccess();
}

// A debayered frame: the debayer averages each colour over 3x3, so a pixel
// whose window stays inside one bar gets the bar's colour exactly.
::testing::AssertionResult debayered_frame(const uint8_t* p, unsigned w, unsigned h,
                                           uint64_t tick) {
  unsigned checked = 0;
  for (unsigned x = 0; x < w; ++x) {
    unsigned lo = x == 0 ? 0 : x - 1, hi = x + 1 < w ? x + 1 : x;
    rgb c = bar_color(x, w, tick);
    if (bar_color(lo, w, tick).r != c.r || bar_color(lo, w, tick).g != c.g ||
        bar_color(lo, w, tick).b != c.b || bar_color(hi, w, tick).r != c.r ||
        bar_color(hi, w, tick).g != c.g || bar_color(hi, w, tick).b != c.b)
      continue;
    for (unsigned y = 0; y < h; ++y, ++checked)
      if (auto r = rgb24_pixel(p, w, x, y, c); !r) return r << " of tick " << tick;
  }
  if (checked < w * h / 2) return ::testing::AssertionFailure() << "too few pixels checked";
  return ::testing::AssertionSuccess();
}

class VimcStreamingTest : public VimcTest {
 protected:
  // DQBUF (non-blocking: a frame must be there), with checks common to all.
  v4l2_buffer dqbuf(int fd, const std::string& capture, unsigned sizeimage) {
    v4l2_buffer b = {};
    EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, &b, kArg), 0) << capture;
    EXPECT_EQ(b.bytesused, sizeimage);
    EXPECT_EQ(b.field, V4L2_FIELD_NONE);
    EXPECT_EQ(b.flags & V4L2_BUF_FLAG_ERROR, 0u);
    EXPECT_EQ(b.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK, V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC);
    return b;
  }

  // Streams `frames` frames on `capture` and checks each with `check`.
  template <typename Check>
  void stream_and_check(const std::string& capture, unsigned sizeimage, unsigned frames,
                        Check check) {
    SCOPED_TRACE(capture);
    int fd = open_node(capture, O_RDWR_ | O_NONBLOCK_);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(start_capture(fd, 4), 0);
    uint64_t last_tick = 0;
    for (unsigned i = 0; i < frames; ++i) {
      ASSERT_NO_FATAL_FAILURE(fire());
      v4l2_buffer b = dqbuf(fd, capture, sizeimage);
      EXPECT_EQ(b.sequence, i);  // reset at STREAMON
      uint64_t tick = frame_tick(b);
      EXPECT_GT(tick, last_tick);
      last_tick = tick;
      EXPECT_TRUE(check(payload(capture, b.index), tick));
      ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, b.index, nullptr, kArg), 0);
    }
    ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMOFF, kArg), 0);
    proc_.close(fd);
  }
};

TEST_F(VimcStreamingTest, DefaultFormatsDoNotValidate) {
  // Upstream's defaults: the sensors give RGB888_1X24, the debayers take
  // SRGGB8_1X8. Every capture's connected component holds one of those
  // links, so every STREAMON fails in link validation, as upstream.
  for (const std::string& capture : vimc_capture_names()) {
    SCOPED_TRACE(capture);
    int fd = open_node(capture);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(start_capture(fd, 2), -EPIPE);
    // The failed start gave the buffers back to vb2: STREAMOFF returns them.
    EXPECT_EQ(user_stream(proc_, fd, VIDIOC_STREAMOFF, kArg), 0);
    v4l2_buffer b = {};
    ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QUERYBUF, 0, &b, kArg), 0);
    EXPECT_EQ(b.flags & (V4L2_BUF_FLAG_QUEUED | V4L2_BUF_FLAG_DONE), 0u);
    proc_.close(fd);
  }
  // The timer runs, nothing is streaming.
  ASSERT_NO_FATAL_FAILURE(fire(3));
}

TEST_F(VimcStreamingTest, EveryCaptureStreamsThePatternAtDefaultSize) {
  ASSERT_NO_FATAL_FAILURE(configure_all());
  constexpr unsigned w = 640, h = 480;
  for (const char* raw : {"Raw Capture 0", "Raw Capture 1"}) {
    stream_and_check(raw, w * h, 3,
                     [](const uint8_t* p, uint64_t tick) { return raw_rggb_frame(p, w, h, tick); });
  }
  stream_and_check("RGB/YUV Capture", w * h * 3, 2, [](const uint8_t* p, uint64_t tick) {
    return debayered_frame(p, w, h, tick);
  });
}

TEST_F(VimcStreamingTest, InputThroughScalerGivesTheExactPattern) {
  // RGB/YUV Input -> Scaler -> RGB/YUV Capture: no debayering, so every
  // pixel is the bar colour.
  ASSERT_NO_FATAL_FAILURE(configure_all(64, 48));
  int mfd = open_media();
  ASSERT_EQ(setup_link(mfd, "Debayer A", 1, "Scaler", 0, 0), 0);
  ASSERT_EQ(setup_link(mfd, "RGB/YUV Input", 0, "Scaler", 0, MEDIA_LNK_FL_ENABLED), 0);
  stream_and_check("RGB/YUV Capture", 64 * 48 * 3, 4,
                   [](const uint8_t* p, uint64_t tick) { return rgb24_frame(p, 64, 48, tick); });
}

TEST_F(VimcStreamingTest, ScalerCropsAndResizes) {
  ASSERT_NO_FATAL_FAILURE(configure_all(64, 48));
  int mfd = open_media();
  ASSERT_EQ(setup_link(mfd, "Debayer A", 1, "Scaler", 0, 0), 0);
  ASSERT_EQ(setup_link(mfd, "RGB/YUV Input", 0, "Scaler", 0, MEDIA_LNK_FL_ENABLED), 0);
  // Crop (16,8)/32x32 of the 64x48 input, scaled to 64x16.
  int sfd = open_node("Scaler");
  v4l2_subdev_selection sel = {};
  sel.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  sel.pad = 0;
  sel.target = V4L2_SEL_TGT_CROP;
  sel.r = {16, 8, 32, 32};
  ASSERT_EQ(user_ioctl(proc_, sfd, VIDIOC_SUBDEV_S_SELECTION, &sel, kArg), 0);
  EXPECT_EQ(sel.r.left, 16);
  EXPECT_EQ(sel.r.width, 32u);
  proc_.close(sfd);
  ASSERT_EQ(subdev_set_fmt("Scaler", 1, MEDIA_BUS_FMT_RGB888_1X24, 64, 16), 0);
  ASSERT_EQ(capture_s_fmt("RGB/YUV Capture", V4L2_PIX_FMT_RGB24, 64, 16), 0);
  stream_and_check("RGB/YUV Capture", 64 * 16 * 3, 2, [](const uint8_t* p, uint64_t tick) {
    // Source x takes sink x * 32 / 64 + 16 (nearest neighbour).
    for (unsigned y = 0; y < 16; ++y)
      for (unsigned x = 0; x < 64; ++x)
        if (auto r = rgb24_pixel(p, 64, x, y, bar_color(x * 32 / 64 + 16, 64, tick)); !r) return r;
    return ::testing::AssertionSuccess();
  });
}

TEST_F(VimcStreamingTest, DroppedFramesKeepSequenceAndTimestampsTick) {
  ASSERT_NO_FATAL_FAILURE(configure_all(32, 16));
  int fd = open_node("Raw Capture 0", O_RDWR_ | O_NONBLOCK_);
  ASSERT_EQ(start_capture(fd, 2), 0);
  ASSERT_NO_FATAL_FAILURE(fire(5));  // 2 frames land, 3 are dropped (no buffer)
  v4l2_buffer a = dqbuf(fd, "Raw Capture 0", 32 * 16);
  v4l2_buffer b = dqbuf(fd, "Raw Capture 0", 32 * 16);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, nullptr, kArg), -EAGAIN);
  EXPECT_EQ(a.sequence, 0u);
  EXPECT_EQ(b.sequence, 1u);
  EXPECT_EQ(frame_tick(b), frame_tick(a) + 1);
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, a.index, nullptr, kArg), 0);
  ASSERT_NO_FATAL_FAILURE(fire());
  v4l2_buffer c = dqbuf(fd, "Raw Capture 0", 32 * 16);
  // Upstream counts delivered frames only; the time stamp shows the gap.
  EXPECT_EQ(c.sequence, 2u);
  EXPECT_EQ(frame_tick(c), frame_tick(b) + 4);
  EXPECT_TRUE(raw_rggb_frame(payload("Raw Capture 0", c.index), 32, 16, frame_tick(c)));
  // STREAMON again: the sequence starts over.
  ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMOFF, kArg), 0);
  for (unsigned i = 0; i < 2; ++i)
    ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QBUF, i, nullptr, kArg), 0);
  ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMON, kArg), 0);
  ASSERT_NO_FATAL_FAILURE(fire());
  EXPECT_EQ(dqbuf(fd, "Raw Capture 0", 32 * 16).sequence, 0u);
}

TEST_F(VimcStreamingTest, TwoCapturesOfOneSensorAreBusyTwoSensorsStreamTogether) {
  ASSERT_NO_FATAL_FAILURE(configure_all(32, 16));
  int raw0 = open_node("Raw Capture 0", O_RDWR_ | O_NONBLOCK_);
  int raw1 = open_node("Raw Capture 1", O_RDWR_ | O_NONBLOCK_);
  int rgb = open_node("RGB/YUV Capture", O_RDWR_ | O_NONBLOCK_);
  ASSERT_EQ(start_capture(raw0, 2), 0);
  // Sensor A's component is in Raw Capture 0's pipeline: the RGB/YUV
  // capture (through Debayer A and the Scaler) cannot start a second one.
  EXPECT_EQ(start_capture(rgb, 2), -EBUSY);
  // Sensor B's is free.
  ASSERT_EQ(start_capture(raw1, 2), 0);
  ASSERT_NO_FATAL_FAILURE(fire());
  v4l2_buffer a = dqbuf(raw0, "Raw Capture 0", 32 * 16);
  v4l2_buffer b = dqbuf(raw1, "Raw Capture 1", 32 * 16);
  EXPECT_EQ(frame_tick(a), frame_tick(b));  // one tick, both streams
  EXPECT_TRUE(raw_rggb_frame(payload("Raw Capture 0", a.index), 32, 16, frame_tick(a)));
  EXPECT_TRUE(raw_rggb_frame(payload("Raw Capture 1", b.index), 32, 16, frame_tick(b)));
  // The timer's register counts the started streams.
  EXPECT_EQ(readl(platform_get_iomem(pdev_), VIMC_REG_TIMER_CTRL), 2u);
  ASSERT_EQ(user_stream(proc_, raw0, VIDIOC_STREAMOFF, kArg), 0);
  EXPECT_EQ(readl(platform_get_iomem(pdev_), VIMC_REG_TIMER_CTRL), 1u);
  // Sensor A is free again.
  ASSERT_EQ(user_stream(proc_, rgb, VIDIOC_STREAMOFF, kArg), 0);
  ASSERT_EQ(user_stream(proc_, rgb, VIDIOC_STREAMON, kArg), 0);
}

TEST_F(VimcStreamingTest, LinkValidateRefusesMismatchesAtStreamon) {
  ASSERT_NO_FATAL_FAILURE(configure_all(32, 16));
  int fd = open_node("Raw Capture 0");
  ASSERT_EQ(user_reqbufs(proc_, fd, 0), 0);
  // Size: the capture wants 32x18, the sensor gives 32x16.
  ASSERT_EQ(capture_s_fmt(fd, V4L2_PIX_FMT_SRGGB8, 32, 18), 0);
  EXPECT_EQ(start_capture(fd, 2), -EPIPE);
  ASSERT_EQ(user_reqbufs(proc_, fd, 0), 0);
  // Pixel format: BGGR against the sensor's RGGB.
  ASSERT_EQ(capture_s_fmt(fd, V4L2_PIX_FMT_SBGGR8, 32, 16), 0);
  EXPECT_EQ(start_capture(fd, 2), -EPIPE);
  ASSERT_EQ(user_reqbufs(proc_, fd, 0), 0);
  ASSERT_EQ(capture_s_fmt(fd, V4L2_PIX_FMT_SRGGB8, 32, 16), 0);
  // A sub-device link of the component: Debayer A's sink no longer matches.
  ASSERT_EQ(subdev_set_fmt("Debayer A", 0, MEDIA_BUS_FMT_SGRBG8_1X8, 32, 16), 0);
  EXPECT_EQ(start_capture(fd, 2), -EPIPE);
  ASSERT_EQ(user_reqbufs(proc_, fd, 0), 0);
  ASSERT_EQ(subdev_set_fmt("Debayer A", 0, MEDIA_BUS_FMT_SRGGB8_1X8, 32, 16), 0);
  // The scaler's source against the RGB/YUV capture.
  ASSERT_EQ(subdev_set_fmt("Scaler", 1, MEDIA_BUS_FMT_RGB888_1X24, 64, 32), 0);
  EXPECT_EQ(start_capture(fd, 2), -EPIPE);
  ASSERT_EQ(user_reqbufs(proc_, fd, 0), 0);
  ASSERT_EQ(capture_s_fmt("RGB/YUV Capture", V4L2_PIX_FMT_RGB24, 64, 32), 0);
  EXPECT_EQ(start_capture(fd, 2), 0);
}

TEST_F(VimcStreamingTest, ChainMustStartAtASource) {
  ASSERT_NO_FATAL_FAILURE(configure_all(32, 16));
  int mfd = open_media();
  // No enabled link into the Scaler: the pipeline validates (no pad must
  // connect) but the streamer finds the Scaler at the head of the chain.
  ASSERT_EQ(setup_link(mfd, "Debayer A", 1, "Scaler", 0, 0), 0);
  int fd = open_node("RGB/YUV Capture");
  EXPECT_EQ(start_capture(fd, 2), -EPIPE);
  // Nothing was left started: every sub-device accepts a new format.
  EXPECT_EQ(subdev_set_fmt("Scaler", 0, MEDIA_BUS_FMT_RGB888_1X24, 32, 16), 0);
  EXPECT_EQ(readl(platform_get_iomem(pdev_), VIMC_REG_TIMER_CTRL), 0u);
}

TEST_F(VimcStreamingTest, FormatsAreBusyWhileStreaming) {
  ASSERT_NO_FATAL_FAILURE(configure_all(32, 16));
  int fd = open_node("RGB/YUV Capture");
  ASSERT_EQ(start_capture(fd, 2), 0);
  for (const char* sd : {"Sensor A", "Debayer A", "Scaler"})
    EXPECT_EQ(subdev_set_fmt(sd, 0, MEDIA_BUS_FMT_SRGGB8_1X8, 32, 16), -EBUSY) << sd;
  // Not in this stream: Sensor B.
  EXPECT_EQ(subdev_set_fmt("Sensor B", 0, MEDIA_BUS_FMT_SRGGB8_1X8, 32, 16), 0);
  // TRY formats are the file's own.
  int sfd = open_node("Sensor A");
  v4l2_subdev_format f = {};
  f.which = V4L2_SUBDEV_FORMAT_TRY;
  f.format.code = MEDIA_BUS_FMT_SBGGR8_1X8;
  f.format.width = 100;
  f.format.height = 100;
  EXPECT_EQ(user_ioctl(proc_, sfd, VIDIOC_SUBDEV_S_FMT, &f, kArg), 0);
  proc_.close(sfd);
  // The capture's format: busy as soon as buffers exist.
  EXPECT_EQ(capture_s_fmt(fd, V4L2_PIX_FMT_RGB24, 32, 16), -EBUSY);
  ASSERT_EQ(user_stream(proc_, fd, VIDIOC_STREAMOFF, kArg), 0);
  EXPECT_EQ(subdev_set_fmt("Sensor A", 0, MEDIA_BUS_FMT_SRGGB8_1X8, 32, 16), 0);
  EXPECT_EQ(capture_s_fmt(fd, V4L2_PIX_FMT_RGB24, 32, 16), -EBUSY);
  ASSERT_EQ(user_reqbufs(proc_, fd, 0), 0);
  EXPECT_EQ(capture_s_fmt(fd, V4L2_PIX_FMT_RGB24, 32, 16), 0);
}

TEST_F(VimcStreamingTest, BlockingDqbufWokenByTheFrameTimer) {
  ASSERT_NO_FATAL_FAILURE(configure_all(32, 16));
  int fd = open_node("Raw Capture 1");
  ASSERT_EQ(start_capture(fd, 2), 0);
  ::mcf::testing::HookRecorder rec;
  long ret = 1;
  v4l2_buffer b = {};
  std::thread sleeper([&] { ret = user_buf_ioctl(proc_, fd, VIDIOC_DQBUF, 0, &b, kArgB); });
  rec.wait_for(HookKind::kWaitSleep, "vb2_queue.done_wq", 1);
  ASSERT_NO_FATAL_FAILURE(fire());
  sleeper.join();
  EXPECT_EQ(ret, 0);
  EXPECT_EQ(b.sequence, 0u);
  EXPECT_TRUE(raw_rggb_frame(payload("Raw Capture 1", b.index), 32, 16, frame_tick(b)));
}

TEST_F(VimcStreamingTest, TimerInterruptsBeforeAnyStreamOnlyCount) {
  iomem* regs = platform_get_iomem(pdev_);
  EXPECT_EQ(readl(regs, VIMC_REG_FRAME_COUNT), 0u);
  ASSERT_NO_FATAL_FAILURE(fire(3));
  EXPECT_EQ(readl(regs, VIMC_REG_FRAME_COUNT), 3u);
  EXPECT_EQ(readl(regs, VIMC_REG_TIMER_CTRL), 0u);
}

}  // namespace
}  // namespace mcf::vimctest
