// Test scaffolding: see hook_recorder.h.
#include "tests/support/hook_recorder.h"

namespace mcf::testing {

HookRecorder::HookRecorder() { set_hook_sink(this); }
HookRecorder::~HookRecorder() { set_hook_sink(nullptr); }

void HookRecorder::on_hook(const HookPoint& point) {
  std::lock_guard<std::mutex> g(m_);
  points_.push_back(RecordedHook{point.kind, point.object_class ? point.object_class : "",
                                 point.object, point.label ? point.label : ""});
  cv_.notify_all();
}

std::vector<RecordedHook> HookRecorder::points() {
  std::lock_guard<std::mutex> g(m_);
  return points_;
}

int HookRecorder::count(HookKind kind, const std::string& object_class) {
  std::lock_guard<std::mutex> g(m_);
  int n = 0;
  for (const RecordedHook& p : points_)
    n += p.kind == kind && (object_class.empty() || p.object_class == object_class);
  return n;
}

void HookRecorder::wait_for(HookKind kind, const std::string& object_class, int n) {
  std::unique_lock<std::mutex> g(m_);
  cv_.wait(g, [&] {
    int seen = 0;
    for (const RecordedHook& p : points_)
      seen += p.kind == kind && (object_class.empty() || p.object_class == object_class);
    return seen >= n;
  });
}

}  // namespace mcf::testing
