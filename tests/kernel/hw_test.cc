// Simulated hardware (core/kernel/hw.h) on the platform bus: registers are
// usable only while a driver is bound (R15), IRQ handlers run in hard-IRQ
// context, free_irq() is synchronous, and an IRQ or register access after
// remove() returned -- the devm traps of the RFC -- is reported.
#include "core/kernel/hw.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <string>
#include <thread>

#include "core/kernel/device.h"
#include "core/kernel/hooks.h"
#include "core/kernel/lock.h"
#include "core/kernel/platform.h"
#include "core/kernel/slab.h"
#include "core/kernel/task.h"
#include "tests/support/fail_at.h"
#include "tests/support/hook_recorder.h"
#include "tests/support/live_objects_check.h"

namespace mcf {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t REG_CTRL = 0x0;
constexpr uint32_t REG_STATUS = 0x4;
constexpr uint32_t REG_COUNT = 0x8;

// What a test's driver saw. One per test (tests do not share a process with
// another test's threads).
struct hw_observations {
  std::atomic<int> irqs{0};
  std::atomic<bool> saw_in_irq{false};
  std::atomic<int> saw_atomic_depth{-1};
  std::atomic<bool> saw_live{false};
  uint32_t ctrl_at_probe = 0;
};
hw_observations* g_obs = nullptr;

// The driver's own state, allocated in probe and freed in remove (never devm:
// the handler uses it).
struct hw_drvdata {
  platform_device* pdev;
  iomem* regs;
  int irq;
};

irqreturn_t count_handler(int irq, void* dev_id) {
  hw_drvdata* d = static_cast<hw_drvdata*>(dev_id);
  g_obs->saw_in_irq = current()->in_irq;
  g_obs->saw_atomic_depth = current()->atomic_depth;
  g_obs->saw_live = d->pdev->hw->live.load();
  // Registers are fine from the handler while the driver is bound.
  writel(readl(d->regs, REG_COUNT) + 1, d->regs, REG_COUNT);
  g_obs->irqs.fetch_add(1);
  return IRQ_HANDLED;
}

// A well-behaved driver: request_irq in probe, free_irq in remove, then kfree.
int good_probe(platform_device* pdev) {
  hw_drvdata* d = kzalloc<hw_drvdata>();
  if (d == nullptr) return -ENOMEM;
  d->pdev = pdev;
  d->regs = platform_get_iomem(pdev);
  d->irq = platform_get_irq(pdev, 0);
  writel(0xC0FFEE, d->regs, REG_CTRL);
  if (g_obs) g_obs->ctrl_at_probe = readl(d->regs, REG_CTRL);
  int ret = request_irq(d->irq, count_handler, 0, "hwtest", d);
  if (ret != 0) {
    kfree(d);
    return ret;
  }
  dev_set_drvdata(&pdev->dev, d);
  return 0;
}

void good_remove(platform_device* pdev) {
  hw_drvdata* d = static_cast<hw_drvdata*>(dev_get_drvdata(&pdev->dev));
  writel(0, d->regs, REG_CTRL);  // still allowed: remove() has not returned
  free_irq(d->irq, d);           // before the memory the handler uses
  kfree(d);
}

class HwTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    lockdep_reset();
    g_obs = &obs;
  }
  void TearDown() override {
    g_obs = nullptr;
    EXPECT_EQ(::mcf::testing::alive_objects(), "");
  }

  // Registers "<name>.0" with one IRQ line and four registers, and `drv`
  // under `name`; the device is bound on return.
  platform_device* bind(const char* name, platform_driver* drv) {
    platform_device* pdev = bind_unbound(name, drv);
    if (pdev != nullptr) EXPECT_EQ(pdev->dev.driver, &drv->driver);
    return pdev;
  }
  // The same, without expecting the probe to succeed.
  platform_device* bind_unbound(const char* name, platform_driver* drv) {
    drv->driver.name = name;
    EXPECT_EQ(platform_driver_register(drv), 0);
    platform_device* pdev = platform_device_register_simple(name, 0, 1, 4);
    EXPECT_NE(pdev, nullptr);
    return pdev;
  }

  hw_observations obs;
};
using HwDeathTest = HwTest;

