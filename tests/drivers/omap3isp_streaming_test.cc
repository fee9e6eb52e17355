// omap3isp streaming: the CCDC output pipeline and the resizer pipeline
// configured from user space stream frames on the ISP's IRQ; STREAMON
// validates every link (-EPIPE) and the node's format (-EINVAL); links of a
// running pipeline are busy; a blocking DQBUF wakes for a frame; one file
// streams per node; without a sensor no pipeline starts.
#include <gtest/gtest.h>

#include <thread>

#include "tests/drivers/omap3isp_test_util.h"
#include "tests/support/hook_recorder.h"

namespace mcf::omap3isp_test {
namespace {

using Omap3ispStreamingTest = Omap3ispTest;

// Fires `n` frame interrupts; each must be handled by the ISP.
void fire(unsigned irq, int n) {
  for (int i = 0; i < n; ++i) ASSERT_EQ(irq_fire(irq), 1);
}

// DQBUF of `n` frames: in order, complete, not in error, the DMA's pattern.
void expect_frames(Omap3ispTest* t, process& proc, int fd, isp_video* video, unsigned n,
                   unsigned sizeimage, uint32_t first_seq = 0) {
  for (unsigned i = 0; i < n; ++i) {
    v4l2_buffer b = {};
    ASSERT_EQ(user_buf_ioctl(proc, fd, VIDIOC_DQBUF, 0, &b), 0) << "frame " << i;
    EXPECT_EQ(b.sequence, first_seq + i);
    EXPECT_EQ(b.bytesused, sizeimage);
    EXPECT_EQ(b.flags & V4L2_BUF_FLAG_ERROR, 0u);
    EXPECT_EQ(b.field, static_cast<uint32_t>(V4L2_FIELD_NONE));
    EXPECT_GT(b.timestamp.tv_usec + b.timestamp.tv_sec, 0);
  }
}

TEST_F(Omap3ispStreamingTest, CcdcOutputFramesArrive) {
  bind_both();
  isp_device* d = isp();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(p.out.width, kWidth);
  EXPECT_EQ(p.out.height, kHeight);
  EXPECT_EQ(p.pix.pixelformat, static_cast<uint32_t>(V4L2_PIX_FMT_SGRBG10));
  EXPECT_EQ(p.pix.bytesperline, kWidth * 2);
  EXPECT_EQ(p.pix.sizeimage, kWidth * 2 * kHeight);

  ASSERT_EQ(start_capture(p.video, 4), 0);
  // The pipeline runs down to the sensor.
  EXPECT_EQ(sensor()->streaming.load(), 1);
  EXPECT_EQ(d->isp_ccdc.state.load(), ISP_PIPELINE_STREAM_CONTINUOUS);
  EXPECT_EQ(d->isp_csi2a.state.load(), ISP_PIPELINE_STREAM_CONTINUOUS);
  EXPECT_EQ(d->isp_aewb.state.load(), ISP_PIPELINE_STREAM_CONTINUOUS);  // with the CCDC
  EXPECT_EQ(d->isp_prev.state.load(), ISP_PIPELINE_STREAM_STOPPED);

  fire(isp_irq(), 3);
  expect_frames(this, proc_, p.video, &d->isp_ccdc.video_out, 3, p.pix.sizeimage);
  // The content is the DMA's: check the first bytes of buffer 0 (frame 0) in
  // the kernel's copy (the model has no mmap).
  {
    video_device* vdev = &d->isp_ccdc.video_out.video;
    v4l2_fh* fh;
    {
      SpinGuard g(&vdev->fh_lock);
      fh = vdev->fh_list.front();
    }
    isp_video_fh* vfh = container_of(fh, isp_video_fh, vfh);
    const uint8_t* mem = static_cast<const uint8_t*>(vb2_plane_vaddr(vfh->queue.bufs[0], 0));
    for (size_t i = 0; i < 16; ++i) EXPECT_EQ(mem[i], omap3isp_frame_pattern(0, i));
  }

  // Requeue and continue: frame numbers go on.
  for (unsigned i = 0; i < 3; ++i) ASSERT_EQ(user_buf_ioctl(proc_, p.video, VIDIOC_QBUF, i), 0);
  fire(isp_irq(), 2);
  expect_frames(this, proc_, p.video, &d->isp_ccdc.video_out, 2, p.pix.sizeimage, 3);
  EXPECT_GT(d->isp_aewb.frames.load(), 0);

  ASSERT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMOFF), 0);
  EXPECT_EQ(sensor()->streaming.load(), 0);
  EXPECT_EQ(d->isp_ccdc.state.load(), ISP_PIPELINE_STREAM_STOPPED);
  // Stopped: interrupts complete nothing.
  long done = d->isp_ccdc.video_out.frames_done.load();
  ASSERT_EQ(irq_fire(isp_irq()), 1);
  EXPECT_EQ(d->isp_ccdc.video_out.frames_done.load(), done);
}

