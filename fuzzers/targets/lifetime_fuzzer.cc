// lifetime_fuzzer: every call (open, ioctl, poll, close, bind, unbind, plug,
// unplug, irq, driver registration) from up to four threads, built with
// ASan+UBSan: use-after-free and leaks around remove with files open. Runs in
// deterministic mode: the input's schedule picks the interleaving, so every
// finding replays exactly.
#include "fuzzers/targets/target.h"

namespace {
constexpr mcf::fuzz::TargetSpec kSpec = {"lifetime_fuzzer", mcf::fuzz::ExecMode::kDeterministic,
                                         mcf::fuzz::kAllCalls, mcf::fuzz::kAllNodes,
                                         mcf::fuzz::kMaxThreads};
}
MCF_FUZZ_TARGET(kSpec)
