// Printing a media topology: see topology.h. The text and dot layouts are
// media-ctl's (v4l-utils utils/media-ctl/media-ctl.c, 1.22):
// media_print_topology_text() and media_print_topology_dot().
#include <cerrno>
#include <cstdarg>
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <map>

#include "tools/topology/topology.h"

namespace mcf::topology {
namespace {

// printf into a std::string.
void appendf(std::string* out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void appendf(std::string* out, const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n > 0) out->append(buf, static_cast<size_t>(std::min<int>(n, sizeof(buf) - 1)));
}

struct flag_name {
  uint32_t flag;
  const char* name;
};

// media-ctl's print_flags(): known names joined by ',', the rest in hex.
std::string flags_string(const flag_name* names, size_t n, uint32_t flags) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (!(flags & names[i].flag)) continue;
    if (!out.empty()) out += ",";
    out += names[i].name;
    flags &= ~names[i].flag;
  }
  if (flags != 0) {
    if (!out.empty()) out += ",";
    appendf(&out, "0x%x", flags);
  }
  return out;
}

constexpr flag_name kLinkFlags[] = {
    {MEDIA_LNK_FL_ENABLED, "ENABLED"},
    {MEDIA_LNK_FL_IMMUTABLE, "IMMUTABLE"},
    {MEDIA_LNK_FL_DYNAMIC, "DYNAMIC"},
};

