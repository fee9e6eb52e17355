// The byte-level mutator: see mutate_bytes.h.
#include "fuzzers/mutate/mutate_bytes.h"

#include <cstring>
#include <vector>

#include "fuzzers/prog/encoding_binary.h"

namespace mcf::fuzz {

size_t encode_within(Program p, uint8_t* out, size_t max_size) {
  std::vector<uint8_t> bytes = program_to_binary(p);
  // Calls only reference earlier calls, so every prefix is valid as it is.
  while (bytes.size() > max_size && !p.calls.empty()) {
    p.calls.pop_back();
    bytes = program_to_binary(p);
  }
  if (bytes.size() > max_size) return 0;
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
  return bytes.size();
}

size_t mutate_bytes(uint8_t* data, size_t size, size_t max_size, unsigned seed,
                    const MutateOptions& opts, MutationLog* log) {
  Program p = program_from_input(data, size);
  MutationLog l = mutate(&p, seed, opts);
  if (log != nullptr) *log = std::move(l);
  return encode_within(std::move(p), data, max_size);
}

size_t crossover_bytes(const uint8_t* data1, size_t size1, const uint8_t* data2, size_t size2,
                       uint8_t* out, size_t max_out_size, unsigned seed, const MutateOptions& opts,
                       MutationLog* log) {
  Program a = program_from_input(data1, size1);
  Program b = program_from_input(data2, size2);
  Program p = crossover(a, b, seed, opts);
  if (log != nullptr) *log = MutationLog{{MutationOp::kSplice}, ""};
  return encode_within(std::move(p), out, max_out_size);
}

}  // namespace mcf::fuzz
