// The binary form (fuzzers/prog/encoding_binary.h): the layout byte for
// byte, round trips, and the total decoder on random, truncated, mutated and
// oversized input.
#include "fuzzers/prog/encoding_binary.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/fs/file.h"
#include "fuzzers/prog/encoding_text.h"
#include "fuzzers/prog/ioctl_desc.h"
#include "fuzzers/prog/prog.h"
#include "tests/fuzzers/encoding_test_util.h"

namespace mcf::fuzz {
namespace {

using Bytes = std::vector<uint8_t>;
using testing::covering_programs;

uint8_t row_of(const char* name) {
  int row = find_ioctl(name);
  EXPECT_GE(row, 0) << name;
  EXPECT_LT(row, 128) << "the tables below write the row as a one-byte varint";
  return static_cast<uint8_t>(row);
}

// The limits every decoded program must respect, with a message when it
// does not (empty when it does).
std::string check_decoded(const Program& p) {
  std::string why;
  if (!is_valid(p, &why)) return "not valid: " + why;
  if (p.calls.size() > static_cast<size_t>(kMaxCalls)) return "more than kMaxCalls calls";
  for (const Call& c : p.calls)
    if (c.ioctl.fields.size() > static_cast<size_t>(kMaxFields)) return "more than kMaxFields fields";
  return "";
}

// --------------------------------------------------------------------------
// The layout, byte for byte (driver row 0, so any driver table).

struct LayoutCase {
  std::string text;  // what the program is, in text form ($D = driver row 0)
  Bytes bytes;       // its encoding
};

std::vector<LayoutCase> layout_cases() {
  const uint8_t topo = row_of("MEDIA_IOC_G_TOPOLOGY");
  const uint8_t link = row_of("MEDIA_IOC_SETUP_LINK");
  return {
      {"", {0xAF}},
      // head 0x1A = register_driver (10) | t1; driver row 0.
      {"t1 register_driver($D)\n", {0xAF, 0x1A, 0x00}},
      // head 0x40 = open (0) | fail_nth; fail_nth 3; driver 0, id 3, video (1), index 2;
      // flags 0x802 as LEB128 82 10.
      {"t0 r0 = open($D.3:video[2], O_RDWR|O_NONBLOCK) fail_nth=3\n",
       {0xAF, 0x40, 0x03, 0x00, 0x03, 0x01, 0x02, 0x82, 0x10}},
      // head 0x31 = close (1) | t3; fd+1 = 0: no fd.
      {"t3 close(-1)\n", {0xAF, 0x31, 0x00}},
      // open, then ioctl (3) on r0 (fd+1 = 1), row, 6 fields (trailing zeros
      // dropped); user pointers rotated: user(0x100) = 0x200 = 80 04,
      // NULL = 01, ptr(0x4) = 09.
      {"t0 r0 = open($D.0:media[0], O_RDWR)\n"
       "t0 ioctl(r0, MEDIA_IOC_G_TOPOLOGY, {num_entities=16, ptr_entities=user(0x100), "
       "ptr_interfaces=NULL, ptr_pads=ptr(0x4), ptr_links=user(0x0)})\n",
       {0xAF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,  //
        0x03, 0x01, topo, 0x06, 0x10, 0x80, 0x04, 0x00, 0x01, 0x00, 0x09}},
      // ioctl with all fields zero: n = 0; then dup (2) of r0 on t1.
      {"t0 r0 = open($D.0:media[0], O_RDONLY)\nt0 ioctl(r0, MEDIA_IOC_SETUP_LINK)\n"
       "t1 r1 = dup(r0)\n",
       {0xAF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, link, 0x00, 0x12, 0x01}},
      // head 0xE4 = poll (4) | t2 | fail_nth | block; fail_nth 3, fd+1 1, events 3.
      {"t0 r0 = open($D.0:media[0], O_RDONLY)\nt2 poll(r0, POLLIN|POLLPRI, block) fail_nth=3\n",
       {0xAF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE4, 0x03, 0x01, 0x03}},
      // The schedule region at the end: one preemption step (thread, call,
      // kind: lock = 0, nth, next), count 1, trailer 5C D5.
      {"t1 register_driver($D)\nschedule: t0@1.lock#2 -> t1\n",
       {0xAF, 0x1A, 0x00, 0x00, 0x01, 0x00, 0x02, 0x01, 0x01, 0x5C, 0xD5}},
      // PCT: order t2 t0 t1 t3, two bits each from bit 0 = 0xD2; change
      // points 57 and 300 as u16le; count 0x80|2.
      {"t1 register_driver($D)\nschedule: pct t2>t0>t1>t3 change@57 change@300\n",
       {0xAF, 0x1A, 0x00, 0xD2, 0x39, 0x00, 0x2C, 0x01, 0x82, 0x5C, 0xD5}},
      // PCT without change points is still written (0xE4 = t0 t1 t2 t3).
      {"t1 register_driver($D)\nschedule: pct t0>t1>t2>t3\n",
       {0xAF, 0x1A, 0x00, 0xE4, 0x80, 0x5C, 0xD5}},
      // bind 5, unbind 6, plug 7, unplug 8, irq 9 (t3, line 7), unregister_driver 11.
      {"t0 bind($D.1)\nt1 unbind($D.1)\nt2 plug($D.2)\nt3 unplug($D.2)\nt3 irq($D.5, 7)\n"
       "t0 unregister_driver($D)\n",
       {0xAF, 0x05, 0x00, 0x01, 0x16, 0x00, 0x01, 0x27, 0x00, 0x02, 0x38, 0x00, 0x02, 0x39, 0x00,
        0x05, 0x07, 0x0B, 0x00}},
  };
}

TEST(EncodingBinary, LayoutByteForByte) {
  for (const LayoutCase& tc : layout_cases()) {
    std::string text = testing::with_driver(tc.text);
    SCOPED_TRACE(text);
    absl::StatusOr<Program> p = program_from_text(text);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(program_to_binary(*p), tc.bytes);
    EXPECT_EQ(program_from_binary(tc.bytes), *p);
    // The magic is optional.
    EXPECT_EQ(program_from_binary(tc.bytes.data() + 1, tc.bytes.size() - 1), *p);
  }
}

// --------------------------------------------------------------------------
// Round trips.

TEST(EncodingBinary, CoveringProgramsRoundTrip) {
  for (const Program& p : covering_programs()) {
    ASSERT_TRUE(is_valid(p));
    Bytes b = program_to_binary(p);
    EXPECT_EQ(b[0], kBinaryMagic);
    EXPECT_EQ(program_from_binary(b), p) << program_to_text(p);
    EXPECT_FALSE(looks_like_text(b.data(), b.size()));
    // Text -> binary -> text is the identity on canonical programs.
    std::string text = program_to_text(p);
    absl::StatusOr<Program> parsed = program_from_text(text);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(program_to_text(program_from_binary(program_to_binary(*parsed))), text);
  }
}

// Random schedule regions of both strategies (the mutator's kind of input):
// each decodes to a valid program whose text and binary forms round-trip.
TEST(EncodingBinary, RandomScheduleRegionsRoundTripThroughTextAndBinary) {
  std::mt19937_64 rng(77);
  int pct = 0, preempt = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    Bytes b = {kBinaryMagic, 0x1A, 0x00};  // t1 register_driver(row 0)
    bool is_pct = rng() % 2;
    size_t n = rng() % (is_pct ? kMaxPctChanges + 1 : kMaxSchedSteps + 1);
    size_t payload = is_pct ? 1 + 2 * n : 5 * n;
    for (size_t i = 0; i < payload; ++i) b.push_back(static_cast<uint8_t>(rng()));
    b.push_back(static_cast<uint8_t>(is_pct ? (kSchedPctBit | n) : n));
    b.push_back(kSchedTrailer2);
    b.push_back(kSchedTrailer);
    Program p = program_from_binary(b);
    ASSERT_TRUE(is_valid(p));
    ASSERT_EQ(p.calls.size(), 1u) << "the region was read as calls";
    if (is_pct) {
      ASSERT_EQ(p.strategy, SchedStrategy::kPct);
      ASSERT_EQ(p.pct.changes.size(), n);
      ++pct;
    } else {
      ASSERT_EQ(p.schedule.size(), n);
      ++preempt;
    }
    EXPECT_EQ(program_from_binary(program_to_binary(p)), p);
    std::string text = program_to_text(p);
    absl::StatusOr<Program> back = program_from_text(text);
    ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
    ASSERT_EQ(*back, p) << text;
  }
  EXPECT_GT(pct, 1000);
  EXPECT_GT(preempt, 1000);
}

TEST(EncodingBinary, EncodingCanonicalizesFirst) {
  Call c;
  c.kind = CallKind::kClose;
  c.thread = 5;  // thread 1
  c.fd = 9;      // no such call: -1
  c.irq_line = 3;  // not used by close: dropped
  Program p{{c}};
  ASSERT_FALSE(is_valid(p));
  EXPECT_EQ(program_to_binary(p), (Bytes{0xAF, 0x11, 0x00}));
}

// --------------------------------------------------------------------------
// The total decoder.

TEST(EncodingBinary, EmptyAndMagicOnlyDecodeToTheEmptyProgram) {
  EXPECT_EQ(program_from_binary(nullptr, 0), Program{});
  EXPECT_EQ(program_from_binary(Bytes{}), Program{});
  EXPECT_EQ(program_from_binary(Bytes{kBinaryMagic}), Program{});
}

TEST(EncodingBinary, RandomBytesDecodeToValidProgramsAndReencodeStably) {
  std::mt19937_64 rng(20261126);
  int nonempty = 0;
  for (int iter = 0; iter < 100000; ++iter) {
    size_t len = iter % 1000 == 999 ? rng() % 8192 : rng() % 300;
    Bytes b(len);
    for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
    if (iter % 2 == 0 && !b.empty()) b[0] = kBinaryMagic;
    Program p = program_from_binary(b);
    std::string bad = check_decoded(p);
    if (!bad.empty()) FAIL() << "input " << iter << " of " << len << " bytes: " << bad;
    Bytes e1 = program_to_binary(p);
    Program q = program_from_binary(e1);
    if (!(q == p)) FAIL() << "input " << iter << ": decode(encode(decode(b))) != decode(b)";
    if (program_to_binary(q) != e1) FAIL() << "input " << iter << ": encode∘decode∘encode not stable";
    if (!p.calls.empty()) ++nonempty;
  }
  EXPECT_GT(nonempty, 90000);  // random input mostly means something
}

TEST(EncodingBinary, TruncationAtEveryByteDecodesToAPrefix) {
  for (const Program& p : covering_programs()) {
    Bytes e = program_to_binary(p);
    // ends[i]: the size of the encoding of the first i calls.
    std::vector<size_t> ends;
    for (size_t i = 0; i <= p.calls.size(); ++i)
      ends.push_back(program_to_binary(Program{{p.calls.begin(), p.calls.begin() + i}}).size());
    size_t complete = 0;
    for (size_t k = 0; k <= e.size(); ++k) {
      while (complete < p.calls.size() && ends[complete + 1] <= k) ++complete;
      Program q = program_from_binary(e.data(), k);
      ASSERT_EQ(check_decoded(q), "") << "cut at " << k;
      Program want{{p.calls.begin(), p.calls.begin() + complete}};
      ASSERT_EQ(q, want) << "cut at " << k << " of " << e.size();
    }
    EXPECT_EQ(complete, p.calls.size());
  }
}

TEST(EncodingBinary, MutatedEncodingsDecodeToValidPrograms) {
  std::mt19937_64 rng(7);
  const std::vector<Program> programs = covering_programs();
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes b = program_to_binary(programs[iter % programs.size()]);
    for (int flips = 1 + rng() % 4; flips > 0; --flips) {
      size_t at = rng() % b.size();
      switch (rng() % 3) {
        case 0: b[at] = static_cast<uint8_t>(rng()); break;
        case 1: b.erase(b.begin() + at); break;
        default: b.insert(b.begin() + at, static_cast<uint8_t>(rng())); break;
      }
      if (b.empty()) b.push_back(0);
    }
    Program p = program_from_binary(b);
    std::string bad = check_decoded(p);
    if (!bad.empty()) FAIL() << "mutation " << iter << ": " << bad;
    if (!(program_from_binary(program_to_binary(p)) == p)) FAIL() << "mutation " << iter;
  }
}