TEST_F(Omap3ispStreamingTest, ResizerFramesArrive) {
  bind_both();
  isp_device* d = isp();
  Pipeline p = resizer_pipeline(64, 48);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(p.out.code, static_cast<uint32_t>(MEDIA_BUS_FMT_YUYV8_1X16));
  EXPECT_EQ(p.out.width, 64u);
  EXPECT_EQ(p.out.height, 48u);
  EXPECT_EQ(p.pix.pixelformat, static_cast<uint32_t>(V4L2_PIX_FMT_YUYV));
  ASSERT_EQ(start_capture(p.video, 3), 0);
  EXPECT_EQ(d->isp_prev.state.load(), ISP_PIPELINE_STREAM_CONTINUOUS);
  EXPECT_EQ(d->isp_res.state.load(), ISP_PIPELINE_STREAM_CONTINUOUS);
  EXPECT_EQ(sensor()->streaming.load(), 1);
  fire(isp_irq(), 3);
  expect_frames(this, proc_, p.video, &d->isp_res.video_out, 3, p.pix.sizeimage);
  // Only the resizer writes to memory in this pipeline.
  EXPECT_EQ(d->isp_ccdc.video_out.frames_done.load(), 0);
  EXPECT_EQ(d->isp_prev.video_out.frames_done.load(), 0);
  ASSERT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMOFF), 0);
  EXPECT_EQ(sensor()->streaming.load(), 0);
}

// A frame with no buffer queued is lost but counted: the next buffer's
// sequence number shows the gap.
TEST_F(Omap3ispStreamingTest, UnderrunDropsFramesAndKeepsNumbering) {
  bind_both();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(user_reqbufs(proc_, p.video, 2), 0);
  ASSERT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMON), 0);
  fire(isp_irq(), 2);  // nothing queued
  EXPECT_EQ(isp()->isp_ccdc.video_out.frames_dropped.load(), 2);
  ASSERT_EQ(user_buf_ioctl(proc_, p.video, VIDIOC_QBUF, 0), 0);
  fire(isp_irq(), 1);
  v4l2_buffer b = {};
  ASSERT_EQ(user_buf_ioctl(proc_, p.video, VIDIOC_DQBUF, 0, &b), 0);
  EXPECT_EQ(b.sequence, 2u);
}

