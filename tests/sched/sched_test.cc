// The deterministic scheduler (fuzzers/sched): determinism, power against a
// test-only racy fixture (rates against real threads), the deadlock report,
// and the executor's deterministic mode on shipped corpus programs.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/kernel/hooks.h"
#include "core/kernel/lock.h"
#include "core/kernel/wait.h"
#include "fuzzers/exec/executor.h"
#include "fuzzers/mutate/mutate.h"
#include "fuzzers/prog/encoding_binary.h"
#include "fuzzers/prog/encoding_text.h"
#include "tests/sched/sched_fixture.h"

namespace mcf::fuzz {
namespace {

using testing::RacyLookup;
using testing::run_deterministic;
using testing::run_real_threads;

bool racy_bug_with(const std::vector<SchedStep>& schedule, std::string* trace = nullptr) {
  RacyLookup r;
  testing::FixtureRun run = run_deterministic(r.fns(), schedule);
  if (trace != nullptr) *trace = run.trace;
  return r.bug.load();
}

// The points of a trace, as schedule steps without `next`.
std::vector<SchedStep> trace_points(const std::string& trace) {
  static const std::regex re(R"(^t(\d) c(\d+) ([a-z]+)#(\d+) )");
  std::vector<SchedStep> out;
  std::istringstream in(trace);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, re)) continue;
    SchedStep s;
    s.thread = static_cast<uint8_t>(std::stoi(m[1]));
    s.call = static_cast<uint8_t>(std::stoi(m[2]));
    for (int k = 0; k < kHookKindCount; ++k)
      if (m[3] == hook_kind_name(static_cast<HookKind>(k))) s.kind = static_cast<HookKind>(k);
    s.nth = static_cast<uint8_t>(std::stoi(m[4]));
    out.push_back(s);
  }
  return out;
}

TEST(SchedDeterminismTest, FixtureGivesTheSameTraceEveryRun) {
  std::vector<SchedStep> schedule = {{0, 0, HookKind::kLockAcquire, 0, 1}};
  std::string first;
  bool bug = racy_bug_with(schedule, &first);
  ASSERT_FALSE(first.empty());
  for (int i = 0; i < 50; ++i) {
    std::string again;
    EXPECT_EQ(racy_bug_with(schedule, &again), bug);
    ASSERT_EQ(again, first) << "run " << i;
  }
}

TEST(SchedPowerTest, RacyLookupFoundWithinTwoPreemptionsAndReplays100Of100) {
  // 1. Enumerate schedules by preemption count (CHESS's iterative context
  //    bounding): 0, then each point of the default run x each other thread,
  //    then pairs of those.
  std::string trace;
  int tried = 1;
  std::vector<SchedStep> found;
  bool hit = racy_bug_with({}, &trace);
  std::vector<SchedStep> points = trace_points(trace);
  ASSERT_FALSE(points.empty());
  std::vector<SchedStep> singles;
  for (SchedStep p : points)
    for (uint8_t next = 0; next < 2; ++next)
      if (next != p.thread) {
        p.next = next;
        singles.push_back(p);
      }
  for (size_t i = 0; i < singles.size() && !hit; ++i) {
    ++tried;
    if (racy_bug_with({singles[i]})) {
      hit = true;
      found = {singles[i]};
    }
  }
  for (size_t i = 0; i < singles.size() && !hit; ++i)
    for (size_t j = 0; j < singles.size() && !hit; ++j) {
      if (i == j) continue;
      ++tried;
      if (racy_bug_with({singles[i], singles[j]})) {
        hit = true;
        found = {singles[i], singles[j]};
      }
    }
  ASSERT_TRUE(hit) << "not found in " << tried << " schedules";
  EXPECT_LE(tried, 50);
  // 2. The saved input (binary form, then text) replays it every time.
  Program saved;
  saved.schedule = found;
  std::vector<uint8_t> bytes = program_to_binary(saved);
  Program back = program_from_binary(bytes);
  ASSERT_EQ(back.schedule, found);
  auto text = program_from_text(program_to_text(saved));
  ASSERT_TRUE(text.ok());
  ASSERT_EQ(text->schedule, found);
  int det_hits = 0;
  for (int i = 0; i < 100; ++i) det_hits += racy_bug_with(back.schedule) ? 1 : 0;
  EXPECT_EQ(det_hits, 100);
  // 3. The same fixture on real threads.
  int real_hits = 0;
  const int kRealRuns = 1000;
  for (int i = 0; i < kRealRuns; ++i) {
    RacyLookup r;
    run_real_threads(r.fns());
    real_hits += r.bug.load() ? 1 : 0;
  }
  std::printf("[power] found after %d schedules (%s); deterministic replay %d/100; "
              "real threads %d/%d\n",
              tried, schedule_to_text(found).c_str(), det_hits, real_hits, kRealRuns);
  EXPECT_LT(real_hits * 100, kRealRuns * 100);  // reported, not asserted low: timing-dependent
}

