// Reports: see report.h.
#include "core/kernel/report.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "core/kernel/task.h"

// Present when a sanitizer runtime is linked; null otherwise.
extern "C" void __sanitizer_print_stack_trace() __attribute__((weak));

namespace mcf {
namespace {
std::atomic<ReportCallback> g_report_callback{nullptr};
std::atomic<bool> g_reporting{false};
// Written once, by the one task that got past g_reporting, before the callback.
char g_object[128];
char g_message[512];
}  // namespace

const char* report_kind_name(ReportKind kind) {
  switch (kind) {
    case ReportKind::kRefcountUnderflow: return "refcount-underflow";
    case ReportKind::kRefcountSaturated: return "refcount-saturated";
    case ReportKind::kRefcountAddOnZero: return "refcount-add-on-zero";
    case ReportKind::kLockOrderInversion: return "lock-order-inversion";
    case ReportKind::kRecursiveLock: return "recursive-lock";
    case ReportKind::kBadUnlock: return "bad-unlock";
    case ReportKind::kSleepInAtomic: return "sleep-in-atomic";
    case ReportKind::kLockHeldAtReturn: return "lock-held-at-return";
    case ReportKind::kHwAccessAfterRemove: return "hw-access-after-remove";
    case ReportKind::kIrqAfterRemove: return "irq-after-remove";
    case ReportKind::kCallOnUnregistered: return "call-on-unregistered";
    case ReportKind::kLeak: return "object-leak";
    case ReportKind::kDeadlock: return "deadlock";
    case ReportKind::kHang: return "hang";
    case ReportKind::kWarn: return "warning";
    case ReportKind::kBug: return "bug";
  }
  return "unknown";
}

void set_report_callback(ReportCallback cb) { g_report_callback.store(cb); }
const char* report_current_object() { return g_object; }
const char* report_current_message() { return g_message; }

void report(ReportKind kind, const char* object, const char* fmt, ...) {
  // Two threads may find something at once; the first one reports, the others
  // wait here until it aborts the process.
  if (g_reporting.exchange(true)) {
    for (;;) std::fflush(stderr);
  }
  char message[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  std::snprintf(g_message, sizeof(g_message), "%s", message);
  std::snprintf(g_object, sizeof(g_object), "%s", object != nullptr ? object : "");

  task_struct* t = current();
  std::fprintf(stderr, "==mcfuzz== REPORT %s: %s\n", report_kind_name(kind), message);
  if (object != nullptr) std::fprintf(stderr, "==mcfuzz== object: %s\n", object);
  std::fprintf(stderr, "==mcfuzz== call: t%d %s%s%s%s\n", t->tid,
               t->call ? t->call : "(no system call)", t->call_detail ? "(" : "",
               t->call_detail ? t->call_detail : "", t->call_detail ? ")" : "");
  std::fprintf(stderr, "==mcfuzz== context: %s%s\n", t->in_irq ? "irq " : "",
               t->atomic_depth > 0 ? "atomic" : "process");
  std::fprintf(stderr, "==mcfuzz== locks held:");
  if (t->held_locks.empty()) std::fprintf(stderr, " none");
  for (const held_lock& h : t->held_locks) std::fprintf(stderr, " %s", h.lock_class);
  std::fprintf(stderr, "\n");
  if (__sanitizer_print_stack_trace != nullptr) __sanitizer_print_stack_trace();
  std::fprintf(stderr, "==mcfuzz== END REPORT %s\n", report_kind_name(kind));
  if (ReportCallback cb = g_report_callback.load()) cb(kind);
  std::fflush(stderr);
  std::abort();
}

}  // namespace mcf
