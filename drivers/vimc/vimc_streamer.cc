// The vimc streamer: see vimc_streamer.h. Upstream:
// drivers/media/test-drivers/vimc/vimc-streamer.c.
#include "drivers/vimc/vimc_streamer.h"

#include <algorithm>
#include <cerrno>

#include "core/kernel/kerrno.h"

namespace mcf {
namespace {

// vimc_get_source_entity: the entity at the other end of the enabled link
// of `ent`'s first sink pad, or null. Links are read under the graph mutex
// (R10); the entity found stays valid: every vimc entity's memory lives
// until the media device release, and a started pipeline keeps the links.
media_entity* vimc_get_source_entity(media_entity* ent) {
  media_device* mdev = ent->graph_obj.mdev;
  MutexGuard g(&mdev->graph_mutex);
  for (uint16_t i = 0; i < ent->num_pads; ++i) {
    if (ent->pads[i].flags & MEDIA_PAD_FL_SOURCE) continue;
    media_pad* pad = media_pad_remote_pad_first(&ent->pads[i]);
    return pad != nullptr ? pad->entity : nullptr;
  }
  return nullptr;
}

// s_stream(0) on every sub-device of the chain that is streaming, sink first.
void vimc_streamer_pipeline_terminate(vimc_stream* stream) {
  while (stream->pipe_size > 0) {
    stream->pipe_size--;
    vimc_ent_device* ved = stream->ved_pipeline[stream->pipe_size];
    bool streaming = stream->sd_streaming[stream->pipe_size];
    stream->ved_pipeline[stream->pipe_size] = nullptr;
    stream->sd_streaming[stream->pipe_size] = false;
    if (!streaming || !is_media_entity_v4l2_subdev(ved->ent)) continue;
    v4l2_subdev_call(media_entity_to_v4l2_subdev(ved->ent), video, s_stream, 0);
  }
}

int vimc_streamer_pipeline_init(vimc_stream* stream, vimc_ent_device* ved) {
  vimc_device* vimc = ved->vimc;
  stream->pipe_size = 0;
  while (stream->pipe_size < VIMC_STREAMER_PIPELINE_MAX_SIZE) {
    if (ved == nullptr) {
      vimc_streamer_pipeline_terminate(stream);
      return -EINVAL;
    }
    unsigned i = stream->pipe_size++;
    stream->ved_pipeline[i] = ved;
    if (is_media_entity_v4l2_subdev(ved->ent)) {
      // The sub-devices are registered: remove() stops every stream before
      // it unregisters them (R16).
      int ret = v4l2_subdev_call(media_entity_to_v4l2_subdev(ved->ent), video, s_stream, 1);
      if (ret != 0 && ret != -ENOIOCTLCMD) {
        vimc_streamer_pipeline_terminate(stream);
        return ret;
      }
      stream->sd_streaming[i] = ret == 0;
    }
    media_entity* entity = vimc_get_source_entity(ved->ent);
    if (entity == nullptr) {
      // The end of the chain: it must be a source ("media: vimc: upon
      // streaming, check that the pipeline starts with a source entity").
      if (!vimc_is_source(ved->ent)) {
        vimc_streamer_pipeline_terminate(stream);
        return -EPIPE;
      }
      return 0;
    }
    ved = vimc_ent_device_of(vimc, entity);
  }
  vimc_streamer_pipeline_terminate(stream);
  return -EINVAL;
}

// The timer's register: how many streams it is producing frames for.
void vimc_streamer_update_timer(vimc_device* vimc) ABSL_EXCLUSIVE_LOCKS_REQUIRED(vimc->stream_lock) {
  writel(static_cast<uint32_t>(vimc->streams.size()), vimc->regs, VIMC_REG_TIMER_CTRL);
}

}  // namespace

int vimc_streamer_s_stream(vimc_stream* stream, vimc_ent_device* ved, int enable) {
  if (stream == nullptr || ved == nullptr) return -EINVAL;
  vimc_device* vimc = ved->vimc;
  if (enable) {
    if (stream->started) return 0;
    int ret = vimc_streamer_pipeline_init(stream, ved);
    if (ret != 0) return ret;
    {
      // Published: the next frame interrupt walks this chain.
      SpinGuard g(&vimc->stream_lock);
      vimc->streams.push_back(stream);
      vimc_streamer_update_timer(vimc);
    }
    stream->started = true;
    return 0;
  }
  if (!stream->started) return 0;
  {
    // Once off the list (under the lock the IRQ handler holds for a whole
    // frame), no frame touches the chain's entities: their frames may go.
    SpinGuard g(&vimc->stream_lock);
    vimc->streams.erase(std::find(vimc->streams.begin(), vimc->streams.end(), stream));
    vimc_streamer_update_timer(vimc);
  }
  stream->started = false;
  vimc_streamer_pipeline_terminate(stream);
  return 0;
}

void vimc_streamer_frame(vimc_device* vimc, const vimc_frame_ctx& ctx) {
  vimc->stream_lock.assert_held();
  for (vimc_stream* stream : vimc->streams) {
    // From the source to the sink; an empty frame ends this chain's tick.
    vimc_frame frame;
    for (unsigned i = stream->pipe_size; i-- > 0;) {
      vimc_ent_device* ved = stream->ved_pipeline[i];
      frame = ved->process_frame(ved, frame, ctx);
      if (frame.data == nullptr) break;
    }
  }
}

}  // namespace mcf
