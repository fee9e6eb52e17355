// One program call: resolution of its operands and the system call or device
// event itself. See executor.h for the semantics of each kind.
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/kernel/devtmpfs.h"
#include "core/kernel/hooks.h"
#include "core/kernel/hw.h"
#include "core/kernel/lock.h"
#include "core/kernel/platform.h"
#include "core/kernel/task.h"
#include "fuzzers/exec/exec_state.h"
#include "fuzzers/exec/fail_nth.h"
#include "fuzzers/prog/ioctl_desc.h"

namespace mcf::fuzz {
namespace {

// A device event (plug, bind, irq, register_driver...) as the model sees a
// system call: named on the task for reports, a hook point at entry and
// exit, and no lock held on return.
class EventScope {
 public:
  EventScope(const char* call, const char* detail) : t_(current()) {
    saved_call_ = t_->call;
    saved_detail_ = t_->call_detail;
    t_->call = call;
    t_->call_detail = detail;
    hook(HookKind::kCallEntry, "event", nullptr, call);
  }
  ~EventScope() {
    lockdep_assert_no_locks_held(t_->call);
    hook(HookKind::kCallExit, "event", nullptr, t_->call);
    t_->call = saved_call_;
    t_->call_detail = saved_detail_;
  }
  EventScope(const EventScope&) = delete;
  EventScope& operator=(const EventScope&) = delete;

