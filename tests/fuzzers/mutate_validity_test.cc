// The mutator's contract (fuzzers/mutate/mutate.h): thousands of mutations
// and crossovers from the seeds are all valid programs within max_calls,
// every operator is reached, the options' limits hold, and the same seed
// gives the same result.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "fuzzers/mutate/mutate.h"
#include "fuzzers/mutate/resources.h"
#include "fuzzers/mutate/rng.h"
#include "tests/fuzzers/mutate_seeds.h"

namespace mcf::fuzz {
namespace {

using namespace mcf::fuzz::testing;

MutateOptions validating() {
  MutateOptions opts;
  opts.debug_validate = true;
  return opts;
}

TEST(MutateValidity, ThousandsOfMutationsFromTheSeedsAreValid) {
  std::vector<Program> seeds = all_seeds();
  MutateOptions opts = validating();
  int n = 0;
  for (size_t i = 0; i < seeds.size(); ++i) {
    for (uint64_t s = 0; s < 1000; ++s, ++n) {
      Program p = seeds[i];
      const Program& donor = seeds[(i + 1 + s) % seeds.size()];
      MutationLog log = mutate(&p, s, opts, s % 2 ? &donor : nullptr);
      ASSERT_EQ(log.invalid, "") << "seed program " << i << " seed " << s;
      ASSERT_FALSE(log.ops.empty());
      std::string why;
      ASSERT_TRUE(is_valid(p, &why)) << why;
      ASSERT_LE(p.calls.size(), static_cast<size_t>(kMaxCalls));
      ASSERT_EQ(dangling_refs(p), 0);
    }
  }
  EXPECT_EQ(n, 5000);
}

// Long chains: mutate the previous result, as a fuzzing campaign does, until
// programs fill kMaxCalls.
TEST(MutateValidity, LongMutationChainsStayValidAndReachMaxCalls) {
  MutateOptions opts = validating();
  size_t longest = 0;
  for (const Program& seed : all_seeds()) {
    Program p = seed;
    for (uint64_t s = 0; s < 1500; ++s) {
      MutationLog log = mutate(&p, s * 7919 + seed.calls.size(), opts);
      ASSERT_EQ(log.invalid, "") << "step " << s;
      std::string why;
      ASSERT_TRUE(is_valid(p, &why)) << "step " << s << ": " << why;
      ASSERT_LE(p.calls.size(), static_cast<size_t>(kMaxCalls));
      longest = std::max(longest, p.calls.size());
    }
  }
  EXPECT_EQ(longest, static_cast<size_t>(kMaxCalls));
}

TEST(MutateValidity, ThousandsOfCrossoversAreValid) {
  std::vector<Program> seeds = all_seeds();
  // Also long programs, so trimming to max_calls happens.
  Program long_one = video_seed();
  for (int i = 0; i < 6; ++i) {
    Program more = subdev_seed();
    long_one.calls.insert(long_one.calls.end(), more.calls.begin(), more.calls.end());
  }
  long_one.calls.resize(kMaxCalls);
  for (size_t i = 9; i < long_one.calls.size(); ++i) long_one.calls[i].fd = -1;  // keep it canonical
  seeds.push_back(long_one);
  ASSERT_TRUE(is_valid(long_one));
  for (size_t a = 0; a < seeds.size(); ++a) {
    for (size_t b = 0; b < seeds.size(); ++b) {
      for (uint64_t s = 0; s < 100; ++s) {
        Program p = crossover(seeds[a], seeds[b], s);
        std::string why;
        ASSERT_TRUE(is_valid(p, &why)) << a << " x " << b << " seed " << s << ": " << why;
        ASSERT_LE(p.calls.size(), static_cast<size_t>(kMaxCalls));
        ASSERT_EQ(dangling_refs(p), 0);
      }
    }
  }
}

TEST(MutateValidity, SmallMaxCallsIsRespected) {
  MutateOptions opts = validating();
  opts.max_calls = 4;
  for (const Program& seed : all_seeds()) {
    for (uint64_t s = 0; s < 300; ++s) {
      Program p = seed;  // some seeds start longer than 4
      MutationLog log = mutate(&p, s, opts, &seed);
      ASSERT_EQ(log.invalid, "");
      ASSERT_LE(p.calls.size(), 4u);
      ASSERT_TRUE(is_valid(p));
      ASSERT_LE(crossover(seed, video_seed(), s, opts).calls.size(), 4u);
    }
  }
}

TEST(MutateValidity, NonCanonicalInputIsAcceptedAndComesOutValid) {
  Rng rng(99);
  for (uint64_t s = 0; s < 500; ++s) {
    Program p;
    size_t n = rng.below(80);
    for (size_t i = 0; i < n; ++i) {
      Call c;
      c.kind = static_cast<CallKind>(rng.below(20));
      c.thread = static_cast<uint8_t>(rng.below(256));
      c.fd = static_cast<int16_t>(rng.below(200)) - 50;
      c.node.kind = static_cast<NodeKind>(rng.below(8));
      c.ioctl.desc = static_cast<uint16_t>(rng.next());
      c.ioctl.fields.assign(rng.below(20), rng.next());
      p.calls.push_back(c);
    }
    mutate(&p, s);
    std::string why;
    ASSERT_TRUE(is_valid(p, &why)) << why;
    ASSERT_LE(p.calls.size(), static_cast<size_t>(kMaxCalls));
  }
}

TEST(MutateValidity, EveryOperatorIsReachedFromMutate) {
  std::map<std::string, int> count;
  std::vector<Program> seeds = all_seeds();
  for (uint64_t s = 0; s < 2000; ++s) {
    Program p = seeds[s % seeds.size()];
    for (MutationOp op : mutate(&p, s, {}, &seeds[(s + 1) % seeds.size()]).ops)
      ++count[mutation_op_name(op)];
  }
  for (int i = 0; i < static_cast<int>(MutationOp::kCount); ++i)
    EXPECT_GT(count[mutation_op_name(static_cast<MutationOp>(i))], 20)
        << mutation_op_name(static_cast<MutationOp>(i));
  // insert_call (100) is drawn more often than remove_call (20).
  EXPECT_GT(count["insert_call"], 2 * count["remove_call"]);
}

TEST(MutateValidity, ZeroWeightDisablesAnOperator) {
  MutateOptions opts;
  opts.insert_call = 0;
  opts.splice = 0;
  opts.duplicate_call = 0;
  for (uint64_t s = 0; s < 500; ++s) {
    Program p = media_seed();
    size_t before = p.calls.size();
    for (MutationOp op : mutate(&p, s, opts).ops) {
      EXPECT_NE(op, MutationOp::kInsertCall);
      EXPECT_NE(op, MutationOp::kSplice);
      EXPECT_NE(op, MutationOp::kDuplicateCall);
    }
    EXPECT_LE(p.calls.size(), before);  // nothing can add a call
  }
}

TEST(MutateValidity, TargetRestrictionsHold) {
  // An mc_ioctl_fuzzer-like target: media nodes, fd calls only, one thread.
  MutateOptions opts = validating();
  opts.threads = 1;
  opts.node_kinds = 1u << static_cast<int>(NodeKind::kMedia);
  opts.call_kinds = 0;
  for (CallKind k : {CallKind::kOpen, CallKind::kClose, CallKind::kDup, CallKind::kIoctl})
    opts.call_kinds |= 1u << static_cast<int>(k);
  Program seed;
  seed.calls = {open_call(NodeKind::kMedia), ioctl_call(0, "MEDIA_IOC_DEVICE_INFO")};
  for (uint64_t s = 0; s < 300; ++s) {
    Program p = seed;
    for (int round = 0; round < 10; ++round) mutate(&p, s * 10 + round, opts);
    for (const Call& c : p.calls) {
      EXPECT_EQ(c.thread, 0);
      EXPECT_TRUE(opts.call_kinds & (1u << static_cast<int>(c.kind))) << call_kind_name(c.kind);
      if (c.kind == CallKind::kOpen) EXPECT_EQ(c.node.kind, NodeKind::kMedia);
      if (c.kind == CallKind::kIoctl) EXPECT_EQ(ioctl_table()[c.ioctl.desc].node, NodeKind::kMedia);
    }
  }
}

TEST(MutateValidity, SameSeedSameResult) {
  std::vector<Program> seeds = all_seeds();
  std::set<std::string> distinct;
  for (uint64_t s = 0; s < 200; ++s) {
    const Program& seed = seeds[s % seeds.size()];
    const Program& donor = seeds[(s + 2) % seeds.size()];
    Program a = seed, b = seed;
    MutationLog la = mutate(&a, s, {}, &donor);
    MutationLog lb = mutate(&b, s, {}, &donor);
    EXPECT_EQ(a, b);
    EXPECT_EQ(la.str(), lb.str());
    EXPECT_EQ(crossover(seed, donor, s), crossover(seed, donor, s));
    distinct.insert(la.str() + "/" + std::to_string(a.calls.size()));
  }
  EXPECT_GT(distinct.size(), 50u);  // and different seeds differ
}

TEST(MutateValidity, DifferentSeedsGiveDifferentPrograms) {
  int differ = 0;
  Program first = media_seed();
  mutate(&first, 0);
  for (uint64_t s = 1; s < 100; ++s) {
    Program p = media_seed();
    mutate(&p, s);
    differ += !(p == first);
  }
  EXPECT_GE(differ, 95);
}

}  // namespace
}  // namespace mcf::fuzz
