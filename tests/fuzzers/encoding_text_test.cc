// The text form (fuzzers/prog/encoding_text.h): tables of text and the
// program it means, canonical printing, round trips over every call kind and
// ioctl row, and parse errors that name the line and what was expected.
// "$D" in the texts below stands for driver row 0 (driver0_text()), so the
// tests hold for any driver table.
#include "fuzzers/prog/encoding_text.h"

#include <gtest/gtest.h>
#include <linux/media.h>
#include <linux/v4l2-subdev.h>
#include <linux/videodev2.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/fs/file.h"
#include "drivers/driver_table.h"
#include "fuzzers/prog/encoding_binary.h"
#include "fuzzers/prog/ioctl_desc.h"
#include "fuzzers/prog/prog.h"
#include "tests/fuzzers/encoding_test_util.h"

namespace mcf::fuzz {
namespace {

using testing::covering_programs;
using testing::driver0_text;
using testing::with_driver;

Program parse_ok(const std::string& text) {
  absl::StatusOr<Program> p = program_from_text(text);
  EXPECT_TRUE(p.ok()) << p.status() << "\n--- text:\n" << text;
  return p.ok() ? *p : Program{};
}

Call open_call(NodeKind kind, uint8_t id, uint8_t index, uint32_t flags, uint8_t thread = 0) {
  Call c;
  c.kind = CallKind::kOpen;
  c.thread = thread;
  c.node = {{0, id}, kind, index};
  c.flags = flags;
  return c;
}

Call fd_call(CallKind kind, int16_t fd, uint8_t thread = 0) {
  Call c;
  c.kind = kind;
  c.thread = thread;
  c.fd = fd;
  return c;
}

Call ioctl_call(int16_t fd, const char* name, std::vector<uint64_t> fields) {
  Call c = fd_call(CallKind::kIoctl, fd);
  int row = find_ioctl(name);
  EXPECT_GE(row, 0) << name;
  c.ioctl.desc = static_cast<uint16_t>(row);
  c.ioctl.fields = std::move(fields);
  c.ioctl.fields.resize(ioctl_table()[row].fields.size(), 0);
  return c;
}

Call dev_call(CallKind kind, uint8_t id, uint8_t thread = 0) {
  Call c;
  c.kind = kind;
  c.thread = thread;
  c.dev = {0, id};
  return c;
}

const std::string kOpenMedia = "t0 r0 = open($D.0:media[0], O_RDWR)\n";

// --------------------------------------------------------------------------
// Canonical text <-> program, both ways.

struct CanonicalCase {
  std::string text;  // canonical, with $D
  std::vector<Call> calls;
};

std::vector<CanonicalCase> canonical_cases() {
  const uint64_t raw = kUserPtrRaw;
  Call open0 = open_call(NodeKind::kMedia, 0, 0, O_RDWR_);
  Call fail = open_call(NodeKind::kVideo, 3, 2, O_RDWR_ | O_NONBLOCK_, 1);
  fail.fail_nth = 3;
  Call poll_block = fd_call(CallKind::kPoll, 0, 2);
  poll_block.flags = EPOLLIN | EPOLLPRI;
  poll_block.block = true;
  Call poll_none = fd_call(CallKind::kPoll, 0);
  Call poll_odd = fd_call(CallKind::kPoll, 0);
  poll_odd.flags = EPOLLIN | 0x200;
  Call irq = dev_call(CallKind::kIrq, 0, 3);
  irq.irq_line = 7;
  Call reg;
  reg.kind = CallKind::kRegisterDriver;
  Call unreg = reg;
  unreg.kind = CallKind::kUnregisterDriver;
  unreg.thread = 1;
  unreg.fail_nth = 70000;
  Call odd_open = open_call(NodeKind::kMedia, 0, 0, 3 | O_NONBLOCK_ | 0x40000);
  Call link = ioctl_call(0, "MEDIA_IOC_SETUP_LINK",
                         {1, 0, 5, 2, MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_DYNAMIC});
  Call link_odd = ioctl_call(0, "MEDIA_IOC_SETUP_LINK", {0, 0, 0, 0, MEDIA_LNK_FL_ENABLED | 0x100});
  Call link_unnamed = ioctl_call(0, "MEDIA_IOC_SETUP_LINK", {0, 0, 0, 0, 0x100});
  Call s_fmt = ioctl_call(0, "VIDIOC_S_FMT",
                          {V4L2_BUF_TYPE_VIDEO_CAPTURE, 640, 480, V4L2_PIX_FMT_RGB24,
                           V4L2_FIELD_NONE, 0, 921600});
  s_fmt.thread = 1;
  return {
      {kOpenMedia, {open0}},
      {"t1 r0 = open($D.3:video[2], O_RDWR|O_NONBLOCK) fail_nth=3\n", {fail}},
      {"t2 r0 = open($D.0:v4l-subdev[7], O_RDONLY)\n",
       {open_call(NodeKind::kSubdev, 0, 7, O_RDONLY_, 2)}},
      {"t0 r0 = open($D.0:media[0], 0x3|O_NONBLOCK|0x40000)\n", {odd_open}},
      {"t0 close(-1)\n", {fd_call(CallKind::kClose, -1)}},
      {kOpenMedia + "t1 r1 = dup(r0)\nt2 close(r1)\nt3 close(r0)\n",
       {open0, fd_call(CallKind::kDup, 0, 1), fd_call(CallKind::kClose, 1, 2),
        fd_call(CallKind::kClose, 0, 3)}},
      {kOpenMedia +
           "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {source.entity=1, sink.entity=5, sink.index=2, "
           "flags=MEDIA_LNK_FL_ENABLED|MEDIA_LNK_FL_DYNAMIC})\n",
       {open0, link}},
      {kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {flags=MEDIA_LNK_FL_ENABLED|0x100})\n",
       {open0, link_odd}},
      {kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {flags=0x100})\n", {open0, link_unnamed}},
      {kOpenMedia +
           "t0 ioctl(r0, MEDIA_IOC_G_TOPOLOGY, {num_entities=16, ptr_entities=user(0x100), "
           "ptr_interfaces=NULL, ptr_pads=ptr(0x4), ptr_links=user(0x0)})\n",
       {open0,
        ioctl_call(0, "MEDIA_IOC_G_TOPOLOGY", {16, 0x100, 0, raw, 0, raw | 4, 0, 0})}},
      {kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_DEVICE_INFO)\n",
       {open0, ioctl_call(0, "MEDIA_IOC_DEVICE_INFO", {})}},
      {kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_ENUM_ENTITIES)\n",
       {open0, ioctl_call(0, "MEDIA_IOC_ENUM_ENTITIES", {0})}},
      {kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_ENUM_ENTITIES, {id=MEDIA_ENT_ID_FLAG_NEXT|3})\n",
       {open0, ioctl_call(0, "MEDIA_IOC_ENUM_ENTITIES", {MEDIA_ENT_ID_FLAG_NEXT | 3})}},
      {kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_ENUM_ENTITIES, {id=MEDIA_ENT_ID_FLAG_NEXT})\n",
       {open0, ioctl_call(0, "MEDIA_IOC_ENUM_ENTITIES", {MEDIA_ENT_ID_FLAG_NEXT})}},
      {kOpenMedia +
           "t1 ioctl(r0, VIDIOC_S_FMT, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, fmt.pix.width=640, "
           "fmt.pix.height=480, fmt.pix.pixelformat=V4L2_PIX_FMT_RGB24, "
           "fmt.pix.field=V4L2_FIELD_NONE, fmt.pix.sizeimage=0xe1000})\n",
       {open0, s_fmt}},
      {kOpenMedia + "t0 ioctl(r0, VIDIOC_G_FMT, {type=7})\n",
       {open0, ioctl_call(0, "VIDIOC_G_FMT", {7})}},
      {kOpenMedia + "t0 ioctl(r0, VIDIOC_S_INPUT, {input=0xffffffff})\n",
       {open0, ioctl_call(0, "VIDIOC_S_INPUT", {0xffffffffu})}},
      {kOpenMedia +
           "t0 ioctl(r0, VIDIOC_SUBDEV_S_SELECTION, {which=V4L2_SUBDEV_FORMAT_ACTIVE, pad=1, "
           "target=V4L2_SEL_TGT_COMPOSE, flags=V4L2_SEL_FLAG_GE|V4L2_SEL_FLAG_LE, r.width=64})\n",
       {open0, ioctl_call(0, "VIDIOC_SUBDEV_S_SELECTION",
                          {V4L2_SUBDEV_FORMAT_ACTIVE, 1, V4L2_SEL_TGT_COMPOSE,
                           V4L2_SEL_FLAG_GE | V4L2_SEL_FLAG_LE, 0, 0, 64, 0})}},
      {kOpenMedia + "t2 poll(r0, POLLIN|POLLPRI, block)\n", {open0, poll_block}},
      {kOpenMedia + "t0 poll(r0, 0)\n", {open0, poll_none}},
      {kOpenMedia + "t0 poll(r0, POLLIN|0x200)\n", {open0, poll_odd}},
      {"t0 bind($D.0)\nt1 unbind($D.2)\nt2 plug($D.255)\nt3 unplug($D.0)\n",
       {dev_call(CallKind::kBind, 0), dev_call(CallKind::kUnbind, 2, 1),
        dev_call(CallKind::kPlug, 255, 2), dev_call(CallKind::kUnplug, 0, 3)}},
      {"t3 irq($D.0, 7)\n", {irq}},
      {"t0 register_driver($D)\nt1 unregister_driver($D) fail_nth=70000\n", {reg, unreg}},
      {"", {}},
  };
}

