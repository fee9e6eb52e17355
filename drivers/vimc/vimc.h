// The vimc driver model: public interface. Upstream:
// drivers/media/test-drivers/vimc/ (vimc-core.c and the entity files).
//
// "vimc" is a platform driver that builds upstream's default topology — two
// sensors, two debayers, a scaler, an RGB/YUV input, three capture video
// nodes and two lenses — as one media device with eight sub-device nodes
// (see vimc_core.cc for the table). Frames come from a simulated frame timer:
// IRQ line 0 of the platform device. Each interrupt produces one frame
// through every started pipeline into its capture queue.
//
// Differences from upstream that a user of the model should know:
//  - upstream's kthread ("vimc-streamer thread", 60 Hz) is the frame timer
//    IRQ here, fired by the test or the fuzzer (irq_fire); the time stamp of
//    the frame of tick t is t * kVimcFramePeriodNs, so runs are deterministic;
//  - the test pattern is a fixed 75% colour bar pattern that moves one bar
//    per tick (vimc_tpg_color), not v4l2-tpg with its controls and OSD text;
//  - no V4L2 controls (the model has no control framework): the debayer's
//    mean window is fixed at its default, 3;
//  - the simulated hardware has a register block (offsets below) so that a
//    frame or a stream change after remove() is reported (R15).
//
// Lifetime (DESIGN.md §1): the driver's struct vimc_device embeds the media
// device and the v4l2_device; every entity struct is allocated on its own.
// All of them are freed by the media device's release, the single gatekeeper
// (R9): it runs when the last file, node, entity and the v4l2_device let go
// of the media device. remove() only unregisters, frees the IRQ and drops
// the driver's references (R8, R15). No devm anywhere.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/kernel/platform.h"

namespace mcf {

struct media_device;
struct vb2_queue;
struct vimc_device;

constexpr const char kVimcDriverName[] = "vimc";  // VIMC_PDEV_NAME

// The simulated hardware of a vimc platform device.
constexpr int kVimcNumIrqs = 1;        // line 0: the frame timer
constexpr size_t kVimcNumRegs = 4;
constexpr uint32_t VIMC_REG_TIMER_CTRL = 0x0;   // number of started streams
constexpr uint32_t VIMC_REG_IRQ_ACK = 0x4;      // written by each frame interrupt
constexpr uint32_t VIMC_REG_FRAME_COUNT = 0x8;  // ticks since probe

// Upstream's streamer runs at HZ/60.
constexpr uint64_t kVimcFramePeriodNs = 16666667;

// platform_driver_register / _unregister of the "vimc" driver.
int vimc_driver_register();
void vimc_driver_unregister();
// The driver, for a sysfs-style bind: device_driver_attach(&drv->driver, dev).
platform_driver* vimc_platform_driver();

// Adds the platform device "vimc.<id>" ("vimc" for PLATFORM_DEVID_NONE)
// with the frame timer IRQ and the registers; bound at once if the driver is
// registered. Returns it with the caller's reference. Upstream's module adds
// one static device with id 0, "vimc.0"; any id works, so several instances
// may coexist.
platform_device* vimc_device_add(int id);

// --- The test pattern of every sensor ("Sensor A", "Sensor B" and "RGB/YUV
// Input"): eight vertical 75% colour bars (white, yellow, cyan, green,
// magenta, red, blue, black) that move one bar to the left per frame tick.
struct vimc_rgb {
  uint8_t r, g, b;
};
vimc_rgb vimc_tpg_color(unsigned x, unsigned width, uint64_t tick);

// --- Introspection, for tests and tools (not part of upstream).

// The driver data of a bound device, or null.
vimc_device* vimc_drvdata(platform_device* pdev);
media_device* vimc_media_device(vimc_device* vimc);
// The buffer queue of the capture entity called `name` ("Raw Capture 0",
// ...), or null. Its buffers' memory may be read while user space owns them.
vb2_queue* vimc_capture_queue(vimc_device* vimc, const char* name);
// Number of vimc_device structs freed so far (by the media device release).
int vimc_released_count();

}  // namespace mcf
