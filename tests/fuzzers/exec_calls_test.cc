// The executor, one program thread: every call kind, its resolution and its
// recorded result, in both modes (on one thread they agree), and teardown
// leaving nothing alive. The drivers are the test-only ones of tests/support
// (exec_fixture.h); exec_drivers_test.cc runs the real driver table.
#include <gtest/gtest.h>
#include <linux/media.h>
#include <linux/videodev2.h>

#include <cerrno>

#include "core/fs/file.h"
#include "fuzzers/exec/executor.h"
#include "tests/support/exec_fixture.h"
#include "tests/support/live_objects_check.h"

namespace mcf::testing {
namespace {

using fuzz::CallKind;
using fuzz::CallStatus;
using fuzz::ExecMode;
using fuzz::ExecResult;
using fuzz::NodeKind;

class ExecCallsTest : public ::testing::TestWithParam<ExecMode> {
 protected:
  void SetUp() override { ASSERT_EQ(alive_objects(), ""); }

  ExecResult run(const ProgBuilder& b) { return run(b, exec_test_options(GetParam())); }
  ExecResult run(const ProgBuilder& b, const fuzz::ExecOptions& o) {
    ExecResult r = fuzz::execute(b.program(), o);
    // The executor's own oracle aborts on a leak; this says it in the test too.
    EXPECT_EQ(alive_objects(), "");
    EXPECT_EQ(r.calls.size(), b.program().calls.size());
    return r;
  }
};

TEST_P(ExecCallsTest, SetupRegistersEveryRowAndPlugsDeviceZero) {
  ProgBuilder b;
  int media = b.open(0, kRowMedia, 0, NodeKind::kMedia);
  int video = b.open(0, kRowVideo, 0, NodeKind::kVideo);
  int subdev = b.open(0, kRowSensor, 0, NodeKind::kSubdev);
  ExecResult r = run(b);
  ASSERT_EQ(r.setup_register.size(), exec_test_drivers().size());
  for (size_t row = 0; row < exec_test_drivers().size(); ++row) {
    EXPECT_EQ(r.setup_register[row], 0) << exec_test_drivers()[row].name;
    EXPECT_EQ(r.setup_plug[row], 0) << exec_test_drivers()[row].name;
  }
  EXPECT_GE(r.calls[media].ret, 0) << describe(b.program(), r);
  EXPECT_GE(r.calls[video].ret, 0) << describe(b.program(), r);
  EXPECT_GE(r.calls[subdev].ret, 0) << describe(b.program(), r);
  for (const auto& c : r.calls) EXPECT_EQ(c.status, CallStatus::kDone);
  EXPECT_FALSE(r.blocked);
}

TEST_P(ExecCallsTest, SetupDriversOptionLimitsWhatIsRegistered) {
  fuzz::ExecOptions o = exec_test_options(GetParam());
  o.setup_drivers = std::vector<int>{kRowMedia};
  ProgBuilder b;
  int media = b.open(0, kRowMedia, 0, NodeKind::kMedia);
  int video = b.open(0, kRowVideo, 0, NodeKind::kVideo);
  ExecResult r = run(b, o);
  EXPECT_GE(r.calls[media].ret, 0);
  EXPECT_EQ(r.calls[video].ret, -ENOENT) << "the video driver was not registered";

  o.setup_plug = false;
  r = run(b, o);
  EXPECT_EQ(r.calls[media].ret, -ENOENT) << "no device was plugged";
}

TEST_P(ExecCallsTest, ResultsAreRecordedPerCallInProgramOrder) {
  ProgBuilder b;
  int fd = b.open(0, kRowMedia, 0, NodeKind::kMedia);
  int info = b.ioctl(0, fd, "MEDIA_IOC_DEVICE_INFO");
  int querycap = b.ioctl(0, fd, "VIDIOC_QUERYCAP");  // a video ioctl on the media node
  int close1 = b.close(0, fd);
  int close2 = b.close(0, fd);  // the same model fd, already closed
  int info2 = b.ioctl(0, fd, "MEDIA_IOC_DEVICE_INFO");
  ExecResult r = run(b);
  EXPECT_GE(r.calls[fd].ret, 0);
  EXPECT_EQ(r.calls[info].ret, 0);
  EXPECT_EQ(r.calls[querycap].ret, -ENOTTY);
  EXPECT_EQ(r.calls[close1].ret, 0);
  EXPECT_EQ(r.calls[close2].ret, -EBADF);
  EXPECT_EQ(r.calls[info2].ret, -EBADF);
  EXPECT_EQ(r.calls[querycap].err(), ENOTTY);
}

TEST_P(ExecCallsTest, FdOfAFailedCallIsEbadf) {
  ProgBuilder b;
  int bad = b.open(0, kRowVideo, 0, NodeKind::kMedia);  // the video device has no media node
  int ioctl = b.ioctl(0, bad, "MEDIA_IOC_DEVICE_INFO");
  int dup = b.dup(0, bad);
  int poll = b.poll(0, bad, EPOLLIN, false);
  int close = b.close(0, bad);
  int none = b.close(0, -1);  // a resource naming no call
  ExecResult r = run(b);
  EXPECT_EQ(r.calls[bad].ret, -ENOENT) << "no such node: not run";
  EXPECT_EQ(r.calls[ioctl].ret, -EBADF);
  EXPECT_EQ(r.calls[dup].ret, -EBADF);
  EXPECT_EQ(r.calls[poll].ret, -EBADF);
  EXPECT_EQ(r.calls[close].ret, -EBADF);
  EXPECT_EQ(r.calls[none].ret, -EBADF);
}

TEST_P(ExecCallsTest, NodeIndexIsTakenModuloTheDevicesNodes) {
  // The bridge has sub-device nodes of its own; index 200 still names one.
  ProgBuilder b;
  int first = b.open(0, kRowBridge, 0, NodeKind::kSubdev, 0);
  int wrapped = b.open(0, kRowBridge, 0, NodeKind::kSubdev, 200);
  int cap = b.ioctl(0, wrapped, "VIDIOC_SUBDEV_QUERYCAP");
  ExecResult r = run(b);
  EXPECT_GE(r.calls[first].ret, 0) << describe(b.program(), r);
  EXPECT_GE(r.calls[wrapped].ret, 0) << describe(b.program(), r);
  EXPECT_EQ(r.calls[cap].ret, 0);
}

TEST_P(ExecCallsTest, DupSharesTheFile) {
  ProgBuilder b;
  int fd = b.open(0, kRowVideo, 0, NodeKind::kVideo);
  int dup = b.dup(0, fd);
  b.close(0, fd);
  int cap = b.ioctl(0, dup, "VIDIOC_QUERYCAP");
  ExecResult r = run(b);
  EXPECT_GE(r.calls[dup].ret, 0);
  EXPECT_NE(r.calls[dup].ret, r.calls[fd].ret);
  EXPECT_EQ(r.calls[cap].ret, 0) << "the dup keeps the file open";
}

TEST_P(ExecCallsTest, PlugAndUnplugUseTheExecutorsTable) {
  ProgBuilder b;
  int again = b.dev(0, CallKind::kPlug, kRowVideo, 0);    // setup plugged it
  int plug1 = b.dev(0, CallKind::kPlug, kRowVideo, 1);
  int open1 = b.open(0, kRowVideo, 1, NodeKind::kVideo);
  int unplug1 = b.dev(0, CallKind::kUnplug, kRowVideo, 1);
  int unplug1b = b.dev(0, CallKind::kUnplug, kRowVideo, 1);
  int reopen1 = b.open(0, kRowVideo, 1, NodeKind::kVideo);
  int cap = b.ioctl(0, open1, "VIDIOC_QUERYCAP");  // fd still open on the removed node
  int unplug7 = b.dev(0, CallKind::kUnplug, kRowVideo, 7);  // never plugged
  int unplug0 = b.dev(0, CallKind::kUnplug, kRowVideo, 0);  // the setup's device
  ExecResult r = run(b);
  EXPECT_EQ(r.calls[again].ret, -EEXIST);
  EXPECT_EQ(r.calls[plug1].ret, 0);
  EXPECT_GE(r.calls[open1].ret, 0);
  EXPECT_EQ(r.calls[unplug1].ret, 0);
  EXPECT_EQ(r.calls[unplug1b].ret, -ENODEV);
  EXPECT_EQ(r.calls[reopen1].ret, -ENOENT);
  EXPECT_EQ(r.calls[cap].ret, -ENODEV) << "R12: a video node after unregistration";
  EXPECT_EQ(r.calls[unplug7].ret, -ENODEV);
  EXPECT_EQ(r.calls[unplug0].ret, 0);
}

TEST_P(ExecCallsTest, BindAndUnbind) {
  ProgBuilder b;
  int unbind = b.dev(0, CallKind::kUnbind, kRowVideo, 0);
  int open_unbound = b.open(0, kRowVideo, 0, NodeKind::kVideo);
  int bind = b.dev(0, CallKind::kBind, kRowVideo, 0);
  int bind_again = b.dev(0, CallKind::kBind, kRowVideo, 0);
  int open_bound = b.open(0, kRowVideo, 0, NodeKind::kVideo);
  int bind_absent = b.dev(0, CallKind::kBind, kRowVideo, 3);
  int unbind_absent = b.dev(0, CallKind::kUnbind, kRowVideo, 3);
  b.driver(0, CallKind::kUnregisterDriver, kRowMedia);
  int bind_no_driver = b.dev(0, CallKind::kBind, kRowMedia, 0);
  ExecResult r = run(b);
  EXPECT_EQ(r.calls[unbind].ret, 0);
  EXPECT_EQ(r.calls[open_unbound].ret, -ENOENT);
  EXPECT_EQ(r.calls[bind].ret, 0);
  EXPECT_EQ(r.calls[bind_again].ret, -EBUSY);
  EXPECT_GE(r.calls[open_bound].ret, 0);
  EXPECT_EQ(r.calls[bind_absent].ret, -ENODEV);
  EXPECT_EQ(r.calls[unbind_absent].ret, -ENODEV);
  EXPECT_EQ(r.calls[bind_no_driver].ret, -ENODEV);
}

TEST_P(ExecCallsTest, RegisterAndUnregisterDriver) {
  fuzz::ExecOptions o = exec_test_options(GetParam());
  o.setup_drivers = std::vector<int>{};
  ProgBuilder b;
  int plug = b.dev(0, CallKind::kPlug, kRowVideo, 0);
  int open_before = b.open(0, kRowVideo, 0, NodeKind::kVideo);
  int reg = b.driver(0, CallKind::kRegisterDriver, kRowVideo);
  int reg_again = b.driver(0, CallKind::kRegisterDriver, kRowVideo);
  int open_after = b.open(0, kRowVideo, 0, NodeKind::kVideo);
  int unreg = b.driver(0, CallKind::kUnregisterDriver, kRowVideo);
  int unreg_again = b.driver(0, CallKind::kUnregisterDriver, kRowVideo);
  int cap = b.ioctl(0, open_after, "VIDIOC_QUERYCAP");
  int row_mod = b.driver(0, CallKind::kRegisterDriver, kRowMedia + 4 * 10);  // row 1 again
  ExecResult r = run(b, o);
  EXPECT_EQ(r.calls[plug].ret, 0);
  EXPECT_EQ(r.calls[open_before].ret, -ENOENT) << "no driver bound";
  EXPECT_EQ(r.calls[reg].ret, 0);
  EXPECT_EQ(r.calls[reg_again].ret, -EBUSY);
  EXPECT_GE(r.calls[open_after].ret, 0) << "registration probed the device";
  EXPECT_EQ(r.calls[unreg].ret, 0);
  EXPECT_EQ(r.calls[unreg_again].ret, -ENODEV);
  EXPECT_EQ(r.calls[cap].ret, -ENODEV);
  EXPECT_EQ(r.calls[row_mod].ret, 0) << "driver index modulo the table";
}

TEST_P(ExecCallsTest, IrqDeliversAFrame) {
  ProgBuilder b;
  // Non-blocking: the second DQBUF must not sleep (nobody fires another IRQ).
  int fd = b.open(0, kRowVideo, 0, NodeKind::kVideo, 0, O_RDWR_ | O_NONBLOCK_);
  int on = b.start_capture(0, fd, 2, 2);
  int irq = b.dev(0, CallKind::kIrq, kRowVideo, 0, /*line=*/5);  // one line: 5 % 1 = 0
  int dq = b.ioctl(0, fd, "VIDIOC_DQBUF",
                   {{"type", V4L2_BUF_TYPE_VIDEO_CAPTURE}, {"memory", V4L2_MEMORY_MMAP}});
  int dq_empty = b.ioctl(0, fd, "VIDIOC_DQBUF",
                         {{"type", V4L2_BUF_TYPE_VIDEO_CAPTURE}, {"memory", V4L2_MEMORY_MMAP}});
  int irq_absent = b.dev(0, CallKind::kIrq, kRowVideo, 9);
  b.dev(0, CallKind::kUnbind, kRowVideo, 0);
  int irq_unbound = b.dev(0, CallKind::kIrq, kRowVideo, 0);
  ExecResult r = run(b);
  EXPECT_EQ(r.calls[on].ret, 0) << describe(b.program(), r);
  EXPECT_EQ(r.calls[irq].ret, 1) << "the handler ran";
  EXPECT_EQ(r.calls[dq].ret, 0) << describe(b.program(), r);
  EXPECT_EQ(r.calls[dq_empty].ret, -EAGAIN);
  EXPECT_EQ(r.calls[irq_absent].ret, -ENODEV);
  EXPECT_EQ(r.calls[irq_unbound].ret, 0) << "spurious: no handler after remove()";
}

TEST_P(ExecCallsTest, UserPointersPointIntoTheDataRegionOrAreRaw) {
  constexpr uint64_t kRaw = fuzz::kUserPtrRaw;
  ProgBuilder b;
  int fd = b.open(0, kRowMedia, 0, NodeKind::kMedia);
  constexpr uint64_t kNull = kRaw | 0;
  // Offset 0 is the start of the data region, not NULL: with a count of 0
  // it is a too-small array (-ENOSPC).
  int zero_offsets = b.ioctl(0, fd, "MEDIA_IOC_G_TOPOLOGY");
  int counts = b.ioctl(0, fd, "MEDIA_IOC_G_TOPOLOGY",
                       {{"ptr_entities", kNull}, {"ptr_interfaces", kNull},
                        {"ptr_pads", kNull}, {"ptr_links", kNull}});
  int in_arena = b.ioctl(0, fd, "MEDIA_IOC_G_TOPOLOGY",
                         {{"num_entities", 16}, {"ptr_entities", 0x100},
                          {"ptr_interfaces", kNull}, {"ptr_pads", kNull}, {"ptr_links", kNull}});
  int raw_bad = b.ioctl(0, fd, "MEDIA_IOC_G_TOPOLOGY",
                        {{"num_entities", 16}, {"ptr_entities", kRaw | 4},
                         {"ptr_interfaces", kNull}, {"ptr_pads", kNull}, {"ptr_links", kNull}});
  int off_end = b.ioctl(0, fd, "MEDIA_IOC_G_TOPOLOGY",
                        {{"num_entities", 16}, {"ptr_entities", 1ull << 40},
                         {"ptr_interfaces", kNull}, {"ptr_pads", kNull}, {"ptr_links", kNull}});
  int links = b.ioctl(0, fd, "MEDIA_IOC_ENUM_LINKS",
                      {{"entity", 1}, {"pads", 0x2000}, {"links", 0x3000}});
  ExecResult r = run(b);
  EXPECT_EQ(r.calls[zero_offsets].ret, -ENOSPC);
  EXPECT_EQ(r.calls[counts].ret, 0);
  EXPECT_EQ(r.calls[in_arena].ret, 0) << describe(b.program(), r);
  EXPECT_EQ(r.calls[raw_bad].ret, -EFAULT);
  EXPECT_EQ(r.calls[off_end].ret, -EFAULT);
  EXPECT_EQ(r.calls[links].ret, 0) << describe(b.program(), r);
}

TEST_P(ExecCallsTest, EmptyProgramAndEmptyTable) {
  ExecResult r = run(ProgBuilder());
  EXPECT_TRUE(r.calls.empty());

  std::vector<driver_desc> none;
  fuzz::ExecOptions o = exec_test_options(GetParam());
  o.drivers = &none;
  ProgBuilder b;
  int open = b.open(0, 3, 0, NodeKind::kMedia);
  int plug = b.dev(0, CallKind::kPlug, 0, 0);
  int reg = b.driver(0, CallKind::kRegisterDriver, 0);
  int close = b.close(0, open);
  r = run(b, o);
  EXPECT_EQ(r.calls[open].ret, -ENOENT);
  EXPECT_EQ(r.calls[plug].ret, -ENODEV);
  EXPECT_EQ(r.calls[reg].ret, -ENODEV);
  EXPECT_EQ(r.calls[close].ret, -EBADF);
}

TEST_P(ExecCallsTest, TeardownReleasesWhatTheProgramLeftBehind) {
  // Open fds, streaming with queued buffers, extra devices, a driver
  // registered twice over: teardown closes, unplugs and unregisters it all
  // (execute() itself aborts with a leak report otherwise).
  ProgBuilder b;
  int fd = b.open(0, kRowVideo, 0, NodeKind::kVideo, 0, O_RDWR_ | O_NONBLOCK_);
  b.start_capture(0, fd, 4, 3);
  b.dup(0, fd);
  b.dev(0, CallKind::kPlug, kRowBridge, 5);
  b.dev(0, CallKind::kPlug, kRowSensor, 5);
  b.open(0, kRowBridge, 5, NodeKind::kMedia);
  b.open(0, kRowSensor, 5, NodeKind::kSubdev);
  b.open(0, kRowMedia, 0, NodeKind::kMedia);
  for (int i = 0; i < 3; ++i) {
    ExecResult r = run(b);
    for (const auto& c : r.calls) EXPECT_GE(c.ret, 0) << describe(b.program(), r);
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ExecCallsTest,
                         ::testing::Values(ExecMode::kThreads, ExecMode::kSequential),
                         [](const auto& info) {
                           return info.param == ExecMode::kThreads ? "Threads" : "Sequential";
                         });

}  // namespace
}  // namespace mcf::testing
