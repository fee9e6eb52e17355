// User memory (core/kernel/uaccess.h): copies are checked against the calling
// process's arena as a whole; anything outside -- below, past or straddling
// the end, wrapping around, absurd sizes, or no process at all -- copies
// nothing and returns n (the caller turns that into -EFAULT).
#include "core/kernel/uaccess.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>

#include "core/fs/process.h"
#include "core/kernel/lock.h"
#include "core/kernel/task.h"
#include "tests/support/live_objects_check.h"
#include "tests/support/test_chardev.h"

namespace mcf {
namespace {

constexpr user_addr_t kBase = 0x10000;
constexpr size_t kSize = 256;
constexpr size_t kHuge = std::numeric_limits<size_t>::max();

// Acts as if the calling task were inside a system call of `arena`'s process.
class MmScope {
 public:
  explicit MmScope(user_arena* arena) : saved_(current()->mm) { current()->mm = arena; }
  ~MmScope() { current()->mm = saved_; }

 private:
  user_arena* saved_;
};

class UaccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    for (size_t i = 0; i < kSize; ++i) pattern[i] = static_cast<uint8_t>(i ^ 0x5a);
    ASSERT_TRUE(arena.write(kBase, pattern.data(), kSize));
  }
  // The arena still holds exactly the pattern (nothing was written).
  bool arena_untouched() {
    std::array<uint8_t, kSize> now{};
    return arena.read(kBase, now.data(), kSize) && now == pattern;
  }

  user_arena arena{kBase, kSize};
  std::array<uint8_t, kSize> pattern{};
};
using UaccessDeathTest = UaccessTest;

TEST_F(UaccessTest, ArenaContains) {
  EXPECT_TRUE(arena.contains(kBase, kSize));
  EXPECT_TRUE(arena.contains(kBase + kSize, 0));
  EXPECT_TRUE(arena.contains(kBase + kSize - 1, 1));
  EXPECT_FALSE(arena.contains(kBase + kSize, 1));
  EXPECT_FALSE(arena.contains(kBase - 1, 1));
  EXPECT_FALSE(arena.contains(kBase, kSize + 1));
  EXPECT_FALSE(arena.contains(kBase + 1, kHuge));
  EXPECT_FALSE(arena.contains(std::numeric_limits<user_addr_t>::max(), 2));
}

TEST_F(UaccessTest, NoMmOutsideASystemCall) {
  ASSERT_EQ(current()->mm, nullptr);
  uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(copy_from_user(buf, kBase, sizeof(buf)), sizeof(buf));
  EXPECT_EQ(buf[0], 1);  // untouched
  EXPECT_EQ(copy_to_user(kBase, buf, sizeof(buf)), sizeof(buf));
  EXPECT_EQ(clear_user(kBase, sizeof(buf)), sizeof(buf));
  EXPECT_TRUE(arena_untouched());
}

TEST_F(UaccessTest, CopiesInsideTheArena) {
  MmScope mm(&arena);
  uint8_t buf[16];
  EXPECT_EQ(copy_from_user(buf, kBase + 32, sizeof(buf)), 0u);
  EXPECT_EQ(std::memcmp(buf, pattern.data() + 32, sizeof(buf)), 0);

  const char msg[] = "hello, kernel";
  EXPECT_EQ(copy_to_user(kBase + kSize - sizeof(msg), msg, sizeof(msg)), 0u);  // up to the end
  char back[sizeof(msg)];
  ASSERT_TRUE(arena.read(kBase + kSize - sizeof(msg), back, sizeof(back)));
  EXPECT_STREQ(back, msg);

  EXPECT_EQ(clear_user(kBase, 4), 0u);
  uint32_t word = 1;
  EXPECT_EQ(copy_from_user(&word, kBase, 4), 0u);
  EXPECT_EQ(word, 0u);

  // The whole arena at once.
  std::array<uint8_t, kSize> all{};
  EXPECT_EQ(copy_from_user(all.data(), kBase, kSize), 0u);
}

