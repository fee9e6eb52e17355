// Running a program in a child process, so that a crash (a report aborts
// the process) ends the child and not the tool: the tool re-executes itself
// with a hidden command that reads the program (binary, canonical) on stdin
// and runs it through the executor, exactly as a fuzz target does, with the
// same crash printout (crash_report.h) and sanitizer options. The parent
// collects stdout+stderr and computes the signature from that log.
//
// A child that ends without a finding in its log but abnormally (killed by
// a signal, non-zero exit, past the timeout) gets a synthetic line appended
// to its log, "==mcfuzz== CHILD SIGNAL SIGSEGV" / "CHILD EXIT 3" / "CHILD
// TIMEOUT", which signature.h reads as a finding of that kind.
//
// Replay (syzkaller's reliability check, OSS-Fuzz's "reproduce N times"):
// N child runs, and how many hit each signature.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fuzzers/exec/executor.h"
#include "fuzzers/prog/prog.h"
#include "fuzzers/repro/signature.h"

namespace mcf::repro {

// The hidden command line of a child run: "<self> __run-child --mode=M".
constexpr const char kChildCommand[] = "__run-child";

struct ChildOptions {
  std::string self;  // the executable to run; "/proc/self/exe" by default
  fuzz::ExecMode mode = fuzz::ExecMode::kThreads;
  int timeout_s = 120;  // the executor's own hang watchdog is 60 s
  bool trace = false;   // the child prints the scheduler trace of a clean run
};

struct ChildRun {
  bool crashed = false;  // a finding (the signature is not empty)
  Signature signature;
  std::string log;       // stdout and stderr, interleaved as written
  int exit_status = -1;  // when it exited
  int term_signal = 0;   // when a signal ended it
  bool timed_out = false;
};

// Runs `p` once in a child. Never throws; a failure to start the child is a
// finding of kind "spawn-failed" (its log says why).
ChildRun run_child(const fuzz::Program& p, const ChildOptions& o, const SignatureOptions& so);

struct ReplayResult {
  int runs = 0;
  int clean = 0;
  // Signature text -> (count, one run with it).
  std::map<std::string, std::pair<int, ChildRun>> by_signature;
  // The signature most runs hit (ties: the first seen), or empty.
  Signature top;
  int top_count = 0;
};

// `times` child runs of `p`. `progress`, when set, is called after each run.
ReplayResult replay(const fuzz::Program& p, int times, const ChildOptions& o,
                    const SignatureOptions& so,
                    const std::function<void(int run, const ChildRun&)>& progress = nullptr);

}  // namespace mcf::repro
