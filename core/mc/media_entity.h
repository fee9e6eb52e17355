// Media graph objects, after include/media/media-entity.h and
// drivers/media/mc/mc-entity.c.
//
// Lifetime rules (DESIGN.md §1):
//  R3  An entity is counted (ref) and has a release callback. Registering it
//      takes a reference on it and one on its media_device; unregistering
//      drops the first, the entity's release drops the second. The container
//      (v4l2_subdev, video_device, a driver struct) frees itself in `release`.
//  R10 Links are owned by the framework: created and freed here, read and
//      written only under mdev->graph_mutex. A graph walk holds the mutex and
//      takes try_get on every entity it visits; the references are held until
//      media_graph_walk_cleanup().
//  R11 try_get fails once the count reached zero.
// Pads are embedded in the entity's container; their ids are given when the
// entity is registered.
#pragma once

#include <linux/media.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/kernel/live_objects.h"
#include "core/kernel/refcount.h"

namespace mcf {

struct media_device;
struct media_entity;
struct media_interface;
struct media_link;

// Graph object types; the type is the top byte of every id.
enum media_gobj_type : uint32_t {
  MEDIA_GRAPH_ENTITY = 0,
  MEDIA_GRAPH_PAD = 1,
  MEDIA_GRAPH_LINK = 2,
  MEDIA_GRAPH_INTF_DEVNODE = 3,
};
constexpr uint32_t MEDIA_BITS_PER_ID = 24;
constexpr uint32_t MEDIA_ID_MASK = (1u << MEDIA_BITS_PER_ID) - 1;

// Every entity, pad, link and interface carries one: the media device it
// belongs to and its id (one counter per device shared by all types).
struct media_gobj {
  media_device* mdev = nullptr;
  uint32_t id = 0;
};
inline media_gobj_type media_type(const media_gobj* gobj) {
  return static_cast<media_gobj_type>(gobj->id >> MEDIA_BITS_PER_ID);
}

struct media_pad {
  media_gobj graph_obj;
  media_entity* entity = nullptr;
  uint16_t index = 0;
  unsigned long flags = 0;  // MEDIA_PAD_FL_*
};

// A data link (pad to pad, with a hidden backlink in the sink's list), an
// interface link (interface to entity) or an ancillary link (entity to
// entity). Lives on exactly one list (`owner_list`) and on mdev->links.
struct media_link : Tracked<media_link> {
  static constexpr const char kObjName[] = "media_link";
  media_gobj graph_obj;
  union {
    media_gobj* gobj0;
    media_pad* source;
    media_interface* intf;
  };
  union {
    media_gobj* gobj1;
    media_pad* sink;
    media_entity* entity;
  };
  media_link* reverse = nullptr;
  unsigned long flags = 0;  // MEDIA_LNK_FL_*
  bool is_backlink = false;
  std::vector<media_link*>* owner_list = nullptr;
};
inline uint32_t media_link_type(const media_link* l) { return l->flags & MEDIA_LNK_FL_LINK_TYPE; }

struct media_entity_operations {
  // Called on each end of a data link whose ENABLED flag changes; may refuse.
  int (*link_setup)(media_entity* entity, const media_pad* local, const media_pad* remote,
                    uint32_t flags) = nullptr;
  // Called at pipeline start for each enabled link whose sink is this entity.
  int (*link_validate)(media_link* link) = nullptr;
};

enum media_entity_type {
  MEDIA_ENTITY_TYPE_BASE,
  MEDIA_ENTITY_TYPE_VIDEO_DEVICE,
  MEDIA_ENTITY_TYPE_V4L2_SUBDEV,
};

struct media_pipeline {
  int start_count = 0;
};

struct media_entity : Tracked<media_entity> {
  static constexpr const char kObjName[] = "media_entity";
  media_gobj graph_obj;
  std::string name;
  media_entity_type obj_type = MEDIA_ENTITY_TYPE_BASE;
  uint32_t function = MEDIA_ENT_F_UNKNOWN;
  unsigned long flags = 0;
  uint16_t num_pads = 0;
  uint16_t num_links = 0;      // data links and backlinks on `links`
  uint16_t num_backlinks = 0;
  media_pad* pads = nullptr;   // owned by the container
  std::vector<media_link*> links;  // guarded by mdev->graph_mutex
  const media_entity_operations* ops = nullptr;
  // Pipeline state, guarded by mdev->graph_mutex.
  int stream_count = 0;
  media_pipeline* pipe = nullptr;
  struct {
    uint32_t major = 0, minor = 0;
  } info;
  bool registered = false;     // guarded by mdev->graph_mutex

