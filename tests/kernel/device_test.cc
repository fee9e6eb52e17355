// The driver core (core/kernel/device.h, platform.h): reference counting and
// release, bus matching, probe/remove, bind/unbind, and devres with the
// kernel's order (remove() first, then devres newest first).
#include "core/kernel/device.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/kernel/devtmpfs.h"
#include "core/kernel/lock.h"
#include "core/kernel/platform.h"
#include "tests/support/fail_at.h"
#include "tests/support/live_objects_check.h"

namespace mcf {
namespace {

// What happened, in order, across the callbacks of one test.
std::vector<std::string> g_events;
void record(const std::string& e) { g_events.push_back(e); }

// A device the test owns; its release only records, so the test can look at
// it afterwards (the memory is the test's).
struct test_device {
  explicit test_device(const char* name, bus_type* bus = nullptr) {
    device_initialize(&dev);
    dev.name = name;
    dev.bus = bus;
    dev.release = [](device* d) { record("release:" + d->name); };
  }
  device dev;
};

// A bus that matches a device to the driver whose name prefixes the device's.
bool prefix_match(device* dev, device_driver* drv) {
  return dev->name.compare(0, std::strlen(drv->name), drv->name) == 0;
}

// devres actions that record their name.
void devres_record(device*, void* data) { record(static_cast<const char*>(data)); }

int probe_ok(device* dev) {
  record("probe:" + dev->name);
  return 0;
}
void remove_record(device* dev) { record("remove:" + dev->name); }

// Registers three devres entries, then succeeds.
int probe_with_devres(device* dev) {
  record("probe:" + dev->name);
  devm_add_action(dev, devres_record, const_cast<char*>("devres1"), "first");
  devm_add_action(dev, devres_record, const_cast<char*>("devres2"), "second");
  devm_add_action(dev, devres_record, const_cast<char*>("devres3"), "third");
  return 0;
}

// Registers two devres entries, then fails.
int probe_fails_after_devres(device* dev) {
  record("probe:" + dev->name);
  devm_add_action(dev, devres_record, const_cast<char*>("devres1"), "first");
  devm_add_action(dev, devres_record, const_cast<char*>("devres2"), "second");
  dev_set_drvdata(dev, dev);
  return -EIO;
}

class DeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    lockdep_reset();
    g_events.clear();
    bus.match = prefix_match;
  }
  void TearDown() override { EXPECT_EQ(::mcf::testing::alive_objects(), ""); }

  bus_type bus{"test_bus"};
};
using DeviceDeathTest = DeviceTest;

// --- Reference counting and release --------------------------------------------

TEST_F(DeviceTest, ReleaseIsCalledOnLastPut) {
  test_device t("refdev");
  EXPECT_EQ(kref_read(&t.dev.kobj), 1u);
  EXPECT_EQ(get_device(&t.dev), &t.dev);
  EXPECT_EQ(kref_read(&t.dev.kobj), 2u);
  put_device(&t.dev);
  EXPECT_TRUE(g_events.empty());
  put_device(&t.dev);
  EXPECT_EQ(g_events, std::vector<std::string>{"release:refdev"});
}

TEST_F(DeviceTest, GetAndPutAreNullSafe) {
  EXPECT_EQ(get_device(nullptr), nullptr);
  put_device(nullptr);
}

TEST_F(DeviceTest, RegisterUnregisterWithDevtCreatesAndRemovesNode) {
  device* dev = new device;
  dev->name = "devtest_node0";
  dev->devt = MKDEV(241, 7);
  dev->release = [](device* d) {
    record("release:" + d->name);
    delete d;
  };
  ASSERT_EQ(device_register(dev), 0);
  EXPECT_EQ(devtmpfs_lookup("/dev/devtest_node0"), MKDEV(241, 7));
  EXPECT_EQ(MAJOR(MKDEV(241, 7)), 241u);
  EXPECT_EQ(MINOR(MKDEV(241, 7)), 7u);
  device_unregister(dev);
  EXPECT_EQ(devtmpfs_lookup("/dev/devtest_node0"), 0u);
  EXPECT_EQ(g_events, std::vector<std::string>{"release:devtest_node0"});
}

TEST_F(DeviceTest, DeviceAddRejectsAnEmptyName) {
  test_device t("");
  EXPECT_EQ(device_add(&t.dev), -EINVAL);
  put_device(&t.dev);
}

