// Crash handling end to end, through the tools as a user runs them:
// mcf-repro-fixture (the repro tool over tests/repro_fixture/'s driver, whose
// bugs A, B and C were put back on purpose) finds, reports, signs, replays
// and minimises real findings; mcf-repro handles the shipped corpus, the
// topology dump and bad input. Each command runs in its own process.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "fuzzers/prog/encoding_text.h"
#include "fuzzers/repro/signature.h"

extern char** environ;

namespace mcf::repro {
namespace {

// Bug A (fixture_driver.h): a refcount underflow at remove().
const char kBugA[] =
    "t0 r0 = open(mcf-fixture.0:video[0], O_RDWR)\n"
    "t0 ioctl(r0, VIDIOC_S_INPUT, {input=1})\n";
// Bug B: a lock held on return to user space.
const char kBugB[] =
    "t0 r0 = open(mcf-fixture.0:video[0], O_RDWR)\n"
    "t0 ioctl(r0, VIDIOC_ENUMINPUT, {index=1})\n";
// Bug C: devm memory used after remove() (ASan only).
[[maybe_unused]] const char kBugC[] =
    "t0 r0 = open(mcf-fixture.0:video[0], O_RDWR)\n"
    "t0 unbind(mcf-fixture.0)\n"
    "t0 close(r0)\n";
// Bug D: undefined behaviour (builds with UBSan checks only).
[[maybe_unused]] const char kBugD[] =
    "t0 r0 = open(mcf-fixture.0:video[0], O_RDWR)\n"
    "t0 ioctl(r0, VIDIOC_ENUM_FMT, {index=40, type=V4L2_BUF_TYPE_VIDEO_CAPTURE})\n";
// Bug E: a data race (TSan only).
[[maybe_unused]] const char kBugE[] =
    "t0 r0 = open(mcf-fixture.0:video[0], O_RDWR)\n"
    "t0 ioctl(r0, VIDIOC_G_FMT, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE})\n";
// Every ioctl of the fixture correctly used, but G_FMT (bug E races
// whatever its argument).
const char kClean[] =
    "t0 r0 = open(mcf-fixture.0:video[0], O_RDWR)\n"
    "t0 ioctl(r0, VIDIOC_QUERYCAP)\n"
    "t0 ioctl(r0, VIDIOC_ENUM_FMT, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE})\n"
    "t0 ioctl(r0, VIDIOC_ENUMINPUT)\n"
    "t0 ioctl(r0, VIDIOC_G_INPUT)\n"
    "t0 ioctl(r0, VIDIOC_S_INPUT)\n"
    "t0 close(r0)\n";
// Bug A among three threads, fault injection, a schedule step and calls
// that do not matter; kBugA is what minimisation must find.
const char kPaddedA[] = R"(# bug A, padded
t0 r0 = open(mcf-fixture.0:video[0], O_RDWR)
t1 r1 = open(mcf-fixture.0:video[0], O_RDWR|O_NONBLOCK)
t1 ioctl(r1, VIDIOC_QUERYCAP)
t0 ioctl(r0, VIDIOC_ENUMINPUT)
t2 r2 = dup(r0)
t0 ioctl(r0, VIDIOC_G_INPUT) fail_nth=2
t2 ioctl(r2, VIDIOC_S_INPUT, {input=1})
t1 close(r1)
t0 ioctl(r0, VIDIOC_QUERYCAP)
t2 close(r2)
schedule: t0@1.lock#0 -> t1
)";

constexpr int kToolTimeoutMs = 120 * 1000;

struct ToolRun {
  int exit_status = -1;  // when it exited
  int term_signal = 0;   // when a signal ended it
  std::string out, err;
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class ReproCliTest : public ::testing::Test {
 protected:
  // A file in a directory of this test's own.
  std::string path(const std::string& name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string dir = ::testing::TempDir() + "repro_cli_" + info->name();
    mkdir(dir.c_str(), 0755);
    return dir + "/" + name;
  }
  std::string file(const std::string& name, const std::string& content) {
    std::string p = path(name);
    write_all(p, content);
    return p;
  }

  // Runs `tool` with `args`, stdout and stderr to files.
  ToolRun run(const char* tool, const std::vector<std::string>& args) {
    std::string out = path("stdout"), err = path("stderr");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> argv_s = {tool};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid;
    ToolRun r;
    int err_no = posix_spawn(&pid, tool, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    EXPECT_EQ(err_no, 0) << tool;
    if (err_no != 0) return r;
    // A tool that hangs fails the test instead of the whole ctest run.
    int status = 0;
    for (int waited_ms = 0; waitpid(pid, &status, WNOHANG) == 0; waited_ms += 10) {
      if (waited_ms > kToolTimeoutMs) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        ADD_FAILURE() << tool << " " << absl::StrJoin(args, " ") << ": no exit in "
                      << kToolTimeoutMs / 1000 << " s";
        break;
      }
      usleep(10 * 1000);
    }
    if (WIFEXITED(status)) r.exit_status = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);
    r.out = read_all(out);
    r.err = read_all(err);
    return r;
  }
  ToolRun fixture(const std::vector<std::string>& args) { return run(MCF_REPRO_FIXTURE, args); }
  ToolRun tool(const std::vector<std::string>& args) { return run(MCF_REPRO_TOOL, args); }

