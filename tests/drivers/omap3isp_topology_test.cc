// omap3isp topology: the upstream entities, pads, links and nodes, before the
// sensor binds (video nodes only, no media node, no sub-device nodes: the
// in-kernel graph is checked) and after (G_TOPOLOGY and the ENUM ioctls from
// user space), with upstream's entity ids; the sensor's endpoint on CSI2a,
// CCP2 or the parallel input; the link rules of the modules; the sensor
// leaving and coming back.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include "core/kernel/devtmpfs.h"
#include "tests/drivers/omap3isp_test_util.h"

namespace mcf::omap3isp_test {
namespace {

constexpr uint32_t SINK = MEDIA_PAD_FL_SINK;
constexpr uint32_t SOURCE = MEDIA_PAD_FL_SOURCE;
constexpr uint32_t MC = MEDIA_PAD_FL_MUST_CONNECT;
constexpr uint32_t EN_IMM = MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE;

struct ExpectedEntity {
  const char* name;
  uint32_t id;        // upstream's on a 4.11 DM3730 (media-ctl -p)
  uint32_t function;
  uint32_t flags;
  std::vector<uint32_t> pads;
  bool video;         // a video node (else a sub-device node)
};

// The ISP's entities in registration order (upstream's table, reference §2.1).
const std::vector<ExpectedEntity>& isp_entities() {
  static const std::vector<ExpectedEntity> e = {
      {"OMAP3 ISP CCP2", 1, MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN, 0, {SINK | MC, SOURCE}, false},
      {"OMAP3 ISP CCP2 input", 4, MEDIA_ENT_F_IO_V4L, 0, {SOURCE | MC}, true},
      {"OMAP3 ISP CSI2a", 8, MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN, 0, {SINK | MC, SOURCE}, false},
      {"OMAP3 ISP CSI2a output", 11, MEDIA_ENT_F_IO_V4L, 0, {SINK | MC}, true},
      {"OMAP3 ISP CCDC", 15, MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN, 0, {SINK | MC, SOURCE, SOURCE}, false},
      {"OMAP3 ISP CCDC output", 19, MEDIA_ENT_F_IO_V4L, 0, {SINK | MC}, true},
      {"OMAP3 ISP preview", 23, MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN, 0, {SINK | MC, SOURCE}, false},
      {"OMAP3 ISP preview input", 26, MEDIA_ENT_F_IO_V4L, 0, {SOURCE | MC}, true},
      {"OMAP3 ISP preview output", 30, MEDIA_ENT_F_IO_V4L, 0, {SINK | MC}, true},
      {"OMAP3 ISP resizer", 34, MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN, 0, {SINK | MC, SOURCE}, false},
      {"OMAP3 ISP resizer input", 37, MEDIA_ENT_F_IO_V4L, 0, {SOURCE | MC}, true},
      {"OMAP3 ISP resizer output", 41, MEDIA_ENT_F_IO_V4L, MEDIA_ENT_FL_DEFAULT, {SINK | MC}, true},
      {"OMAP3 ISP AEWB", 45, MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN, 0, {SINK | MC}, false},
      {"OMAP3 ISP AF", 47, MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN, 0, {SINK | MC}, false},
      {"OMAP3 ISP histogram", 49, MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN, 0, {SINK | MC}, false},
  };
  return e;
}

// The sensor, bound after the ISP registered its 15 entities and 15 links.
const ExpectedEntity kSensor = {"mcf-sensor.0", 81, MEDIA_ENT_F_CAM_SENSOR, 0, {SOURCE}, false};

using LinkList = std::vector<std::pair<std::string, uint32_t>>;

// isp_create_links(), sorted as Topology::data_links() sorts.
LinkList isp_links() {
  LinkList l = {
      {"OMAP3 ISP CSI2a:1->OMAP3 ISP CSI2a output:0", 0},
      {"OMAP3 ISP CCP2 input:0->OMAP3 ISP CCP2:0", 0},
      {"OMAP3 ISP CCDC:1->OMAP3 ISP CCDC output:0", 0},
      {"OMAP3 ISP preview input:0->OMAP3 ISP preview:0", 0},
      {"OMAP3 ISP preview:1->OMAP3 ISP preview output:0", 0},
      {"OMAP3 ISP resizer input:0->OMAP3 ISP resizer:0", 0},
      {"OMAP3 ISP resizer:1->OMAP3 ISP resizer output:0", 0},
      {"OMAP3 ISP CSI2a:1->OMAP3 ISP CCDC:0", 0},
      {"OMAP3 ISP CCP2:1->OMAP3 ISP CCDC:0", 0},
      {"OMAP3 ISP CCDC:2->OMAP3 ISP preview:0", 0},
      {"OMAP3 ISP CCDC:1->OMAP3 ISP resizer:0", 0},
      {"OMAP3 ISP preview:1->OMAP3 ISP resizer:0", 0},
      {"OMAP3 ISP CCDC:2->OMAP3 ISP AEWB:0", EN_IMM},
      {"OMAP3 ISP CCDC:2->OMAP3 ISP AF:0", EN_IMM},
      {"OMAP3 ISP CCDC:2->OMAP3 ISP histogram:0", EN_IMM},
  };
  std::sort(l.begin(), l.end());
  return l;
}
LinkList with(LinkList l, const std::string& link, uint32_t flags) {
  l.emplace_back(link, flags);
  std::sort(l.begin(), l.end());
  return l;
}

// The in-kernel graph, read under the graph mutex, in the form of a Topology
// (for the checks before /dev/mediaN exists).
Topology kernel_topology(media_device* mdev) {
  Topology t;
  MutexGuard g(&mdev->graph_mutex);
  for (media_entity* e : mdev->entities) {
    media_v2_entity v = {};
    v.id = media_entity_id(e);
    std::snprintf(v.name, sizeof(v.name), "%s", e->name.c_str());
    v.function = e->function;
    v.flags = static_cast<uint32_t>(e->flags);
    t.entities.push_back(v);
  }
  for (media_pad* p : mdev->pads) {
    media_v2_pad v = {};
    v.id = p->graph_obj.id;
    v.entity_id = media_entity_id(p->entity);
    v.flags = static_cast<uint32_t>(p->flags);
    v.index = p->index;
    t.pads.push_back(v);
  }
  for (media_link* l : mdev->links) {
    if (media_link_type(l) != MEDIA_LNK_FL_DATA_LINK || l->is_backlink) continue;
    media_v2_link v = {};
    v.id = l->graph_obj.id;
    v.source_id = l->source->graph_obj.id;
    v.sink_id = l->sink->graph_obj.id;
    v.flags = static_cast<uint32_t>(l->flags);
    t.links.push_back(v);
  }
  return t;
}

void expect_entity(const Topology& t, const ExpectedEntity& want, bool check_id) {
  SCOPED_TRACE(want.name);
  const media_v2_entity* e = t.entity(want.name);
  ASSERT_NE(e, nullptr);
  if (check_id) EXPECT_EQ(e->id, want.id);
  EXPECT_EQ(e->function, want.function);
  EXPECT_EQ(e->flags, want.flags);
  std::vector<media_v2_pad> pads = t.pads_of(e->id);
  ASSERT_EQ(pads.size(), want.pads.size());
  for (size_t i = 0; i < pads.size(); ++i) {
    EXPECT_EQ(pads[i].index, i);
    EXPECT_EQ(pads[i].flags, want.pads[i]) << "pad " << i;
  }
}


// A media-ctl -p style dump (without formats), built the way libmediactl
// builds its view: DEVICE_INFO, ENUM_ENTITIES, ENUM_LINKS; device nodes
// found by their (major, minor).
std::string media_ctl_dump(Omap3ispTest* t, process& proc, int mfd) {
  std::string out;
  char line[256];
  media_device_info info = {};
  EXPECT_EQ(user_ioctl(proc, mfd, MEDIA_IOC_DEVICE_INFO, &info), 0);
  std::snprintf(line, sizeof(line),
                "Media device information\n------------------------\n"
                "driver          %s\nmodel           %s\nbus info        %s\n"
                "hw revision     0x%x\n\nDevice topology\n",
                info.driver, info.model, info.bus_info, info.hw_revision);
  out += line;
  struct Ent {
    media_entity_desc desc;
    std::vector<media_pad_desc> pads;
    std::vector<media_link_desc> links;  // outbound
  };
  std::vector<Ent> ents;
  media_entity_desc e = {};
  e.id = MEDIA_ENT_ID_FLAG_NEXT;
  while (user_ioctl(proc, mfd, MEDIA_IOC_ENUM_ENTITIES, &e) == 0) {
    Ent ent;
    ent.desc = e;
    ent.pads.resize(e.pads);
    ent.links.resize(e.links);
    media_links_enum le = {};
    le.entity = e.id;
    le.pads = reinterpret_cast<media_pad_desc*>(static_cast<uintptr_t>(kArrays));
    le.links = reinterpret_cast<media_link_desc*>(static_cast<uintptr_t>(kArrays + 0x1000));
    EXPECT_EQ(user_ioctl(proc, mfd, MEDIA_IOC_ENUM_LINKS, &le), 0);
    proc.mem().read(kArrays, ent.pads.data(), ent.pads.size() * sizeof(media_pad_desc));
    proc.mem().read(kArrays + 0x1000, ent.links.data(), ent.links.size() * sizeof(media_link_desc));
    ents.push_back(ent);
    e.id |= MEDIA_ENT_ID_FLAG_NEXT;
  }
  auto name_of = [&ents](uint32_t id) -> std::string {
    for (const Ent& x : ents)
      if (x.desc.id == id) return x.desc.name;
    return "?";
  };
  auto flags_of = [](uint32_t f) {
    std::string s;
    if (f & MEDIA_LNK_FL_ENABLED) s += "ENABLED";
    if (f & MEDIA_LNK_FL_IMMUTABLE) s += s.empty() ? "IMMUTABLE" : ",IMMUTABLE";
    return "[" + s + "]";
  };
  for (const Ent& x : ents) {
    unsigned nlinks = 0;
    for (const Ent& y : ents)
      for (const media_link_desc& l : y.links)
        nlinks += (l.source.entity == x.desc.id) + (l.sink.entity == x.desc.id);
    bool subdev = (x.desc.type & 0xffff0000u) == MEDIA_ENT_T_V4L2_SUBDEV;
    const char* subtype = x.desc.type == MEDIA_ENT_F_CAM_SENSOR  ? "Sensor"
                          : x.desc.type == MEDIA_ENT_F_IO_V4L    ? "V4L"
                                                                 : "Unknown";
    std::snprintf(line, sizeof(line), "- entity %u: %s (%u pad%s, %u link%s)\n", x.desc.id,
                  x.desc.name, x.desc.pads, x.desc.pads == 1 ? "" : "s", nlinks,
                  nlinks == 1 ? "" : "s");
    out += line;
    std::snprintf(line, sizeof(line), "            type %s subtype %s flags %x\n",
                  subdev ? "V4L2 subdev" : "Node", subtype, x.desc.flags);
    out += line;
    std::string node;
    for (const std::string& path : devtmpfs_list())
      if (devtmpfs_lookup(path) == MKDEV(x.desc.dev.major, x.desc.dev.minor)) node = path;
    if (!node.empty()) out += "            device node name " + node + "\n";
    for (const media_pad_desc& pad : x.pads) {
      std::snprintf(line, sizeof(line), "\tpad%u: %s%s\n", pad.index,
                    (pad.flags & MEDIA_PAD_FL_SINK) ? "Sink" : "Source",
                    (pad.flags & MEDIA_PAD_FL_MUST_CONNECT) ? ", Must connect" : "");
      out += line;
      for (const Ent& y : ents) {
        for (const media_link_desc& l : y.links) {
          if (l.source.entity == x.desc.id && l.source.index == pad.index) {
            out += "\t\t-> \"" + name_of(l.sink.entity) + "\":" + std::to_string(l.sink.index) +
                   " " + flags_of(l.flags) + "\n";
          } else if (l.sink.entity == x.desc.id && l.sink.index == pad.index) {
            out += "\t\t<- \"" + name_of(l.source.entity) + "\":" +
                   std::to_string(l.source.index) + " " + flags_of(l.flags) + "\n";
          }
        }
      }
    }
    out += "\n";
  }
  (void)t;
  return out;
}

using Omap3ispTopologyTest = Omap3ispTest;

// Upstream: the video nodes are registered at probe; the sub-device nodes
// and /dev/mediaN only in the notifier's complete(), once the sensor bound.
TEST_F(Omap3ispTopologyTest, BeforeTheSensorBindsOnlyTheVideoNodesExist) {
  add_isp();
  isp_device* d = isp();
  EXPECT_EQ(d->complete_calls.load(), 0);
  EXPECT_EQ(media_path(), "");
  EXPECT_EQ(v4l2_async_notifier_count(), 1u);
  EXPECT_FALSE(v4l2_async_nf_is_complete(&d->notifier));
  for (isp_video* v : {&d->isp_ccp2.video_in, &d->isp_csi2a.video_out, &d->isp_ccdc.video_out,
                       &d->isp_prev.video_in, &d->isp_prev.video_out, &d->isp_res.video_in,
                       &d->isp_res.video_out})
    EXPECT_NE(video_path(v), "") << v->video.name;
  for (v4l2_subdev* sd : {&d->isp_ccp2.subdev, &d->isp_csi2a.subdev, &d->isp_ccdc.subdev,
                          &d->isp_prev.subdev, &d->isp_res.subdev, &d->isp_aewb.subdev,
                          &d->isp_af.subdev, &d->isp_hist.subdev})
    EXPECT_EQ(subdev_path(sd), "") << sd->name;
  EXPECT_EQ(devtmpfs_nodes_of("omap3isp.0", "video").size(), 7u);
  EXPECT_EQ(devtmpfs_nodes_of("omap3isp.0", "media").size(), 0u);

  Topology t = kernel_topology(&d->media_dev);
  EXPECT_EQ(t.entities.size(), isp_entities().size());
  for (const ExpectedEntity& e : isp_entities()) expect_entity(t, e, /*check_id=*/true);
  EXPECT_EQ(t.data_links(), isp_links());
  // A video node opens (and answers) before the media device exists.
  int fd = open_path(video_path(&d->isp_ccdc.video_out));
  ASSERT_GE(fd, 0);
  v4l2_capability cap = {};
  EXPECT_EQ(ioctl(fd, VIDIOC_QUERYCAP, &cap), 0);
}

TEST_F(Omap3ispTopologyTest, AfterTheSensorBindsGTopologyHasUpstreamsGraph) {
  add_isp();
  add_sensor();
  isp_device* d = isp();
  EXPECT_EQ(d->bound_calls.load(), 1);
  EXPECT_EQ(d->complete_calls.load(), 1);
  ASSERT_NE(media_path(), "");
  int mfd = open_path(media_path());
  ASSERT_GE(mfd, 0);
  Topology t = topology(mfd);
  EXPECT_EQ(t.entities.size(), 16u);  // upstream's dump: 16 entities
  for (const ExpectedEntity& e : isp_entities()) expect_entity(t, e, true);
  expect_entity(t, kSensor, true);
  EXPECT_EQ(t.data_links(), with(isp_links(), "mcf-sensor.0:0->OMAP3 ISP CSI2a:0", EN_IMM));
  EXPECT_EQ(t.pads.size(), 22u);

  // Interfaces: 7 video nodes, 9 sub-device nodes (8 ISP + the sensor),
  // each with one interface link to its entity.
  std::map<uint32_t, int> types;
  for (const media_v2_interface& i : t.interfaces) {
    types[i.intf_type]++;
    EXPECT_EQ(i.devnode.major, VIDEO_MAJOR);
  }
  EXPECT_EQ(types[MEDIA_INTF_T_V4L_VIDEO], 7);
  EXPECT_EQ(types[MEDIA_INTF_T_V4L_SUBDEV], 9);
  std::set<uint32_t> linked;
  for (const media_v2_link& l : t.links)
    if ((l.flags & MEDIA_LNK_FL_LINK_TYPE) == MEDIA_LNK_FL_INTERFACE_LINK) linked.insert(l.sink_id);
  EXPECT_EQ(linked.size(), 16u);  // every entity has its node
}

TEST_F(Omap3ispTopologyTest, SensorFirstGivesTheSameGraph) {
  bind_both();
  int mfd = open_path(media_path());
  Topology t = topology(mfd);
  for (const ExpectedEntity& e : isp_entities()) expect_entity(t, e, true);
  expect_entity(t, kSensor, true);
  EXPECT_EQ(t.data_links(), with(isp_links(), "mcf-sensor.0:0->OMAP3 ISP CSI2a:0", EN_IMM));
}

TEST_F(Omap3ispTopologyTest, DeviceInfoAndEnumEntities) {
  bind_both();
  int mfd = open_path(media_path());
  media_device_info info = {};
  ASSERT_EQ(ioctl(mfd, MEDIA_IOC_DEVICE_INFO, &info), 0);
  EXPECT_STREQ(info.driver, "omap3isp");
  EXPECT_STREQ(info.model, "TI OMAP3 ISP");
  EXPECT_STREQ(info.bus_info, "platform:omap3isp.0");
  EXPECT_EQ(info.hw_revision, 0xf0u);

  // ENUM_ENTITIES: ids, names, types, pads, outbound data links.
  std::map<std::string, media_entity_desc> by_name;
  media_entity_desc e = {};
  e.id = MEDIA_ENT_ID_FLAG_NEXT;
  while (ioctl(mfd, MEDIA_IOC_ENUM_ENTITIES, &e) == 0) {
    by_name[e.name] = e;
    e.id |= MEDIA_ENT_ID_FLAG_NEXT;
  }
  ASSERT_EQ(by_name.size(), 16u);
  EXPECT_EQ(by_name["OMAP3 ISP CCDC"].type, MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN);
  EXPECT_EQ(by_name["OMAP3 ISP CCDC"].pads, 3);
  EXPECT_EQ(by_name["OMAP3 ISP CCDC"].links, 6);  // OF x2, VP x4 (preview, AEWB, AF, hist)
  EXPECT_EQ(by_name["OMAP3 ISP CSI2a"].links, 2);
  EXPECT_EQ(by_name["OMAP3 ISP resizer output"].flags, MEDIA_ENT_FL_DEFAULT);
  EXPECT_EQ(by_name["OMAP3 ISP resizer output"].type, MEDIA_ENT_F_IO_V4L);
  EXPECT_EQ(by_name["OMAP3 ISP resizer output"].dev.major, VIDEO_MAJOR);
  EXPECT_EQ(by_name["mcf-sensor.0"].type, MEDIA_ENT_F_CAM_SENSOR);
  EXPECT_EQ(by_name["mcf-sensor.0"].links, 1);
}

TEST_F(Omap3ispTopologyTest, VideoNodesQuerycapAsUpstream) {
  bind_both();
  isp_device* d = isp();
  struct {
    isp_video* video;
    uint32_t caps;
  } const nodes[] = {
      {&d->isp_ccdc.video_out, V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING},
      {&d->isp_res.video_in, V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_STREAMING},
  };
  for (const auto& n : nodes) {
    int fd = open_path(video_path(n.video));
    ASSERT_GE(fd, 0);
    v4l2_capability cap = {};
    ASSERT_EQ(ioctl(fd, VIDIOC_QUERYCAP, &cap), 0);
    EXPECT_STREQ(reinterpret_cast<char*>(cap.driver), "ispvideo");
    EXPECT_STREQ(reinterpret_cast<char*>(cap.card), n.video->video.name);
    EXPECT_STREQ(reinterpret_cast<char*>(cap.bus_info), "media");
    EXPECT_EQ(cap.device_caps & ~V4L2_CAP_EXT_PIX_FORMAT, n.caps);
  }
  EXPECT_STREQ(d->isp_res.video_in.video.name, "OMAP3 ISP resizer input");
  EXPECT_STREQ(d->isp_ccp2.video_in.video.name, "OMAP3 ISP CCP2 input");
}

// The endpoint decides the receiver and the link's flags (isp_link_entity).
TEST_F(Omap3ispTopologyTest, SensorEndpointOnCcp2OrParallel) {
  struct {
    omap3isp_endpoint ep;
    const char* link;
    uint32_t flags;
  } const cases[] = {
      {OMAP3ISP_EP_CCP2, "mcf-sensor.0:0->OMAP3 ISP CCP2:0", 0},
      {OMAP3ISP_EP_PARALLEL, "mcf-sensor.0:0->OMAP3 ISP CCDC:0", 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.link);
    omap3isp_set_endpoint(0, c.ep);
    bind_both();
    int mfd = open_path(media_path());
    EXPECT_EQ(topology(mfd).data_links(), with(isp_links(), c.link, c.flags));
    proc_.close_all();
    remove_isp();
    remove_sensor();
    omap3isp_set_endpoint(0, OMAP3ISP_EP_CSI2A);
    EXPECT_EQ(alive_objects(), "");
  }
}

// ccdc_link_setup and friends: one input, one output per module (-EBUSY);
// immutable links stay as they are (-EINVAL).
TEST_F(Omap3ispTopologyTest, LinkSetupRules) {
  bind_both();
  isp_device* d = isp();
  int mfd = open_path(media_path());
  media_entity* csi2 = &d->isp_csi2a.subdev.entity;
  media_entity* ccp2 = &d->isp_ccp2.subdev.entity;
  media_entity* ccdc = &d->isp_ccdc.subdev.entity;
  media_entity* prev = &d->isp_prev.subdev.entity;
  media_entity* res = &d->isp_res.subdev.entity;
  media_entity* ccdc_out = &d->isp_ccdc.video_out.video.entity;
  constexpr uint32_t EN = MEDIA_LNK_FL_ENABLED;

  EXPECT_EQ(setup_link(mfd, csi2, CSI2_PAD_SOURCE, ccdc, CCDC_PAD_SINK, EN), 0);
  EXPECT_EQ(setup_link(mfd, ccp2, CCP2_PAD_SOURCE, ccdc, CCDC_PAD_SINK, EN), -EBUSY);
  // CCDC outputs exclude each other.
  EXPECT_EQ(setup_link(mfd, ccdc, CCDC_PAD_SOURCE_VP, prev, PREV_PAD_SINK, EN), 0);
  EXPECT_EQ(setup_link(mfd, ccdc, CCDC_PAD_SOURCE_OF, ccdc_out, 0, EN), -EBUSY);
  EXPECT_EQ(setup_link(mfd, ccdc, CCDC_PAD_SOURCE_OF, res, RESZ_PAD_SINK, EN), -EBUSY);
  // The preview's input is the CCDC: memory is refused.
  EXPECT_EQ(setup_link(mfd, &d->isp_prev.video_in.video.entity, 0, prev, PREV_PAD_SINK, EN), -EBUSY);
  EXPECT_EQ(setup_link(mfd, ccdc, CCDC_PAD_SOURCE_VP, prev, PREV_PAD_SINK, 0), 0);
  EXPECT_EQ(setup_link(mfd, ccdc, CCDC_PAD_SOURCE_OF, ccdc_out, 0, EN), 0);
  // CSI2a writes to memory or feeds the CCDC.
  EXPECT_EQ(setup_link(mfd, csi2, CSI2_PAD_SOURCE, &d->isp_csi2a.video_out.video.entity, 0, EN),
            -EBUSY);
  // Immutable links: same flags 0, anything else -EINVAL.
  EXPECT_EQ(setup_link(mfd, &sensor()->sd.entity, 0, csi2, CSI2_PAD_SINK, EN_IMM), 0);
  EXPECT_EQ(setup_link(mfd, &sensor()->sd.entity, 0, csi2, CSI2_PAD_SINK, 0), -EINVAL);
  EXPECT_EQ(setup_link(mfd, ccdc, CCDC_PAD_SOURCE_VP, &d->isp_af.subdev.entity, 0, 0), -EINVAL);
}

// The sensor leaves: its entity and link leave the graph, the media node
// stays. It comes back: bound and complete run again, the graph is whole.
TEST_F(Omap3ispTopologyTest, SensorLeavesAndComesBack) {
  bind_both();
  int mfd = open_path(media_path());
  remove_sensor();
  EXPECT_EQ(isp()->unbind_calls.load(), 1);
  Topology t = topology(mfd);
  EXPECT_EQ(t.entities.size(), 15u);
  EXPECT_EQ(t.entity("mcf-sensor.0"), nullptr);
  EXPECT_EQ(t.data_links(), isp_links());

  add_sensor();
  EXPECT_EQ(isp()->bound_calls.load(), 2);
  EXPECT_EQ(isp()->complete_calls.load(), 2);
  t = topology(mfd);
  EXPECT_EQ(t.entities.size(), 16u);
  expect_entity(t, kSensor, /*check_id=*/false);
  EXPECT_EQ(t.data_links(), with(isp_links(), "mcf-sensor.0:0->OMAP3 ISP CSI2a:0", EN_IMM));
  EXPECT_NE(subdev_path(&sensor()->sd), "");
}

// Sub-device formats as upstream's defaults and propagation rules.
TEST_F(Omap3ispTopologyTest, DefaultFormatsAndPropagation) {
  bind_both();
  isp_device* d = isp();
  int ccdc = open_path(subdev_path(&d->isp_ccdc.subdev));
  v4l2_mbus_framefmt f = {};
  ASSERT_EQ(subdev_g_fmt(ccdc, CCDC_PAD_SINK, &f), 0);
  EXPECT_EQ(f.code, static_cast<uint32_t>(MEDIA_BUS_FMT_SGRBG10_1X10));
  EXPECT_EQ(f.width, 4096u);
  EXPECT_EQ(f.height, 4096u);
  ASSERT_EQ(subdev_g_fmt(ccdc, CCDC_PAD_SOURCE_VP, &f), 0);
  EXPECT_EQ(f.height, 4095u);  // one line less on the video port
  f = {};
  f.code = MEDIA_BUS_FMT_SGRBG12_1X12;
  f.width = 1000;
  f.height = 500;
  ASSERT_EQ(subdev_s_fmt(ccdc, CCDC_PAD_SINK, &f), 0);
  ASSERT_EQ(subdev_g_fmt(ccdc, CCDC_PAD_SOURCE_OF, &f), 0);
  EXPECT_EQ(f.width, 992u);  // the formatter's 16-pixel unit
  EXPECT_EQ(f.code, static_cast<uint32_t>(MEDIA_BUS_FMT_SGRBG12_1X12));
  ASSERT_EQ(subdev_g_fmt(ccdc, CCDC_PAD_SOURCE_VP, &f), 0);
  EXPECT_EQ(f.code, static_cast<uint32_t>(MEDIA_BUS_FMT_SGRBG10_1X10));  // truncated to 10 bits

  int prev = open_path(subdev_path(&d->isp_prev.subdev));
  ASSERT_EQ(subdev_g_fmt(prev, PREV_PAD_SOURCE, &f), 0);
  EXPECT_EQ(f.code, static_cast<uint32_t>(MEDIA_BUS_FMT_YUYV8_1X16));
  EXPECT_EQ(f.width, 4096u - 6 - 4 - 4);  // margins + the Bayer filter's
  int sfd = open_path(subdev_path(&sensor()->sd));
  ASSERT_EQ(subdev_g_fmt(sfd, 0, &f), 0);
  EXPECT_EQ(f.width, kMcfSensorWidth);
  EXPECT_EQ(f.code, static_cast<uint32_t>(MEDIA_BUS_FMT_SGRBG10_1X10));
}

}  // namespace
}  // namespace mcf::omap3isp_test