TEST(EncodingText, CanonicalTextParsesToItsProgramAndPrintsBack) {
  for (const CanonicalCase& tc : canonical_cases()) {
    std::string text = with_driver(tc.text);
    SCOPED_TRACE(text);
    Program want{tc.calls};
    ASSERT_TRUE(is_valid(want)) << "the expected program of the case is not canonical";
    Program got = parse_ok(text);
    EXPECT_EQ(got, want);
    EXPECT_EQ(program_to_text(want), text);
  }
}

// Texts people write and the canonical text they mean.
TEST(EncodingText, LenientTextPrintsCanonically) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // Spacing, comments, blank lines and CRLF.
      {"  t0   r7 =open( $D.0 : media [ 0 ] ,O_RDWR )  # a trailing comment\n", kOpenMedia},
      {"# a header\n\n   # indented comment\r\nt0 r0 = open($D.0:media[0], O_RDWR)\r\n\n", kOpenMedia},
      {"t0 r0 = open($D.0:media[0], O_RDWR)", kOpenMedia},  // no final newline
      // Resources: any rN name, renumbered in call order; rebinding; unnamed opens.
      {"t0 r5 = open($D.0:media[0], O_RDWR)\nt0 close(r5)\n",
       kOpenMedia + "t0 close(r0)\n"},
      {"t0 open($D.0:media[0], O_RDWR)\nt0 r9 = open($D.0:video[1], O_RDONLY)\nt0 close(r9)\n",
       kOpenMedia + "t0 r1 = open($D.0:video[1], O_RDONLY)\nt0 close(r1)\n"},
      {"t0 r0 = open($D.0:media[0], O_RDWR)\nt0 r0 = dup(r0)\nt0 close(r0)\n",
       kOpenMedia + "t0 r1 = dup(r0)\nt0 close(r1)\n"},
      // Numbers: hex, names for numbers, fourcc, negatives, order of flags.
      {"t0 irq($D.0, 0x10)\n", "t0 irq($D.0, 16)\n"},
      {"t0 r0 = open($D.0:media[0], O_WRONLY|O_RDWR)\n", "t0 r0 = open($D.0:media[0], 0x3)\n"},
      {"t0 r0 = open($D.0:media[0], 0x802)\n", "t0 r0 = open($D.0:media[0], O_RDWR|O_NONBLOCK)\n"},
      {kOpenMedia + "t0 poll(r0, POLLOUT|POLLIN|0x1)\n", kOpenMedia + "t0 poll(r0, POLLIN|POLLOUT)\n"},
      {kOpenMedia + "t0 ioctl(r0, VIDIOC_G_FMT, {type=1})\n",
       kOpenMedia + "t0 ioctl(r0, VIDIOC_G_FMT, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE})\n"},
      {kOpenMedia + "t0 ioctl(r0, VIDIOC_S_FMT, {fmt.pix.pixelformat='RGB3', fmt.pix.width=-1})\n",
       kOpenMedia +
           "t0 ioctl(r0, VIDIOC_S_FMT, {fmt.pix.width=0xffffffff, "
           "fmt.pix.pixelformat=V4L2_PIX_FMT_RGB24})\n"},
      {kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {source.index=-1})\n",
       kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {source.index=65535})\n"},
      {kOpenMedia + "t0 ioctl(r0, VIDIOC_S_FMT, {fmt.pix.height=70000})\n",
       kOpenMedia + "t0 ioctl(r0, VIDIOC_S_FMT, {fmt.pix.height=0x11170})\n"},
      {kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_ENUM_ENTITIES, {id=0x80000000|0x2})\n",
       kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_ENUM_ENTITIES, {id=MEDIA_ENT_ID_FLAG_NEXT|2})\n"},
      // Fields: any order, explicit zeros dropped, {} dropped, pointers always shown.
      {kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {flags=0, sink.entity=5, source.entity=0})\n",
       kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {sink.entity=5})\n"},
      {kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_ENUM_ENTITIES, {})\n",
       kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_ENUM_ENTITIES)\n"},
      {kOpenMedia + "t0 ioctl(r0, MEDIA_IOC_G_TOPOLOGY, {ptr_pads=ptr(0x0)})\n",
       kOpenMedia +
           "t0 ioctl(r0, MEDIA_IOC_G_TOPOLOGY, {ptr_entities=user(0x0), ptr_interfaces=user(0x0), "
           "ptr_pads=NULL, ptr_links=user(0x0)})\n"},
      // Properties.
      {"t0 close(-1) fail_nth=0\n", "t0 close(-1)\n"},
      {"t0 close(-1)fail_nth=0x10\n", "t0 close(-1) fail_nth=16\n"},
      // Drivers by row number.
      {"t0 register_driver(#0)\nt0 bind(#0.1)\n", "t0 register_driver($D)\nt0 bind($D.1)\n"},
      // Schedules: spacing; an empty preemption list is no schedule; PCT
      // change points keep their order (it sets their priorities).
      {"t0 close(-1)\nschedule:  t0 @ 0 . lock # 1 ->t1\n",
       "t0 close(-1)\nschedule: t0@0.lock#1 -> t1\n"},
      {"t0 close(-1)\nschedule:\n", "t0 close(-1)\n"},
      {"t0 close(-1)\nschedule: pct t3 > t1>t0 >t2  change@ 9 change@00 change@4\n",
       "t0 close(-1)\nschedule: pct t3>t1>t0>t2 change@9 change@0 change@4\n"},
  };
  for (const auto& [in, out] : cases) {
    std::string text = with_driver(in);
    SCOPED_TRACE(text);
    Program p = parse_ok(text);
    EXPECT_TRUE(is_valid(p));
    EXPECT_EQ(program_to_text(p), with_driver(out));
  }
}

