// race_fuzzer: every call from up to four real threads, built with TSan:
// data races between remove and the calls in flight.
#include "fuzzers/targets/target.h"

namespace {
constexpr mcf::fuzz::TargetSpec kSpec = {"race_fuzzer", mcf::fuzz::ExecMode::kThreads,
                                         mcf::fuzz::kAllCalls, mcf::fuzz::kAllNodes,
                                         mcf::fuzz::kMaxThreads};
}
MCF_FUZZ_TARGET(kSpec)
