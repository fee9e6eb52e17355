// Test helpers for the executor (fuzzers/exec), header-only (it needs the
// fuzzers libraries, which only fuzzers_tests links): a driver table made of the
// test-only drivers of tests/support, so the executor can be tested before
// and besides the real driver models, and a small builder for hand-written
// programs whose calls return their index (the resource later calls name).
#pragma once

#include <linux/media.h>
#include <linux/videodev2.h>

#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

#include "drivers/driver_table.h"
#include "fuzzers/exec/executor.h"
#include "fuzzers/prog/ioctl_desc.h"
#include "fuzzers/prog/prog.h"
#include "tests/support/test_media_driver.h"
#include "tests/support/test_sensor_bridge.h"
#include "tests/support/test_video_driver.h"

namespace mcf::testing {

// Rows of exec_test_drivers().
constexpr uint8_t kRowVideo = 0;   // "mcf-test-video": /dev/videoN, IRQ frames
constexpr uint8_t kRowMedia = 1;   // "mcf-test-media": /dev/mediaN, 4 entities
constexpr uint8_t kRowSensor = 2;  // "mcf-test-sensor": a sub-device node
constexpr uint8_t kRowBridge = 3;  // "mcf-test-bridge": media + sub-device, async
inline const std::vector<driver_desc>& exec_test_drivers();

// Options running on exec_test_drivers() in `mode`.
inline fuzz::ExecOptions exec_test_options(fuzz::ExecMode mode);

// Builds a Program call by call. Each method appends one call on `thread`
// and returns its index (a resource for the fd-taking calls).
class ProgBuilder {
 public:
  int open(uint8_t thread, uint8_t row, uint8_t id, fuzz::NodeKind kind, uint8_t index = 0,
           uint32_t flags = 02 /* O_RDWR */);
  int close(uint8_t thread, int fd);
  int dup(uint8_t thread, int fd);
  // `fields` by name ("count", "type", ...); unnamed fields are 0.
  int ioctl(uint8_t thread, int fd, const char* name,
            std::initializer_list<std::pair<const char*, uint64_t>> fields = {});
  int poll(uint8_t thread, int fd, uint32_t events, bool block);
  int dev(uint8_t thread, fuzz::CallKind kind, uint8_t row, uint8_t id, uint8_t irq_line = 0);
  int driver(uint8_t thread, fuzz::CallKind kind, uint8_t row);
  // Sets fail_nth of the last call.
  ProgBuilder& fail_nth(uint32_t n);
  // The capture sequence on video fd `fd`: REQBUFS(count), QBUF of buffers
  // [0, queued), STREAMON. Returns the index of STREAMON.
  int start_capture(uint8_t thread, int fd, uint32_t count, uint32_t queued);

  const fuzz::Program& program() const { return p_; }

