// Object accounting: see live_objects.h.
#include "core/kernel/live_objects.h"

#include <memory>
#include <mutex>

#include "core/kernel/report.h"

namespace mcf {
namespace {
struct Registry {
  std::mutex m;
  std::map<std::string, std::unique_ptr<std::atomic<long>>> counters;
};
Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}
}  // namespace

std::atomic<long>* live_counter(const char* type_name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.m);
  auto& slot = r.counters[type_name];
  if (!slot) slot = std::make_unique<std::atomic<long>>(0);
  return slot.get();
}

std::map<std::string, long> live_objects_snapshot() {
  Registry& r = registry();
  std::lock_guard<std::mutex> g(r.m);
  std::map<std::string, long> out;
  for (const auto& [name, c] : r.counters) out[name] = c->load();
  return out;
}

long live_objects_count(const std::string& type_name) {
  auto snap = live_objects_snapshot();
  auto it = snap.find(type_name);
  return it == snap.end() ? 0 : it->second;
}

long live_objects_total() {
  long total = 0;
  for (const auto& [name, n] : live_objects_snapshot()) total += n;
  return total;
}

void live_objects_check_all_released(const char* when) {
  std::string alive;
  for (const auto& [name, n] : live_objects_snapshot()) {
    if (n != 0) alive += " " + name + "=" + std::to_string(n);
  }
  if (!alive.empty()) {
    report(ReportKind::kLeak, nullptr, "objects alive %s:%s", when, alive.c_str());
  }
}

}  // namespace mcf
