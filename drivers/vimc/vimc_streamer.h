// The vimc streamer: the chain of entities a capture streams from, and the
// frame timer's walk along it. Upstream:
// drivers/media/test-drivers/vimc/vimc-streamer.{c,h}, where a kthread walks
// the chain at 60 Hz; here the frame timer IRQ does, once per interrupt.
//
// Locking: vimc_streamer_s_stream runs in the capture's start/stop_streaming
// (the capture's lock held, process context). A started stream is on
// vimc->streams; the IRQ handler holds vimc->stream_lock for a whole frame,
// and s_stream(0) takes the stream off the list under the same lock before
// it stops the entities, so no frame runs through an entity whose frame
// buffer is gone.
#pragma once

#include <array>

#include "core/mc/media_entity.h"
#include "drivers/vimc/vimc_common.h"

namespace mcf {

constexpr unsigned VIMC_STREAMER_PIPELINE_MAX_SIZE = 16;

struct vimc_stream {
  media_pipeline pipe;  // the capture's media pipeline (media_pipeline_start)
  // From the capture (index 0) back to the source entity.
  std::array<vimc_ent_device*, VIMC_STREAMER_PIPELINE_MAX_SIZE> ved_pipeline{};
  // Which sub-devices of the chain accepted s_stream(1) (upstream asks
  // v4l2_subdev_is_streaming()).
  std::array<bool, VIMC_STREAMER_PIPELINE_MAX_SIZE> sd_streaming{};
  unsigned pipe_size = 0;
  bool started = false;  // on vimc->streams; the capture's lock
};

// enable: builds the chain backwards from `ved` along each entity's first
// sink pad's enabled link, calls s_stream(1) on every sub-device of it and
// hands the stream to the frame timer. -EPIPE if the chain does not start at
// a source-only entity, -EINVAL if it is too long or leaves vimc, or the
// error of an s_stream(1) (then everything is undone).
// disable: takes the stream from the frame timer, then s_stream(0) back up
// the chain. Both are no-ops if already done.
int vimc_streamer_s_stream(vimc_stream* stream, vimc_ent_device* ved, int enable);

// One frame tick through every started stream. Frame IRQ context; the
// caller holds vimc->stream_lock.
void vimc_streamer_frame(vimc_device* vimc, const vimc_frame_ctx& ctx)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(vimc->stream_lock);

}  // namespace mcf
