// The text form of a program: see encoding_text.h for the grammar and the
// canonical layout. Printer first, then the parser (one Cursor per line).
#include "fuzzers/prog/encoding_text.h"

#include <linux/media.h>

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "core/fs/file.h"
#include "drivers/driver_table.h"
#include "fuzzers/prog/ioctl_desc.h"

namespace mcf::fuzz {
namespace {

struct Named {
  const char* name;
  uint64_t value;
};
// Access modes are a 2-bit number, not flags: O_RDONLY is 0.
constexpr uint32_t kAccessMode = 3;
constexpr Named kOpenNames[] = {{"O_RDONLY", O_RDONLY_},
                                {"O_WRONLY", O_WRONLY_},
                                {"O_RDWR", O_RDWR_},
                                {"O_NONBLOCK", O_NONBLOCK_}};
constexpr Named kPollNames[] = {{"POLLIN", EPOLLIN},         {"POLLPRI", EPOLLPRI},
                                {"POLLOUT", EPOLLOUT},       {"POLLERR", EPOLLERR},
                                {"POLLHUP", EPOLLHUP},       {"POLLRDNORM", EPOLLRDNORM},
                                {"POLLWRNORM", EPOLLWRNORM}};
constexpr uint64_t kEntIdFlagNext = MEDIA_ENT_ID_FLAG_NEXT;
constexpr uint64_t kU32Max = 0xffffffffu;

// ---------------------------------------------------------------- printer

std::string hex(uint64_t v) { return absl::StrCat("0x", absl::Hex(v)); }
std::string number(uint64_t v) { return v <= 0xffff ? absl::StrCat(v) : hex(v); }

std::string driver_name(uint8_t row) {
  const auto& table = driver_table();
  if (row < table.size()) return table[row].name;
  return absl::StrCat("#", row);
}

std::string device_text(const DeviceRef& dev) {
  return absl::StrCat(driver_name(dev.driver), ".", dev.id);
}

std::string node_text(const NodeRef& node) {
  return absl::StrCat(device_text(node.dev), ":", node_kind_prefix(node.kind), "[", node.index,
                      "]");
}

std::string open_flags_text(uint32_t flags) {
  uint32_t mode = flags & kAccessMode;
  std::string out = mode == O_RDONLY_  ? "O_RDONLY"
                    : mode == O_WRONLY_ ? "O_WRONLY"
                    : mode == O_RDWR_   ? "O_RDWR"
                                        : hex(mode);
  uint32_t rest = flags & ~kAccessMode;
  if (rest & O_NONBLOCK_) absl::StrAppend(&out, "|O_NONBLOCK");
  rest &= ~O_NONBLOCK_;
  if (rest != 0) absl::StrAppend(&out, "|", hex(rest));
  return out;
}

std::string poll_events_text(uint32_t events) {
  std::vector<std::string> parts;
  uint64_t rest = events;
  for (const Named& n : kPollNames) {
    if ((rest & n.value) == n.value) {
      parts.push_back(n.name);
      rest &= ~n.value;
    }
  }
  if (parts.empty() && rest == 0) return "0";
  if (rest != 0) parts.push_back(hex(rest));
  return absl::StrJoin(parts, "|");
}

const char* value_name(const FieldDesc& f, uint64_t v) {
  for (size_t i = 0; i < f.values.size() && i < f.value_names.size(); ++i)
    if (f.values[i] == v && f.value_names[i] != nullptr) return f.value_names[i];
  return nullptr;
}

std::string field_value_text(const FieldDesc& f, uint64_t v) {
  switch (f.type) {
    case FieldType::kUserPtr:
      if (!user_ptr_is_raw(v)) return absl::StrCat("user(", hex(v), ")");
      if (user_ptr_value(v) == 0) return "NULL";
      return absl::StrCat("ptr(", hex(user_ptr_value(v)), ")");
    case FieldType::kEnum:
      if (const char* name = value_name(f, v)) return name;
      return number(v);
    case FieldType::kFlags: {
      std::vector<std::string> parts;
      uint64_t rest = v;
      for (size_t i = 0; i < f.values.size() && i < f.value_names.size(); ++i) {
        uint64_t bits = f.values[i];
        if (bits != 0 && f.value_names[i] != nullptr && (rest & bits) == bits) {
          parts.push_back(f.value_names[i]);
          rest &= ~bits;
        }
      }
      if (rest != 0 || parts.empty()) parts.push_back(hex(rest));
      return absl::StrJoin(parts, "|");
    }
    case FieldType::kEntityId:
      if (v & kEntIdFlagNext) {
        uint64_t id = v & ~kEntIdFlagNext;
        return id == 0 ? "MEDIA_ENT_ID_FLAG_NEXT" : absl::StrCat("MEDIA_ENT_ID_FLAG_NEXT|", number(id));
      }
      return number(v);
    default:
      return number(v);
  }
}

std::string ioctl_text(const IoctlArg& arg) {
  const IoctlDesc& d = ioctl_table()[arg.desc];
  std::vector<std::string> shown;
  for (size_t i = 0; i < d.fields.size(); ++i) {
    uint64_t v = i < arg.fields.size() ? arg.fields[i] : 0;
    if (v == 0 && d.fields[i].type != FieldType::kUserPtr) continue;
    shown.push_back(absl::StrCat(d.fields[i].name, "=", field_value_text(d.fields[i], v)));
  }
  if (shown.empty()) return d.name;
  return absl::StrCat(d.name, ", {", absl::StrJoin(shown, ", "), "}");
}

// resource[i]: the number N of "rN" bound by call i, or -1.
std::vector<int> number_resources(const Program& p) {
  std::vector<int> resource(p.calls.size(), -1);
  int next = 0;
  for (size_t i = 0; i < p.calls.size(); ++i)
    if (call_makes_fd(p.calls[i].kind)) resource[i] = next++;
  return resource;
}

std::string fd_text(const std::vector<int>& resource, int16_t fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= resource.size() || resource[fd] < 0) return "-1";
  return absl::StrCat("r", resource[fd]);
}

std::string call_line(const Program& p, const std::vector<int>& resource, size_t index) {
  const Call& c = p.calls[index];
  std::string out = absl::StrCat("t", c.thread, " ");
  if (resource[index] >= 0) absl::StrAppend(&out, "r", resource[index], " = ");
  absl::StrAppend(&out, call_kind_name(c.kind), "(");
  switch (c.kind) {
    case CallKind::kOpen:
      absl::StrAppend(&out, node_text(c.node), ", ", open_flags_text(c.flags));
      break;
    case CallKind::kClose:
    case CallKind::kDup:
      absl::StrAppend(&out, fd_text(resource, c.fd));
      break;
    case CallKind::kIoctl:
      absl::StrAppend(&out, fd_text(resource, c.fd), ", ", ioctl_text(c.ioctl));
      break;
    case CallKind::kPoll:
      absl::StrAppend(&out, fd_text(resource, c.fd), ", ", poll_events_text(c.flags),
                      c.block ? ", block" : "");
      break;
    case CallKind::kIrq:
      absl::StrAppend(&out, device_text(c.dev), ", ", c.irq_line);
      break;
    case CallKind::kRegisterDriver:
    case CallKind::kUnregisterDriver:
      absl::StrAppend(&out, driver_name(c.driver));
      break;
    default:  // bind, unbind, plug, unplug
      absl::StrAppend(&out, device_text(c.dev));
      break;
  }
  absl::StrAppend(&out, ")");
  if (c.fail_nth != 0) absl::StrAppend(&out, " fail_nth=", c.fail_nth);
  return out;
}

// ---------------------------------------------------------------- parser

bool is_word_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch == '_';
}
bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
// "r" and decimal digits.
bool is_resource_name(absl::string_view w) {
  if (w.size() < 2 || w[0] != 'r') return false;
  for (size_t i = 1; i < w.size(); ++i)
    if (!is_digit(w[i])) return false;
  return true;
}

