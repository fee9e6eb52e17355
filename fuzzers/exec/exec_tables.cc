// The executor's tables of the devices it plugged and the drivers it
// registered: see exec_state.h.
#include <cerrno>
#include <vector>

#include "fuzzers/exec/exec_state.h"

namespace mcf::fuzz {

std::string exec_device_name(const std::vector<driver_desc>& drivers, int row, int id) {
  return std::string(drivers[row].name) + "." + std::to_string(id);
}

DeviceTable::~DeviceTable() { unplug_all(); }

long DeviceTable::plug(int row, int id) {
  {
    std::lock_guard<std::mutex> g(m_);
    // Reserve the slot first: a second plug of the same device fails here
    // instead of creating a second "<driver>.<id>".
    if (!slots_.emplace(std::pair{row, id}, Slot{State::kBusy, nullptr}).second) return -EEXIST;
  }
  // Probes at once when the driver is registered; may take model locks.
  platform_device* pdev = drivers_[row].add_device(id);
  std::lock_guard<std::mutex> g(m_);
  if (pdev == nullptr) {
    slots_.erase(std::pair{row, id});
    return -ENOMEM;  // add_device() says no more; its failure points are allocations
  }
  slots_[std::pair{row, id}] = Slot{State::kPresent, pdev};
  return 0;
}

long DeviceTable::unplug(int row, int id) {
  platform_device* pdev = nullptr;
  {
    std::lock_guard<std::mutex> g(m_);
    auto it = slots_.find(std::pair{row, id});
    if (it == slots_.end() || it->second.state != State::kPresent) return -ENODEV;
    it->second.state = State::kBusy;
    pdev = it->second.pdev;
  }
  // Unbinds (remove() may wait for calls in flight, R13) and drops the
  // creation reference: the table's, taken by add_device().
  platform_device_unregister(pdev);
  std::lock_guard<std::mutex> g(m_);
  slots_.erase(std::pair{row, id});
  return 0;
}

int DeviceTable::unplug_all() {
  std::vector<std::pair<int, int>> present;
  {
    std::lock_guard<std::mutex> g(m_);
    for (const auto& [key, slot] : slots_)
      if (slot.state == State::kPresent) present.push_back(key);
  }
  int n = 0;
  for (auto [row, id] : present) n += unplug(row, id) == 0;
  return n;
}

DriverSet::~DriverSet() { unregister_all(); }

long DriverSet::register_row(int row) {
  {
    std::lock_guard<std::mutex> g(m_);
    if (!rows_.emplace(row, State::kBusy).second) return -EBUSY;
  }
  long ret = drivers_[row].register_driver();
  std::lock_guard<std::mutex> g(m_);
  if (ret != 0) {
    rows_.erase(row);
  } else {
    rows_[row] = State::kRegistered;
  }
  return ret;
}

long DriverSet::unregister_row(int row) {
  {
    std::lock_guard<std::mutex> g(m_);
    auto it = rows_.find(row);
    if (it == rows_.end() || it->second != State::kRegistered) return -ENODEV;
    it->second = State::kBusy;
  }
  // Unbinds every device the driver drives (their remove() may sleep).
  drivers_[row].unregister_driver();
  std::lock_guard<std::mutex> g(m_);
  rows_.erase(row);
  return 0;
}

void DriverSet::unregister_all() {
  std::vector<int> registered;
  {
    std::lock_guard<std::mutex> g(m_);
    for (const auto& [row, state] : rows_)
      if (state == State::kRegistered) registered.push_back(row);
  }
  for (int row : registered) unregister_row(row);
}

}  // namespace mcf::fuzz