  // The in-process "==mcfuzz== SIGNATURE <id> <text>" line of a log.
  static std::string signature_line(const std::string& log) {
    return signature_line_in_log(log).value_or("(none)");
  }
  // The same, computed offline by the tool from the saved log.
  std::string offline_signature(const std::string& log) {
    ToolRun r = fixture({"signature", file("crash.log", log)});
    EXPECT_EQ(r.exit_status, 0) << r.err;
    return std::string(absl::StripSuffix(r.out, "\n"));
  }
};

bool crashed(const ToolRun& r) { return r.term_signal != 0 || (r.exit_status != 0 && r.exit_status != 2); }

// The lines of a text program, comments and blank lines left out.
std::string program_lines(const std::string& text) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    out.append(line.data(), line.size());
    out += '\n';
  }
  return out;
}

TEST_F(ReproCliTest, FixtureCrashReportHasProgramLiveObjectsAndSignature) {
  ToolRun r = fixture({"run", file("a.txt", kBugA)});
  ASSERT_TRUE(crashed(r)) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "==mcfuzz== REPORT refcount-underflow: ")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, std::string("==mcfuzz== PROGRAM (2 calls)\n") + kBugA +
                                           "==mcfuzz== END PROGRAM\n"))
      << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "==mcfuzz== live objects: ")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "==mcfuzz== schedule trace")) << "deterministic mode";
  // The in-process signature is the one computed from the log afterwards.
  std::string in_process = signature_line(r.err);
  EXPECT_EQ(in_process, offline_signature(r.err));
  EXPECT_TRUE(absl::StartsWith(in_process, "refcount-underflow-")) << in_process;
}

TEST_F(ReproCliTest, SignatureIsStableAcrossRunsAndBuildsAndDistinctAcrossFindings) {
  std::string a = file("a.txt", kBugA), b = file("b.txt", kBugB);
  std::string a1 = signature_line(fixture({"run", a}).err);
  std::string a2 = signature_line(fixture({"run", a}).err);
  std::string b1 = signature_line(fixture({"run", b}).err);
  EXPECT_EQ(a1, a2);
  EXPECT_NE(a1, b1);
  EXPECT_TRUE(absl::StartsWith(b1, "lock-held-at-return-")) << b1;
  // Across builds: what every build of this flavour gives (function names
  // only, so rebuilding and moving the checkout change nothing). A build with
  // a sanitizer runtime prints stacks, so its signatures name the frames.
#if defined(MCF_FLAVOUR_asan) || defined(MCF_FLAVOUR_ubsan) || defined(MCF_FLAVOUR_tsan)
  EXPECT_TRUE(absl::StrContains(
      a1, " refcount-underflow in mcf::fixture::fixture_remove <- mcf::platform_remove <- "))
      << a1;
  EXPECT_TRUE(absl::StartsWith(a1, "refcount-underflow-fixture_remove-")) << a1;
#else
  EXPECT_EQ(a1.substr(a1.find(' ') + 1), "refcount-underflow (fixture_drv.users)");
#endif
}

