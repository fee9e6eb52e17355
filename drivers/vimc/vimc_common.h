// Shared definitions of the vimc model, after upstream's vimc-common.h.
//
// Every entity of the topology is a struct that begins with a
// vimc_ent_device: the entity it owns and the frame callback the streamer
// calls. The entity types (sensor, debayer, scaler, capture, lens) each
// provide a vimc_ent_type with the callbacks vimc_core.cc drives:
//   add        allocate the struct (stored in vimc->ent_devs at once), set it
//              up and register it; on failure drop the references it took;
//   unregister remove(): take the entity away from user space (captures);
//   put        remove(): drop the driver's own reference (sub-devices);
//   release    free the struct; called only by the media device release.
#pragma once

#include <linux/media-bus-format.h>
#include <linux/videodev2.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/kernel/hw.h"
#include "core/kernel/lock.h"
#include "core/kernel/platform.h"
#include "core/mc/media_device.h"
#include "core/v4l2/v4l2_device.h"
#include "core/v4l2/v4l2_subdev.h"
#include "drivers/vimc/vimc.h"

namespace mcf {

struct vimc_stream;

constexpr unsigned VIMC_FRAME_MAX_WIDTH = 4096;
constexpr unsigned VIMC_FRAME_MAX_HEIGHT = 2160;
constexpr unsigned VIMC_FRAME_MIN_WIDTH = 16;
constexpr unsigned VIMC_FRAME_MIN_HEIGHT = 16;

constexpr bool VIMC_IS_SRC(unsigned pad) { return pad != 0; }
constexpr bool VIMC_IS_SINK(unsigned pad) { return pad == 0; }

constexpr size_t VIMC_PIX_FMT_MAX_CODES = 8;

// The entities of the default topology, in registration order (upstream's
// enum vimc_data_link_ents).
enum vimc_ent_index : unsigned {
  VIMC_SENSOR_A,
  VIMC_SENSOR_B,
  VIMC_DEBAYER_A,
  VIMC_DEBAYER_B,
  VIMC_RAW_CAPTURE_0,
  VIMC_RAW_CAPTURE_1,
  VIMC_RGB_YUV_INPUT,
  VIMC_SCALER,
  VIMC_RGB_YUV_CAPTURE,
  VIMC_LENS_A,
  VIMC_LENS_B,
  VIMC_NUM_ENTS,
};

// A media-bus code and the pixel format it maps to.
struct vimc_pix_map {
  uint32_t code[VIMC_PIX_FMT_MAX_CODES];
  unsigned bpp;
  uint32_t pixelformat;
  bool bayer;
};

const vimc_pix_map* vimc_pix_map_by_index(unsigned i);
// The index-th code of the flattened table; 0 past its end.
uint32_t vimc_mbus_code_by_index(unsigned index);
const vimc_pix_map* vimc_pix_map_by_code(uint32_t code);
const vimc_pix_map* vimc_pix_map_by_pixelformat(uint32_t pixelformat);

// vimc_colorimetry_clamp: invalid colorimetry from user space becomes DEFAULT.
template <typename Fmt>
void vimc_colorimetry_clamp(Fmt* fmt) {
  if (fmt->colorspace == V4L2_COLORSPACE_DEFAULT || fmt->colorspace > V4L2_COLORSPACE_DCI_P3) {
    fmt->colorspace = V4L2_COLORSPACE_DEFAULT;
    fmt->ycbcr_enc = V4L2_YCBCR_ENC_DEFAULT;
    fmt->quantization = V4L2_QUANTIZATION_DEFAULT;
    fmt->xfer_func = V4L2_XFER_FUNC_DEFAULT;
  }
  if (fmt->ycbcr_enc > V4L2_YCBCR_ENC_SMPTE240M) fmt->ycbcr_enc = V4L2_YCBCR_ENC_DEFAULT;
  if (fmt->quantization > V4L2_QUANTIZATION_LIM_RANGE)
    fmt->quantization = V4L2_QUANTIZATION_DEFAULT;
  if (fmt->xfer_func > V4L2_XFER_FUNC_SMPTE2084) fmt->xfer_func = V4L2_XFER_FUNC_DEFAULT;
}

// A frame handed from one entity to the next. Empty (data == null) ends the
// pipeline for this tick: an entity that is not streaming, a capture without
// a buffer, or an input frame of the wrong size.
struct vimc_frame {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

// What the frame timer knows about the tick it is producing.
struct vimc_frame_ctx {
  uint64_t tick = 0;          // 1 for the first interrupt after probe
  uint64_t timestamp_ns = 0;  // tick * kVimcFramePeriodNs
};

struct vimc_ent_device {
  vimc_device* vimc = nullptr;  // valid for the struct's whole life (R9)
  device* dev = nullptr;        // the platform device; valid while bound, not counted
  media_entity* ent = nullptr;
  // The streamer's per-tick callback. Runs in the frame IRQ, with
  // vimc->stream_lock held, only between the entity's s_stream(1) and
  // s_stream(0) (captures: between start and stop of their stream).
  vimc_frame (*process_frame)(vimc_ent_device* ved, const vimc_frame& sink_frame,
                              const vimc_frame_ctx& ctx) = nullptr;
  // Capture video nodes only: their current format (caller holds the
  // capture's lock).
  void (*vdev_get_format)(vimc_ent_device* ved, v4l2_pix_format* fmt) = nullptr;
};

struct vimc_ent_type {
  int (*add)(vimc_device* vimc, unsigned index, const char* name) = nullptr;
  void (*unregister)(vimc_ent_device* ved) = nullptr;
  void (*put)(vimc_ent_device* ved) = nullptr;
  void (*release)(vimc_ent_device* ved) = nullptr;
};

struct vimc_ent_config {
  const char* name;
  const vimc_ent_type* type;
};

// The driver's struct. Freed by the media device's release (R9).
struct vimc_device : Tracked<vimc_device> {
  static constexpr const char kObjName[] = "vimc_device";

