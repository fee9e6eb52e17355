// Each mutation operator on small examples: it applies, and it does what its
// name says (fuzzers/mutate/mutate.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "fuzzers/mutate/mutate.h"
#include "fuzzers/mutate/resources.h"
#include "tests/fuzzers/mutate_seeds.h"

namespace mcf::fuzz {
namespace {

using namespace mcf::fuzz::testing;

constexpr int kTrials = 300;

// Calls that use no fd and are all different, so positions can be compared.
Program fd_free_program() {
  Program p;
  p.calls = {dev_call(CallKind::kBind, 0), dev_call(CallKind::kUnbind, 1, 1), dev_call(CallKind::kIrq, 2),
             dev_call(CallKind::kPlug, 3, 2), dev_call(CallKind::kUnplug, 4, 3)};
  return p;
}

// The position k such that removing call k of `bigger` gives `smaller`, or -1.
int added_call(const Program& smaller, const Program& bigger) {
  for (size_t k = 0; k < bigger.calls.size(); ++k) {
    Program q = bigger;
    remove_call_at(&q, k);
    if (q == smaller) return static_cast<int>(k);
  }
  return -1;
}

// Positions where two programs of the same length differ.
std::vector<size_t> differing(const Program& a, const Program& b) {
  std::vector<size_t> out;
  for (size_t i = 0; i < a.calls.size() && i < b.calls.size(); ++i)
    if (!(a.calls[i] == b.calls[i])) out.push_back(i);
  return out;
}

TEST(MutateOps, NamesAndWeightsComeFromOneTable) {
  MutateOptions opts;
  std::set<std::string> names;
  for (int i = 0; i < static_cast<int>(MutationOp::kCount); ++i) {
    std::string name = mutation_op_name(static_cast<MutationOp>(i));
    EXPECT_NE(name, "?");
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(MutationOp::kCount));
  EXPECT_EQ(std::string(mutation_op_name(MutationOp::kMoveThread)), "move_thread");
  EXPECT_EQ(opts.weight(MutationOp::kInsertCall), opts.insert_call);
  EXPECT_EQ(opts.weight(MutationOp::kSplice), opts.splice);
  opts.remove_call = 7;
  EXPECT_EQ(opts.weight(MutationOp::kRemoveCall), 7u);
  MutationLog log{{MutationOp::kInsertCall, MutationOp::kMutateArg}, ""};
  EXPECT_EQ(log.str(), "insert_call+mutate_arg");
  EXPECT_EQ(MutationLog{}.str(), "");
}

TEST(MutateOps, InsertCallAddsOneCallAndKeepsTheOthers) {
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program p = media_seed();
    ASSERT_TRUE(apply_mutation(MutationOp::kInsertCall, &p, s));
    ASSERT_EQ(p.calls.size(), media_seed().calls.size() + 1);
    EXPECT_GE(added_call(media_seed(), p), 0) << "seed " << s;
  }
}

TEST(MutateOps, InsertCallPrefersCallsOnExistingFdsOfTheRightNodeKind) {
  Program base;
  base.calls = {open_call(NodeKind::kMedia), open_call(NodeKind::kVideo), open_call(NodeKind::kSubdev)};
  int on_fd = 0, ioctls = 0, matching = 0;
  for (uint64_t s = 0; s < 1000; ++s) {
    Program p = base;
    ASSERT_TRUE(apply_mutation(MutationOp::kInsertCall, &p, s));
    int k = added_call(base, p);
    ASSERT_GE(k, 0);
    const Call& c = p.calls[k];
    if (!call_uses_fd(c.kind) || c.fd < 0) continue;
    ++on_fd;
    if (c.kind != CallKind::kIoctl) continue;
    ++ioctls;
    if (ioctl_table()[c.ioctl.desc].node == fd_node(p, c.fd)->kind) ++matching;
  }
  EXPECT_GE(on_fd, 600);                // insert_uses_fd_pct = 75, minus inserts at 0
  EXPECT_GE(matching * 100, ioctls * 75);  // ioctl_matches_node_pct = 85
}

TEST(MutateOps, InsertCallRespectsMaxCalls) {
  MutateOptions opts;
  opts.max_calls = media_seed().calls.size();
  Program p = media_seed();
  EXPECT_FALSE(apply_mutation(MutationOp::kInsertCall, &p, 1, opts));
  EXPECT_EQ(p, media_seed());
}

TEST(MutateOps, RemoveCallShortensByOne) {
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program p = subdev_seed();
    ASSERT_TRUE(apply_mutation(MutationOp::kRemoveCall, &p, s));
    ASSERT_EQ(p.calls.size(), subdev_seed().calls.size() - 1);
    EXPECT_EQ(dangling_refs(p), 0);
    // It is one of the removals resources.h defines.
    bool found = false;
    for (size_t k = 0; k < subdev_seed().calls.size() && !found; ++k) {
      Program q = subdev_seed();
      remove_call_at(&q, k);
      canonicalize(&q);
      found = q == p;
    }
    EXPECT_TRUE(found) << "seed " << s;
  }
  Program empty;
  EXPECT_FALSE(apply_mutation(MutationOp::kRemoveCall, &empty, 1));
}