// Bug C writes into freed memory: only ASan turns that into a finding;
// anywhere else it is undefined behaviour (under TSan's allocator it hung),
// so the test exists in the asan flavour only.
#if defined(MCF_FLAVOUR_asan)
TEST_F(ReproCliTest, UseAfterFreeOfDevmMemory) {
  ToolRun r = fixture({"run", file("c.txt", kBugC)});
  ASSERT_TRUE(crashed(r)) << r.out;
  EXPECT_TRUE(absl::StrContains(r.err, "ERROR: AddressSanitizer: heap-use-after-free")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, std::string("==mcfuzz== PROGRAM (3 calls)\n") + kBugC));
  std::string in_process = signature_line(r.err);
  EXPECT_EQ(in_process, offline_signature(r.err));
  EXPECT_TRUE(absl::StrContains(in_process,
                                " heap-use-after-free in mcf::fixture::fixture_release <- "
                                "mcf::v4l2_release <- mcf::fput"))
      << in_process;
}
#endif  // MCF_FLAVOUR_asan

// UBSan's finding: the signature line is computed in-process as well, and
// is the one the log gives.
#if defined(MCF_FLAVOUR_asan) || defined(MCF_FLAVOUR_ubsan)
TEST_F(ReproCliTest, UndefinedBehaviourGetsItsSignatureInProcess) {
  ToolRun r = fixture({"run", file("d.txt", kBugD)});
  ASSERT_TRUE(crashed(r)) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "runtime error: shift exponent 40")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, std::string("==mcfuzz== PROGRAM (2 calls)\n") + kBugD));
  std::string in_process = signature_line(r.err);
  EXPECT_EQ(in_process, offline_signature(r.err));
  EXPECT_TRUE(absl::StrContains(in_process, " ubsan-shift-out-of-bounds in mcf::fixture::fixture_enum_fmt"))
      << in_process;
}
#endif

// ThreadSanitizer's finding: both accesses' frames, in-process, equal to
// the log's.
#if defined(MCF_FLAVOUR_tsan)
TEST_F(ReproCliTest, DataRaceGetsItsSignatureInProcess) {
  ToolRun r = fixture({"run", file("e.txt", kBugE)});
  ASSERT_TRUE(crashed(r)) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "WARNING: ThreadSanitizer: data race")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, std::string("==mcfuzz== PROGRAM (2 calls)\n") + kBugE));
  std::string in_process = signature_line(r.err);
  EXPECT_EQ(in_process, offline_signature(r.err));
  EXPECT_TRUE(absl::StartsWith(in_process, "data-race-")) << in_process;
  // One access in the ioctl, the other in its work item (a lambda inside it).
  EXPECT_TRUE(absl::StrContains(in_process, " vs ")) << in_process;
  std::vector<std::string> sides = absl::StrSplit(in_process.substr(in_process.find(" in ")), " vs ");
  ASSERT_EQ(sides.size(), 2u) << in_process;
  for (const std::string& side : sides)
    EXPECT_TRUE(absl::StrContains(side, "mcf::fixture::fixture_g_fmt")) << in_process;
}
#endif

TEST_F(ReproCliTest, ReplayHitsTheSignatureNOfNTimesInEachMode) {
  std::string a = file("a.txt", kBugA);
  std::string expected = signature_line(fixture({"run", a}).err);
  std::string text = expected.substr(expected.find(' ') + 1);
  for (const char* mode : {"--mode=deterministic", "--mode=threads", "--mode=sequential"}) {
    ToolRun r = fixture({"replay", "--times=5", mode, a});
    EXPECT_EQ(r.exit_status, 0) << mode << "\n" << r.out << r.err;
    EXPECT_TRUE(absl::StrContains(r.out, "result: 5/5 runs hit " + text + "\n")) << mode << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "  0/5  clean\n")) << r.out;
  }
}