// One line being parsed. Every parse function returns false after recording
// the first error in `err`.
class Cursor {
 public:
  Cursor(absl::string_view s, int line) : s_(s), line_(line) {}

  void ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  bool at_end() {
    ws();
    return pos_ >= s_.size() || s_[pos_] == '#';
  }
  bool peek(char ch) {
    ws();
    return pos_ < s_.size() && s_[pos_] == ch;
  }
  bool peek_digit() {
    ws();
    return pos_ < s_.size() && is_digit(s_[pos_]);
  }
  bool eat(char ch) {
    if (!peek(ch)) return false;
    ++pos_;
    return true;
  }
  bool expect(char ch, absl::string_view where) {
    if (eat(ch)) return true;
    return expected(absl::StrCat("'", std::string(1, ch), "' ", where));
  }
  // The longest run of characters accepted by `ok`, after spaces.
  template <typename Pred>
  absl::string_view scan(Pred ok) {
    ws();
    size_t start = pos_;
    while (pos_ < s_.size() && ok(s_[pos_])) ++pos_;
    return s_.substr(start, pos_ - start);
  }
  absl::string_view word() { return scan(is_word_char); }
  // After an opening quote: the characters up to the closing one (consumed).
  bool quoted(absl::string_view* out) {
    size_t end = s_.find('\'', pos_);
    if (end == absl::string_view::npos) return false;
    *out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return true;
  }
  // A word if the next one is exactly `w` (consumed), else nothing consumed.
  bool eat_word(absl::string_view w) {
    size_t save = pos_;
    if (word() == w) return true;
    pos_ = save;
    return false;
  }
  size_t pos() const { return pos_; }
  void set_pos(size_t pos) { pos_ = pos; }