TEST(MutateOps, DuplicateCallCopiesACallToALaterPosition) {
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program p = fd_free_program();
    ASSERT_TRUE(apply_mutation(MutationOp::kDuplicateCall, &p, s));
    ASSERT_EQ(p.calls.size(), fd_free_program().calls.size() + 1);
    // Some call k is the extra one, and it equals a call before it.
    bool found = false;
    for (size_t k = 1; k < p.calls.size() && !found; ++k) {
      Program q = p;
      remove_call_at(&q, k);
      if (!(q == fd_free_program())) continue;
      for (size_t j = 0; j < k; ++j) found |= p.calls[j] == p.calls[k];
    }
    EXPECT_TRUE(found) << "seed " << s;
  }
}

TEST(MutateOps, DuplicatedOpenIsAnotherFdAndUsersStayOnTheFirst) {
  Program base;
  base.calls = {open_call(NodeKind::kVideo), ioctl_call(0, "VIDIOC_QUERYCAP")};
  int opens_twice = 0;
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program p = base;
    ASSERT_TRUE(apply_mutation(MutationOp::kDuplicateCall, &p, s));
    if (p.calls[1].kind != CallKind::kOpen) continue;
    ++opens_twice;
    EXPECT_EQ(p.calls[2].fd, 0);
  }
  EXPECT_GT(opens_twice, 0);
}

TEST(MutateOps, SwapCallsExchangesExactlyTwo) {
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program o = fd_free_program();
    Program p = o;
    ASSERT_TRUE(apply_mutation(MutationOp::kSwapCalls, &p, s));
    std::vector<size_t> d = differing(o, p);
    ASSERT_EQ(d.size(), 2u) << "seed " << s;
    EXPECT_EQ(p.calls[d[0]], o.calls[d[1]]);
    EXPECT_EQ(p.calls[d[1]], o.calls[d[0]]);
  }
  Program one;
  one.calls = {dev_call(CallKind::kBind)};
  EXPECT_FALSE(apply_mutation(MutationOp::kSwapCalls, &one, 1));
}

TEST(MutateOps, MoveThreadChangesOnlyOneCallsThread) {
  std::set<int> threads_seen;
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program o = video_seed();
    Program p = o;
    ASSERT_TRUE(apply_mutation(MutationOp::kMoveThread, &p, s));
    std::vector<size_t> d = differing(o, p);
    ASSERT_EQ(d.size(), 1u);
    Call c = p.calls[d[0]];
    EXPECT_NE(c.thread, o.calls[d[0]].thread);
    EXPECT_LT(c.thread, kMaxThreads);
    threads_seen.insert(c.thread);
    c.thread = o.calls[d[0]].thread;
    EXPECT_EQ(c, o.calls[d[0]]);  // nothing else changed
  }
  EXPECT_EQ(threads_seen.size(), static_cast<size_t>(kMaxThreads - 1));  // video_seed is all on t0
  MutateOptions one_thread;
  one_thread.threads = 1;
  Program p = video_seed();
  EXPECT_FALSE(apply_mutation(MutationOp::kMoveThread, &p, 1, one_thread));
}

