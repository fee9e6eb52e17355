// The preemption-list strategy: see strategy.h.
//
// Invariant: at most one preemption per step, since a step names one point
// (thread, call, kind, nth) and a thread passes each point once.
#include "fuzzers/sched/strategy.h"

namespace mcf::fuzz {

int first_runnable_from(int from, unsigned runnable) {
  for (int i = 0; i < kMaxThreads; ++i) {
    int t = (from + i) % kMaxThreads;
    if ((runnable >> t) & 1) return t;
  }
  return -1;
}

namespace {

class PreemptStrategy : public Strategy {
 public:
  explicit PreemptStrategy(std::vector<SchedStep> steps) : steps_(std::move(steps)) {}

  int at_point(const PointKey& k, unsigned runnable) override {
    for (const SchedStep& s : steps_) {
      if (s.thread == k.thread && s.call == k.call && s.kind == k.kind && s.nth == k.nth)
        return first_runnable_from(s.next, runnable);
    }
    return k.thread;  // no preemption: run until blocked or finished
  }

  int at_block(int current, unsigned runnable) override {
    return first_runnable_from(current + 1, runnable);
  }

 private:
  const std::vector<SchedStep> steps_;
};

}  // namespace

std::unique_ptr<Strategy> make_preempt_strategy(std::vector<SchedStep> steps) {
  return std::make_unique<PreemptStrategy>(std::move(steps));
}

std::unique_ptr<Strategy> make_strategy(const Program& p) {
  if (p.strategy == SchedStrategy::kPct) return make_pct_strategy(p.pct);
  return make_preempt_strategy(p.schedule);
}

}  // namespace mcf::fuzz
