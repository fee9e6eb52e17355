// The cost of a scheduling point in deterministic mode, printed (no timing
// assertion: the figures go to the notes): points/s of two threads passing
// hook points with no scheduler (one thread), under the scheduler without switching
// (non-preemptive), and switching threads at every point (the baton handoff).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "core/kernel/hooks.h"
#include "fuzzers/sched/strategy.h"
#include "tests/sched/sched_fixture.h"

namespace mcf::fuzz {
namespace {

constexpr int kPointsPerThread = 20000;

// Test-only: hands the baton to the next runnable thread at every point.
class SwitchEveryPoint : public Strategy {
 public:
  int at_point(const PointKey& k, unsigned runnable) override {
    return first_runnable_from(k.thread + 1, runnable);
  }
  int at_block(int current, unsigned runnable) override {
    return first_runnable_from(current + 1, runnable);
  }
};

std::vector<std::function<void()>> two_threads_of_points() {
  auto points = [] {
    for (int i = 0; i < kPointsPerThread; ++i) hook(HookKind::kRefGet, "test_speed", nullptr);
  };
  return {points, points};
}

template <typename Fn>
double seconds_of(Fn fn) {
  auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(SchedSpeedTest, PointsPerSecondWithoutAndWithABatonHandoffAtEveryPoint) {
  const double points = 2.0 * kPointsPerThread;
  // Without a scheduler: the same points on the calling thread (a hook with
  // no sink installed is one atomic load).
  double free_s = seconds_of([] {
    for (const auto& fn : two_threads_of_points()) fn();
  });
  testing::FixtureRun quiet, busy;
  double quiet_s = seconds_of(
      [&] { quiet = testing::run_deterministic(two_threads_of_points(), std::vector<SchedStep>{}); });
  SwitchEveryPoint every;
  double busy_s =
      seconds_of([&] { busy = testing::run_deterministic(two_threads_of_points(), &every); });
  EXPECT_EQ(quiet.preemptions, 0);
  // Every point but the last one of each thread hands the baton over.
  EXPECT_GE(busy.preemptions, 2 * kPointsPerThread - 2);
  std::printf("[speed] %d points: no scheduler %.0f points/s; deterministic without switching "
              "%.0f points/s (%.2f us/point); switching at every point %.0f points/s "
              "(%.2f us/point, %d handoffs)\n",
              2 * kPointsPerThread, points / free_s, points / quiet_s, 1e6 * quiet_s / points,
              points / busy_s, 1e6 * busy_s / points, busy.preemptions);
}

}  // namespace
}  // namespace mcf::fuzz
