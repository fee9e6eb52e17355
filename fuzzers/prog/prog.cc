// The program model: names and canonical form. See prog.h.
#include "fuzzers/prog/prog.h"

#include "drivers/driver_table.h"
#include "fuzzers/prog/ioctl_desc.h"

namespace mcf::fuzz {

const char* call_kind_name(CallKind kind) {
  switch (kind) {
    case CallKind::kOpen: return "open";
    case CallKind::kClose: return "close";
    case CallKind::kDup: return "dup";
    case CallKind::kIoctl: return "ioctl";
    case CallKind::kPoll: return "poll";
    case CallKind::kBind: return "bind";
    case CallKind::kUnbind: return "unbind";
    case CallKind::kPlug: return "plug";
    case CallKind::kUnplug: return "unplug";
    case CallKind::kIrq: return "irq";
    case CallKind::kRegisterDriver: return "register_driver";
    case CallKind::kUnregisterDriver: return "unregister_driver";
    case CallKind::kCount: break;
  }
  return "?";
}

const char* node_kind_prefix(NodeKind kind) {
  switch (kind) {
    case NodeKind::kMedia: return "media";
    case NodeKind::kVideo: return "video";
    case NodeKind::kSubdev: return "v4l-subdev";
    case NodeKind::kCount: break;
  }
  return "?";
}

namespace {

uint8_t driver_mod(uint8_t driver) {
  size_t n = driver_table().size();
  return n == 0 ? 0 : static_cast<uint8_t>(driver % n);
}

// The canonical form of one call at position `index` of `p`: operands the
// kind does not use are zero, the used ones in range.
Call canonical_call(const Program& p, size_t index) {
  const Call& in = p.calls[index];
  Call c;
  c.kind = static_cast<uint8_t>(in.kind) < static_cast<uint8_t>(CallKind::kCount) ? in.kind
                                                                                 : CallKind::kOpen;
  c.thread = in.thread % kMaxThreads;
  c.fail_nth = in.fail_nth;
  if (c.kind == CallKind::kOpen) {
    c.node = in.node;
    c.node.dev.driver = driver_mod(in.node.dev.driver);
    if (static_cast<uint8_t>(c.node.kind) >= static_cast<uint8_t>(NodeKind::kCount))
      c.node.kind = NodeKind::kMedia;
    c.flags = in.flags;
  } else if (call_uses_device(c.kind)) {
    c.dev = in.dev;
    c.dev.driver = driver_mod(in.dev.driver);
    if (c.kind == CallKind::kIrq) c.irq_line = in.irq_line;
  } else if (c.kind == CallKind::kRegisterDriver || c.kind == CallKind::kUnregisterDriver) {
    c.driver = driver_mod(in.driver);
  }
  if (call_uses_fd(c.kind)) {
    int fd = in.fd;
    bool ok = fd >= 0 && static_cast<size_t>(fd) < index && call_makes_fd(p.calls[fd].kind);
    c.fd = ok ? in.fd : -1;
  }
  if (c.kind == CallKind::kPoll) {
    c.flags = in.flags;
    c.block = in.block;
  }
  if (c.kind == CallKind::kIoctl) {
    const auto& table = ioctl_table();
    c.ioctl.desc = static_cast<uint16_t>(in.ioctl.desc % table.size());
    const IoctlDesc& d = table[c.ioctl.desc];
    c.ioctl.fields.assign(d.fields.size(), 0);
    for (size_t i = 0; i < d.fields.size() && i < in.ioctl.fields.size(); ++i) {
      uint64_t v = in.ioctl.fields[i];
      // A field holds what its C type can hold (user pointers keep their tag).
      if (d.fields[i].type != FieldType::kUserPtr && d.fields[i].size < 8)
        v &= (uint64_t{1} << (8 * d.fields[i].size)) - 1;
      c.ioctl.fields[i] = v;
    }
  }
  return c;
}

// A permutation of the threads: the first occurrence of each thread (modulo
// kMaxThreads) in order, then the threads not named, in ascending order.
void canonicalize_pct_order(std::array<uint8_t, kMaxThreads>* order) {
  std::array<uint8_t, kMaxThreads> out{};
  unsigned seen = 0;
  int n = 0;
  for (uint8_t t : *order) {
    t %= kMaxThreads;
    if ((seen >> t) & 1) continue;
    seen |= 1u << t;
    out[n++] = t;
  }
  for (uint8_t t = 0; t < kMaxThreads; ++t)
    if (!((seen >> t) & 1)) out[n++] = t;
  *order = out;
}

}  // namespace

void canonicalize(Program* p) {
  if (p->calls.size() > static_cast<size_t>(kMaxCalls)) p->calls.resize(kMaxCalls);
  // In order: a call's resource check reads the kinds of earlier calls,
  // which are already canonical.
  for (size_t i = 0; i < p->calls.size(); ++i) p->calls[i] = canonical_call(*p, i);
  // The schedule: only the chosen strategy's data, bounded, every field in
  // range (modulo, as the calls).
  p->strategy = static_cast<SchedStrategy>(static_cast<uint8_t>(p->strategy) %
                                           static_cast<uint8_t>(SchedStrategy::kCount));
  if (p->strategy != SchedStrategy::kPreempt) p->schedule.clear();
  if (p->strategy != SchedStrategy::kPct) p->pct = PctSchedule();
  if (p->schedule.size() > static_cast<size_t>(kMaxSchedSteps)) p->schedule.resize(kMaxSchedSteps);
  for (SchedStep& s : p->schedule) {
    s.thread %= kMaxThreads;
    s.next %= kMaxThreads;
    s.call %= kMaxCalls;
    s.kind = static_cast<HookKind>(static_cast<uint8_t>(s.kind) % kHookKindCount);
  }
  canonicalize_pct_order(&p->pct.order);
  if (p->pct.changes.size() > static_cast<size_t>(kMaxPctChanges))
    p->pct.changes.resize(kMaxPctChanges);
}

bool is_valid(const Program& p, std::string* why) {
  Program copy = p;
  canonicalize(&copy);
  if (copy == p) return true;
  if (why != nullptr) {
    if (copy.calls.size() != p.calls.size()) {
      *why = "more than kMaxCalls calls";
    } else if (!(copy.schedule == p.schedule) || copy.strategy != p.strategy ||
               !(copy.pct == p.pct)) {
      *why = "the schedule is not canonical";
    } else {
      for (size_t i = 0; i < p.calls.size(); ++i) {
        if (!(copy.calls[i] == p.calls[i])) {
          *why = "call " + std::to_string(i) + " (" + call_kind_name(p.calls[i].kind) +
                 ") is not canonical";
          break;
        }
      }
    }
  }
  return false;
}

}  // namespace mcf::fuzz
