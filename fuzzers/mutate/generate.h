// Fresh calls and type-aware argument values for the mutator (syzkaller's
// prog/rand.go in miniature). Everything reads MutateOptions for its
// probabilities and the ioctl table for field types; nothing here changes a
// program's structure (mutate.cc and resources.cc do that).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "fuzzers/mutate/mutate.h"
#include "fuzzers/mutate/rng.h"
#include "fuzzers/prog/ioctl_desc.h"
#include "fuzzers/prog/prog.h"

namespace mcf::fuzz {

// Index in [0, weights.size()) chosen with the given relative weights, or -1
// when they are all zero.
int pick_weighted(Rng& rng, const unsigned* weights, size_t n);

// A value for a field of type f.type, from nothing (gen) or from the current
// value `v` (mutate). `p` supplies values seen elsewhere in the program
// (entity ids, pad indices). Raw bytes go to opts.raw_mutate.
uint64_t gen_field(const FieldDesc& f, const Program& p, Rng& rng, const MutateOptions& opts);
uint64_t mutate_field(const FieldDesc& f, uint64_t v, const Program& p, Rng& rng,
                      const MutateOptions& opts);

// A command for an fd on `node` (nullopt: any fd): one of that node kind's
// commands with opts.ioctl_matches_node_pct, else any allowed command.
uint16_t pick_ioctl(std::optional<NodeKind> node, Rng& rng, const MutateOptions& opts);
IoctlArg gen_ioctl_arg(uint16_t desc, const Program& p, Rng& rng, const MutateOptions& opts);

DeviceRef gen_device(Rng& rng);
NodeRef gen_node(Rng& rng, const MutateOptions& opts);
uint32_t gen_open_flags(Rng& rng);
uint32_t gen_poll_events(Rng& rng);
uint8_t gen_thread(Rng& rng, const MutateOptions& opts);

// A new call to insert at `pos` of `p`: with opts.insert_uses_fd_pct one that
// uses an fd made before `pos` (its fd is an index into `p`), else one that
// makes or needs none. Nullopt when opts.call_kinds allows nothing.
std::optional<Call> gen_call(const Program& p, size_t pos, Rng& rng, const MutateOptions& opts);

}  // namespace mcf::fuzz
