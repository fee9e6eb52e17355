// Crash signatures (fuzzers/repro/signature.h) from canned logs in each
// tool's format: which stack, which frames, what is normalised away, and
// that one finding gives one signature while two findings give two.
#include <gtest/gtest.h>

#include <string>

#include "fuzzers/repro/signature.h"

namespace mcf::repro {
namespace {

// A model report under ASan: the stack __sanitizer_print_stack_trace printed
// inside report(), with the reporting machinery on top.
const char kModelReportAsan[] = R"(INFO: Seed: 1
==mcfuzz== REPORT refcount-underflow: refcount_t: underflow; use-after-free
==mcfuzz== object: fixture_drv.users 0x6080000012a8
==mcfuzz== call: t4 teardown
==mcfuzz== context: process
==mcfuzz== locks held: device.mutex
    #0 0x55d1c0a3 in __sanitizer_print_stack_trace /build/llvm-toolchain-14/compiler-rt/lib/asan/asan_stack.cpp:87:3
    #1 0x55d1c1b4 in mcf::report(mcf::ReportKind, char const*, char const*, ...) /src/mcfuzz/core/kernel/report.cc:75:45
    #2 0x55d1c2c5 in mcf::(anonymous namespace)::refcount_report(mcf::ReportKind, mcf::refcount_t const*, char const*) /src/mcfuzz/core/kernel/refcount.cc:14:3
    #3 0x55d1c3d6 in mcf::refcount_t::dec_and_test() /src/mcfuzz/core/kernel/refcount.cc:61:5
    #4 0x55d1c4e7 in mcf::kref_put(mcf::kref*, void (*)(mcf::kref*)) /src/mcfuzz/core/kernel/refcount.h:58:20
    #5 0x55d1c5f8 in mcf::fixture::(anonymous namespace)::fixture_remove(mcf::platform_device*) /src/mcfuzz/tests/repro_fixture/fixture_driver.cc:160:3
    #6 0x55d1c609 in mcf::(anonymous namespace)::platform_remove(mcf::device*) /src/mcfuzz/core/kernel/platform.cc:40:5
    #7 0x55d1c71a in mcf::(anonymous namespace)::release_driver_locked(mcf::device*) /src/mcfuzz/core/kernel/device.cc
    #8 0x55d1c82b in mcf::device_del(mcf::device*) /src/mcfuzz/core/kernel/device.cc:125:7
    #9 0x55d1c93c in mcf::fuzz::DeviceTable::unplug_all() /src/mcfuzz/fuzzers/exec/exec_tables.cc:60:5
    #10 0x7f12 in __libc_start_main (/lib/x86_64-linux-gnu/libc.so.6+0x271ca)
==mcfuzz== END REPORT refcount-underflow
==mcfuzz== PROGRAM (2 calls)
t0 r0 = open(mcf-fixture.0:video[0], O_RDWR)
t0 ioctl(r0, VIDIOC_S_INPUT, {input=1})
==mcfuzz== END PROGRAM
==12345== ERROR: libFuzzer: deadly signal
    #0 0x55d1 in __sanitizer_print_stack_trace
)";

// The same finding from another build: other addresses, lines, checkout.
const char kModelReportAsanRebuilt[] = R"(==mcfuzz== REPORT refcount-underflow: refcount_t: underflow; use-after-free
==mcfuzz== object: fixture_drv.users 0x6080000099a8
    #0 0x4a1c0a3 in __sanitizer_print_stack_trace /usr/src/compiler-rt/lib/asan/asan_stack.cpp:87:3
    #1 0x4a1c1b4 in mcf::report(mcf::ReportKind, char const*, char const*, ...) /home/me/core/mcfuzz/core/kernel/report.cc:80:45
    #2 0x4a1c2c5 in mcf::(anonymous namespace)::refcount_report(mcf::ReportKind, mcf::refcount_t const*, char const*) /home/me/core/mcfuzz/core/kernel/refcount.cc:14:3
    #3 0x4a1c3d6 in mcf::refcount_t::dec_and_test() /home/me/core/mcfuzz/core/kernel/refcount.cc:66:5
    #4 0x4a1c4e7 in mcf::kref_put(mcf::kref*, void (*)(mcf::kref*)) /home/me/core/mcfuzz/core/kernel/refcount.h:58:20
    #5 0x4a1c5f8 in mcf::fixture::(anonymous namespace)::fixture_remove(mcf::platform_device*) /home/me/core/mcfuzz/tests/repro_fixture/fixture_driver.cc:171:3
    #6 0x4a1c609 in mcf::(anonymous namespace)::platform_remove(mcf::device*) /home/me/core/mcfuzz/core/kernel/platform.cc:41:5
    #7 0x4a1c71a in mcf::(anonymous namespace)::release_driver_locked(mcf::device*) /home/me/core/mcfuzz/core/kernel/device.cc:52:7
==mcfuzz== END REPORT refcount-underflow
)";