  bool expected(absl::string_view what) {
    ws();
    std::string found = "end of line";
    if (pos_ < s_.size()) {
      absl::string_view rest = s_.substr(pos_, 24);
      found = absl::StrCat("'", rest, pos_ + rest.size() < s_.size() ? "...'" : "'");
    }
    return fail(absl::StrCat("expected ", what, ", found ", found));
  }
  bool fail(absl::string_view msg) {
    if (err.empty()) err = absl::StrCat("line ", line_, ": ", msg);
    return false;
  }

  std::string err;

 private:
  absl::string_view s_;
  size_t pos_ = 0;
  int line_;
};

// A decimal or 0x-hex number that fits 64 bits; `what` names it in errors.
bool parse_uint(Cursor& c, uint64_t* out, absl::string_view what) {
  absl::string_view tok = c.word();
  if (tok.empty()) return c.expected(absl::StrCat("a number (", what, ")"));
  uint64_t v = 0;
  bool hexa = tok.size() > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X');
  absl::string_view digits = hexa ? tok.substr(2) : tok;
  for (char ch : digits) {
    int d;
    if (is_digit(ch)) {
      d = ch - '0';
    } else if (hexa && ch >= 'a' && ch <= 'f') {
      d = ch - 'a' + 10;
    } else if (hexa && ch >= 'A' && ch <= 'F') {
      d = ch - 'A' + 10;
    } else {
      return c.fail(absl::StrCat("bad number '", tok, "' (", what, ")"));
    }
    uint64_t base = hexa ? 16 : 10;
    if (v > (UINT64_MAX - d) / base)
      return c.fail(absl::StrCat("number '", tok, "' does not fit 64 bits (", what, ")"));
    v = v * base + d;
  }
  *out = v;
  return true;
}

bool parse_uint_max(Cursor& c, uint64_t max, uint64_t* out, absl::string_view what) {
  size_t start = c.pos();
  if (!parse_uint(c, out, what)) return false;
  if (*out <= max) return true;
  c.set_pos(start);
  return c.fail(absl::StrCat(what, " ", *out, " is out of range (at most ", max, ")"));
}

bool lookup_in(std::span<const Named> names, absl::string_view name, uint64_t* value) {
  for (const Named& n : names) {
    if (name == n.name) {
      *value = n.value;
      return true;
    }
  }
  return false;
}

std::string names_of(std::span<const Named> names) {
  std::vector<std::string> out;
  for (const Named& n : names) out.push_back(n.name);
  return absl::StrJoin(out, ", ");
}

