// Type-aware argument values (fuzzers/mutate/generate.h): each field type
// gets the values its name promises, and raw bytes go through the callback.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "fuzzers/mutate/generate.h"
#include "tests/fuzzers/mutate_seeds.h"

namespace mcf::fuzz {
namespace {

using namespace mcf::fuzz::testing;

const FieldDesc& field_of(const char* ioctl, const char* field) {
  const IoctlDesc& d = ioctl_table()[find_ioctl(ioctl)];
  for (const FieldDesc& f : d.fields)
    if (std::string(f.name) == field) return f;
  ADD_FAILURE() << ioctl << " has no field " << field;
  return d.fields[0];
}

bool listed(const FieldDesc& f, uint64_t v) {
  return std::find(f.values.begin(), f.values.end(), v) != f.values.end();
}

TEST(MutateFields, EnumIsAListedValueMostOfTheTimeAndSometimesNot) {
  const FieldDesc& f = field_of("VIDIOC_REQBUFS", "memory");
  Rng rng(1);
  MutateOptions opts;
  int in_list = 0;
  for (int i = 0; i < 1000; ++i) in_list += listed(f, mutate_field(f, V4L2_MEMORY_MMAP, {}, rng, opts));
  EXPECT_GE(in_list, 800);
  EXPECT_LT(in_list, 1000);  // and sometimes a value the driver must reject
}

TEST(MutateFields, FlagsAreOrsOfListedFlagsMostOfTheTime) {
  const FieldDesc& f = field_of("MEDIA_IOC_SETUP_LINK", "flags");
  uint64_t all = 0;
  for (uint64_t v : f.values) all |= v;
  Rng rng(2);
  MutateOptions opts;
  int ors = 0;
  uint64_t v = MEDIA_LNK_FL_ENABLED;
  for (int i = 0; i < 1000; ++i) {
    v = mutate_field(f, v, {}, rng, opts);
    ors += (v & ~all) == 0;
    if ((v & ~all) != 0) v = 0;  // start the walk again from a valid value
  }
  EXPECT_GE(ors, 800);
}

TEST(MutateFields, IntsHitTheBoundariesAndNeighbours) {
  const FieldDesc& f = field_of("VIDIOC_S_FMT", "fmt.pix.width");
  ASSERT_EQ(f.size, 4);
  Rng rng(3);
  MutateOptions opts;
  std::set<uint64_t> seen;
  for (int i = 0; i < 3000; ++i) {
    uint64_t v = mutate_field(f, 640, {}, rng, opts);
    EXPECT_LE(v, 0xffffffffu);  // a 4-byte field stays 4 bytes
    seen.insert(v);
  }
  for (uint64_t want : {0ull, 1ull, 2ull, 0x7fffffffull, 0xffffffffull, 639ull, 641ull})
    EXPECT_TRUE(seen.count(want)) << std::hex << want;
}

TEST(MutateFields, CountsAreMostlySmall) {
  const FieldDesc& f = field_of("MEDIA_IOC_G_TOPOLOGY", "num_pads");
  Rng rng(4);
  MutateOptions opts;
  int small = 0;
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    uint64_t v = mutate_field(f, 4, {}, rng, opts);
    small += v <= 8;
    seen.insert(v);
  }
  EXPECT_GE(small, 600);
  EXPECT_TRUE(seen.count(0) && seen.count(1) && seen.count(0xffffffff));
}

TEST(MutateFields, EntityIdsArePlausibleAndUseTheNextFlagAndIdsSeenInTheProgram) {
  const FieldDesc& f = field_of("MEDIA_IOC_SETUP_LINK", "source.entity");
  Program p;
  p.calls = {ioctl_call(-1, "MEDIA_IOC_ENUM_ENTITIES", {200})};  // an id no other rule gives
  Rng rng(5);
  MutateOptions opts;
  int plausible = 0, next = 0, seen = 0;
  for (int i = 0; i < 1000; ++i) {
    uint64_t v = mutate_field(f, 1, p, rng, opts);
    plausible += (v & ~static_cast<uint64_t>(MEDIA_ENT_ID_FLAG_NEXT)) < 16;
    next += (v & MEDIA_ENT_ID_FLAG_NEXT) != 0 && (v & 0xffff) < 16;
    seen += v == 200;
  }
  EXPECT_GE(plausible, 550);
  EXPECT_GE(next, 100);
  EXPECT_GE(seen, 100);
}

TEST(MutateFields, PadAndBufferIndicesAreSmall) {
  for (auto [ioctl, field] : {std::pair{"VIDIOC_SUBDEV_G_FMT", "pad"}, std::pair{"VIDIOC_QBUF", "index"}}) {
    const FieldDesc& f = field_of(ioctl, field);
    Rng rng(6);
    MutateOptions opts;
    int small = 0;
    for (int i = 0; i < 1000; ++i) small += mutate_field(f, 0, {}, rng, opts) < 8;
    EXPECT_GE(small, 650) << ioctl;
  }
}

TEST(MutateFields, UserPointersAreArenaOffsetsAndSometimesRawNullFourOrHuge) {
  const FieldDesc& f = field_of("MEDIA_IOC_G_TOPOLOGY", "ptr_pads");
  Rng rng(7);
  MutateOptions opts;
  int in_region = 0;
  std::set<uint64_t> raw;
  for (int i = 0; i < 2000; ++i) {
    uint64_t v = mutate_field(f, 0x100, {}, rng, opts);
    if (user_ptr_is_raw(v)) raw.insert(user_ptr_value(v));
    else in_region += v < opts.user_data_size;
  }
  EXPECT_GE(in_region, 1400);
  EXPECT_TRUE(raw.count(0));  // NULL
  EXPECT_TRUE(raw.count(4));
  EXPECT_TRUE(std::any_of(raw.begin(), raw.end(), [](uint64_t v) { return v >= (1ull << 47); }));
}

TEST(MutateFields, RawBytesGoThroughTheCallbackWithTheFieldsSize) {
  const FieldDesc& f = field_of("VIDIOC_S_FMT", "fmt.pix.height");
  MutateOptions opts;
  opts.raw_bytes_pct = 10000;  // (almost) always raw
  int calls = 0;
  opts.raw_mutate = [&](uint8_t* data, size_t size, size_t max_size) {
    ++calls;
    EXPECT_EQ(size, 4u);
    EXPECT_EQ(max_size, 4u);
    EXPECT_EQ(data[0], 480 & 0xff);  // the field's current bytes, little-endian
    EXPECT_EQ(data[1], 480 >> 8);
    std::fill(data, data + size, 0xab);
    return size;
  };
  Rng rng(8);
  int raw = 0;
  for (int i = 0; i < 100; ++i) raw += mutate_field(f, 480, {}, rng, opts) == 0xababababu;
  EXPECT_GE(calls, 95);
  EXPECT_EQ(raw, calls);
}

TEST(MutateFields, GeneratedIoctlsHaveEveryFieldAndMatchTheNodeKind) {
  MutateOptions opts;
  Rng rng(9);
  for (int i = 0; i < 500; ++i) {
    uint16_t desc = pick_ioctl(NodeKind::kSubdev, rng, opts);
    IoctlArg a = gen_ioctl_arg(desc, {}, rng, opts);
    EXPECT_EQ(a.fields.size(), ioctl_table()[desc].fields.size());
  }
  opts.node_kinds = 1u << static_cast<int>(NodeKind::kMedia);
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(ioctl_table()[pick_ioctl(NodeKind::kVideo, rng, opts)].node, NodeKind::kMedia);
}

TEST(MutateFields, SameSeedSameValues) {
  const FieldDesc& f = field_of("VIDIOC_SUBDEV_S_SELECTION", "r.width");
  Rng a(42), b(42);
  MutateOptions opts;
  for (int i = 0; i < 100; ++i) EXPECT_EQ(mutate_field(f, i, {}, a, opts), mutate_field(f, i, {}, b, opts));
}

}  // namespace
}  // namespace mcf::fuzz
