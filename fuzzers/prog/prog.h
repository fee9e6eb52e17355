// The program model of the fuzzers, after syzkaller's prog/prog.go.
//
// A program is a list of calls. Each call runs on one of up to kMaxThreads
// threads and is one system call or one device event:
//
//   open(node, flags)          node = (device, kind, index), resolved when the
//                              call runs to "/dev/<kind>N" of that device
//   close(r) dup(r)            r = the fd made by an earlier call (resource)
//   ioctl(r, CMD, {fields})    typed argument per command (ioctl_desc.h)
//   poll(r, events, block)
//   bind(dev) unbind(dev)      sysfs bind/unbind of a platform device
//   plug(dev) unplug(dev)      add / remove the platform device itself
//   irq(dev, line)             fire a simulated interrupt of the device
//   register_driver(drv) unregister_driver(drv)
//
// Devices are (driver row of drivers/driver_table.h, id): "vimc.0". Every
// field is a small integer, so any value is meaningful: out-of-range values
// are resolved modulo the valid range when the call runs (a driver index
// modulo the table, a node index modulo the nodes that exist), and a
// resource that names no earlier fd-producing call is fd -1 (-EBADF).
// This is what makes the binary decoder total.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/kernel/hooks.h"

namespace mcf::fuzz {

constexpr int kMaxThreads = 4;
constexpr int kMaxCalls = 64;
constexpr int kMaxFields = 16;
constexpr int kMaxSchedSteps = 16;
constexpr int kMaxPctChanges = 4;  // PCT depth d = changes + 1 <= 5
constexpr int kHookKindCount = static_cast<int>(HookKind::kUnpublish) + 1;

enum class CallKind : uint8_t {
  kOpen,
  kClose,
  kDup,
  kIoctl,
  kPoll,
  kBind,
  kUnbind,
  kPlug,
  kUnplug,
  kIrq,
  kRegisterDriver,
  kUnregisterDriver,
  kCount,
};
const char* call_kind_name(CallKind kind);  // "open", "register_driver", ...
// True for the calls whose result is an fd later calls may use.
inline bool call_makes_fd(CallKind kind) { return kind == CallKind::kOpen || kind == CallKind::kDup; }
// True for the calls that take an fd.
inline bool call_uses_fd(CallKind kind) {
  return kind == CallKind::kClose || kind == CallKind::kDup || kind == CallKind::kIoctl ||
         kind == CallKind::kPoll;
}
// True for the calls that name a device.
inline bool call_uses_device(CallKind kind) {
  return kind == CallKind::kOpen || kind == CallKind::kBind || kind == CallKind::kUnbind ||
         kind == CallKind::kPlug || kind == CallKind::kUnplug || kind == CallKind::kIrq;
}

enum class NodeKind : uint8_t { kMedia, kVideo, kSubdev, kCount };
const char* node_kind_prefix(NodeKind kind);  // "media", "video", "v4l-subdev"

struct DeviceRef {
  uint8_t driver = 0;  // row of driver_table(), modulo its size
  uint8_t id = 0;      // platform device id
  bool operator==(const DeviceRef&) const = default;
};

struct NodeRef {
  DeviceRef dev;
  NodeKind kind = NodeKind::kMedia;
  uint8_t index = 0;  // among the device's nodes of that kind, modulo their number
  bool operator==(const NodeRef&) const = default;
};

// An ioctl's argument: which command (row of ioctl_table()) and the value of
// each of its fields, in the row's field order (missing fields are 0).
struct IoctlArg {
  uint16_t desc = 0;
  std::vector<uint64_t> fields;
  bool operator==(const IoctlArg&) const = default;
};

struct Call {
  CallKind kind = CallKind::kOpen;
  uint8_t thread = 0;       // 0 .. kMaxThreads-1
  NodeRef node;             // open
  DeviceRef dev;            // bind, unbind, plug, unplug, irq
  uint8_t driver = 0;       // register_driver, unregister_driver
  int16_t fd = -1;          // close, dup, ioctl, poll: index of the call that made the fd
  uint32_t flags = 0;       // open: O_* flags; poll: events
  bool block = false;       // poll: sleep until ready
  uint8_t irq_line = 0;     // irq
  IoctlArg ioctl;           // ioctl
  uint32_t fail_nth = 0;    // fault injection (0: none); see issue 11
  bool operator==(const Call&) const = default;
};

// One preemption of the deterministic scheduler (fuzzers/sched): when thread
// `thread`, in its `call`-th call (counted among that thread's own calls, from
// 0, so calls inserted on other threads do not move it), reaches the `nth`
// (from 0) scheduling point of kind `kind` in that call, thread `next` runs
// instead (or the next runnable one after it). Text: "t0@1.lock#2 -> t1".
// Between preemptions a thread runs until it blocks or finishes.
struct SchedStep {
  uint8_t thread = 0;
  uint8_t call = 0;
  HookKind kind = HookKind::kLockAcquire;
  uint8_t nth = 0;
  uint8_t next = 0;
  bool operator==(const SchedStep&) const = default;
};

// Which strategy of fuzzers/sched/strategy.h picks the interleaving.
enum class SchedStrategy : uint8_t {
  kPreempt,  // Program::schedule: preemptions at named points (CHESS-style bounding)
  kPct,      // Program::pct: priorities and priority change points
  kCount,
};

// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS'10) with its
// random choices read from the input rather than drawn, so a run replays:
// the threads start with the priorities of `order` (highest first); at every
// scheduling point the runnable thread with the highest priority runs; at
// the changes[i]-th scheduling point of the input (counted over every
// program thread, from 0) the running thread's priority drops to i, below
// every starting priority. d-1 change points find every bug of depth d
// with probability >= 1/(n k^(d-1)) over random inputs (n threads, k points).
// Text: "schedule: pct t2>t0>t1>t3 change@57 change@130".
struct PctSchedule {
  std::array<uint8_t, kMaxThreads> order = {0, 1, 2, 3};  // a permutation of the threads
  std::vector<uint16_t> changes;                          // at most kMaxPctChanges
  bool operator==(const PctSchedule&) const = default;
};
static_assert(kMaxThreads == 4, "PctSchedule::order's default lists every thread");

struct Program {
  std::vector<Call> calls;
  // The input's interleaving, read only in deterministic mode: the strategy
  // and its data. A canonical program keeps only the chosen strategy's data
  // (the other is empty / default).
  SchedStrategy strategy = SchedStrategy::kPreempt;
  // kPreempt: at most kMaxSchedSteps steps, each thread and next < kMaxThreads.
  std::vector<SchedStep> schedule;
  PctSchedule pct;  // kPct
  bool operator==(const Program&) const = default;
};

// Makes `p` valid in place: threads and field counts in range, resources
// pointing at earlier fd-producing calls or -1, at most kMaxCalls calls.
// Every decoder and mutator ends with it; a valid program is unchanged.
void canonicalize(Program* p);
// True when canonicalize() would change nothing.
bool is_valid(const Program& p, std::string* why = nullptr);

}  // namespace mcf::fuzz
