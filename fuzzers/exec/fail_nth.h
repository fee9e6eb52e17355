// syzkaller's fail_nth for one call of a program: while a FailNthScope with
// n != 0 is alive on a thread, the n-th failure point (core/kernel/fault.h)
// that thread reaches fails, and no other. Other threads, and the same thread
// outside the scope, fail nothing. The executor arms one around every call,
// with Call::fail_nth; with a record it also lists every failure point the
// call reaches, so a user can aim a fault by hand (mcf-repro faults).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mcf::fuzz {

// A failure point a call reached (fault.h fault_site, copied).
struct FaultPointSeen {
  std::string kind;     // "kzalloc", "device_add", ...
  std::string what;     // "v4l2_fh", "video2", ...
  int err = 0;          // negative errno it returns when made to fail
  bool failed = false;  // this is the one fail_nth made fail
};

// Installs the executor's FaultInjector (set_fault_injector). Idempotent;
// the injector stays installed, and fails nothing outside a scope.
void fail_nth_install();

class FailNthScope {
 public:
  // `record`, when not null, receives every failure point reached in the
  // scope, in order (the n-th at index n - 1), including past the n-th.
  explicit FailNthScope(uint32_t nth, std::vector<FaultPointSeen>* record = nullptr);
  ~FailNthScope();
  FailNthScope(const FailNthScope&) = delete;
  FailNthScope& operator=(const FailNthScope&) = delete;

  // The kind of failure point that was made to fail ("kzalloc", ...), or null.
  const char* failed_site() const;
  // Failure points reached so far in the scope.
  uint32_t points_reached() const;
};

// "kzalloc v4l2_fh -ENOMEM": one line per point, as mcf-repro prints it.
std::string fault_point_text(const FaultPointSeen& p);

}  // namespace mcf::fuzz