// --------------------------------------------------------------------------
// Round trips.

TEST(EncodingText, CoveringProgramsHoldEveryCallKindAndIoctlRow) {
  std::set<CallKind> kinds;
  std::set<uint16_t> rows;
  for (const Program& p : covering_programs()) {
    ASSERT_TRUE(is_valid(p));
    for (const Call& c : p.calls) {
      kinds.insert(c.kind);
      if (c.kind == CallKind::kIoctl) rows.insert(c.ioctl.desc);
    }
  }
  EXPECT_EQ(kinds.size(), static_cast<size_t>(CallKind::kCount));
  EXPECT_EQ(rows.size(), ioctl_table().size());
}

TEST(EncodingText, EveryCallKindAndIoctlRowRoundTrips) {
  for (const Program& p : covering_programs()) {
    std::string text = program_to_text(p);
    SCOPED_TRACE(text);
    Program back = parse_ok(text);
    EXPECT_EQ(back, p);
    EXPECT_EQ(program_to_text(back), text);
    // Text -> binary -> text is the identity.
    EXPECT_EQ(program_to_text(program_from_binary(program_to_binary(back))), text);
  }
}

TEST(EncodingText, EveryIoctlRowPrintsItsNameAndShownFields) {
  const auto& table = ioctl_table();
  for (size_t row = 0; row < table.size(); ++row) {
    Call c = ioctl_call(0, table[row].name, {});
    for (size_t i = 0; i < table[row].fields.size(); ++i) c.ioctl.fields[i] = 1;
    Program p{{open_call(table[row].node, 0, 0, O_RDWR_), c}};
    ASSERT_TRUE(is_valid(p));
    std::string line = call_to_text(p, 1);
    SCOPED_TRACE(line);
    EXPECT_EQ(line.find(absl::StrCat("t0 ioctl(r0, ", table[row].name)), 0u);
    for (const FieldDesc& f : table[row].fields)
      EXPECT_NE(line.find(absl::StrCat(f.name, "=")), std::string::npos) << f.name;
    EXPECT_EQ(parse_ok(program_to_text(p)), p);
  }
}

