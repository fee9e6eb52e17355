// The executor on the real driver table (drivers/driver_table.h: vimc,
// omap3isp and its sensor, and whatever rows come later), driver-agnostic:
// every row sets up, every node it has answers its basic ioctls, removal
// races with use on other threads, and every failure point of a plug is
// survived. The executor's oracles (leak, lock held, stuck thread) and the
// sanitizers judge each run.
#include <gtest/gtest.h>
#include <linux/media.h>
#include <linux/videodev2.h>

#include <cerrno>

#include "core/fs/file.h"
#include "drivers/driver_table.h"
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

constexpr uint64_t kNull = fuzz::kUserPtrRaw | 0;

// The basic query of each node kind, which every node of that kind answers.
const char* query_of(NodeKind kind) {
  switch (kind) {
    case NodeKind::kMedia: return "MEDIA_IOC_DEVICE_INFO";
    case NodeKind::kVideo: return "VIDIOC_QUERYCAP";
    default: return "VIDIOC_SUBDEV_QUERYCAP";
  }
}

class ExecDriversTest : public ::testing::TestWithParam<ExecMode> {
 protected:
  void SetUp() override {
    ASSERT_EQ(alive_objects(), "");
    // The table has rows by now (vimc first); a test over no row would
    // check nothing.
    ASSERT_FALSE(driver_table().empty());
  }
  fuzz::ExecOptions options() const {
    fuzz::ExecOptions o;
    o.mode = GetParam();
    return o;
  }
};

TEST_P(ExecDriversTest, EveryRowSetsUpAndEveryNodeAnswers) {
  const auto& rows = driver_table();
  for (uint8_t row = 0; row < rows.size(); ++row) {
    for (NodeKind kind : {NodeKind::kMedia, NodeKind::kVideo, NodeKind::kSubdev}) {
      // Indices wrap modulo the device's nodes: 12 names every node of
      // drivers with up to 12 of a kind, and some twice.
      ProgBuilder b;
      std::vector<std::pair<int, int>> opened;  // (open, query)
      for (uint8_t index = 0; index < 12; ++index) {
        int fd = b.open(0, row, 0, kind, index);
        opened.emplace_back(fd, b.ioctl(0, fd, query_of(kind)));
        if (kind == NodeKind::kMedia) {
          b.ioctl(0, fd, "MEDIA_IOC_G_TOPOLOGY",
                  {{"ptr_entities", kNull}, {"ptr_interfaces", kNull}, {"ptr_pads", kNull},
                   {"ptr_links", kNull}});
        }
      }
      ExecResult r = fuzz::execute(b.program(), options());
      ASSERT_EQ(r.setup_register[row], 0) << rows[row].name;
      ASSERT_EQ(r.setup_plug[row], 0) << rows[row].name;
      for (auto [open, query] : opened) {
        if (r.calls[open].ret == -ENOENT) {
          // The device has no node of this kind: then it has none at all.
          EXPECT_EQ(r.calls[opened[0].first].ret, -ENOENT) << rows[row].name;
          EXPECT_EQ(r.calls[query].ret, -EBADF);
          continue;
        }
        EXPECT_GE(r.calls[open].ret, 0) << rows[row].name << describe(b.program(), r);
        EXPECT_EQ(r.calls[query].ret, 0) << rows[row].name << describe(b.program(), r);
      }
      EXPECT_EQ(alive_objects(), "");
    }
  }
}

TEST_P(ExecDriversTest, EveryRowHasANode) {
  const auto& rows = driver_table();
  ProgBuilder b;
  std::vector<int> opens;
  for (uint8_t row = 0; row < rows.size(); ++row)
    for (NodeKind kind : {NodeKind::kMedia, NodeKind::kVideo, NodeKind::kSubdev})
      opens.push_back(b.open(0, row, 0, kind));
  ExecResult r = fuzz::execute(b.program(), options());
  for (uint8_t row = 0; row < rows.size(); ++row) {
    int found = 0;
    for (int k = 0; k < 3; ++k) found += r.calls[opens[row * 3 + k]].ret >= 0;
    EXPECT_GT(found, 0) << rows[row].name << " has no node after setup";
  }
}

