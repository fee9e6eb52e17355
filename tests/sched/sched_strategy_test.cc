// The scheduling strategies (fuzzers/sched/strategy.h): PCT's semantics on a
// small fixture, and the figure the default strategy was chosen on: how many
// fuzz inputs each strategy needs to find the test-only racy fixture and
// deadlock fixture (tests/sched/sched_fixture.h), over 20 mutator seeds.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <vector>

#include "core/kernel/hooks.h"
#include "fuzzers/mutate/mutate.h"
#include "fuzzers/prog/encoding_text.h"
#include "tests/sched/sched_fixture.h"

namespace mcf::fuzz {
namespace {

using testing::OrderDeadlock;
using testing::RacyLookup;
using testing::run_deterministic;

// Two threads, three points each ("a0 a1 a2", "b0 b1 b2"); returns the
// order the points ran in.
std::string pct_order_of(const char* schedule_line) {
  auto p = program_from_text(std::string("t0 plug(vimc.1)\nt1 plug(vimc.1)\n") + schedule_line);
  EXPECT_TRUE(p.ok()) << p.status();
  std::string order;
  auto thread = [&order](char name) {
    return [&order, name] {
      for (int i = 0; i < 3; ++i) {
        hook(HookKind::kRefGet, "test_pct", nullptr);
        order += name;
        order += static_cast<char>('0' + i);
        order += ' ';
      }
    };
  };
  run_deterministic({thread('a'), thread('b')}, *p);
  return order;
}

TEST(SchedPctTest, HighestPriorityRunsAndChangePointsDemoteTheRunningThread) {
  // No change point: the highest priority runs to the end, then the next.
  EXPECT_EQ(pct_order_of("schedule: pct t0>t1>t2>t3\n"), "a0 a1 a2 b0 b1 b2 ");
  EXPECT_EQ(pct_order_of("schedule: pct t1>t0>t2>t3\n"), "b0 b1 b2 a0 a1 a2 ");
  // Point 1 (t1's second) demotes t1 below t0: t0 runs from there.
  EXPECT_EQ(pct_order_of("schedule: pct t1>t0>t2>t3 change@1\n"), "b0 a0 a1 a2 b1 b2 ");
  // Then point 2 (t0's first) demotes t0 to priority 1, above t1's 0: no switch.
  EXPECT_EQ(pct_order_of("schedule: pct t1>t0>t2>t3 change@1 change@2\n"),
            "b0 a0 a1 a2 b1 b2 ");
  // The same points in the other order: t0 gets 0, below t1's 1.
  EXPECT_EQ(pct_order_of("schedule: pct t1>t0>t2>t3 change@2 change@1\n"),
            "b0 b1 b2 a0 a1 a2 ");
  // A change point past the last point changes nothing.
  EXPECT_EQ(pct_order_of("schedule: pct t1>t0>t2>t3 change@999\n"), "b0 b1 b2 a0 a1 a2 ");
}

TEST(SchedPctTest, SameScheduleSameTrace) {
  auto p = program_from_text("t0 plug(vimc.1)\nt1 plug(vimc.1)\nschedule: pct t1>t0>t2>t3 change@2\n");
  ASSERT_TRUE(p.ok());
  RacyLookup first_fixture;
  std::string first = run_deterministic(first_fixture.fns(), *p).trace;
  for (int i = 0; i < 50; ++i) {
    RacyLookup r;
    ASSERT_EQ(run_deterministic(r.fns(), *p).trace, first) << "run " << i;
    EXPECT_EQ(r.bug.load(), first_fixture.bug.load());
  }
}

// ---- inputs to find, per strategy ----

constexpr int kSeeds = 20;
constexpr int kMaxInputs = 2000;

// The seed program of the search: one call on each fixture thread (their
// contents do not matter, the fixture's functions run instead), no schedule.
Program shell() {
  auto p = program_from_text("t0 plug(vimc.1)\nt1 unplug(vimc.1)\n");
  EXPECT_TRUE(p.ok());
  return *p;
}

// What a fuzzer without feedback tries: the seed program mutated by
// mutate() with only the schedule operator on, a new seed each input; new
// schedules are PCT with probability pct_pct (default: the mutator's).
Program nth_input(unsigned pct_pct, uint64_t seed, int input) {
  MutateOptions o;
  o.sched_pct_pct = pct_pct;
  o.insert_call = o.remove_call = o.duplicate_call = o.swap_calls = o.move_thread = 0;
  o.mutate_arg = o.change_node = o.change_open_flags = o.fail_nth = o.splice = 0;
  o.mutate_schedule = 1;
  if (pct_pct == 0 || pct_pct == 100) o.sched_switch_pct = 0;  // one strategy only
  Program p = shell();
  mutate(&p, seed * 1000003u + static_cast<uint64_t>(input), o);
  if (pct_pct == 0) EXPECT_EQ(p.strategy, SchedStrategy::kPreempt);
  if (pct_pct == 100) EXPECT_EQ(p.strategy, SchedStrategy::kPct);
  return p;
}

bool racy_found(const Program& p) {
  RacyLookup r;
  run_deterministic(r.fns(), p);
  return r.bug.load();
}

// The deadlock report aborts: each run in a child process, stderr dropped.
bool deadlock_found(const Program& p) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    OrderDeadlock d;
    run_deterministic(d.fns(), p);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status);
}

struct Figures {
  std::vector<int> inputs;  // per seed; kMaxInputs + 1 when not found
  int median() const {
    std::vector<int> v = inputs;
    std::sort(v.begin(), v.end());
    return (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
  std::string list() const {
    std::string out;
    for (int n : inputs) out += std::to_string(n) + " ";
    return out;
  }
};

Figures inputs_to_find(unsigned pct_pct, bool (*found)(const Program&)) {
  Figures f;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    int n = 1;
    while (n <= kMaxInputs && !found(nth_input(pct_pct, seed, n))) ++n;
    f.inputs.push_back(n);
  }
  return f;
}

TEST(SchedStrategyFiguresTest, InputsToFindRacyAndDeadlockFixturesPreemptVsPct) {
  struct Row {
    const char* fixture;
    bool (*found)(const Program&);
  } rows[] = {{"racy lookup", racy_found}, {"order deadlock", deadlock_found}};
  const unsigned mixed = MutateOptions().sched_pct_pct;
  for (const Row& row : rows) {
    Figures preempt = inputs_to_find(0, row.found);
    Figures pct = inputs_to_find(100, row.found);
    Figures dflt = inputs_to_find(mixed, row.found);
    std::printf("[strategy] %s, inputs to find over %d seeds: preempt median %d (%s); "
                "pct median %d (%s); default (%u%% pct) median %d (%s)\n",
                row.fixture, kSeeds, preempt.median(), preempt.list().c_str(), pct.median(),
                pct.list().c_str(), mixed, dflt.median(), dflt.list().c_str());
    for (int n : preempt.inputs) EXPECT_LE(n, kMaxInputs) << row.fixture << " preempt";
    for (int n : pct.inputs) EXPECT_LE(n, kMaxInputs) << row.fixture << " pct";
    for (int n : dflt.inputs) EXPECT_LE(n, kMaxInputs) << row.fixture << " default";
  }
}

}  // namespace
}  // namespace mcf::fuzz
