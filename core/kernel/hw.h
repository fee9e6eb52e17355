// Simulated hardware: IRQ lines and register blocks, after
// include/linux/interrupt.h and include/linux/io.h.
//
// Hardware belongs to a device (the platform device that "has" it). It is
// live while a driver is bound: from just before probe() to the moment
// remove() returns. A register access, or an IRQ handler run, outside that
// window is reported (R15): after remove() nothing may touch the hardware, and
// an IRQ must be freed before the memory its handler uses.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mcf {

struct device;

// Shared by a device and everything that reaches its hardware, so a late IRQ
// or register access can be judged after the device itself is gone.
struct hw_state {
  explicit hw_state(std::string owner) : owner(std::move(owner)) {}
  const std::string owner;
  std::atomic<bool> live{false};  // a driver is bound and its remove() has not returned
};

// A block of 32-bit registers (void __iomem *). Offsets are in bytes.
struct iomem {
  iomem(std::shared_ptr<hw_state> hw, size_t num_regs) : hw(std::move(hw)), regs(num_regs) {}
  std::shared_ptr<hw_state> hw;
  std::vector<std::atomic<uint32_t>> regs;
};
uint32_t readl(const iomem* base, uint32_t offset);
void writel(uint32_t value, iomem* base, uint32_t offset);

enum irqreturn_t { IRQ_NONE = 0, IRQ_HANDLED = 1 };
using irq_handler_t = irqreturn_t (*)(int irq, void* dev_id);

// Line management, for the bus that owns the hardware (platform devices).
int irq_line_alloc(std::shared_ptr<hw_state> hw);  // returns the irq number
void irq_line_free(int irq);

// -EINVAL: no such line; -EBUSY: a handler is already installed (lines are not
// shared here). Failure point "request_irq".
int request_irq(unsigned irq, irq_handler_t handler, unsigned long flags, const char* name,
                void* dev_id);
// Removes the handler, waiting for a running one to finish (synchronize_irq),
// so the handler's memory may be freed when it returns. May sleep.
void free_irq(unsigned irq, void* dev_id);
// The devm flavour: freed at devres release, i.e. AFTER remove() returns.
int devm_request_irq(device* dev, unsigned irq, irq_handler_t handler, unsigned long flags,
                     const char* name, void* dev_id);

// Delivers an interrupt on `irq` (a test or the fuzzer plays the hardware).
// Returns -EINVAL for an unknown line, 0 when no handler is installed
// (spurious), 1 when a handler ran.
int irq_fire(unsigned irq);

}  // namespace mcf
