// refcount_t and kref, after include/linux/refcount.h and include/linux/kref.h.
//
// Same semantics and the same three warnings as lib/refcount.c, except that a
// warning here is a report (and an abort), not a log line:
//   - increment from 0        "refcount_t: addition on 0; use-after-free"
//   - decrement below 0       "refcount_t: underflow; use-after-free"
//   - overflow past INT_MAX   "refcount_t: saturated; leaking memory"
// Every operation is a hook point (kRefGet / kRefPut) naming the object class
// given at init, so a scheduler can preempt between a get and its use.
#pragma once

#include <atomic>
#include <climits>

namespace mcf {

// A counter that never rises again once it reached zero (R11).
class refcount_t {
 public:
  // Value the kernel parks a broken counter at (REFCOUNT_SATURATED).
  static constexpr int kSaturated = INT_MIN / 2;

  refcount_t() = default;
  refcount_t(const refcount_t&) = delete;
  refcount_t& operator=(const refcount_t&) = delete;

  // `object_class` names the owner in hooks and reports; a string literal.
  void init(int value, const char* object_class);
  int read() const { return value_.load(std::memory_order_relaxed); }
  const char* object_class() const { return class_; }

  void inc();               // refcount_inc
  bool inc_not_zero();      // refcount_inc_not_zero: false once the count hit 0
  bool dec_and_test();      // refcount_dec_and_test: true when this put was the last
  void dec();               // refcount_dec: must not reach 0

  // Test hook: sets the raw value, as refcount_set() does.
  void set(int value) { value_.store(value, std::memory_order_relaxed); }

 private:
  std::atomic<int> value_{0};
  const char* class_ = "refcount_t";
};

struct kref {
  refcount_t refcount;
};

inline void kref_init(kref* k, const char* object_class) { k->refcount.init(1, object_class); }
inline unsigned kref_read(const kref* k) { return static_cast<unsigned>(k->refcount.read()); }
inline void kref_get(kref* k) { k->refcount.inc(); }
// kref_get_unless_zero: the try_get of R3/R7/R10; fails once the count is 0.
inline bool kref_get_unless_zero(kref* k) { return k->refcount.inc_not_zero(); }
// Drops a reference; calls `release` (once) when it was the last. Returns 1 if
// the object was released, as the kernel's kref_put does.
inline int kref_put(kref* k, void (*release)(kref*)) {
  if (k->refcount.dec_and_test()) {
    release(k);
    return 1;
  }
  return 0;
}

}  // namespace mcf
