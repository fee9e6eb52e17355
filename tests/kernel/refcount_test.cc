// refcount_t and kref: semantics and the three lib/refcount.c warnings.
#include "core/kernel/refcount.h"

#include <gtest/gtest.h>

namespace mcf {
namespace {

TEST(Refcount, GetPutRelease) {
  static int released;
  released = 0;
  kref k;
  kref_init(&k, "test_object");
  kref_get(&k);
  EXPECT_EQ(kref_read(&k), 2u);
  EXPECT_EQ(kref_put(&k, [](kref*) { ++released; }), 0);
  EXPECT_EQ(released, 0);
  EXPECT_EQ(kref_put(&k, [](kref*) { ++released; }), 1);
  EXPECT_EQ(released, 1);
}

// R11: a count that reached zero never rises again through get-unless-zero.
TEST(Refcount, R11_GetUnlessZeroFailsAtZero) {
  kref k;
  kref_init(&k, "test_object");
  EXPECT_TRUE(kref_get_unless_zero(&k));
  EXPECT_EQ(kref_read(&k), 2u);
  kref_put(&k, [](kref*) {});
  kref_put(&k, [](kref*) {});
  EXPECT_EQ(kref_read(&k), 0u);
  EXPECT_FALSE(kref_get_unless_zero(&k));
  EXPECT_EQ(kref_read(&k), 0u);
}

using RefcountDeathTest = ::testing::Test;

// R11: a plain get on a zero count is the kernel's "addition on 0" warning.
TEST_F(RefcountDeathTest, R11_IncrementFromZeroIsReported) {
  EXPECT_DEATH(
      {
        kref k;
        kref_init(&k, "test_object");
        kref_put(&k, [](kref*) {});
        kref_get(&k);
      },
      "REPORT refcount-add-on-zero: refcount_t: addition on 0; use-after-free");
}

TEST_F(RefcountDeathTest, UnderflowIsReported) {
  EXPECT_DEATH(
      {
        kref k;
        kref_init(&k, "test_object");
        kref_put(&k, [](kref*) {});
        kref_put(&k, [](kref*) {});
      },
      "REPORT refcount-underflow: refcount_t: underflow; use-after-free(.|\n)*object: "
      "test_object");
}

TEST_F(RefcountDeathTest, SaturationIsReported) {
  EXPECT_DEATH(
      {
        refcount_t r;
        r.init(1, "test_object");
        r.set(INT_MAX);
        r.inc();
      },
      "REPORT refcount-saturated: refcount_t: saturated; leaking memory");
}

TEST_F(RefcountDeathTest, DecrementToZeroWithoutTestIsReported) {
  EXPECT_DEATH(
      {
        refcount_t r;
        r.init(1, "test_object");
        r.dec();
      },
      "REPORT refcount-underflow");
}

}  // namespace
}  // namespace mcf