  // R3: the entity's count and its container's destructor. `release` is
  // called by the last media_entity_put(), outside any graph lock.
  kref ref;
  void (*release)(media_entity* entity) = nullptr;
};

inline bool is_media_entity_v4l2_subdev(const media_entity* e) {
  return e != nullptr && e->obj_type == MEDIA_ENTITY_TYPE_V4L2_SUBDEV;
}
inline bool is_media_entity_v4l2_video_device(const media_entity* e) {
  return e != nullptr && e->obj_type == MEDIA_ENTITY_TYPE_VIDEO_DEVICE;
}
inline uint32_t media_entity_id(const media_entity* e) { return e->graph_obj.id; }

// Sets up the pads and the entity's count (1: the caller's reference).
// -E2BIG for more than 0xffff pads.
int media_entity_pads_init(media_entity* entity, uint16_t num_pads, media_pad* pads);

// R3: references on an entity.
void media_entity_get(media_entity* entity);
bool media_entity_try_get(media_entity* entity);  // get-unless-zero
void media_entity_put(media_entity* entity);

// Link creation; each takes mdev->graph_mutex. The entities must be registered
// with the same media device. Failure point "kzalloc" (-ENOMEM).
int media_create_pad_link(media_entity* source, uint16_t source_pad, media_entity* sink,
                          uint16_t sink_pad, uint32_t flags);
media_link* media_create_intf_link(media_entity* entity, media_interface* intf, uint32_t flags);
media_link* media_create_ancillary_link(media_entity* primary, media_entity* ancillary);
void media_remove_intf_link(media_link* link);
// Removes every link of `entity` (data, interface, ancillary, either end).
void media_entity_remove_links(media_entity* entity);
void media_entity_remove_links_locked(media_entity* entity);  // caller holds graph_mutex

// The data link between two pads, or null. Caller holds graph_mutex.
media_link* media_entity_find_link(media_pad* source, media_pad* sink);
// The other end of the first enabled data link on `pad`, or null. Caller holds graph_mutex.
media_pad* media_pad_remote_pad_first(const media_pad* pad);

// SETUP_LINK's core: flags checks, busy check, link_notify, link_setup on both
// ends, flags on link and backlink. Caller holds graph_mutex.
int media_entity_setup_link_locked(media_link* link, uint32_t flags);
int media_entity_setup_link(media_link* link, uint32_t flags);

// R10: a walk over the entities connected through enabled data links.
// Caller holds mdev->graph_mutex from start to the last next(). Every entity
// returned by next() has a reference (try_get) held until cleanup(); entities
// whose count already reached zero are skipped.
struct media_graph {
  std::vector<media_entity*> visited;  // referenced
  std::vector<media_entity*> stack;
  size_t next_index = 0;
};
void media_graph_walk_start(media_graph* graph, media_entity* entity);
media_entity* media_graph_walk_next(media_graph* graph);
void media_graph_walk_cleanup(media_graph* graph);  // puts the references

// Pipelines: marks every entity reachable through enabled links as streaming
// (stream_count, pipe) and validates the enabled links at each sink, so that
// SETUP_LINK refuses changes while streaming (-EBUSY). -EPIPE (or the
// driver's code) when a link_validate refuses, -ENOLINK when a MUST_CONNECT
// pad has no enabled link, -EBUSY when an entity is in another pipeline,
// -ENOMEM at a pipeline's first start (failure point "media_graph_walk_init").
int media_pipeline_start(media_entity* entity, media_pipeline* pipe);
void media_pipeline_stop(media_entity* entity);
bool media_entity_is_streaming(const media_entity* entity);  // caller holds graph_mutex

}  // namespace mcf
