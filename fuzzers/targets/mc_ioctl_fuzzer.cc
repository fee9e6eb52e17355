// mc_ioctl_fuzzer: media-device ioctls on every driver's /dev/mediaN, one
// thread, calls in program order.
#include "fuzzers/targets/target.h"

namespace {
constexpr mcf::fuzz::TargetSpec kSpec = {
    "mc_ioctl_fuzzer", mcf::fuzz::ExecMode::kSequential, mcf::fuzz::kFdCalls,
    mcf::fuzz::node_bit(mcf::fuzz::NodeKind::kMedia), 1};
}
MCF_FUZZ_TARGET(kSpec)
