// Media graph objects: see media_entity.h. Upstream: drivers/media/mc/mc-entity.c.
#include "core/mc/media_entity.h"

#include <algorithm>
#include <cerrno>

#include "core/kernel/container_of.h"
#include "core/kernel/kerrno.h"
#include "core/kernel/report.h"
#include "core/kernel/slab.h"
#include "core/mc/media_device.h"

namespace mcf {
namespace {

// Who calls it: the last media_entity_put(). Runs outside graph_mutex.
void media_entity_release(kref* k) {
  media_entity* entity = container_of(k, media_entity, ref);
  // The registration's media-device reference (R3) is put after the
  // container is gone; read the pointer first, `entity` dies in release.
  media_device* mdev = entity->graph_obj.mdev;
  MCF_WARN_ON(entity->registered);
  if (entity->release != nullptr) entity->release(entity);
  if (mdev != nullptr) media_device_put(mdev);
}

template <typename Fn>
int media_entity_call(media_entity* e, Fn media_entity_operations::*op, const media_pad* local,
                      const media_pad* remote, uint32_t flags) {
  if (e->ops == nullptr || e->ops->*op == nullptr) return -ENOIOCTLCMD;
  return (e->ops->*op)(e, local, remote, flags);
}

media_link* media_add_link_locked(media_device* mdev, std::vector<media_link*>* list)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mdev->graph_mutex) {
  media_link* link = kzalloc<media_link>();
  if (link == nullptr) return nullptr;
  link->gobj0 = nullptr;
  link->gobj1 = nullptr;
  link->owner_list = list;
  list->push_back(link);
  media_gobj_create(mdev, MEDIA_GRAPH_LINK, &link->graph_obj);
  return link;
}

void media_link_free_locked(media_link* link) {
  std::vector<media_link*>* list = link->owner_list;
  list->erase(std::find(list->begin(), list->end(), link));
  media_gobj_destroy(&link->graph_obj);
  kfree(link);
}

// Frees a data link and its backlink, fixing both entities' counts.
void media_remove_data_link_locked(media_link* link) {
  media_link* fwd = link->is_backlink ? link->reverse : link;
  media_link* back = fwd->reverse;
  media_entity* source = fwd->source->entity;
  media_entity* sink = fwd->sink->entity;
  source->num_links--;
  sink->num_links--;
  sink->num_backlinks--;
  media_link_free_locked(back);
  media_link_free_locked(fwd);
}

bool link_involves(const media_link* link, const media_entity* entity) {
  switch (media_link_type(link)) {
    case MEDIA_LNK_FL_DATA_LINK:
      return link->source->entity == entity || link->sink->entity == entity;
    case MEDIA_LNK_FL_INTERFACE_LINK:
      return link->entity == entity;
    default:  // ancillary: entity to entity
      return link->gobj0 == &entity->graph_obj || link->gobj1 == &entity->graph_obj;
  }
}

// Graph-walk step: the entity at the other end of `link` from `entity`.
media_entity* link_other_end(const media_link* link, const media_entity* entity) {
  return link->source->entity == entity ? link->sink->entity : link->source->entity;
}

}  // namespace

int media_entity_pads_init(media_entity* entity, uint16_t num_pads, media_pad* pads) {
  entity->num_pads = num_pads;
  entity->pads = pads;
  for (uint16_t i = 0; i < num_pads; ++i) {
    pads[i].entity = entity;
    pads[i].index = i;
  }
  kref_init(&entity->ref, "media_entity");
  return 0;
}

void media_entity_get(media_entity* entity) { kref_get(&entity->ref); }
bool media_entity_try_get(media_entity* entity) { return kref_get_unless_zero(&entity->ref); }
void media_entity_put(media_entity* entity) { kref_put(&entity->ref, media_entity_release); }

