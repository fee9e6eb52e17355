// Object accounting (core/kernel/live_objects.h): Tracked<T> counts every
// instance wherever it lives, and live_objects_check_all_released() reports a
// model object alive after teardown.
#include "core/kernel/live_objects.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "tests/support/live_objects_check.h"

namespace mcf {
namespace {

struct lo_widget : Tracked<lo_widget> {
  static constexpr const char kObjName[] = "lo_widget";
  int value = 0;
};

struct lo_gadget : Tracked<lo_gadget> {
  static constexpr const char kObjName[] = "lo_gadget";
  lo_widget parts[3];  // embedded objects count as themselves
};

class LiveObjectsTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
  void TearDown() override { EXPECT_EQ(::mcf::testing::alive_objects(), ""); }
};
using LiveObjectsDeathTest = LiveObjectsTest;

TEST_F(LiveObjectsTest, ConstructionAndDestructionAreCounted) {
  long before_total = live_objects_total();
  {
    lo_widget on_stack;
    EXPECT_EQ(live_objects_count("lo_widget"), 1);
    auto on_heap = std::make_unique<lo_widget>();
    EXPECT_EQ(live_objects_count("lo_widget"), 2);
    EXPECT_EQ(live_objects_total(), before_total + 2);
    on_heap.reset();
    EXPECT_EQ(live_objects_count("lo_widget"), 1);
  }
  EXPECT_EQ(live_objects_count("lo_widget"), 0);
  EXPECT_EQ(live_objects_total(), before_total);
}

TEST_F(LiveObjectsTest, CopiesCountAndAssignmentDoesNot) {
  lo_widget a;
  a.value = 7;
  {
    lo_widget b(a);
    EXPECT_EQ(b.value, 7);
    EXPECT_EQ(live_objects_count("lo_widget"), 2);
    lo_widget c;
    c = a;
    EXPECT_EQ(c.value, 7);
    EXPECT_EQ(live_objects_count("lo_widget"), 3);
    std::vector<lo_widget> v(4);
    EXPECT_EQ(live_objects_count("lo_widget"), 7);
  }
  EXPECT_EQ(live_objects_count("lo_widget"), 1);
}

TEST_F(LiveObjectsTest, EmbeddedObjectsAreCountedPerType) {
  auto g = std::make_unique<lo_gadget>();
  EXPECT_EQ(live_objects_count("lo_gadget"), 1);
  EXPECT_EQ(live_objects_count("lo_widget"), 3);
  EXPECT_EQ(::mcf::testing::alive_objects(), "lo_gadget=1 lo_widget=3");
  std::map<std::string, long> snap = live_objects_snapshot();
  EXPECT_EQ(snap["lo_gadget"], 1);
  EXPECT_EQ(snap["lo_widget"], 3);
  g.reset();
  EXPECT_EQ(live_objects_count("lo_gadget"), 0);
  EXPECT_EQ(live_objects_count("lo_widget"), 0);
  // A type seen once stays in the snapshot, at zero.
  snap = live_objects_snapshot();
  ASSERT_EQ(snap.count("lo_gadget"), 1u);
  EXPECT_EQ(snap["lo_gadget"], 0);
}

TEST_F(LiveObjectsTest, UnknownTypeCountsZero) {
  EXPECT_EQ(live_objects_count("lo_never_constructed"), 0);
  EXPECT_EQ(live_objects_snapshot().count("lo_never_constructed"), 0u);
}

TEST_F(LiveObjectsTest, CountingIsThreadSafe) {
  auto churn = [] {
    for (int i = 0; i < 20000; ++i) {
      lo_widget w;
      auto h = std::make_unique<lo_widget>();
    }
  };
  std::thread a(churn), b(churn);
  a.join();
  b.join();
  EXPECT_EQ(live_objects_count("lo_widget"), 0);
}

TEST_F(LiveObjectsTest, CheckAllReleasedPassesWhenEverythingIsGone) {
  { lo_gadget g; }
  live_objects_check_all_released("at teardown");  // would abort otherwise
  EXPECT_EQ(live_objects_count("lo_gadget"), 0);
}

TEST_F(LiveObjectsDeathTest, LeakedObjectIsReported) {
  EXPECT_DEATH(
      {
        static lo_gadget* leaked = new lo_gadget;  // never freed
        (void)leaked;
        live_objects_check_all_released("at teardown");
      },
      "==mcfuzz== REPORT object-leak: objects alive at teardown: lo_gadget=1 lo_widget=3");
}

TEST_F(LiveObjectsDeathTest, LeakReportNamesOnlyLiveTypes) {
  { lo_widget gone; }
  EXPECT_DEATH(
      {
        static lo_widget* leaked = new lo_widget;
        (void)leaked;
        live_objects_check_all_released("after input 3");
      },
      "==mcfuzz== REPORT object-leak: objects alive after input 3: lo_widget=1\n");
}

}  // namespace
}  // namespace mcf