TEST_F(HwTest, RegistersWorkWhileBound) {
  platform_driver drv{.probe = good_probe, .remove = good_remove};
  platform_device* pdev = bind("hwtest_regs", &drv);
  ASSERT_NE(pdev, nullptr);
  iomem* regs = platform_get_iomem(pdev);
  ASSERT_NE(regs, nullptr);
  EXPECT_EQ(obs.ctrl_at_probe, 0xC0FFEEu);  // probe may touch the hardware
  EXPECT_TRUE(pdev->hw->live.load());
  writel(0xABCD, regs, REG_STATUS);
  EXPECT_EQ(readl(regs, REG_STATUS), 0xABCDu);
  EXPECT_EQ(readl(regs, REG_CTRL), 0xC0FFEEu);
  device_release_driver(&pdev->dev);  // remove() writes REG_CTRL: no report
  EXPECT_FALSE(pdev->hw->live.load());
  // The values are still there for the next binding.
  ASSERT_EQ(device_driver_attach(&drv.driver, &pdev->dev), 0);
  EXPECT_EQ(readl(regs, REG_STATUS), 0xABCDu);
  platform_device_unregister(pdev);
  platform_driver_unregister(&drv);
}

TEST_F(HwTest, PlatformResourceLookups) {
  platform_device* pdev = platform_device_register_simple("hwtest_res", 0, 2, 0);
  ASSERT_NE(pdev, nullptr);
  int irq0 = platform_get_irq(pdev, 0);
  int irq1 = platform_get_irq(pdev, 1);
  EXPECT_GE(irq0, 16);  // legacy numbers are not handed out
  EXPECT_NE(irq0, irq1);
  EXPECT_EQ(platform_get_irq(pdev, 2), -ENXIO);
  EXPECT_EQ(platform_get_iomem(pdev), nullptr);  // no registers asked for
  EXPECT_EQ(irq_fire(irq0), 0);                  // no handler: spurious
  platform_device_unregister(pdev);
  EXPECT_EQ(irq_fire(irq0), -EINVAL);  // the lines went with the device
  EXPECT_EQ(irq_fire(irq1), -EINVAL);
}

TEST_F(HwTest, IrqHandlerRunsInIrqContext) {
  platform_driver drv{.probe = good_probe, .remove = good_remove};
  platform_device* pdev = bind("hwtest_ctx", &drv);
  ASSERT_NE(pdev, nullptr);
  int irq = platform_get_irq(pdev, 0);
  {
    ::mcf::testing::HookRecorder rec;
    EXPECT_EQ(irq_fire(irq), 1);
    EXPECT_EQ(rec.count(HookKind::kIrq, "irq"), 1);
  }
  EXPECT_EQ(obs.irqs.load(), 1);
  EXPECT_TRUE(obs.saw_in_irq.load());
  EXPECT_EQ(obs.saw_atomic_depth.load(), 1);
  EXPECT_TRUE(obs.saw_live.load());
  // Back in process context afterwards.
  EXPECT_FALSE(current()->in_irq);
  EXPECT_EQ(current()->atomic_depth, 0);
  EXPECT_EQ(irq_fire(irq), 1);
  EXPECT_EQ(readl(platform_get_iomem(pdev), REG_COUNT), 2u);
  platform_device_unregister(pdev);
  platform_driver_unregister(&drv);
}

TEST_F(HwTest, FreeIrqInRemoveSilencesLateIrqs) {
  platform_driver drv{.probe = good_probe, .remove = good_remove};
  platform_device* pdev = bind("hwtest_late", &drv);
  ASSERT_NE(pdev, nullptr);
  int irq = platform_get_irq(pdev, 0);
  EXPECT_EQ(irq_fire(irq), 1);
  device_release_driver(&pdev->dev);
  EXPECT_EQ(irq_fire(irq), 0);  // no handler any more: nothing runs, nothing reported
  EXPECT_EQ(obs.irqs.load(), 1);
  platform_device_unregister(pdev);
  platform_driver_unregister(&drv);
}