TEST_P(ExecDriversTest, EveryFailurePointOfAPlugIsSurvived) {
  // fail_nth = 1, 2, ... on plugging device 1 of each row (probe included):
  // an error or an unbound device, never a leak, a lock held or a report.
  const auto& rows = driver_table();
  for (uint8_t row = 0; row < rows.size(); ++row) {
    int injected = 0;
    for (uint32_t n = 1; n < 2000; ++n) {
      ProgBuilder b;
      int plug = b.dev(0, CallKind::kPlug, row, 1);
      b.fail_nth(n);
      int fd = b.open(0, row, 1, NodeKind::kMedia);
      b.ioctl(0, fd, "MEDIA_IOC_DEVICE_INFO");
      ExecResult r = fuzz::execute(b.program(), options());
      ASSERT_EQ(alive_objects(), "") << rows[row].name << " fail_nth=" << n;
      if (r.calls[plug].fault_site == nullptr) {
        EXPECT_EQ(r.calls[plug].ret, 0);
        break;
      }
      ++injected;
    }
    EXPECT_GT(injected, 0) << rows[row].name;
  }
}

TEST(ExecDriversThreadsTest, RemovalRacesWithUseOnOtherThreads) {
  // Per row: t0 reads the topology and streams from a video node, t1 plays
  // the frame IRQ, t2 unbinds and binds again, t3 unplugs. 50 runs each.
  const auto& rows = driver_table();
  ASSERT_FALSE(rows.empty());
  fuzz::ExecOptions o;
  o.mode = ExecMode::kThreads;
  for (uint8_t row = 0; row < rows.size(); ++row) {
    ProgBuilder b;
    int media = b.open(0, row, 0, NodeKind::kMedia);
    b.ioctl(0, media, "MEDIA_IOC_G_TOPOLOGY",
            {{"ptr_entities", kNull}, {"ptr_interfaces", kNull}, {"ptr_pads", kNull},
             {"ptr_links", kNull}});
    int video = b.open(0, row, 0, NodeKind::kVideo);
    b.start_capture(0, video, 3, 3);
    int dq = b.ioctl(0, video, "VIDIOC_DQBUF",
                     {{"type", V4L2_BUF_TYPE_VIDEO_CAPTURE}, {"memory", V4L2_MEMORY_MMAP}});
    int sub = b.open(1, row, 0, NodeKind::kSubdev, 1);
    b.ioctl(1, sub, "VIDIOC_SUBDEV_G_FMT", {{"which", V4L2_SUBDEV_FORMAT_ACTIVE}});
    for (int i = 0; i < 3; ++i) b.dev(1, CallKind::kIrq, row, 0);
    b.dev(2, CallKind::kUnbind, row, 0);
    b.dev(2, CallKind::kBind, row, 0);
    int unplug = b.dev(3, CallKind::kUnplug, row, 0);
    for (int i = 0; i < 50; ++i) {
      ExecResult r = fuzz::execute(b.program(), o);
      ASSERT_EQ(alive_objects(), "") << rows[row].name;
      EXPECT_EQ(r.calls[unplug].ret, 0) << rows[row].name;
      // Removal is in the program: nothing waits for teardown.
      EXPECT_NE(r.calls[dq].status, CallStatus::kNotRun) << rows[row].name
                                                          << describe(b.program(), r);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, ExecDriversTest,
                         ::testing::Values(ExecMode::kThreads, ExecMode::kSequential),
                         [](const auto& info) {
                           return info.param == ExecMode::kThreads ? "Threads" : "Sequential";
                         });

}  // namespace
}  // namespace mcf::testing