TEST_F(ReproCliTest, ReplayExpectCleanPassesOnlyWhenNoRunCrashed) {
  ToolRun clean = fixture({"replay", "--times=3", "--expect-clean", file("ok.txt", kClean)});
  EXPECT_EQ(clean.exit_status, 0) << clean.out << clean.err;
  EXPECT_TRUE(absl::StrContains(clean.out, "result: 3/3 runs clean")) << clean.out;
  ToolRun bad = fixture({"replay", "--times=2", "--expect-clean", file("a.txt", kBugA)});
  EXPECT_EQ(bad.exit_status, 1) << bad.out;
  EXPECT_TRUE(absl::StrContains(bad.err, "==mcfuzz== REPORT refcount-underflow"))
      << "the crashing run's log is shown";
  // Without --expect-clean a clean program is "not reproduced".
  EXPECT_EQ(fixture({"replay", "--times=1", file("ok2.txt", kClean)}).exit_status, 1);
}

// Two threads, each with its own fd; t0 preempted at its first call's entry.
const char kTwoThreads[] =
    "t0 r0 = open(mcf-fixture.0:video[0], O_RDWR)\n"
    "t1 r1 = open(mcf-fixture.0:video[0], O_RDWR)\n"
    "t0 ioctl(r0, VIDIOC_QUERYCAP)\n"
    "t1 ioctl(r1, VIDIOC_G_INPUT)\n"
    "t0 close(r0)\n"
    "t1 close(r1)\n";

// The lines of `out` that are trace events: "<thread> c<call> <point>...".
std::vector<std::string> trace_lines(const std::string& out) {
  std::vector<std::string> lines;
  for (absl::string_view l : absl::StrSplit(out, '\n'))
    if (absl::StartsWith(l, "t0 ") || absl::StartsWith(l, "t1 ") || absl::StartsWith(l, "teardown "))
      lines.emplace_back(l);
  return lines;
}

TEST_F(ReproCliTest, ReplayTracePrintsTheInterleavingOfACleanAndOfACrashingRun) {
  // 1. A clean run: every scheduling point as thread, call, point kind and
  //    number, object class and label; the preemption the schedule asks for.
  std::string two = file("two.txt", std::string(kTwoThreads) + "schedule: t0@0.enter#0 -> t1\n");
  ToolRun r = fixture({"replay", "--times=2", "--expect-clean", "--trace", two});
  ASSERT_EQ(r.exit_status, 0) << r.out << r.err;
  std::vector<std::string> lines = trace_lines(r.out);
  ASSERT_GT(lines.size(), 10u) << r.out;
  EXPECT_TRUE(absl::StartsWith(lines[0], "t0 c0 enter#0 ")) << lines[0];
  EXPECT_EQ(lines[1], "t0 preempted at c0.enter#0 -> t1");
  EXPECT_TRUE(absl::StartsWith(lines[2], "t1 c0 enter#0 ")) << lines[2];
  bool t0_ioctl = false, teardown = false;
  for (const std::string& l : lines) {
    t0_ioctl |= absl::StartsWith(l, "t0 c1 enter#0 ");
    teardown |= absl::StartsWith(l, "teardown ");
  }
  EXPECT_TRUE(t0_ioctl) << r.out;
  EXPECT_TRUE(teardown) << r.out;
  // The same program under PCT: t1 has the highest priority, so it starts.
  std::string pct = file("pct.txt", std::string(kTwoThreads) + "schedule: pct t1>t0>t2>t3\n");
  ToolRun p = fixture({"replay", "--times=1", "--expect-clean", "--trace", pct});
  ASSERT_EQ(p.exit_status, 0) << p.out << p.err;
  std::vector<std::string> pct_lines = trace_lines(p.out);
  ASSERT_FALSE(pct_lines.empty()) << p.out;
  EXPECT_TRUE(absl::StartsWith(pct_lines[0], "t1 c0 enter#0 ")) << pct_lines[0];
  // 2. A crashing run prints its whole trace too, up to the finding.
  ToolRun a = fixture({"replay", "--times=1", "--trace", file("a.txt", kBugA)});
  EXPECT_EQ(a.exit_status, 0) << a.out << a.err;
  EXPECT_FALSE(absl::StrContains(a.out, "(no trace")) << a.out;
  std::vector<std::string> crash_lines = trace_lines(a.out);
  ASSERT_FALSE(crash_lines.empty()) << a.out;
  EXPECT_TRUE(absl::StartsWith(crash_lines[0], "t0 c0 enter#0 ")) << a.out;
  // 3. Threads mode has no trace, and says so.
  ToolRun t = fixture({"replay", "--times=1", "--mode=threads", "--expect-clean", "--trace", two});
  EXPECT_TRUE(absl::StrContains(t.out, "(no trace: not deterministic mode)")) << t.out;
}