TEST(MutateOps, MutateArgOnAnEnumFieldMostlyGivesAListedValue) {
  Program base;
  base.calls = {ioctl_call(-1, "VIDIOC_G_FMT", {V4L2_BUF_TYPE_VIDEO_CAPTURE})};
  const std::vector<uint64_t>& listed = ioctl_table()[base.calls[0].ioctl.desc].fields[0].values;
  int field_changed = 0, in_list = 0;
  for (uint64_t s = 0; s < 1000; ++s) {
    Program p = base;
    if (!apply_mutation(MutationOp::kMutateArg, &p, s)) continue;
    ASSERT_EQ(p.calls.size(), 1u);
    if (p.calls[0].ioctl.desc != base.calls[0].ioctl.desc) continue;  // the command changed
    ++field_changed;
    uint64_t v = p.calls[0].ioctl.fields[0];
    if (std::find(listed.begin(), listed.end(), v) != listed.end()) ++in_list;
  }
  EXPECT_GE(field_changed, 700);
  EXPECT_GE(in_list * 100, field_changed * 80) << in_list << " of " << field_changed;
}

TEST(MutateOps, MutateArgChangesOneCallAndNoOpen) {
  std::set<CallKind> kinds;
  for (uint64_t s = 0; s < 2000; ++s) {
    Program o = subdev_seed();
    Program p = o;
    // Not applied when the new value equals the old (a dup's only fd).
    if (!apply_mutation(MutationOp::kMutateArg, &p, s)) continue;
    std::vector<size_t> d = differing(o, p);
    ASSERT_EQ(d.size(), 1u) << "seed " << s;
    EXPECT_EQ(p.calls[d[0]].kind, o.calls[d[0]].kind);
    EXPECT_NE(p.calls[d[0]].kind, CallKind::kOpen);
    EXPECT_EQ(p.calls[d[0]].thread, o.calls[d[0]].thread);
    kinds.insert(p.calls[d[0]].kind);
  }
  // ioctls, the fds of dup/poll/close, poll events, devices of bind/unbind.
  for (CallKind k : {CallKind::kIoctl, CallKind::kDup, CallKind::kPoll, CallKind::kClose,
                     CallKind::kBind, CallKind::kUnbind})
    EXPECT_TRUE(kinds.count(k)) << call_kind_name(k);
}

TEST(MutateOps, ChangeNodeChangesOnlyAnOpensNode) {
  std::set<int> what;  // 0 kind, 1 index, 2 device
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program o = unplug_seed();
    Program p = o;
    if (!apply_mutation(MutationOp::kChangeNode, &p, s)) continue;
    std::vector<size_t> d = differing(o, p);
    ASSERT_EQ(d.size(), 1u);
    Call c = p.calls[d[0]];
    ASSERT_EQ(c.kind, CallKind::kOpen);
    const NodeRef& before = o.calls[d[0]].node;
    if (c.node.kind != before.kind) what.insert(0);
    if (c.node.index != before.index) what.insert(1);
    if (!(c.node.dev == before.dev)) what.insert(2);
    c.node = before;
    EXPECT_EQ(c, o.calls[d[0]]);
  }
  EXPECT_EQ(what.size(), 3u);
  Program none = fd_free_program();
  EXPECT_FALSE(apply_mutation(MutationOp::kChangeNode, &none, 1));
}

TEST(MutateOps, ChangeOpenFlagsTogglesNonblockOrTheAccessMode) {
  int nonblock = 0, mode = 0;
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program o = unplug_seed();
    Program p = o;
    ASSERT_TRUE(apply_mutation(MutationOp::kChangeOpenFlags, &p, s));
    std::vector<size_t> d = differing(o, p);
    ASSERT_EQ(d.size(), 1u);
    uint32_t before = o.calls[d[0]].flags, after = p.calls[d[0]].flags;
    ASSERT_EQ(p.calls[d[0]].kind, CallKind::kOpen);
    if ((before ^ after) == static_cast<uint32_t>(O_NONBLOCK)) ++nonblock;
    else if (((before ^ after) & ~static_cast<uint32_t>(O_ACCMODE)) == 0) ++mode;
    else ADD_FAILURE() << std::hex << before << " -> " << after;
    EXPECT_LE(after & O_ACCMODE, static_cast<uint32_t>(O_RDWR));
  }
  EXPECT_GT(nonblock, kTrials / 3);
  EXPECT_GT(mode, kTrials / 5);
}

