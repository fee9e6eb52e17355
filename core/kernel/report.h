// Reports: the single exit for every oracle of DESIGN.md §3.
//
// A report prints one greppable block and aborts, so that libFuzzer, the
// sanitizers and GoogleTest death tests all see a crash:
//
//   ==mcfuzz== REPORT refcount-underflow: refcount_t: underflow; use-after-free
//   ==mcfuzz== object: media_entity 0x602000000010
//   ==mcfuzz== call: t1 ioctl(/dev/media0, MEDIA_IOC_SETUP_LINK)
//   ==mcfuzz== locks held: media_device.graph_mutex
//   ==mcfuzz== END REPORT
//
// The first line's kind (the word after REPORT) is stable and is what crash
// signatures and tests match on.
#pragma once

#include <cstdarg>

namespace mcf {

enum class ReportKind {
  kRefcountUnderflow,     // refcount_t: underflow; use-after-free
  kRefcountSaturated,     // refcount_t: saturated; leaking memory
  kRefcountAddOnZero,     // refcount_t: addition on 0; use-after-free
  kLockOrderInversion,    // possible circular locking dependency
  kRecursiveLock,         // a task takes a lock it already holds
  kBadUnlock,             // unlock of a lock the task does not hold
  kSleepInAtomic,         // sleeping function called from invalid context
  kLockHeldAtReturn,      // lock held when returning to user space
  kHwAccessAfterRemove,   // register access after the driver's remove()
  kIrqAfterRemove,        // IRQ handler ran after the driver's remove()
  kCallOnUnregistered,    // a call succeeded on an unregistered node
  kLeak,                  // a model object alive after teardown
  kDeadlock,              // no thread can run
  kHang,                  // a call did not finish within the watchdog limit
  kWarn,                  // WARN_ON
  kBug,                   // BUG_ON
};

// Stable short name of a kind, e.g. "refcount-underflow".
const char* report_kind_name(ReportKind kind);

// Called before aborting, after the report block; the fuzz harness installs one
// to print the program, the schedule and the live objects. Must not report.
using ReportCallback = void (*)(ReportKind kind);
void set_report_callback(ReportCallback cb);

// The report being printed, for the callback only (the harness computes its
// crash signature from them, fuzzers/repro/signature.h): its object ("" when
// none) and its formatted message, as printed in the block.
const char* report_current_object();
const char* report_current_message();

// Prints the report block for `kind` about `object` (may be null), with the
// calling task's current call and held locks, then aborts. `fmt` is printf-style.
[[noreturn]] void report(ReportKind kind, const char* object, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

}  // namespace mcf

// Kernel-style assertions on the model's own invariants. Both report and abort:
// a WARN in the model is a finding, not a log line.
#define MCF_WARN_ON(cond)                                                        \
  do {                                                                          \
    if (__builtin_expect(!!(cond), 0))                                          \
      ::mcf::report(::mcf::ReportKind::kWarn, nullptr, "WARN_ON(%s) at %s:%d", \
                    #cond, __FILE__, __LINE__);                                 \
  } while (0)
#define MCF_BUG_ON(cond)                                                         \
  do {                                                                          \
    if (__builtin_expect(!!(cond), 0))                                          \
      ::mcf::report(::mcf::ReportKind::kBug, nullptr, "BUG_ON(%s) at %s:%d",   \
                    #cond, __FILE__, __LINE__);                                 \
  } while (0)