// term { "|" term } with term = name | number | "-" number | 'fourcc'.
// `size` is the value's size in bytes (for negatives and the range check);
// lookup(name, &value, &known_names) resolves a name or lists the known ones.
template <typename Lookup>
bool parse_terms(Cursor& c, unsigned size, Lookup lookup, absl::string_view what, uint64_t* out) {
  uint64_t max = size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
  uint64_t v = 0;
  do {
    uint64_t term = 0;
    c.ws();
    if (c.peek('\'')) {
      c.eat('\'');
      absl::string_view cc;
      if (!c.quoted(&cc) || cc.size() != 4)
        return c.fail(absl::StrCat("bad fourcc (", what, "): expected 4 characters in quotes"));
      for (int i = 0; i < 4; ++i) term |= static_cast<uint64_t>(static_cast<uint8_t>(cc[i])) << (8 * i);
    } else if (c.eat('-')) {
      uint64_t n;
      if (!parse_uint(c, &n, what)) return false;
      if (n > (max >> 1) + 1) return c.fail(absl::StrCat("-", n, " is out of range (", what, ")"));
      term = (0 - n) & max;
    } else if (c.peek_digit()) {
      if (!parse_uint(c, &term, what)) return false;
    } else {
      absl::string_view name = c.word();
      if (name.empty()) return c.expected(absl::StrCat("a value (", what, ")"));
      std::string known;
      if (!lookup(name, &term, &known))
        return c.fail(absl::StrCat("unknown name '", name, "' (", what, "; names: ",
                                   known.empty() ? "none" : known, ")"));
    }
    if (term > max)
      return c.fail(absl::StrCat("value ", hex(term), " does not fit ", 8 * size, " bits (", what, ")"));
    v |= term;
  } while (c.eat('|'));
  *out = v;
  return true;
}

auto named_lookup(std::span<const Named> names) {
  return [names](absl::string_view name, uint64_t* v, std::string* known) {
    if (lookup_in(names, name, v)) return true;
    *known = names_of(names);
    return false;
  };
}

class Parser {
 public:
  absl::StatusOr<Program> run(absl::string_view text);

 private:
  bool line(Cursor& c);
  bool schedule(Cursor& c);
  template <typename Thread>
  bool pct(Cursor& c, Thread thread);
  bool call_args(Cursor& c, Call* call);
  bool fd(Cursor& c, int16_t* out);
  bool driver(Cursor& c, uint8_t* out);
  bool device(Cursor& c, DeviceRef* out);
  bool node(Cursor& c, NodeRef* out);
  bool ioctl(Cursor& c, IoctlArg* out);
  bool field_value(Cursor& c, const IoctlDesc& d, const FieldDesc& f, uint64_t* out);

  Program prog_;
  std::map<std::string, int, std::less<>> resources_;  // "r3" -> call index
  bool schedule_seen_ = false;
};

absl::StatusOr<Program> Parser::run(absl::string_view text) {
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    absl::string_view line_text = text.substr(0, nl);
    text = nl == absl::string_view::npos ? absl::string_view() : text.substr(nl + 1);
    if (!line_text.empty() && line_text.back() == '\r') line_text.remove_suffix(1);
    Cursor c(line_text, line_no);
    if (c.at_end()) continue;  // blank or comment
    if (prog_.calls.size() >= static_cast<size_t>(kMaxCalls)) {
      c.fail(absl::StrCat("more than ", kMaxCalls, " calls"));
      return absl::InvalidArgumentError(c.err);
    }
    if (!line(c)) return absl::InvalidArgumentError(c.err);
  }
  // Already canonical when the parser is right; canonicalize() is the net.
  canonicalize(&prog_);
  return prog_;
}

