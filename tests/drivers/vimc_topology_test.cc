// vimc's topology against upstream's, written out here as tables: every
// entity (name, function, legacy ENUM_ENTITIES type, pads, node kind), every
// data, ancillary and interface link with its flags, the media device's
// identity, and the object ids as kernel-media.md §1.4 derives them from the
// registration order (one id counter for every graph object; two ids per
// data link, its backlink being hidden; sub-device nodes after
// media_device_register, which resets topology_version).
#include <gtest/gtest.h>

#include <cstring>

#include "core/mc/media_device.h"
#include "core/v4l2/v4l2_dev.h"
#include "tests/drivers/vimc_test_util.h"
#include "tools/topology/topology.h"

namespace mcf::vimctest {
namespace {

enum class Node { kVideo, kSubdev };

struct ExpectedEntity {
  const char* name;
  uint32_t id;
  uint32_t function;    // G_TOPOLOGY
  uint32_t enum_type;   // ENUM_ENTITIES (legacy remap of the functions after TUNER)
  std::vector<uint32_t> pad_flags;
  std::vector<uint32_t> pad_ids;  // the id counter's values
  Node node;
  const char* devnode;  // on an otherwise empty system
  uint16_t outbound_links;
};

constexpr uint32_t SRC = MEDIA_PAD_FL_SOURCE, SNK = MEDIA_PAD_FL_SINK;

const std::vector<ExpectedEntity>& expected_entities() {
  static const std::vector<ExpectedEntity> e = {
      {"Sensor A", 1, MEDIA_ENT_F_CAM_SENSOR, MEDIA_ENT_F_CAM_SENSOR, {SRC}, {2}, Node::kSubdev,
       "/dev/v4l-subdev0", 2},
      {"Sensor B", 3, MEDIA_ENT_F_CAM_SENSOR, MEDIA_ENT_F_CAM_SENSOR, {SRC}, {4}, Node::kSubdev,
       "/dev/v4l-subdev1", 2},
      {"Debayer A", 5, MEDIA_ENT_F_PROC_VIDEO_PIXEL_ENC_CONV, MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN,
       {SNK, SRC}, {6, 7}, Node::kSubdev, "/dev/v4l-subdev2", 1},
      {"Debayer B", 8, MEDIA_ENT_F_PROC_VIDEO_PIXEL_ENC_CONV, MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN,
       {SNK, SRC}, {9, 10}, Node::kSubdev, "/dev/v4l-subdev3", 1},
      {"Raw Capture 0", 11, MEDIA_ENT_F_IO_V4L, MEDIA_ENT_F_IO_V4L, {SNK}, {12}, Node::kVideo,
       "/dev/video0", 0},
      {"Raw Capture 1", 15, MEDIA_ENT_F_IO_V4L, MEDIA_ENT_F_IO_V4L, {SNK}, {16}, Node::kVideo,
       "/dev/video1", 0},
      {"RGB/YUV Input", 19, MEDIA_ENT_F_CAM_SENSOR, MEDIA_ENT_F_CAM_SENSOR, {SRC}, {20},
       Node::kSubdev, "/dev/v4l-subdev4", 1},
      {"Scaler", 21, MEDIA_ENT_F_PROC_VIDEO_SCALER, MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN, {SNK, SRC},
       {22, 23}, Node::kSubdev, "/dev/v4l-subdev5", 1},
      {"RGB/YUV Capture", 24, MEDIA_ENT_F_IO_V4L, MEDIA_ENT_F_IO_V4L, {SNK}, {25}, Node::kVideo,
       "/dev/video2", 0},
      {"Lens A", 28, MEDIA_ENT_F_LENS, MEDIA_ENT_F_LENS, {}, {}, Node::kSubdev, "/dev/v4l-subdev6",
       0},
      {"Lens B", 29, MEDIA_ENT_F_LENS, MEDIA_ENT_F_LENS, {}, {}, Node::kSubdev, "/dev/v4l-subdev7",
       0},
  };
  return e;
}

struct ExpectedDataLink {
  uint32_t id;  // the backlink has id + 1 and is never reported
  const char* source;
  uint16_t source_pad;
  const char* sink;
  uint16_t sink_pad;
  uint32_t flags;
};

constexpr uint32_t ON = MEDIA_LNK_FL_ENABLED, FIXED = MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE;

const std::vector<ExpectedDataLink>& expected_data_links() {
  static const std::vector<ExpectedDataLink> l = {
      {30, "Sensor A", 0, "Debayer A", 0, FIXED},
      {32, "Sensor A", 0, "Raw Capture 0", 0, FIXED},
      {34, "Sensor B", 0, "Debayer B", 0, FIXED},
      {36, "Sensor B", 0, "Raw Capture 1", 0, FIXED},
      {38, "Debayer A", 1, "Scaler", 0, ON},
      {40, "Debayer B", 1, "Scaler", 0, 0},
      {42, "RGB/YUV Input", 0, "Scaler", 0, 0},
      {44, "Scaler", 1, "RGB/YUV Capture", 0, FIXED},
  };
  return l;
}

struct ExpectedAncillaryLink {
  uint32_t id;
  const char* primary;
  const char* ancillary;
};
const std::vector<ExpectedAncillaryLink>& expected_ancillary_links() {
  static const std::vector<ExpectedAncillaryLink> l = {{46, "Sensor A", "Lens A"},
                                                       {47, "Sensor B", "Lens B"}};
  return l;
}

// Interface id, its link's id, the entity it points at. Capture nodes get
// theirs inside video_register_device, right after their entity's pads; the
// sub-device nodes after the media device was registered.
struct ExpectedInterface {
  uint32_t id;
  uint32_t link_id;
  const char* entity;
  uint32_t type;
};
const std::vector<ExpectedInterface>& expected_interfaces() {
  static const std::vector<ExpectedInterface> i = {
      {13, 14, "Raw Capture 0", MEDIA_INTF_T_V4L_VIDEO},
      {17, 18, "Raw Capture 1", MEDIA_INTF_T_V4L_VIDEO},
      {26, 27, "RGB/YUV Capture", MEDIA_INTF_T_V4L_VIDEO},
      {48, 49, "Sensor A", MEDIA_INTF_T_V4L_SUBDEV},
      {50, 51, "Sensor B", MEDIA_INTF_T_V4L_SUBDEV},
      {52, 53, "Debayer A", MEDIA_INTF_T_V4L_SUBDEV},
      {54, 55, "Debayer B", MEDIA_INTF_T_V4L_SUBDEV},
      {56, 57, "RGB/YUV Input", MEDIA_INTF_T_V4L_SUBDEV},
      {58, 59, "Scaler", MEDIA_INTF_T_V4L_SUBDEV},
      {60, 61, "Lens A", MEDIA_INTF_T_V4L_SUBDEV},
      {62, 63, "Lens B", MEDIA_INTF_T_V4L_SUBDEV},
  };
  return i;
}

constexpr uint32_t kPad = 1u << 24, kLink = 2u << 24, kIntf = 3u << 24;

const ExpectedEntity& entity(const std::string& name) {
  for (const ExpectedEntity& e : expected_entities())
    if (name == e.name) return e;
  ADD_FAILURE() << "no entity " << name;
  return expected_entities()[0];
}

class VimcTopologyTest : public VimcTest {
 protected:
  // G_TOPOLOGY, the two-call pattern.
  void g_topology(int fd, media_v2_topology* topo, std::vector<media_v2_entity>* ents,
                  std::vector<media_v2_interface>* intfs, std::vector<media_v2_pad>* pads,
                  std::vector<media_v2_link>* links) {
    *topo = {};
    ASSERT_EQ(user_ioctl(proc_, fd, MEDIA_IOC_G_TOPOLOGY, topo, kArg), 0);
    ents->resize(topo->num_entities);
    intfs->resize(topo->num_interfaces);
    pads->resize(topo->num_pads);
    links->resize(topo->num_links);
    topo->ptr_entities = kArrays;
    topo->ptr_interfaces = kArrays + 0x4000;
    topo->ptr_pads = kArrays + 0x8000;
    topo->ptr_links = kArrays + 0xc000;
    ASSERT_EQ(user_ioctl(proc_, fd, MEDIA_IOC_G_TOPOLOGY, topo, kArg), 0);
    proc_.mem().read(topo->ptr_entities, ents->data(), ents->size() * sizeof(media_v2_entity));
    proc_.mem().read(topo->ptr_interfaces, intfs->data(), intfs->size() * sizeof(media_v2_interface));
    proc_.mem().read(topo->ptr_pads, pads->data(), pads->size() * sizeof(media_v2_pad));
    proc_.mem().read(topo->ptr_links, links->data(), links->size() * sizeof(media_v2_link));
  }
};

TEST_F(VimcTopologyTest, DeviceInfoIsUpstreams) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  media_device_info info = {};
  ASSERT_EQ(user_ioctl(proc_, fd, MEDIA_IOC_DEVICE_INFO, &info, kArg), 0);
  EXPECT_STREQ(info.driver, "vimc");
  EXPECT_STREQ(info.model, "VIMC MDEV");
  EXPECT_STREQ(info.serial, "");
  EXPECT_STREQ(info.bus_info, "platform:vimc");
  EXPECT_EQ(info.hw_revision, 0u);
  EXPECT_EQ(info.media_version, MCF_LINUX_VERSION_CODE);
  EXPECT_EQ(info.driver_version, info.media_version);
  // No request API: no mdev->ops->req_*.
  int req = -1;
  EXPECT_EQ(user_ioctl(proc_, fd, MEDIA_IOC_REQUEST_ALLOC, &req, kArg), -ENOTTY);
}

TEST_F(VimcTopologyTest, NodesAreThreeVideoAndEightSubdevInRegistrationOrder) {
  EXPECT_EQ(media_path_, "/dev/media0");
  for (const ExpectedEntity& e : expected_entities()) {
    SCOPED_TRACE(e.name);
    EXPECT_EQ(node_.at(e.name), e.devnode);
  }
  // QUERYCAP on the captures: upstream's strings and capabilities.
  for (const std::string& cap_name : vimc_capture_names()) {
    SCOPED_TRACE(cap_name);
    int fd = open_node(cap_name);
    ASSERT_GE(fd, 0);
    v4l2_capability cap = {};
    ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_QUERYCAP, &cap, kArg), 0);
    EXPECT_STREQ(reinterpret_cast<char*>(cap.driver), "vimc");
    EXPECT_STREQ(reinterpret_cast<char*>(cap.card), "vimc");
    EXPECT_STREQ(reinterpret_cast<char*>(cap.bus_info), "platform:vimc");
    EXPECT_EQ(cap.device_caps, V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_IO_MC |
                                   V4L2_CAP_EXT_PIX_FORMAT);
    EXPECT_EQ(cap.capabilities, cap.device_caps | V4L2_CAP_DEVICE_CAPS);
    proc_.close(fd);
  }
  for (const std::string& sd_name : vimc_subdev_names()) {
    SCOPED_TRACE(sd_name);
    int fd = open_node(sd_name);
    ASSERT_GE(fd, 0);
    v4l2_subdev_capability cap = {};
    ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_SUBDEV_QUERYCAP, &cap, kArg), 0);
    EXPECT_EQ(cap.capabilities, 0u);  // read-write nodes
    proc_.close(fd);
  }
}

