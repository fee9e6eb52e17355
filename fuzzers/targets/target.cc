// The libFuzzer glue: see target.h.
#include "fuzzers/targets/target.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

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

// The switches of target.h, read once by target_initialize().
bool g_byte_mutator = false;
std::optional<ExecMode> g_mode_override;
// MCF_FAULTS=0: no fault injection in this process (the mutator never sets
// fail_nth; every input runs with its fail_nth values cleared, since seeds
// and crossover donors may carry some), to measure what it adds.
bool g_faults = true;

// MCF_EXEC_STATS=1: totals over the process, printed at exit (bench/
// throughput.py reads them next to libFuzzer's final stats). Written by the
// fuzzing thread only.
struct ExecTotals {
  unsigned long long programs = 0;
  unsigned long long sched_points = 0;
  unsigned long long preemptions = 0;
};
ExecTotals g_totals;
bool g_exec_stats = false;

void print_exec_stats() {
  std::fprintf(stderr, "==mcfuzz== EXEC-STATS programs=%llu sched_points=%llu preemptions=%llu\n",
               g_totals.programs, g_totals.sched_points, g_totals.preemptions);
}

[[noreturn]] void bad_switch(const char* name, const char* value, const char* allowed) {
  std::fprintf(stderr, "%s=%s: not one of %s\n", name, value, allowed);
  std::exit(2);
}

void read_switches() {
  if (const char* m = std::getenv("MCF_MUTATOR"); m != nullptr && *m != '\0') {
    if (std::strcmp(m, "bytes") == 0) {
      g_byte_mutator = true;
    } else if (std::strcmp(m, "structure") != 0) {
      bad_switch("MCF_MUTATOR", m, "structure, bytes");
    }
  }
  if (const char* m = std::getenv("MCF_EXEC_MODE"); m != nullptr && *m != '\0') {
    if (std::strcmp(m, "threads") == 0) {
      g_mode_override = ExecMode::kThreads;
    } else if (std::strcmp(m, "deterministic") == 0) {
      g_mode_override = ExecMode::kDeterministic;
    } else if (std::strcmp(m, "sequential") == 0) {
      g_mode_override = ExecMode::kSequential;
    } else {
      bad_switch("MCF_EXEC_MODE", m, "threads, deterministic, sequential");
    }
  }
  if (const char* m = std::getenv("MCF_FAULTS"); m != nullptr && *m != '\0') {
    if (std::strcmp(m, "0") == 0) {
      g_faults = false;
    } else if (std::strcmp(m, "1") != 0) {
      bad_switch("MCF_FAULTS", m, "0, 1");
    }
  }
  if (const char* m = std::getenv("MCF_EXEC_STATS"); m != nullptr && std::strcmp(m, "1") == 0) {
    g_exec_stats = true;
    std::atexit(print_exec_stats);
  }
}

MutateOptions mutate_options(const TargetSpec& spec) {
  MutateOptions o;
  if (!g_faults) o.fail_nth = 0;
  o.call_kinds = spec.call_kinds;
  o.node_kinds = spec.node_kinds;
  o.threads = spec.threads;
  o.raw_mutate = [](uint8_t* d, size_t n, size_t max) { return LLVMFuzzerMutate(d, n, max); };
  return o;
}

// Set once by target_initialize().
int g_hang_timeout_ms = kDefaultHangTimeoutMs;

ExecOptions exec_options(const TargetSpec& spec) {
  ExecOptions o;
  o.mode = g_mode_override.value_or(spec.mode);
  o.hang_timeout_ms = g_hang_timeout_ms;
  return o;
}

}  // namespace

int target_hang_timeout_ms(int argc, char** argv) {
  int ms = kDefaultHangTimeoutMs;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.substr(0, 9) != "-timeout=") continue;
    long s = std::strtol(argv[i] + 9, nullptr, 10);  // libFuzzer's -timeout: seconds, 0 = none
    if (s > 0) ms = static_cast<int>(std::min<long>(ms, s * 750));
  }
  return ms;
}

void target_initialize(const TargetSpec& spec, int argc, char** argv) {
  read_switches();
  if (!g_faults) std::fprintf(stderr, "%s: MCF_FAULTS=0: fault injection off\n", spec.name);
  g_hang_timeout_ms = target_hang_timeout_ms(argc, argv);
  repro::crash_report_install(kSignatureOptions);
}

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
  if (!g_faults) {
    for (Call& c : g_current.calls) c.fail_nth = 0;
  }
  repro::crash_report_set_program(&g_current);
  ExecResult r = execute(g_current, exec_options(spec));
  if (g_exec_stats) {
    g_totals.programs++;
    g_totals.sched_points += r.sched_points;
    g_totals.preemptions += static_cast<unsigned long long>(r.sched_preemptions);
  }
  repro::crash_report_set_program(nullptr);
  return 0;
}

size_t target_mutate(const TargetSpec& spec, uint8_t* data, size_t size, size_t max_size,
                     unsigned seed) {
  if (g_byte_mutator) return LLVMFuzzerMutate(data, size, max_size);
  return mutate_bytes(data, size, max_size, seed, mutate_options(spec));
}

size_t target_crossover(const TargetSpec& spec, const uint8_t* data1, size_t size1,
                        const uint8_t* data2, size_t size2, uint8_t* out, size_t max_out_size,
                        unsigned seed) {
  if (g_byte_mutator) return 0;  // declined: libFuzzer picks another mutation
  return crossover_bytes(data1, size1, data2, size2, out, max_out_size, seed,
                         mutate_options(spec));
}

}  // namespace mcf::fuzz

// Sanitizer defaults built into every target, shared with mcf-repro so a
// replay sees a finding as the target did (fuzzers/repro/sanitizer_options.h).
MCF_SANITIZER_DEFAULT_OPTIONS()