namespace mcf::omap3isp_test {
namespace {

const char kExpectedDump[] = R"(Media device information
------------------------
driver          omap3isp
model           TI OMAP3 ISP
bus info        platform:omap3isp.0
hw revision     0xf0

Device topology
- entity 1: OMAP3 ISP CCP2 (2 pads, 2 links)
            type V4L2 subdev subtype Unknown flags 0
            device node name /dev/v4l-subdev0
	pad0: Sink, Must connect
		<- "OMAP3 ISP CCP2 input":0 []
	pad1: Source
		-> "OMAP3 ISP CCDC":0 []

- entity 4: OMAP3 ISP CCP2 input (1 pad, 1 link)
            type Node subtype V4L flags 0
            device node name /dev/video0
	pad0: Source, Must connect
		-> "OMAP3 ISP CCP2":0 []

- entity 8: OMAP3 ISP CSI2a (2 pads, 3 links)
            type V4L2 subdev subtype Unknown flags 0
            device node name /dev/v4l-subdev1
	pad0: Sink, Must connect
		<- "mcf-sensor.0":0 [ENABLED,IMMUTABLE]
	pad1: Source
		-> "OMAP3 ISP CSI2a output":0 []
		-> "OMAP3 ISP CCDC":0 []

- entity 11: OMAP3 ISP CSI2a output (1 pad, 1 link)
            type Node subtype V4L flags 0
            device node name /dev/video1
	pad0: Sink, Must connect
		<- "OMAP3 ISP CSI2a":1 []

- entity 15: OMAP3 ISP CCDC (3 pads, 8 links)
            type V4L2 subdev subtype Unknown flags 0
            device node name /dev/v4l-subdev2
	pad0: Sink, Must connect
		<- "OMAP3 ISP CCP2":1 []
		<- "OMAP3 ISP CSI2a":1 []
	pad1: Source
		-> "OMAP3 ISP CCDC output":0 []
		-> "OMAP3 ISP resizer":0 []
	pad2: Source
		-> "OMAP3 ISP preview":0 []
		-> "OMAP3 ISP AEWB":0 [ENABLED,IMMUTABLE]
		-> "OMAP3 ISP AF":0 [ENABLED,IMMUTABLE]
		-> "OMAP3 ISP histogram":0 [ENABLED,IMMUTABLE]

- entity 19: OMAP3 ISP CCDC output (1 pad, 1 link)
            type Node subtype V4L flags 0
            device node name /dev/video2
	pad0: Sink, Must connect
		<- "OMAP3 ISP CCDC":1 []

- entity 23: OMAP3 ISP preview (2 pads, 4 links)
            type V4L2 subdev subtype Unknown flags 0
            device node name /dev/v4l-subdev3
	pad0: Sink, Must connect
		<- "OMAP3 ISP CCDC":2 []
		<- "OMAP3 ISP preview input":0 []
	pad1: Source
		-> "OMAP3 ISP preview output":0 []
		-> "OMAP3 ISP resizer":0 []

- entity 26: OMAP3 ISP preview input (1 pad, 1 link)
            type Node subtype V4L flags 0
            device node name /dev/video3
	pad0: Source, Must connect
		-> "OMAP3 ISP preview":0 []

- entity 30: OMAP3 ISP preview output (1 pad, 1 link)
            type Node subtype V4L flags 0
            device node name /dev/video4
	pad0: Sink, Must connect
		<- "OMAP3 ISP preview":1 []

- entity 34: OMAP3 ISP resizer (2 pads, 4 links)
            type V4L2 subdev subtype Unknown flags 0
            device node name /dev/v4l-subdev4
	pad0: Sink, Must connect
		<- "OMAP3 ISP CCDC":1 []
		<- "OMAP3 ISP preview":1 []
		<- "OMAP3 ISP resizer input":0 []
	pad1: Source
		-> "OMAP3 ISP resizer output":0 []

- entity 37: OMAP3 ISP resizer input (1 pad, 1 link)
            type Node subtype V4L flags 0
            device node name /dev/video5
	pad0: Source, Must connect
		-> "OMAP3 ISP resizer":0 []

- entity 41: OMAP3 ISP resizer output (1 pad, 1 link)
            type Node subtype V4L flags 1
            device node name /dev/video6
	pad0: Sink, Must connect
		<- "OMAP3 ISP resizer":1 []

- entity 45: OMAP3 ISP AEWB (1 pad, 1 link)
            type V4L2 subdev subtype Unknown flags 0
            device node name /dev/v4l-subdev5
	pad0: Sink, Must connect
		<- "OMAP3 ISP CCDC":2 [ENABLED,IMMUTABLE]

- entity 47: OMAP3 ISP AF (1 pad, 1 link)
            type V4L2 subdev subtype Unknown flags 0
            device node name /dev/v4l-subdev6
	pad0: Sink, Must connect
		<- "OMAP3 ISP CCDC":2 [ENABLED,IMMUTABLE]

- entity 49: OMAP3 ISP histogram (1 pad, 1 link)
            type V4L2 subdev subtype Unknown flags 0
            device node name /dev/v4l-subdev7
	pad0: Sink, Must connect
		<- "OMAP3 ISP CCDC":2 [ENABLED,IMMUTABLE]

- entity 81: mcf-sensor.0 (1 pad, 1 link)
            type V4L2 subdev subtype Sensor flags 0
            device node name /dev/v4l-subdev8
	pad0: Source
		-> "OMAP3 ISP CSI2a":0 [ENABLED,IMMUTABLE]

)";

// The whole topology as media-ctl would print it (drivers/omap3isp/README.md).
TEST_F(Omap3ispTopologyTest, MediaCtlStyleDump) {
  bind_both();
  int mfd = open_path(media_path());
  std::string dump = media_ctl_dump(this, proc_, mfd);
  if (getenv("MCF_PRINT_DUMP") != nullptr) std::printf("%s", dump.c_str());
  EXPECT_EQ(dump, kExpectedDump);
}

}  // namespace
}  // namespace mcf::omap3isp_test