std::string version_string(uint32_t v) {
  std::string out;
  appendf(&out, "%u.%u.%u", (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
  return out;
}

// libmediactl's legacy view of ENUM_ENTITIES' type.
uint32_t entity_type(uint32_t type) { return type & MEDIA_ENT_TYPE_MASK; }

const char* entity_type_string(uint32_t type) {
  switch (entity_type(type)) {
    case MEDIA_ENT_T_DEVNODE: return "Node";
    case MEDIA_ENT_T_V4L2_SUBDEV: return "V4L2 subdev";
    default: return "Unknown";
  }
}

const char* entity_subtype_string(uint32_t type) {
  static const char* const node_types[] = {"Unknown", "V4L", "FB", "ALSA", "DVB"};
  static const char* const subdev_types[] = {"Unknown", "Sensor", "Flash", "Lens"};
  uint32_t subtype = type & MEDIA_ENT_SUBTYPE_MASK;
  switch (entity_type(type)) {
    case MEDIA_ENT_T_DEVNODE:
      return node_types[subtype < std::size(node_types) ? subtype : 0];
    case MEDIA_ENT_T_V4L2_SUBDEV:
      return subdev_types[subtype < std::size(subdev_types) ? subtype : 0];
    default:
      return node_types[0];
  }
}

const char* pad_type_string(uint32_t flags) {
  if (flags & MEDIA_PAD_FL_SINK) return "Sink";
  if (flags & MEDIA_PAD_FL_SOURCE) return "Source";
  return "Unknown";
}

// libmediactl's per-entity link lists: entities are enumerated in id order
// and each outbound link is appended to its source's list and its sink's.
std::map<uint32_t, std::vector<const media_link_desc*>> link_lists(const media_snapshot& snap) {
  std::map<uint32_t, std::vector<const media_link_desc*>> lists;
  for (const entity_info& e : snap.entities) lists[e.desc.id];
  for (const entity_info& e : snap.entities) {
    for (const media_link_desc& l : e.links) {
      if (lists.count(l.source.entity) == 0 || lists.count(l.sink.entity) == 0) continue;
      lists[l.source.entity].push_back(&l);
      lists[l.sink.entity].push_back(&l);
    }
  }
  return lists;
}

const entity_info* find_entity(const media_snapshot& snap, uint32_t id) {
  for (const entity_info& e : snap.entities)
    if (e.desc.id == id) return &e;
  return nullptr;
}

const char* entity_name(const media_snapshot& snap, uint32_t id) {
  const entity_info* e = find_entity(snap, id);
  return e != nullptr ? e->desc.name : "?";
}

void text_entity(const media_snapshot& snap, const entity_info& e,
                 const std::vector<const media_link_desc*>& links, std::string* out) {
  const media_entity_desc& info = e.desc;
  std::string head;
  appendf(&head, "- entity %u: ", info.id);
  const int padding = static_cast<int>(head.size());
  *out += head;
  const size_t num_links = links.size();
  appendf(out, "%s (%u pad%s, %zu link%s)\n", info.name, info.pads, info.pads > 1 ? "s" : "",
          num_links, num_links > 1 ? "s" : "");
  appendf(out, "%*ctype %s subtype %s flags %x\n", padding, ' ', entity_type_string(info.type),
          entity_subtype_string(info.type), info.flags);
  if (!e.devname.empty()) appendf(out, "%*cdevice node name %s\n", padding, ' ', e.devname.c_str());
  for (size_t j = 0; j < e.pads.size(); ++j) {
    appendf(out, "\tpad%zu: %s\n", j, pad_type_string(e.pads[j].flags));
    for (const media_link_desc* l : links) {
      if (l->source.entity == info.id && l->source.index == j) {
        appendf(out, "\t\t-> \"%s\":%u [", entity_name(snap, l->sink.entity), l->sink.index);
      } else if (l->sink.entity == info.id && l->sink.index == j) {
        appendf(out, "\t\t<- \"%s\":%u [", entity_name(snap, l->source.entity), l->source.index);
      } else {
        continue;
      }
      *out += flags_string(kLinkFlags, std::size(kLinkFlags), l->flags);
      *out += "]\n";
    }
  }
  *out += "\n";
}

// "<port0> 0 | <port1> 1" for the pads with `which` flag.
std::string dot_ports(const entity_info& e, uint32_t which) {
  std::string out;
  unsigned n = 0;
  for (size_t j = 0; j < e.pads.size(); ++j) {
    if (!(e.pads[j].flags & which)) continue;
    appendf(&out, "%s<port%zu> %zu", n++ ? " | " : "", j, j);
  }
  return out;
}

struct name_entry {
  uint32_t value;
  const char* name;
};

constexpr name_entry kFunctions[] = {
    {MEDIA_ENT_F_UNKNOWN, "UNKNOWN"},
    {MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN, "V4L2_SUBDEV_UNKNOWN"},
    {MEDIA_ENT_F_IO_V4L, "IO_V4L"},
    {MEDIA_ENT_F_IO_VBI, "IO_VBI"},
    {MEDIA_ENT_F_IO_SWRADIO, "IO_SWRADIO"},
    {MEDIA_ENT_F_IO_DTV, "IO_DTV"},
    {MEDIA_ENT_F_CAM_SENSOR, "CAM_SENSOR"},
    {MEDIA_ENT_F_FLASH, "FLASH"},
    {MEDIA_ENT_F_LENS, "LENS"},
    {MEDIA_ENT_F_ATV_DECODER, "ATV_DECODER"},
    {MEDIA_ENT_F_TUNER, "TUNER"},
    {MEDIA_ENT_F_PROC_VIDEO_COMPOSER, "PROC_VIDEO_COMPOSER"},
    {MEDIA_ENT_F_PROC_VIDEO_PIXEL_FORMATTER, "PROC_VIDEO_PIXEL_FORMATTER"},
    {MEDIA_ENT_F_PROC_VIDEO_PIXEL_ENC_CONV, "PROC_VIDEO_PIXEL_ENC_CONV"},
    {MEDIA_ENT_F_PROC_VIDEO_LUT, "PROC_VIDEO_LUT"},
    {MEDIA_ENT_F_PROC_VIDEO_SCALER, "PROC_VIDEO_SCALER"},
    {MEDIA_ENT_F_PROC_VIDEO_STATISTICS, "PROC_VIDEO_STATISTICS"},
    {MEDIA_ENT_F_VID_MUX, "VID_MUX"},
    {MEDIA_ENT_F_VID_IF_BRIDGE, "VID_IF_BRIDGE"},
};

constexpr name_entry kInterfaceTypes[] = {
    {MEDIA_INTF_T_DVB_FE, "DVB_FE"},         {MEDIA_INTF_T_DVB_DEMUX, "DVB_DEMUX"},
    {MEDIA_INTF_T_DVB_DVR, "DVB_DVR"},       {MEDIA_INTF_T_DVB_CA, "DVB_CA"},
    {MEDIA_INTF_T_DVB_NET, "DVB_NET"},       {MEDIA_INTF_T_V4L_VIDEO, "V4L_VIDEO"},
    {MEDIA_INTF_T_V4L_VBI, "V4L_VBI"},       {MEDIA_INTF_T_V4L_RADIO, "V4L_RADIO"},
    {MEDIA_INTF_T_V4L_SUBDEV, "V4L_SUBDEV"}, {MEDIA_INTF_T_V4L_SWRADIO, "V4L_SWRADIO"},
    {MEDIA_INTF_T_V4L_TOUCH, "V4L_TOUCH"},
};

const char* lookup(const name_entry* table, size_t n, uint32_t value) {
  for (size_t i = 0; i < n; ++i)
    if (table[i].value == value) return table[i].name;
  return nullptr;
}

constexpr flag_name kV2LinkFlags[] = {
    {MEDIA_LNK_FL_ENABLED, "ENABLED"},
    {MEDIA_LNK_FL_IMMUTABLE, "IMMUTABLE"},
    {MEDIA_LNK_FL_DYNAMIC, "DYNAMIC"},
};

const char* link_type_string(uint32_t flags) {
  switch (flags & MEDIA_LNK_FL_LINK_TYPE) {
    case MEDIA_LNK_FL_DATA_LINK: return "data";
    case MEDIA_LNK_FL_INTERFACE_LINK: return "interface";
    case MEDIA_LNK_FL_ANCILLARY_LINK: return "ancillary";
    default: return "?";
  }
}

// "entity 1", "pad 2", "interface 13" for a G_TOPOLOGY id.
std::string gobj_string(uint32_t id) {
  static const char* const kinds[] = {"entity", "pad", "link", "interface"};
  uint32_t type = id >> 24;
  std::string out;
  appendf(&out, "%s %u", type < std::size(kinds) ? kinds[type] : "object", id & 0xffffff);
  return out;
}

}  // namespace

const char* entity_function_name(uint32_t function) {
  return lookup(kFunctions, std::size(kFunctions), function);
}

const char* interface_type_name(uint32_t intf_type) {
  return lookup(kInterfaceTypes, std::size(kInterfaceTypes), intf_type);
}

std::string format_text(const media_snapshot& snap) {
  const media_device_info& info = snap.info;
  std::string out;
  appendf(&out, "Media controller API version %s\n\n", version_string(info.media_version).c_str());
  appendf(&out,
          "Media device information\n"
          "------------------------\n"
          "driver          %s\n"
          "model           %s\n"
          "serial          %s\n"
          "bus info        %s\n"
          "hw revision     0x%x\n"
          "driver version  %s\n\n",
          info.driver, info.model, info.serial, info.bus_info, info.hw_revision,
          version_string(info.driver_version).c_str());
  out += "Device topology\n";
  auto lists = link_lists(snap);
  for (const entity_info& e : snap.entities) text_entity(snap, e, lists[e.desc.id], &out);
  return out;
}

std::string format_dot(const media_snapshot& snap) {
  std::string out = "digraph board {\n\trankdir=TB\n";
  auto lists = link_lists(snap);
  for (const entity_info& e : snap.entities) {
    const media_entity_desc& info = e.desc;
    switch (entity_type(info.type)) {
      case MEDIA_ENT_T_DEVNODE:
        appendf(&out,
                "\tn%08x [label=\"%s\\n%s\", shape=box, style=filled, fillcolor=yellow]\n",
                info.id, info.name, e.devname.c_str());
        break;
      case MEDIA_ENT_T_V4L2_SUBDEV:
        appendf(&out, "\tn%08x [label=\"{{%s} | %s\\n%s | {%s}}\", shape=Mrecord, style=filled, "
                "fillcolor=green]\n",
                info.id, dot_ports(e, MEDIA_PAD_FL_SINK).c_str(), info.name, e.devname.c_str(),
                dot_ports(e, MEDIA_PAD_FL_SOURCE).c_str());
        break;
      default:
        continue;
    }
    for (const media_link_desc* l : lists[info.id]) {
      if (l->source.entity != info.id) continue;
      const entity_info* sink = find_entity(snap, l->sink.entity);
      appendf(&out, "\tn%08x", l->source.entity);
      if (entity_type(info.type) == MEDIA_ENT_T_V4L2_SUBDEV)
        appendf(&out, ":port%u", l->source.index);
      appendf(&out, " -> n%08x", l->sink.entity);
      if (sink != nullptr && entity_type(sink->desc.type) == MEDIA_ENT_T_V4L2_SUBDEV)
        appendf(&out, ":port%u", l->sink.index);
      if (l->flags & MEDIA_LNK_FL_IMMUTABLE)
        out += " [style=bold]";
      else if (!(l->flags & MEDIA_LNK_FL_ENABLED))
        out += " [style=dashed]";
      out += "\n";
    }
  }
  out += "}\n";
  return out;
}

std::string format_v2_text(const media_snapshot& snap) {
  std::string out;
  appendf(&out, "topology version %llu: %zu entities, %zu interfaces, %zu pads, %zu links\n",
          static_cast<unsigned long long>(snap.topology_version), snap.v2_entities.size(),
          snap.v2_interfaces.size(), snap.v2_pads.size(), snap.v2_links.size());
  for (const media_v2_entity& e : snap.v2_entities) {
    const char* fn = entity_function_name(e.function);
    appendf(&out, "entity %u: %s (%s", e.id, e.name, fn != nullptr ? fn : "");
    if (fn == nullptr) appendf(&out, "0x%08x", e.function);
    appendf(&out, ", flags 0x%x)\n", e.flags);
  }
  for (const media_v2_interface& i : snap.v2_interfaces) {
    const char* type = interface_type_name(i.intf_type);
    std::string dev = devnode_name(i.devnode.major, i.devnode.minor);
    appendf(&out, "interface %u: %s", i.id & 0xffffff, type != nullptr ? type : "");
    if (type == nullptr) appendf(&out, "0x%08x", i.intf_type);
    appendf(&out, " %u:%u %s\n", i.devnode.major, i.devnode.minor,
            dev.empty() ? "(no node)" : dev.c_str());
  }
  for (const media_v2_pad& p : snap.v2_pads) {
    appendf(&out, "pad %u: entity %u index %u %s\n", p.id & 0xffffff, p.entity_id, p.index,
            (p.flags & MEDIA_PAD_FL_SINK) ? "SINK" : (p.flags & MEDIA_PAD_FL_SOURCE) ? "SOURCE" : "?");
  }
  for (const media_v2_link& l : snap.v2_links) {
    appendf(&out, "link %u: %s -> %s [%s] %s\n", l.id & 0xffffff, gobj_string(l.source_id).c_str(),
            gobj_string(l.sink_id).c_str(),
            flags_string(kV2LinkFlags, std::size(kV2LinkFlags), l.flags & ~MEDIA_LNK_FL_LINK_TYPE)
                .c_str(),
            link_type_string(l.flags));
  }
  return out;
}

namespace {
std::string failed(int fd, int err) {
  std::string out;
  appendf(&out, "Failed to enumerate %d (%d)\n", fd, err);
  return out;
}
}  // namespace

std::string topology_text(process& proc, int fd, user_addr_t scratch) {
  media_snapshot snap;
  int err = topology_read(proc, fd, &snap, scratch);
  return err != 0 ? failed(fd, err) : format_text(snap);
}

std::string topology_dot(process& proc, int fd, user_addr_t scratch) {
  media_snapshot snap;
  int err = topology_read(proc, fd, &snap, scratch);
  return err != 0 ? failed(fd, err) : format_dot(snap);
}

std::string topology_v2_text(process& proc, int fd, user_addr_t scratch) {
  media_snapshot snap;
  int err = topology_read(proc, fd, &snap, scratch);
  return err != 0 ? failed(fd, err) : format_v2_text(snap);
}

}  // namespace mcf::topology
