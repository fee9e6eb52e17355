// The libFuzzer glue: see target.h.
#include "fuzzers/targets/target.h"

#include <cstdio>
#include <string>

#include "fuzzers/mutate/mutate_bytes.h"
#include "fuzzers/prog/encoding_binary.h"
#include "fuzzers/prog/encoding_text.h"
#include "fuzzers/repro/crash_report.h"
#include "fuzzers/repro/sanitizer_options.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace mcf::fuzz {
namespace {

// The input being run, for the crash-time printout (fuzzers/repro/
// crash_report.h: program, threads, live objects, signature). Written by the
// fuzzing thread before the run; read by a report callback on any thread
// while that run is in progress.
Program g_current;
// Frames in core/ and drivers/ make the signature.
const repro::SignatureOptions kSignatureOptions;

MutateOptions mutate_options(const TargetSpec& spec) {
  MutateOptions o;
  o.call_kinds = spec.call_kinds;
  o.node_kinds = spec.node_kinds;
  o.threads = spec.threads;
  o.raw_mutate = [](uint8_t* d, size_t n, size_t max) { return LLVMFuzzerMutate(d, n, max); };
  return o;
}

ExecOptions exec_options(const TargetSpec& spec) {
  ExecOptions o;
  o.mode = spec.mode;
  return o;
}

}  // namespace

void target_initialize(const TargetSpec& spec) { repro::crash_report_install(kSignatureOptions); }

int target_run_input(const TargetSpec& spec, const uint8_t* data, size_t size) {
  if (looks_like_text(data, size)) {
    auto parsed = program_from_text(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s: text program refused: %s\n", spec.name,
                   std::string(parsed.status().message()).c_str());
      return -1;
    }
    g_current = *std::move(parsed);
  } else {
    g_current = program_from_binary(data, size);
  }
  repro::crash_report_set_program(&g_current);
  execute(g_current, exec_options(spec));
  repro::crash_report_set_program(nullptr);
  return 0;
}

size_t target_mutate(const TargetSpec& spec, uint8_t* data, size_t size, size_t max_size,
                     unsigned seed) {
  return mutate_bytes(data, size, max_size, seed, mutate_options(spec));
}

size_t target_crossover(const TargetSpec& spec, const uint8_t* data1, size_t size1,
                        const uint8_t* data2, size_t size2, uint8_t* out, size_t max_out_size,
                        unsigned seed) {
  return crossover_bytes(data1, size1, data2, size2, out, max_out_size, seed,
                         mutate_options(spec));
}

}  // namespace mcf::fuzz

// Sanitizer defaults built into every target, shared with mcf-repro so a
// replay sees a finding as the target did (fuzzers/repro/sanitizer_options.h).
MCF_SANITIZER_DEFAULT_OPTIONS()