TEST_F(ReproCliTest, MinimizeShrinksAPaddedProgramToTheKnownMinimalOne) {
  std::string out = path("min.txt");
  ToolRun r = fixture({"minimize", "--out=" + out, file("padded.txt", kPaddedA)});
  ASSERT_EQ(r.exit_status, 0) << r.out << r.err;
  EXPECT_EQ(program_lines(r.out), kBugA) << r.out;
  EXPECT_EQ(read_all(out), r.out);
  // The minimised program crashes with the signature it was minimised for.
  std::string sig = signature_line(fixture({"run", out}).err);
  EXPECT_TRUE(absl::StrContains(r.out, "# signature: " + sig + "\n")) << r.out << sig;
  EXPECT_TRUE(absl::StrContains(r.err, "minimize: drop call")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "minimize: drop schedule step 0")) << r.err;
}

TEST_F(ReproCliTest, MinimizeRefusesAProgramThatDoesNotCrash) {
  ToolRun r = fixture({"minimize", file("ok.txt", kClean)});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "no crash in 1 run(s)")) << r.err;
}

TEST_F(ReproCliTest, RunPrintsEachCallsResult) {
  ToolRun r = fixture({"run", "--mode=sequential", file("ok.txt", kClean)});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  // One line per call, results aligned after the longest call.
  EXPECT_TRUE(absl::StrContains(
      r.out, "t0 ioctl(r0, VIDIOC_ENUM_FMT, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE}) = 0\n"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "t0 close(r0)" + std::string(53, ' ') + " = 0\n")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "# no finding; live objects after teardown: none")) << r.out;
  ToolRun e = fixture({"run", "--mode=sequential",
                   file("enodev.txt", "t0 unbind(mcf-fixture.0)\nt0 r0 = open(mcf-fixture.0:video[0], O_RDWR)\n")});
  EXPECT_TRUE(absl::StrContains(e.out, "= -ENOENT\n")) << e.out;
}

// Every bad input: exit status 2 and exactly one line on stderr.
TEST_F(ReproCliTest, BadInputGetsOneLineAndExitStatus2) {
  std::string a = file("a.txt", kBugA);
  ASSERT_EQ(fixture({"convert", "--to=binary", a, path("a.bin")}).exit_status, 0);
  std::string bin = read_all(path("a.bin"));
  ASSERT_GT(bin.size(), 4u);
  struct Case {
    std::vector<std::string> args;
    const char* says;
  } cases[] = {
      {{"print", file("cut.bin", bin.substr(0, bin.size() - 1))}, "truncated binary program"},
      {{"print", file("png.bin", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16))},
       "not an mcfuzz program"},
      {{"print", file("prose.txt", "Hello, this is not a program.\n")}, "not an mcfuzz program"},
      {{"run", file("typo.txt", "t0 r0 = open(mcf-fixture.0:video[0], O_RDWR)\nt0 iotcl(r0)\n")},
       "line 2: "},
      {{"replay", file("cutlog.txt", "==mcfuzz== PROGRAM (2 calls)\nt0 r0 = open(mcf-f")},
       "truncated crash log"},
      {{"print", path("does-not-exist.txt")}, "cannot open"},
      {{"replay", "--bogus", a}, "unknown flag --bogus"},
      {{"replay", "-x", a}, "unknown flag -x"},
      {{"print", "--times=3", a}, "--times does not apply to print"},
      {{"replay", "--times=zero", a}, "--times needs a whole number"},
      {{"replay", "--mode=fast", a}, "--mode=fast: not deterministic, threads or sequential"},
      {{"convert", "--to=xml", a, path("x")}, "convert needs --to=text or --to=binary"},
      {{"frobnicate", a}, "unknown command 'frobnicate'"},
      {{"print"}, "print takes 1 argument"},
      {{}, "no command"},
  };
  for (const Case& c : cases) {
    ToolRun r = fixture(c.args);
    std::string shown = absl::StrJoin(c.args, " ");
    EXPECT_EQ(r.exit_status, 2) << shown << "\n" << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, c.says)) << shown << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << shown << "\n" << r.err;
    EXPECT_TRUE(absl::StartsWith(r.err, "mcf-repro-fixture: ")) << r.err;
  }
  // --lenient reads the cut binary as a fuzz target would: one call fewer.
  ToolRun lenient = fixture({"print", "--lenient", path("cut.bin")});
  EXPECT_EQ(lenient.exit_status, 0) << lenient.err;
  EXPECT_EQ(lenient.out, "t0 r0 = open(mcf-fixture.0:video[0], O_RDWR)\n");
}