TEST(EncodingText, EveryNamedFieldValuePrintsByNameAndParsesBack) {
  const auto& table = ioctl_table();
  int named = 0;
  for (size_t row = 0; row < table.size(); ++row) {
    const IoctlDesc& d = table[row];
    for (size_t i = 0; i < d.fields.size(); ++i) {
      const FieldDesc& f = d.fields[i];
      ASSERT_EQ(f.value_names.size(), f.values.size()) << d.name << " " << f.name;
      for (size_t v = 0; v < f.values.size(); ++v) {
        if (f.value_names[v] == nullptr || f.values[v] == 0) continue;
        Call c = ioctl_call(0, d.name, {});
        c.ioctl.fields[i] = f.values[v];
        Program p{{open_call(d.node, 0, 0, O_RDWR_), c}};
        std::string text = program_to_text(p);
        EXPECT_NE(text.find(absl::StrCat(f.name, "=", f.value_names[v])), std::string::npos)
            << text;
        EXPECT_EQ(parse_ok(text), p);
        ++named;
      }
    }
  }
  EXPECT_GT(named, 40);
}

// Random canonical programs (decoded from random bytes: unnamed enum values,
// odd flags, big numbers, user pointers of every kind) round-trip too.
TEST(EncodingText, RandomCanonicalProgramsRoundTrip) {
  std::mt19937_64 rng(1234);
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> bytes(rng() % 400);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
    Program p = program_from_binary(bytes);
    std::string text = program_to_text(p);
    absl::StatusOr<Program> back = program_from_text(text);
    ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
    ASSERT_EQ(*back, p) << text;
    ASSERT_EQ(program_to_text(*back), text);
  }
}