// t0 holds a mutex and sleeps on wq_a; t1 needs the mutex to wake it.
void deadlock_fixture() {
  static Mutex m{"test_deadlock.mutex"};
  static wait_queue_head wq_a{"test_deadlock.wq_a"};
  static bool a = false;
  run_deterministic(
      {[] {
         current()->call = "holder";
         m.lock();
         wait_event(&wq_a, [] { return a; });
         m.unlock();
       },
       [] {
         current()->call = "waker";
         m.lock();
         a = true;
         wake_up(&wq_a);
         m.unlock();
       }},
      std::vector<SchedStep>{});
}

TEST(SchedDeadlockDeathTest, EveryThreadWaitingIsReportedWithPositions) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(deadlock_fixture(),
               "REPORT deadlock.*no thread can run: t0 call 0 \\(its call 0\\) \\[holder\\] waits "
               "on test_deadlock.wq_a; t1 call 1 \\(its call 0\\) \\[waker\\] waits for lock "
               "test_deadlock.mutex held by t0");
}

std::string corpus_text(const char* name) {
  std::string path = std::string(MCF_SOURCE_DIR) + "/corpus/lifetime_fuzzer/" + name;
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string results_text(const ExecResult& r) {
  std::string out;
  for (const CallResult& c : r.calls)
    out += std::string(call_status_name(c.status)) + ":" + std::to_string(c.ret) + " ";
  return out;
}

TEST(SchedExecTest, CorpusProgramsGiveTheSameTraceEveryRun) {
  for (const char* name : {"unbind_while_streaming.txt", "sensor_leaves.txt",
                           "drivers_come_and_go.txt"}) {
    auto parsed = program_from_text(corpus_text(name));
    ASSERT_TRUE(parsed.ok()) << name << ": " << parsed.status();
    for (int variant = 0; variant < 3; ++variant) {
      Program p = *parsed;
      // Variant 1: preempt each thread at its first call's entry.
      if (variant == 1)
        for (uint8_t t = 0; t < kMaxThreads; ++t)
          p.schedule.push_back(SchedStep{t, 0, HookKind::kCallEntry, 0,
                                         static_cast<uint8_t>((t + 1) % kMaxThreads)});
      // Variant 2: PCT, reversed priorities, three change points.
      if (variant == 2) {
        p.strategy = SchedStrategy::kPct;
        p.pct.order = {3, 2, 1, 0};
        p.pct.changes = {5, 40, 200};
      }
      ExecOptions o;
      o.mode = ExecMode::kDeterministic;
      o.keep_trace = true;
      ExecResult first = execute(p, o);
      ASSERT_FALSE(first.trace.empty());
      EXPECT_GT(first.sched_points, 0u);
      for (int i = 0; i < 10; ++i) {
        ExecResult again = execute(p, o);
        ASSERT_EQ(again.trace, first.trace) << name << " variant " << variant << " run " << i;
        ASSERT_EQ(results_text(again), results_text(first));
      }
      EXPECT_EQ(exec_last_trace(), first.trace);
    }
  }
}

TEST(SchedExecTest, ThroughputDeterministicVsRealThreads) {
  auto parsed = program_from_text(corpus_text("unbind_while_streaming.txt"));
  ASSERT_TRUE(parsed.ok());
  auto rate = [&](ExecMode mode) {
    ExecOptions o;
    o.mode = mode;
    auto start = std::chrono::steady_clock::now();
    int n = 0;
    while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500)) {
      execute(*parsed, o);
      ++n;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return n / s;
  };
  double det = rate(ExecMode::kDeterministic);
  double real = rate(ExecMode::kThreads);
  std::printf("[throughput] unbind_while_streaming: deterministic %.0f programs/s, real threads "
              "%.0f programs/s\n",
              det, real);
  EXPECT_GT(det, 0);
}

