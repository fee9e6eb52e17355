// Crash signatures: see signature.h. The log parser first (headers, frame
// lines, stacks), then the normalisation and the signature itself.
#include "fuzzers/repro/signature.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace mcf::repro {
namespace {

// ------------------------------------------------------------ log headers

struct Header {
  std::string tool;
  std::string kind;
  std::string message;
};

// "double-free on 0x..." after "ERROR: AddressSanitizer: attempting ".
std::string asan_kind(absl::string_view rest) {
  std::vector<absl::string_view> w = absl::StrSplit(rest, ' ', absl::SkipEmpty());
  if (w.empty()) return "asan-error";
  std::string first(absl::StripSuffix(w[0], ":"));
  if (first == "attempting" && w.size() > 1) return w[1] == "free" ? "bad-free" : std::string(w[1]);
  if (first == "requested") return "allocation-size-too-big";
  if (first == "allocator") return "out-of-memory";
  return first;
}

// "data race (pid=12)" -> "data-race"; "lock-order-inversion (potential
// deadlock)" -> "lock-order-inversion".
std::string words_kind(absl::string_view rest) {
  std::string out;
  int depth = 0;
  for (char c : rest) {
    if (c == '(') ++depth;
    if (c == ')' && depth > 0) {
      --depth;
      continue;
    }
    if (depth > 0) continue;
    if (c == ' ' || c == '\t') {
      if (!out.empty() && out.back() != '-') out += '-';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

// UBSan's message -> a short class, as syzkaller names UBSAN titles.
std::string ubsan_kind(absl::string_view msg) {
  struct Rule {
    const char* needle;
    const char* kind;
  };
  static constexpr Rule kRules[] = {
      {"signed integer overflow", "signed-integer-overflow"},
      {"out of bounds for type", "array-index-out-of-bounds"},
      {"shift exponent", "shift-out-of-bounds"},
      {"left shift of", "shift-out-of-bounds"},
      {"division by zero", "divide-by-zero"},
      {"null pointer", "null-ptr-deref"},
      {"misaligned address", "misaligned-access"},
      {"is not a valid value for type", "invalid-load"},
      {"unreachable program point", "unreachable"},
      {"does not point to an object of type", "vptr"},
      {"pointer overflow", "pointer-overflow"},
      {"applying non-zero offset", "pointer-overflow"},
      {"is outside the range of representable values", "float-cast-overflow"},
      {"negation of", "signed-integer-overflow"},
  };
  for (const Rule& r : kRules)
    if (absl::StrContains(msg, r.needle)) return absl::StrCat("ubsan-", r.kind);
  return "ubsan-undefined-behavior";
}

std::string libfuzzer_kind(absl::string_view rest) {
  if (absl::StartsWith(rest, "deadly signal")) return "deadly-signal";
  if (absl::StartsWith(rest, "timeout")) return "timeout";
  if (absl::StartsWith(rest, "out-of-memory")) return "out-of-memory";
  if (absl::StartsWith(rest, "fuzz target exited")) return "target-exited";
  if (absl::StartsWith(rest, "fuzz target overwrites")) return "input-overwritten";
  return words_kind(rest.substr(0, rest.find_first_of(":(")));
}

// The header a line starts, if any.
std::optional<Header> header_of(absl::string_view line) {
  size_t at;
  if ((at = line.find("==mcfuzz== REPORT ")) != absl::string_view::npos) {
    absl::string_view rest = line.substr(at + 18);
    size_t colon = rest.find(':');
    std::string kind(rest.substr(0, colon));
    std::string msg(colon == absl::string_view::npos ? "" : absl::StripLeadingAsciiWhitespace(rest.substr(colon + 1)));
    return Header{"mcfuzz", kind, msg};
  }
  if ((at = line.find("==mcfuzz== CHILD ")) != absl::string_view::npos) {
    absl::string_view rest = line.substr(at + 17);
    if (absl::StartsWith(rest, "TIMEOUT")) return Header{"repro", "timeout", std::string(rest)};
    if (absl::ConsumePrefix(&rest, "SIGNAL "))
      return Header{"repro", absl::StrCat("signal-", rest), ""};
    if (absl::ConsumePrefix(&rest, "EXIT ")) return Header{"repro", absl::StrCat("exit-", rest), ""};
    return std::nullopt;
  }
  for (const char* san : {"ERROR: AddressSanitizer: ", "ERROR: ThreadSanitizer: "}) {
    if ((at = line.find(san)) != absl::string_view::npos) {
      absl::string_view rest = line.substr(at + absl::string_view(san).size());
      return Header{san[7] == 'A' ? "asan" : "tsan", asan_kind(rest), std::string(rest)};
    }
  }
  if ((at = line.find("WARNING: ThreadSanitizer: ")) != absl::string_view::npos) {
    absl::string_view rest = line.substr(at + 26);
    return Header{"tsan", words_kind(rest), std::string(rest)};
  }
  if ((at = line.find("ERROR: LeakSanitizer: ")) != absl::string_view::npos)
    return Header{"lsan", "memory-leak", std::string(line.substr(at + 22))};
  if ((at = line.find(": runtime error: ")) != absl::string_view::npos) {
    absl::string_view msg = line.substr(at + 17);
    return Header{"ubsan", ubsan_kind(msg), std::string(msg)};
  }
  if ((at = line.find("ERROR: libFuzzer: ")) != absl::string_view::npos) {
    absl::string_view rest = line.substr(at + 18);
    return Header{"libfuzzer", libfuzzer_kind(rest), std::string(rest)};
  }
  return std::nullopt;
}

// Where a finding's text ends.
bool ends_region(const Header& h, absl::string_view line) {
  if (h.tool == "mcfuzz") return absl::StrContains(line, "==mcfuzz== END REPORT");
  return absl::StrContains(line, "SUMMARY: ");
}

// ------------------------------------------------------------ frame lines

// "    #3 0x55d0 in mcf::foo(int) /src/core/x.cc:12:3" (ASan, UBSan, LSan) or
// "    #3 mcf::foo(int) /src/core/x.cc:12:3 (bin+0x1234)" (TSan); the line
// and column may be missing. Returns the frame number, or -1 when the line
// is not a frame.
int parse_frame_line(absl::string_view line, Frame* out) {
  absl::string_view s = absl::StripLeadingAsciiWhitespace(line);
  if (!absl::ConsumePrefix(&s, "#")) return -1;
  size_t digits = 0;
  while (digits < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  if (digits == 0 || digits >= s.size() || s[digits] != ' ') return -1;
  int number = std::stoi(std::string(s.substr(0, digits)));
  s = absl::StripAsciiWhitespace(s.substr(digits));
  // ASan's program counter, then "in".
  if (absl::StartsWith(s, "0x")) {
    size_t sp = s.find(' ');
    s = sp == absl::string_view::npos ? absl::string_view() : absl::StripLeadingAsciiWhitespace(s.substr(sp));
    if (!absl::ConsumePrefix(&s, "in ")) s = absl::string_view();  // only "(module+0x..)"
  }
  // Trailing "(module+0x1234)" and "(BuildId: ...)" groups.
  for (;;) {
    s = absl::StripTrailingAsciiWhitespace(s);
    if (s.empty() || s.back() != ')') break;
    size_t open = s.rfind('(');
    if (open == absl::string_view::npos) break;
    absl::string_view group = s.substr(open);
    if (!absl::StrContains(group, "+0x") && !absl::StartsWith(group, "(BuildId:")) break;
    s = s.substr(0, open);
  }
  out->function.clear();
  out->file.clear();
  if (s.empty()) return number;
  // The location is the last word: "file:line[:col]", or "<null>".
  size_t sp = s.rfind(' ');
  if (sp != absl::string_view::npos) {
    absl::string_view loc = s.substr(sp + 1);
    size_t colon = loc.find(':');
    // "file:line[:col]", or a bare path when the line is unknown (the
    // symbolizer prints that for code without a line entry).
    bool is_location = loc == "<null>" ||
                       (colon != absl::string_view::npos && colon + 1 < loc.size() &&
                        absl::ascii_isdigit(static_cast<unsigned char>(loc[colon + 1]))) ||
                       (absl::StrContains(loc, '/') && !absl::StrContains(loc, '('));
    if (is_location) {
      if (loc != "<null>") {
        bool has_line = colon != absl::string_view::npos && colon + 1 < loc.size() &&
                        absl::ascii_isdigit(static_cast<unsigned char>(loc[colon + 1]));
        out->file = std::string(has_line ? loc.substr(0, colon) : loc);
      }
      s = absl::StripTrailingAsciiWhitespace(s.substr(0, sp));
    }
  }
  if (s != "<null>" && s != "??") out->function = std::string(s);
  return number;
}

// The kernel substrate's reporting and primitive files: a frame there is the
// machinery that noticed the finding, not the code that caused it.
bool is_machinery(absl::string_view rel) {
  static constexpr const char* kFiles[] = {
      "report.cc", "refcount.cc", "refcount.h", "lock.cc",  "lock.h",    "hw.cc",
      "hw.h",      "live_objects.cc", "live_objects.h", "hooks.cc", "hooks.h", "fault.cc",
      "fault.h",   "slab.h",      "task.cc",    "task.h",   "wait.cc",   "wait.h",
      "uaccess.cc", "uaccess.h",  "kerrno.cc",  "container_of.h"};
  if (!absl::ConsumePrefix(&rel, "core/kernel/")) return false;
  for (const char* f : kFiles)
    if (rel == f) return true;
  return false;
}

std::vector<std::string> top_model_frames(const std::vector<Frame>& stack, size_t max,
                                          const SignatureOptions& opts) {
  std::vector<std::string> out;
  for (const Frame& f : stack) {
    if (out.size() >= max) break;
    if (!is_model_frame(f, opts)) continue;
    std::string fn = normalize_function(f.function);
    if (fn.empty() || (!out.empty() && out.back() == fn)) continue;
    out.push_back(std::move(fn));
  }
  return out;
}

uint64_t fnv1a(absl::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// [A-Za-z0-9_.-] only, at most `max` characters.
std::string file_safe(absl::string_view s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) break;
    bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
    if (ok) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

// The last "::" component outside template arguments: "Tracked<a::b>::~Tracked" -> "~Tracked".
std::string short_function(absl::string_view fn) {
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < fn.size(); ++i) {
    if (fn[i] == '<') ++depth;
    if (fn[i] == '>' && depth > 0) --depth;
    if (depth == 0 && fn[i] == ':' && i + 1 < fn.size() && fn[i + 1] == ':') start = i + 2;
  }
  absl::string_view last = fn.substr(start);
  return std::string(last.substr(0, last.find('<')));
}

}  // namespace

std::string asan_report_kind(absl::string_view rest) { return asan_kind(rest); }

std::string ubsan_report_kind(absl::string_view message) { return ubsan_kind(message); }

std::string tsan_report_kind(absl::string_view description) {
  // tsan_debugging.cpp's description -> tsan_report.cpp's header text, whose
  // words make the kind (words_kind), as in a log.
  struct Name {
    const char* description;
    const char* header;
  };
  static constexpr Name kNames[] = {
      {"data-race", "data race"},
      {"data-race-vptr", "data race on vptr (ctor/dtor vs virtual call)"},
      {"heap-use-after-free", "heap-use-after-free"},
      {"heap-use-after-free-vptr", "heap-use-after-free (virtual call vs free)"},
      {"external-race", "race on external object"},
      {"thread-leak", "thread leak"},
      {"locked-mutex-destroy", "destroy of a locked mutex"},
      {"mutex-double-lock", "double lock of a mutex"},
      {"mutex-invalid-access", "use of an invalid mutex (e.g. uninitialized or destroyed)"},
      {"mutex-bad-unlock", "unlock of an unlocked mutex (or by a wrong thread)"},
      {"mutex-bad-read-lock", "read lock of a write locked mutex"},
      {"mutex-bad-read-unlock", "read unlock of a write locked mutex"},
      {"signal-unsafe-call", "signal-unsafe call inside of a signal"},
      {"errno-in-signal-handler", "signal handler spoils errno"},
      {"lock-order-inversion", "lock-order-inversion (potential deadlock)"},
      {"mutex-held-in-wrong-context", "mutex held in the wrong context"},
  };
  for (const Name& n : kNames)
    if (description == n.description) return words_kind(n.header);
  return words_kind(description);
}

// ------------------------------------------------------------ parsing

std::optional<Finding> parse_finding(absl::string_view log) {
  std::vector<absl::string_view> lines = absl::StrSplit(log, '\n');
  size_t i = 0;
  std::optional<Header> h;
  for (; i < lines.size(); ++i)
    if ((h = header_of(lines[i]))) break;
  if (!h) return std::nullopt;

  Finding f;
  f.tool = h->tool;
  f.kind = h->kind;
  f.message = h->message;
  std::vector<std::string> context;  // the line before each stack
  absl::string_view previous;
  for (size_t j = i + 1; j < lines.size(); ++j) {
    absl::string_view line = lines[j];
    if (ends_region(*h, line) || header_of(line)) break;
    size_t at = line.find("==mcfuzz== object: ");
    if (at != absl::string_view::npos) f.object = std::string(line.substr(at + 19));
    Frame frame;
    int n = parse_frame_line(line, &frame);
    if (n < 0) {
      if (!absl::StripAsciiWhitespace(line).empty()) previous = line;
      continue;
    }
    if (n == 0 || f.stacks.empty()) {
      f.stacks.emplace_back();
      context.emplace_back(previous);
    }
    f.stacks.back().push_back(std::move(frame));
  }
  // LeakSanitizer: a direct leak says more than the indirect ones.
  if (f.tool == "lsan") {
    for (size_t k = 0; k < f.stacks.size(); ++k) {
      if (absl::StrContains(context[k], "Direct leak")) {
        std::rotate(f.stacks.begin(), f.stacks.begin() + k, f.stacks.begin() + k + 1);
        break;
      }
    }
  }
  return f;
}

// ------------------------------------------------------------ normalising

std::string normalize_function(absl::string_view symbolized) {
  std::string s(symbolized);
  for (size_t at; (at = s.find("(anonymous namespace)::")) != std::string::npos;)
    s.erase(at, 23);
  // Cut the parameter list: the first '(' outside template arguments that is
  // not the name of operator().
  int angle = 0;
  size_t cut = s.size();
  for (size_t i = 0; i < s.size(); ++i) {
    bool after_operator = i >= 8 && s.compare(i - 8, 8, "operator") == 0;
    if (s[i] == '<' && !after_operator) ++angle;
    if (s[i] == '>' && angle > 0 && !after_operator) --angle;
    if (s[i] == '(' && angle == 0) {
      if (after_operator && i + 1 < s.size() && s[i + 1] == ')') {
        ++i;
        continue;
      }
      cut = i;
      break;
    }
  }
  s.resize(cut);
  // A function template's return type: the last space outside template
  // arguments, unless it belongs to "operator new" and the like.
  angle = 0;
  size_t space = std::string::npos;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') ++angle;
    if (s[i] == '>' && angle > 0) --angle;
    if (s[i] == ' ' && angle == 0 && !(i >= 8 && s.compare(i - 8, 8, "operator") == 0)) space = i;
  }
  if (space != std::string::npos) s = s.substr(space + 1);
  return std::string(absl::StripAsciiWhitespace(s));
}

std::string project_relative(absl::string_view path) {
  static constexpr const char* kTop[] = {"core",  "drivers", "fuzzers",   "tests",
                                         "tools", "bench",   "sanitizers"};
  auto is_top = [](absl::string_view seg) {
    for (const char* t : kTop)
      if (seg == t) return true;
    return false;
  };
  std::vector<absl::string_view> segs = absl::StrSplit(path, '/');
  if (segs.size() < 2) return "";
  // The rightmost top-level folder name among the directories, then the run
  // of top-level names before it ("tests/drivers/x.cc", "fuzzers/tools/y.cc").
  int k = -1;
  for (int i = static_cast<int>(segs.size()) - 2; i >= 0; --i) {
    if (is_top(segs[i])) {
      k = i;
      break;
    }
  }
  if (k < 0) return "";
  while (k > 0 && is_top(segs[k - 1])) --k;
  return absl::StrJoin(segs.begin() + k, segs.end(), "/");
}

bool is_model_frame(const Frame& f, const SignatureOptions& opts) {
  if (f.function.empty() || f.file.empty()) return false;
  std::string rel = project_relative(f.file);
  if (rel.empty()) return false;
  bool model = absl::StartsWith(rel, "core/") || absl::StartsWith(rel, "drivers/");
  for (const std::string& d : opts.model_dirs) model = model || absl::StartsWith(rel, d);
  return model && !is_machinery(rel);
}

std::string normalize_detail(absl::string_view s) {
  std::vector<std::string> out;
  for (absl::string_view tok : absl::StrSplit(s, ' ', absl::SkipEmpty())) {
    if (absl::StartsWith(tok, "0x") || tok == "(nil)") continue;
    std::string t(tok);
    size_t end = t.size();
    while (end > 0 && absl::ascii_isdigit(static_cast<unsigned char>(t[end - 1]))) --end;
    if (end < t.size()) t = t.substr(0, end) + "N";
    out.push_back(std::move(t));
  }
  return absl::StrJoin(out, " ");
}

std::string leaked_types(absl::string_view message) {
  std::vector<std::string> types;
  for (absl::string_view tok : absl::StrSplit(message, ' ', absl::SkipEmpty())) {
    size_t eq = tok.find('=');
    if (eq == absl::string_view::npos || eq == 0) continue;
    absl::string_view count = tok.substr(eq + 1);
    if (count.empty() || !std::all_of(count.begin(), count.end(), [](char c) {
          return absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-';
        }))
      continue;
    types.emplace_back(tok.substr(0, eq));
  }
  std::sort(types.begin(), types.end());
  return absl::StrJoin(types, ",");
}

// ------------------------------------------------------------ the signature

Signature make_signature(const Finding& f, const SignatureOptions& opts) {
  Signature s;
  s.kind = f.kind;
  if (f.kind == "data-race" && f.stacks.size() >= 2) {
    s.frames = top_model_frames(f.stacks[0], kMaxRaceFrames, opts);
    s.frames2 = top_model_frames(f.stacks[1], kMaxRaceFrames, opts);
    if (absl::StrJoin(s.frames2, "|") < absl::StrJoin(s.frames, "|")) std::swap(s.frames, s.frames2);
    if (s.frames.empty()) std::swap(s.frames, s.frames2);
  } else if (!f.stacks.empty()) {
    s.frames = top_model_frames(f.stacks[0], kMaxFrames, opts);
  }
  if (s.frames.empty()) {
    s.detail = f.kind == "object-leak" ? leaked_types(f.message) : normalize_detail(f.object);
  }
  return s;
}

Signature signature_of_log(absl::string_view log, const SignatureOptions& opts) {
  std::optional<Finding> f = parse_finding(log);
  return f ? make_signature(*f, opts) : Signature{};
}

std::string Signature::text() const {
  if (kind.empty()) return "";
  if (!frames.empty()) {
    std::string t = absl::StrCat(kind, " in ", absl::StrJoin(frames, " <- "));
    if (!frames2.empty()) absl::StrAppend(&t, " vs ", absl::StrJoin(frames2, " <- "));
    return t;
  }
  if (!detail.empty()) return absl::StrCat(kind, " (", detail, ")");
  return kind;
}

std::string Signature::id() const {
  if (kind.empty()) return "";
  std::string head;
  if (!frames.empty()) {
    head = file_safe(short_function(frames[0]), 40);
  } else if (!detail.empty()) {
    head = file_safe(detail.substr(0, detail.find_first_of(" ,")), 40);
  }
  std::string id = file_safe(kind, 40);
  if (!head.empty()) absl::StrAppend(&id, "-", head);
  absl::StrAppend(&id, "-", absl::StrFormat("%08x", static_cast<uint32_t>(fnv1a(text()))));
  return id;
}

std::optional<std::string> signature_line_in_log(absl::string_view log) {
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    size_t at = line.find("==mcfuzz== SIGNATURE ");
    if (at != absl::string_view::npos) return std::string(line.substr(at + 21));
  }
  return std::nullopt;
}

}  // namespace mcf::repro
