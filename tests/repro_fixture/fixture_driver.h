// A test-only platform driver with bugs put back on purpose, so the crash
// handling of fuzzers/repro (reports, signatures, minimisation, replay) can
// be shown end to end on real findings. Never link it into anything but the
// fixture tool of this folder: core/ and drivers/ stay correct (DESIGN.md
// §2); bugs live in bench/ patches or, for the harness's own tests, here.
//
//   "mcf-fixture.<id>": one capture node /dev/videoN (QUERYCAP, ENUM_FMT,
//   G_FMT, ENUMINPUT, G_INPUT, S_INPUT), drv->lock serialising the ioctls, a kref `users`
//   (the driver's reference from probe to remove, one per open file), and a
//   devm-allocated statistics block.
//
// The bugs, each a classic of the lifetime RFC:
//   A. refcount underflow: S_INPUT with an index other than 0 drops a
//      `users` reference on its error path that it never took. The count
//      reaches 0 at the last close; remove()'s put then underflows.
//      Minimal program: open, S_INPUT {input=1}. Every flavour.
//   B. lock held on return to user space: ENUMINPUT with an index other
//      than 0 returns -EINVAL with drv->state_lock still held.
//      Minimal program: open, ENUMINPUT {index=1}. Every flavour.
//   C. use after free of devm memory (R8): the statistics block is
//      devm_kzalloc'd, so devres frees it right after remove(); release()
//      of a file that outlived the binding writes into it.
//      Minimal program: open, unbind, close. ASan builds only: elsewhere it
//      is a write into freed memory that nothing reports (and that can
//      corrupt the allocator: under TSan the run hung), so it is not run.
//   D. undefined behaviour: ENUM_FMT shifts by the user's index unchecked.
//      Minimal program: open, ENUM_FMT {index=40}. Builds with UBSan
//      checks (asan, ubsan): elsewhere nothing reports it.
//   E. data race: G_FMT's statistics are counted by a work item and by
//      the ioctl without a lock. Minimal program: open, G_FMT. TSan builds
//      only (nothing else sees a race).
#pragma once

#include "core/kernel/platform.h"

namespace mcf::fixture {

constexpr const char kFixtureDriverName[] = "mcf-fixture";

int fixture_driver_register();
void fixture_driver_unregister();
// Adds "mcf-fixture.<id>" (probed when the driver is registered), with the
// caller's reference.
platform_device* fixture_device_add(int id);

}  // namespace mcf::fixture
