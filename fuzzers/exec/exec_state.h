// Internal to the executor: the state of one input, shared by the program
// threads and the caller, and the executor's own tables of what it plugged
// and registered. See executor.h for the semantics.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "core/fs/process.h"
#include "drivers/driver_table.h"
#include "fuzzers/exec/executor.h"

namespace mcf::fuzz {

// User arena layout of the executor's process: one scratch area per program
// thread for ioctl argument structs, then the data region that kUserPtr
// offsets point into.
constexpr size_t kExecScratchSize = 2048;
constexpr size_t kExecDataOffset = kExecScratchSize * kMaxThreads;
constexpr size_t kExecArenaSize = 64 * 1024;

// The platform devices the executor made, each with the creation reference
// add_device() returned. A slot is kBusy while one thread plugs or unplugs
// it, so two threads never both create or both put the same device, and the
// model is never called with this table's lock held (an unplug may sleep
// until calls in flight leave, R13).
class DeviceTable {
 public:
  explicit DeviceTable(const std::vector<driver_desc>& drivers) : drivers_(drivers) {}
  ~DeviceTable();  // unplugs what is left (teardown normally did)

  long plug(int row, int id);    // 0, -EEXIST, or -ENOMEM when add_device failed
  long unplug(int row, int id);  // 0, or -ENODEV when the executor holds no such device
  // Unplugs every device present; one another thread is plugging or
  // unplugging is left to that thread. Returns how many it unplugged.
  int unplug_all();

 private:
  enum class State { kBusy, kPresent };
  struct Slot {
    State state;
    platform_device* pdev;
  };
  const std::vector<driver_desc>& drivers_;
  std::mutex m_;
  std::map<std::pair<int, int>, Slot> slots_;  // (row, id)
};

// The drivers the executor registered, by row; same kBusy discipline.
class DriverSet {
 public:
  explicit DriverSet(const std::vector<driver_desc>& drivers) : drivers_(drivers) {}
  ~DriverSet();

  long register_row(int row);    // the row's result, or -EBUSY when registered here
  long unregister_row(int row);  // 0, or -ENODEV when the executor did not register it
  void unregister_all();

 private:
  enum class State { kBusy, kRegistered };
  const std::vector<driver_desc>& drivers_;
  std::mutex m_;
  std::map<int, State> rows_;
};

struct ExecInput {
  ExecInput(const Program& p, const ExecOptions& o, const std::vector<driver_desc>& drivers,
            process& proc)
      : prog(p), opts(o), drivers(drivers), proc(proc), results(p.calls.size()),
        fds(new std::atomic<int>[p.calls.size() + 1]), devices(drivers), driver_set(drivers) {
    for (size_t i = 0; i <= p.calls.size(); ++i) fds[i].store(-1, std::memory_order_relaxed);
  }

  const Program& prog;
  const ExecOptions& opts;
  const std::vector<driver_desc>& drivers;
  process& proc;
  bool sequential() const { return opts.mode == ExecMode::kSequential; }

  // Each written by the thread that runs the call; read by the caller after
  // the pool's wait (its mutex orders them).
  std::vector<CallResult> results;
  // The fd each open/dup returned (-1: failed or not yet run). Read by the
  // calls of other threads that use it, hence atomic.
  std::unique_ptr<std::atomic<int>[]> fds;
  // Set when teardown begins: program threads start no further call.
  std::atomic<bool> stopping{false};
  DeviceTable devices;
  DriverSet driver_set;
};

// Runs call `index` of the program on the calling thread and records its
// result (exec_calls.cc).
void exec_call(ExecInput& in, size_t index);

// The platform device name of (row, id): "<driver>.<id>".
std::string exec_device_name(const std::vector<driver_desc>& drivers, int row, int id);

}  // namespace mcf::fuzz