 private:
  int add(const fuzz::Call& c);
  fuzz::Program p_;
};

// "0: t0 open = 3 [done] ..." for failure messages.
inline std::string describe(const fuzz::Program& p, const fuzz::ExecResult& r);

inline const std::vector<driver_desc>& exec_test_drivers() {
  static const std::vector<driver_desc> table = {
      {kTestVideoDriverName, "test capture driver (tests/support)", test_video_driver_register,
       test_video_driver_unregister, [](int id) { return test_video_device_add(id); }},
      {kTestMediaDriverName, "test media driver (tests/support)", test_media_driver_register,
       test_media_driver_unregister, test_media_device_add},
      {kTestSensorDriverName, "test sensor (tests/support)", test_sensor_driver_register,
       test_sensor_driver_unregister, test_sensor_add},
      {kTestBridgeDriverName, "test bridge (tests/support)", test_bridge_driver_register,
       test_bridge_driver_unregister, test_bridge_add},
  };
  return table;
}

inline fuzz::ExecOptions exec_test_options(fuzz::ExecMode mode) {
  fuzz::ExecOptions o;
  o.mode = mode;
  o.drivers = &exec_test_drivers();
  return o;
}

inline int ProgBuilder::add(const fuzz::Call& c) {
  p_.calls.push_back(c);
  return static_cast<int>(p_.calls.size() - 1);
}

inline int ProgBuilder::open(uint8_t thread, uint8_t row, uint8_t id, fuzz::NodeKind kind, uint8_t index,
                      uint32_t flags) {
  fuzz::Call c;
  c.kind = fuzz::CallKind::kOpen;
  c.thread = thread;
  c.node = fuzz::NodeRef{fuzz::DeviceRef{row, id}, kind, index};
  c.flags = flags;
  return add(c);
}

inline int ProgBuilder::close(uint8_t thread, int fd) {
  fuzz::Call c;
  c.kind = fuzz::CallKind::kClose;
  c.thread = thread;
  c.fd = static_cast<int16_t>(fd);
  return add(c);
}

inline int ProgBuilder::dup(uint8_t thread, int fd) {
  fuzz::Call c;
  c.kind = fuzz::CallKind::kDup;
  c.thread = thread;
  c.fd = static_cast<int16_t>(fd);
  return add(c);
}

inline int ProgBuilder::ioctl(uint8_t thread, int fd, const char* name,
                       std::initializer_list<std::pair<const char*, uint64_t>> fields) {
  int row = fuzz::find_ioctl(name);
  if (row < 0) std::abort();  // a typo in a test
  const fuzz::IoctlDesc& d = fuzz::ioctl_table()[row];
  fuzz::Call c;
  c.kind = fuzz::CallKind::kIoctl;
  c.thread = thread;
  c.fd = static_cast<int16_t>(fd);
  c.ioctl.desc = static_cast<uint16_t>(row);
  c.ioctl.fields.assign(d.fields.size(), 0);
  for (const auto& [field, value] : fields) {
    size_t i = 0;
    while (i < d.fields.size() && std::string(d.fields[i].name) != field) ++i;
    if (i == d.fields.size()) std::abort();
    c.ioctl.fields[i] = value;
  }
  return add(c);
}

inline int ProgBuilder::poll(uint8_t thread, int fd, uint32_t events, bool block) {
  fuzz::Call c;
  c.kind = fuzz::CallKind::kPoll;
  c.thread = thread;
  c.fd = static_cast<int16_t>(fd);
  c.flags = events;
  c.block = block;
  return add(c);
}

inline int ProgBuilder::dev(uint8_t thread, fuzz::CallKind kind, uint8_t row, uint8_t id,
                     uint8_t irq_line) {
  fuzz::Call c;
  c.kind = kind;
  c.thread = thread;
  c.dev = fuzz::DeviceRef{row, id};
  c.irq_line = irq_line;
  return add(c);
}

inline int ProgBuilder::driver(uint8_t thread, fuzz::CallKind kind, uint8_t row) {
  fuzz::Call c;
  c.kind = kind;
  c.thread = thread;
  c.driver = row;
  return add(c);
}

inline ProgBuilder& ProgBuilder::fail_nth(uint32_t n) {
  p_.calls.back().fail_nth = n;
  return *this;
}

inline int ProgBuilder::start_capture(uint8_t thread, int fd, uint32_t count, uint32_t queued) {
  ioctl(thread, fd, "VIDIOC_REQBUFS",
        {{"count", count}, {"type", V4L2_BUF_TYPE_VIDEO_CAPTURE}, {"memory", V4L2_MEMORY_MMAP}});
  for (uint32_t i = 0; i < queued; ++i) {
    ioctl(thread, fd, "VIDIOC_QBUF",
          {{"index", i}, {"type", V4L2_BUF_TYPE_VIDEO_CAPTURE}, {"memory", V4L2_MEMORY_MMAP}});
  }
  return ioctl(thread, fd, "VIDIOC_STREAMON", {{"type", V4L2_BUF_TYPE_VIDEO_CAPTURE}});
}

inline std::string describe(const fuzz::Program& p, const fuzz::ExecResult& r) {
  std::string out;
  for (size_t i = 0; i < p.calls.size() && i < r.calls.size(); ++i) {
    const fuzz::Call& c = p.calls[i];
    out += "\n  " + std::to_string(i) + ": t" + std::to_string(c.thread) + " " +
           fuzz::call_kind_name(c.kind);
    if (c.kind == fuzz::CallKind::kIoctl)
      out += std::string(" ") + fuzz::ioctl_table()[c.ioctl.desc].name;
    out += " = " + std::to_string(r.calls[i].ret) + " [" +
           fuzz::call_status_name(r.calls[i].status) + "]";
    if (r.calls[i].fault_site != nullptr) out += std::string(" fault=") + r.calls[i].fault_site;
  }
  return out;
}

}  // namespace mcf::testing