const char kAsanUseAfterFree[] = R"(=================================================================
==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x606000001250 at pc 0x55 bp 0x7ff sp 0x7ff
WRITE of size 4 at 0x606000001250 thread T2
    #0 0x55d1 in mcf::fixture::(anonymous namespace)::fixture_release(mcf::file*) /w/tests/repro_fixture/fixture_driver.cc:52:20
    #1 0x55d2 in mcf::v4l2_release(mcf::inode*, mcf::file*) /w/core/v4l2/v4l2_dev.cc:79:40
    #2 0x55d3 in mcf::fput(mcf::file*) /w/core/fs/file.cc:40:5
    #3 0x55d4 in mcf::process::close(int) /w/core/fs/process.cc:90:3
    #4 0x55d5 in mcf::fuzz::exec_call(mcf::fuzz::ExecInput&, unsigned long) /w/fuzzers/exec/exec_calls.cc:170:13

0x606000001250 is located 64 bytes inside of 68-byte region [0x606000001210,0x606000001254)
freed by thread T3 here:
    #0 0x55e1 in operator delete(void*) (/w/build/mcf-repro-fixture+0x1bd6e2)
    #1 0x55e2 in void mcf::kfree<mcf::fixture::fixture_stats>(mcf::fixture::fixture_stats*) /w/core/kernel/slab.h:20:3
    #2 0x55e3 in mcf::devres_release_all(mcf::device*) /w/core/kernel/device.cc:210:5

previously allocated by thread T0 here:
    #0 0x55f1 in operator new(unsigned long) (/w/build/mcf-repro-fixture+0x1bce82)

SUMMARY: AddressSanitizer: heap-use-after-free /w/tests/repro_fixture/fixture_driver.cc:52:20 in fixture_release
)";

const char kTsanRaceA[] = R"(==================
WARNING: ThreadSanitizer: data race (pid=777)
  Write of size 1 at 0x7b1000000128 by thread T2:
    #0 mcf::device_del(mcf::device*) /w/core/kernel/device.cc:140:15 (race_fuzzer+0x1234)
    #1 mcf::platform_device_del(mcf::platform_device*) /w/core/kernel/platform.cc:80:3 (race_fuzzer+0x1235)
    #2 mcf::platform_device_unregister(mcf::platform_device*) /w/core/kernel/platform.cc:90:3 (race_fuzzer+0x1236)

  Previous read of size 1 at 0x7b1000000128 by thread T1 (mutexes: write M42):
    #0 mcf::driver_register(mcf::device_driver*) /w/core/kernel/device.cc:167:47 (race_fuzzer+0x2234)
    #1 mcf::platform_driver_register(mcf::platform_driver*) /w/core/kernel/platform.cc:100:10 (race_fuzzer+0x2235)
    #2 mcf::vimc_driver_register() /w/drivers/vimc/vimc_core.cc:300:10 (race_fuzzer+0x2236)

  Location is heap block of size 400 at 0x7b1000000000 allocated by main thread:
    #0 operator new(unsigned long) <null> (race_fuzzer+0x9999)

SUMMARY: ThreadSanitizer: data race /w/core/kernel/device.cc:140:15 in mcf::device_del(mcf::device*)
)";