TEST(EncodingText, PrintingCanonicalizesFirst) {
  Program p{{fd_call(CallKind::kClose, 5, 6)}};  // fd of no call, thread 6
  ASSERT_FALSE(is_valid(p));
  EXPECT_EQ(program_to_text(p), "t2 close(-1)\n");
  EXPECT_EQ(call_to_text(p, 0), "t2 close(-1)");
  EXPECT_EQ(call_to_text(p, 1), "");
}

// --------------------------------------------------------------------------
// The driver table: names when it has rows, "#<row>" when it has none.

TEST(EncodingText, EveryDriverRowIsWrittenByName) {
  const auto& table = driver_table();
  for (size_t row = 0; row < table.size() && row < 256; ++row) {
    std::string text = absl::StrCat("t0 register_driver(", table[row].name, ")\nt1 bind(",
                                    table[row].name, ".2)\n");
    Program p = parse_ok(text);
    ASSERT_EQ(p.calls.size(), 2u);
    EXPECT_EQ(p.calls[0].driver, row);
    EXPECT_EQ(p.calls[1].dev.driver, row);
    EXPECT_EQ(p.calls[1].dev.id, 2);
    EXPECT_EQ(program_to_text(p), text);
    // "#<row>" names the same row.
    EXPECT_EQ(parse_ok(absl::StrCat("t0 register_driver(#", row, ")\nt1 bind(#", row, ".2)\n")), p);
  }
  // One past the last row is out of range, whatever the table.
  absl::StatusOr<Program> past =
      program_from_text(absl::StrCat("t0 register_driver(#", std::max<size_t>(table.size(), 1), ")"));
  ASSERT_FALSE(past.ok());
  EXPECT_NE(std::string(past.status().message()).find("line 1: driver row"), std::string::npos)
      << past.status();
}

