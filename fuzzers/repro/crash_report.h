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
// The SIGNATURE line is computed in-process (signature.h) when it can be:
// for the model's reports (kind, object and message from report.h, frames
// from this thread's stack, symbolized through the sanitizer runtime when
// one is linked) and for AddressSanitizer's memory-access reports (kind from
// __asan_get_report_description, frames from the death callback's stack).
// ThreadSanitizer's and UBSan's reports carry what the process cannot see
// at the point it is told (a race's other stack; the frames UBSan prints
// after its hook ran), so their signature is computed offline from the log
// (`mcf-repro signature LOG`, and every replay does); the line says so.
// The in-process line and the offline one are the same function of the
// same data, so they agree (tests/fuzzers/repro_cli_test.cc checks it).
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

// The live model objects, "device=3 media_device=1", or "none".
std::string live_objects_line();

}  // namespace mcf::repro
