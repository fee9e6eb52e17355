// mcf-repro, the crash reproduction tool. Programs name drivers by row of
// driver_table() (their text and binary forms do), so the tool runs them on
// that table; a user bringing their own driver models -- or the test fixture
// of tests/repro_fixture/, whose driver has bugs put back on purpose --
// builds the same tool over another table by linking their own
// driver_table() into a three-line main() that calls repro_main().
//
// Commands (mcf-repro --help prints the same with every flag):
//   print FILE                  any corpus entry, crash artifact or crash log -> text
//   convert --to=text|binary IN OUT
//   run [--mode=M] FILE         run once in-process; each call's result
//   faults [--mode=M] FILE      run once; each call's failure points (n, step,
//                               what, errno), to aim fail_nth=n by hand
//   replay [--mode=M] [--times=N] [--trace] FILE
//                               N child runs; how many hit the same signature
//   minimize [--mode=M] [--tries=N] [--out=F] FILE
//                               smallest program with the same signature
// M is deterministic (default: the program's schedule decides the
// interleaving, as in lifetime_fuzzer), threads (real threads, race_fuzzer)
// or sequential (mc_ioctl_fuzzer, v4l2_ioctl_fuzzer).
//   signature LOG               the signature of a crash log
//   topology [--driver=D] [--dot]
//                               media-ctl -p (or --print-dot) of D's device 0
//
// Exit status: 0 success; 1 the command ran and its answer is "no" (replay
// did not hit one signature every time, minimize's input does not crash,
// signature found no finding); 2 bad usage or bad input (one line on stderr).
#pragma once

#include "fuzzers/repro/signature.h"

namespace mcf::repro {

struct ReproConfig {
  const char* name = "mcf-repro";  // in usage and messages
  // Which frames are model frames (signature.h).
  SignatureOptions signature;
};

int repro_main(int argc, char** argv, const ReproConfig& config);

}  // namespace mcf::repro