// The same race, the other thread seen second.
const char kTsanRaceB[] = R"(WARNING: ThreadSanitizer: data race (pid=778)
  Read of size 1 at 0x7b1000000228 by thread T1 (mutexes: write M42):
    #0 mcf::driver_register(mcf::device_driver*) /x/core/kernel/device.cc:167:47 (race_fuzzer+0x2234)
    #1 mcf::platform_driver_register(mcf::platform_driver*) /x/core/kernel/platform.cc:100:10 (race_fuzzer+0x2235)

  Previous write of size 1 at 0x7b1000000228 by thread T2:
    #0 mcf::device_del(mcf::device*) /x/core/kernel/device.cc:140:15 (race_fuzzer+0x1234)
    #1 mcf::platform_device_del(mcf::platform_device*) /x/core/kernel/platform.cc:80:3 (race_fuzzer+0x1235)

SUMMARY: ThreadSanitizer: data race /x/core/kernel/device.cc:140:15 in mcf::device_del(mcf::device*)
)";

const char kUbsan[] = R"(/w/drivers/vimc/vimc_scaler.cc:88:21: runtime error: signed integer overflow: 2147483647 + 1 cannot be represented in type 'int'
    #0 0x55 in mcf::vimc_scaler_set_fmt(mcf::v4l2_subdev*) /w/drivers/vimc/vimc_scaler.cc:88:21
    #1 0x56 in mcf::v4l2_subdev_call_set_fmt(mcf::v4l2_subdev*) /w/core/v4l2/v4l2_subdev_ioctl.cc:50:3
SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior /w/drivers/vimc/vimc_scaler.cc:88:21 in
)";

const char kLeakReport[] =
    "==mcfuzz== REPORT object-leak: objects alive after the executor's teardown: device=2 "
    "platform_device=1 vimc_device=1\n==mcfuzz== call: t4 teardown\n==mcfuzz== END REPORT "
    "object-leak\n";

const char kLsan[] = R"(==99==ERROR: LeakSanitizer: detected memory leaks

Indirect leak of 8 byte(s) in 1 object(s) allocated from:
    #0 0x1 in operator new(unsigned long) (/bin/t+0x1)
    #1 0x2 in mcf::media_entity_create() /w/core/mc/media_entity.cc:10:3

Direct leak of 16 byte(s) in 1 object(s) allocated from:
    #0 0x3 in operator new(unsigned long) (/bin/t+0x3)
    #1 0x4 in mcf::fuzz::something() /w/fuzzers/exec/x.cc:1:1
    #2 0x5 in mcf::vimc_probe(mcf::platform_device*) /w/drivers/vimc/vimc_core.cc:200:9

SUMMARY: AddressSanitizer: 24 byte(s) leaked in 2 allocation(s).
)";

TEST(ReproSignatureTest, ModelReportSkipsTheMachineryAndTheHarness) {
  SignatureOptions opts;
  opts.model_dirs = {"tests/repro_fixture/"};
  Signature s = signature_of_log(kModelReportAsan, opts);
  EXPECT_EQ(s.kind, "refcount-underflow");
  EXPECT_EQ(s.text(),
            "refcount-underflow in mcf::fixture::fixture_remove <- mcf::platform_remove <- "
            "mcf::release_driver_locked");
  EXPECT_TRUE(s.detail.empty()) << "frames make the detail unnecessary";
  // Without the fixture's folder its frames are harness: core's remain.
  EXPECT_EQ(signature_of_log(kModelReportAsan).text(),
            "refcount-underflow in mcf::platform_remove <- mcf::release_driver_locked <- "
            "mcf::device_del");
}

TEST(ReproSignatureTest, SameFindingSameSignatureAcrossBuildsAndCheckouts) {
  SignatureOptions opts;
  opts.model_dirs = {"tests/repro_fixture/"};
  Signature a = signature_of_log(kModelReportAsan, opts);
  Signature b = signature_of_log(kModelReportAsanRebuilt, opts);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.id(), b.id());
}

