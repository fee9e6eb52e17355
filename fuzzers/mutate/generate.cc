// Fresh calls and argument values: see generate.h.
#include "fuzzers/mutate/generate.h"

#include <fcntl.h>
#include <linux/media.h>
#include <poll.h>

#include <cstring>
#include <vector>

#include "drivers/driver_table.h"
#include "fuzzers/mutate/resources.h"

namespace mcf::fuzz {
namespace {

// Values that make size checks, overflow checks and signedness go wrong.
const std::vector<uint64_t> kIntBoundaries = {
    0,      1,      2,      3,          4,          7,          8,          15,
    16,     31,     32,     63,         64,         0x7f,       0x80,       0xff,
    0x100,  0x7fff, 0x8000, 0xffff,     0x10000,    0x7fffffff, 0x80000000, 0xfffffffe,
    0xffffffff, 640, 480,  1920,       1080,       4096};
const std::vector<uint64_t> kInt64Boundaries = {0x100000000ull, 0x7fffffffffffffffull,
                                                0x8000000000000000ull, 0xffffffffffffffffull};
// Raw user addresses (with kUserPtrRaw): NULL, a low page, the last page below
// the canonical hole, a kernel address, the largest value the tag leaves.
const std::vector<uint64_t> kRawPtrs = {0, 4, 0x1000, 0x00007ffffffff000ull,
                                        0x7fff800000000000ull, 0x7fffffffffffffffull};

uint64_t field_mask(const FieldDesc& f) {
  return f.size >= 8 ? ~0ull : (1ull << (8 * f.size)) - 1;
}

// Hands the field's bytes to opts.raw_mutate (LLVMFuzzerMutate in a target),
// or flips one bit when there is none.
uint64_t raw_bytes(const FieldDesc& f, uint64_t v, Rng& rng, const MutateOptions& opts) {
  size_t n = f.size > 8 ? 8 : f.size;
  if (!opts.raw_mutate) return v ^ (1ull << rng.below(8 * n));
  uint8_t buf[8] = {};
  for (size_t i = 0; i < n; ++i) buf[i] = static_cast<uint8_t>(v >> (8 * i));
  opts.raw_mutate(buf, n, n);
  uint64_t out = 0;
  for (size_t i = 0; i < n; ++i) out |= static_cast<uint64_t>(buf[i]) << (8 * i);
  return out;
}

// Values of fields of type `t` elsewhere in the program ("ids seen").
std::vector<uint64_t> seen_values(const Program& p, FieldType t) {
  std::vector<uint64_t> out;
  const auto& table = ioctl_table();
  for (const Call& c : p.calls) {
    if (c.kind != CallKind::kIoctl || c.ioctl.desc >= table.size()) continue;
    const IoctlDesc& d = table[c.ioctl.desc];
    for (size_t i = 0; i < d.fields.size() && i < c.ioctl.fields.size(); ++i)
      if (d.fields[i].type == t) out.push_back(c.ioctl.fields[i]);
  }
  return out;
}

uint64_t nudge(uint64_t v, Rng& rng) {
  uint64_t d = 1 + rng.below(4);
  return rng.one_of(2) ? v + d : v - d;
}

uint64_t int_value(const FieldDesc& f, uint64_t v, Rng& rng, const MutateOptions& opts) {
  const unsigned w[] = {35, 25, 15, 15, opts.raw_bytes_pct};
  switch (pick_weighted(rng, w, 5)) {
    case 0:
      if (f.size == 8 && rng.one_of(4)) return rng.pick(kInt64Boundaries);
      return rng.pick(kIntBoundaries);
    case 1: return nudge(v, rng);
    case 2: return v ^ (1ull << rng.below(8 * f.size));
    case 3: return rng.small(17);
    default: return raw_bytes(f, v, rng, opts);
  }
}

uint64_t count_value(const FieldDesc& f, uint64_t v, Rng& rng, const MutateOptions& opts) {
  const unsigned w[] = {50, 20, 20, opts.raw_bytes_pct};
  switch (pick_weighted(rng, w, 4)) {
    case 0: return rng.small(9);  // 0, 1, 2 ... mostly
    case 1: return nudge(v, rng);
    case 2: return rng.pick(kIntBoundaries);
    default: return raw_bytes(f, v, rng, opts);
  }
}

uint64_t enum_value(const FieldDesc& f, uint64_t v, Rng& rng, const MutateOptions& opts) {
  if (!f.values.empty() && rng.percent(opts.valid_enum_pct)) {
    uint64_t out = rng.pick(f.values);
    if (out == v && f.values.size() > 1) out = rng.pick(f.values);
    return out;
  }
  const unsigned w[] = {30, 30, 20, opts.raw_bytes_pct};
  switch (pick_weighted(rng, w, 4)) {
    case 0: return nudge(v, rng);
    case 1: return rng.pick(kIntBoundaries);
    case 2: return rng.next();
    default: return raw_bytes(f, v, rng, opts);
  }
}

uint64_t flags_value(const FieldDesc& f, uint64_t v, Rng& rng, const MutateOptions& opts) {
  if (!f.values.empty() && rng.percent(opts.valid_enum_pct)) {
    const unsigned w[] = {50, 30, 20};
    switch (pick_weighted(rng, w, 3)) {
      case 0: return v ^ rng.pick(f.values);  // toggle one flag
      case 1: {                                 // a fresh OR of listed flags
        uint64_t out = 0;
        for (uint64_t bit : f.values)
          if (rng.one_of(2)) out |= bit;
        return out;
      }
      default: return rng.one_of(4) ? 0 : rng.pick(f.values);
    }
  }
  const unsigned w[] = {40, 20, opts.raw_bytes_pct};
  switch (pick_weighted(rng, w, 3)) {
    case 0: return v ^ (1ull << rng.below(8 * f.size));
    case 1: return rng.one_of(2) ? ~0ull : rng.next();
    default: return raw_bytes(f, v, rng, opts);
  }
}

uint64_t entity_id_value(const FieldDesc& f, uint64_t v, const Program& p, Rng& rng) {
  std::vector<uint64_t> seen = seen_values(p, FieldType::kEntityId);
  const unsigned w[] = {40, seen.empty() ? 0u : 25u, 20, 10, 5};
  switch (pick_weighted(rng, w, 5)) {
    case 0: return rng.small(16);  // ids are small and dense in the model
    case 1: return rng.pick(seen);
    case 2: return MEDIA_ENT_ID_FLAG_NEXT | rng.small(16);  // "the entity after id"
    case 3: return nudge(v, rng);
    default: return rng.pick(kIntBoundaries);
  }
}

uint64_t index_value(const FieldDesc& f, uint64_t v, const Program& p, Rng& rng) {
  std::vector<uint64_t> seen = seen_values(p, f.type);
  const unsigned w[] = {60, seen.empty() ? 0u : 15u, 15, 10};
  switch (pick_weighted(rng, w, 4)) {
    case 0: return rng.small(8);
    case 1: return rng.pick(seen);
    case 2: return nudge(v, rng);
    default: return rng.pick(kIntBoundaries);  // VIDEO_MAX_FRAME is 64, pads are u16
  }
}

uint64_t user_ptr_value(const FieldDesc& f, uint64_t v, Rng& rng, const MutateOptions& opts) {
  uint64_t size = opts.user_data_size == 0 ? 1 : opts.user_data_size;
  const unsigned w[] = {50, 15, 10, 15, 5};
  switch (pick_weighted(rng, w, 5)) {
    case 0: return rng.below(size) & ~7ull;                    // aligned, in the region
    case 1: return 0;                                           // its start
    case 2: return size - 1 - rng.small(16);                    // at its very end
    case 3: return kUserPtrRaw | rng.pick(kRawPtrs);            // NULL, 4, huge ...
    default: return size + rng.small(16) * 8;                   // just past it
  }
}

uint64_t field_value(const FieldDesc& f, uint64_t v, const Program& p, Rng& rng,
                     const MutateOptions& opts) {
  uint64_t out = 0;
  switch (f.type) {
    case FieldType::kInt: out = int_value(f, v, rng, opts); break;
    case FieldType::kEnum: out = enum_value(f, v, rng, opts); break;
    case FieldType::kFlags: out = flags_value(f, v, rng, opts); break;
    case FieldType::kEntityId: out = entity_id_value(f, v, p, rng); break;
    case FieldType::kPadIndex:
    case FieldType::kBufIndex: out = index_value(f, v, p, rng); break;
    case FieldType::kCount: out = count_value(f, v, rng, opts); break;
    case FieldType::kUserPtr: return user_ptr_value(f, v, rng, opts);  // keeps its tag bit
  }
  return out & field_mask(f);
}

}  // namespace

int pick_weighted(Rng& rng, const unsigned* weights, size_t n) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) total += weights[i];
  if (total == 0) return -1;
  uint64_t x = rng.below(total);
  for (size_t i = 0; i < n; ++i) {
    if (x < weights[i]) return static_cast<int>(i);
    x -= weights[i];
  }
  return static_cast<int>(n - 1);
}

