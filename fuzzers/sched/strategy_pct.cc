// The PCT strategy (Burckhardt, Kothari, Musuvathi, Nagarakatte, "A
// Randomized Scheduler with Probabilistic Guarantees of Finding Bugs",
// ASPLOS'10), its random choices read from the program (prog.h PctSchedule)
// so that a run replays.
//
// Invariants: a thread's priority only changes at a change point, and then
// to a value below every starting priority, distinct per change point (the
// paper's d-1 low priorities); the chosen thread is always the runnable one
// of highest priority, so a thread runs until it blocks, finishes, or a
// thread of higher priority becomes runnable (woken, or the running one was
// demoted). Points are counted over every program thread in the order they
// are reached, which the scheduler makes deterministic.
#include "fuzzers/sched/strategy.h"

namespace mcf::fuzz {
namespace {

class PctStrategy : public Strategy {
 public:
  explicit PctStrategy(const PctSchedule& pct) : changes_(pct.changes) {
    // Starting priorities above every change point's value.
    for (int rank = 0; rank < kMaxThreads; ++rank)
      priority_[pct.order[rank]] = kMaxPctChanges + kMaxThreads - rank;
  }

  int at_point(const PointKey& k, unsigned runnable) override {
    // Change point i demotes the running thread to priority i. Two change
    // points on one step apply in list order: the last wins.
    for (size_t i = 0; i < changes_.size(); ++i)
      if (changes_[i] == step_) priority_[k.thread] = static_cast<int>(i);
    ++step_;
    return highest(runnable);
  }

  int at_block(int, unsigned runnable) override { return highest(runnable); }

 private:
  int highest(unsigned runnable) const {
    int best = -1;
    for (int t = 0; t < kMaxThreads; ++t)
      if (((runnable >> t) & 1) && (best < 0 || priority_[t] > priority_[best])) best = t;
    return best;
  }

  const std::vector<uint16_t> changes_;
  int priority_[kMaxThreads] = {};
  uint64_t step_ = 0;
};

}  // namespace

std::unique_ptr<Strategy> make_pct_strategy(const PctSchedule& pct) {
  return std::make_unique<PctStrategy>(pct);
}

}  // namespace mcf::fuzz
