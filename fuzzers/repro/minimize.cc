// Crash minimisation: see minimize.h. One function per pass; each tries
// candidates through Minimizer::accept(), which keeps a candidate only when
// it differs from the current program and still crashes.
#include "fuzzers/repro/minimize.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "fuzzers/mutate/resources.h"

namespace mcf::repro {
namespace {

using fuzz::Call;
using fuzz::CallKind;
using fuzz::Program;

class Minimizer {
 public:
  Minimizer(const Program& p, const StillCrashes& pred, const MinimizeOptions& opts,
            MinimizeStats* stats)
      : cur_(p), pred_(pred), opts_(opts), stats_(stats) {
    fuzz::canonicalize(&cur_);
  }

  const Program& current() const { return cur_; }

  // Tries `cand`; keeps it when it is a different program that still crashes.
  bool accept(Program cand, const std::string& what) {
    fuzz::canonicalize(&cand);
    if (cand == cur_) return false;
    ++stats_->candidates;
    if (!pred_(cand)) return false;
    cur_ = std::move(cand);
    ++stats_->accepted;
    if (opts_.log) opts_.log(absl::StrCat(what, ": ", cur_.calls.size(), " calls"));
    return true;
  }

  // 1. Drop calls, last first.
  bool drop_calls() {
    bool changed = false;
    for (size_t i = cur_.calls.size(); i-- > 0;) {
      if (i >= cur_.calls.size()) continue;
      Program cand = cur_;
      fuzz::remove_call_at(&cand, i);
      changed |= accept(std::move(cand), absl::StrCat("drop call ", i));
    }
    return changed;
  }

  // 2. Fewer threads, then dense thread numbers.
  bool merge_threads() {
    bool changed = false;
    for (int t = fuzz::kMaxThreads - 1; t > 0; --t) {
      Program cand = cur_;
      bool any = false;
      for (Call& c : cand.calls) {
        if (c.thread == t) {
          c.thread = 0;
          any = true;
        }
      }
      if (any) changed |= accept(std::move(cand), absl::StrCat("merge thread t", t, " into t0"));
    }
    for (size_t i = 0; i < cur_.calls.size(); ++i) {
      if (cur_.calls[i].thread == 0) continue;
      Program cand = cur_;
      cand.calls[i].thread = 0;
      changed |= accept(std::move(cand), absl::StrCat("move call ", i, " to t0"));
    }
    std::array<int, fuzz::kMaxThreads> map;
    map.fill(-1);
    int next = 0;
    Program cand = cur_;
    for (Call& c : cand.calls) {
      if (map[c.thread] < 0) map[c.thread] = next++;
      c.thread = static_cast<uint8_t>(map[c.thread]);
    }
    changed |= accept(std::move(cand), "renumber threads");
    return changed;
  }

  // 3. No fault injection.
  bool reset_fail_nth() {
    bool changed = false;
    for (size_t i = 0; i < cur_.calls.size(); ++i) {
      if (cur_.calls[i].fail_nth == 0) continue;
      Program cand = cur_;
      cand.calls[i].fail_nth = 0;
      changed |= accept(std::move(cand), absl::StrCat("call ", i, ": fail_nth=0"));
    }
    return changed;
  }

  // 4. Fewer preemptions (PCT: fewer change points).
  bool drop_schedule_steps() {
    bool changed = false;
    for (size_t i = cur_.schedule.size(); i-- > 0;) {
      if (i >= cur_.schedule.size()) continue;
      Program cand = cur_;
      cand.schedule.erase(cand.schedule.begin() + static_cast<long>(i));
      changed |= accept(std::move(cand), absl::StrCat("drop schedule step ", i));
    }
    for (size_t i = cur_.pct.changes.size(); i-- > 0;) {
      if (i >= cur_.pct.changes.size()) continue;
      Program cand = cur_;
      cand.pct.changes.erase(cand.pct.changes.begin() + static_cast<long>(i));
      changed |= accept(std::move(cand), absl::StrCat("drop PCT change point ", i));
    }
    return changed;
  }

  // 5. Arguments to 0.
  bool reset_fields() {
    bool changed = false;
    for (size_t i = 0; i < cur_.calls.size(); ++i) {
      // Copies: accept() replaces cur_.
      const CallKind kind = cur_.calls[i].kind;
      const size_t nfields = cur_.calls[i].ioctl.fields.size();
      if (kind == CallKind::kIoctl) {
        for (size_t f = 0; f < nfields; ++f) {
          if (i >= cur_.calls.size() || f >= cur_.calls[i].ioctl.fields.size() ||
              cur_.calls[i].ioctl.fields[f] == 0)
            continue;
          Program cand = cur_;
          cand.calls[i].ioctl.fields[f] = 0;
          changed |= accept(std::move(cand), absl::StrCat("call ", i, ": field ", f, "=0"));
        }
      }
      changed |= try_set(i, "poll events=0", [](Call& c) {
        if (c.kind != CallKind::kPoll || c.flags == 0) return false;
        c.flags = 0;
        return true;
      });
      changed |= try_set(i, "poll without block", [](Call& c) {
        if (c.kind != CallKind::kPoll || !c.block) return false;
        c.block = false;
        return true;
      });
      changed |= try_set(i, "node index 0", [](Call& c) {
        if (c.kind != CallKind::kOpen || c.node.index == 0) return false;
        c.node.index = 0;
        return true;
      });
      changed |= try_set(i, "irq line 0", [](Call& c) {
        if (c.kind != CallKind::kIrq || c.irq_line == 0) return false;
        c.irq_line = 0;
        return true;
      });
    }
    return changed;
  }

 private:
  // Applies `edit` to call `i` of a copy; tries it when the edit applied.
  bool try_set(size_t i, const char* what, bool (*edit)(Call&)) {
    if (i >= cur_.calls.size()) return false;
    Program cand = cur_;
    if (!edit(cand.calls[i])) return false;
    return accept(std::move(cand), absl::StrCat("call ", i, ": ", what));
  }

  Program cur_;
  const StillCrashes& pred_;
  const MinimizeOptions& opts_;
  MinimizeStats* stats_;
};

}  // namespace

Program minimize(const Program& p, const StillCrashes& still_crashes, const MinimizeOptions& opts,
                 MinimizeStats* stats) {
  MinimizeStats local;
  if (stats == nullptr) stats = &local;
  *stats = MinimizeStats{};
  Minimizer m(p, still_crashes, opts, stats);
  for (int round = 0; round < opts.max_rounds; ++round) {
    ++stats->rounds;
    bool changed = false;
    if (opts.calls) changed |= m.drop_calls();
    if (opts.threads) changed |= m.merge_threads();
    if (opts.fail_nth) changed |= m.reset_fail_nth();
    if (opts.schedule) changed |= m.drop_schedule_steps();
    if (opts.fields) changed |= m.reset_fields();
    if (!changed) break;
  }
  return m.current();
}

}  // namespace mcf::repro
