// The binary form of a program: see encoding_binary.h for the layout.
#include "fuzzers/prog/encoding_binary.h"

#include <algorithm>
#include <string_view>

#include "fuzzers/prog/encoding_text.h"
#include "fuzzers/prog/ioctl_desc.h"

namespace mcf::fuzz {
namespace {

static_assert(kMaxThreads <= 4, "the head byte has two bits for the thread");
static_assert(static_cast<int>(CallKind::kCount) <= 16, "the head byte has four bits for the kind");
static_assert((kBinaryMagic & 0x0f) >= static_cast<int>(CallKind::kCount),
              "the magic must not read as a call head");

constexpr uint8_t kHeadFailNth = 1 << 6;
constexpr uint8_t kHeadBlock = 1 << 7;

// ---------------------------------------------------------------- encoder

void put_varint(std::vector<uint8_t>* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<uint8_t>(v) | 0x80);
    v >>= 7;
  }
  out->push_back(static_cast<uint8_t>(v));
}

uint64_t rotate_user_ptr(uint64_t v) { return (user_ptr_value(v) << 1) | (user_ptr_is_raw(v) ? 1 : 0); }
uint64_t unrotate_user_ptr(uint64_t v) { return (v >> 1) | ((v & 1) ? kUserPtrRaw : 0); }

void put_device(std::vector<uint8_t>* out, const DeviceRef& dev) {
  out->push_back(dev.driver);
  out->push_back(dev.id);
}

void put_call(std::vector<uint8_t>* out, const Call& c) {
  uint8_t head = static_cast<uint8_t>(c.kind) | static_cast<uint8_t>(c.thread << 4);
  if (c.fail_nth != 0) head |= kHeadFailNth;
  if (c.kind == CallKind::kPoll && c.block) head |= kHeadBlock;
  out->push_back(head);
  if (c.fail_nth != 0) put_varint(out, c.fail_nth);
  switch (c.kind) {
    case CallKind::kOpen:
      put_device(out, c.node.dev);
      out->push_back(static_cast<uint8_t>(c.node.kind));
      out->push_back(c.node.index);
      put_varint(out, c.flags);
      break;
    case CallKind::kClose:
    case CallKind::kDup:
      put_varint(out, static_cast<uint64_t>(c.fd + 1));
      break;
    case CallKind::kIoctl: {
      put_varint(out, static_cast<uint64_t>(c.fd + 1));
      put_varint(out, c.ioctl.desc);
      const IoctlDesc& d = ioctl_table()[c.ioctl.desc];
      size_t n = c.ioctl.fields.size();
      while (n > 0 && c.ioctl.fields[n - 1] == 0) --n;
      put_varint(out, n);
      for (size_t i = 0; i < n; ++i) {
        uint64_t v = c.ioctl.fields[i];
        put_varint(out, d.fields[i].type == FieldType::kUserPtr ? rotate_user_ptr(v) : v);
      }
      break;
    }
    case CallKind::kPoll:
      put_varint(out, static_cast<uint64_t>(c.fd + 1));
      put_varint(out, c.flags);
      break;
    case CallKind::kIrq:
      put_device(out, c.dev);
      out->push_back(c.irq_line);
      break;
    case CallKind::kRegisterDriver:
    case CallKind::kUnregisterDriver:
      out->push_back(c.driver);
      break;
    default:  // bind, unbind, plug, unplug
      put_device(out, c.dev);
      break;
  }
}

// ---------------------------------------------------------------- decoder

// Reads from [pos, end); every read fails at the end of the input.
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool empty() const { return p_ >= end_; }
  uint8_t peek() const { return *p_; }
  bool u8(uint8_t* v) {
    if (empty()) return false;
    *v = *p_++;
    return true;
  }
  bool varint(uint64_t* v) {
    uint64_t out = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      uint8_t b;
      if (!u8(&b)) return false;
      if (shift < 64) out |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        *v = out;
        return true;
      }
    }
    *v = out;  // ten bytes read: the value ends here whatever the last byte says
    return true;
  }
  bool fd(int16_t* fd) {
    uint64_t v;
    if (!varint(&v)) return false;
    *fd = (v == 0 || v > 0x8000) ? -1 : static_cast<int16_t>(v - 1);
    return true;
  }
  bool device(DeviceRef* dev) { return u8(&dev->driver) && u8(&dev->id); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// One call, or false when the input ends inside it.
bool get_call(Reader& r, Call* c) {
  uint8_t head;
  if (!r.u8(&head)) return false;
  c->kind = static_cast<CallKind>((head & 0x0f) % static_cast<uint8_t>(CallKind::kCount));
  c->thread = static_cast<uint8_t>(((head >> 4) & 3) % kMaxThreads);
  if (head & kHeadFailNth) {
    uint64_t n;
    if (!r.varint(&n)) return false;
    c->fail_nth = static_cast<uint32_t>(n);
  }
  switch (c->kind) {
    case CallKind::kOpen: {
      uint8_t kind;
      uint64_t flags;
      if (!r.device(&c->node.dev) || !r.u8(&kind) || !r.u8(&c->node.index) || !r.varint(&flags))
        return false;
      c->node.kind = static_cast<NodeKind>(kind % static_cast<uint8_t>(NodeKind::kCount));
      c->flags = static_cast<uint32_t>(flags);
      return true;
    }
    case CallKind::kClose:
    case CallKind::kDup:
      return r.fd(&c->fd);
    case CallKind::kIoctl: {
      const auto& table = ioctl_table();
      uint64_t desc, n;
      if (!r.fd(&c->fd) || !r.varint(&desc) || !r.varint(&n)) return false;
      c->ioctl.desc = static_cast<uint16_t>(desc % table.size());
      const IoctlDesc& d = table[c->ioctl.desc];
      n = std::min<uint64_t>(n, kMaxFields);
      c->ioctl.fields.assign(d.fields.size(), 0);
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t v;
        if (!r.varint(&v)) return false;
        if (i >= d.fields.size()) continue;  // beyond the row: read and dropped
        c->ioctl.fields[i] = d.fields[i].type == FieldType::kUserPtr ? unrotate_user_ptr(v) : v;
      }
      return true;
    }
    case CallKind::kPoll: {
      uint64_t events;
      if (!r.fd(&c->fd) || !r.varint(&events)) return false;
      c->flags = static_cast<uint32_t>(events);
      c->block = head & kHeadBlock;
      return true;
    }
    case CallKind::kIrq:
      return r.device(&c->dev) && r.u8(&c->irq_line);
    case CallKind::kRegisterDriver:
    case CallKind::kUnregisterDriver:
      return r.u8(&c->driver);
    default:  // bind, unbind, plug, unplug
      return r.device(&c->dev);
  }
}