TEST(ReproSignatureTest, IdIsFileSafeAndNamesKindAndTopFrame) {
  SignatureOptions opts;
  opts.model_dirs = {"tests/repro_fixture/"};
  std::string id = signature_of_log(kModelReportAsan, opts).id();
  EXPECT_EQ(id.rfind("refcount-underflow-fixture_remove-", 0), 0u) << id;
  EXPECT_EQ(id.size(), std::string("refcount-underflow-fixture_remove-").size() + 8) << id;
  for (char c : id) EXPECT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') << id;
}

TEST(ReproSignatureTest, AsanUseAfterFreeUsesTheAccessStackOnly) {
  SignatureOptions opts;
  opts.model_dirs = {"tests/repro_fixture/"};
  std::optional<Finding> f = parse_finding(kAsanUseAfterFree);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->tool, "asan");
  EXPECT_EQ(f->kind, "heap-use-after-free");
  EXPECT_EQ(f->stacks.size(), 3u);
  EXPECT_EQ(make_signature(*f, opts).text(),
            "heap-use-after-free in mcf::fixture::fixture_release <- mcf::v4l2_release <- "
            "mcf::fput");
}

TEST(ReproSignatureTest, DataRaceIsTheSameWhicheverThreadTsanSawSecond) {
  Signature a = signature_of_log(kTsanRaceA);
  Signature b = signature_of_log(kTsanRaceB);
  EXPECT_EQ(a.kind, "data-race");
  EXPECT_EQ(a.text(),
            "data-race in mcf::device_del <- mcf::platform_device_del vs mcf::driver_register <- "
            "mcf::platform_driver_register");
  EXPECT_EQ(a, b);
}

TEST(ReproSignatureTest, UbsanKindFromTheMessage) {
  Signature s = signature_of_log(kUbsan);
  EXPECT_EQ(s.text(),
            "ubsan-signed-integer-overflow in mcf::vimc_scaler_set_fmt <- "
            "mcf::v4l2_subdev_call_set_fmt");
}

TEST(ReproSignatureTest, ModelLeakWithoutFramesNamesTheLeakedTypes) {
  Signature s = signature_of_log(kLeakReport);
  EXPECT_EQ(s.text(), "object-leak (device,platform_device,vimc_device)");
  EXPECT_EQ(s.id().rfind("object-leak-device-", 0), 0u) << s.id();
}

TEST(ReproSignatureTest, LsanPrefersTheDirectLeak) {
  Signature s = signature_of_log(kLsan);
  EXPECT_EQ(s.text(), "memory-leak in mcf::vimc_probe");
}

TEST(ReproSignatureTest, FramelessModelReportUsesTheNormalisedObject) {
  // A debug build prints no stack.
  Signature s = signature_of_log(
      "==mcfuzz== REPORT irq-after-remove: IRQ 7 handler 'vimc' of vimc.0 ran after its "
      "driver's remove() returned\n==mcfuzz== object: vimc.0\n==mcfuzz== END REPORT "
      "irq-after-remove\n");
  EXPECT_EQ(s.text(), "irq-after-remove (vimc.N)");
  Signature r = signature_of_log(
      "==mcfuzz== REPORT refcount-underflow: refcount_t: underflow\n==mcfuzz== object: "
      "media_entity 0x602000000010\n==mcfuzz== END REPORT refcount-underflow\n");
  EXPECT_EQ(r.text(), "refcount-underflow (media_entity)");
}

TEST(ReproSignatureTest, DifferentFindingsDiffer) {
  SignatureOptions opts;
  opts.model_dirs = {"tests/repro_fixture/"};
  const char* logs[] = {kModelReportAsan, kAsanUseAfterFree, kTsanRaceA, kUbsan, kLeakReport, kLsan};
  for (size_t i = 0; i < std::size(logs); ++i) {
    for (size_t j = i + 1; j < std::size(logs); ++j) {
      EXPECT_NE(signature_of_log(logs[i], opts).text(), signature_of_log(logs[j], opts).text());
      EXPECT_NE(signature_of_log(logs[i], opts).id(), signature_of_log(logs[j], opts).id());
    }
  }
}

