// The byte-level mutator: what LLVMFuzzerCustomMutator and
// LLVMFuzzerCustomCrossOver call. A target's hooks are one line each:
//
//   extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* d, size_t n, size_t max, unsigned seed) {
//     return mcf::fuzz::mutate_bytes(d, n, max, seed, target_options());
//   }
//
// with target_options() setting raw_mutate to LLVMFuzzerMutate. Each
// function decodes its input(s) with program_from_input() (binary, or a
// hand-written text program: both are total), mutates the program
// (mutate.h), and writes the canonical binary encoding (encoding_binary.h),
// dropping calls from the end until it fits in the output size. Same
// inputs and seed, same output. The log, when given, names the operators
// applied ("splice" for a crossover) so a report can say how an input came
// to be.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fuzzers/mutate/mutate.h"

namespace mcf::fuzz {

// Mutates data[0, size) in place; returns the new size, at most max_size.
size_t mutate_bytes(uint8_t* data, size_t size, size_t max_size, unsigned seed,
                    const MutateOptions& opts = {}, MutationLog* log = nullptr);

// Writes a splice of the two inputs to out; returns its size, at most
// max_out_size.
size_t crossover_bytes(const uint8_t* data1, size_t size1, const uint8_t* data2, size_t size2,
                       uint8_t* out, size_t max_out_size, unsigned seed,
                       const MutateOptions& opts = {}, MutationLog* log = nullptr);

// Writes the canonical encoding of `p` to out, dropping calls from the end
// until it fits in max_size; returns the size written (0 when not even the
// empty program fits: the empty input also decodes to the empty program).
size_t encode_within(Program p, uint8_t* out, size_t max_size);

}  // namespace mcf::fuzz