TEST_F(DeviceTest, DuplicateNodeNameFailsAndUnpinsParent) {
  test_device parent("dup_parent");
  test_device first("devtest_dup");
  test_device second("devtest_dup");
  first.dev.devt = MKDEV(241, 100);
  second.dev.devt = MKDEV(241, 101);
  second.dev.parent = &parent.dev;
  ASSERT_EQ(device_add(&first.dev), 0);
  EXPECT_EQ(device_add(&second.dev), -EEXIST);
  EXPECT_EQ(kref_read(&parent.dev.kobj), 1u);  // the failed add dropped its pin
  EXPECT_EQ(devtmpfs_lookup("/dev/devtest_dup"), MKDEV(241, 100));
  device_unregister(&first.dev);
  put_device(&second.dev);
  put_device(&parent.dev);
}

// A child pins its parent from device_add to device_del.
TEST_F(DeviceTest, ChildPinsParentWhileAdded) {
  test_device parent("parent");
  test_device child("child");
  child.dev.parent = &parent.dev;
  ASSERT_EQ(device_add(&child.dev), 0);
  EXPECT_EQ(kref_read(&parent.dev.kobj), 2u);
  put_device(&parent.dev);  // the parent's owner lets go first
  EXPECT_TRUE(g_events.empty());
  device_unregister(&child.dev);
  EXPECT_EQ(g_events, (std::vector<std::string>{"release:parent", "release:child"}));
}

// --- Bus, drivers, bind and unbind ----------------------------------------------

TEST_F(DeviceTest, DriverRegisterBindsExistingDevice) {
  test_device t("alpha.0", &bus);
  ASSERT_EQ(device_add(&t.dev), 0);
  EXPECT_EQ(t.dev.driver, nullptr);  // no driver yet
  EXPECT_EQ(kref_read(&t.dev.kobj), 2u);  // ours + the bus list's

  device_driver drv{.name = "alpha", .bus = &bus, .probe = probe_ok, .remove = remove_record};
  ASSERT_EQ(driver_register(&drv), 0);
  EXPECT_EQ(t.dev.driver, &drv);
  EXPECT_EQ(bus_find_driver_by_name(&bus, "alpha"), &drv);

  driver_unregister(&drv);
  device_unregister(&t.dev);
  EXPECT_EQ(g_events, (std::vector<std::string>{"probe:alpha.0", "remove:alpha.0",
                                                "release:alpha.0"}));
}

TEST_F(DeviceTest, DeviceAddedLaterBindsToRegisteredDriver) {
  device_driver other{.name = "zeta", .bus = &bus, .probe = probe_ok};
  device_driver drv{.name = "beta", .bus = &bus, .probe = probe_ok, .remove = remove_record};
  ASSERT_EQ(driver_register(&other), 0);
  ASSERT_EQ(driver_register(&drv), 0);
  test_device t("beta.3", &bus);
  ASSERT_EQ(device_add(&t.dev), 0);
  EXPECT_EQ(t.dev.driver, &drv);
  device_unregister(&t.dev);  // device_del unbinds first
  driver_unregister(&drv);
  driver_unregister(&other);
  EXPECT_EQ(g_events,
            (std::vector<std::string>{"probe:beta.3", "remove:beta.3", "release:beta.3"}));
}

TEST_F(DeviceTest, NonMatchingDriverDoesNotBind) {
  test_device t("gamma.0", &bus);
  ASSERT_EQ(device_add(&t.dev), 0);
  device_driver drv{.name = "delta", .bus = &bus, .probe = probe_ok};
  ASSERT_EQ(driver_register(&drv), 0);
  EXPECT_EQ(t.dev.driver, nullptr);
  EXPECT_TRUE(g_events.empty());
  driver_unregister(&drv);
  device_unregister(&t.dev);
}

TEST_F(DeviceTest, DriverRegisterRejectsDuplicates) {
  device_driver drv{.name = "eps", .bus = &bus};
  device_driver same_name{.name = "eps", .bus = &bus};
  ASSERT_EQ(driver_register(&drv), 0);
  EXPECT_EQ(driver_register(&drv), -EBUSY);
  EXPECT_EQ(driver_register(&same_name), -EBUSY);
  driver_unregister(&same_name);  // not registered: a no-op
  EXPECT_EQ(bus_find_driver_by_name(&bus, "eps"), &drv);
  driver_unregister(&drv);
  EXPECT_EQ(bus_find_driver_by_name(&bus, "eps"), nullptr);
}