int media_create_pad_link(media_entity* source, uint16_t source_pad, media_entity* sink,
                          uint16_t sink_pad, uint32_t flags) {
  if (source == nullptr || sink == nullptr || source_pad >= source->num_pads ||
      sink_pad >= sink->num_pads)
    return -EINVAL;
  if (!(source->pads[source_pad].flags & MEDIA_PAD_FL_SOURCE) ||
      !(sink->pads[sink_pad].flags & MEDIA_PAD_FL_SINK))
    return -EINVAL;
  media_device* mdev = source->graph_obj.mdev;
  if (mdev == nullptr || sink->graph_obj.mdev != mdev) return -EINVAL;

  MutexGuard g(&mdev->graph_mutex);
  if (!source->registered || !sink->registered) return -EINVAL;
  media_link* link = media_add_link_locked(mdev, &source->links);
  if (link == nullptr) return -ENOMEM;
  link->source = &source->pads[source_pad];
  link->sink = &sink->pads[sink_pad];
  link->flags = flags & ~MEDIA_LNK_FL_INTERFACE_LINK;

  // The hidden backlink: the same link seen from the sink's list.
  media_link* back = media_add_link_locked(mdev, &sink->links);
  if (back == nullptr) {
    media_link_free_locked(link);
    return -ENOMEM;
  }
  back->source = link->source;
  back->sink = link->sink;
  back->flags = link->flags;
  back->is_backlink = true;
  link->reverse = back;
  back->reverse = link;
  source->num_links++;
  sink->num_links++;
  sink->num_backlinks++;
  return 0;
}

media_link* media_create_intf_link(media_entity* entity, media_interface* intf, uint32_t flags) {
  media_device* mdev = intf->graph_obj.mdev;
  if (mdev == nullptr || entity->graph_obj.mdev != mdev) return nullptr;
  MutexGuard g(&mdev->graph_mutex);
  if (!entity->registered || !intf->registered) return nullptr;
  media_link* link = media_add_link_locked(mdev, &intf->links);
  if (link == nullptr) return nullptr;
  link->intf = intf;
  link->entity = entity;
  link->flags = flags | MEDIA_LNK_FL_INTERFACE_LINK;
  return link;
}

media_link* media_create_ancillary_link(media_entity* primary, media_entity* ancillary) {
  media_device* mdev = primary->graph_obj.mdev;
  if (mdev == nullptr || ancillary->graph_obj.mdev != mdev) return nullptr;
  MutexGuard g(&mdev->graph_mutex);
  if (!primary->registered || !ancillary->registered) return nullptr;
  media_link* link = media_add_link_locked(mdev, &primary->links);
  if (link == nullptr) return nullptr;
  link->gobj0 = &primary->graph_obj;
  link->gobj1 = &ancillary->graph_obj;
  link->flags = MEDIA_LNK_FL_IMMUTABLE | MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_ANCILLARY_LINK;
  return link;
}

void media_remove_intf_link(media_link* link) {
  media_device* mdev = link->graph_obj.mdev;
  MutexGuard g(&mdev->graph_mutex);
  media_link_free_locked(link);
}

void media_entity_remove_links_locked(media_entity* entity) {
  media_device* mdev = entity->graph_obj.mdev;
  if (mdev == nullptr) return;
  mdev->graph_mutex.assert_held();
  // One link at a time: removing a data link also frees its backlink, so an
  // iterator over a snapshot could reach freed memory.
  for (;;) {
    auto it = std::find_if(mdev->links.begin(), mdev->links.end(),
                           [entity](media_link* l) { return link_involves(l, entity); });
    if (it == mdev->links.end()) break;
    if (media_link_type(*it) == MEDIA_LNK_FL_DATA_LINK) {
      media_remove_data_link_locked(*it);
    } else {
      media_link_free_locked(*it);
    }
  }
}

void media_entity_remove_links(media_entity* entity) {
  media_device* mdev = entity->graph_obj.mdev;
  if (mdev == nullptr) return;
  MutexGuard g(&mdev->graph_mutex);
  media_entity_remove_links_locked(entity);
}