uint64_t gen_field(const FieldDesc& f, const Program& p, Rng& rng, const MutateOptions& opts) {
  // Enums and flags start valid; the rest from their "interesting" values.
  if ((f.type == FieldType::kEnum || f.type == FieldType::kFlags) && !f.values.empty() &&
      rng.percent(opts.valid_enum_pct))
    return rng.pick(f.values);
  return field_value(f, 0, p, rng, opts);
}

uint64_t mutate_field(const FieldDesc& f, uint64_t v, const Program& p, Rng& rng,
                      const MutateOptions& opts) {
  return field_value(f, v, p, rng, opts);
}

uint16_t pick_ioctl(std::optional<NodeKind> node, Rng& rng, const MutateOptions& opts) {
  const auto& table = ioctl_table();
  std::vector<uint16_t> matching, allowed;
  for (size_t i = 0; i < table.size(); ++i) {
    if (!(opts.node_kinds & (1u << static_cast<int>(table[i].node)))) continue;
    allowed.push_back(static_cast<uint16_t>(i));
    if (node && table[i].node == *node) matching.push_back(static_cast<uint16_t>(i));
  }
  if (!matching.empty() && rng.percent(opts.ioctl_matches_node_pct)) return rng.pick(matching);
  if (!allowed.empty()) return rng.pick(allowed);
  return static_cast<uint16_t>(rng.below(table.size()));
}

