// The vimc lens: a sub-device without pads, tied to its sensor by an
// ancillary link. Upstream: drivers/media/test-drivers/vimc/vimc-lens.c.
// Upstream's only feature is the FOCUS_ABSOLUTE control (0..1023); the model
// has no controls, so the lens is its entity and its node.
#include <cerrno>

#include "core/kernel/slab.h"
#include "drivers/vimc/vimc_common.h"

namespace mcf {
namespace {

struct vimc_lens_device : Tracked<vimc_lens_device> {
  static constexpr const char kObjName[] = "vimc_lens_device";
  vimc_ent_device ved;
  v4l2_subdev sd;
};

// No pad, video or internal ops: upstream's are the control helpers only.
const v4l2_subdev_ops vimc_lens_ops = {};

int vimc_lens_add(vimc_device* vimc, unsigned index, const char* name) {
  vimc_lens_device* vlens = kzalloc<vimc_lens_device>();
  if (vlens == nullptr) return -ENOMEM;
  vimc->ent_devs[index] = &vlens->ved;  // from here freed by the media device release
  // No init_state: no ACTIVE state, as upstream.
  return vimc_ent_sd_register(&vlens->ved, &vlens->sd, vimc, name, MEDIA_ENT_F_LENS, 0, nullptr,
                              nullptr, &vimc_lens_ops, /*has_controls=*/true);
}

void vimc_lens_put(vimc_ent_device* ved) {
  v4l2_subdev_put(&container_of(ved, vimc_lens_device, ved)->sd);
}

// Who calls it: the media device release (R9).
void vimc_lens_release(vimc_ent_device* ved) { kfree(container_of(ved, vimc_lens_device, ved)); }

}  // namespace

const vimc_ent_type vimc_lens_type = {
    .add = vimc_lens_add,
    .put = vimc_lens_put,
    .release = vimc_lens_release,
};

}  // namespace mcf