TEST_F(VimcTopologyTest, GTopologyMatchesUpstreamTable) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  media_v2_topology topo;
  std::vector<media_v2_entity> ents;
  std::vector<media_v2_interface> intfs;
  std::vector<media_v2_pad> pads;
  std::vector<media_v2_link> links;
  ASSERT_NO_FATAL_FAILURE(g_topology(fd, &topo, &ents, &intfs, &pads, &links));

  // 16 objects created since media_device_register reset the version: an
  // interface and its link per sub-device node.
  EXPECT_EQ(topo.topology_version, 16u);
  ASSERT_EQ(ents.size(), 11u);
  ASSERT_EQ(intfs.size(), 11u);
  ASSERT_EQ(pads.size(), 12u);
  ASSERT_EQ(links.size(), 21u);  // 8 data + 2 ancillary + 11 interface

  // Entities, in registration order.
  for (size_t i = 0; i < ents.size(); ++i) {
    const ExpectedEntity& e = expected_entities()[i];
    SCOPED_TRACE(e.name);
    EXPECT_STREQ(ents[i].name, e.name);
    EXPECT_EQ(ents[i].id, e.id);
    EXPECT_EQ(ents[i].function, e.function);
    EXPECT_EQ(ents[i].flags, 0u);  // no MEDIA_ENT_FL_DEFAULT anywhere
  }

  // Pads: id, owner, index, direction.
  size_t p = 0;
  for (const ExpectedEntity& e : expected_entities()) {
    for (size_t j = 0; j < e.pad_ids.size(); ++j, ++p) {
      SCOPED_TRACE(std::string(e.name) + " pad " + std::to_string(j));
      ASSERT_LT(p, pads.size());
      EXPECT_EQ(pads[p].id, kPad | e.pad_ids[j]);
      EXPECT_EQ(pads[p].entity_id, e.id);
      EXPECT_EQ(pads[p].index, j);
      EXPECT_EQ(pads[p].flags, e.pad_flags[j]);
    }
  }

  // Interfaces: type, node, and the link to their entity.
  for (size_t i = 0; i < intfs.size(); ++i) {
    const ExpectedInterface& x = expected_interfaces()[i];
    SCOPED_TRACE(x.entity);
    EXPECT_EQ(intfs[i].id, kIntf | x.id);
    EXPECT_EQ(intfs[i].intf_type, x.type);
    EXPECT_EQ(intfs[i].flags, 0u);
    EXPECT_EQ(intfs[i].devnode.major, VIDEO_MAJOR);
    EXPECT_EQ(topology::devnode_name(intfs[i].devnode.major, intfs[i].devnode.minor),
              entity(x.entity).devnode);
  }

  // Links, in creation order: the captures' interface links, the data links
  // (without their backlinks), the ancillary links, the sub-device nodes'
  // interface links.
  std::vector<media_v2_link> expected;
  auto add = [&](uint32_t id, uint32_t src, uint32_t sink, uint32_t flags) {
    media_v2_link l = {};
    l.id = kLink | id;
    l.source_id = src;
    l.sink_id = sink;
    l.flags = flags;
    expected.push_back(l);
  };
  const uint32_t kIntfLinkFlags = FIXED | MEDIA_LNK_FL_INTERFACE_LINK;
  for (size_t i = 0; i < 3; ++i) {
    const ExpectedInterface& x = expected_interfaces()[i];
    add(x.link_id, kIntf | x.id, entity(x.entity).id, kIntfLinkFlags);
  }
  for (const ExpectedDataLink& l : expected_data_links()) {
    add(l.id, kPad | entity(l.source).pad_ids[l.source_pad],
        kPad | entity(l.sink).pad_ids[l.sink_pad], l.flags | MEDIA_LNK_FL_DATA_LINK);
  }
  for (const ExpectedAncillaryLink& l : expected_ancillary_links())
    add(l.id, entity(l.primary).id, entity(l.ancillary).id, FIXED | MEDIA_LNK_FL_ANCILLARY_LINK);
  for (size_t i = 3; i < expected_interfaces().size(); ++i) {
    const ExpectedInterface& x = expected_interfaces()[i];
    add(x.link_id, kIntf | x.id, entity(x.entity).id, kIntfLinkFlags);
  }
  ASSERT_EQ(links.size(), expected.size());
  for (size_t i = 0; i < links.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(links[i].id, expected[i].id);
    EXPECT_EQ(links[i].source_id, expected[i].source_id);
    EXPECT_EQ(links[i].sink_id, expected[i].sink_id);
    EXPECT_EQ(links[i].flags, expected[i].flags);
  }
}