IoctlArg gen_ioctl_arg(uint16_t desc, const Program& p, Rng& rng, const MutateOptions& opts) {
  IoctlArg a;
  a.desc = desc;
  for (const FieldDesc& f : ioctl_table()[desc].fields) a.fields.push_back(gen_field(f, p, rng, opts));
  return a;
}

DeviceRef gen_device(Rng& rng) {
  size_t drivers = driver_table().size();
  DeviceRef d;
  d.driver = static_cast<uint8_t>(rng.below(drivers == 0 ? 1 : drivers));
  d.id = static_cast<uint8_t>(rng.small(3));
  return d;
}

NodeRef gen_node(Rng& rng, const MutateOptions& opts) {
  NodeRef n;
  n.dev = gen_device(rng);
  std::vector<NodeKind> kinds;
  for (int k = 0; k < static_cast<int>(NodeKind::kCount); ++k)
    if (opts.node_kinds & (1u << k)) kinds.push_back(static_cast<NodeKind>(k));
  n.kind = kinds.empty() ? NodeKind::kMedia : rng.pick(kinds);
  n.index = static_cast<uint8_t>(rng.small(4));
  return n;
}

uint32_t gen_open_flags(Rng& rng) {
  uint32_t flags = rng.one_of(8) ? (rng.one_of(2) ? O_RDONLY : O_WRONLY) : O_RDWR;
  if (rng.one_of(3)) flags |= O_NONBLOCK;
  return flags;
}

uint32_t gen_poll_events(Rng& rng) {
  static const std::vector<uint32_t> kEvents = {
      POLLIN, POLLOUT, POLLPRI, POLLIN | POLLPRI, POLLIN | POLLOUT | POLLPRI, POLLIN | POLLRDNORM, 0};
  return rng.pick(kEvents);
}