TEST(MutateOps, FailNthSetsChangesAndClears) {
  MutateOptions opts;
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program o = video_seed();  // no fail_nth anywhere
    Program p = o;
    ASSERT_TRUE(apply_mutation(MutationOp::kFailNth, &p, s, opts));
    std::vector<size_t> d = differing(o, p);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_GE(p.calls[d[0]].fail_nth, 1u);
    EXPECT_LE(p.calls[d[0]].fail_nth, opts.fail_nth_max);
  }
  Program one;
  one.calls = {open_call(NodeKind::kMedia)};
  one.calls[0].fail_nth = 3;
  std::set<uint32_t> values;
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program p = one;
    if (!apply_mutation(MutationOp::kFailNth, &p, s)) continue;  // drew 3 again
    values.insert(p.calls[0].fail_nth);
  }
  EXPECT_TRUE(values.count(0));  // cleared
  EXPECT_TRUE(values.count(2));  // -1
  EXPECT_TRUE(values.count(4));  // +1
}

TEST(MutateOps, SpliceIsAPrefixOfOneAndASuffixOfTheOther) {
  Program a = fd_free_program();
  Program b;
  b.calls = {dev_call(CallKind::kIrq, 7), dev_call(CallKind::kBind, 8), dev_call(CallKind::kUnbind, 9),
             dev_call(CallKind::kRegisterDriver)};
  std::set<std::pair<size_t, size_t>> cuts;
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program p = crossover(a, b, s);
    bool found = false;
    for (size_t k = 0; k <= a.calls.size() && !found; ++k) {
      for (size_t j = 0; j <= b.calls.size() && !found; ++j) {
        Program want;
        want.calls.assign(a.calls.begin(), a.calls.begin() + k);
        want.calls.insert(want.calls.end(), b.calls.begin() + j, b.calls.end());
        if (want == p) {
          found = true;
          cuts.insert({k, j});
        }
      }
    }
    EXPECT_TRUE(found) << "seed " << s;
  }
  EXPECT_GT(cuts.size(), 20u);  // 6 x 5 possible cuts
}

TEST(MutateOps, SpliceRelinksTheSuffixFdsIntoThePrefix) {
  // b's suffix uses a video fd made in b's dropped prefix; a's prefix has one.
  Program a;
  a.calls = {open_call(NodeKind::kMedia), open_call(NodeKind::kVideo)};
  Program b = video_seed();
  int relinked = 0;
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program p = crossover(a, b, s);
    EXPECT_TRUE(is_valid(p));
    EXPECT_EQ(dangling_refs(p), 0);
    for (const Call& c : p.calls) {
      if (c.kind != CallKind::kIoctl || c.fd < 0) continue;
      EXPECT_EQ(fd_node(p, c.fd)->kind, NodeKind::kVideo);
      if (c.fd == 1) ++relinked;
    }
  }
  EXPECT_GT(relinked, 0);
}

TEST(MutateOps, SpliceInsideMutateUsesTheDonor) {
  Program a = fd_free_program();
  Program donor;
  donor.calls = {dev_call(CallKind::kRegisterDriver, 0, 3)};
  int took_donor = 0;
  for (uint64_t s = 0; s < kTrials; ++s) {
    Program p = a;
    if (!apply_mutation(MutationOp::kSplice, &p, s, {}, &donor)) continue;
    if (!p.calls.empty() && p.calls.back() == donor.calls[0]) ++took_donor;
  }
  EXPECT_GT(took_donor, kTrials / 3);
}

}  // namespace
}  // namespace mcf::fuzz