TEST(EncodingBinary, HugeInputsStopAtMaxCalls) {
  for (uint8_t fill : {0x00, 0x80, 0xFF, 0x03, 0x43}) {
    Bytes b(1 << 20, fill);
    Program p = program_from_binary(b);
    EXPECT_EQ(check_decoded(p), "") << int(fill);
    EXPECT_EQ(p.calls.size(), static_cast<size_t>(kMaxCalls)) << int(fill);
  }
}

TEST(EncodingBinary, FieldCountIsCappedAndTheRestStaysFramed) {
  // ioctl SETUP_LINK with n = 2^32-1 fields: kMaxFields are read (the row
  // keeps its 5), then the next byte is the next call: close(-1) on t3.
  Bytes b = {kBinaryMagic, 0x03, 0x00, row_of("MEDIA_IOC_SETUP_LINK"), 0xFF, 0xFF, 0xFF, 0xFF, 0x0F};
  for (int i = 0; i < kMaxFields; ++i) b.push_back(static_cast<uint8_t>(i + 1));
  b.push_back(0x31);
  b.push_back(0x00);
  Program p = program_from_binary(b);
  ASSERT_EQ(p.calls.size(), 2u);
  EXPECT_EQ(p.calls[0].kind, CallKind::kIoctl);
  EXPECT_EQ(p.calls[0].ioctl.fields, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(p.calls[1].kind, CallKind::kClose);
  EXPECT_EQ(p.calls[1].thread, 3);
  EXPECT_EQ(p.calls[1].fd, -1);
}

TEST(EncodingBinary, OutOfRangeOperandsAreReduced) {
  const size_t rows = ioctl_table().size();
  ASSERT_LT(rows + 3, 128u);
  // Head kind 15 is 15 % 12 = ioctl; desc beyond the table wraps; the fd
  // names the open before it; a 32-bit field keeps its low 32 bits; fd+1
  // beyond int16 is no fd.
  Bytes b = {kBinaryMagic, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00,         // open, node kind 7 % 3
             0x1F, 0x01, static_cast<uint8_t>(rows + 3), 0x01,          // ioctl row 3, one field
             0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F,  // 10-byte varint
             0x01, 0xFF, 0xFF, 0x7F};                                    // close, fd+1 = 2^21-1
  Program p = program_from_binary(b);
  ASSERT_EQ(check_decoded(p), "");
  ASSERT_EQ(p.calls.size(), 3u);
  EXPECT_EQ(p.calls[0].node.kind, NodeKind::kVideo);
  EXPECT_EQ(p.calls[1].kind, CallKind::kIoctl);
  EXPECT_EQ(p.calls[1].thread, 1);
  EXPECT_EQ(p.calls[1].fd, 0);
  EXPECT_EQ(p.calls[1].ioctl.desc, 3);
  const FieldDesc& f0 = ioctl_table()[3].fields[0];
  EXPECT_EQ(p.calls[1].ioctl.fields[0], f0.size == 4 ? 0xffffffffu : UINT64_MAX);
  EXPECT_EQ(p.calls[2].kind, CallKind::kClose);
  EXPECT_EQ(p.calls[2].fd, -1);
}

// --------------------------------------------------------------------------
// Inputs of a fuzz target: text or binary.

TEST(EncodingBinary, LooksLikeText) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"t0 close(-1)\n", true},  {"# seed\nt0 close(-1)", true}, {"\n  \t\r\nt3 irq", true},
      {"#", true},              {"", false},                    {"t", false},
      {"tx", false},            {"   ", false},                 {"\xAF\x31\x00", false},
      {"r0 = open", false},     {"T0 close(-1)", false},
  };
  for (const auto& [in, want] : cases) {
    EXPECT_EQ(looks_like_text(reinterpret_cast<const uint8_t*>(in.data()), in.size()), want)
        << "'" << in << "'";
  }
}

TEST(EncodingBinary, ProgramFromInputTakesTextOrBinary) {
  std::string text = testing::with_driver("t0 r0 = open($D.0:media[0], O_RDWR)\nt1 close(r0)\n");
  auto data = [](const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); };
  absl::StatusOr<Program> parsed = program_from_text(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(program_from_input(data(text), text.size()), *parsed);
  Bytes bin = program_to_binary(*parsed);
  EXPECT_EQ(program_from_input(bin.data(), bin.size()), *parsed);
  // Looks like text but is not a program: the bytes are decoded as binary.
  std::string junk = "t0 this is not a call";
  Program p = program_from_input(data(junk), junk.size());
  EXPECT_EQ(p, program_from_binary(data(junk), junk.size()));
  EXPECT_EQ(check_decoded(p), "");
}

}  // namespace
}  // namespace mcf::fuzz