uint8_t gen_thread(Rng& rng, const MutateOptions& opts) {
  unsigned threads = opts.threads == 0 ? 1 : (opts.threads > kMaxThreads ? kMaxThreads : opts.threads);
  return static_cast<uint8_t>(rng.below(threads));
}

namespace {

bool allowed(const MutateOptions& opts, CallKind k) {
  return opts.call_kinds & (1u << static_cast<int>(k));
}

// A call on the fd made by call `fd` of `p`.
std::optional<Call> gen_fd_call(const Program& p, int fd, Rng& rng, const MutateOptions& opts) {
  const CallKind kinds[] = {CallKind::kIoctl, CallKind::kPoll, CallKind::kDup, CallKind::kClose};
  unsigned w[] = {70, 10, 8, 12};
  for (int i = 0; i < 4; ++i)
    if (!allowed(opts, kinds[i])) w[i] = 0;
  int k = pick_weighted(rng, w, 4);
  if (k < 0) return std::nullopt;
  Call c;
  c.kind = kinds[k];
  c.fd = static_cast<int16_t>(fd);
  // Mostly on the thread that made the fd: a race needs a second thread,
  // but most sequences that reach deep state run on one.
  c.thread = fd >= 0 && rng.percent(60) ? p.calls[fd].thread : gen_thread(rng, opts);
  if (c.kind == CallKind::kIoctl) {
    std::optional<NodeRef> node = fd_node(p, fd);
    c.ioctl = gen_ioctl_arg(pick_ioctl(node ? std::optional(node->kind) : std::nullopt, rng, opts),
                            p, rng, opts);
  } else if (c.kind == CallKind::kPoll) {
    c.flags = gen_poll_events(rng);
    c.block = rng.one_of(5);
  }
  return c;
}

// A call that makes or needs no fd.
std::optional<Call> gen_fresh_call(const Program& p, size_t pos, Rng& rng, const MutateOptions& opts) {
  const CallKind kinds[] = {CallKind::kOpen,  CallKind::kBind,           CallKind::kUnbind,
                            CallKind::kPlug,  CallKind::kUnplug,         CallKind::kIrq,
                            CallKind::kRegisterDriver, CallKind::kUnregisterDriver};
  unsigned w[] = {60, 6, 6, 6, 6, 8, 4, 4};
  for (int i = 0; i < 8; ++i)
    if (!allowed(opts, kinds[i])) w[i] = 0;
  int k = pick_weighted(rng, w, 8);
  if (k < 0) return std::nullopt;
  Call c;
  c.kind = kinds[k];
  c.thread = pos > 0 && rng.percent(60) ? p.calls[pos - 1].thread : gen_thread(rng, opts);
  switch (c.kind) {
    case CallKind::kOpen:
      c.node = gen_node(rng, opts);
      c.flags = gen_open_flags(rng);
      break;
    case CallKind::kIrq:
      c.irq_line = static_cast<uint8_t>(rng.small(4));
      c.dev = gen_device(rng);
      break;
    case CallKind::kRegisterDriver:
    case CallKind::kUnregisterDriver:
      c.driver = gen_device(rng).driver;
      break;
    default:
      c.dev = gen_device(rng);
      break;
  }
  return c;
}

}  // namespace

std::optional<Call> gen_call(const Program& p, size_t pos, Rng& rng, const MutateOptions& opts) {
  std::vector<int> fds = fd_makers_before(p, pos);
  if (!fds.empty() && rng.percent(opts.insert_uses_fd_pct)) {
    // Recent fds first: they are the ones still open.
    if (std::optional<Call> c = gen_fd_call(p, fds[rng.biased_end(fds.size())], rng, opts)) return c;
  }
  if (std::optional<Call> c = gen_fresh_call(p, pos, rng, opts)) return c;
  // Only fd users are allowed: on an fd when there is one, else on none (-EBADF).
  return gen_fd_call(p, fds.empty() ? -1 : fds[rng.biased_end(fds.size())], rng, opts);
}

}  // namespace mcf::fuzz