// media_pipeline_start validates every enabled link of the pipeline: a size
// or code that does not match is -EPIPE (v4l2_subdev_link_validate), and
// nothing was started. The node's own format is checked next: -EINVAL.
TEST_F(Omap3ispStreamingTest, MismatchedFormatsAreRefused) {
  bind_both();
  isp_device* d = isp();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(user_reqbufs(proc_, p.video, 2), 0);

  // sensor -> CSI2a: sizes differ.
  v4l2_mbus_framefmt f = {};
  ASSERT_EQ(subdev_g_fmt(p.csi2, CSI2_PAD_SINK, &f), 0);
  v4l2_mbus_framefmt wrong = f;
  wrong.width = kWidth * 2;
  ASSERT_EQ(subdev_s_fmt(p.csi2, CSI2_PAD_SINK, &wrong), 0);
  EXPECT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMON), -EPIPE);
  EXPECT_EQ(sensor()->streaming.load(), 0);
  EXPECT_EQ(sensor()->s_stream_calls.load(), 0);
  ASSERT_EQ(subdev_s_fmt(p.csi2, CSI2_PAD_SINK, &f), 0);

  // sensor -> CSI2a: codes differ (the sensor sends DPCM8).
  v4l2_mbus_framefmt s = {};
  ASSERT_EQ(subdev_g_fmt(p.sensor, 0, &s), 0);
  s.code = MEDIA_BUS_FMT_SGRBG10_DPCM8_1X8;
  ASSERT_EQ(subdev_s_fmt(p.sensor, 0, &s), 0);
  EXPECT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMON), -EPIPE);
  s.code = MEDIA_BUS_FMT_SGRBG10_1X10;
  ASSERT_EQ(subdev_s_fmt(p.sensor, 0, &s), 0);

  // CSI2a -> CCDC: the lane shifter cannot make 10 bits out of 8.
  v4l2_mbus_framefmt c = {};
  ASSERT_EQ(subdev_g_fmt(p.ccdc, CCDC_PAD_SINK, &c), 0);
  v4l2_mbus_framefmt c12 = c;
  c12.code = MEDIA_BUS_FMT_SGRBG12_1X12;
  ASSERT_EQ(subdev_s_fmt(p.ccdc, CCDC_PAD_SINK, &c12), 0);
  EXPECT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMON), -EPIPE);
  // ... but it can drop bits: 10 in, 8 stored is accepted by the link.
  v4l2_mbus_framefmt c8 = c;
  c8.code = MEDIA_BUS_FMT_SGRBG8_1X8;
  ASSERT_EQ(subdev_s_fmt(p.ccdc, CCDC_PAD_SINK, &c8), 0);
  // The node's format no longer matches what the CCDC writes: -EINVAL.
  EXPECT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMON), -EINVAL);
  ASSERT_EQ(subdev_s_fmt(p.ccdc, CCDC_PAD_SINK, &c), 0);

  // Everything matches again.
  for (unsigned i = 0; i < 2; ++i) ASSERT_EQ(user_buf_ioctl(proc_, p.video, VIDIOC_QBUF, i), 0);
  EXPECT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMON), 0);
  fire(isp_irq(), 1);
  expect_frames(this, proc_, p.video, &d->isp_ccdc.video_out, 1, p.pix.sizeimage);
}

// A disabled CCDC output link: the capture node has no enabled link
// (MUST_CONNECT, -ENOLINK).
TEST_F(Omap3ispStreamingTest, UnconnectedNodeDoesNotStart) {
  bind_both();
  isp_device* d = isp();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(setup_link(p.media, &d->isp_ccdc.subdev.entity, CCDC_PAD_SOURCE_OF,
                       &d->isp_ccdc.video_out.video.entity, 0, 0),
            0);
  ASSERT_EQ(user_reqbufs(proc_, p.video, 2), 0);
  EXPECT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMON), -ENOLINK);
}

TEST_F(Omap3ispStreamingTest, LinksOfARunningPipelineAreBusy) {
  bind_both();
  isp_device* d = isp();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(start_capture(p.video, 2), 0);
  EXPECT_EQ(setup_link(p.media, &d->isp_csi2a.subdev.entity, CSI2_PAD_SOURCE,
                       &d->isp_ccdc.subdev.entity, CCDC_PAD_SINK, 0),
            -EBUSY);
  EXPECT_EQ(setup_link(p.media, &d->isp_ccdc.subdev.entity, CCDC_PAD_SOURCE_OF,
                       &d->isp_ccdc.video_out.video.entity, 0, 0),
            -EBUSY);
  // The sensor's ACTIVE format and the CCDC crop are busy too.
  v4l2_mbus_framefmt s = {};
  ASSERT_EQ(subdev_g_fmt(p.sensor, 0, &s), 0);
  EXPECT_EQ(subdev_s_fmt(p.sensor, 0, &s), -EBUSY);
  v4l2_subdev_selection sel = {};
  sel.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  sel.pad = CCDC_PAD_SOURCE_OF;
  sel.target = V4L2_SEL_TGT_CROP;
  sel.r = {0, 0, 64, 64};
  EXPECT_EQ(ioctl(p.ccdc, VIDIOC_SUBDEV_S_SELECTION, &sel), -EBUSY);
  ASSERT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMOFF), 0);
  EXPECT_EQ(setup_link(p.media, &d->isp_csi2a.subdev.entity, CSI2_PAD_SOURCE,
                       &d->isp_ccdc.subdev.entity, CCDC_PAD_SINK, 0),
            0);
}