TEST_F(ReproCliTest, PrintAndConvertAnyFormOfTheShippedCorpus) {
  std::string entry = std::string(MCF_SOURCE_DIR) + "/corpus/lifetime_fuzzer/unbind_while_streaming.txt";
  auto parsed = fuzz::program_from_text(read_all(entry));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::string canonical = fuzz::program_to_text(*parsed);
  ToolRun text = tool({"print", entry});
  ASSERT_EQ(text.exit_status, 0) << text.err;
  EXPECT_EQ(text.out, canonical);
  ASSERT_EQ(tool({"convert", "--to=binary", entry, path("e.bin")}).exit_status, 0);
  EXPECT_EQ(tool({"print", path("e.bin")}).out, canonical);
  ASSERT_EQ(tool({"convert", "--to=text", path("e.bin"), path("e.txt")}).exit_status, 0);
  EXPECT_EQ(read_all(path("e.txt")), canonical);
  // A crash log gives back its PROGRAM block.
  std::string log = "INFO: Seed: 1\n==mcfuzz== REPORT warning: x\n==mcfuzz== PROGRAM (17 calls)\n" +
                    canonical + "==mcfuzz== END PROGRAM\n==mcfuzz== SIGNATURE warning-1 warning\n";
  EXPECT_EQ(tool({"print", file("crash.log", log)}).out, canonical);
}

TEST_F(ReproCliTest, TopologyPrintsTheMediaCtlDumpOrDot) {
  ToolRun text = tool({"topology"});
  ASSERT_EQ(text.exit_status, 0) << text.err;
  EXPECT_TRUE(absl::StrContains(text.out, "driver          vimc\n")) << text.out;
  EXPECT_TRUE(absl::StrContains(text.out, "- entity 1: Sensor A (1 pad, 2 links)\n")) << text.out;
  ToolRun dot = tool({"topology", "--driver=omap3isp", "--dot"});
  ASSERT_EQ(dot.exit_status, 0) << dot.err;
  EXPECT_TRUE(absl::StartsWith(dot.out, "digraph board {\n")) << dot.out;
  EXPECT_TRUE(absl::StrContains(dot.out, "OMAP3 ISP CCDC")) << dot.out;
  ToolRun bad = tool({"topology", "--driver=nope"});
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_TRUE(absl::StrContains(bad.err, "unknown driver 'nope' (drivers: vimc, omap3isp, mcf-sensor)"))
      << bad.err;
}

TEST_F(ReproCliTest, HelpListsEveryCommandAndFlag) {
  ToolRun r = tool({"--help"});
  ASSERT_EQ(r.exit_status, 0);
  for (const char* s : {"print FILE", "convert --to=text|binary IN OUT", "run [--mode=M] FILE",
                        "replay [--mode=M]", "minimize [--mode=M]", "signature LOG",
                        "topology [--driver=NAME] [--dot]", "--times=N", "--lenient", "exit status"})
    EXPECT_TRUE(absl::StrContains(r.out, s)) << s;
  EXPECT_FALSE(absl::StrContains(r.out, "__run-child")) << "internal";
}

