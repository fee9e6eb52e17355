// Reading a program from a file the way a person handed a crash expects:
// a text program (corpus entry, regression entry), a binary input (a
// libFuzzer crash-* artifact), or a crash log with a "==mcfuzz== PROGRAM"
// block (a target's or mcf-repro's stderr). Strict by default, unlike the
// fuzz targets' total decoder: a file that is none of these, a truncated
// binary, or a text program that does not parse is an error with a
// one-line message; `lenient` reads any bytes as the targets do.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "fuzzers/prog/prog.h"

namespace mcf::repro {

enum class InputForm { kText, kBinary, kCrashLog, kLenient };
const char* input_form_name(InputForm form);  // "text", "binary", "crash log", "bytes"

struct LoadedProgram {
  fuzz::Program program;
  InputForm form = InputForm::kText;
};

// `bytes` read from a file called `name` (for messages). Errors are one
// line, starting with `name`.
absl::StatusOr<LoadedProgram> parse_program_bytes(absl::string_view name, absl::string_view bytes,
                                                  bool lenient);
// Reads `path` ("-": stdin) and parses it.
absl::StatusOr<LoadedProgram> load_program(const std::string& path, bool lenient);

// The whole file ("-": stdin), or an error naming it.
absl::StatusOr<std::string> read_file(const std::string& path);
// Writes `bytes` to `path` ("-": stdout).
absl::Status write_file(const std::string& path, absl::string_view bytes);

}  // namespace mcf::repro
