// The minimiser's passes (fuzzers/repro/minimize.h) with predicates written
// here, in-process: what each pass removes, that the result still satisfies
// the predicate, and that nothing changes when nothing may. The end-to-end
// minimisation of a real crash (child runs, signatures) is in
// repro_cli_test.cc.
#include <gtest/gtest.h>

#include <string>

#include "fuzzers/prog/encoding_text.h"
#include "fuzzers/prog/ioctl_desc.h"
#include "fuzzers/repro/minimize.h"

namespace mcf::repro {
namespace {

using fuzz::CallKind;
using fuzz::Program;

Program parse(const char* text) {
  auto p = fuzz::program_from_text(text);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : Program{};
}

// "Crashes" when some VIDIOC_S_INPUT with input=1 runs on an fd that an
// open made: the shape of fixture bug A.
bool s_input_bug(const Program& p) {
  int row = fuzz::find_ioctl("VIDIOC_S_INPUT");
  for (const fuzz::Call& c : p.calls) {
    if (c.kind != CallKind::kIoctl || c.ioctl.desc != row || c.fd < 0) continue;
    if (c.ioctl.fields.empty() || c.ioctl.fields[0] != 1) continue;
    if (p.calls[c.fd].kind == CallKind::kOpen || p.calls[c.fd].kind == CallKind::kDup) return true;
  }
  return false;
}

const char kPadded[] = R"(# padding around the bug
t0 r0 = open(vimc.0:video[0], O_RDWR)
t1 r1 = open(vimc.0:media[0], O_RDWR)
t1 ioctl(r1, MEDIA_IOC_DEVICE_INFO)
t2 poll(r0, POLLIN|POLLPRI, block)
t0 ioctl(r0, VIDIOC_QUERYCAP) fail_nth=3
t2 r2 = dup(r0)
t3 irq(vimc.0, 2)
t2 ioctl(r2, VIDIOC_S_INPUT, {input=1})
t1 close(r1)
t0 ioctl(r0, VIDIOC_ENUMINPUT, {index=2})
t2 close(r2)
schedule: t0@1.lock#2 -> t2, t2@1.get#0 -> t1
)";

TEST(ReproMinimizeTest, PaddedProgramShrinksToTheTwoCallsThatMatter) {
  Program padded = parse(kPadded);
  ASSERT_TRUE(s_input_bug(padded));
  ASSERT_FALSE(padded.schedule.empty());
  MinimizeStats stats;
  Program small = minimize(padded, s_input_bug, {}, &stats);
  EXPECT_TRUE(s_input_bug(small));
  EXPECT_EQ(fuzz::program_to_text(small),
            "t0 r0 = open(vimc.0:video[0], O_RDWR)\n"
            "t0 ioctl(r0, VIDIOC_S_INPUT, {input=1})\n");
  EXPECT_GT(stats.accepted, 0);
  EXPECT_GE(stats.candidates, stats.accepted);
  EXPECT_GE(stats.rounds, 2) << "the last round changes nothing";
}

TEST(ReproMinimizeTest, EachPassCanBeTurnedOff) {
  Program padded = parse(kPadded);
  MinimizeOptions only_calls;
  only_calls.threads = only_calls.fail_nth = only_calls.schedule = only_calls.fields = false;
  Program small = minimize(padded, s_input_bug, only_calls);
  EXPECT_EQ(small.calls.size(), 2u);
  EXPECT_EQ(small.calls[0].thread, 0);
  EXPECT_EQ(small.calls[1].thread, 2) << "threads were not merged";
  EXPECT_EQ(small.schedule, padded.schedule) << "schedule steps were not dropped";
}

TEST(ReproMinimizeTest, KeepsWhatThePredicateNeeds) {
  // A "crash" that needs two threads, a fail_nth and a schedule step.
  const char* text =
      "t0 r0 = open(vimc.0:media[0], O_RDWR) fail_nth=2\n"
      "t1 unbind(vimc.0)\n"
      "t3 ioctl(r0, MEDIA_IOC_SETUP_LINK, {source.entity=1, flags=MEDIA_LNK_FL_ENABLED})\n"
      "schedule: t0@0.lock#1 -> t1, t0@0.unlock#1 -> t3\n";
  Program p = parse(text);
  auto needs = [](const Program& q) {
    bool threads = false;
    for (const fuzz::Call& c : q.calls) threads |= c.thread != q.calls[0].thread;
    return q.calls.size() >= 2 && q.calls[0].fail_nth == 2 && threads && !q.schedule.empty() &&
           q.calls.back().kind == CallKind::kIoctl && !q.calls.back().ioctl.fields.empty() &&
           q.calls.back().ioctl.fields[0] == 1;
  };
  ASSERT_TRUE(needs(p));
  Program small = minimize(p, needs);
  EXPECT_TRUE(needs(small));
  // The unbind went; t3 was renumbered t1; one step and one field stayed.
  EXPECT_EQ(small.calls.size(), 2u);
  EXPECT_EQ(small.calls[1].thread, 1);
  EXPECT_EQ(small.schedule.size(), 1u);
  EXPECT_EQ(small.calls[1].ioctl.fields[4], 0u) << "flags reset";
}

TEST(ReproMinimizeTest, NothingChangesWhenNothingMay) {
  Program p = parse(kPadded);
  MinimizeStats stats;
  Program same = minimize(p, [](const Program&) { return false; }, {}, &stats);
  EXPECT_EQ(same, p);
  EXPECT_EQ(stats.accepted, 0);
  EXPECT_EQ(stats.rounds, 1);
}

TEST(ReproMinimizeTest, LogsEachAcceptedStep) {
  std::vector<std::string> steps;
  MinimizeOptions o;
  o.log = [&](const std::string& s) { steps.push_back(s); };
  MinimizeStats stats;
  minimize(parse(kPadded), s_input_bug, o, &stats);
  EXPECT_EQ(static_cast<int>(steps.size()), stats.accepted);
  ASSERT_FALSE(steps.empty());
  EXPECT_NE(steps.front().find("drop call"), std::string::npos) << steps.front();
}

}  // namespace
}  // namespace mcf::repro