// `faults` lists the failure points each call reaches, and the n it gives
// for one of them is the fail_nth that fails that very point.
TEST_F(ReproCliTest, FaultsListsEachCallsFailurePointsToAimFailNth) {
  const std::string prog =
      "t0 r0 = open(vimc.0:video[2], O_RDWR)\n"
      "t0 ioctl(r0, VIDIOC_QUERYCAP)\n";
  ToolRun r = tool({"faults", "--mode=sequential", file("p.txt", prog)});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  // The open allocates its struct file and its v4l2_fh; QUERYCAP nothing.
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n');
  auto at = [&](const std::string& prefix) {
    for (size_t i = 0; i < lines.size(); ++i)
      if (absl::StartsWith(lines[i], prefix)) return static_cast<int>(i);
    return -1;
  };
  int open_line = at("t0 r0 = open(vimc.0:video[2], O_RDWR) = ");
  int querycap_line = at("t0 ioctl(r0, VIDIOC_QUERYCAP) = 0: 0 failure points");
  ASSERT_GE(open_line, 0) << r.out;
  ASSERT_GT(querycap_line, open_line) << r.out;
  int fh_n = 0;
  for (int i = open_line + 1; i < querycap_line; ++i) {
    int n = 0;
    char rest[128] = {};
    ASSERT_EQ(std::sscanf(lines[i].c_str(), " %d %127[^\n]", &n, rest), 2) << lines[i];
    EXPECT_EQ(n, i - open_line) << "numbered from 1, in order";
    EXPECT_TRUE(absl::EndsWith(rest, " -ENOMEM")) << lines[i];
    if (std::string(rest) == "kzalloc v4l2_fh -ENOMEM") fh_n = n;
  }
  EXPECT_TRUE(absl::StrContains(r.out, "  kzalloc file -ENOMEM\n")) << r.out;
  ASSERT_GT(fh_n, 0) << "no kzalloc v4l2_fh point listed:\n" << r.out;
  EXPECT_TRUE(absl::StrContains(lines[open_line], absl::StrCat(": ", querycap_line - open_line - 1,
                                                               " failure points")))
      << lines[open_line];

  // Aimed at the v4l2_fh allocation: the open fails with -ENOMEM there.
  std::string aimed = absl::StrCat("t0 r0 = open(vimc.0:video[2], O_RDWR) fail_nth=", fh_n,
                                   "\nt0 ioctl(r0, VIDIOC_QUERYCAP)\n");
  ToolRun run = tool({"run", "--mode=sequential", file("aimed.txt", aimed)});
  ASSERT_EQ(run.exit_status, 0) << run.err;
  EXPECT_TRUE(absl::StrContains(run.out, "= -ENOMEM (fault: kzalloc)\n")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "VIDIOC_QUERYCAP) ")) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, " = -EBADF\n")) << "the ioctl on the failed open's fd\n"
                                                        << run.out;
  ToolRun marked = tool({"faults", "--mode=sequential", path("aimed.txt")});
  ASSERT_EQ(marked.exit_status, 0) << marked.err;
  EXPECT_TRUE(absl::StrContains(
      marked.out, absl::StrCat(fh_n, "  kzalloc v4l2_fh -ENOMEM  <- fails (fail_nth)\n")))
      << marked.out;

  // Bad input: one line, exit status 2.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"faults", file("prose.txt", "not a program\n")},
        std::vector<std::string>{"faults"},
        std::vector<std::string>{"faults", "--times=2", path("p.txt")},
        std::vector<std::string>{"faults", "--mode=fast", path("p.txt")}}) {
    ToolRun bad = tool(args);
    EXPECT_EQ(bad.exit_status, 2) << absl::StrJoin(args, " ") << "\n" << bad.err;
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  }
  EXPECT_TRUE(absl::StrContains(tool({"--help"}).out, "faults [--mode=M] FILE"));
}

}  // namespace
}  // namespace mcf::repro
