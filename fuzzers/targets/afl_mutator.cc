// The AFL++ custom-mutator library of one target: the structure-aware
// mutator (fuzzers/mutate) behind AFL++'s custom-mutator interface, because
// AFL++'s libFuzzer driver (libAFLDriver.a) never calls
// LLVMFuzzerCustomMutator / LLVMFuzzerCustomCrossOver.
//
// Built once per target as <target>_afl_mutator.so (fuzzers/targets/
// CMakeLists.txt, MCF_AFL_MUTATOR; ci/oss-fuzz/build.sh with
// FUZZING_ENGINE=afl), without sanitizers or coverage since afl-fuzz loads it:
//
//   AFL_CUSTOM_MUTATOR_LIBRARY=$OUT/mc_ioctl_fuzzer_afl_mutator.so \
//     afl-fuzz -i seeds -o findings -- $OUT/mc_ioctl_fuzzer
//
// (ci/afl-fuzz.sh does this). The target's TargetSpec (which calls, nodes and
// threads its mutations use) is read from the target's own source: the file
// named by MCF_AFL_TARGET_SOURCE is included with MCF_FUZZ_TARGET redefined to
// capture the spec instead of defining the libFuzzer entry points, so the two
// cannot drift apart. Inputs are decoded like the target does (binary, or a
// text program) and written back in the binary encoding. add_buf, when AFL++
// gives one, is the donor of a crossover (splice). Deterministic given the
// seed afl-fuzz passes to afl_custom_init.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzzers/mutate/mutate_bytes.h"
#include "fuzzers/mutate/rng.h"
#include "fuzzers/targets/target.h"

#ifndef MCF_AFL_TARGET_SOURCE
#error "MCF_AFL_TARGET_SOURCE must name the target's .cc file"
#endif

// target.h is #pragma once, so the target's own #include of it is a no-op and
// this definition is the one its MCF_FUZZ_TARGET(spec) line expands.
#undef MCF_FUZZ_TARGET
#define MCF_FUZZ_TARGET(spec)                                    \
  namespace {                                                    \
  const ::mcf::fuzz::TargetSpec& afl_target_spec() { return spec; } \
  }
#include MCF_AFL_TARGET_SOURCE

namespace {

// libFuzzer's max_len for every target (corpus/<target>.options); inputs that
// are already longer keep their length.
constexpr size_t kMaxLen = 4096;
constexpr size_t kMaxDescription = 40;

struct State {
  explicit State(unsigned seed) : rng(seed) {}
  mcf::fuzz::Rng rng;
  std::vector<uint8_t> out;
  std::string description;
};

mcf::fuzz::MutateOptions options() {
  const mcf::fuzz::TargetSpec& spec = afl_target_spec();
  mcf::fuzz::MutateOptions o;
  o.call_kinds = spec.call_kinds;
  o.node_kinds = spec.node_kinds;
  o.threads = spec.threads;
  // raw_mutate stays empty (a built-in bit flip): AFL++'s own havoc stage
  // mutates raw bytes unless AFL_CUSTOM_MUTATOR_ONLY is set.
  return o;
}

}  // namespace

extern "C" {

// afl_state_t* is opaque here: nothing of AFL++'s state is used.
void* afl_custom_init(void* /*afl*/, unsigned int seed) { return new State(seed); }

size_t afl_custom_fuzz(void* data, uint8_t* buf, size_t buf_size, uint8_t** out_buf,
                       uint8_t* add_buf, size_t add_buf_size, size_t max_size) {
  State* s = static_cast<State*>(data);
  size_t cap = std::max(buf_size, std::min(max_size, kMaxLen));
  cap = std::min(cap, max_size);
  s->out.assign(cap, 0);
  auto seed = static_cast<unsigned>(s->rng.next());
  mcf::fuzz::MutationLog log;
  size_t n;
  if (add_buf != nullptr && add_buf_size > 0 && s->rng.one_of(8)) {
    n = mcf::fuzz::crossover_bytes(buf, buf_size, add_buf, add_buf_size, s->out.data(), cap,
                                   seed, options(), &log);
  } else {
    size_t in = std::min(buf_size, cap);
    if (in > 0) std::memcpy(s->out.data(), buf, in);
    n = mcf::fuzz::mutate_bytes(s->out.data(), in, cap, seed, options(), &log);
  }
  // Short: AFL++ puts it in queue file names, which grow "orig:" prefixes
  // when a run is resumed.
  s->description = "mcf:" + log.str();
  if (s->description.size() > kMaxDescription) s->description.resize(kMaxDescription);
  *out_buf = s->out.data();
  return n;
}

const char* afl_custom_describe(void* data, size_t max_description_len) {
  State* s = static_cast<State*>(data);
  if (s->description.size() > max_description_len) s->description.resize(max_description_len);
  return s->description.c_str();
}

void afl_custom_deinit(void* data) { delete static_cast<State*>(data); }

}  // extern "C"