media_link* media_entity_find_link(media_pad* source, media_pad* sink) {
  for (media_link* link : source->entity->links) {
    if (media_link_type(link) != MEDIA_LNK_FL_DATA_LINK || link->is_backlink) continue;
    if (link->source == source && link->sink == sink) return link;
  }
  return nullptr;
}

media_pad* media_pad_remote_pad_first(const media_pad* pad) {
  for (media_link* link : pad->entity->links) {
    if (media_link_type(link) != MEDIA_LNK_FL_DATA_LINK) continue;
    if (!(link->flags & MEDIA_LNK_FL_ENABLED)) continue;
    if (link->source == pad) return link->sink;
    if (link->sink == pad) return link->source;
  }
  return nullptr;
}

bool media_entity_is_streaming(const media_entity* entity) { return entity->stream_count > 0; }

int media_entity_setup_link_locked(media_link* link, uint32_t flags) {
  const uint32_t mask = MEDIA_LNK_FL_ENABLED;
  if (link == nullptr) return -EINVAL;
  // The flags other than ENABLED cannot be changed.
  if ((link->flags & ~mask) != (flags & ~mask)) return -EINVAL;
  if (link->flags & MEDIA_LNK_FL_IMMUTABLE) return link->flags == flags ? 0 : -EINVAL;
  if (link->flags == flags) return 0;

  media_pad* source = link->source;
  media_pad* sink = link->sink;
  if (!(link->flags & MEDIA_LNK_FL_DYNAMIC) &&
      (media_entity_is_streaming(source->entity) || media_entity_is_streaming(sink->entity)))
    return -EBUSY;

  media_device* mdev = source->entity->graph_obj.mdev;
  if (mdev->ops != nullptr && mdev->ops->link_notify != nullptr) {
    int ret = mdev->ops->link_notify(link, flags, MEDIA_DEV_NOTIFY_PRE_LINK_CH);
    if (ret < 0) return ret;
  }
  int ret = media_entity_call(source->entity, &media_entity_operations::link_setup, source, sink,
                              flags);
  if (ret < 0 && ret != -ENOIOCTLCMD) goto notify;
  ret = media_entity_call(sink->entity, &media_entity_operations::link_setup, sink, source, flags);
  if (ret < 0 && ret != -ENOIOCTLCMD) {
    // Roll the source back to the old state.
    media_entity_call(source->entity, &media_entity_operations::link_setup, source, sink,
                      static_cast<uint32_t>(link->flags));
    goto notify;
  }
  link->flags = flags;
  link->reverse->flags = flags;
  ret = 0;
notify:
  if (mdev->ops != nullptr && mdev->ops->link_notify != nullptr)
    mdev->ops->link_notify(link, flags, MEDIA_DEV_NOTIFY_POST_LINK_CH);
  return ret;
}

int media_entity_setup_link(media_link* link, uint32_t flags) {
  media_device* mdev = link->graph_obj.mdev;
  MutexGuard g(&mdev->graph_mutex);
  return media_entity_setup_link_locked(link, flags);
}

void media_graph_walk_start(media_graph* graph, media_entity* entity) {
  graph->visited.clear();
  graph->next_index = 0;
  entity->graph_obj.mdev->graph_mutex.assert_held();
  // R10: an entity whose count reached zero is on its way out; skip it.
  if (media_entity_try_get(entity)) graph->visited.push_back(entity);
}

media_entity* media_graph_walk_next(media_graph* graph) {
  if (graph->next_index >= graph->visited.size()) return nullptr;
  media_entity* entity = graph->visited[graph->next_index++];
  entity->graph_obj.mdev->graph_mutex.assert_held();
  for (media_link* link : entity->links) {
    if (media_link_type(link) != MEDIA_LNK_FL_DATA_LINK) continue;
    if (!(link->flags & MEDIA_LNK_FL_ENABLED)) continue;
    media_entity* next = link_other_end(link, entity);
    if (std::find(graph->visited.begin(), graph->visited.end(), next) != graph->visited.end())
      continue;
    if (media_entity_try_get(next)) graph->visited.push_back(next);
  }
  return entity;
}