// "schedule: t0@1.lock#2 -> t1, ..." (see prog.h's SchedStep), or
// "schedule: pct t2>t0>t1>t3 change@57 change@130" (prog.h's PctSchedule).
bool Parser::schedule(Cursor& c) {
  if (!c.expect(':', "after 'schedule'")) return false;
  if (schedule_seen_) return c.fail("a second schedule line");
  schedule_seen_ = true;
  auto thread = [&c](uint8_t* out, absl::string_view what) {
    absl::string_view t = c.word();
    if (t.size() != 2 || t[0] != 't' || !is_digit(t[1]) || t[1] - '0' >= kMaxThreads)
      return c.expected(absl::StrCat("a thread t0..t", kMaxThreads - 1, " (", what, ")"));
    *out = static_cast<uint8_t>(t[1] - '0');
    return true;
  };
  if (c.eat_word("pct")) return pct(c, thread);
  while (!c.at_end()) {
    if (!prog_.schedule.empty() && !c.expect(',', "between schedule steps")) return false;
    if (prog_.schedule.size() >= static_cast<size_t>(kMaxSchedSteps))
      return c.fail(absl::StrCat("more than ", kMaxSchedSteps, " schedule steps"));
    SchedStep s;
    uint64_t v;
    if (!thread(&s.thread, "preempted") || !c.expect('@', "after the thread")) return false;
    absl::string_view n = c.scan(is_digit);
    if (n.empty() || n.size() > 3 || !absl::SimpleAtoi(n, &v) || v >= static_cast<uint64_t>(kMaxCalls))
      return c.expected("the thread's call index");
    s.call = static_cast<uint8_t>(v);
    if (!c.expect('.', "after the call index")) return false;
    absl::string_view kind = c.scan([](char ch) { return ch >= 'a' && ch <= 'z'; });
    int k = -1;
    for (int i = 0; i < kHookKindCount; ++i)
      if (kind == hook_kind_name(static_cast<HookKind>(i))) k = i;
    if (k < 0) return c.expected("a scheduling point kind (lock, unlock, get, put, sleep, wake, enter, exit, irq, publish, unpublish)");
    s.kind = static_cast<HookKind>(k);
    if (!c.expect('#', "after the point kind")) return false;
    n = c.scan(is_digit);
    if (n.empty() || n.size() > 3 || !absl::SimpleAtoi(n, &v) || v > 255)
      return c.expected("the point's number (0..255)");
    s.nth = static_cast<uint8_t>(v);
    if (!c.expect('-', "(the arrow)") || !c.expect('>', "(the arrow)")) return false;
    if (!thread(&s.next, "to run next")) return false;
    prog_.schedule.push_back(s);
  }
  return true;
}

// After "schedule: pct": the priority order, highest first, then the
// change points.
template <typename Thread>
bool Parser::pct(Cursor& c, Thread thread) {
  prog_.strategy = SchedStrategy::kPct;
  unsigned seen = 0;
  for (int i = 0; i < kMaxThreads; ++i) {
    if (i > 0 && !c.expect('>', "between the threads of the priority order")) return false;
    uint8_t t;
    if (!thread(&t, "the priority order, highest first, each thread once")) return false;
    if ((seen >> t) & 1) return c.fail(absl::StrCat("t", t, " twice in the priority order"));
    seen |= 1u << t;
    prog_.pct.order[i] = t;
  }
  while (!c.at_end()) {
    if (!c.eat_word("change") || !c.expect('@', "after 'change'"))
      return c.expected("a change point change@N");
    if (prog_.pct.changes.size() >= static_cast<size_t>(kMaxPctChanges))
      return c.fail(absl::StrCat("more than ", kMaxPctChanges, " change points"));
    absl::string_view n = c.scan(is_digit);
    uint64_t v;
    if (n.empty() || n.size() > 5 || !absl::SimpleAtoi(n, &v) || v > 0xffff)
      return c.expected("the scheduling point of the change (0..65535)");
    prog_.pct.changes.push_back(static_cast<uint16_t>(v));
  }
  return true;
}

