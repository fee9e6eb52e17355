// The deterministic scheduler: see det_scheduler.h.
#include "fuzzers/sched/det_scheduler.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "core/kernel/report.h"
#include "core/kernel/task.h"

// libFuzzer's extra features (§ interleaving coverage): a byte array in this
// section is read by libFuzzer as counters next to the edge counters. Outside
// a libFuzzer binary nobody reads it.
__attribute__((section("__libfuzzer_extra_counters"), used)) static uint8_t
    g_interleaving_counters[4096];

namespace mcf::fuzz {
namespace {

// The slot the calling thread has in the running scheduler (-1: none).
thread_local int t_slot = -1;
thread_local DetScheduler* t_sched = nullptr;

// FNV-1a of a label's text (never of its address: addresses differ per run).
uint32_t text_hash(const char* s, uint32_t h = 2166136261u) {
  if (s == nullptr) return h;
  for (; *s; ++s) h = (h ^ static_cast<uint8_t>(*s)) * 16777619u;
  return h;
}

uint32_t point_hash(const HookPoint& p) {
  return text_hash(p.label, text_hash(p.object_class)) * 31 + static_cast<uint32_t>(p.kind);
}

const char* state_text(int s) {
  switch (s) {
    case 0: return "absent";
    case 1: return "runnable";
    case 2: return "blocked";
    default: return "finished";
  }
}

}  // namespace

DetScheduler::DetScheduler(Strategy* strategy, Options opts) : strategy_(strategy), opts_(opts) {
  trace_.resize(opts_.trace_capacity == 0 ? 1 : opts_.trace_capacity);
}

DetScheduler::~DetScheduler() {
  if (internal::g_scheduler.load() == this) set_scheduler(nullptr);
}

void DetScheduler::begin(unsigned active) {
  {
    std::lock_guard<std::mutex> l(mu_);
    for (int i = 0; i < kSlots; ++i) slots_[i] = Slot();
    for (int t = 0; t < kMaxThreads; ++t)
      if ((active >> t) & 1) slots_[t].state = State::kRunnable;
    slots_[kController].state = State::kRunnable;
    running_ = kController;
    points_ = 0;
    preemptions_ = 0;
    pending_pair_ = 0;
    trace_next_ = 0;
  }
  t_slot = kController;
  t_sched = this;
  // Reports name the controller "t4", not the t0 its task may say.
  saved_controller_tid_ = current()->tid;
  current()->tid = kController;
  set_scheduler(this);
}

void DetScheduler::thread_enter(int t) {
  t_slot = t;
  t_sched = this;
  turn_[t].sem.acquire();  // the first handoff to t
}

void DetScheduler::set_call(int t, int local, int global) {
  std::lock_guard<std::mutex> l(mu_);
  Slot& s = slots_[t];
  s.call_local = local;
  s.call_global = global;
  for (uint8_t& c : s.counts) c = 0;
}

void DetScheduler::thread_exit() {
  std::unique_lock<std::mutex> l(mu_);
  int self = t_slot;
  t_slot = -1;
  t_sched = nullptr;
  slots_[self].state = State::kFinished;
  int next = pick_after_block_locked(self);
  if (next < 0) report_deadlock(l, "thread exit");
  hand_over_locked(l, next);
}

bool DetScheduler::wait_quiescent() {
  std::unique_lock<std::mutex> l(mu_);
  Slot& c = slots_[kController];
  c.state = State::kBlocked;
  c.object = &quiescent_tag_;
  c.what = "the program threads to finish or sleep";
  block_self_locked(l, kController);
  for (int t = 0; t < kMaxThreads; ++t)
    if (slots_[t].state == State::kRunnable || slots_[t].state == State::kBlocked) return false;
  return true;
}

void DetScheduler::wait_all_done() {
  std::unique_lock<std::mutex> l(mu_);
  Slot& c = slots_[kController];
  c.state = State::kBlocked;
  c.object = &all_done_tag_;
  c.what = "the program threads to finish (teardown)";
  block_self_locked(l, kController);
}

void DetScheduler::end() {
  set_scheduler(nullptr);
  current()->tid = saved_controller_tid_;
  std::lock_guard<std::mutex> l(mu_);
  t_slot = -1;
  t_sched = nullptr;
  running_ = -1;
}

bool DetScheduler::controls_current() { return t_sched == this && t_slot >= 0; }

unsigned DetScheduler::runnable_locked() const {
  unsigned r = 0;
  for (int t = 0; t < kMaxThreads; ++t)
    if (slots_[t].state == State::kRunnable) r |= 1u << t;
  return r;
}

// Who runs after `self` stopped being runnable: a program thread chosen by
// the strategy, else the controller when what it waits for holds, else -1.
int DetScheduler::pick_after_block_locked(int self) {
  unsigned r = runnable_locked();
  if (r != 0) return strategy_->at_block(self == kController ? kMaxThreads - 1 : self, r);
  Slot& c = slots_[kController];
  if (c.state == State::kRunnable) return kController;
  if (c.state == State::kBlocked) {
    bool all_finished = true;
    for (int t = 0; t < kMaxThreads; ++t)
      if (slots_[t].state == State::kBlocked) all_finished = false;
    if (c.object == &quiescent_tag_ || (c.object == &all_done_tag_ && all_finished)) {
      c.state = State::kRunnable;
      return kController;
    }
  }
  return -1;
}

void DetScheduler::hand_over_locked(std::unique_lock<std::mutex>& l, int next) {
  running_ = next;
  l.unlock();
  turn_[next].sem.release();
}

void DetScheduler::switch_locked(std::unique_lock<std::mutex>& l, int self, int next) {
  if (next == self) return;
  hand_over_locked(l, next);
  // Exactly one acquire per handoff to us: `next` may hand back before we
  // get here, and its token must not be left for a later wait.
  turn_[self].sem.acquire();
  l.lock();
}

void DetScheduler::block_self_locked(std::unique_lock<std::mutex>& l, int self) {
  int next = pick_after_block_locked(self);
  if (next < 0) report_deadlock(l, slots_[self].what);
  switch_locked(l, self, next);
}

void DetScheduler::block_on(const void* object, const char* what, int owner_tid) {
  std::unique_lock<std::mutex> l(mu_);
  int self = t_slot;
  Slot& s = slots_[self];
  s.state = State::kBlocked;
  s.object = object;
  s.what = what;
  s.owner = owner_tid;
  s.call_name = current()->call;
  trace_locked(event(self, 2, HookKind::kWaitSleep, s.call_local, 0, owner_tid, what, nullptr));
  block_self_locked(l, self);
}

void DetScheduler::unblock(const void* object) {
  std::lock_guard<std::mutex> l(mu_);
  for (int i = 0; i < kSlots; ++i) {
    Slot& s = slots_[i];
    if (s.state == State::kBlocked && s.object == object) {
      s.state = State::kRunnable;
      s.object = nullptr;
    }
  }
}

void DetScheduler::on_hook(const HookPoint& point) {
  if (t_sched != this || t_slot < 0) return;
  int self = t_slot;
  std::unique_lock<std::mutex> l(mu_);
  if (++points_ > opts_.max_points) {
    std::string d = describe_locked();
    l.unlock();
    report(ReportKind::kHang, point.object_class,
           "deterministic mode: more than %llu scheduling points in one input (livelock?): %s",
           static_cast<unsigned long long>(opts_.max_points), d.c_str());
  }
  if (pending_pair_ != 0) {
    // The first point after a preemption: the pair is the interleaving feature.
    uint32_t h = (pending_pair_ ^ (point_hash(point) * 2654435761u)) % sizeof(g_interleaving_counters);
    if (g_interleaving_counters[h] != 255) ++g_interleaving_counters[h];
    pending_pair_ = 0;
  }
  Slot& s = slots_[self];
  int k = static_cast<int>(point.kind);
  int nth = s.counts[k];
  if (s.counts[k] != 255) ++s.counts[k];
  trace_locked(event(self, 0, point.kind, s.call_local, nth, -1, point.object_class, point.label));
  if (self == kController || s.call_local < 0) return;  // teardown is not preempted
  int next = strategy_->at_point(PointKey{self, s.call_local, point.kind, nth}, runnable_locked());
  if (next == self || next < 0) return;
  ++preemptions_;
  pending_pair_ = point_hash(point) | 1;
  trace_locked(event(self, 1, point.kind, s.call_local, nth, next, nullptr, nullptr));
  switch_locked(l, self, next);
}

DetScheduler::TraceEvent DetScheduler::event(int thread, int kind_of_event, HookKind kind,
                                             int call, int nth, int arg, const char* cls,
                                             const char* label) {
  TraceEvent e;
  e.thread = static_cast<int8_t>(thread);
  e.event = static_cast<int8_t>(kind_of_event);
  e.kind = kind;
  e.call = static_cast<int16_t>(call);
  e.nth = static_cast<int16_t>(nth);
  e.arg = static_cast<int8_t>(arg);
  std::snprintf(e.cls, sizeof(e.cls), "%s", cls != nullptr ? cls : "");
  std::snprintf(e.label, sizeof(e.label), "%s", label != nullptr ? label : "");
  return e;
}

void DetScheduler::trace_locked(const TraceEvent& e) {
  trace_[trace_next_ % trace_.size()] = e;
  ++trace_next_;
}

std::string DetScheduler::trace_text() {
  std::lock_guard<std::mutex> l(mu_);
  std::string out;
  uint64_t n = trace_.size();
  uint64_t first = trace_next_ > n ? trace_next_ - n : 0;
  if (first > 0) absl::StrAppend(&out, "... ", first, " earlier events dropped\n");
  for (uint64_t i = first; i < trace_next_; ++i) {
    const TraceEvent& e = trace_[i % n];
    std::string who = e.thread == kController ? "teardown" : absl::StrCat("t", e.thread);
    switch (e.event) {
      case 0:
        absl::StrAppend(&out, who, " c", e.call, " ", hook_kind_name(e.kind), "#", e.nth, " ",
                        e.cls, e.label[0] ? absl::StrCat(" ", e.label) : "", "\n");
        break;
      case 1:
        absl::StrAppend(&out, who, " preempted at c", e.call, ".", hook_kind_name(e.kind), "#",
                        e.nth, " -> t", e.arg, "\n");
        break;
      default:
        absl::StrAppend(&out, who, " c", e.call, " blocked on ", e.cls,
                        e.arg >= 0 ? absl::StrCat(" held by t", e.arg) : "", "\n");
        break;
    }
  }
  return out;
}

std::string DetScheduler::describe_locked() const {
  std::string out;
  for (int i = 0; i < kSlots; ++i) {
    const Slot& s = slots_[i];
    if (s.state == State::kAbsent) continue;
    if (!out.empty()) out += "; ";
    if (i == kController) {
      out += "t4 (executor teardown)";
    } else {
      absl::StrAppend(&out, "t", i);
      if (s.call_global >= 0)
        absl::StrAppend(&out, " call ", s.call_global, " (its call ", s.call_local, ")");
      if (s.call_name != nullptr) absl::StrAppend(&out, " [", s.call_name, "]");
    }
    if (i == running_) out += " running";
    if (s.state == State::kBlocked) {
      if (s.owner >= 0) {
        absl::StrAppend(&out, " waits for lock ", s.what ? s.what : "?", " held by t", s.owner);
      } else {
        absl::StrAppend(&out, " waits on ", s.what ? s.what : "?");
      }
    } else {
      absl::StrAppend(&out, " ", state_text(static_cast<int>(s.state)));
    }
  }
  return out;
}

std::string DetScheduler::positions() {
  std::lock_guard<std::mutex> l(mu_);
  return describe_locked();
}

void DetScheduler::report_deadlock(std::unique_lock<std::mutex>& l, const char* what) {
  std::string d = describe_locked();
  trace_locked(event(t_slot, 3, HookKind::kWaitSleep, 0, 0, -1, what, nullptr));
  l.unlock();
  // The report callback may read positions(): mu_ is free again.
  report(ReportKind::kDeadlock, what, "deterministic mode: no thread can run: %s", d.c_str());
}

}  // namespace mcf::fuzz