  platform_device* pdev = nullptr;  // not counted: valid from probe to remove
  media_device mdev;
  v4l2_device v4l2_dev;

  // Entity structs by vimc_ent_index: set by each type's add() right after
  // allocation and freed by the media device release; `added` marks the
  // ones whose add() succeeded (the driver holds references on them).
  std::array<vimc_ent_device*, VIMC_NUM_ENTS> ent_devs{};
  std::array<bool, VIMC_NUM_ENTS> added{};

  // The simulated hardware: used only while bound (R15).
  int irq = -1;
  iomem* regs = nullptr;

  // The frame timer's view of the streams: the started ones, and the tick
  // count. The IRQ handler holds it for a whole frame, so a stream taken off
  // the list (under it) is not used by any frame afterwards.
  SpinLock stream_lock{"vimc_device.stream_lock"};
  std::vector<vimc_stream*> streams ABSL_GUARDED_BY(stream_lock);
  uint64_t frame_count ABSL_GUARDED_BY(stream_lock) = 0;
};

extern const vimc_ent_type vimc_sensor_type;
extern const vimc_ent_type vimc_debayer_type;
extern const vimc_ent_type vimc_scaler_type;
extern const vimc_ent_type vimc_capture_type;
extern const vimc_ent_type vimc_lens_type;

// The vimc_ent_device of an entity of `vimc`, or null.
vimc_ent_device* vimc_ent_device_of(vimc_device* vimc, const media_entity* entity);

// True if the entity has no sink pad.
bool vimc_is_source(const media_entity* ent);

// link_validate of the capture video nodes (vimc_vdev_link_validate): width,
// height and pixel format must match, the field too unless the sink's is
// NONE, and the colorimetry unless either side is DEFAULT. -EPIPE otherwise.
int vimc_vdev_link_validate(media_link* link);

// link_validate of the sub-devices. Upstream uses the framework's
// v4l2_subdev_link_validate(); the model's core has none, so this is its
// default check: ACTIVE formats of both ends must agree in width, height
// and code, and in field unless the sink's is NONE (-EPIPE).
int vimc_subdev_link_validate(media_link* link);

// vimc_ent_sd_register: initialises `sd` (name, function, ops, a node, the
// pads, the ACTIVE state if the type has init_state) and registers it with
// the v4l2_device and the media graph. On failure the driver's reference
// is dropped (the struct stays allocated for the media device release).
int vimc_ent_sd_register(vimc_ent_device* ved, v4l2_subdev* sd, vimc_device* vimc,
                         const char* name, uint32_t function, uint16_t num_pads,
                         media_pad* pads, const v4l2_subdev_internal_ops* int_ops,
                         const v4l2_subdev_ops* sd_ops, bool has_controls);

// A frame buffer of `size` bytes (upstream vmallocs it at s_stream(1)).
// Failure point "vmalloc" (-ENOMEM).
int vimc_frame_alloc(std::vector<uint8_t>* frame, size_t size);

}  // namespace mcf