TEST(EncodingText, DeviceCallsPrintWithAnyDriverTable) {
  // Row 0 exists when the table has rows; when it is empty, canonical
  // programs still use row 0 and print it as "#0".
  Program p{{dev_call(CallKind::kUnplug, 4)}};
  std::string text = program_to_text(p);
  if (driver_table().empty()) {
    EXPECT_EQ(text, "t0 unplug(#0.4)\n");
  } else {
    EXPECT_EQ(text, absl::StrCat("t0 unplug(", driver_table()[0].name, ".4)\n"));
  }
  EXPECT_EQ(parse_ok(text), p);
}

// --------------------------------------------------------------------------
// Errors: one line, the line number, what was expected.

TEST(EncodingText, BadTextGetsOneLineErrorWithLineNumber) {
  const std::string defs = kOpenMedia + "# a comment\n\n";  // the call under test is on line 4
  const std::vector<std::pair<std::string, std::string>> cases = {
      {defs + "t0 opn(r0)", "line 4: unknown call 'opn' (calls: open, close,"},
      {defs + "t0 ioctl(r0, MEDIA_IOC_FROB)", "line 4: unknown ioctl 'MEDIA_IOC_FROB'"},
      {defs + "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {bogus=1})",
       "line 4: unknown field 'bogus' of MEDIA_IOC_SETUP_LINK (fields: source.entity,"},
      {defs + "t0 ioctl(r0, MEDIA_IOC_DEVICE_INFO, {x=1})",
       "line 4: unknown field 'x' of MEDIA_IOC_DEVICE_INFO (fields: none)"},
      {defs + "t0 close(r3)", "line 4: resource 'r3' is not bound by an earlier open or dup"},
      {defs + "t0 close(fd)", "line 4: expected a resource r<N> or -1, found 'fd)'"},
      {defs + "t0 close(r0x)", "line 4: expected a resource r<N> or -1, found 'r0x)'"},
      {defs + "t0 rx = open($D.0:media[0], O_RDWR)", "line 4: unknown call 'rx'"},
      {defs + "t0 close(-2)", "line 4: expected -1 or a resource r<N>, found '2)'"},
      {defs + "t0 irq($D.0, 0xZZ)", "line 4: bad number '0xZZ' (irq line)"},
      {defs + "t0 irq($D.0, 12a)", "line 4: bad number '12a' (irq line)"},
      {defs + "t0 irq($D.0, 256)", "line 4: irq line 256 is out of range (at most 255)"},
      {defs + "t0 irq($D.0, 99999999999999999999999)", "line 4: number '99999999999999999999999' does not fit 64 bits"},
      {defs + "t0 close(r0", "line 4: expected ')' to close the arguments of close, found end of line"},
      {defs + "t0 close r0)", "line 4: expected '(' after 'close', found 'r0)'"},
      {defs + "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {flags=1)",
       "line 4: expected '}' or ',' after the fields of MEDIA_IOC_SETUP_LINK, found ')'"},
      {defs + "t0 bind(nosuchdriver.0)", "line 4: unknown driver 'nosuchdriver' (drivers: "},
      {defs + "t0 register_driver(nosuchdriver)", "line 4: unknown driver 'nosuchdriver'"},
      {defs + "t0 bind($D)", "line 4: expected a device <driver>.<id>, found '"},
      {defs + "t0 bind($D.300)", "line 4: device id 300 is out of range (at most 255)"},
      {defs + "t0 r1 = open($D.0:dvb[0], O_RDWR)",
       "line 4: unknown node kind 'dvb' (kinds: media, video, v4l-subdev)"},
      {defs + "t0 r1 = open($D.0:video, O_RDWR)", "line 4: expected '[' after the node kind"},
      {defs + "t0 r1 = open($D.0:video[0], O_RDWR|O_CLOEXEC)",
       "line 4: unknown name 'O_CLOEXEC' (open flags; names: O_RDONLY, O_WRONLY, O_RDWR, O_NONBLOCK)"},
      {defs + "t0 poll(r0, POLLIN, forever)", "line 4: expected 'block', found 'forever)'"},
      {defs + "t0 ioctl(r0, VIDIOC_G_FMT, {type=V4L2_MEMORY_MMAP})",
       "line 4: unknown name 'V4L2_MEMORY_MMAP' (field type of VIDIOC_G_FMT; names: "
       "V4L2_BUF_TYPE_VIDEO_CAPTURE,"},
      {defs + "t0 ioctl(r0, VIDIOC_S_INPUT, {input=0x100000000})",
       "line 4: value 0x100000000 does not fit 32 bits (field input of VIDIOC_S_INPUT)"},
      {defs + "t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {sink.index=0x10000})",
       "line 4: value 0x10000 does not fit 16 bits (field sink.index of MEDIA_IOC_SETUP_LINK)"},
      {defs + "t0 ioctl(r0, VIDIOC_S_INPUT, {input=-0x80000001})",
       "line 4: -2147483649 is out of range (field input of VIDIOC_S_INPUT)"},
      {defs + "t0 ioctl(r0, VIDIOC_S_FMT, {fmt.pix.pixelformat='RGB'})",
       "line 4: bad fourcc (field fmt.pix.pixelformat of VIDIOC_S_FMT)"},
      {defs + "t0 ioctl(r0, VIDIOC_S_INPUT, {input=1, input=2})", "line 4: field 'input' given twice"},
      {defs + "t0 ioctl(r0, MEDIA_IOC_G_TOPOLOGY, {ptr_pads=4})",
       "line 4: expected user(<offset>), ptr(<address>) or NULL (field ptr_pads of "
       "MEDIA_IOC_G_TOPOLOGY), found '4})'"},
      {defs + "t0 ioctl(r0, MEDIA_IOC_G_TOPOLOGY, {ptr_pads=ptr(0x8000000000000000)})",
       "line 4: field ptr_pads of MEDIA_IOC_G_TOPOLOGY 9223372036854775808 is out of range"},
      {defs + "t4 close(r0)", "line 4: thread 't4' is out of range (t0..t3)"},
      {defs + "close(r0)", "line 4: expected a thread t0..t3 at the start of the call, found 'close(r0)'"},
      {defs + "t0 r1 = close(r0)", "line 4: close makes no fd to bind to r1"},
      {defs + "t0 close(r0) now", "line 4: expected the end of the line, found 'now'"},
      {defs + "t0 close(r0) fail_nth=0x100000000",
       "line 4: fail_nth 4294967296 is out of range (at most 4294967295)"},
      {defs + "t0", "line 4: expected a call name, found end of line"},
      {defs + "schedule: pct t1>t1>t2>t3", "line 4: t1 twice in the priority order"},
      {defs + "schedule: pct t1>t0", "line 4: expected '>' between the threads of the priority order"},
      {defs + "schedule: pct t0>t1>t2>t3 change@1 change@2 change@3 change@4 change@5",
       "line 4: more than 4 change points"},
      {defs + "schedule: pct t0>t1>t2>t3 change@65536",
       "line 4: expected the scheduling point of the change (0..65535)"},
      {defs + "schedule: pct t0>t1>t2>t3 at@4", "line 4: expected a change point change@N"},
      {defs + "schedule: t0@0.lock#0 -> t1\nschedule: pct t0>t1>t2>t3",
       "line 5: a second schedule line"},
  };
  for (const auto& [in, want] : cases) {
    std::string text = with_driver(in);
    absl::StatusOr<Program> p = program_from_text(text);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    std::string msg(p.status().message());
    EXPECT_EQ(msg.find(with_driver(want)), 0u) << "got:  " << msg << "\nwant: " << with_driver(want);
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(EncodingText, MoreThanMaxCallsIsAnError) {
  std::string text;
  for (int i = 0; i < kMaxCalls; ++i) text += "t0 close(-1)\n";
  EXPECT_EQ(parse_ok(text).calls.size(), static_cast<size_t>(kMaxCalls));
  text += "# comments do not count\nt1 close(-1)\n";
  absl::StatusOr<Program> p = program_from_text(text);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), absl::StrCat("line ", kMaxCalls + 2, ": more than ", kMaxCalls, " calls"));
}

TEST(EncodingText, UnknownDriverErrorListsTheTable) {
  absl::StatusOr<Program> p = program_from_text("t0 register_driver(nosuchdriver)\n");
  ASSERT_FALSE(p.ok());
  std::string msg(p.status().message());
  if (driver_table().empty()) {
    EXPECT_NE(msg.find("the table is empty: use #0"), std::string::npos) << msg;
  } else {
    for (const driver_desc& d : driver_table())
      EXPECT_NE(msg.find(d.name), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace mcf::fuzz