TEST_F(DeviceTest, BusFindDeviceByNameTakesAReference) {
  test_device t("findme.1", &bus);
  ASSERT_EQ(device_add(&t.dev), 0);
  device* found = bus_find_device_by_name(&bus, "findme.1");
  EXPECT_EQ(found, &t.dev);
  EXPECT_EQ(kref_read(&t.dev.kobj), 3u);
  put_device(found);
  EXPECT_EQ(bus_find_device_by_name(&bus, "findme.2"), nullptr);
  device_unregister(&t.dev);
  EXPECT_EQ(bus_find_device_by_name(&bus, "findme.1"), nullptr);
}

TEST_F(DeviceTest, DeviceDriverAttachErrors) {
  device_driver drv{.name = "eta", .bus = &bus, .probe = probe_ok, .remove = remove_record};
  device_driver mismatch{.name = "theta", .bus = &bus, .probe = probe_ok};
  device_driver unregistered{.name = "eta", .bus = &bus, .probe = probe_ok};
  test_device t("eta.0", &bus);
  ASSERT_EQ(device_add(&t.dev), 0);
  ASSERT_EQ(driver_register(&mismatch), 0);

  EXPECT_EQ(device_driver_attach(&mismatch, &t.dev), -ENODEV);     // does not match
  EXPECT_EQ(device_driver_attach(&unregistered, &t.dev), -ENODEV); // not on the bus
  EXPECT_EQ(t.dev.driver, nullptr);

  ASSERT_EQ(driver_register(&drv), 0);  // binds
  EXPECT_EQ(t.dev.driver, &drv);
  EXPECT_EQ(device_driver_attach(&drv, &t.dev), -EBUSY);  // already bound
  EXPECT_EQ(device_driver_attach(&mismatch, &t.dev), -EBUSY);

  device_release_driver(&t.dev);  // sysfs unbind
  EXPECT_EQ(t.dev.driver, nullptr);
  device_release_driver(&t.dev);  // unbinding an unbound device is a no-op
  EXPECT_EQ(device_driver_attach(&drv, &t.dev), 0);  // sysfs bind
  EXPECT_EQ(t.dev.driver, &drv);

  device_del(&t.dev);
  EXPECT_EQ(t.dev.driver, nullptr);
  EXPECT_EQ(device_driver_attach(&drv, &t.dev), -ENODEV);  // not added any more
  put_device(&t.dev);
  driver_unregister(&drv);
  driver_unregister(&mismatch);
  EXPECT_EQ(g_events, (std::vector<std::string>{"probe:eta.0", "remove:eta.0", "probe:eta.0",
                                                "remove:eta.0", "release:eta.0"}));
}

// The kernel's order: remove() returns, THEN devres goes, newest first.
TEST_F(DeviceTest, ReleaseDriverCallsRemoveThenDevresNewestFirst) {
  device_driver drv{.name = "iota", .bus = &bus, .probe = probe_with_devres,
                    .remove = remove_record};
  test_device t("iota.0", &bus);
  ASSERT_EQ(device_add(&t.dev), 0);
  ASSERT_EQ(driver_register(&drv), 0);
  g_events.clear();
  device_release_driver(&t.dev);
  EXPECT_EQ(g_events,
            (std::vector<std::string>{"remove:iota.0", "devres3", "devres2", "devres1"}));
  EXPECT_EQ(t.dev.driver, nullptr);
  g_events.clear();
  device_release_driver(&t.dev);  // devres is empty now: nothing runs twice
  EXPECT_TRUE(g_events.empty());
  driver_unregister(&drv);
  device_unregister(&t.dev);
}

TEST_F(DeviceTest, ProbeFailureReleasesDevres) {
  device_driver drv{.name = "kappa", .bus = &bus, .probe = probe_fails_after_devres,
                    .remove = remove_record};
  test_device t("kappa.0", &bus);
  ASSERT_EQ(device_add(&t.dev), 0);
  EXPECT_EQ(driver_register(&drv), 0);  // a failed probe does not fail registration
  EXPECT_EQ(g_events, (std::vector<std::string>{"probe:kappa.0", "devres2", "devres1"}));
  EXPECT_EQ(t.dev.driver, nullptr);
  EXPECT_EQ(dev_get_drvdata(&t.dev), nullptr);

  g_events.clear();
  EXPECT_EQ(device_driver_attach(&drv, &t.dev), -EIO);  // sysfs bind gets the error
  EXPECT_EQ(g_events, (std::vector<std::string>{"probe:kappa.0", "devres2", "devres1"}));
  EXPECT_EQ(t.dev.driver, nullptr);

  g_events.clear();
  driver_unregister(&drv);
  device_unregister(&t.dev);
  // Never bound, so remove() never ran.
  EXPECT_EQ(g_events, std::vector<std::string>{"release:kappa.0"});
}

