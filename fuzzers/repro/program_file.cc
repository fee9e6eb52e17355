// Reading programs from files: see program_file.h.
#include "fuzzers/repro/program_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzzers/prog/encoding_binary.h"
#include "fuzzers/prog/encoding_text.h"

namespace mcf::repro {
namespace {

constexpr absl::string_view kProgramBegin = "==mcfuzz== PROGRAM";
constexpr absl::string_view kProgramEnd = "==mcfuzz== END PROGRAM";

absl::Status bad_input(absl::string_view name, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", what));
}

// The text between the first PROGRAM line and its END PROGRAM line.
absl::StatusOr<absl::string_view> program_block(absl::string_view name, absl::string_view log) {
  size_t begin = log.find(kProgramBegin);
  size_t body = log.find('\n', begin);
  if (body == absl::string_view::npos) return bad_input(name, "truncated crash log: nothing after its PROGRAM line");
  ++body;
  size_t end = log.find(kProgramEnd, body);
  if (end == absl::string_view::npos) return bad_input(name, "truncated crash log: PROGRAM block without its END PROGRAM line");
  return log.substr(body, end - body);
}

bool mostly_printable(absl::string_view bytes) {
  size_t printable = 0;
  for (unsigned char c : bytes) printable += (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t' || c == '\r';
  return printable * 10 >= bytes.size() * 9;
}

}  // namespace

const char* input_form_name(InputForm form) {
  switch (form) {
    case InputForm::kText: return "text";
    case InputForm::kBinary: return "binary";
    case InputForm::kCrashLog: return "crash log";
    case InputForm::kLenient: return "bytes";
  }
  return "?";
}

absl::StatusOr<LoadedProgram> parse_program_bytes(absl::string_view name, absl::string_view bytes,
                                                  bool lenient) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  LoadedProgram out;
  // 1. A crash log: the program its PROGRAM block printed.
  if (absl::StrContains(bytes, kProgramBegin)) {
    absl::StatusOr<absl::string_view> block = program_block(name, bytes);
    if (!block.ok()) return block.status();
    auto p = fuzz::program_from_text(std::string_view(block->data(), block->size()));
    if (!p.ok()) return bad_input(name, absl::StrCat("PROGRAM block: ", p.status().message()));
    out.program = *std::move(p);
    out.form = InputForm::kCrashLog;
    return out;
  }
  // 2. A text program.
  if (fuzz::looks_like_text(data, bytes.size())) {
    auto p = fuzz::program_from_text(std::string_view(bytes.data(), bytes.size()));
    if (!p.ok()) return bad_input(name, p.status().message());
    out.program = *std::move(p);
    out.form = InputForm::kText;
    return out;
  }
  // 3. Anything, decoded as the fuzz targets decode it.
  if (lenient) {
    out.program = fuzz::program_from_input(data, bytes.size());
    out.form = InputForm::kLenient;
    return out;
  }
  // 4. A binary program: the magic byte, and exactly its canonical encoding.
  if (bytes.empty()) return bad_input(name, "empty file (--lenient reads it as the empty program)");
  if (data[0] != fuzz::kBinaryMagic) {
    return bad_input(name, mostly_printable(bytes)
                               ? "not an mcfuzz program: text whose first line is not a call "
                                 "(tN ...) or a comment, and no ==mcfuzz== PROGRAM block"
                               : "not an mcfuzz program: binary without the magic byte 0xaf");
  }
  out.program = fuzz::program_from_binary(data, bytes.size());
  out.form = InputForm::kBinary;
  std::vector<uint8_t> canon = fuzz::program_to_binary(out.program);
  if (canon.size() == bytes.size() && std::equal(canon.begin(), canon.end(), data)) return out;
  size_t same = 0;
  while (same < canon.size() && same < bytes.size() && canon[same] == data[same]) ++same;
  if (same == canon.size() && bytes.size() > canon.size()) {
    return bad_input(name, absl::StrCat("truncated binary program: ", bytes.size() - canon.size(),
                                        " byte(s) at offset ", canon.size(),
                                        " do not make a whole call (--lenient drops them)"));
  }
  return bad_input(name, absl::StrCat("binary program differs from its canonical encoding at byte ",
                                      same, " (--lenient decodes it as the fuzz targets do)"));
}

absl::StatusOr<std::string> read_file(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return bytes;
}

absl::StatusOr<LoadedProgram> load_program(const std::string& path, bool lenient) {
  absl::StatusOr<std::string> bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  return parse_program_bytes(path, *bytes, lenient);
}

absl::Status write_file(const std::string& path, absl::string_view bytes) {
  if (path == "-") {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    return std::cout ? absl::OkStatus() : absl::DataLossError("stdout: write error");
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot create: ", std::strerror(errno)));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat(path, ": write error"));
  return absl::OkStatus();
}

}  // namespace mcf::repro
