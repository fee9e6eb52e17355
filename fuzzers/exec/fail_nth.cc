// fail_nth: see fail_nth.h.
#include "fuzzers/exec/fail_nth.h"

#include "core/kernel/fault.h"

namespace mcf::fuzz {
namespace {

// Per thread, so a call's count is not disturbed by failure points that
// other program threads reach at the same time.
struct FailState {
  uint32_t nth = 0;  // 0: disarmed
  uint32_t reached = 0;
  const char* site = nullptr;
};
thread_local FailState t_fail;

class NthInjector : public FaultInjector {
 public:
  bool should_fail(const char* site) override {
    FailState& s = t_fail;
    if (s.nth == 0) return false;
    if (++s.reached != s.nth) return false;
    s.site = site;
    return true;
  }
};

NthInjector g_injector;

}  // namespace

void fail_nth_install() { set_fault_injector(&g_injector); }

FailNthScope::FailNthScope(uint32_t nth) { t_fail = FailState{nth, 0, nullptr}; }
FailNthScope::~FailNthScope() { t_fail = FailState{}; }

const char* FailNthScope::failed_site() const { return t_fail.site; }
uint32_t FailNthScope::points_reached() const { return t_fail.reached; }

}  // namespace mcf::fuzz
