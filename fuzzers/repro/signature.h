// Crash signatures: what a finding is, in one line that is the same on every
// run and every build of one flavour, so findings can be deduplicated and a
// replay can tell "the same crash" from "another one".
//
//   Finding f = parse_finding(log);            // from a crash log (offline)
//   Signature s = make_signature(f, options);
//   s.text()  "refcount-underflow in mcf::testing::fixture_remove <- mcf::platform_remove <- ..."
//   s.id()    "refcount-underflow-fixture_remove-5c1e09a2"   (file-name safe)
//
// A signature is
//   - the kind of the finding: the model's report kind ("refcount-underflow",
//     core/kernel/report.h), or the sanitizer's ("heap-use-after-free",
//     "data-race", "ubsan-signed-integer-overflow", "memory-leak"), or
//     libFuzzer's ("deadly-signal", "timeout", "out-of-memory");
//   - the top kMaxFrames frames of the finding's first stack that are inside
//     the model (core/ and drivers/, plus SignatureOptions::model_dirs), by
//     function name without parameters, so no address, line or build path
//     takes part. The model's own reporting machinery (report, refcount,
//     lockdep, hw, wait, uaccess... in core/kernel) is skipped: the frame
//     that matters is the one that called it (syzkaller skips
//     refcount_warn_saturate and friends the same way);
//   - for a data race, the top two model frames of each of the two accesses,
//     the pair put in a fixed order (which thread TSan saw second varies);
//   - when no stack frame is in the model (a leak found at teardown, an IRQ
//     after remove, any model report in a build without a sanitizer runtime
//     to print stacks): a detail taken from the report, with numbers and
//     addresses normalised — the leaked types, or the report's object
//     ("vimc.N", "media_entity").
//
// Stability: function names and files come from the symbolizer, so the
// signature of a finding is the same across runs and rebuilds of one
// flavour. It can differ between flavours (a debug build prints no stack, so
// its model-report signatures have no frames; TSan and ASan inline
// differently at -O1): compare signatures from the same preset.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace mcf::repro {

constexpr int kMaxFrames = 3;
constexpr int kMaxRaceFrames = 2;

// One symbolized stack frame.
struct Frame {
  std::string function;  // as symbolized, e.g. "mcf::foo(int) const"
  std::string file;      // source path as printed, or "" when unknown
};

// What a crash log says about its first finding.
struct Finding {
  std::string tool;     // "mcfuzz", "asan", "tsan", "ubsan", "lsan", "libfuzzer", "repro"
  std::string kind;     // see above
  std::string message;  // the header line's text after the kind
  std::string object;   // model reports: the "==mcfuzz== object:" value
  std::vector<std::vector<Frame>> stacks;  // the finding's stacks, in log order
};

struct SignatureOptions {
  // Source folders (relative to the project root, ending in '/') whose
  // frames count as model frames besides core/ and drivers/: a user's own
  // driver models, or a test fixture.
  std::vector<std::string> model_dirs;
};

struct Signature {
  std::string kind;                 // empty: no finding
  std::vector<std::string> frames;  // innermost first
  std::vector<std::string> frames2; // data races: the other access
  std::string detail;               // only when `frames` is empty

  bool empty() const { return kind.empty(); }
  // "kind in f1 <- f2 <- f3", "kind in a1 <- a2 vs b1 <- b2", "kind (detail)", "kind".
  std::string text() const;
  // "<kind>-<top function or detail>-<8 hex digits of a hash of text()>",
  // made of [A-Za-z0-9_.-] only: the name of a regression entry.
  std::string id() const;
  bool operator==(const Signature& o) const { return text() == o.text(); }
};

// The first finding in `log` (a target's or the repro tool's stderr), or
// nullopt when the log reports none. The first finding is the earliest
// header among: "==mcfuzz== REPORT <kind>:", "ERROR: AddressSanitizer:",
// "WARNING: ThreadSanitizer:", "<file>:<line>:<col>: runtime error:",
// "ERROR: LeakSanitizer:", "ERROR: libFuzzer:", "==mcfuzz== CHILD TIMEOUT".
std::optional<Finding> parse_finding(absl::string_view log);

Signature make_signature(const Finding& f, const SignatureOptions& opts = {});

// parse_finding + make_signature; an empty signature when there is none.
Signature signature_of_log(absl::string_view log, const SignatureOptions& opts = {});

// Parses a "==mcfuzz== SIGNATURE <id> <text>" line's text back: not needed to
// compare (text() is compared), used by tests and tools that read a log.
std::optional<std::string> signature_line_in_log(absl::string_view log);

// --- Pieces, exposed for the in-process printer and for tests.

// "mcf::testing::(anonymous namespace)::foo(int) const" -> "mcf::testing::foo";
// "void mcf::kfree<T>(T*)" -> "mcf::kfree<T>".
std::string normalize_function(absl::string_view symbolized);
// The path relative to the project root ("core/kernel/device.cc"), or ""
// when the path is not in the project. Works on any checkout location.
std::string project_relative(absl::string_view path);
// Whether a frame is a model frame that counts (see above).
bool is_model_frame(const Frame& f, const SignatureOptions& opts);
// Addresses dropped, a number ending a word replaced by N: "vimc.N".
std::string normalize_detail(absl::string_view s);
// "a=1 b=2" (a leak report's message) -> "a,b".
std::string leaked_types(absl::string_view message);
// The kind of an AddressSanitizer report from the words after
// "ERROR: AddressSanitizer: " (or __asan_get_report_description()).
std::string asan_report_kind(absl::string_view rest);
// The kind of a ThreadSanitizer report from its debugging API's description
// ("data-race", "locked-mutex-destroy"): the kind its printed header gives
// ("data-race", "destroy-of-a-locked-mutex").
std::string tsan_report_kind(absl::string_view description);
// The kind of a UBSan report from its message ("signed integer overflow: ...").
std::string ubsan_report_kind(absl::string_view message);

}  // namespace mcf::repro
