// The crash printout of a process that runs programs (the fuzz targets, and
// the repro tool's child runs): after the model's or the sanitizer's own
// report, the program being run and what the harness knows about it.
//
//   ==mcfuzz== PROGRAM (2 calls)
//   t0 r0 = open(vimc.0:video[0], O_RDWR)
//   t0 ioctl(r0, VIDIOC_S_INPUT, {index=1})
//   ==mcfuzz== END PROGRAM
//   ==mcfuzz== threads: t0 call 1 (ioctl) running, ...
//   ==mcfuzz== live objects: device=3 media_device=1 ...
//   ==mcfuzz== SIGNATURE <id> <text>
//
// The SIGNATURE line is computed in-process, from the same data the log
// shows, by the function the offline tool uses on the log (`mcf-repro
// signature LOG`), so the two agree (tests/fuzzers/repro_cli_test.cc checks
// it for each source):
//   model reports     kind, object and message from report.h, frames from
//                     this thread's stack;
//   AddressSanitizer  the report text (__asan_set_error_report_callback);
//   ThreadSanitizer   kind and every stack from its debugging API
//                     (__tsan_get_report_*), symbolized at the addresses
//                     its printer symbolized;
//   UBSan             kind from the report's message
//                     (__ubsan_get_current_report_data), frames from this
//                     thread's stack (UBSan prints the same one after).
// Anything else (a signal, libFuzzer's own findings) says to compute it
// offline.
#pragma once

#include <string>

#include "fuzzers/prog/prog.h"
#include "fuzzers/repro/signature.h"

namespace mcf::repro {

// Installs the model's report callback and the sanitizer death callback.
// Call once per process, before the first program runs. `opts` says which
// frames are model frames (kept by reference: must outlive the process's runs).
void crash_report_install(const SignatureOptions& opts);

// The program the process is running (null: none; then nothing is printed).
// Set before execute() and cleared after; the program must stay alive between.
void crash_report_set_program(const fuzz::Program* p);

// Print the deterministic scheduler's whole trace, between "==mcfuzz==
// TRACE" and "==mcfuzz== END TRACE", instead of its last points.
void crash_report_set_full_trace(bool full);

// The live model objects, "device=3 media_device=1", or "none".
std::string live_objects_line();

}  // namespace mcf::repro