bool Parser::line(Cursor& c) {
  Call call;
  if (c.eat_word("schedule")) return schedule(c);
  // 1. The thread.
  absl::string_view t = c.word();
  bool digits = t.size() >= 2 && t[0] == 't';
  for (size_t i = 1; i < t.size(); ++i) digits = digits && is_digit(t[i]);
  if (!digits) {
    c.set_pos(0);
    return c.expected(absl::StrCat("a thread t0..t", kMaxThreads - 1, " at the start of the call"));
  }
  if (t.size() > 2 || t[1] - '0' >= kMaxThreads)
    return c.fail(absl::StrCat("thread '", t, "' is out of range (t0..t", kMaxThreads - 1, ")"));
  call.thread = static_cast<uint8_t>(t[1] - '0');
  // 2. The resource it binds, if any.
  size_t save = c.pos();
  absl::string_view name = c.word();
  std::string bind;
  if (is_resource_name(name) && c.eat('=')) {
    bind = std::string(name);
    save = c.pos();
    name = c.word();
  }
  // 3. The call and its arguments.
  int kind = -1;
  for (int k = 0; k < static_cast<int>(CallKind::kCount); ++k)
    if (name == call_kind_name(static_cast<CallKind>(k))) kind = k;
  if (kind < 0) {
    if (name.empty()) {
      c.set_pos(save);
      return c.expected("a call name");
    }
    std::vector<std::string> calls;
    for (int k = 0; k < static_cast<int>(CallKind::kCount); ++k)
      calls.push_back(call_kind_name(static_cast<CallKind>(k)));
    return c.fail(absl::StrCat("unknown call '", name, "' (calls: ", absl::StrJoin(calls, ", "), ")"));
  }
  call.kind = static_cast<CallKind>(kind);
  if (!bind.empty() && !call_makes_fd(call.kind))
    return c.fail(absl::StrCat(name, " makes no fd to bind to ", bind));
  if (!c.expect('(', absl::StrCat("after '", name, "'"))) return false;
  if (!call_args(c, &call)) return false;
  if (!c.expect(')', absl::StrCat("to close the arguments of ", name))) return false;
  // 4. Call properties, then the end of the line.
  if (c.eat_word("fail_nth")) {
    uint64_t n;
    if (!c.expect('=', "after fail_nth") || !parse_uint_max(c, kU32Max, &n, "fail_nth"))
      return false;
    call.fail_nth = static_cast<uint32_t>(n);
  }
  if (!c.at_end()) return c.expected("the end of the line");
  if (!bind.empty()) resources_[bind] = static_cast<int>(prog_.calls.size());
  prog_.calls.push_back(call);
  return true;
}

bool Parser::call_args(Cursor& c, Call* call) {
  switch (call->kind) {
    case CallKind::kOpen: {
      uint64_t flags;
      if (!node(c, &call->node) || !c.expect(',', "after the node") ||
          !parse_terms(c, 4, named_lookup(kOpenNames), "open flags", &flags))
        return false;
      call->flags = static_cast<uint32_t>(flags);
      return true;
    }
    case CallKind::kClose:
    case CallKind::kDup:
      return fd(c, &call->fd);
    case CallKind::kIoctl:
      return fd(c, &call->fd) && c.expect(',', "after the fd") && ioctl(c, &call->ioctl);
    case CallKind::kPoll: {
      uint64_t events;
      if (!fd(c, &call->fd) || !c.expect(',', "after the fd") ||
          !parse_terms(c, 4, named_lookup(kPollNames), "poll events", &events))
        return false;
      call->flags = static_cast<uint32_t>(events);
      if (c.eat(',')) {
        if (!c.eat_word("block")) return c.expected("'block'");
        call->block = true;
      }
      return true;
    }
    case CallKind::kIrq: {
      uint64_t line;
      if (!device(c, &call->dev) || !c.expect(',', "after the device") ||
          !parse_uint_max(c, 255, &line, "irq line"))
        return false;
      call->irq_line = static_cast<uint8_t>(line);
      return true;
    }
    case CallKind::kRegisterDriver:
    case CallKind::kUnregisterDriver:
      return driver(c, &call->driver);
    default:  // bind, unbind, plug, unplug
      return device(c, &call->dev);
  }
}

bool Parser::fd(Cursor& c, int16_t* out) {
  if (c.eat('-')) {
    if (!c.eat_word("1")) return c.expected("-1 or a resource r<N>");
    *out = -1;
    return true;
  }
  size_t save = c.pos();
  absl::string_view name = c.word();
  if (!is_resource_name(name)) {
    c.set_pos(save);
    return c.expected("a resource r<N> or -1");
  }
  auto it = resources_.find(name);
  if (it == resources_.end())
    return c.fail(absl::StrCat("resource '", name, "' is not bound by an earlier open or dup"));
  *out = static_cast<int16_t>(it->second);
  return true;
}