TEST_F(VimcTopologyTest, EnumEntitiesAndEnumLinksMatchUpstreamTable) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  // ENUM_ENTITIES with FLAG_NEXT walks the entities in id order.
  std::vector<media_entity_desc> descs;
  for (uint32_t id = 0;;) {
    media_entity_desc d = {};
    d.id = id | MEDIA_ENT_ID_FLAG_NEXT;
    long ret = user_ioctl(proc_, fd, MEDIA_IOC_ENUM_ENTITIES, &d, kArg);
    if (ret == -EINVAL) break;
    ASSERT_EQ(ret, 0);
    descs.push_back(d);
    id = d.id;
  }
  ASSERT_EQ(descs.size(), expected_entities().size());
  for (size_t i = 0; i < descs.size(); ++i) {
    const ExpectedEntity& e = expected_entities()[i];
    const media_entity_desc& d = descs[i];
    SCOPED_TRACE(e.name);
    EXPECT_EQ(d.id, e.id);
    EXPECT_STREQ(d.name, e.name);
    EXPECT_EQ(d.type, e.enum_type);
    EXPECT_EQ(d.revision, 0u);
    EXPECT_EQ(d.flags, 0u);
    EXPECT_EQ(d.group_id, 0u);
    EXPECT_EQ(d.pads, e.pad_flags.size());
    EXPECT_EQ(d.links, e.outbound_links);  // outbound data links only
    EXPECT_EQ(d.dev.major, VIDEO_MAJOR);
    EXPECT_EQ(topology::devnode_name(d.dev.major, d.dev.minor), e.devnode);

    // Exact lookup by id, too.
    media_entity_desc exact = {};
    exact.id = e.id;
    ASSERT_EQ(user_ioctl(proc_, fd, MEDIA_IOC_ENUM_ENTITIES, &exact, kArg), 0);
    EXPECT_STREQ(exact.name, e.name);

    // ENUM_LINKS: every pad, and the outbound data links in creation order.
    media_links_enum le = {};
    le.entity = e.id;
    le.pads = reinterpret_cast<media_pad_desc*>(static_cast<uintptr_t>(kArrays));
    le.links = reinterpret_cast<media_link_desc*>(static_cast<uintptr_t>(kArrays + 0x1000));
    ASSERT_EQ(user_ioctl(proc_, fd, MEDIA_IOC_ENUM_LINKS, &le, kArg), 0);
    std::vector<media_pad_desc> pads(d.pads);
    std::vector<media_link_desc> links(d.links);
    proc_.mem().read(kArrays, pads.data(), pads.size() * sizeof(media_pad_desc));
    proc_.mem().read(kArrays + 0x1000, links.data(), links.size() * sizeof(media_link_desc));
    for (size_t j = 0; j < pads.size(); ++j) {
      EXPECT_EQ(pads[j].entity, e.id);
      EXPECT_EQ(pads[j].index, j);
      EXPECT_EQ(pads[j].flags, e.pad_flags[j]);
    }
    std::vector<ExpectedDataLink> outbound;
    for (const ExpectedDataLink& l : expected_data_links())
      if (std::string(l.source) == e.name) outbound.push_back(l);
    ASSERT_EQ(links.size(), outbound.size());
    for (size_t j = 0; j < links.size(); ++j) {
      EXPECT_EQ(links[j].source.entity, e.id);
      EXPECT_EQ(links[j].source.index, outbound[j].source_pad);
      EXPECT_EQ(links[j].sink.entity, entity(outbound[j].sink).id);
      EXPECT_EQ(links[j].sink.index, outbound[j].sink_pad);
      EXPECT_EQ(links[j].flags, outbound[j].flags);
    }
  }
  // Nothing before the first id or after the last; id 0 never exists.
  media_entity_desc none = {};
  EXPECT_EQ(user_ioctl(proc_, fd, MEDIA_IOC_ENUM_ENTITIES, &none, kArg), -EINVAL);
  media_links_enum le = {};
  EXPECT_EQ(user_ioctl(proc_, fd, MEDIA_IOC_ENUM_LINKS, &le, kArg), -EINVAL);
}

