// Object accounting: a live count per model type.
//
// A model struct inherits Tracked<T> and names itself with
//   static constexpr const char kObjName[] = "media_entity";
// Construction counts it, destruction uncounts it, wherever it lives (heap,
// embedded in a driver struct). After teardown every count must be zero; a
// test or the fuzz executor checks that with live_objects_check_all_released().
#pragma once

#include <atomic>
#include <map>
#include <string>

namespace mcf {

std::atomic<long>* live_counter(const char* type_name);

template <typename T>
class Tracked {
 public:
  Tracked() { counter()->fetch_add(1, std::memory_order_relaxed); }
  Tracked(const Tracked&) { counter()->fetch_add(1, std::memory_order_relaxed); }
  Tracked& operator=(const Tracked&) = default;
  ~Tracked() { counter()->fetch_sub(1, std::memory_order_relaxed); }

 private:
  static std::atomic<long>* counter() {
    static std::atomic<long>* c = live_counter(T::kObjName);
    return c;
  }
};

// Every type seen so far and its live count, in name order.
std::map<std::string, long> live_objects_snapshot();
long live_objects_count(const std::string& type_name);
long live_objects_total();
// Reports kLeak, listing each type still alive, unless every count is zero.
void live_objects_check_all_released(const char* when);

}  // namespace mcf