bool Parser::driver(Cursor& c, uint8_t* out) {
  const auto& table = driver_table();
  if (c.eat('#')) {
    uint64_t row;
    uint64_t max = table.empty() ? 0 : table.size() - 1;
    if (!parse_uint_max(c, max, &row, "driver row")) return false;
    *out = static_cast<uint8_t>(row);
    return true;
  }
  absl::string_view name = c.scan([](char ch) { return is_word_char(ch) || ch == '-' || ch == '.'; });
  if (name.empty()) return c.expected("a driver name");
  for (size_t i = 0; i < table.size() && i < 256; ++i) {
    if (name == table[i].name) {
      *out = static_cast<uint8_t>(i);
      return true;
    }
  }
  std::vector<std::string> names;
  for (const driver_desc& d : table) names.push_back(d.name);
  return c.fail(absl::StrCat("unknown driver '", name, "' (drivers: ",
                             table.empty() ? "none, the table is empty: use #0"
                                           : absl::StrJoin(names, ", "),
                             ")"));
}

bool Parser::device(Cursor& c, DeviceRef* out) {
  // "<driver>.<id>": the driver name may itself hold dots, the id is after the last.
  c.ws();
  size_t start = c.pos();
  bool numbered = c.eat('#');
  absl::string_view tok = c.scan([](char ch) { return is_word_char(ch) || ch == '-' || ch == '.'; });
  size_t dot = tok.rfind('.');
  if (dot == absl::string_view::npos || dot == 0) {
    c.set_pos(start);
    return c.expected("a device <driver>.<id>");
  }
  std::string head = absl::StrCat(numbered ? "#" : "", tok.substr(0, dot));
  Cursor head_cursor(head, 0);
  uint8_t driver_row = 0;
  if (!driver(head_cursor, &driver_row) || !head_cursor.at_end()) {
    std::string msg = head_cursor.err.empty() ? "bad driver" : head_cursor.err;
    // Re-anchor the error on this line: drop the inner "line 0: ".
    c.set_pos(start);
    return c.fail(msg.substr(msg.find(": ") + 2));
  }
  Cursor id_cursor(tok.substr(dot + 1), 0);
  uint64_t id;
  if (!parse_uint_max(id_cursor, 255, &id, "device id") || !id_cursor.at_end()) {
    std::string msg = id_cursor.err.empty() ? "bad device id" : id_cursor.err;
    return c.fail(msg.substr(msg.find(": ") + 2));
  }
  out->driver = driver_row;
  out->id = static_cast<uint8_t>(id);
  return true;
}

bool Parser::node(Cursor& c, NodeRef* out) {
  if (!device(c, &out->dev) || !c.expect(':', "after the device (node <device>:<kind>[<index>])"))
    return false;
  absl::string_view kind = c.scan([](char ch) { return is_word_char(ch) || ch == '-'; });
  int found = -1;
  for (int k = 0; k < static_cast<int>(NodeKind::kCount); ++k)
    if (kind == node_kind_prefix(static_cast<NodeKind>(k))) found = k;
  if (found < 0)
    return c.fail(absl::StrCat("unknown node kind '", kind, "' (kinds: media, video, v4l-subdev)"));
  out->kind = static_cast<NodeKind>(found);
  uint64_t index;
  if (!c.expect('[', "after the node kind") || !parse_uint_max(c, 255, &index, "node index") ||
      !c.expect(']', "after the node index"))
    return false;
  out->index = static_cast<uint8_t>(index);
  return true;
}