TEST_F(VimcTopologyTest, TopologyDoesNotDependOnTheDeviceId) {
  // A second instance gets its own media device and nodes, with the same
  // entity and pad ids (each media device counts from 1).
  platform_device* second = vimc_device_add(7);
  ASSERT_NE(second, nullptr);
  ASSERT_EQ(devtmpfs_nodes_of("vimc.7", "media").size(), 1u);
  EXPECT_EQ(devtmpfs_nodes_of("vimc.7", "video").size(), 3u);
  EXPECT_EQ(devtmpfs_nodes_of("vimc.7", "v4l-subdev").size(), 8u);
  int fd = proc_.open(devtmpfs_nodes_of("vimc.7", "media")[0], O_RDWR_);
  ASSERT_GE(fd, 0);
  topology::media_snapshot snap;
  ASSERT_EQ(topology::topology_read(proc_, fd, &snap, kArrays), 0);
  ASSERT_EQ(snap.entities.size(), expected_entities().size());
  for (size_t i = 0; i < snap.entities.size(); ++i) {
    EXPECT_EQ(snap.entities[i].desc.id, expected_entities()[i].id);
    EXPECT_STREQ(snap.entities[i].desc.name, expected_entities()[i].name);
  }
  EXPECT_EQ(snap.topology_version, 16u);
  proc_.close(fd);
  platform_device_unregister(second);
}

}  // namespace
}  // namespace mcf::vimctest
