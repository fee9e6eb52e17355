// Fault injection (issue 11): for each driver, the probe and the calls that
// allocate or register (open, REQBUFS, STREAMON, SETUP_LINK) are run with
// fail_nth = 1, 2, ... until the call reaches no more failure points. Every
// run must fail cleanly: the executor's oracles (no report, no lock held,
// every live count zero after teardown) hold, and a later call without a
// fault works.
#include <gtest/gtest.h>

#include <string>

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
  int points = 0;         // failure points the faulted call reached
  int clean_failures = 0; // runs where the faulted call returned an error
};

// Runs `text` (with "@N" where fail_nth goes, on call `faulted`) for N =
// 1, 2, ... until the faulted call reaches no failure point any more.
// `check` is the index of a later call that must succeed in every run.
Sweep sweep(const std::string& text, size_t faulted, int check) {
  Sweep s;
  ExecOptions opts;
  opts.mode = ExecMode::kSequential;
  for (int n = 1; n <= kMaxSweep; ++n) {
    Program p = parse(replace_all(text, "@N", std::to_string(n)));
    if (p.calls.size() <= faulted) return s;
    ExecResult r = execute(p, opts);  // a leak or a report aborts the test
    const CallResult& c = r.calls[faulted];
    if (c.fault_site == nullptr) {
      // n is past the last failure point: the call ran without a fault.
      EXPECT_GE(c.ret, 0) << "fail_nth=" << n << " with no fault injected still failed";
      s.points = n - 1;
      return s;
    }
    if (c.ret < 0) s.clean_failures++;
    if (check >= 0) {
      EXPECT_GE(r.calls[check].ret, 0) << "fail_nth=" << n << " at " << c.fault_site
                                       << ": the later call failed";
    }
  }
  ADD_FAILURE() << "more than " << kMaxSweep << " failure points";
  return s;
}

TEST(FaultSweep, VimcProbe) {
  Sweep s = sweep(
      "t0 plug(vimc.1) fail_nth=@N\n"
      "t0 plug(vimc.2)\n"
      "t0 r0 = open(vimc.2:video[2], O_RDWR)\n",
      0, 2);
  // plug() returns 0 even when the probe fails (device_add does not report
  // probe errors, as upstream): the probe's failure shows as an unbound
  // device, and the oracles check that it left nothing behind.
  EXPECT_GT(s.points, 20) << "vimc's probe reaches its allocations and registrations";
  std::printf("vimc probe: %d failure points\n", s.points);
}

TEST(FaultSweep, Omap3ispProbeAndSensorBind) {
  Sweep isp = sweep(
      "t0 plug(omap3isp.1) fail_nth=@N\n"
      "t0 plug(omap3isp.2)\n"
      "t0 plug(mcf-sensor.2)\n"
      "t0 r0 = open(omap3isp.2:media[0], O_RDWR)\n",
      0, 3);
  EXPECT_GT(isp.points, 20);
  // The sensor's probe, which binds it to a waiting ISP (async bound/complete).
  Sweep sensor = sweep(
      "t0 plug(omap3isp.1)\n"
      "t0 plug(mcf-sensor.1) fail_nth=@N\n"
      "t0 plug(omap3isp.2)\n"
      "t0 plug(mcf-sensor.2)\n"
      "t0 r0 = open(omap3isp.2:media[0], O_RDWR)\n",
      1, 4);
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
      1, 2);
  EXPECT_GE(reqbufs.points, 1) << "REQBUFS allocates buffers";
  std::string stream = std::string(kVimcFormats) +
                       "t0 ioctl(r1, VIDIOC_REQBUFS, {count=2, type=V4L2_BUF_TYPE_VIDEO_CAPTURE, "
                       "memory=V4L2_MEMORY_MMAP})\n"
                       "t0 ioctl(r1, VIDIOC_QBUF, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, "
                       "memory=V4L2_MEMORY_MMAP})\n"
                       "t0 ioctl(r1, VIDIOC_QBUF, {index=1, type=V4L2_BUF_TYPE_VIDEO_CAPTURE, "
                       "memory=V4L2_MEMORY_MMAP})\n"
                       "t0 ioctl(r1, VIDIOC_STREAMON, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE}) "
                       "fail_nth=@N\n"
                       "t0 ioctl(r1, VIDIOC_STREAMOFF, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE})\n";
  Sweep streamon = sweep(stream, 7, 8);
  EXPECT_GE(streamon.points, 0);
  std::printf("vimc open: %d, REQBUFS: %d, STREAMON: %d failure points\n", open.points,
              reqbufs.points, streamon.points);
}

TEST(FaultSweep, VimcSetupLink) {
  // SETUP_LINK allocates nothing in the model (upstream neither): the sweep
  // must end at once with the link toggled.
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
  std::printf("omap3isp open: %d, SETUP_LINK: %d failure points\n", open.points, link.points);
}

}  // namespace
}  // namespace mcf::fuzz