bool Parser::ioctl(Cursor& c, IoctlArg* out) {
  absl::string_view name = c.word();
  if (name.empty()) return c.expected("an ioctl name");
  int row = find_ioctl(std::string(name));
  if (row < 0) return c.fail(absl::StrCat("unknown ioctl '", name, "'"));
  const IoctlDesc& d = ioctl_table()[row];
  out->desc = static_cast<uint16_t>(row);
  out->fields.assign(d.fields.size(), 0);
  if (!c.eat(',')) return true;
  if (!c.expect('{', absl::StrCat("to open the fields of ", d.name))) return false;
  if (c.eat('}')) return true;
  std::vector<bool> seen(d.fields.size(), false);
  do {
    absl::string_view fname = c.scan([](char ch) { return is_word_char(ch) || ch == '.'; });
    if (fname.empty()) return c.expected(absl::StrCat("a field of ", d.name));
    size_t i = 0;
    while (i < d.fields.size() && fname != d.fields[i].name) ++i;
    if (i == d.fields.size()) {
      std::vector<std::string> names;
      for (const FieldDesc& f : d.fields) names.push_back(f.name);
      return c.fail(absl::StrCat("unknown field '", fname, "' of ", d.name, " (fields: ",
                                 names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
    }
    if (seen[i]) return c.fail(absl::StrCat("field '", fname, "' given twice"));
    seen[i] = true;
    if (!c.expect('=', absl::StrCat("after the field name ", fname)) ||
        !field_value(c, d, d.fields[i], &out->fields[i]))
      return false;
  } while (c.eat(','));
  return c.expect('}', absl::StrCat("or ',' after the fields of ", d.name));
}

bool Parser::field_value(Cursor& c, const IoctlDesc& d, const FieldDesc& f, uint64_t* out) {
  std::string what = absl::StrCat("field ", f.name, " of ", d.name);
  if (f.type == FieldType::kUserPtr) {
    if (c.eat_word("NULL")) {
      *out = kUserPtrRaw;
      return true;
    }
    bool raw = c.eat_word("ptr");
    if (!raw && !c.eat_word("user"))
      return c.expected(absl::StrCat("user(<offset>), ptr(<address>) or NULL (", what, ")"));
    uint64_t v;
    if (!c.expect('(', raw ? "after ptr" : "after user") ||
        !parse_uint_max(c, kUserPtrRaw - 1, &v, what) ||
        !c.expect(')', raw ? "to close ptr(" : "to close user("))
      return false;
    *out = raw ? (v | kUserPtrRaw) : v;
    return true;
  }
  auto lookup = [&f](absl::string_view name, uint64_t* v, std::string* known) {
    std::vector<std::string> names;
    if (f.type == FieldType::kEntityId) {
      if (name == "MEDIA_ENT_ID_FLAG_NEXT") {
        *v = kEntIdFlagNext;
        return true;
      }
      names.push_back("MEDIA_ENT_ID_FLAG_NEXT");
    }
    for (size_t i = 0; i < f.values.size() && i < f.value_names.size(); ++i) {
      if (f.value_names[i] == nullptr) continue;
      if (name == f.value_names[i]) {
        *v = f.values[i];
        return true;
      }
      names.push_back(f.value_names[i]);
    }
    *known = absl::StrJoin(names, ", ");
    return false;
  };
  return parse_terms(c, f.size, lookup, what, out);
}

}  // namespace

std::string program_to_text(const Program& p) {
  Program canon = p;
  canonicalize(&canon);
  std::vector<int> resource = number_resources(canon);
  std::string out;
  for (size_t i = 0; i < canon.calls.size(); ++i) absl::StrAppend(&out, call_line(canon, resource, i), "\n");
  if (canon.strategy == SchedStrategy::kPct) {
    absl::StrAppend(&out, pct_to_text(canon.pct), "\n");
  } else if (!canon.schedule.empty()) {
    absl::StrAppend(&out, schedule_to_text(canon.schedule), "\n");
  }
  return out;
}

std::string call_to_text(const Program& p, size_t index) {
  Program canon = p;
  canonicalize(&canon);
  if (index >= canon.calls.size()) return "";
  return call_line(canon, number_resources(canon), index);
}

std::string schedule_to_text(const std::vector<SchedStep>& schedule) {
  std::string out = "schedule:";
  for (size_t i = 0; i < schedule.size(); ++i) {
    const SchedStep& s = schedule[i];
    absl::StrAppend(&out, i == 0 ? " " : ", ", "t", s.thread, "@", s.call, ".",
                    hook_kind_name(s.kind), "#", s.nth, " -> t", s.next);
  }
  return out;
}

std::string pct_to_text(const PctSchedule& pct) {
  std::string out = "schedule: pct ";
  for (int i = 0; i < kMaxThreads; ++i) absl::StrAppend(&out, i == 0 ? "t" : ">t", pct.order[i]);
  for (uint16_t c : pct.changes) absl::StrAppend(&out, " change@", c);
  return out;
}

absl::StatusOr<Program> program_from_text(std::string_view text) {
  return Parser().run(absl::string_view(text.data(), text.size()));
}

}  // namespace mcf::fuzz
