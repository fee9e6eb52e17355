// refcount_t: see refcount.h. Mirrors lib/refcount.c's checks.
#include "core/kernel/refcount.h"

#include <cstdio>

#include "core/kernel/hooks.h"
#include "core/kernel/report.h"

namespace mcf {
namespace {
[[noreturn]] void refcount_report(ReportKind kind, const refcount_t* r, const char* what) {
  char object[96];
  std::snprintf(object, sizeof(object), "%s %p", r->object_class(), static_cast<const void*>(r));
  report(kind, object, "refcount_t: %s", what);
}
}  // namespace

void refcount_t::init(int value, const char* object_class) {
  class_ = object_class;
  value_.store(value, std::memory_order_relaxed);
}

void refcount_t::inc() {
  hook(HookKind::kRefGet, class_, this, "inc");
  int old = value_.fetch_add(1, std::memory_order_relaxed);
  if (old == 0) {
    value_.store(kSaturated, std::memory_order_relaxed);
    refcount_report(ReportKind::kRefcountAddOnZero, this, "addition on 0; use-after-free");
  }
  if (old < 0 || old == INT_MAX) {
    value_.store(kSaturated, std::memory_order_relaxed);
    refcount_report(ReportKind::kRefcountSaturated, this, "saturated; leaking memory");
  }
}

bool refcount_t::inc_not_zero() {
  hook(HookKind::kRefGet, class_, this, "inc_not_zero");
  int old = value_.load(std::memory_order_relaxed);
  do {
    if (old == 0) return false;
  } while (!value_.compare_exchange_weak(old, old + 1, std::memory_order_acquire,
                                         std::memory_order_relaxed));
  if (old < 0 || old == INT_MAX) {
    value_.store(kSaturated, std::memory_order_relaxed);
    refcount_report(ReportKind::kRefcountSaturated, this, "saturated; leaking memory");
  }
  return true;
}

bool refcount_t::dec_and_test() {
  hook(HookKind::kRefPut, class_, this, "dec_and_test");
  // Release ordering publishes our writes to whoever frees the object;
  // acquire makes everyone else's visible to the release callback when this
  // is the last put. (acq_rel on the RMW rather than the kernel's release +
  // acquire fence: ThreadSanitizer ignores standalone fences and reported
  // the release callback's free as racing with other threads' puts.)
  int old = value_.fetch_sub(1, std::memory_order_acq_rel);
  if (old == 1) return true;
  if (old <= 0) {
    value_.store(kSaturated, std::memory_order_relaxed);
    refcount_report(ReportKind::kRefcountUnderflow, this, "underflow; use-after-free");
  }
  return false;
}

void refcount_t::dec() {
  hook(HookKind::kRefPut, class_, this, "dec");
  int old = value_.fetch_sub(1, std::memory_order_release);
  if (old <= 1) {
    value_.store(kSaturated, std::memory_order_relaxed);
    refcount_report(ReportKind::kRefcountUnderflow, this,
                    old == 1 ? "decrement hit 0; leaking memory" : "underflow; use-after-free");
  }
}

}  // namespace mcf
