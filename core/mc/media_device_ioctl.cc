// The media node's ioctls, after drivers/media/mc/mc-device.c.
//
// Dispatch as upstream: a table indexed by _IOC_NR; a command that does not
// match its entry exactly is -ENOIOCTLCMD (user space sees ENOTTY) and copies
// nothing; the argument is copied in when _IOC_WRITE is set and copied back
// only when the handler returned 0 and _IOC_READ is set (so G_TOPOLOGY's
// counts are lost on ENOSPC/EFAULT, as upstream). Handlers run under
// graph_mutex and reach user memory only through copy_to_user.
#include <linux/ioctl.h>
#include <linux/media.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/kernel/kerrno.h"
#include "core/kernel/uaccess.h"
#include "core/mc/media_device.h"

namespace mcf {
namespace {

template <size_t N>
void strscpy(char (&dst)[N], const char* src) {
  std::snprintf(dst, N, "%s", src);
}

long media_device_get_info(media_device* mdev, void* arg) {
  auto* info = static_cast<media_device_info*>(arg);
  std::memset(info, 0, sizeof(*info));
  strscpy(info->driver, mdev->driver_name);
  strscpy(info->model, mdev->model);
  strscpy(info->serial, mdev->serial);
  strscpy(info->bus_info, mdev->bus_info);
  info->media_version = MCF_LINUX_VERSION_CODE;
  info->driver_version = MCF_LINUX_VERSION_CODE;
  info->hw_revision = mdev->hw_revision;
  return 0;
}

media_entity* find_entity(media_device* mdev, uint32_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mdev->graph_mutex) {
  bool next = id & MEDIA_ENT_ID_FLAG_NEXT;
  id &= ~MEDIA_ENT_ID_FLAG_NEXT;
  // Ids grow along the list, so "next" is the first one above `id`.
  for (media_entity* e : mdev->entities) {
    if ((media_entity_id(e) == id && !next) || (media_entity_id(e) > id && next)) return e;
  }
  return nullptr;
}

long media_device_enum_entities(media_device* mdev, void* arg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mdev->graph_mutex) {
  auto* entd = static_cast<media_entity_desc*>(arg);
  media_entity* ent = find_entity(mdev, entd->id);
  if (ent == nullptr) return -EINVAL;
  std::memset(entd, 0, sizeof(*entd));
  entd->id = media_entity_id(ent);
  strscpy(entd->name, ent->name.c_str());
  entd->type = ent->function;
  entd->flags = static_cast<uint32_t>(ent->flags);
  entd->pads = ent->num_pads;
  entd->links = static_cast<uint16_t>(ent->num_links - ent->num_backlinks);
  // Upstream's workaround for media-ctl <= 1.10: functions outside the old
  // ranges are reported with a legacy type (G_TOPOLOGY gives the real one).
  if (ent->function < MEDIA_ENT_F_OLD_BASE || ent->function > MEDIA_ENT_F_TUNER) {
    if (is_media_entity_v4l2_subdev(ent))
      entd->type = MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN;
    else if (ent->function != MEDIA_ENT_F_IO_V4L)
      entd->type = MEDIA_ENT_T_DEVNODE_UNKNOWN;
  }
  if (is_media_entity_v4l2_video_device(ent) || is_media_entity_v4l2_subdev(ent)) {
    entd->dev.major = ent->info.major;
    entd->dev.minor = ent->info.minor;
  }
  return 0;
}

void kpad_to_upad(const media_pad* kpad, media_pad_desc* upad) {
  upad->entity = media_entity_id(kpad->entity);
  upad->index = kpad->index;
  upad->flags = static_cast<uint32_t>(kpad->flags);
}

long media_device_enum_links(media_device* mdev, void* arg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mdev->graph_mutex) {
  auto* links = static_cast<media_links_enum*>(arg);
  media_entity* entity = media_device_find_entity(mdev, links->entity);
  if (entity == nullptr) return -EINVAL;
  // The array pointers are user addresses: never dereferenced, only handed
  // to copy_to_user.
  user_addr_t upads = reinterpret_cast<uintptr_t>(links->pads);
  user_addr_t ulinks = reinterpret_cast<uintptr_t>(links->links);
  if (upads != 0) {
    for (uint16_t p = 0; p < entity->num_pads; ++p) {
      media_pad_desc pad = {};
      kpad_to_upad(&entity->pads[p], &pad);
      if (copy_to_user(upads + p * sizeof(pad), &pad, sizeof(pad))) return -EFAULT;
    }
  }
  if (ulinks != 0) {
    for (media_link* link : entity->links) {
      // Outbound data links only: no backlinks, no ancillary links.
      if (media_link_type(link) != MEDIA_LNK_FL_DATA_LINK || link->is_backlink) continue;
      if (link->source->entity != entity) continue;
      media_link_desc klink = {};
      kpad_to_upad(link->source, &klink.source);
      kpad_to_upad(link->sink, &klink.sink);
      klink.flags = static_cast<uint32_t>(link->flags);
      if (copy_to_user(ulinks, &klink, sizeof(klink))) return -EFAULT;
      ulinks += sizeof(klink);
    }
  }
  std::memset(links->reserved, 0, sizeof(links->reserved));
  return 0;
}

long media_device_setup_link(media_device* mdev, void* arg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mdev->graph_mutex) {
  auto* linkd = static_cast<media_link_desc*>(arg);
  media_entity* source = media_device_find_entity(mdev, linkd->source.entity);
  media_entity* sink = media_device_find_entity(mdev, linkd->sink.entity);
  if (source == nullptr || sink == nullptr) return -EINVAL;
  if (linkd->source.index >= source->num_pads || linkd->sink.index >= sink->num_pads)
    return -EINVAL;
  media_link* link =
      media_entity_find_link(&source->pads[linkd->source.index], &sink->pads[linkd->sink.index]);
  std::memset(linkd->reserved, 0, sizeof(linkd->reserved));
  if (link == nullptr) return -EINVAL;
  return media_entity_setup_link_locked(link, linkd->flags);
}

uint32_t link_source_id(const media_link* link) {
  switch (media_link_type(link)) {
    case MEDIA_LNK_FL_DATA_LINK: return link->source->graph_obj.id;
    case MEDIA_LNK_FL_INTERFACE_LINK: return link->intf->graph_obj.id;
    default: return link->gobj0->id;
  }
}

uint32_t link_sink_id(const media_link* link) {
  switch (media_link_type(link)) {
    case MEDIA_LNK_FL_DATA_LINK: return link->sink->graph_obj.id;
    case MEDIA_LNK_FL_INTERFACE_LINK: return link->entity->graph_obj.id;
    default: return link->gobj1->id;
  }
}

// One G_TOPOLOGY array: counts every element, copies while there is room and
// no error yet. Returns the total; `*ret` becomes -ENOSPC or -EFAULT.
template <typename K, typename T, typename Fill>
uint32_t copy_topology_array(const std::vector<K*>& objects, uint64_t uptr, uint32_t room,
                             long* ret, Fill fill) {
  uint32_t i = 0;
  for (K* obj : objects) {
    T kobj = {};
    if (!fill(obj, &kobj)) continue;  // not reported (backlinks)
    i++;
    if (*ret != 0 || uptr == 0) continue;
    if (i > room) {
      *ret = -ENOSPC;
      continue;
    }
    if (copy_to_user(uptr, &kobj, sizeof(kobj))) *ret = -EFAULT;
    uptr += sizeof(kobj);
  }
  return i;
}

long media_device_get_topology(media_device* mdev, void* arg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mdev->graph_mutex) {
  auto* topo = static_cast<media_v2_topology*>(arg);
  long ret = 0;
  topo->topology_version = mdev->topology_version;

  topo->num_entities = copy_topology_array<media_entity, media_v2_entity>(
      mdev->entities, topo->ptr_entities, topo->num_entities, &ret,
      [](media_entity* e, media_v2_entity* k) {
        k->id = e->graph_obj.id;
        strscpy(k->name, e->name.c_str());
        k->function = e->function;
        k->flags = static_cast<uint32_t>(e->flags);
        return true;
      });
  topo->reserved1 = 0;

  topo->num_interfaces = copy_topology_array<media_interface, media_v2_interface>(
      mdev->interfaces, topo->ptr_interfaces, topo->num_interfaces, &ret,
      [](media_interface* intf, media_v2_interface* k) {
        k->id = intf->graph_obj.id;
        k->intf_type = intf->type;
        k->flags = intf->flags;
        if (media_type(&intf->graph_obj) == MEDIA_GRAPH_INTF_DEVNODE) {
          k->devnode.major = intf_to_devnode(intf)->major;
          k->devnode.minor = intf_to_devnode(intf)->minor;
        }
        return true;
      });
  topo->reserved2 = 0;

  topo->num_pads = copy_topology_array<media_pad, media_v2_pad>(
      mdev->pads, topo->ptr_pads, topo->num_pads, &ret, [](media_pad* p, media_v2_pad* k) {
        k->id = p->graph_obj.id;
        k->entity_id = p->entity->graph_obj.id;
        k->flags = static_cast<uint32_t>(p->flags);
        k->index = p->index;
        return true;
      });
  topo->reserved3 = 0;

  topo->num_links = copy_topology_array<media_link, media_v2_link>(
      mdev->links, topo->ptr_links, topo->num_links, &ret, [](media_link* l, media_v2_link* k) {
        if (l->is_backlink) return false;
        k->id = l->graph_obj.id;
        k->source_id = link_source_id(l);
        k->sink_id = link_sink_id(l);
        k->flags = static_cast<uint32_t>(l->flags);
        return true;
      });
  topo->reserved4 = 0;
  return ret;
}

long media_device_request_alloc(media_device* mdev, void* arg) {
  // No request API in the model: upstream answers ENOTTY without req ops.
  return -ENOTTY;
}

constexpr unsigned MEDIA_IOC_FL_GRAPH_MUTEX = 1;

struct media_ioctl_info {
  unsigned int cmd = 0;
  unsigned flags = 0;
  long (*fn)(media_device* mdev, void* arg) = nullptr;
};

constexpr size_t kNumIoctls = _IOC_NR(MEDIA_IOC_REQUEST_ALLOC) + 1;

const std::array<media_ioctl_info, kNumIoctls>& ioctl_table() {
  static const std::array<media_ioctl_info, kNumIoctls> table = [] {
    std::array<media_ioctl_info, kNumIoctls> t{};
    auto add = [&t](unsigned int cmd, unsigned flags, long (*fn)(media_device*, void*)) {
      t[_IOC_NR(cmd)] = media_ioctl_info{cmd, flags, fn};
    };
    add(MEDIA_IOC_DEVICE_INFO, MEDIA_IOC_FL_GRAPH_MUTEX, media_device_get_info);
    add(MEDIA_IOC_ENUM_ENTITIES, MEDIA_IOC_FL_GRAPH_MUTEX, media_device_enum_entities);
    add(MEDIA_IOC_ENUM_LINKS, MEDIA_IOC_FL_GRAPH_MUTEX, media_device_enum_links);
    add(MEDIA_IOC_SETUP_LINK, MEDIA_IOC_FL_GRAPH_MUTEX, media_device_setup_link);
    add(MEDIA_IOC_G_TOPOLOGY, MEDIA_IOC_FL_GRAPH_MUTEX, media_device_get_topology);
    add(MEDIA_IOC_REQUEST_ALLOC, 0, media_device_request_alloc);
    return t;
  }();
  return table;
}

union media_ioctl_arg {
  media_device_info info;
  media_entity_desc entity;
  media_links_enum links;
  media_link_desc link;
  media_v2_topology topology;
  int fd;
};

}  // namespace

long media_device_ioctl(media_device* mdev, unsigned int cmd, unsigned long arg) {
  const auto& table = ioctl_table();
  if (_IOC_NR(cmd) >= table.size() || table[_IOC_NR(cmd)].cmd != cmd) return -ENOIOCTLCMD;
  const media_ioctl_info& info = table[_IOC_NR(cmd)];
  static_assert(sizeof(media_ioctl_arg) >= sizeof(media_v2_topology));

  media_ioctl_arg karg;
  std::memset(&karg, 0, sizeof(karg));
  if ((_IOC_DIR(cmd) & _IOC_WRITE) && copy_from_user(&karg, arg, _IOC_SIZE(cmd))) return -EFAULT;

  long ret;
  if (info.flags & MEDIA_IOC_FL_GRAPH_MUTEX) {
    MutexGuard g(&mdev->graph_mutex);
    ret = info.fn(mdev, &karg);
  } else {
    ret = info.fn(mdev, &karg);
  }
  if (ret == 0 && (_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(arg, &karg, _IOC_SIZE(cmd)))
    ret = -EFAULT;
  return ret;
}

}  // namespace mcf
