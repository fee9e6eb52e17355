// Simulated hardware: see hw.h.
#include "core/kernel/hw.h"

#include <cerrno>
#include <map>
#include <mutex>

#include "core/kernel/device.h"
#include "core/kernel/fault.h"
#include "core/kernel/hooks.h"
#include "core/kernel/lock.h"
#include "core/kernel/report.h"
#include "core/kernel/task.h"

namespace mcf {
namespace {

void check_hw_live(const hw_state* hw, const char* what, uint32_t offset) {
  if (!hw->live.load(std::memory_order_acquire)) {
    report(ReportKind::kHwAccessAfterRemove, hw->owner.c_str(),
           "%s at offset 0x%x of %s after its driver's remove() returned", what, offset,
           hw->owner.c_str());
  }
}

void check_offset(const iomem* base, uint32_t offset) {
  if (offset % 4 != 0 || offset / 4 >= base->regs.size()) {
    report(ReportKind::kBug, base->hw->owner.c_str(), "register offset 0x%x out of range", offset);
  }
}

// One interrupt line. `run` is held while the handler runs and while the
// handler is changed, which is what makes free_irq() synchronous.
struct irq_desc {
  explicit irq_desc(std::shared_ptr<hw_state> hw) : hw(std::move(hw)) {}
  std::shared_ptr<hw_state> hw;
  std::mutex run;
  irq_handler_t handler = nullptr;
  void* dev_id = nullptr;
  const char* name = nullptr;
};

struct IrqTable {
  std::mutex m;
  int next = 16;  // low numbers look like legacy lines; start above them
  std::map<int, std::shared_ptr<irq_desc>> lines;
};
IrqTable& irq_table() {
  static IrqTable* t = new IrqTable();
  return *t;
}

std::shared_ptr<irq_desc> irq_to_desc(unsigned irq) {
  IrqTable& t = irq_table();
  std::lock_guard<std::mutex> g(t.m);
  auto it = t.lines.find(static_cast<int>(irq));
  return it == t.lines.end() ? nullptr : it->second;
}

struct devm_irq {
  unsigned irq;
  void* dev_id;
};

}  // namespace

uint32_t readl(const iomem* base, uint32_t offset) {
  check_offset(base, offset);
  check_hw_live(base->hw.get(), "readl", offset);
  return base->regs[offset / 4].load(std::memory_order_relaxed);
}

void writel(uint32_t value, iomem* base, uint32_t offset) {
  check_offset(base, offset);
  check_hw_live(base->hw.get(), "writel", offset);
  base->regs[offset / 4].store(value, std::memory_order_relaxed);
}

int irq_line_alloc(std::shared_ptr<hw_state> hw) {
  IrqTable& t = irq_table();
  std::lock_guard<std::mutex> g(t.m);
  int irq = t.next++;
  t.lines[irq] = std::make_shared<irq_desc>(std::move(hw));
  return irq;
}

void irq_line_free(int irq) {
  IrqTable& t = irq_table();
  std::lock_guard<std::mutex> g(t.m);
  t.lines.erase(irq);
}

int request_irq(unsigned irq, irq_handler_t handler, unsigned long flags, const char* name,
                void* dev_id) {
  std::shared_ptr<irq_desc> desc = irq_to_desc(irq);
  if (desc == nullptr || handler == nullptr) return -EINVAL;
  // Upstream: the irqaction allocation.
  if (int err = fault_point("request_irq", name != nullptr ? name : "", -ENOMEM)) return err;
  SchedMutexGuard g(desc->run, "irq_desc.run");
  if (desc->handler != nullptr) return -EBUSY;
  desc->handler = handler;
  desc->dev_id = dev_id;
  desc->name = name;
  return 0;
}

void free_irq(unsigned irq, void* dev_id) {
  might_sleep("free_irq");
  std::shared_ptr<irq_desc> desc = irq_to_desc(irq);
  if (desc == nullptr) {
    report(ReportKind::kWarn, nullptr, "Trying to free IRQ %u which does not exist", irq);
  }
  SchedMutexGuard g(desc->run, "irq_desc.run");  // waits for a running handler
  if (desc->handler == nullptr || desc->dev_id != dev_id) {
    report(ReportKind::kWarn, nullptr, "Trying to free already-free IRQ %u", irq);
  }
  desc->handler = nullptr;
  desc->dev_id = nullptr;
  desc->name = nullptr;
}

int devm_request_irq(device* dev, unsigned irq, irq_handler_t handler, unsigned long flags,
                     const char* name, void* dev_id) {
  devm_irq* d = kzalloc<devm_irq>();
  if (d == nullptr) return -ENOMEM;
  d->irq = irq;
  d->dev_id = dev_id;
  int ret = request_irq(irq, handler, flags, name, dev_id);
  if (ret == 0) {
    ret = devm_add_action(
        dev,
        [](device*, void* data) {
          devm_irq* di = static_cast<devm_irq*>(data);
          free_irq(di->irq, di->dev_id);
          kfree(di);
        },
        d, "devm_request_irq");
    if (ret != 0) free_irq(irq, dev_id);
  }
  if (ret != 0) kfree(d);
  return ret;
}

int irq_fire(unsigned irq) {
  std::shared_ptr<irq_desc> desc = irq_to_desc(irq);
  if (desc == nullptr) return -EINVAL;
  hook(HookKind::kIrq, "irq", desc.get(), desc->hw->owner.c_str());
  SchedMutexGuard g(desc->run, "irq_desc.run");
  if (desc->handler == nullptr) return 0;
  if (!desc->hw->live.load(std::memory_order_acquire)) {
    report(ReportKind::kIrqAfterRemove, desc->hw->owner.c_str(),
           "IRQ %u handler '%s' of %s ran after its driver's remove() returned", irq,
           desc->name ? desc->name : "?", desc->hw->owner.c_str());
  }
  // The handler runs in hard-IRQ context: sleeping there is a report.
  task_struct* t = current();
  bool was_in_irq = t->in_irq;
  t->in_irq = true;
  ++t->atomic_depth;
  desc->handler(static_cast<int>(irq), desc->dev_id);
  --t->atomic_depth;
  t->in_irq = was_in_irq;
  return 1;
}

}  // namespace mcf