void media_graph_walk_cleanup(media_graph* graph) {
  for (media_entity* e : graph->visited) media_entity_put(e);
  graph->visited.clear();
  graph->next_index = 0;
}

namespace {
// Checks the links of one entity at pipeline start (__media_pipeline_start).
int media_pipeline_validate_entity(media_entity* entity) {
  std::vector<bool> active(entity->num_pads, false);
  std::vector<bool> has_links(entity->num_pads, false);
  for (media_link* link : entity->links) {
    if (media_link_type(link) != MEDIA_LNK_FL_DATA_LINK) continue;
    media_pad* pad = link->sink->entity == entity ? link->sink : link->source;
    has_links[pad->index] = true;
    if (!(pad->flags & MEDIA_PAD_FL_MUST_CONNECT) || (link->flags & MEDIA_LNK_FL_ENABLED))
      active[pad->index] = true;
    // Validation runs on the sink end of enabled links only.
    if (link->sink != pad || !(link->flags & MEDIA_LNK_FL_ENABLED)) continue;
    if (entity->ops == nullptr || entity->ops->link_validate == nullptr) continue;
    int ret = entity->ops->link_validate(link);
    if (ret < 0 && ret != -ENOIOCTLCMD) return ret;
  }
  for (uint16_t i = 0; i < entity->num_pads; ++i)
    if (has_links[i] && !active[i]) return -ENOLINK;
  return 0;
}
}  // namespace

int media_pipeline_start(media_entity* entity, media_pipeline* pipe) {
  media_device* mdev = entity->graph_obj.mdev;
  if (mdev == nullptr) return -EINVAL;
  media_graph graph;
  std::vector<media_entity*> started;
  int ret = 0;
  {
    MutexGuard g(&mdev->graph_mutex);
    if (!entity->registered) return -ENODEV;
    // Upstream's first start of a pipeline allocates its graph walk
    // (media_graph_walk_init() in __media_pipeline_start), and fails with
    // -ENOMEM before touching any entity.
    if (pipe->start_count == 0) {
      if (int err = fault_point("media_graph_walk_init", entity->name, -ENOMEM)) return err;
    }
    media_graph_walk_start(&graph, entity);
    while (media_entity* e = media_graph_walk_next(&graph)) {
      if (e->stream_count > 0 && e->pipe != pipe) {
        ret = -EBUSY;
        break;
      }
      e->pipe = pipe;
      started.push_back(e);
      if (e->stream_count++ > 0) continue;  // validated when its pipeline started
      ret = media_pipeline_validate_entity(e);
      if (ret != 0) break;
    }
    if (ret != 0) {
      for (media_entity* e : started)
        if (--e->stream_count == 0) e->pipe = nullptr;
    } else {
      pipe->start_count++;
    }
  }
  // Outside the mutex: a put here may be the last one (never while the
  // graph lock is held, as a release may free the media device with it).
  media_graph_walk_cleanup(&graph);
  return ret;
}

void media_pipeline_stop(media_entity* entity) {
  media_device* mdev = entity->graph_obj.mdev;
  if (mdev == nullptr) return;
  media_graph graph;
  {
    MutexGuard g(&mdev->graph_mutex);
    media_pipeline* pipe = entity->pipe;
    media_graph_walk_start(&graph, entity);
    while (media_entity* e = media_graph_walk_next(&graph)) {
      if (e->stream_count > 0 && --e->stream_count == 0) e->pipe = nullptr;
    }
    if (pipe != nullptr && pipe->start_count > 0) pipe->start_count--;
  }
  media_graph_walk_cleanup(&graph);
}

}  // namespace mcf