 private:
  task_struct* t_;
  const char* saved_call_;
  const char* saved_detail_;
};

int row_of(const ExecInput& in, uint8_t driver) {
  return static_cast<int>(driver % in.drivers.size());
}

// The model fd of the call that produced resource `fd`, or -1.
int fd_of(const ExecInput& in, int16_t fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= in.prog.calls.size()) return -1;
  return in.fds[fd].load(std::memory_order_acquire);
}

// "/dev/<kind>N" of the device's nodes, or "" when it has none of that kind.
std::string resolve_node(const ExecInput& in, const NodeRef& node) {
  std::string owner = exec_device_name(in.drivers, row_of(in, node.dev.driver), node.dev.id);
  auto kind = static_cast<uint8_t>(node.kind) < static_cast<uint8_t>(NodeKind::kCount)
                  ? node.kind
                  : NodeKind::kMedia;
  std::vector<std::string> nodes = devtmpfs_nodes_of(owner, node_kind_prefix(kind));
  if (nodes.empty()) return "";
  return nodes[node.index % nodes.size()];
}

user_addr_t scratch_of(const ExecInput& in, uint8_t thread) {
  return in.proc.mem().base + (thread % kMaxThreads) * kExecScratchSize;
}

// Writes the IoctlArg's fields into a zeroed argument struct at the thread's
// scratch address and returns that address.
user_addr_t marshal_ioctl(ExecInput& in, const Call& c, const IoctlDesc& d) {
  uint8_t buf[kExecScratchSize] = {};
  size_t size = d.arg_size < sizeof(buf) ? d.arg_size : sizeof(buf);
  user_addr_t data = in.proc.mem().base + kExecDataOffset;
  for (size_t i = 0; i < d.fields.size() && i < c.ioctl.fields.size(); ++i) {
    const FieldDesc& f = d.fields[i];
    uint64_t v = c.ioctl.fields[i];
    if (f.type == FieldType::kUserPtr)
      v = user_ptr_is_raw(v) ? user_ptr_value(v) : data + user_ptr_value(v);  // may leave the arena
    if (f.offset + f.size > size) continue;
    if (f.size == 8) {
      std::memcpy(buf + f.offset, &v, 8);
    } else {
      auto v32 = static_cast<uint32_t>(v);
      std::memcpy(buf + f.offset, &v32, 4);
    }
  }
  user_addr_t at = scratch_of(in, c.thread);
  in.proc.mem().write(at, buf, size);
  return at;
}

long platform_call(ExecInput& in, const Call& c) {
  int row = row_of(in, c.dev.driver);
  std::string name = exec_device_name(in.drivers, row, c.dev.id);
  EventScope scope(call_kind_name(c.kind), name.c_str());
  if (c.kind == CallKind::kPlug) return in.devices.plug(row, c.dev.id);
  if (c.kind == CallKind::kUnplug) return in.devices.unplug(row, c.dev.id);
  // The rest act on whatever device has the name (the lookup's reference
  // keeps it for the call, as sysfs does).
  platform_device* pdev = platform_find_device(name.c_str());
  if (pdev == nullptr) return -ENODEV;
  long ret = 0;
  if (c.kind == CallKind::kBind) {
    // Registered drivers only; the struct itself is static in its library.
    device_driver* drv = bus_find_driver_by_name(&platform_bus_type, in.drivers[row].name);
    ret = drv == nullptr ? -ENODEV : device_driver_attach(drv, &pdev->dev);
  } else if (c.kind == CallKind::kUnbind) {
    device_release_driver(&pdev->dev);
  } else if (c.kind == CallKind::kIrq) {
    ret = pdev->irqs.empty() ? -ENXIO : irq_fire(pdev->irqs[c.irq_line % pdev->irqs.size()]);
  }
  put_device(&pdev->dev);
  return ret;
}

long driver_call(ExecInput& in, const Call& c) {
  int row = row_of(in, c.driver);
  EventScope scope(call_kind_name(c.kind), in.drivers[row].name);
  return c.kind == CallKind::kRegisterDriver ? in.driver_set.register_row(row)
                                             : in.driver_set.unregister_row(row);
}

long run(ExecInput& in, size_t index) {
  const Call& c = in.prog.calls[index];
  process& proc = in.proc;
  // An empty driver table has no device, node or driver to name.
  if (in.drivers.empty() && c.kind != CallKind::kClose && c.kind != CallKind::kDup &&
      c.kind != CallKind::kIoctl && c.kind != CallKind::kPoll)
    return c.kind == CallKind::kOpen ? -ENOENT : -ENODEV;
  switch (c.kind) {
    case CallKind::kOpen: {
      std::string path = resolve_node(in, c.node);
      if (path.empty()) return -ENOENT;
      unsigned flags = c.flags | (in.sequential() ? O_NONBLOCK_ : 0);
      return proc.open(path, flags);
    }
    case CallKind::kClose: return proc.close(fd_of(in, c.fd));
    case CallKind::kDup: return proc.dup(fd_of(in, c.fd));
    case CallKind::kIoctl: {
      const auto& table = ioctl_table();
      const IoctlDesc& d = table[c.ioctl.desc % table.size()];
      user_addr_t arg = marshal_ioctl(in, c, d);
      return proc.ioctl(fd_of(in, c.fd), d.cmd, arg);
    }
    case CallKind::kPoll:
      return proc.poll(fd_of(in, c.fd), c.flags, c.block && !in.sequential());
    case CallKind::kBind:
    case CallKind::kUnbind:
    case CallKind::kPlug:
    case CallKind::kUnplug:
    case CallKind::kIrq: return platform_call(in, c);
    case CallKind::kRegisterDriver:
    case CallKind::kUnregisterDriver: return driver_call(in, c);
    case CallKind::kCount: break;
  }
  return -EINVAL;
}

}  // namespace

void exec_call(ExecInput& in, size_t index) {
  const Call& c = in.prog.calls[index];
  CallResult& r = in.results[index];
  {
    FailNthScope fail(c.fail_nth, in.opts.record_fault_points ? &r.fault_points : nullptr);
    r.ret = run(in, index);
    r.fault_site = fail.failed_site();
  }
  if (call_makes_fd(c.kind) && r.ret >= 0) in.fds[index].store(static_cast<int>(r.ret));
  // Teardown begins only when every unfinished thread sleeps, so a call
  // returning after it began was asleep then.
  r.status = in.stopping.load() ? CallStatus::kInterrupted : CallStatus::kDone;
}

}  // namespace mcf::fuzz
