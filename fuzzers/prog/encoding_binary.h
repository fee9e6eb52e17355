// The binary form of a program (syzkaller's prog/encodingexec.go, but also
// the libFuzzer input): compact, and with a total decoder.
//
// Layout (encode writes exactly this):
//
//   program = magic { call }                 magic = kBinaryMagic (0xAF)
//   call    = head [ varint fail_nth ] operands
//   head    = kind (bits 0-3) | thread << 4 (bits 4-5)
//           | (fail_nth != 0) << 6 | block << 7 (poll only)
//   operands by kind:
//     open                       driver:u8 id:u8 node_kind:u8 index:u8 varint flags
//     close, dup                 varint fd+1                   (0: no fd)
//     ioctl                      varint fd+1, varint desc, varint n, n x varint field
//     poll                       varint fd+1, varint events
//     bind unbind plug unplug    driver:u8 id:u8
//     irq                        driver:u8 id:u8 line:u8
//     register/unregister_driver driver:u8
//   schedule region, only when the program has a schedule (or the calls end
//   in the trailer bytes), read from the END of the input so that inserting
//   or mutating calls never shifts it; the strategy is in the count byte:
//     preempt: { thread:u8 call:u8 kind:u8 nth:u8 next:u8 } n:u8 kSchedTrailer2 kSchedTrailer
//              (n <= kMaxSchedSteps steps)
//     pct:     order:u8 { change:u16le } 0x80|n kSchedTrailer2 kSchedTrailer
//              (n <= kMaxPctChanges; order = the four threads, highest
//              priority first, two bits each from bit 0)
//   (any other count byte, or one the input is too short for: no schedule
//   region). A PCT schedule is always written, even without change points.
//   A truncated encoding may, rarely, end in bytes that read as an empty or
//   short schedule region.
//   varint  = LEB128, unsigned, at most 10 bytes (the low 64 bits are kept)
//   fields  = in the row's order, trailing zeros left out; a user pointer field
//             is stored rotated, (value << 1) | raw-bit, so NULL is one byte.
//
// The decoder is total: every byte string decodes to a valid program
// (is_valid()). The magic is skipped when present and not required. Out of
// range values are reduced (kind and node kind modulo their count, desc
// modulo the ioctl table, fd+1 beyond the int16 range means no fd, the rest
// as canonicalize() does); a call cut short by the end of the input is
// dropped, so a truncated encoding decodes to a prefix of its program;
// decoding stops after kMaxCalls calls and reads at most kMaxFields fields a
// call, so the work and memory are bounded whatever the input.
// decode(encode(p)) == p for every canonical p, and encode(decode(b)) is
// the canonical encoding of what b means.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzzers/prog/prog.h"

namespace mcf::fuzz {

constexpr uint8_t kBinaryMagic = 0xAF;  // version 1; low nibble is no call kind
constexpr uint8_t kSchedTrailer = 0xD5;   // last byte of an input with a schedule region
constexpr uint8_t kSchedTrailer2 = 0x5C;  // ... and the one before it
constexpr uint8_t kSchedPctBit = 0x80;    // in the count byte: a PCT schedule

// The canonical encoding of canonicalize(p).
std::vector<uint8_t> program_to_binary(const Program& p);

// Decodes any bytes into a valid program (see above). Never fails.
Program program_from_binary(const uint8_t* data, size_t size);
inline Program program_from_binary(const std::vector<uint8_t>& bytes) {
  return program_from_binary(bytes.data(), bytes.size());
}

// True when `data` should be read as a text program (encoding_text.h): after
// optional spaces, tabs and line ends it starts with 't' and a digit, or
// with '#'. An encoding from program_to_binary() never looks like text.
bool looks_like_text(const uint8_t* data, size_t size);

// What a fuzz target does with its input: the text program when the input
// looks like text and parses, otherwise the binary decoding. Total.
Program program_from_input(const uint8_t* data, size_t size);

}  // namespace mcf::fuzz
