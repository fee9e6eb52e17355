// Test scaffolding: a HookSink that records every hook point reached while it
// is installed, and lets a test wait until some thread reached a given point
// (e.g. "the poller is asleep" = a kWaitSleep on "poll").
//
// Installed by the constructor, removed by the destructor. Install it before
// starting the threads whose hooks it should see (hooks.h).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/kernel/hooks.h"

namespace mcf::testing {

struct RecordedHook {
  HookKind kind;
  std::string object_class;
  const void* object;
  std::string label;
};

class HookRecorder : public HookSink {
 public:
  HookRecorder();
  ~HookRecorder() override;

  void on_hook(const HookPoint& point) override;

  std::vector<RecordedHook> points();
  // Points of `kind` whose object class is `object_class` ("" = any class).
  int count(HookKind kind, const std::string& object_class = "");
  // Blocks until count(kind, object_class) >= n.
  void wait_for(HookKind kind, const std::string& object_class, int n);

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<RecordedHook> points_;
};

}  // namespace mcf::testing
