// Resource fix-up when calls move, appear and disappear (fuzzers/mutate/resources.h):
// every fd reference stays on the call that made it, or moves to another fd
// on the same node, and none is left dangling.
#include "fuzzers/mutate/resources.h"

#include <gtest/gtest.h>

#include "tests/fuzzers/mutate_seeds.h"

namespace mcf::fuzz {
namespace {

using namespace mcf::fuzz::testing;

TEST(MutateResources, SeedsAreValid) {
  for (const Program& p : all_seeds()) {
    std::string why;
    EXPECT_TRUE(is_valid(p, &why)) << why;
  }
}

TEST(MutateResources, FdNodeFollowsDupChains) {
  Program p;
  p.calls = {open_call(NodeKind::kSubdev, 2), fd_call(CallKind::kDup, 0), fd_call(CallKind::kDup, 1),
             ioctl_call(2, "VIDIOC_SUBDEV_QUERYCAP")};
  ASSERT_TRUE(fd_node(p, 2).has_value());
  EXPECT_EQ(fd_node(p, 2)->kind, NodeKind::kSubdev);
  EXPECT_EQ(fd_node(p, 2)->index, 2);
  EXPECT_FALSE(fd_node(p, 3).has_value());  // an ioctl makes no fd
  EXPECT_FALSE(fd_node(p, -1).has_value());
  EXPECT_EQ(fd_makers_before(p, 3), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(fd_makers_before(p, 1), (std::vector<int>{0}));
}

TEST(MutateResources, RemovingADupMovesItsUsersToTheSameNode) {
  Program p;
  p.calls = {open_call(NodeKind::kMedia), open_call(NodeKind::kVideo), fd_call(CallKind::kDup, 1),
             ioctl_call(2, "VIDIOC_QUERYCAP"), fd_call(CallKind::kClose, 0)};
  remove_call_at(&p, 2);
  ASSERT_EQ(p.calls.size(), 4u);
  EXPECT_EQ(p.calls[2].fd, 1);  // the video fd, not the later-made or media one
  EXPECT_EQ(p.calls[3].fd, 0);  // close(r0) keeps r0
  EXPECT_EQ(dangling_refs(p), 0);
  EXPECT_TRUE(is_valid(p));
}

TEST(MutateResources, RemovingTheOnlyOpenLeavesNoFd) {
  Program p;
  p.calls = {open_call(NodeKind::kMedia), ioctl_call(0, "MEDIA_IOC_DEVICE_INFO"),
             dev_call(CallKind::kUnplug), fd_call(CallKind::kClose, 0)};
  remove_call_at(&p, 0);
  ASSERT_EQ(p.calls.size(), 3u);
  EXPECT_EQ(p.calls[0].fd, -1);
  EXPECT_EQ(p.calls[2].fd, -1);
  EXPECT_TRUE(is_valid(p));
}

TEST(MutateResources, RemovingAnUnrelatedCallShiftsLaterReferences) {
  Program p;
  p.calls = {dev_call(CallKind::kPlug), open_call(NodeKind::kMedia), open_call(NodeKind::kVideo),
             ioctl_call(2, "VIDIOC_QUERYCAP"), ioctl_call(1, "MEDIA_IOC_DEVICE_INFO")};
  remove_call_at(&p, 0);
  EXPECT_EQ(p.calls[2].fd, 1);
  EXPECT_EQ(p.calls[3].fd, 0);
  EXPECT_TRUE(is_valid(p));
}

TEST(MutateResources, InsertShiftsReferencesAtAndAfterThePosition) {
  Program p;
  p.calls = {open_call(NodeKind::kMedia), open_call(NodeKind::kVideo), ioctl_call(1, "VIDIOC_QUERYCAP"),
             ioctl_call(0, "MEDIA_IOC_DEVICE_INFO")};
  insert_call_at(&p, 1, fd_call(CallKind::kDup, 0));
  ASSERT_EQ(p.calls.size(), 5u);
  EXPECT_EQ(p.calls[1].kind, CallKind::kDup);
  EXPECT_EQ(p.calls[1].fd, 0);
  EXPECT_EQ(p.calls[3].fd, 2);  // the video open moved from 1 to 2
  EXPECT_EQ(p.calls[4].fd, 0);
  EXPECT_TRUE(is_valid(p));
}

TEST(MutateResources, SwapBeforeTheMakerRelinksToAnEarlierFdOnTheSameNode) {
  Program p;
  p.calls = {open_call(NodeKind::kVideo), open_call(NodeKind::kVideo, 0, 1),
             ioctl_call(1, "VIDIOC_QUERYCAP"), fd_call(CallKind::kClose, 1)};
  swap_calls(&p, 1, 2);  // the ioctl now comes before the open it used
  EXPECT_EQ(p.calls[1].kind, CallKind::kIoctl);
  EXPECT_EQ(p.calls[1].fd, 0);  // same node, earlier
  EXPECT_EQ(p.calls[2].kind, CallKind::kOpen);
  EXPECT_EQ(p.calls[3].fd, 2);  // close still closes the open it closed
  EXPECT_EQ(dangling_refs(p), 0);
  EXPECT_TRUE(is_valid(p));
}

TEST(MutateResources, SwapWithNoOtherFdOnTheNodeGivesMinusOne) {
  Program p;
  p.calls = {open_call(NodeKind::kMedia), ioctl_call(0, "MEDIA_IOC_DEVICE_INFO")};
  swap_calls(&p, 0, 1);
  EXPECT_EQ(p.calls[0].kind, CallKind::kIoctl);
  EXPECT_EQ(p.calls[0].fd, -1);
  EXPECT_TRUE(is_valid(p));
}

TEST(MutateResources, DuplicatedOpenKeepsUsersOnTheFirstCopy) {
  Program p = media_seed();
  std::vector<Call> source = p.calls;
  std::vector<int> order = {0, 1, 2, 2, 3, 4, 5, 6, 7};
  rebuild(&p, source, order);
  ASSERT_EQ(p.calls.size(), 9u);
  for (size_t i = 4; i < p.calls.size(); ++i) EXPECT_EQ(p.calls[i].fd, 2) << i;
  EXPECT_TRUE(is_valid(p));
}

// Every single removal from every seed leaves a valid program without
// canonicalize()'s help, and keeps each surviving reference on its node.
TEST(MutateResources, EveryRemovalFromEverySeedLeavesNoDanglingReference) {
  for (const Program& seed : all_seeds()) {
    for (size_t pos = 0; pos < seed.calls.size(); ++pos) {
      Program p = seed;
      remove_call_at(&p, pos);
      ASSERT_EQ(p.calls.size(), seed.calls.size() - 1);
      EXPECT_EQ(dangling_refs(p), 0) << "remove " << pos;
      std::string why;
      EXPECT_TRUE(is_valid(p, &why)) << "remove " << pos << ": " << why;
      for (size_t i = 0; i < p.calls.size(); ++i) {
        size_t old = i < pos ? i : i + 1;
        const Call& c = p.calls[i];
        if (!call_uses_fd(c.kind) || c.fd < 0) continue;
        std::optional<NodeRef> before = fd_node(seed, seed.calls[old].fd);
        std::optional<NodeRef> after = fd_node(p, c.fd);
        ASSERT_TRUE(before.has_value());
        // A dup of the removed open is itself a dup of nothing now; its users
        // stay on it (-EBADF), which is what the original program would see.
        if (!after) {
          EXPECT_EQ(p.calls[c.fd].kind, CallKind::kDup);
          continue;
        }
        EXPECT_EQ(before->kind, after->kind) << "remove " << pos << " call " << i;
      }
    }
  }
}

TEST(MutateResources, EverySwapInEverySeedLeavesNoDanglingReference) {
  for (const Program& seed : all_seeds()) {
    for (size_t i = 0; i < seed.calls.size(); ++i) {
      for (size_t j = i + 1; j < seed.calls.size(); ++j) {
        Program p = seed;
        swap_calls(&p, i, j);
        EXPECT_EQ(p.calls[i].kind, seed.calls[j].kind);
        EXPECT_EQ(p.calls[j].kind, seed.calls[i].kind);
        EXPECT_EQ(dangling_refs(p), 0) << i << "<->" << j;
        EXPECT_TRUE(is_valid(p)) << i << "<->" << j;
      }
    }
  }
}

}  // namespace
}  // namespace mcf::fuzz
