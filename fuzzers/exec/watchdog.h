// The hang watchdog: one thread per process, started on first use (never
// per input), that turns an input still running after its limit into a
// finding with every program thread's position, before libFuzzer's own
// -timeout would end the process with a bare "timeout" and no positions.
//
//   Watchdog::instance().arm(20000, on_hang);   // the input starts
//   ...                                         // its calls, its teardown
//   Watchdog::instance().disarm();              // it ended
//
// arm() and disarm() are two atomic stores and a clock read: no lock, no
// wake-up of the watchdog thread. The thread polls (every limit/4, at most
// every 250 ms), so a hang is reported between limit and limit + limit/4
// after arm(). `fire` runs on the watchdog thread and is expected not to
// return (it reports and aborts); if it does, the watchdog stops.
//
// Thread safety: arm()/disarm() from one thread at a time (the executor's
// caller); the thread reads their state with a sequence number (odd: armed)
// so it never pairs one input's start with another's limit.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace mcf::fuzz {

class Watchdog {
 public:
  using Fire = void (*)(int limit_ms);

  // The process's watchdog, its thread started on first use. After a fork
  // the child gets its own.
  static Watchdog& instance();

  // From now, `limit_ms` (> 0) until `fire(limit_ms)` unless disarm() first.
  void arm(int limit_ms, Fire fire);
  void disarm();

 private:
  Watchdog();
  void loop();
  void stop();  // at exit: the thread returns and is joined

  std::atomic<uint64_t> seq_{0};  // odd while armed
  std::atomic<int64_t> start_ms_{0};
  std::atomic<int> limit_ms_{0};
  std::atomic<Fire> fire_{nullptr};
  std::mutex m_;  // for the thread's sleep and stop() only
  std::condition_variable cv_;
  bool quit_ = false;  // guarded by m_
  std::thread thread_;
};

}  // namespace mcf::fuzz