TEST_F(DeviceTest, DriverUnregisterUnbindsEveryDevice) {
  device_driver drv{.name = "lambda", .bus = &bus, .probe = probe_ok, .remove = remove_record};
  test_device t0("lambda.0", &bus);
  test_device t1("lambda.1", &bus);
  test_device other("mu.0", &bus);
  ASSERT_EQ(device_add(&t0.dev), 0);
  ASSERT_EQ(device_add(&other.dev), 0);
  ASSERT_EQ(driver_register(&drv), 0);
  ASSERT_EQ(device_add(&t1.dev), 0);
  EXPECT_EQ(t0.dev.driver, &drv);
  EXPECT_EQ(t1.dev.driver, &drv);
  EXPECT_EQ(other.dev.driver, nullptr);
  g_events.clear();
  driver_unregister(&drv);
  EXPECT_EQ(t0.dev.driver, nullptr);
  EXPECT_EQ(t1.dev.driver, nullptr);
  EXPECT_EQ(g_events, (std::vector<std::string>{"remove:lambda.0", "remove:lambda.1"}));
  // The devices stay on the bus: registering the driver again binds them again.
  g_events.clear();
  ASSERT_EQ(driver_register(&drv), 0);
  EXPECT_EQ(g_events, (std::vector<std::string>{"probe:lambda.0", "probe:lambda.1"}));
  driver_unregister(&drv);
  device_unregister(&t0.dev);
  device_unregister(&t1.dev);
  device_unregister(&other.dev);
}

// devm_kzalloc memory lives exactly as long as the binding.
struct devm_thing : Tracked<devm_thing> {
  static constexpr const char kObjName[] = "devm_thing";
  int value = 0;
};

TEST_F(DeviceTest, DevmKzallocIsFreedAtUnbind) {
  device_driver drv{.name = "nu", .bus = &bus, .probe = [](device* dev) {
                      devm_thing* p = devm_kzalloc<devm_thing>(dev);
                      if (p == nullptr) return -ENOMEM;
                      dev_set_drvdata(dev, p);
                      return 0;
                    }};
  test_device t("nu.0", &bus);
  ASSERT_EQ(device_add(&t.dev), 0);
  ASSERT_EQ(driver_register(&drv), 0);
  ASSERT_NE(dev_get_drvdata(&t.dev), nullptr);
  EXPECT_EQ(static_cast<devm_thing*>(dev_get_drvdata(&t.dev))->value, 0);  // zeroed
  EXPECT_EQ(live_objects_count("devm_thing"), 1);
  device_release_driver(&t.dev);
  EXPECT_EQ(live_objects_count("devm_thing"), 0);
  EXPECT_EQ(dev_get_drvdata(&t.dev), nullptr);
  driver_unregister(&drv);
  device_unregister(&t.dev);
}

// --- Failure points ---------------------------------------------------------------

using ::mcf::testing::FailKind;

TEST_F(DeviceTest, DeviceAddFailurePoint) {
  test_device parent("fp_parent");
  test_device t("fp_child", &bus);
  t.dev.parent = &parent.dev;
  {
    FailKind fail("device_add");
    EXPECT_EQ(device_add(&t.dev), -ENOMEM);
    EXPECT_EQ(fail.hits.load(), 1);
  }
  EXPECT_EQ(kref_read(&parent.dev.kobj), 1u);
  EXPECT_EQ(bus_find_device_by_name(&bus, "fp_child"), nullptr);
  put_device(&t.dev);
  put_device(&parent.dev);
}

TEST_F(DeviceTest, DevmKzallocFailurePoints) {
  test_device t("fp_devm");
  {
    FailKind fail("kzalloc");
    EXPECT_EQ(devm_kzalloc<devm_thing>(&t.dev), nullptr);
  }
  {
    FailKind fail("devres_alloc");
    EXPECT_EQ(devm_kzalloc<devm_thing>(&t.dev), nullptr);  // and the allocation is undone
    EXPECT_EQ(live_objects_count("devm_thing"), 0);
  }
  put_device(&t.dev);
}

// --- Platform bus -------------------------------------------------------------------

std::vector<std::string> g_platform_events;

