// lifetime_fuzzer: every call (open, ioctl, poll, close, bind, unbind, plug,
// unplug, irq, driver registration) from up to four threads, built with
// ASan+UBSan: use-after-free and leaks around remove with files open.
#include "fuzzers/targets/target.h"

namespace {
constexpr mcf::fuzz::TargetSpec kSpec = {"lifetime_fuzzer", mcf::fuzz::ExecMode::kThreads,
                                         mcf::fuzz::kAllCalls, mcf::fuzz::kAllNodes,
                                         mcf::fuzz::kMaxThreads};
}
MCF_FUZZ_TARGET(kSpec)
