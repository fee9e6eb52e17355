// FaultInjectors (core/kernel/fault.h) for tests that drive the model
// directly, each installed for its lifetime:
//  - FailAt: the n-th failure point (0-based) reached while armed fails, and
//    site() says which kind it was; one thread at a time (the tests arm it
//    around one probe or one call);
//  - FailKind: every point of one kind fails ("device_add"), hits counts them.
#pragma once

#include <atomic>
#include <cstring>
#include <string>

#include "core/kernel/fault.h"

namespace mcf::testing {

class FailAt : public FaultInjector {
 public:
  explicit FailAt(int n) : n_(n) { set_fault_injector(this); }
  ~FailAt() override { set_fault_injector(nullptr); }
  FailAt(const FailAt&) = delete;
  FailAt& operator=(const FailAt&) = delete;

  bool should_fail(const fault_site& site) override {
    if (!armed_ || seen_++ != n_) return false;
    site_ = site.kind;
    return true;
  }
  void arm(bool on) { armed_ = on; }
  bool fired() const { return !site_.empty(); }
  const std::string& site() const { return site_; }  // "kzalloc", "device_add", ...

 private:
  const int n_;
  bool armed_ = false;
  int seen_ = 0;
  std::string site_;
};

class FailKind : public FaultInjector {
 public:
  explicit FailKind(const char* kind) : kind_(kind) { set_fault_injector(this); }
  ~FailKind() override { set_fault_injector(nullptr); }
  FailKind(const FailKind&) = delete;
  FailKind& operator=(const FailKind&) = delete;

  bool should_fail(const fault_site& site) override {
    if (std::strcmp(site.kind, kind_) != 0) return false;
    hits.fetch_add(1);
    return true;
  }
  std::atomic<int> hits{0};

 private:
  const char* kind_;
};

}  // namespace mcf::testing