TEST(SchedEncodingTest, ScheduleRoundTripsAndIsBounded) {
  auto p = program_from_text("t0 plug(vimc.1)\nt1 unplug(vimc.1)\nschedule: t0@0.lock#2 -> t1, t1@0.put#0 -> t0\n");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->schedule.size(), 2u);
  EXPECT_EQ(p->schedule[0], (SchedStep{0, 0, HookKind::kLockAcquire, 2, 1}));
  EXPECT_EQ(program_to_text(*p),
            "t0 plug(vimc.1)\nt1 unplug(vimc.1)\nschedule: t0@0.lock#2 -> t1, t1@0.put#0 -> t0\n");
  EXPECT_EQ(program_from_binary(program_to_binary(*p)), *p);
  // The schedule region is read from the end: calls appended in the binary
  // form before it leave it as it was.
  std::vector<uint8_t> bytes = program_to_binary(*p);
  Program more = *p;
  more.calls.push_back(more.calls[0]);
  EXPECT_EQ(program_from_binary(program_to_binary(more)).schedule, p->schedule);
  // Bounded and reduced by canonicalize().
  Program big;
  for (int i = 0; i < 40; ++i) big.schedule.push_back(SchedStep{9, 200, static_cast<HookKind>(77), 3, 6});
  canonicalize(&big);
  EXPECT_EQ(big.schedule.size(), static_cast<size_t>(kMaxSchedSteps));
  EXPECT_TRUE(is_valid(big));
  EXPECT_FALSE(program_from_text("t0 plug(vimc.1)\nschedule: t0@0.nope#1 -> t1\n").ok());
}

TEST(SchedMutateTest, MutateScheduleKeepsProgramsValidAndBounded) {
  auto p = program_from_text(corpus_text("unbind_while_streaming.txt"));
  ASSERT_TRUE(p.ok());
  Program q = *p;
  MutateOptions o;
  o.debug_validate = true;
  int applied = 0, pct = 0, preempt = 0;
  for (uint64_t seed = 0; seed < 500; ++seed) {
    Program before = q;
    if (apply_mutation(MutationOp::kMutateSchedule, &q, seed, o)) ++applied;
    ASSERT_TRUE(is_valid(q));
    ASSERT_LE(q.schedule.size(), static_cast<size_t>(kMaxSchedSteps));
    ASSERT_LE(q.pct.changes.size(), static_cast<size_t>(kMaxPctChanges));
    ASSERT_EQ(q.calls, before.calls);  // only the schedule changes
    ++(q.strategy == SchedStrategy::kPct ? pct : preempt);
  }
  EXPECT_GT(applied, 400);
  // Both strategies are visited (sched_switch_pct), each for many steps.
  EXPECT_GT(pct, 50);
  EXPECT_GT(preempt, 50);
  // Other operators keep the schedule, whichever strategy it has.
  for (SchedStrategy strategy : {SchedStrategy::kPreempt, SchedStrategy::kPct}) {
    for (uint64_t seed = 0; q.strategy != strategy; ++seed)
      apply_mutation(MutationOp::kMutateSchedule, &q, 1000 + seed, o);
    Program r = q;
    ASSERT_TRUE(apply_mutation(MutationOp::kRemoveCall, &r, 1, o));
    EXPECT_EQ(r.strategy, q.strategy);
    EXPECT_EQ(r.schedule, q.schedule);
    EXPECT_EQ(r.pct, q.pct);
  }
}

}  // namespace
}  // namespace mcf::fuzz
