// v4l2_ioctl_fuzzer: video and sub-device ioctls and streaming (frames come
// from irq calls), one thread, calls in program order.
#include "fuzzers/targets/target.h"

namespace {
constexpr mcf::fuzz::TargetSpec kSpec = {
    "v4l2_ioctl_fuzzer", mcf::fuzz::ExecMode::kSequential,
    mcf::fuzz::kFdCalls | mcf::fuzz::call_bit(mcf::fuzz::CallKind::kIrq),
    mcf::fuzz::node_bit(mcf::fuzz::NodeKind::kVideo) |
        mcf::fuzz::node_bit(mcf::fuzz::NodeKind::kSubdev),
    1};
}
MCF_FUZZ_TARGET(kSpec)