TEST_F(UaccessTest, ZeroLengthCopiesSucceedInsideAndAtTheEnd) {
  MmScope mm(&arena);
  uint8_t buf[1] = {9};
  EXPECT_EQ(copy_from_user(buf, kBase, 0), 0u);
  EXPECT_EQ(copy_from_user(buf, kBase + kSize, 0), 0u);
  EXPECT_EQ(copy_to_user(kBase + kSize, buf, 0), 0u);
  EXPECT_EQ(buf[0], 9);
}

TEST_F(UaccessTest, OutOfRangeCopiesNothing) {
  MmScope mm(&arena);
  uint8_t buf[8];
  std::memset(buf, 0xEE, sizeof(buf));
  EXPECT_EQ(copy_from_user(buf, kBase - 8, 8), 8u);  // below
  EXPECT_EQ(copy_from_user(buf, kBase + kSize, 1), 1u);  // just past
  EXPECT_EQ(copy_from_user(buf, 0, 8), 8u);  // NULL
  for (uint8_t b : buf) EXPECT_EQ(b, 0xEE);
  EXPECT_EQ(copy_to_user(kBase - 1, buf, 1), 1u);
  EXPECT_EQ(copy_to_user(kBase + kSize, buf, 8), 8u);
  EXPECT_EQ(clear_user(kBase - 4, 4), 4u);
  EXPECT_TRUE(arena_untouched());
}

// A range that starts inside and ends outside is all-or-nothing: no partial
// copy into or out of the arena.
TEST_F(UaccessTest, StraddlingTheEndCopiesNothing) {
  MmScope mm(&arena);
  uint8_t buf[8];
  std::memset(buf, 0xEE, sizeof(buf));
  EXPECT_EQ(copy_from_user(buf, kBase + kSize - 4, 8), 8u);
  for (uint8_t b : buf) EXPECT_EQ(b, 0xEE);
  EXPECT_EQ(copy_to_user(kBase + kSize - 4, buf, 8), 8u);
  EXPECT_EQ(clear_user(kBase + kSize - 4, 8), 8u);
  // Straddling the start too.
  EXPECT_EQ(copy_to_user(kBase - 4, buf, 8), 8u);
  EXPECT_TRUE(arena_untouched());
}

// A size no arena can hold fails without touching the (small) destination
// and without trying to allocate it.
TEST_F(UaccessTest, HugeSizesFail) {
  MmScope mm(&arena);
  uint8_t buf[8];
  std::memset(buf, 0xEE, sizeof(buf));
  EXPECT_EQ(copy_from_user(buf, kBase, kHuge), kHuge);
  EXPECT_EQ(copy_from_user(buf, kBase, size_t{1} << 40), size_t{1} << 40);
  EXPECT_EQ(copy_from_user(buf, kBase, kSize + 1), kSize + 1);
  for (uint8_t b : buf) EXPECT_EQ(b, 0xEE);
  EXPECT_EQ(copy_to_user(kBase, buf, kHuge), kHuge);
  EXPECT_EQ(copy_to_user(kBase, buf, size_t{1} << 40), size_t{1} << 40);
  EXPECT_EQ(clear_user(kBase, kHuge), kHuge);
  EXPECT_EQ(clear_user(kBase, size_t{1} << 40), size_t{1} << 40);
  EXPECT_TRUE(arena_untouched());
}

// addr + n wrapping past 2^64 must not look like a small in-range copy.
TEST_F(UaccessTest, AddressOverflowFails) {
  MmScope mm(&arena);
  uint8_t buf[8];
  constexpr user_addr_t kTop = std::numeric_limits<user_addr_t>::max();
  EXPECT_EQ(copy_from_user(buf, kTop, 2), 2u);
  EXPECT_EQ(copy_from_user(buf, kTop - 3, 8), 8u);
  // base + 8 + (2^64 - 8) wraps to base: an "empty" range if computed naively.
  size_t wrap = static_cast<size_t>(0) - 8;
  EXPECT_EQ(copy_to_user(kBase + 8, buf, wrap), wrap);
  EXPECT_EQ(copy_from_user(buf, kBase + 8, wrap), wrap);
  EXPECT_EQ(clear_user(kBase + 8, wrap), wrap);
  EXPECT_TRUE(arena_untouched());
}

