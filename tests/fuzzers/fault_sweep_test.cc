// Fault injection (issue 11): for each driver, the probe and the calls that
// allocate or register (open, REQBUFS, STREAMON, SETUP_LINK) are run with
// fail_nth = 1, 2, ... until the call reaches no more failure points. Every
// run must fail cleanly: the executor's oracles (no report, no lock held,
// every live count zero after teardown) hold, and a later call without a
// fault works. Each sweep also checks the list of failure points a run
// without a fault records (what `mcf-repro faults` prints): fail_nth = n
// fails exactly the n-th point of that list, and the sweep ends after the
// last one.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fuzzers/exec/executor.h"
#include "fuzzers/prog/encoding_text.h"

namespace mcf::fuzz {
namespace {

constexpr int kMaxSweep = 400;  // far above any call's failure points here

Program parse(const std::string& text) {
  auto p = program_from_text(text);
  EXPECT_TRUE(p.ok()) << p.status() << "\n" << text;
  return p.ok() ? *p : Program{};
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
  return s;
}

struct Sweep {
  int points = 0;          // failure points the faulted call reached
  int clean_failures = 0;  // runs where the faulted call returned an error
  int ignored = 0;         // runs where it succeeded anyway (a failure it may absorb)
};

enum class Expect { kError, kErrorOrAbsorbed };

// Runs `text` (with "@N" where fail_nth goes, on call `faulted`) for N =
// 1, 2, ... until the faulted call reaches no failure point any more.
// `check` is the index of a later call that must succeed in every run.
// kError: every faulted run returns an error from the faulted call.
Sweep sweep(const std::string& text, size_t faulted, int check, Expect expect = Expect::kError) {
  Sweep s;
  ExecOptions opts;
  opts.mode = ExecMode::kSequential;
  // 1. The failure points the call reaches without a fault, as listed.
  ExecOptions listing = opts;
  listing.record_fault_points = true;
  Program clean = parse(replace_all(text, "@N", "0"));
  if (clean.calls.size() <= faulted) return s;
  ExecResult first = execute(clean, listing);
  EXPECT_GE(first.calls[faulted].ret, 0) << "the call fails without a fault";
  const std::vector<FaultPointSeen>& listed = first.calls[faulted].fault_points;
  // 2. Each of them made to fail in turn.
  for (int n = 1; n <= kMaxSweep; ++n) {
    Program p = parse(replace_all(text, "@N", std::to_string(n)));
    ExecResult r = execute(p, opts);  // a leak or a report aborts the test
    const CallResult& c = r.calls[faulted];
    if (c.fault_site == nullptr) {
      // n is past the last failure point: the call ran without a fault.
      EXPECT_GE(c.ret, 0) << "fail_nth=" << n << " with no fault injected still failed";
      s.points = n - 1;
      EXPECT_EQ(static_cast<size_t>(s.points), listed.size())
          << "the listing and the sweep disagree on the number of failure points";
      return s;
    }
    if (static_cast<size_t>(n) <= listed.size()) {
      EXPECT_EQ(c.fault_site, listed[n - 1].kind)
          << "fail_nth=" << n << " failed another point than listed ("
          << fault_point_text(listed[n - 1]) << ")";
    }
    if (c.ret < 0) {
      s.clean_failures++;
    } else {
      s.ignored++;
      EXPECT_EQ(expect, Expect::kErrorOrAbsorbed)
          << "fail_nth=" << n << " at " << c.fault_site << ": the call returned " << c.ret;
    }
    if (check >= 0) {
      EXPECT_GE(r.calls[check].ret, 0) << "fail_nth=" << n << " at " << c.fault_site
                                       << ": the later call failed";
    }
  }
  ADD_FAILURE() << "more than " << kMaxSweep << " failure points";
  return s;
}

// plug() returns 0 even when the probe fails (device_add does not report
// probe errors, as upstream): the probe's failure shows as an unbound
// device, and the oracles check that it left nothing behind. Only the
// platform_device's own allocation and device_add fail plug() itself.
TEST(FaultSweep, VimcProbe) {
  Sweep s = sweep(
      "t0 plug(vimc.1) fail_nth=@N\n"
      "t0 plug(vimc.2)\n"
      "t0 r0 = open(vimc.2:video[2], O_RDWR)\n",
      0, 2, Expect::kErrorOrAbsorbed);
  EXPECT_GT(s.points, 20) << "vimc's probe reaches its allocations and registrations";
  std::printf("vimc probe: %d failure points\n", s.points);
}

TEST(FaultSweep, Omap3ispProbeAndSensorBind) {
  Sweep isp = sweep(
      "t0 plug(omap3isp.1) fail_nth=@N\n"
      "t0 plug(omap3isp.2)\n"
      "t0 plug(mcf-sensor.2)\n"
      "t0 r0 = open(omap3isp.2:media[0], O_RDWR)\n",
      0, 3, Expect::kErrorOrAbsorbed);
  EXPECT_GT(isp.points, 20);
  // The sensor's probe, which binds it to a waiting ISP (async bound/complete).
  Sweep sensor = sweep(
      "t0 plug(omap3isp.1)\n"
      "t0 plug(mcf-sensor.1) fail_nth=@N\n"
      "t0 plug(omap3isp.2)\n"
      "t0 plug(mcf-sensor.2)\n"
      "t0 r0 = open(omap3isp.2:media[0], O_RDWR)\n",
      1, 4, Expect::kErrorOrAbsorbed);
  EXPECT_GT(sensor.points, 3);
  std::printf("omap3isp probe: %d failure points; sensor probe + bind: %d\n", isp.points,
              sensor.points);
}

constexpr char kVimcFormats[] =
    "t0 r0 = open(vimc.0:v4l-subdev[0], O_RDWR)\n"
    "t0 ioctl(r0, VIDIOC_SUBDEV_S_FMT, {which=V4L2_SUBDEV_FORMAT_ACTIVE, format.width=640, "
    "format.height=480, format.code=MEDIA_BUS_FMT_SRGGB8_1X8})\n"
    "t0 r1 = open(vimc.0:video[0], O_RDWR|O_NONBLOCK)\n"
    "t0 ioctl(r1, VIDIOC_S_FMT, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, fmt.pix.width=640, "
    "fmt.pix.height=480, fmt.pix.pixelformat=V4L2_PIX_FMT_SRGGB8})\n";

TEST(FaultSweep, VimcOpenReqbufsStreamon) {
  Sweep open = sweep(
      "t0 r0 = open(vimc.0:video[2], O_RDWR) fail_nth=@N\n"
      "t0 r1 = open(vimc.0:video[2], O_RDWR)\n"
      "t0 ioctl(r1, VIDIOC_QUERYCAP)\n",
      0, 2);
  EXPECT_GE(open.points, 1) << "open allocates its file and file handle";
  Sweep reqbufs = sweep(
      "t0 r0 = open(vimc.0:video[2], O_RDWR)\n"
      "t0 ioctl(r0, VIDIOC_REQBUFS, {count=2, type=V4L2_BUF_TYPE_VIDEO_CAPTURE, "
      "memory=V4L2_MEMORY_MMAP}) fail_nth=@N\n"
      "t0 ioctl(r0, VIDIOC_REQBUFS, {count=2, type=V4L2_BUF_TYPE_VIDEO_CAPTURE, "
      "memory=V4L2_MEMORY_MMAP})\n",
      1, 2, Expect::kErrorOrAbsorbed);
  // vb2 absorbs a later buffer's failed allocation by returning fewer
  // buffers (upstream __vb2_queue_alloc); the first one's fails the call.
  EXPECT_GE(reqbufs.points, 2) << "REQBUFS allocates each buffer";
  EXPECT_GE(reqbufs.clean_failures, 1);
  std::string stream = std::string(kVimcFormats) +
                       "t0 ioctl(r1, VIDIOC_REQBUFS, {count=2, type=V4L2_BUF_TYPE_VIDEO_CAPTURE, "
                       "memory=V4L2_MEMORY_MMAP})\n"
                       "t0 ioctl(r1, VIDIOC_QBUF, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, "
                       "memory=V4L2_MEMORY_MMAP})\n"
                       "t0 ioctl(r1, VIDIOC_QBUF, {index=1, type=V4L2_BUF_TYPE_VIDEO_CAPTURE, "
                       "memory=V4L2_MEMORY_MMAP})\n"
                       "t0 ioctl(r1, VIDIOC_STREAMON, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE}) "
                       "fail_nth=@N\n"
                       "t0 ioctl(r1, VIDIOC_STREAMON, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE})\n"
                       "t0 ioctl(r1, VIDIOC_STREAMOFF, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE})\n";
  // The later call is STREAMON again: a failed start gave the buffers back
  // to the queue and left no pipeline started (upstream's
  // vimc_capture_start_streaming returns them as VB2_BUF_STATE_QUEUED).
  Sweep streamon = sweep(stream, 7, 8);
  EXPECT_GE(streamon.points, 1) << "STREAMON allocates the pipeline's frames";
  std::printf("vimc open: %d, REQBUFS: %d, STREAMON: %d failure points\n", open.points,
              reqbufs.points, streamon.points);
}

// SETUP_LINK reaches no failure point, in the model as upstream: in
// drivers/media/mc/mc-device.c media_device_ioctl() copies the 52-byte
// media_link_desc into its on-stack 256-byte buffer (kmalloc only for larger
// arguments), media_device_setup_link() looks the link up, and
// __media_entity_setup_link() (mc-entity.c) checks flags, calls link_notify
// and the entities' link_setup and flips the flags: no allocation, no
// registration. omap3isp's link_notify (v4l2_pipeline_link_notify) powers
// entities through mdev->pm_count_walk, a walk allocated when entities
// register, not here. So each sweep ends at once with the link toggled.
TEST(FaultSweep, VimcSetupLink) {
  Sweep s = sweep(
      "t0 r0 = open(vimc.0:media[0], O_RDWR)\n"
      "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {source.entity=8, source.index=1, sink.entity=21, "
      "flags=MEDIA_LNK_FL_ENABLED}) fail_nth=@N\n"
      "t0 ioctl(r0, MEDIA_IOC_DEVICE_INFO)\n",
      1, 2);
  EXPECT_EQ(s.points, 0);
}

TEST(FaultSweep, Omap3ispOpenSetupLink) {
  Sweep open = sweep(
      "t0 r0 = open(omap3isp.0:video[2], O_RDWR) fail_nth=@N\n"
      "t0 r1 = open(omap3isp.0:video[2], O_RDWR)\n"
      "t0 ioctl(r1, VIDIOC_QUERYCAP)\n",
      0, 2);
  EXPECT_GE(open.points, 1);
  // CCDC:1 (OF) -> "OMAP3 ISP CCDC output":0.
  Sweep link = sweep(
      "t0 r0 = open(omap3isp.0:media[0], O_RDWR)\n"
      "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {source.entity=15, source.index=1, sink.entity=19, "
      "flags=MEDIA_LNK_FL_ENABLED}) fail_nth=@N\n"
      "t0 ioctl(r0, MEDIA_IOC_DEVICE_INFO)\n",
      1, 2);
  EXPECT_EQ(link.points, 0);
  std::printf("omap3isp open: %d, SETUP_LINK: %d failure points\n", open.points, link.points);
}

// The streamable pipeline of tests/drivers/omap3isp_test_util.h
// (ccdc_pipeline): sensor -> CSI2a -> CCDC -> "OMAP3 ISP CCDC output"
// (/dev/video2), 128x96 SGRBG10 from a cropped sensor, configured as
// media-ctl would: links, then formats from the sensor downstream, then the
// video node's format. Sub-device nodes of omap3isp.0 by index: 1 CSI2a,
// 2 CCDC; the sensor's node belongs to mcf-sensor.0. Entity ids as in
// drivers/omap3isp/README.md (8 CSI2a, 15 CCDC, 19 CCDC output).
constexpr char kIspPipeline[] =
    "t0 r0 = open(omap3isp.0:media[0], O_RDWR)\n"
    "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {source.entity=8, source.index=1, sink.entity=15, "
    "flags=MEDIA_LNK_FL_ENABLED})\n"
    "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {source.entity=15, source.index=1, sink.entity=19, "
    "flags=MEDIA_LNK_FL_ENABLED})\n"
    "t0 r1 = open(mcf-sensor.0:v4l-subdev[0], O_RDWR)\n"
    "t0 ioctl(r1, VIDIOC_SUBDEV_S_SELECTION, {which=V4L2_SUBDEV_FORMAT_ACTIVE, "
    "target=V4L2_SEL_TGT_CROP, r.width=128, r.height=96})\n"
    "t0 ioctl(r1, VIDIOC_SUBDEV_S_FMT, {which=V4L2_SUBDEV_FORMAT_ACTIVE, format.width=128, "
    "format.height=96, format.code=MEDIA_BUS_FMT_SGRBG10_1X10})\n"
    "t0 r2 = open(omap3isp.0:v4l-subdev[1], O_RDWR)\n"
    "t0 ioctl(r2, VIDIOC_SUBDEV_S_FMT, {which=V4L2_SUBDEV_FORMAT_ACTIVE, format.width=128, "
    "format.height=96, format.code=MEDIA_BUS_FMT_SGRBG10_1X10})\n"
    "t0 r3 = open(omap3isp.0:v4l-subdev[2], O_RDWR)\n"
    "t0 ioctl(r3, VIDIOC_SUBDEV_S_FMT, {which=V4L2_SUBDEV_FORMAT_ACTIVE, format.width=128, "
    "format.height=96, format.code=MEDIA_BUS_FMT_SGRBG10_1X10})\n"
    "t0 r4 = open(omap3isp.0:video[2], O_RDWR|O_NONBLOCK)\n"
    "t0 ioctl(r4, VIDIOC_S_FMT, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, fmt.pix.width=128, "
    "fmt.pix.height=96, fmt.pix.pixelformat=V4L2_PIX_FMT_SGRBG10})\n";
constexpr size_t kIspPipelineCalls = 12;

constexpr char kIspReqbufs[] =
    "t0 ioctl(r4, VIDIOC_REQBUFS, {count=2, type=V4L2_BUF_TYPE_VIDEO_CAPTURE, "
    "memory=V4L2_MEMORY_MMAP})";
constexpr char kIspQbufs[] =
    "t0 ioctl(r4, VIDIOC_QBUF, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, memory=V4L2_MEMORY_MMAP})\n"
    "t0 ioctl(r4, VIDIOC_QBUF, {index=1, type=V4L2_BUF_TYPE_VIDEO_CAPTURE, "
    "memory=V4L2_MEMORY_MMAP})\n";
constexpr char kIspStreamon[] = "t0 ioctl(r4, VIDIOC_STREAMON, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE})";

TEST(FaultSweep, Omap3ispPipelineStreamsWithoutFaults) {
  // The sweeps below rely on this pipeline streaming: every call succeeds
  // and an interrupt completes a buffer.
  std::string text = std::string(kIspPipeline) + kIspReqbufs + "\n" + kIspQbufs + kIspStreamon +
                     "\n"
                     "t0 irq(omap3isp.0, 0)\n"
                     "t0 ioctl(r4, VIDIOC_DQBUF, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, "
                     "memory=V4L2_MEMORY_MMAP})\n";
  Program p = parse(text);
  ExecOptions opts;
  opts.mode = ExecMode::kSequential;
  ExecResult r = execute(p, opts);
  ASSERT_EQ(r.calls.size(), p.calls.size());
  for (size_t i = 0; i < p.calls.size(); ++i)
    EXPECT_GE(r.calls[i].ret, 0) << "call " << i << ": " << call_to_text(p, i);
}

TEST(FaultSweep, Omap3ispReqbufsStreamon) {
  // REQBUFS faulted, then REQBUFS again. vb2 may absorb the failure of a
  // later buffer's allocation by returning fewer buffers (upstream
  // __vb2_queue_alloc), so a faulted REQBUFS may succeed.
  Sweep reqbufs = sweep(std::string(kIspPipeline) + kIspReqbufs + " fail_nth=@N\n" + kIspReqbufs +
                            "\n",
                        kIspPipelineCalls, kIspPipelineCalls + 1, Expect::kErrorOrAbsorbed);
  EXPECT_GE(reqbufs.points, 2) << "REQBUFS allocates each buffer";
  EXPECT_GE(reqbufs.clean_failures, 1);
  // STREAMON faulted, then STREAMON again: the failed start must have
  // stopped the pipeline and given the buffers back to the queue.
  Sweep streamon =
      sweep(std::string(kIspPipeline) + kIspReqbufs + "\n" + kIspQbufs + kIspStreamon +
                " fail_nth=@N\n" + kIspStreamon + "\n",
            kIspPipelineCalls + 3, kIspPipelineCalls + 4);
  EXPECT_GE(streamon.points, 1) << "the pipeline's first start allocates its graph walk";
  std::printf("omap3isp REQBUFS: %d failure points (%d failed, %d absorbed), STREAMON: %d\n",
              reqbufs.points, reqbufs.clean_failures, reqbufs.ignored, streamon.points);
}

}  // namespace
}  // namespace mcf::fuzz