// R15 under real concurrency: IRQs fire continuously while the driver is bound
// and unbound over and over. free_irq() in remove() waits for a running
// handler, so no handler runs after remove() or on freed driver memory (ASan
// would see that; the model reports irq-after-remove).
TEST_F(HwTest, IrqsRacingWithUnbindNeverRunLate) {
  platform_driver drv{.probe = good_probe, .remove = good_remove};
  platform_device* pdev = bind("hwtest_race", &drv);
  ASSERT_NE(pdev, nullptr);
  int irq = platform_get_irq(pdev, 0);
  std::atomic<bool> stop{false};
  std::atomic<int> fired{0};
  std::thread hw([&] {
    while (!stop.load()) fired += irq_fire(irq) == 1;
  });
  for (int i = 0; i < 200; ++i) {
    device_release_driver(&pdev->dev);
    ASSERT_EQ(device_driver_attach(&drv.driver, &pdev->dev), 0);
  }
  stop = true;
  hw.join();
  EXPECT_EQ(fired.load(), obs.irqs.load());
  platform_device_unregister(pdev);
  platform_driver_unregister(&drv);
}

// free_irq() is synchronize_irq(): it returns only after a running handler
// finished, so the caller may free the handler's memory right after.
std::latch* g_handler_entered = nullptr;
std::atomic<bool>* g_handler_may_finish = nullptr;
irqreturn_t blocking_handler(int, void*) {
  g_handler_entered->count_down();
  while (!g_handler_may_finish->load()) std::this_thread::yield();
  return IRQ_HANDLED;
}

