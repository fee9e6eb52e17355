// syzkaller's fail_nth for one call of a program: while a FailNthScope with
// n != 0 is alive on a thread, the n-th failure point (core/kernel/fault.h)
// that thread reaches fails, and no other. Other threads, and the same thread
// outside the scope, fail nothing. This is issue 11's mechanism, in its
// minimal form: the executor arms it around the calls with Call::fail_nth.
#pragma once

#include <cstdint>

namespace mcf::fuzz {

// Installs the executor's FaultInjector (set_fault_injector). Idempotent;
// the injector stays installed, and fails nothing outside a scope.
void fail_nth_install();

class FailNthScope {
 public:
  explicit FailNthScope(uint32_t nth);
  ~FailNthScope();
  FailNthScope(const FailNthScope&) = delete;
  FailNthScope& operator=(const FailNthScope&) = delete;

  // The failure point that was made to fail ("kzalloc", ...), or null.
  const char* failed_site() const;
  // Failure points reached so far in the scope.
  uint32_t points_reached() const;
};

}  // namespace mcf::fuzz
