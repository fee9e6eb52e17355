// fail_nth: see fail_nth.h.
#include "fuzzers/exec/fail_nth.h"

#include "absl/strings/str_cat.h"
#include "core/kernel/fault.h"
#include "core/kernel/kerrno.h"

namespace mcf::fuzz {
namespace {

// Per thread, so a call's count is not disturbed by failure points that
// other program threads reach at the same time.
struct FailState {
  uint32_t nth = 0;  // 0: disarmed
  uint32_t reached = 0;
  const char* site = nullptr;
  std::vector<FaultPointSeen>* record = nullptr;
};
thread_local FailState t_fail;

class NthInjector : public FaultInjector {
 public:
  bool should_fail(const fault_site& site) override {
    FailState& s = t_fail;
    if (s.nth == 0 && s.record == nullptr) return false;
    bool fail = ++s.reached == s.nth;
    if (fail) s.site = site.kind;
    if (s.record != nullptr)
      s.record->push_back(FaultPointSeen{site.kind, std::string(site.what), site.err, fail});
    return fail;
  }
};

NthInjector g_injector;

}  // namespace

void fail_nth_install() { set_fault_injector(&g_injector); }

FailNthScope::FailNthScope(uint32_t nth, std::vector<FaultPointSeen>* record) {
  t_fail = FailState{nth, 0, nullptr, record};
}
FailNthScope::~FailNthScope() { t_fail = FailState{}; }

const char* FailNthScope::failed_site() const { return t_fail.site; }
uint32_t FailNthScope::points_reached() const { return t_fail.reached; }

std::string fault_point_text(const FaultPointSeen& p) {
  return absl::StrCat(p.kind, p.what.empty() ? "" : " ", p.what, " -", errno_name(p.err));
}

}  // namespace mcf::fuzz
