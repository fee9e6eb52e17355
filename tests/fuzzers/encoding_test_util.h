// Shared by the encoding tests (encoding_text_test.cc, encoding_binary_test.cc):
// hand-written programs that cover every call kind and every ioctl row with
// varied field values, and the name of a driver row to write devices with.
// Everything here works with any driver table, the empty one included.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "core/fs/file.h"
#include "drivers/driver_table.h"
#include "fuzzers/prog/ioctl_desc.h"
#include "fuzzers/prog/prog.h"

namespace mcf::fuzz::testing {

// How row 0 of the driver table is written in text: its name, or "#0" when
// the table is empty (see encoding_text.h).
inline std::string driver0_text() {
  return driver_table().empty() ? std::string("#0") : std::string(driver_table()[0].name);
}

// Replaces every "$D" of `text` with driver0_text().
inline std::string with_driver(std::string text) {
  const std::string d = driver0_text();
  for (size_t at = text.find("$D"); at != std::string::npos; at = text.find("$D", at + d.size()))
    text.replace(at, 2, d);
  return text;
}

// A value for field `f` of a row; `variant` picks among several so the
// programs see names, unnamed values, flags combinations and every kind of
// user pointer.
inline uint64_t sample_field_value(const FieldDesc& f, unsigned variant) {
  switch (f.type) {
    case FieldType::kUserPtr: {
      const uint64_t ptrs[] = {0x100, kUserPtrRaw | 0x4, kUserPtrRaw, 0, 0x7fff0000,
                               kUserPtrRaw | 0xdead0000};
      return ptrs[variant % 6];
    }
    case FieldType::kEnum:
      if (variant % 5 == 4) return 0x7777;  // not one of the values
      return f.values.empty() ? variant : f.values[variant % f.values.size()];
    case FieldType::kFlags: {
      if (f.values.empty()) return variant;
      uint64_t v = f.values[variant % f.values.size()];
      if (variant % 3 == 1) v |= f.values[(variant + 1) % f.values.size()];
      if (variant % 3 == 2) v |= 0x100000;  // an unnamed bit as well
      return v;
    }
    case FieldType::kEntityId:
      return (variant % 2 ? 0x80000000u : 0) | (variant % 3 ? variant : 0);
    case FieldType::kInt:
      return variant % 4 == 3 ? 0xffffffffu : 640 + variant;
    case FieldType::kCount:
      return variant % 4;
    case FieldType::kPadIndex:
      return variant % 3;
    case FieldType::kBufIndex:
      return variant % 5;
  }
  return 0;
}

// Calls of the device-level kinds and the opens the ioctls use, around the
// ioctl calls of rows [first, last) of ioctl_table(). Canonical for any
// driver table (driver row 0 only).
inline Program covering_program(size_t first, size_t last, unsigned variant) {
  Program p;
  auto add = [&p](Call c) {
    p.calls.push_back(c);
    return static_cast<int16_t>(p.calls.size() - 1);
  };
  Call c;
  c.kind = CallKind::kRegisterDriver;
  add(c);
  c = {};
  c.kind = CallKind::kPlug;
  c.dev = {0, 1};
  add(c);
  c = {};
  c.kind = CallKind::kBind;
  c.thread = 1;
  c.dev = {0, 1};
  add(c);
  int16_t by_kind[3];
  for (int k = 0; k < 3; ++k) {
    c = {};
    c.kind = CallKind::kOpen;
    c.thread = static_cast<uint8_t>(k);
    c.node = {{0, 1}, static_cast<NodeKind>(k), static_cast<uint8_t>(k + variant)};
    c.flags = k == 0 ? O_RDWR_ : k == 1 ? (O_RDWR_ | O_NONBLOCK_) : O_RDONLY_;
    c.fail_nth = k == 1 ? 3 : 0;
    by_kind[k] = add(c);
  }
  c = {};
  c.kind = CallKind::kDup;
  c.thread = 1;
  c.fd = by_kind[0];
  int16_t dup = add(c);
  const auto& table = ioctl_table();
  for (size_t row = first; row < last && row < table.size(); ++row) {
    c = {};
    c.kind = CallKind::kIoctl;
    c.thread = static_cast<uint8_t>(row % kMaxThreads);
    c.fd = row % 7 == 6 ? dup : by_kind[static_cast<int>(table[row].node)];
    c.ioctl.desc = static_cast<uint16_t>(row);
    for (size_t i = 0; i < table[row].fields.size(); ++i)
      c.ioctl.fields.push_back(sample_field_value(table[row].fields[i],
                                                  static_cast<unsigned>(variant + row + i)));
    c.fail_nth = row % 5 == 0 ? static_cast<uint32_t>(row + 1) : 0;
    add(c);
  }
  c = {};
  c.kind = CallKind::kPoll;
  c.thread = 2;
  c.fd = by_kind[1];
  c.flags = EPOLLIN | EPOLLPRI;
  c.block = true;
  add(c);
  c = {};
  c.kind = CallKind::kPoll;
  c.thread = 3;
  c.fd = by_kind[2];
  add(c);
  c = {};
  c.kind = CallKind::kIrq;
  c.thread = 3;
  c.dev = {0, 1};
  c.irq_line = static_cast<uint8_t>(variant);
  add(c);
  c = {};
  c.kind = CallKind::kClose;
  add(c);  // fd -1
  c.fd = dup;
  add(c);
  c = {};
  c.kind = CallKind::kUnbind;
  c.thread = 1;
  c.dev = {0, 1};
  add(c);
  c.kind = CallKind::kUnplug;
  c.thread = 2;
  add(c);
  c = {};
  c.kind = CallKind::kUnregisterDriver;
  c.fail_nth = 1;
  add(c);
  return p;
}

// Programs that together hold every call kind and every ioctl row, several
// times with different values; each within kMaxCalls.
inline std::vector<Program> covering_programs() {
  constexpr size_t kRowsPerProgram = 32;
  std::vector<Program> out;
  const size_t rows = ioctl_table().size();
  for (unsigned variant = 0; variant < 6; ++variant)
    for (size_t first = 0; first < rows; first += kRowsPerProgram)
      out.push_back(covering_program(first, std::min(rows, first + kRowsPerProgram), variant));
  return out;
}

}  // namespace mcf::fuzz::testing
