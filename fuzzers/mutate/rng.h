// The mutator's random source: splitmix64 (Steele, Lea, Flood, "Fast
// splittable pseudorandom number generators", OOPSLA 2014), seeded from the
// libFuzzer seed. Small, explicit and the same on every platform, so a
// (program, seed) pair always gives the same mutation; never std::random_device
// or a <random> distribution, whose output differs between standard libraries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mcf::fuzz {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); 0 when n is 0.
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  // Uniform in [lo, hi].
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
  // True with probability 1/n.
  bool one_of(uint64_t n) { return below(n) == 0; }
  // True with probability pct/100.
  bool percent(unsigned pct) { return below(100) < pct; }
  // Small numbers far more often than large ones: 0..n-1, halving each step.
  uint64_t small(uint64_t n) {
    uint64_t v = 0;
    while (v + 1 < n && next() & 1) ++v;
    return v;
  }
  // An index in [0, n) biased towards the end (syzkaller inserts near the end).
  size_t biased_end(size_t n) {
    if (n == 0) return 0;
    size_t a = below(n), b = below(n);
    return a > b ? a : b;
  }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

 private:
  uint64_t state_;
};

}  // namespace mcf::fuzz
