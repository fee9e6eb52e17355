// The mutation operators and the loop that applies them: see mutate.h.
// Each operator is a short function registered in kMutators with its name
// and its weight in MutateOptions (libFuzzer's FuzzerMutate.cpp table,
// syzkaller's weights). An operator returns false when it does not apply;
// the loop then draws another.
#include "fuzzers/mutate/mutate.h"

#include <fcntl.h>

#include <algorithm>

#include "drivers/driver_table.h"
#include "fuzzers/mutate/generate.h"
#include "fuzzers/mutate/resources.h"
#include "fuzzers/mutate/rng.h"
#include "fuzzers/prog/ioctl_desc.h"

namespace mcf::fuzz {
namespace {

// What an operator works on.
struct Ctx {
  Program* p;
  Rng& rng;
  const MutateOptions& opts;
  const Program* donor;  // splice partner; null: the program itself
  size_t max_calls;      // min(opts.max_calls, kMaxCalls)
};

size_t ncalls(const Ctx& m) { return m.p->calls.size(); }

// Indices of the calls satisfying `pred`.
template <typename Pred>
std::vector<size_t> calls_where(const Program& p, Pred pred) {
  std::vector<size_t> out;
  for (size_t i = 0; i < p.calls.size(); ++i)
    if (pred(p.calls[i])) out.push_back(i);
  return out;
}

// Points call i's fd at another fd made before it (or, rarely, at none).
void retarget_fd(Ctx& m, size_t i) {
  std::vector<int> fds = fd_makers_before(*m.p, i);
  int16_t fd = -1;
  if (!fds.empty() && !m.rng.one_of(10)) fd = static_cast<int16_t>(m.rng.pick(fds));
  m.p->calls[i].fd = fd;
}

DeviceRef mutate_device(DeviceRef d, Rng& rng) {
  size_t drivers = driver_table().size();
  if (drivers > 1 && rng.one_of(2))
    d.driver = static_cast<uint8_t>((d.driver + 1 + rng.below(drivers - 1)) % drivers);
  else
    d.id = static_cast<uint8_t>(rng.one_of(8) ? rng.below(256) : rng.small(3));
  return d;
}

// ---- the operators ----

bool insert_call(Ctx& m) {
  if (ncalls(m) >= m.max_calls) return false;
  size_t pos = m.rng.biased_end(ncalls(m) + 1);
  std::optional<Call> c = gen_call(*m.p, pos, m.rng, m.opts);
  if (!c) return false;
  insert_call_at(m.p, pos, *c);
  return true;
}

bool remove_call(Ctx& m) {
  if (ncalls(m) == 0) return false;
  remove_call_at(m.p, m.rng.below(ncalls(m)));
  return true;
}

bool duplicate_call(Ctx& m) {
  if (ncalls(m) == 0 || ncalls(m) >= m.max_calls) return false;
  size_t i = m.rng.below(ncalls(m));
  size_t j = m.rng.one_of(2) ? i + 1 : m.rng.range(i + 1, ncalls(m));
  Call copy = m.p->calls[i];
  insert_call_at(m.p, j, copy);
  return true;
}

bool swap_two_calls(Ctx& m) {
  if (ncalls(m) < 2) return false;
  size_t i = m.rng.below(ncalls(m));
  size_t j = m.rng.below(ncalls(m) - 1);
  if (j >= i) ++j;
  swap_calls(m.p, i, j);
  return true;
}

bool move_thread(Ctx& m) {
  unsigned threads = std::min<unsigned>(m.opts.threads, kMaxThreads);
  if (ncalls(m) == 0 || threads < 2) return false;
  Call& c = m.p->calls[m.rng.below(ncalls(m))];
  uint8_t t = static_cast<uint8_t>(m.rng.below(threads));
  if (t == c.thread) t = static_cast<uint8_t>((t + 1) % threads);
  c.thread = t;
  return true;
}

bool mutate_ioctl(Ctx& m, size_t i) {
  Call& c = m.p->calls[i];
  const IoctlDesc& d = ioctl_table()[c.ioctl.desc];
  const unsigned w[] = {d.fields.empty() ? 0u : 85u, 10, 5};
  switch (pick_weighted(m.rng, w, 3)) {
    case 0: {
      size_t f = m.rng.below(d.fields.size());
      c.ioctl.fields[f] = mutate_field(d.fields[f], c.ioctl.fields[f], *m.p, m.rng, m.opts);
      return true;
    }
    case 1: retarget_fd(m, i); return true;
    default: {
      std::optional<NodeRef> node = fd_node(*m.p, c.fd);
      uint16_t desc = pick_ioctl(node ? std::optional(node->kind) : std::nullopt, m.rng, m.opts);
      c.ioctl = gen_ioctl_arg(desc, *m.p, m.rng, m.opts);
      return true;
    }
  }
}

bool mutate_arg(Ctx& m) {
  // Opens have their own operators (change_node, change_open_flags).
  std::vector<size_t> cand = calls_where(*m.p, [](const Call& c) { return c.kind != CallKind::kOpen; });
  if (cand.empty()) return false;
  // Weighted by how much there is to mutate (syzkaller: by argument complexity).
  std::vector<unsigned> w;
  for (size_t i : cand) {
    const Call& c = m.p->calls[i];
    w.push_back(c.kind == CallKind::kIoctl ? 2 + ioctl_table()[c.ioctl.desc].fields.size() : 1);
  }
  size_t i = cand[pick_weighted(m.rng, w.data(), w.size())];
  Call& c = m.p->calls[i];
  switch (c.kind) {
    case CallKind::kIoctl: return mutate_ioctl(m, i);
    case CallKind::kClose:
    case CallKind::kDup: retarget_fd(m, i); return true;
    case CallKind::kPoll: {
      const unsigned pw[] = {40, 20, 40};
      switch (pick_weighted(m.rng, pw, 3)) {
        case 0: c.flags = gen_poll_events(m.rng); return true;
        case 1: c.block = !c.block; return true;
        default: retarget_fd(m, i); return true;
      }
    }
    case CallKind::kIrq:
      if (m.rng.one_of(2)) {
        c.irq_line = static_cast<uint8_t>(m.rng.one_of(8) ? m.rng.below(256) : m.rng.small(4));
        return true;
      }
      c.dev = mutate_device(c.dev, m.rng);
      return true;
    case CallKind::kRegisterDriver:
    case CallKind::kUnregisterDriver: {
      size_t drivers = driver_table().size();
      if (drivers < 2) return false;
      c.driver = static_cast<uint8_t>((c.driver + 1 + m.rng.below(drivers - 1)) % drivers);
      return true;
    }
    default:  // bind, unbind, plug, unplug
      c.dev = mutate_device(c.dev, m.rng);
      return true;
  }
}

std::vector<size_t> opens(const Program& p) {
  return calls_where(p, [](const Call& c) { return c.kind == CallKind::kOpen; });
}

bool change_node(Ctx& m) {
  std::vector<size_t> cand = opens(*m.p);
  if (cand.empty()) return false;
  NodeRef& n = m.p->calls[m.rng.pick(cand)].node;
  const unsigned w[] = {40, 30, 30};
  switch (pick_weighted(m.rng, w, 3)) {
    case 0: {
      NodeRef fresh = gen_node(m.rng, m.opts);
      if (fresh.kind == n.kind) fresh.kind = gen_node(m.rng, m.opts).kind;
      n.kind = fresh.kind;
      return true;
    }
    case 1: n.index = static_cast<uint8_t>(m.rng.one_of(8) ? m.rng.below(256) : m.rng.small(4)); return true;
    default: n.dev = mutate_device(n.dev, m.rng); return true;
  }
}

bool change_open_flags(Ctx& m) {
  std::vector<size_t> cand = opens(*m.p);
  if (cand.empty()) return false;
  uint32_t& flags = m.p->calls[m.rng.pick(cand)].flags;
  if (m.rng.percent(60)) {
    flags ^= O_NONBLOCK;
  } else {
    // O_RDONLY, O_WRONLY, O_RDWR are 0, 1, 2: step to one of the other two.
    static_assert(O_RDONLY == 0 && O_WRONLY == 1 && O_RDWR == 2);
    uint32_t mode = ((flags & O_ACCMODE) + 1 + static_cast<uint32_t>(m.rng.below(2))) % 3;
    flags = (flags & ~static_cast<uint32_t>(O_ACCMODE)) | mode;
  }
  return true;
}

bool fail_nth(Ctx& m) {
  if (ncalls(m) == 0) return false;
  uint32_t& n = m.p->calls[m.rng.below(ncalls(m))].fail_nth;
  uint32_t max = m.opts.fail_nth_max == 0 ? 1 : m.opts.fail_nth_max;
  // Half the time a small n (most calls reach a few points), half uniform
  // up to max: a probe reaches about a hundred (tests/fuzzers/
  // fault_sweep_test.cc), and small() alone almost never passes 10.
  uint32_t fresh = 1 + static_cast<uint32_t>(m.rng.one_of(2) ? m.rng.small(max) : m.rng.below(max));
  if (n == 0) {
    n = fresh;
    return true;
  }
  const unsigned w[] = {35, 35, 30};
  switch (pick_weighted(m.rng, w, 3)) {
    case 0: n = 0; break;
    case 1: n = m.rng.one_of(2) || n == 1 ? n + 1 : n - 1; break;
    default: n = fresh; break;
  }
  return true;
}

// Prefix of `a` + suffix of `b`; fd users in the suffix that pointed into the
// dropped part of `b` are re-linked (rebuild), then the result is trimmed.
Program splice_programs(const Program& a, const Program& b, Rng& rng, size_t max_calls) {
  size_t keep = rng.below(a.calls.size() + 1);
  size_t from = rng.below(b.calls.size() + 1);
  std::vector<Call> source(a.calls.begin(), a.calls.begin() + keep);
  std::vector<int> order;
  for (size_t i = 0; i < keep; ++i) order.push_back(static_cast<int>(i));
  for (size_t i = 0; i < b.calls.size(); ++i) {
    Call c = b.calls[i];
    if (call_uses_fd(c.kind) && c.fd >= 0) c.fd = static_cast<int16_t>(c.fd + keep);
    source.push_back(c);
    if (i >= from) order.push_back(static_cast<int>(keep + i));
  }
  Program out;
  // The interleaving of the program the prefix comes from.
  out.strategy = a.strategy;
  out.schedule = a.schedule;
  out.pct = a.pct;
  rebuild(&out, source, order);
  if (out.calls.size() > max_calls) out.calls.resize(max_calls);
  return out;
}

bool splice(Ctx& m) {
  Program self = *m.p;
  *m.p = splice_programs(self, m.donor ? *m.donor : self, m.rng, m.max_calls);
  return true;
}

// A preemption at a point of a call that exists: thread and thread-local call
// index from a random call, a kind the model passes often, a small nth, and
// another thread the program uses to switch to.
SchedStep random_step(Ctx& m) {
  const Program& p = *m.p;
  size_t i = m.rng.below(p.calls.size());
  SchedStep s;
  s.thread = p.calls[i].thread;
  for (size_t j = 0; j < i; ++j) s.call += p.calls[j].thread == s.thread ? 1 : 0;
  static const HookKind kKinds[] = {HookKind::kLockAcquire, HookKind::kLockRelease,
                                    HookKind::kRefGet,      HookKind::kRefPut,
                                    HookKind::kCallEntry,   HookKind::kWaitWake,
                                    HookKind::kUnpublish,   HookKind::kWaitSleep};
  s.kind = kKinds[m.rng.below(sizeof(kKinds) / sizeof(kKinds[0]))];
  s.nth = static_cast<uint8_t>(m.rng.small(16));
  s.next = p.calls[m.rng.below(p.calls.size())].thread;
  if (s.next == s.thread) s.next = static_cast<uint8_t>((s.thread + 1) % kMaxThreads);
  return s;
}

// A PCT change point among the k scheduling points the program is expected
// to pass (k estimated from its calls): half the time uniform, as PCT draws
// from [1, k]; else log-uniform, as likely in [2^i, 2^(i+1)) for every i, so
// short programs and the first points of a run are not starved when the
// estimate is far off.
uint16_t random_change(Ctx& m) {
  uint64_t k = std::max<uint64_t>(1, m.p->calls.size() * m.opts.pct_points_per_call);
  k = std::min<uint64_t>(k, 0x10000);
  if (m.rng.one_of(2)) return static_cast<uint16_t>(m.rng.below(k));
  unsigned bits = 0;
  while ((uint64_t{1} << bits) < k) ++bits;
  uint64_t range = uint64_t{1} << m.rng.below(bits + 1);
  return static_cast<uint16_t>(m.rng.below(std::min(range, k)));
}

// A fresh schedule of `strategy`: one preemption, or PCT with a random
// priority order and 1..kMaxPctChanges change points (few more often).
void fresh_schedule(Ctx& m, SchedStrategy strategy) {
  Program& p = *m.p;
  p.strategy = strategy;
  p.schedule.clear();
  p.pct = PctSchedule();
  if (strategy == SchedStrategy::kPreempt) {
    p.schedule.push_back(random_step(m));
    return;
  }
  for (int i = kMaxThreads - 1; i > 0; --i)  // Fisher-Yates
    std::swap(p.pct.order[i], p.pct.order[m.rng.below(i + 1)]);
  size_t n = 1 + m.rng.small(kMaxPctChanges);
  for (size_t i = 0; i < n; ++i) p.pct.changes.push_back(random_change(m));
}

// Add, drop or move a change point, or swap two threads' priorities.
void mutate_pct(Ctx& m) {
  PctSchedule& pct = m.p->pct;
  uint64_t what = m.rng.below(4);
  if (what == 0 && pct.changes.size() < static_cast<size_t>(kMaxPctChanges)) {
    pct.changes.push_back(random_change(m));
  } else if ((what == 0 || what == 1) && !pct.changes.empty()) {
    pct.changes.erase(pct.changes.begin() + static_cast<long>(m.rng.below(pct.changes.size())));
  } else if (what == 2 && !pct.changes.empty()) {
    uint16_t& c = pct.changes[m.rng.below(pct.changes.size())];
    uint16_t delta = static_cast<uint16_t>(1 + m.rng.small(8));
    c = m.rng.one_of(3) ? random_change(m)
                        : static_cast<uint16_t>(m.rng.one_of(2) ? c + delta : (c > delta ? c - delta : 0));
  } else {
    size_t a = m.rng.below(kMaxThreads), b = m.rng.below(kMaxThreads);
    std::swap(pct.order[a], pct.order[b == a ? (a + 1) % kMaxThreads : b]);
  }
}

// The schedule part: start one (the strategy drawn with sched_pct_pct), switch
// strategy now and then (sched_switch_pct), or change the one there is.
bool mutate_schedule(Ctx& m) {
  if (m.p->calls.empty()) return false;
  bool preempt = m.p->strategy == SchedStrategy::kPreempt;
  if (preempt && m.p->schedule.empty()) {
    fresh_schedule(m, m.rng.percent(m.opts.sched_pct_pct) ? SchedStrategy::kPct
                                                          : SchedStrategy::kPreempt);
    return true;
  }
  if (m.rng.percent(m.opts.sched_switch_pct)) {
    fresh_schedule(m, preempt ? SchedStrategy::kPct : SchedStrategy::kPreempt);
    return true;
  }
  if (!preempt) {
    mutate_pct(m);
    return true;
  }
  std::vector<SchedStep>& sched = m.p->schedule;
  uint64_t what = sched.empty() ? 0 : m.rng.below(4);
  if (what == 0 && sched.size() < static_cast<size_t>(kMaxSchedSteps)) {
    sched.push_back(random_step(m));
  } else if (what == 1 || what == 0) {
    sched.erase(sched.begin() + static_cast<long>(m.rng.below(sched.size())));
  } else {
    SchedStep& s = sched[m.rng.below(sched.size())];
    SchedStep r = random_step(m);
    switch (m.rng.below(3)) {
      case 0: s.nth = static_cast<uint8_t>(m.rng.one_of(2) ? s.nth + 1 : (s.nth > 0 ? s.nth - 1 : 1)); break;
      case 1: s.next = r.next == s.thread ? s.next : r.next; break;
      default: s = r; break;
    }
  }
  return true;
}

struct Mutator {
  MutationOp op;
  const char* name;
  unsigned MutateOptions::*weight;
  bool (*fn)(Ctx&);
};

const Mutator kMutators[] = {
    {MutationOp::kInsertCall, "insert_call", &MutateOptions::insert_call, insert_call},
    {MutationOp::kRemoveCall, "remove_call", &MutateOptions::remove_call, remove_call},
    {MutationOp::kDuplicateCall, "duplicate_call", &MutateOptions::duplicate_call, duplicate_call},
    {MutationOp::kSwapCalls, "swap_calls", &MutateOptions::swap_calls, swap_two_calls},
    {MutationOp::kMoveThread, "move_thread", &MutateOptions::move_thread, move_thread},
    {MutationOp::kMutateArg, "mutate_arg", &MutateOptions::mutate_arg, mutate_arg},
    {MutationOp::kChangeNode, "change_node", &MutateOptions::change_node, change_node},
    {MutationOp::kChangeOpenFlags, "change_open_flags", &MutateOptions::change_open_flags,
     change_open_flags},
    {MutationOp::kFailNth, "fail_nth", &MutateOptions::fail_nth, fail_nth},
    {MutationOp::kSplice, "splice", &MutateOptions::splice, splice},
    {MutationOp::kMutateSchedule, "mutate_schedule", &MutateOptions::mutate_schedule,
     mutate_schedule},
};
constexpr size_t kNumMutators = sizeof(kMutators) / sizeof(kMutators[0]);
static_assert(kNumMutators == static_cast<size_t>(MutationOp::kCount));

size_t clamp_calls(const MutateOptions& opts) {
  return std::min<size_t>(opts.max_calls, kMaxCalls);
}

// Puts `p` in the shape every operator expects: canonical, within max_calls.
void prepare(Program* p, size_t max_calls) {
  canonicalize(p);
  if (p->calls.size() > max_calls) p->calls.resize(max_calls);  // fds only point back
}

// One operator on `p`: true when it applied and changed the program, which
// is then canonical; otherwise `p` is as it was.
// With opts.debug_validate, a non-canonical output is described in *invalid.
bool apply_once(const Mutator& mut, Program* p, Rng& rng, const MutateOptions& opts,
                const Program* donor, std::string* invalid) {
  Program before = *p;
  Ctx m{p, rng, opts, donor, clamp_calls(opts)};
  bool ok = mut.fn(m);
  std::string why;
  if (ok && opts.debug_validate && invalid != nullptr && invalid->empty()) {
    if (!is_valid(*p, &why)) *invalid = std::string(mut.name) + ": " + why;
    else if (p->calls.size() > m.max_calls) *invalid = std::string(mut.name) + ": over max_calls";
  }
  if (ok) prepare(p, m.max_calls);
  if (!ok || *p == before) {
    *p = std::move(before);
    return false;
  }
  return true;
}

}  // namespace

const char* mutation_op_name(MutationOp op) {
  size_t i = static_cast<size_t>(op);
  return i < kNumMutators ? kMutators[i].name : "?";
}

unsigned MutateOptions::weight(MutationOp op) const {
  size_t i = static_cast<size_t>(op);
  return i < kNumMutators ? this->*kMutators[i].weight : 0;
}

std::string MutationLog::str() const {
  std::string s;
  for (MutationOp op : ops) {
    if (!s.empty()) s += '+';
    s += mutation_op_name(op);
  }
  return s;
}

MutationLog mutate(Program* p, uint64_t seed, const MutateOptions& opts, const Program* donor) {
  constexpr int kMaxAttempts = 64;  // operators drawn before giving up
  Rng rng(seed);
  MutationLog log;
  prepare(p, clamp_calls(opts));
  Program partner;
  if (donor != nullptr) {
    partner = *donor;
    prepare(&partner, clamp_calls(opts));
  }
  unsigned weights[kNumMutators];
  for (size_t i = 0; i < kNumMutators; ++i) weights[i] = opts.*kMutators[i].weight;
  unsigned expected = opts.expected_ops == 0 ? 1 : opts.expected_ops;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    int k = pick_weighted(rng, weights, kNumMutators);
    if (k < 0) break;
    if (!apply_once(kMutators[k], p, rng, opts, donor ? &partner : nullptr, &log.invalid)) continue;
    log.ops.push_back(kMutators[k].op);
    if (rng.one_of(expected)) break;
  }
  return log;
}

bool apply_mutation(MutationOp op, Program* p, uint64_t seed, const MutateOptions& opts,
                    const Program* donor) {
  size_t i = static_cast<size_t>(op);
  if (i >= kNumMutators) return false;
  Rng rng(seed);
  return apply_once(kMutators[i], p, rng, opts, donor, nullptr);
}

Program crossover(const Program& a, const Program& b, uint64_t seed, const MutateOptions& opts) {
  size_t max_calls = clamp_calls(opts);
  Program pa = a, pb = b;
  prepare(&pa, max_calls);
  prepare(&pb, max_calls);
  Rng rng(seed);
  Program out = splice_programs(pa, pb, rng, max_calls);
  prepare(&out, max_calls);
  return out;
}

}  // namespace mcf::fuzz