TEST_F(Omap3ispStreamingTest, BlockingDqbufWokenByTheIrq) {
  bind_both();
  isp_device* d = isp();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(start_capture(p.video, 2), 0);
  ::mcf::testing::HookRecorder rec;
  long ret = 1;
  v4l2_buffer b = {};
  std::thread sleeper([&] { ret = user_buf_ioctl(proc_, p.video, VIDIOC_DQBUF, 0, &b, kSlot(1)); });
  rec.wait_for(HookKind::kWaitSleep, "vb2_queue.done_wq", 1);
  // The sleeper let go of queue_lock: QUERYBUF gets through.
  EXPECT_EQ(user_buf_ioctl(proc_, p.video, VIDIOC_QUERYBUF, 1, nullptr, kSlot(2)), 0);
  fire(d->irq, 1);
  sleeper.join();
  EXPECT_EQ(ret, 0);
  EXPECT_EQ(b.sequence, 0u);
}

// The queue belongs to the file (upstream's isp_video_fh): a second file has
// its own buffers, and cannot stream the node another file streams.
TEST_F(Omap3ispStreamingTest, OneStreamingFilePerNode) {
  bind_both();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  int second = open_path(video_path(&isp()->isp_ccdc.video_out));
  ASSERT_GE(second, 0);
  ASSERT_EQ(video_s_fmt(second, p.out), 0);
  ASSERT_EQ(start_capture(p.video, 2), 0);
  ASSERT_EQ(user_reqbufs(proc_, second, 2), 0);
  EXPECT_EQ(user_stream(proc_, second, VIDIOC_STREAMON), -EBUSY);
  // STREAMOFF from the second file does not stop the first's stream.
  EXPECT_EQ(user_stream(proc_, second, VIDIOC_STREAMOFF), 0);
  EXPECT_EQ(sensor()->streaming.load(), 1);
  // Closing the streaming file stops it.
  EXPECT_EQ(proc_.close(p.video), 0);
  EXPECT_EQ(sensor()->streaming.load(), 0);
  EXPECT_EQ(user_stream(proc_, second, VIDIOC_STREAMON), 0);
  EXPECT_EQ(sensor()->streaming.load(), 1);
}

// The sensor is gone: its link went with it, no pipeline finds a source.
TEST_F(Omap3ispStreamingTest, NoSensorNoStream) {
  bind_both();
  Pipeline p = ccdc_pipeline();
  ASSERT_FALSE(HasFailure());
  proc_.close(p.sensor);
  remove_sensor();
  ASSERT_EQ(user_reqbufs(proc_, p.video, 2), 0);
  EXPECT_EQ(user_stream(proc_, p.video, VIDIOC_STREAMON), -EINVAL);
  EXPECT_EQ(isp()->isp_ccdc.state.load(), ISP_PIPELINE_STREAM_STOPPED);
}

// Power: the first open enables the ISP's interrupts, the last close
// disables them (omap3isp_get/put).
TEST_F(Omap3ispStreamingTest, OpenAndClosePowerTheIsp) {
  bind_both();
  isp_device* d = isp();
  EXPECT_EQ(readl(d->regs, ISP_IRQ0ENABLE), 0u);
  int a = open_path(video_path(&d->isp_ccdc.video_out));
  int b = open_path(video_path(&d->isp_res.video_out));
  EXPECT_NE(readl(d->regs, ISP_IRQ0ENABLE), 0u);
  proc_.close(a);
  EXPECT_NE(readl(d->regs, ISP_IRQ0ENABLE), 0u);
  proc_.close(b);
  EXPECT_EQ(readl(d->regs, ISP_IRQ0ENABLE), 0u);
}

}  // namespace
}  // namespace mcf::omap3isp_test