TEST_F(UaccessTest, HarnessSideAccessIsCheckedToo) {
  uint8_t buf[4] = {};
  EXPECT_FALSE(arena.write(kBase + kSize - 2, buf, 4));
  EXPECT_FALSE(arena.read(kBase - 1, buf, 4));
  EXPECT_FALSE(arena.read(kBase, buf, kHuge));
  EXPECT_TRUE(arena.read(kBase, buf, 4));
  EXPECT_TRUE(arena_untouched());
}

// Inside a real system call the task's mm is the calling process's arena, and
// only for the duration of the call.
struct counter_arg {
  uint32_t in;
  uint32_t out;
};
user_arena* g_seen_mm = nullptr;

long counter_ioctl(file*, unsigned cmd, unsigned long arg) {
  g_seen_mm = current()->mm;
  counter_arg a;
  if (copy_from_user(&a, arg, sizeof(a)) != 0) return -EFAULT;
  a.out = a.in + cmd;
  if (copy_to_user(arg, &a, sizeof(a)) != 0) return -EFAULT;
  return 0;
}

TEST_F(UaccessTest, SystemCallsUseTheirProcessArena) {
  auto* tc = ::mcf::testing::test_chardev_create("uaccess_counter", {.ioctl = counter_ioctl});
  ASSERT_NE(tc, nullptr);
  {
    process p1;  // default arena
    process p2(4096, 0x70000000);
    int fd1 = p1.open("/dev/uaccess_counter", O_RDWR_);
    int fd2 = p2.open("/dev/uaccess_counter", O_RDWR_);
    ASSERT_GE(fd1, 0);
    ASSERT_GE(fd2, 0);

    const user_addr_t a1 = user_arena::kDefaultBase + 0x100;
    counter_arg in{41, 0};
    ASSERT_TRUE(p1.mem().write(a1, &in, sizeof(in)));
    EXPECT_EQ(p1.ioctl(fd1, 1, a1), 0);
    EXPECT_EQ(g_seen_mm, &p1.mem());
    counter_arg out{};
    ASSERT_TRUE(p1.mem().read(a1, &out, sizeof(out)));
    EXPECT_EQ(out.out, 42u);
    EXPECT_EQ(current()->mm, nullptr);  // restored after the call

    // p1's address means nothing in p2's arena.
    EXPECT_EQ(p2.ioctl(fd2, 1, a1), -EFAULT);
    EXPECT_EQ(g_seen_mm, &p2.mem());
    EXPECT_EQ(p2.ioctl(fd2, 1, 0x70000000 + 4096 - 4), -EFAULT);  // straddles the end
    ASSERT_TRUE(p2.mem().write(0x70000000, &in, sizeof(in)));
    EXPECT_EQ(p2.ioctl(fd2, 2, 0x70000000), 0);
    ASSERT_TRUE(p2.mem().read(0x70000000, &out, sizeof(out)));
    EXPECT_EQ(out.out, 43u);
  }
  ::mcf::testing::test_chardev_remove(tc);
  EXPECT_EQ(::mcf::testing::alive_objects(), "");
}

// copy_*_user may fault, so it may sleep: not in atomic context.
TEST_F(UaccessDeathTest, CopyFromUserUnderSpinLockIsReported) {
  SpinLock s("test.uaccess_spin");
  EXPECT_DEATH(
      {
        MmScope mm(&arena);
        SpinGuard g(&s);
        uint32_t v;
        copy_from_user(&v, kBase, sizeof(v));
      },
      "==mcfuzz== REPORT sleep-in-atomic: .*copy_from_user");
}

TEST_F(UaccessDeathTest, CopyToUserInIrqIsReported) {
  EXPECT_DEATH(
      {
        MmScope mm(&arena);
        current()->in_irq = true;
        uint32_t v = 0;
        copy_to_user(kBase, &v, sizeof(v));
      },
      "==mcfuzz== REPORT sleep-in-atomic: .*copy_to_user");
}

}  // namespace
}  // namespace mcf