TEST_F(HwTest, FreeIrqWaitsForRunningHandler) {
  platform_device* pdev = platform_device_register_simple("hwtest_sync", 0, 1, 0);
  ASSERT_NE(pdev, nullptr);
  pdev->hw->live = true;  // play the bus: a driver is bound
  int irq = platform_get_irq(pdev, 0);
  std::latch entered(1);
  std::atomic<bool> may_finish{false};
  g_handler_entered = &entered;
  g_handler_may_finish = &may_finish;
  ASSERT_EQ(request_irq(irq, blocking_handler, 0, "blocking", &entered), 0);
  std::thread hw([&] { EXPECT_EQ(irq_fire(irq), 1); });
  entered.wait();
  std::atomic<bool> freed{false};
  std::thread remover([&] {
    free_irq(irq, &entered);
    freed = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(freed.load());  // still waiting for the handler
  may_finish = true;
  hw.join();
  remover.join();
  EXPECT_TRUE(freed.load());
  EXPECT_EQ(irq_fire(irq), 0);
  pdev->hw->live = false;
  platform_device_unregister(pdev);
}

TEST_F(HwTest, RequestIrqErrors) {
  platform_device* pdev = platform_device_register_simple("hwtest_req", 0, 1, 0);
  ASSERT_NE(pdev, nullptr);
  int irq = platform_get_irq(pdev, 0);
  int cookie = 0;
  EXPECT_EQ(request_irq(1u << 30, count_handler, 0, "nope", &cookie), -EINVAL);
  EXPECT_EQ(request_irq(irq, nullptr, 0, "nope", &cookie), -EINVAL);
  ASSERT_EQ(request_irq(irq, count_handler, 0, "first", &cookie), 0);
  EXPECT_EQ(request_irq(irq, count_handler, 0, "second", &cookie), -EBUSY);  // not shared
  free_irq(irq, &cookie);
  ASSERT_EQ(request_irq(irq, count_handler, 0, "again", &cookie), 0);
  free_irq(irq, &cookie);
  platform_device_unregister(pdev);
}

TEST_F(HwTest, IrqFireOnUnknownLineIsInvalid) {
  EXPECT_EQ(irq_fire(0), -EINVAL);
  EXPECT_EQ(irq_fire(15), -EINVAL);
  EXPECT_EQ(irq_fire(1u << 30), -EINVAL);
  EXPECT_EQ(irq_fire(~0u), -EINVAL);
}

// devm_request_irq is freed by devres, after remove(): an IRQ in that window
// is the RFC's trap; with nothing firing late, it is merely freed.
int devm_irq_probe(platform_device* pdev) {
  return devm_request_irq(&pdev->dev, platform_get_irq(pdev, 0),
                          [](int, void*) {
                            g_obs->irqs.fetch_add(1);
                            return IRQ_HANDLED;
                          },
                          0, "hwtest_devm", pdev);
}

TEST_F(HwTest, DevmIrqIsFreedAtUnbind) {
  platform_driver drv{.probe = devm_irq_probe};
  platform_device* pdev = bind("hwtest_devm", &drv);
  ASSERT_NE(pdev, nullptr);
  int irq = platform_get_irq(pdev, 0);
  EXPECT_EQ(irq_fire(irq), 1);
  device_release_driver(&pdev->dev);
  EXPECT_EQ(irq_fire(irq), 0);
  EXPECT_EQ(obs.irqs.load(), 1);
  // Bound again, the line is free to request again.
  ASSERT_EQ(device_driver_attach(&drv.driver, &pdev->dev), 0);
  EXPECT_EQ(pdev->dev.driver, &drv.driver);
  EXPECT_EQ(irq_fire(irq), 1);
  platform_device_unregister(pdev);
  platform_driver_unregister(&drv);
}

TEST_F(HwTest, RequestIrqFailurePoint) {
  platform_driver drv{.probe = devm_irq_probe};
  platform_device* pdev;
  {
    ::mcf::testing::FailKind inject("request_irq");
    pdev = bind_unbound("hwtest_fail", &drv);
    EXPECT_EQ(inject.hits.load(), 1);
  }
  ASSERT_NE(pdev, nullptr);
  EXPECT_EQ(pdev->dev.driver, nullptr);  // probe failed with -ENOMEM
  EXPECT_FALSE(pdev->hw->live.load());   // and the hardware is off again
  platform_device_unregister(pdev);
  platform_driver_unregister(&drv);
}

// --- Reports -----------------------------------------------------------------------

TEST_F(HwDeathTest, ReadlAfterRemoveIsReported) {
  platform_driver drv{.probe = good_probe, .remove = good_remove};
  platform_device* pdev = bind("hwtest_readl", &drv);
  ASSERT_NE(pdev, nullptr);
  iomem* regs = platform_get_iomem(pdev);
  device_release_driver(&pdev->dev);
  EXPECT_DEATH(readl(regs, REG_STATUS),
               "==mcfuzz== REPORT hw-access-after-remove: readl at offset 0x4 of "
               "hwtest_readl.0 after its driver's remove\\(\\) returned");
  platform_device_unregister(pdev);
  platform_driver_unregister(&drv);
}

TEST_F(HwDeathTest, WritelAfterRemoveIsReported) {
  platform_driver drv{.probe = good_probe, .remove = good_remove};
  platform_device* pdev = bind("hwtest_writel", &drv);
  ASSERT_NE(pdev, nullptr);
  iomem* regs = platform_get_iomem(pdev);
  platform_driver_unregister(&drv);
  EXPECT_DEATH(writel(1, regs, REG_CTRL),
               "==mcfuzz== REPORT hw-access-after-remove: writel at offset 0x0 of hwtest_writel.0");
  platform_device_unregister(pdev);
}

// The devm trap: a devres action that touches the hardware runs after
// remove() returned.
TEST_F(HwDeathTest, DevmActionTouchingRegistersIsReported) {
  EXPECT_DEATH(
      {
        platform_driver drv{.probe = [](platform_device* pdev) {
          return devm_add_action(&pdev->dev,
                                 [](device* dev, void*) {
                                   writel(0, platform_get_iomem(to_platform_device(dev)),
                                          REG_CTRL);
                                 },
                                 nullptr, "hw_off");
        }};
        platform_device* pdev = bind("hwtest_devm_regs", &drv);
        if (pdev != nullptr) device_release_driver(&pdev->dev);
      },
      "==mcfuzz== REPORT hw-access-after-remove: writel at offset 0x0 of hwtest_devm_regs.0");
}

TEST_F(HwDeathTest, OutOfRangeRegisterIsReported) {
  platform_driver drv{.probe = good_probe, .remove = good_remove};
  platform_device* pdev = bind("hwtest_range", &drv);
  ASSERT_NE(pdev, nullptr);
  iomem* regs = platform_get_iomem(pdev);
  EXPECT_DEATH(readl(regs, 0x10), "==mcfuzz== REPORT bug: register offset 0x10 out of range");
  EXPECT_DEATH(writel(0, regs, 0x2), "==mcfuzz== REPORT bug: register offset 0x2 out of range");
  platform_device_unregister(pdev);
  platform_driver_unregister(&drv);
}

// devm_request_irq frees the line at devres release, after remove(). Devres
// goes newest first, so an action registered after the IRQ runs while the
// handler is still installed; if the hardware raises the IRQ then (here: the
// action fires it, as a device finishing a transfer would), the handler runs
// after remove().
TEST_F(HwDeathTest, IrqDuringDevresReleaseIsReported) {
  EXPECT_DEATH(
      {
        platform_driver drv{.probe = [](platform_device* pdev) {
          int ret = devm_irq_probe(pdev);
          if (ret != 0) return ret;
          return devm_add_action(&pdev->dev,
                                 [](device* dev, void*) {
                                   irq_fire(platform_get_irq(to_platform_device(dev), 0));
                                 },
                                 nullptr, "late_irq");
        }};
        platform_device* pdev = bind("hwtest_devm_irq", &drv);
        if (pdev != nullptr) device_release_driver(&pdev->dev);
      },
      "==mcfuzz== REPORT irq-after-remove: IRQ [0-9]+ handler 'hwtest_devm' of "
      "hwtest_devm_irq.0 ran after its driver's remove\\(\\) returned");
}

// The same trap from another thread: the IRQ arrives between remove() and
// the devres release (the test holds the unbinding inside a devres action).
TEST_F(HwDeathTest, IrqFromAnotherThreadAfterRemoveIsReported) {
  EXPECT_DEATH(
      {
        static std::latch* in_devres = new std::latch(1);
        static std::latch* fired = new std::latch(1);
        platform_driver drv{.probe = [](platform_device* pdev) {
          int ret = devm_irq_probe(pdev);
          if (ret != 0) return ret;
          return devm_add_action(&pdev->dev,
                                 [](device*, void*) {
                                   in_devres->count_down();
                                   fired->wait();  // never returns: the IRQ reports
                                 },
                                 nullptr, "slow_teardown");
        }};
        platform_device* pdev = bind("hwtest_devm_thread", &drv);
        if (pdev != nullptr) {
          int irq = platform_get_irq(pdev, 0);
          std::thread unbinder([pdev] { device_release_driver(&pdev->dev); });
          in_devres->wait();
          irq_fire(irq);
          fired->count_down();
          unbinder.join();
        }
      },
      "==mcfuzz== REPORT irq-after-remove: ");
}

void lock_in_irq(Mutex* m) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  m->lock();
  m->unlock();
}
Mutex* g_irq_mutex = nullptr;

TEST_F(HwDeathTest, SleepingInIrqHandlerIsReported) {
  platform_device* pdev = platform_device_register_simple("hwtest_sleepy", 0, 1, 0);
  ASSERT_NE(pdev, nullptr);
  pdev->hw->live = true;
  int irq = platform_get_irq(pdev, 0);
  Mutex m("test.irq_mutex");
  g_irq_mutex = &m;
  int cookie = 0;
  ASSERT_EQ(request_irq(irq,
                        [](int, void*) {
                          lock_in_irq(g_irq_mutex);
                          return IRQ_HANDLED;
                        },
                        0, "sleepy", &cookie),
            0);
  EXPECT_DEATH(irq_fire(irq),
               "==mcfuzz== REPORT sleep-in-atomic: sleeping function called from invalid "
               "context: test.irq_mutex \\(in_atomic=1, irq=1\\)(.|\n)*context: irq atomic");
  free_irq(irq, &cookie);
  pdev->hw->live = false;
  platform_device_unregister(pdev);
}

TEST_F(HwDeathTest, FreeingAFreeIrqIsReported) {
  platform_device* pdev = platform_device_register_simple("hwtest_double_free", 0, 1, 0);
  ASSERT_NE(pdev, nullptr);
  int irq = platform_get_irq(pdev, 0);
  int cookie = 0;
  EXPECT_DEATH(free_irq(irq, &cookie), "==mcfuzz== REPORT warning: Trying to free already-free IRQ");
  EXPECT_DEATH(free_irq(1u << 30, &cookie),
               "==mcfuzz== REPORT warning: Trying to free IRQ [0-9]+ which does not exist");
  platform_device_unregister(pdev);
}

}  // namespace
}  // namespace mcf
