// Reading a media device's topology through its ioctls: see topology.h.
// The enumeration follows libmediactl's media_device_enumerate (DEVICE_INFO,
// ENUM_ENTITIES with MEDIA_ENT_ID_FLAG_NEXT until EINVAL, ENUM_LINKS per
// entity); G_TOPOLOGY uses the documented two-call pattern.
#include <cerrno>
#include <cstring>

#include "core/kernel/device.h"
#include "core/kernel/devtmpfs.h"
#include "tools/topology/topology.h"

namespace mcf::topology {
namespace {

// A bump allocator over [scratch, scratch + kScratchSize) of the process's
// user memory.
class UserScratch {
 public:
  UserScratch(process& proc, user_addr_t base) : proc_(proc), base_(base), next_(base) {}

  // A user range of n bytes (8-aligned), or 0 when the scratch is full.
  user_addr_t alloc(size_t n) {
    n = (n + 7) & ~size_t{7};
    if (next_ + n > base_ + kScratchSize) return 0;
    user_addr_t at = next_;
    next_ += n;
    return at;
  }
  void reset() { next_ = base_; }

  template <typename T>
  long ioctl(int fd, unsigned long cmd, T* arg) {
    user_addr_t at = alloc(sizeof(T));
    if (at == 0 || !proc_.mem().write(at, arg, sizeof(T))) return -EFAULT;
    long ret = proc_.ioctl(fd, cmd, at);
    proc_.mem().read(at, arg, sizeof(T));
    return ret;
  }

  template <typename T>
  bool read_array(user_addr_t at, size_t n, std::vector<T>* out) {
    out->resize(n);
    return n == 0 || proc_.mem().read(at, out->data(), n * sizeof(T));
  }

 private:
  process& proc_;
  const user_addr_t base_;
  user_addr_t next_;
};

int read_entities(UserScratch& mem, int fd, media_snapshot* out) {
  // ENUM_ENTITIES: the next entity after `id` until there is none (EINVAL).
  uint32_t id = 0;
  for (;;) {
    mem.reset();
    media_entity_desc desc = {};
    desc.id = id | MEDIA_ENT_ID_FLAG_NEXT;
    long ret = mem.ioctl(fd, MEDIA_IOC_ENUM_ENTITIES, &desc);
    if (ret == -EINVAL) break;
    if (ret < 0) return static_cast<int>(ret);
    entity_info e;
    e.desc = desc;
    id = desc.id;
    out->entities.push_back(std::move(e));
  }
  // ENUM_LINKS: the pads and outbound data links of each. The kernel writes
  // every link it has, whatever the array size: leave room for more.
  for (entity_info& e : out->entities) {
    mem.reset();
    const size_t num_pads = e.desc.pads, room = size_t{e.desc.links} + 16;
    user_addr_t upads = mem.alloc(num_pads * sizeof(media_pad_desc) + 1);
    user_addr_t ulinks = mem.alloc(room * sizeof(media_link_desc));
    if (upads == 0 || ulinks == 0) return -ENOMEM;
    media_links_enum links = {};
    links.entity = e.desc.id;
    links.pads = reinterpret_cast<media_pad_desc*>(static_cast<uintptr_t>(upads));
    links.links = reinterpret_cast<media_link_desc*>(static_cast<uintptr_t>(ulinks));
    long ret = mem.ioctl(fd, MEDIA_IOC_ENUM_LINKS, &links);
    if (ret < 0) return static_cast<int>(ret);
    if (!mem.read_array(upads, num_pads, &e.pads) ||
        !mem.read_array(ulinks, e.desc.links, &e.links))
      return -EFAULT;
    if (e.desc.dev.major != 0 || e.desc.dev.minor != 0)
      e.devname = devnode_name(e.desc.dev.major, e.desc.dev.minor);
  }
  return 0;
}

int read_topology(UserScratch& mem, int fd, media_snapshot* out) {
  // Counts first, then the arrays; retry if the topology grew in between.
  for (int attempt = 0; attempt < 8; ++attempt) {
    mem.reset();
    media_v2_topology topo = {};
    long ret = mem.ioctl(fd, MEDIA_IOC_G_TOPOLOGY, &topo);
    if (ret < 0) return static_cast<int>(ret);
    const uint32_t ne = topo.num_entities, ni = topo.num_interfaces, np = topo.num_pads,
                   nl = topo.num_links;
    topo.ptr_entities = mem.alloc(ne * sizeof(media_v2_entity) + 1);
    topo.ptr_interfaces = mem.alloc(ni * sizeof(media_v2_interface) + 1);
    topo.ptr_pads = mem.alloc(np * sizeof(media_v2_pad) + 1);
    topo.ptr_links = mem.alloc(nl * sizeof(media_v2_link) + 1);
    if (topo.ptr_entities == 0 || topo.ptr_interfaces == 0 || topo.ptr_pads == 0 ||
        topo.ptr_links == 0)
      return -ENOMEM;
    const media_v2_topology arrays = topo;
    ret = mem.ioctl(fd, MEDIA_IOC_G_TOPOLOGY, &topo);
    if (ret == -ENOSPC) continue;
    if (ret < 0) return static_cast<int>(ret);
    out->topology_version = topo.topology_version;
    if (!mem.read_array(arrays.ptr_entities, topo.num_entities, &out->v2_entities) ||
        !mem.read_array(arrays.ptr_interfaces, topo.num_interfaces, &out->v2_interfaces) ||
        !mem.read_array(arrays.ptr_pads, topo.num_pads, &out->v2_pads) ||
        !mem.read_array(arrays.ptr_links, topo.num_links, &out->v2_links))
      return -EFAULT;
    return 0;
  }
  return -EAGAIN;
}

}  // namespace

std::string devnode_name(uint32_t major, uint32_t minor) {
  const dev_t want = MKDEV(major, minor);
  for (const std::string& path : devtmpfs_list())
    if (devtmpfs_lookup(path) == want) return path;
  return "";
}

int topology_read(process& proc, int fd, media_snapshot* out, user_addr_t scratch) {
  *out = media_snapshot{};
  if (!proc.mem().contains(scratch, kScratchSize)) return -EFAULT;
  UserScratch mem(proc, scratch);
  long ret = mem.ioctl(fd, MEDIA_IOC_DEVICE_INFO, &out->info);
  if (ret < 0) return static_cast<int>(ret);
  int err = read_entities(mem, fd, out);
  if (err == 0) err = read_topology(mem, fd, out);
  return err;
}

}  // namespace mcf::topology
