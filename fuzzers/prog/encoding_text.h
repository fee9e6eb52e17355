// The text form of a program (syzkaller's prog/encoding.go): the format of
// the shipped corpus, of reproducers in crash reports and of hand-written
// regression cases. One call a line, with its thread:
//
//   # vimc: enable a link, then read the topology
//   t0 register_driver(vimc)
//   t0 plug(vimc.0)
//   t0 r0 = open(vimc.0:media[0], O_RDWR)
//   t0 ioctl(r0, MEDIA_IOC_SETUP_LINK, {source.entity=1, sink.entity=5, flags=MEDIA_LNK_FL_ENABLED})
//   t1 ioctl(r0, MEDIA_IOC_G_TOPOLOGY, {num_entities=16, ptr_entities=user(0x100), ptr_interfaces=NULL, ptr_pads=ptr(0x4), ptr_links=user(0x0)})
//   t1 unbind(vimc.0)
//   t0 r1 = open(vimc.0:video[2], O_RDWR|O_NONBLOCK) fail_nth=3
//   t2 poll(r1, POLLIN|POLLPRI, block)
//   t3 irq(vimc.0, 0)
//   t0 close(r0)
//
// Grammar (spaces and tabs may appear between any two tokens):
//
//   program   = { line "\n" }
//   line      = blank | comment | call-line | schedule-line
//   schedule-line = "schedule:" ( [ step { "," step } ] | pct )   (at most one, printed last)
//   pct       = "pct" thread ">" thread ">" thread ">" thread { "change@" uint }
//               (pct t2>t0>t1>t3 change@57: PCT priorities, highest first, each
//                thread once; at most 4 change points, each a scheduling point
//                number 0..65535 of the whole input; prog.h PctSchedule)
//   step      = thread "@" uint "." POINT_KIND "#" uint "->" thread
//               (t0@1.lock#2 -> t1: thread t0, its call 1 (counted among its own
//                calls), its lock point 2 (from 0) -> run t1; kinds: lock unlock
//                get put sleep wake enter exit irq publish unpublish; prog.h SchedStep)
//   comment   = "#" { any character }                   (whole line, after optional spaces)
//   call-line = thread [ res "=" ] call [ "fail_nth=" uint ] [ comment ]
//   thread    = "t" digit                                (t0 .. t3)
//   res       = "r" uint                                 (any name; a later "=" rebinds it)
//   call      = "open(" node "," open-flags ")"
//             | ("close" | "dup") "(" fd ")"
//             | "ioctl(" fd "," IOCTL_NAME [ "," "{" [ field { "," field } ] "}" ] ")"
//             | "poll(" fd "," poll-events [ "," "block" ] ")"
//             | ("bind" | "unbind" | "plug" | "unplug") "(" device ")"
//             | "irq(" device "," uint ")"
//             | ("register_driver" | "unregister_driver") "(" driver ")"
//   fd        = res | "-1"                               (-1: no fd, the call gets -EBADF)
//   driver    = DRIVER_NAME | "#" uint                   (a row of driver_table(), by name or index)
//   device    = driver "." uint                          ("vimc.0": driver row, platform id 0..255)
//   node      = device ":" ("media" | "video" | "v4l-subdev") "[" uint "]"
//   open-flags = term { "|" term }      term: O_RDONLY O_WRONLY O_RDWR O_NONBLOCK or a number
//   poll-events = term { "|" term }     term: POLLIN POLLPRI POLLOUT POLLERR POLLHUP
//                                              POLLRDNORM POLLWRNORM or a number
//   field     = FIELD_NAME "=" value                     (a field of the ioctl's row, each at most once)
//   value     = "user(" uint ")"  | "ptr(" uint ")" | "NULL"   (user pointer fields only)
//             | term { "|" term }   term: a UAPI name of one of the field's values
//                                         (MEDIA_ENT_ID_FLAG_NEXT for entity ids), a number,
//                                         "-" number (two's complement in the field's size),
//                                         or a fourcc 'RGB3'
//   uint      = decimal | "0x" hex
//
// Meaning: a resource rN names the fd of the open or dup call that bound it
// (Call::fd = that call's index); user(off) is an offset into the user
// arena's data region, ptr(addr) a raw address (NULL = ptr(0x0)); omitted
// fields are 0; "block" sets Call::block; fail_nth=N sets Call::fail_nth.
//
// The parser is strict: it returns a one-line error "line N: ..." for an
// unknown call, ioctl, field, driver or name, an undefined resource, a bad or
// out-of-range number, a thread above t3, more than kMaxCalls calls, or a
// missing token. Everything it accepts is a canonical program (prog.h).
//
// The printer writes the canonical text, so print(parse(t)) == t for
// canonical text t and parse(print(p)) == p for every canonical program p:
//   - one line per call, "\n" after each, no comments, single spaces as above;
//   - open and dup always bind a resource, named r0, r1, ... in call order;
//   - drivers by name; "#<row>" only when driver_table() has no such row,
//     i.e. when the table is empty (canonical programs then use row 0), so a
//     program stays printable and parseable with any table;
//   - ioctl fields in the row's order; fields equal to 0 are left out, except
//     user pointers (always shown: user(0x0) is not NULL); "{...}" is left out
//     when no field is shown;
//   - enum values by name when the row lists them with a name, else as a
//     number; flags as the named bits in the row's order, then the rest in hex;
//     entity ids as MEDIA_ENT_ID_FLAG_NEXT|<id> when the flag is set;
//   - field values in decimal up to 0xffff, in hex above (hex always for
//     user pointers and unnamed flag bits); ids, indexes, irq lines and
//     fail_nth in decimal;
//   - open flags as the access mode (O_RDONLY, O_WRONLY, O_RDWR, or 0x3),
//     then O_NONBLOCK, then the rest in hex; poll events by name in bit
//     order, then the rest in hex, "0" when none;
//   - "fail_nth=N" only when N is not 0.
// A non-canonical program is printed as canonicalize() would make it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fuzzers/prog/prog.h"

namespace mcf::fuzz {

// The canonical text of canonicalize(p): one line per call.
std::string program_to_text(const Program& p);

// One line of program_to_text(p) without its "\n": the call at `index` of a
// canonical program `p` (resources numbered as in the whole program).
std::string call_to_text(const Program& p, size_t index);

// Parses a text program; see the grammar above. The result is canonical.
absl::StatusOr<Program> program_from_text(std::string_view text);

// The schedule line, "schedule: t0@1.lock#2 -> t1, ..." (no line end).
std::string schedule_to_text(const std::vector<SchedStep>& schedule);
// The PCT schedule line, "schedule: pct t2>t0>t1>t3 change@57" (no line end).
std::string pct_to_text(const PctSchedule& pct);

}  // namespace mcf::fuzz