TEST(ReproSignatureTest, EarliestFindingWinsAndCleanLogsHaveNone) {
  // The model's report comes before the deadly signal libFuzzer reports
  // for its abort().
  EXPECT_EQ(parse_finding(kModelReportAsan)->tool, "mcfuzz");
  EXPECT_FALSE(parse_finding("INFO: Seed: 1\nDone 4 runs in 0 second(s)\n").has_value());
  EXPECT_TRUE(signature_of_log("").empty());
  EXPECT_EQ(signature_of_log("x\n==mcfuzz== CHILD SIGNAL SIGSEGV\n").text(), "signal-SIGSEGV");
  EXPECT_EQ(signature_of_log("==1== ERROR: libFuzzer: timeout after 25 seconds\n").kind, "timeout");
}

TEST(ReproSignatureTest, NormalizeFunction) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"mcf::device_del(mcf::device*)", "mcf::device_del"},
      {"mcf::fixture::(anonymous namespace)::fixture_remove(mcf::platform_device*)",
       "mcf::fixture::fixture_remove"},
      {"mcf::refcount_t::dec_and_test() const", "mcf::refcount_t::dec_and_test"},
      {"void mcf::kfree<mcf::fixture::fixture_stats>(mcf::fixture::fixture_stats*)",
       "mcf::kfree<mcf::fixture::fixture_stats>"},
      {"mcf::Tracked<mcf::device>::~Tracked()", "mcf::Tracked<mcf::device>::~Tracked"},
      {"std::function<void (int)>::operator()(int) const", "std::function<void (int)>::operator()"},
      {"mcf::fuzz::run_threads(mcf::fuzz::ExecInput&)::$_0::operator()(int) const",
       "mcf::fuzz::run_threads"},
      {"__libc_start_main", "__libc_start_main"},
  };
  for (const Case& c : cases) EXPECT_EQ(normalize_function(c.in), c.out) << c.in;
}

TEST(ReproSignatureTest, ProjectRelativeOnAnyCheckout) {
  EXPECT_EQ(project_relative("/work/main/core/kernel/device.cc"), "core/kernel/device.cc");
  EXPECT_EQ(project_relative("/home/me/core/mcfuzz/drivers/vimc/vimc_core.cc"),
            "drivers/vimc/vimc_core.cc");
  EXPECT_EQ(project_relative("/src/x/tests/drivers/vimc_test.cc"), "tests/drivers/vimc_test.cc");
  EXPECT_EQ(project_relative("/src/x/fuzzers/tools/repro_cli.cc"), "fuzzers/tools/repro_cli.cc");
  EXPECT_EQ(project_relative("/usr/include/c++/12/bits/std_function.h"), "");
  EXPECT_EQ(project_relative("core.cc"), "");
}

TEST(ReproSignatureTest, ModelFramesExcludeHarnessAndMachinery) {
  SignatureOptions none;
  EXPECT_TRUE(is_model_frame({"mcf::device_del(mcf::device*)", "/w/core/kernel/device.cc"}, none));
  EXPECT_TRUE(is_model_frame({"mcf::vimc_probe()", "/w/drivers/vimc/vimc_core.cc"}, none));
  EXPECT_FALSE(is_model_frame({"mcf::report()", "/w/core/kernel/report.cc"}, none));
  EXPECT_FALSE(is_model_frame({"mcf::Mutex::lock()", "/w/core/kernel/lock.cc"}, none));
  EXPECT_FALSE(is_model_frame({"mcf::fuzz::exec_call()", "/w/fuzzers/exec/exec_calls.cc"}, none));
  EXPECT_FALSE(is_model_frame({"mcf::testing::x()", "/w/tests/support/x.cc"}, none));
  EXPECT_FALSE(is_model_frame({"", "/w/core/kernel/device.cc"}, none));
}

TEST(ReproSignatureTest, NormalizeDetail) {
  EXPECT_EQ(normalize_detail("media_entity 0x602000000010"), "media_entity");
  EXPECT_EQ(normalize_detail("/dev/video3"), "/dev/videoN");
  EXPECT_EQ(normalize_detail("v4l2_device.lock 12"), "v4l2_device.lock N");
  EXPECT_EQ(leaked_types("objects alive after x: b=1 a=2"), "a,b");
}

}  // namespace
}  // namespace mcf::repro