int pdrv_probe(platform_device* pdev) {
  g_platform_events.push_back("probe:" + std::string(dev_name(&pdev->dev)));
  return 0;
}
void pdrv_remove(platform_device* pdev) {
  g_platform_events.push_back("remove:" + std::string(dev_name(&pdev->dev)));
}

TEST_F(DeviceTest, PlatformDriverRegisterBindsExistingDevice) {
  g_platform_events.clear();
  platform_device* pdev = platform_device_register_simple("devtest_plat", 0, 0, 0);
  ASSERT_NE(pdev, nullptr);
  EXPECT_STREQ(dev_name(&pdev->dev), "devtest_plat.0");
  EXPECT_EQ(pdev->dev.driver, nullptr);

  platform_driver drv{.probe = pdrv_probe, .remove = pdrv_remove};
  drv.driver.name = "devtest_plat";
  ASSERT_EQ(platform_driver_register(&drv), 0);
  EXPECT_EQ(pdev->dev.driver, &drv.driver);

  platform_device* found = platform_find_device("devtest_plat.0");
  EXPECT_EQ(found, pdev);
  put_device(&found->dev);

  platform_device_unregister(pdev);  // unbinds, then frees (last put)
  EXPECT_EQ(platform_find_device("devtest_plat.0"), nullptr);
  platform_driver_unregister(&drv);
  EXPECT_EQ(g_platform_events,
            (std::vector<std::string>{"probe:devtest_plat.0", "remove:devtest_plat.0"}));
}

TEST_F(DeviceTest, PlatformDeviceAddedLaterBindsToRegisteredDriver) {
  g_platform_events.clear();
  platform_driver drv{.probe = pdrv_probe, .remove = pdrv_remove};
  drv.driver.name = "devtest_late";
  ASSERT_EQ(platform_driver_register(&drv), 0);
  platform_device* pdev = platform_device_register_simple("devtest_late", PLATFORM_DEVID_NONE, 0, 0);
  ASSERT_NE(pdev, nullptr);
  EXPECT_STREQ(dev_name(&pdev->dev), "devtest_late");
  EXPECT_EQ(pdev->dev.driver, &drv.driver);
  platform_device* other = platform_device_register_simple("devtest_other", 1, 0, 0);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->dev.driver, nullptr);

  platform_driver_unregister(&drv);  // unbinds the matching device only
  EXPECT_EQ(pdev->dev.driver, nullptr);
  platform_device_unregister(pdev);
  platform_device_unregister(other);
  EXPECT_EQ(g_platform_events,
            (std::vector<std::string>{"probe:devtest_late", "remove:devtest_late"}));
}

// A reference taken on a platform device outlives its unregistration.
TEST_F(DeviceTest, PlatformDeviceMemoryGoesAtLastPut) {
  platform_device* pdev = platform_device_register_simple("devtest_held", 0, 1, 1);
  ASSERT_NE(pdev, nullptr);
  get_device(&pdev->dev);
  platform_device_unregister(pdev);
  EXPECT_EQ(live_objects_count("platform_device"), 1);
  EXPECT_EQ(platform_find_device("devtest_held.0"), nullptr);
  put_device(&pdev->dev);
  EXPECT_EQ(live_objects_count("platform_device"), 0);
}

// --- Reports -----------------------------------------------------------------------

TEST_F(DeviceDeathTest, GetDeviceAfterReleaseIsReported) {
  test_device t("released_dev");
  put_device(&t.dev);  // last put: released
  ASSERT_EQ(g_events, std::vector<std::string>{"release:released_dev"});
  EXPECT_DEATH(get_device(&t.dev),
               "==mcfuzz== REPORT refcount-add-on-zero: refcount_t: addition on 0; "
               "use-after-free(.|\n)*object: device ");
}

TEST_F(DeviceDeathTest, DeviceWithoutReleaseIsReported) {
  device dev;
  device_initialize(&dev);
  dev.name = "no_release";
  EXPECT_DEATH(put_device(&dev),
               "==mcfuzz== REPORT warning: Device 'no_release' does not have a release\\(\\) "
               "function, it is broken and must be fixed");
}

TEST_F(DeviceDeathTest, PutDeviceUnderflowIsReported) {
  test_device t("underflow_dev");
  put_device(&t.dev);
  EXPECT_DEATH(put_device(&t.dev), "==mcfuzz== REPORT refcount-underflow: ");
}

}  // namespace
}  // namespace mcf