// The size of the schedule region whose count byte is `count` (trailer
// included), or 0 when `count` names none.
size_t sched_region_size(uint8_t count) {
  if (count <= kMaxSchedSteps) return 5u * count + 3;
  if ((count & kSchedPctBit) && (count & ~kSchedPctBit) <= kMaxPctChanges)
    return 1 + 2u * (count & ~kSchedPctBit) + 3;
  return 0;
}

void put_schedule(std::vector<uint8_t>* out, const Program& p) {
  uint8_t count;
  if (p.strategy == SchedStrategy::kPct) {
    uint8_t order = 0;
    for (int i = 0; i < kMaxThreads; ++i) order |= static_cast<uint8_t>(p.pct.order[i] << (2 * i));
    out->push_back(order);
    for (uint16_t c : p.pct.changes) {
      out->push_back(static_cast<uint8_t>(c));
      out->push_back(static_cast<uint8_t>(c >> 8));
    }
    count = static_cast<uint8_t>(kSchedPctBit | p.pct.changes.size());
  } else {
    for (const SchedStep& s : p.schedule) {
      out->push_back(s.thread);
      out->push_back(s.call);
      out->push_back(static_cast<uint8_t>(s.kind));
      out->push_back(s.nth);
      out->push_back(s.next);
    }
    count = static_cast<uint8_t>(p.schedule.size());
  }
  out->push_back(count);
  out->push_back(kSchedTrailer2);
  out->push_back(kSchedTrailer);
}

// Reads the region of `size` bytes (sched_region_size) at `s` into `p`.
void get_schedule(const uint8_t* s, size_t size, Program* p) {
  uint8_t count = s[size - 3];
  if (count & kSchedPctBit) {
    p->strategy = SchedStrategy::kPct;
    for (int i = 0; i < kMaxThreads; ++i) p->pct.order[i] = (s[0] >> (2 * i)) & 3;
    for (int i = 0; i < (count & ~kSchedPctBit); ++i)
      p->pct.changes.push_back(static_cast<uint16_t>(s[1 + 2 * i] | s[2 + 2 * i] << 8));
    return;
  }
  for (int i = 0; i < count; ++i, s += 5)
    p->schedule.push_back(SchedStep{s[0], s[1], static_cast<HookKind>(s[2]), s[3], s[4]});
}

}  // namespace

std::vector<uint8_t> program_to_binary(const Program& p) {
  Program canon = p;
  canonicalize(&canon);
  std::vector<uint8_t> out;
  out.push_back(kBinaryMagic);
  for (const Call& c : canon.calls) put_call(&out, c);
  // The schedule region, read from the end (see the header). Also written,
  // empty, when the calls happen to end in bytes that read as a trailer.
  bool looks_like_trailer = out.size() >= 3 && out[out.size() - 1] == kSchedTrailer &&
                            out[out.size() - 2] == kSchedTrailer2 &&
                            sched_region_size(out[out.size() - 3]) != 0;
  if (!canon.schedule.empty() || canon.strategy != SchedStrategy::kPreempt || looks_like_trailer)
    put_schedule(&out, canon);
  return out;
}

Program program_from_binary(const uint8_t* data, size_t size) {
  Program p;
  if (data == nullptr) size = 0;
  // 1. The schedule region at the end, when the trailer is there.
  if (size >= 3 && data[size - 1] == kSchedTrailer && data[size - 2] == kSchedTrailer2) {
    size_t region = sched_region_size(data[size - 3]);
    if (region != 0 && region <= size) {
      get_schedule(data + size - region, region, &p);
      size -= region;
    }
  }
  // 2. The calls, from the front.
  Reader r(data, size);
  if (!r.empty() && r.peek() == kBinaryMagic) {
    uint8_t magic;
    r.u8(&magic);
  }
  while (!r.empty() && p.calls.size() < static_cast<size_t>(kMaxCalls)) {
    Call c;
    if (!get_call(r, &c)) break;  // cut short: dropped
    p.calls.push_back(std::move(c));
  }
  canonicalize(&p);
  return p;
}

bool looks_like_text(const uint8_t* data, size_t size) {
  size_t i = 0;
  while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) ++i;
  if (i >= size) return false;
  if (data[i] == '#') return true;
  return data[i] == 't' && i + 1 < size && data[i + 1] >= '0' && data[i + 1] <= '9';
}

Program program_from_input(const uint8_t* data, size_t size) {
  if (looks_like_text(data, size)) {
    auto text = program_from_text(std::string_view(reinterpret_cast<const char*>(data), size));
    if (text.ok()) return *std::move(text);
  }
  return program_from_binary(data, size);
}

}  // namespace mcf::fuzz
