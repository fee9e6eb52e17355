// UAPI semantics of the media node's ioctls (reference/kernel-media.md §3.1),
// with bad user pointers and sizes, against the test-only driver's graph:
//
//   Source:0 --[ENABLED|IMMUTABLE]--> 0:Proc:1 --[0]--> 0:Sink  <- intf link (V4L_VIDEO)
//   Source ==ancillary==> Lens
#include <gtest/gtest.h>
#include <linux/media.h>

#include <cerrno>
#include <set>

#include "tests/mc/mc_test_util.h"

namespace mcf::mctest {
namespace {

class MediaIoctlTest : public MediaDriverTest {
 protected:
  void SetUp() override {
    MediaDriverTest::SetUp();
    fd_ = open_media();
    ASSERT_GE(fd_, 0);
  }
  int fd_ = -1;
};

// ---------------------------------------------------------------------------
// Dispatch

TEST_F(MediaIoctlTest, DeviceInfoFillsEveryField) {
  media_device_info info;
  std::memset(&info, 0xff, sizeof(info));
  ASSERT_EQ(ioctl_arg(fd_, MEDIA_IOC_DEVICE_INFO, &info), 0);
  EXPECT_STREQ(info.driver, "mcf-test-media");
  EXPECT_STREQ(info.model, "MCF TEST MDEV");
  EXPECT_STREQ(info.serial, "");
  EXPECT_STREQ(info.bus_info, "platform:mcf-test-media");
  EXPECT_EQ(info.media_version, MCF_LINUX_VERSION_CODE);
  EXPECT_EQ(info.driver_version, MCF_LINUX_VERSION_CODE);
  EXPECT_EQ(info.hw_revision, 0u);
  for (uint32_t r : info.reserved) EXPECT_EQ(r, 0u);
  // The struct is zeroed first: no 0xff left after the strings.
  EXPECT_EQ(info.model[sizeof(info.model) - 1], 0);
}

// v4l2-compliance requires EFAULT for a NULL argument.
TEST_F(MediaIoctlTest, DeviceInfoWithNullArgumentIsEFAULT) {
  EXPECT_EQ(proc_.ioctl(fd_, MEDIA_IOC_DEVICE_INFO, 0), -EFAULT);
}

TEST_F(MediaIoctlTest, DeviceInfoOutsideTheArenaIsEFAULT) {
  EXPECT_EQ(proc_.ioctl(fd_, MEDIA_IOC_DEVICE_INFO, kBadPtr), -EFAULT);
  // Straddling the end of the arena: the first bytes are user memory, the
  // rest is not; the whole range must be refused.
  const user_addr_t end = kArg + kArenaSize;
  EXPECT_EQ(proc_.ioctl(fd_, MEDIA_IOC_DEVICE_INFO, end - sizeof(media_device_info) / 2),
            -EFAULT);
  EXPECT_EQ(proc_.ioctl(fd_, MEDIA_IOC_DEVICE_INFO, end), -EFAULT);
  EXPECT_EQ(proc_.ioctl(fd_, MEDIA_IOC_DEVICE_INFO, ~0ull - 8), -EFAULT);
  // Right at the end still fits.
  EXPECT_EQ(proc_.ioctl(fd_, MEDIA_IOC_DEVICE_INFO, end - sizeof(media_device_info)), 0);
}

// A command that does not match its table entry exactly is ENOTTY and
// nothing is copied (v4l2-compliance: nr 0xff, size 0x3fff).
TEST_F(MediaIoctlTest, UnknownCommandsAreENOTTYAndCopyNothing) {
  fill_user(kArg, 0x5a, 64);
  const unsigned long bad[] = {
      _IOWR('|', 0xff, media_device_info),
      _IOC(_IOC_READ | _IOC_WRITE, '|', 0x00, 0x3fff),  // DEVICE_INFO's nr, wrong size
      _IOWR('|', 0x04, media_device_info),               // G_TOPOLOGY's nr, wrong size
      _IOR('|', 0x00, media_device_info),                // right size, wrong direction
      _IOWR('V', 0x00, media_device_info),               // wrong type
      _IOWR('|', 0x06, int),                             // just past the table
      0,
  };
  for (unsigned long cmd : bad) {
    EXPECT_EQ(proc_.ioctl(fd_, cmd, kArg), -ENOTTY) << std::hex << cmd;
    auto bytes = read_user_array<uint8_t>(kArg, 64);
    for (uint8_t b : bytes) ASSERT_EQ(b, 0x5a) << std::hex << cmd;
  }
  // Even with a bad pointer: the command check comes first.
  EXPECT_EQ(proc_.ioctl(fd_, _IOWR('|', 0xff, int), 0), -ENOTTY);
}

// No request API: REQUEST_ALLOC is ENOTTY (no req_validate/req_queue ops),
// and the int argument is left alone.
TEST_F(MediaIoctlTest, RequestAllocIsENOTTY) {
  int req = -42;
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_REQUEST_ALLOC, &req), -ENOTTY);
  EXPECT_EQ(req, -42);
}

TEST_F(MediaIoctlTest, IoctlOnBadFdIsEBADF) {
  EXPECT_EQ(proc_.ioctl(63, MEDIA_IOC_DEVICE_INFO, kArg), -EBADF);
  EXPECT_EQ(proc_.ioctl(-1, MEDIA_IOC_DEVICE_INFO, kArg), -EBADF);
}

// ---------------------------------------------------------------------------
// ENUM_ENTITIES

TEST_F(MediaIoctlTest, EnumEntitiesByIdAndLegacyTypes) {
  struct Want {
    media_entity* e;
    const char* name;
    uint32_t type;
    uint16_t pads, links;
  } want[] = {
      {&drv_->source, "Source", MEDIA_ENT_F_CAM_SENSOR, 1, 1},
      // A sub-device whose function is outside the old ranges: legacy type.
      {&drv_->proc, "Proc", MEDIA_ENT_F_V4L2_SUBDEV_UNKNOWN, 2, 1},
      // IO_V4L is in the old range and is kept.
      {&drv_->sink, "Sink", MEDIA_ENT_F_IO_V4L, 1, 0},
      // LENS (0x20003) is in the old sub-device range and is kept; its
      // ancillary link is not a data link.
      {&drv_->lens, "Lens", MEDIA_ENT_F_LENS, 0, 0},
  };
  for (const Want& w : want) {
    media_entity_desc ed;
    std::memset(&ed, 0xee, sizeof(ed));
    ed.id = media_entity_id(w.e);
    ASSERT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_ENTITIES, &ed), 0) << w.name;
    EXPECT_EQ(ed.id, media_entity_id(w.e));
    EXPECT_STREQ(ed.name, w.name);
    EXPECT_EQ(ed.type, w.type) << w.name;
    EXPECT_EQ(ed.pads, w.pads) << w.name;
    EXPECT_EQ(ed.links, w.links) << w.name;
    EXPECT_EQ(ed.revision, 0u);
    EXPECT_EQ(ed.group_id, 0u);
    EXPECT_EQ(ed.flags, 0u);
    for (uint32_t r : ed.reserved) EXPECT_EQ(r, 0u);
  }
  // G_TOPOLOGY gives the real function.
  Topology t = topology(fd_);
  ASSERT_NE(t.entity("Proc"), nullptr);
  EXPECT_EQ(t.entity("Proc")->function, static_cast<uint32_t>(MEDIA_ENT_F_PROC_VIDEO_SCALER));
}

// A non-subdev entity with a function outside the old ranges is reported as
// the devnode-unknown legacy type.
TEST_F(MediaIoctlTest, EnumEntitiesMapsNewFunctionOfNonSubdevToDevnodeUnknown) {
  test_entity te("Meta", MEDIA_ENT_F_PROC_VIDEO_STATISTICS);
  ASSERT_EQ(media_device_register_entity(&drv_->mdev, &te.entity), 0);
  media_entity_desc ed = {};
  ed.id = media_entity_id(&te.entity);
  ASSERT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_ENTITIES, &ed), 0);
  EXPECT_EQ(ed.type, static_cast<uint32_t>(MEDIA_ENT_T_DEVNODE_UNKNOWN));
  media_device_unregister_entity(&te.entity);
  media_entity_put(&te.entity);
}

TEST_F(MediaIoctlTest, EnumEntitiesWithFlagNextVisitsAllInIdOrder) {
  std::vector<uint32_t> ids;
  std::vector<std::string> names;
  media_entity_desc ed = {};
  ed.id = MEDIA_ENT_ID_FLAG_NEXT;  // id 0 | NEXT: the first entity
  long ret;
  while ((ret = ioctl_arg(fd_, MEDIA_IOC_ENUM_ENTITIES, &ed)) == 0) {
    ids.push_back(ed.id);
    names.push_back(ed.name);
    EXPECT_EQ(id_type(ed.id), static_cast<uint32_t>(MEDIA_GRAPH_ENTITY));
    ed.id |= MEDIA_ENT_ID_FLAG_NEXT;
    ASSERT_LT(ids.size(), 10u);
  }
  EXPECT_EQ(ret, -EINVAL);  // past the last one
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(names, (std::vector<std::string>{"Source", "Proc", "Sink", "Lens"}));
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_GT(ids[i], ids[i - 1]);
  // Sparse: pads (and links) draw from the same counter, so each entity's id
  // is past its predecessor's pads.
  EXPECT_EQ(ids[0], 1u);
  EXPECT_EQ(ids[1], ids[0] + 1 + 1);  // Source + its 1 pad
  EXPECT_EQ(ids[2], ids[1] + 1 + 2);  // Proc + its 2 pads
  EXPECT_EQ(ids[3], ids[2] + 1 + 1);  // Sink + its 1 pad
  // NEXT from an id between two entities (a pad's id) gives the next entity.
  ed = {};
  ed.id = (ids[1] + 1) | MEDIA_ENT_ID_FLAG_NEXT;
  ASSERT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_ENTITIES, &ed), 0);
  EXPECT_EQ(ed.id, ids[2]);
}

TEST_F(MediaIoctlTest, EnumEntitiesUnknownIdsAreEINVAL) {
  media_entity_desc ed = {};
  ed.id = 0;  // never exists
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_ENTITIES, &ed), -EINVAL);
  ed.id = media_entity_id(&drv_->source) + 1;  // a pad's id, not an entity's
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_ENTITIES, &ed), -EINVAL);
  ed.id = 0xffffff;
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_ENTITIES, &ed), -EINVAL);
  ed.id = drv_->intf->intf.graph_obj.id;  // an interface
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_ENTITIES, &ed), -EINVAL);
  EXPECT_EQ(proc_.ioctl(fd_, MEDIA_IOC_ENUM_ENTITIES, kBadPtr), -EFAULT);
}

// An unregistered entity disappears from the enumeration.
TEST_F(MediaIoctlTest, EnumEntitiesSkipsUnregisteredEntity) {
  test_entity te("Temp");
  ASSERT_EQ(media_device_register_entity(&drv_->mdev, &te.entity), 0);
  const uint32_t id = media_entity_id(&te.entity);
  media_entity_desc ed = {};
  ed.id = id;
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_ENTITIES, &ed), 0);
  media_device_unregister_entity(&te.entity);
  ed = {};
  ed.id = id;
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_ENTITIES, &ed), -EINVAL);
  media_entity_put(&te.entity);
}

// ---------------------------------------------------------------------------
// ENUM_LINKS

TEST_F(MediaIoctlTest, EnumLinksFillsPadsAndOutboundLinks) {
  const uint32_t proc = media_entity_id(&drv_->proc);
  const uint32_t sink = media_entity_id(&drv_->sink);
  fill_user(kArrayA, 0xcd, 4 * sizeof(media_pad_desc));
  fill_user(kArrayB, 0xcd, 4 * sizeof(media_link_desc));
  media_links_enum le;
  std::memset(&le, 0xee, sizeof(le));
  le.entity = proc;
  le.pads = uptr<media_pad_desc>(kArrayA);
  le.links = uptr<media_link_desc>(kArrayB);
  ASSERT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_LINKS, &le), 0);
  for (uint32_t r : le.reserved) EXPECT_EQ(r, 0u);

  auto pads = read_user_array<media_pad_desc>(kArrayA, 3);
  EXPECT_EQ(pads[0].entity, proc);
  EXPECT_EQ(pads[0].index, 0);
  EXPECT_EQ(pads[0].flags, static_cast<uint32_t>(MEDIA_PAD_FL_SINK));
  EXPECT_EQ(pads[1].entity, proc);
  EXPECT_EQ(pads[1].index, 1);
  EXPECT_EQ(pads[1].flags, static_cast<uint32_t>(MEDIA_PAD_FL_SOURCE));
  EXPECT_EQ(pads[2].entity, 0xcdcdcdcdu);  // only num_pads entries written

  // Outbound data links only: Proc:1 -> Sink:0; not the backlink of
  // Source -> Proc.
  auto links = read_user_array<media_link_desc>(kArrayB, 2);
  EXPECT_EQ(links[0].source.entity, proc);
  EXPECT_EQ(links[0].source.index, 1);
  EXPECT_EQ(links[0].source.flags, static_cast<uint32_t>(MEDIA_PAD_FL_SOURCE));
  EXPECT_EQ(links[0].sink.entity, sink);
  EXPECT_EQ(links[0].sink.index, 0);
  EXPECT_EQ(links[0].sink.flags,
            static_cast<uint32_t>(MEDIA_PAD_FL_SINK | MEDIA_PAD_FL_MUST_CONNECT));
  EXPECT_EQ(links[0].flags, 0u);
  EXPECT_EQ(links[1].source.entity, 0xcdcdcdcdu);
}

// Source's list holds its data link and the ancillary link to Lens; only
// the data link is reported, consistent with ENUM_ENTITIES' `links`.
TEST_F(MediaIoctlTest, EnumLinksSkipsAncillaryAndBacklinks) {
  fill_user(kArrayA, 0xcd, 3 * sizeof(media_link_desc));
  auto links = enum_links(fd_, &drv_->source);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].sink.entity, media_entity_id(&drv_->proc));
  EXPECT_EQ(links[0].flags, static_cast<uint32_t>(MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE));
  EXPECT_EQ(read_user_array<media_link_desc>(kArrayA, 2)[1].source.entity, 0xcdcdcdcdu);
  // Sink has only a backlink and an interface link: nothing outbound.
  fill_user(kArrayA, 0xcd, sizeof(media_link_desc));
  EXPECT_TRUE(enum_links(fd_, &drv_->sink).empty());
  EXPECT_EQ(read_user_array<media_link_desc>(kArrayA, 1)[0].source.entity, 0xcdcdcdcdu);
}

TEST_F(MediaIoctlTest, EnumLinksBadArraysAreEFAULT) {
  media_links_enum le = {};
  le.entity = media_entity_id(&drv_->proc);
  le.pads = uptr<media_pad_desc>(kBadPtr);
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_LINKS, &le), -EFAULT);
  le.pads = nullptr;
  le.links = uptr<media_link_desc>(kBadPtr);
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_LINKS, &le), -EFAULT);
  // An array that starts inside the arena and runs off its end.
  le.links = nullptr;
  le.pads = uptr<media_pad_desc>(kArg + kArenaSize - sizeof(media_pad_desc));
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_LINKS, &le), -EFAULT);
  // Nothing to copy, nothing to fault on: Sink has no outbound link, Lens no pad.
  le = {};
  le.entity = media_entity_id(&drv_->sink);
  le.links = uptr<media_link_desc>(kBadPtr);
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_LINKS, &le), 0);
  le = {};
  le.entity = media_entity_id(&drv_->lens);
  le.pads = uptr<media_pad_desc>(kBadPtr);
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_LINKS, &le), 0);
  // Both NULL: a valid call that only checks the entity.
  le = {};
  le.entity = media_entity_id(&drv_->proc);
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_LINKS, &le), 0);
  EXPECT_EQ(proc_.ioctl(fd_, MEDIA_IOC_ENUM_LINKS, kBadPtr), -EFAULT);
}

TEST_F(MediaIoctlTest, EnumLinksUnknownEntityIsEINVAL) {
  media_links_enum le = {};
  le.entity = 0;
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_LINKS, &le), -EINVAL);
  le.entity = 0xffffff;
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_LINKS, &le), -EINVAL);
  le.entity = drv_->intf->intf.graph_obj.id;  // an interface is not an entity
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_LINKS, &le), -EINVAL);
}

// ---------------------------------------------------------------------------
// SETUP_LINK

TEST_F(MediaIoctlTest, SetupLinkTogglesEnabledVisibleInEnumLinksAndTopology) {
  const uint32_t proc_src = drv_->proc_pads[1].graph_obj.id;
  const uint32_t sink_pad = drv_->sink_pads[0].graph_obj.id;
  ASSERT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_ENABLED), 0);
  auto links = enum_links(fd_, &drv_->proc);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].flags, static_cast<uint32_t>(MEDIA_LNK_FL_ENABLED));
  {
    Topology t = topology(fd_);
    const media_v2_link* l = t.link(proc_src, sink_pad);
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(l->flags, static_cast<uint32_t>(MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_DATA_LINK));
  }
  // The hidden backlink follows (it is what a walk from the sink uses).
  {
    MutexGuard g(&drv_->mdev.graph_mutex);
    EXPECT_EQ(media_pad_remote_pad_first(&drv_->sink_pads[0]), &drv_->proc_pads[1]);
  }
  // Same flags again: 0, nothing changes.
  EXPECT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_ENABLED), 0);
  ASSERT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, 0), 0);
  links = enum_links(fd_, &drv_->proc);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].flags, 0u);
  EXPECT_EQ(topology(fd_).link(proc_src, sink_pad)->flags, 0u);
  {
    MutexGuard g(&drv_->mdev.graph_mutex);
    EXPECT_EQ(media_pad_remote_pad_first(&drv_->sink_pads[0]), nullptr);
  }
}

TEST_F(MediaIoctlTest, SetupLinkOnImmutableLink) {
  const uint32_t on = MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE;
  EXPECT_EQ(setup_link(fd_, &drv_->source, 0, &drv_->proc, 0, on), 0);  // same flags
  EXPECT_EQ(setup_link(fd_, &drv_->source, 0, &drv_->proc, 0, MEDIA_LNK_FL_IMMUTABLE), -EINVAL);
  EXPECT_EQ(setup_link(fd_, &drv_->source, 0, &drv_->proc, 0, MEDIA_LNK_FL_ENABLED), -EINVAL);
  EXPECT_EQ(setup_link(fd_, &drv_->source, 0, &drv_->proc, 0, 0), -EINVAL);
  auto links = enum_links(fd_, &drv_->source);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].flags, on);
}

TEST_F(MediaIoctlTest, SetupLinkBadEndpointsAreEINVAL) {
  media_entity* src = &drv_->proc;
  media_entity* snk = &drv_->sink;
  // Unknown source / sink entity.
  media_link_desc d = {};
  d.source.entity = 0xfffff;
  d.source.index = 1;
  d.sink.entity = media_entity_id(snk);
  d.flags = MEDIA_LNK_FL_ENABLED;
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_SETUP_LINK, &d), -EINVAL);
  d.source.entity = media_entity_id(src);
  d.sink.entity = 0;
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_SETUP_LINK, &d), -EINVAL);
  // Pad index out of range on either side.
  EXPECT_EQ(setup_link(fd_, src, 2, snk, 0, MEDIA_LNK_FL_ENABLED), -EINVAL);
  EXPECT_EQ(setup_link(fd_, src, 0xffff, snk, 0, MEDIA_LNK_FL_ENABLED), -EINVAL);
  EXPECT_EQ(setup_link(fd_, src, 1, snk, 1, MEDIA_LNK_FL_ENABLED), -EINVAL);
  EXPECT_EQ(setup_link(fd_, &drv_->lens, 0, snk, 0, MEDIA_LNK_FL_ENABLED), -EINVAL);
  // Valid pads, no link between them; and the link named backwards.
  EXPECT_EQ(setup_link(fd_, &drv_->source, 0, snk, 0, MEDIA_LNK_FL_ENABLED), -EINVAL);
  EXPECT_EQ(setup_link(fd_, snk, 0, src, 1, MEDIA_LNK_FL_ENABLED), -EINVAL);
  // The ancillary link Source -> Lens is not a data link (Lens has no pad):
  // SETUP_LINK cannot address it.
  EXPECT_EQ(setup_link(fd_, &drv_->source, 0, &drv_->lens, 0, 0), -EINVAL);
  // Nothing changed.
  EXPECT_EQ(enum_links(fd_, src)[0].flags, 0u);
  EXPECT_EQ(proc_.ioctl(fd_, MEDIA_IOC_SETUP_LINK, kBadPtr), -EFAULT);
}

// Only ENABLED may change; any other bit differing from the link's is EINVAL.
TEST_F(MediaIoctlTest, SetupLinkChangingOtherFlagBitsIsEINVAL) {
  const uint32_t bad[] = {
      MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_DYNAMIC,
      MEDIA_LNK_FL_DYNAMIC,
      MEDIA_LNK_FL_IMMUTABLE,
      MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_INTERFACE_LINK,
      MEDIA_LNK_FL_ANCILLARY_LINK,
      1u << 3,
      0x80000000u,
  };
  for (uint32_t flags : bad) {
    EXPECT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, flags), -EINVAL) << std::hex
                                                                                << flags;
  }
  EXPECT_EQ(enum_links(fd_, &drv_->proc)[0].flags, 0u);
}

// The reserved words are zeroed in the copy that goes back on success.
TEST_F(MediaIoctlTest, SetupLinkZeroesReserved) {
  media_link_desc d = {};
  d.source.entity = media_entity_id(&drv_->proc);
  d.source.index = 1;
  d.sink.entity = media_entity_id(&drv_->sink);
  d.flags = MEDIA_LNK_FL_ENABLED;
  d.reserved[0] = 0x1234;
  d.reserved[1] = 0x5678;
  ASSERT_EQ(ioctl_arg(fd_, MEDIA_IOC_SETUP_LINK, &d), 0);
  EXPECT_EQ(d.reserved[0], 0u);
  EXPECT_EQ(d.reserved[1], 0u);
}

// ---------------------------------------------------------------------------
// Pipelines and SETUP_LINK while streaming

TEST_F(MediaIoctlTest, SetupLinkWhileStreamingIsEBUSY) {
  ASSERT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_ENABLED), 0);
  media_pipeline pipe;
  ASSERT_EQ(media_pipeline_start(&drv_->sink, &pipe), 0);
  {
    MutexGuard g(&drv_->mdev.graph_mutex);
    EXPECT_TRUE(media_entity_is_streaming(&drv_->source));
    EXPECT_TRUE(media_entity_is_streaming(&drv_->proc));
    EXPECT_TRUE(media_entity_is_streaming(&drv_->sink));
    EXPECT_FALSE(media_entity_is_streaming(&drv_->lens));
    EXPECT_EQ(drv_->proc.pipe, &pipe);
  }
  EXPECT_EQ(pipe.start_count, 1);
  EXPECT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, 0), -EBUSY);
  EXPECT_EQ(enum_links(fd_, &drv_->proc)[0].flags, static_cast<uint32_t>(MEDIA_LNK_FL_ENABLED));
  // Unchanged flags and the flags check come before the busy check.
  EXPECT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_ENABLED), 0);
  EXPECT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_DYNAMIC), -EINVAL);
  // A second pipeline cannot take entities of a running one.
  media_pipeline other;
  EXPECT_EQ(media_pipeline_start(&drv_->source, &other), -EBUSY);
  EXPECT_EQ(other.start_count, 0);
  EXPECT_EQ(drv_->source.pipe, &pipe);

  media_pipeline_stop(&drv_->sink);
  EXPECT_EQ(pipe.start_count, 0);
  {
    MutexGuard g(&drv_->mdev.graph_mutex);
    EXPECT_FALSE(media_entity_is_streaming(&drv_->source));
    EXPECT_FALSE(media_entity_is_streaming(&drv_->sink));
    EXPECT_EQ(drv_->proc.pipe, nullptr);
  }
  EXPECT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, 0), 0);
}

// A link_validate refusing the Source->Proc link fails the start with its
// code and leaves nothing streaming.
TEST_F(MediaIoctlTest, PipelineStartRefusedByLinkValidateLeavesNothingStreaming) {
  ASSERT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_ENABLED), 0);
  drv_->validate_result = -EPIPE;
  media_pipeline pipe;
  EXPECT_EQ(media_pipeline_start(&drv_->sink, &pipe), -EPIPE);
  EXPECT_EQ(pipe.start_count, 0);
  {
    MutexGuard g(&drv_->mdev.graph_mutex);
    for (media_entity* e : {&drv_->source, &drv_->proc, &drv_->sink, &drv_->lens}) {
      EXPECT_FALSE(media_entity_is_streaming(e)) << e->name;
      EXPECT_EQ(e->pipe, nullptr) << e->name;
    }
  }
  // Not streaming, so the link can change.
  EXPECT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, 0), 0);
  ASSERT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_ENABLED), 0);
  drv_->validate_result = 0;
  EXPECT_EQ(media_pipeline_start(&drv_->sink, &pipe), 0);
  media_pipeline_stop(&drv_->sink);
}

// Sink's pad is MUST_CONNECT and its only link is disabled.
TEST_F(MediaIoctlTest, PipelineStartWithUnconnectedMustConnectPadIsENOLINK) {
  media_pipeline pipe;
  EXPECT_EQ(media_pipeline_start(&drv_->sink, &pipe), -ENOLINK);
  EXPECT_EQ(pipe.start_count, 0);
  {
    MutexGuard g(&drv_->mdev.graph_mutex);
    EXPECT_FALSE(media_entity_is_streaming(&drv_->sink));
  }
  // Starting from Source does not reach Sink at all (the link is off).
  EXPECT_EQ(media_pipeline_start(&drv_->source, &pipe), 0);
  {
    MutexGuard g(&drv_->mdev.graph_mutex);
    EXPECT_TRUE(media_entity_is_streaming(&drv_->proc));
    EXPECT_FALSE(media_entity_is_streaming(&drv_->sink));
  }
  // Proc:1 -> Sink:0 cannot be enabled while Proc streams.
  EXPECT_EQ(setup_link(fd_, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_ENABLED), -EBUSY);
  media_pipeline_stop(&drv_->source);
}

// Pipeline start on an entity that left the graph.
TEST_F(MediaIoctlTest, PipelineStartOnUnregisteredEntityIsENODEV) {
  media_entity_get(&drv_->sink);
  proc_.close(fd_);
  remove_device();
  media_pipeline pipe;
  EXPECT_EQ(media_pipeline_start(&drv_->sink, &pipe), -ENODEV);
  media_entity_put(&drv_->sink);
}

// ---------------------------------------------------------------------------
// G_TOPOLOGY

TEST_F(MediaIoctlTest, TopologyTwoCallPattern) {
  media_v2_topology first = {};
  first.reserved1 = first.reserved2 = first.reserved3 = first.reserved4 = 0x77;
  ASSERT_EQ(ioctl_arg(fd_, MEDIA_IOC_G_TOPOLOGY, &first), 0);
  EXPECT_EQ(first.num_entities, 4u);
  EXPECT_EQ(first.num_interfaces, 1u);
  EXPECT_EQ(first.num_pads, 4u);
  EXPECT_EQ(first.num_links, 4u);  // 2 data (no backlinks), 1 ancillary, 1 interface
  EXPECT_EQ(first.reserved1, 0u);
  EXPECT_EQ(first.reserved4, 0u);
  // The graph is static since registration: version 0 (upstream resets it
  // at registration to tell user space so).
  EXPECT_EQ(first.topology_version, 0u);

  Topology t = topology(fd_);
  ASSERT_EQ(t.entities.size(), 4u);
  ASSERT_EQ(t.interfaces.size(), 1u);
  ASSERT_EQ(t.pads.size(), 4u);
  ASSERT_EQ(t.links.size(), 4u);

  // Ids: the top byte is the type.
  std::set<uint32_t> ids;
  for (const auto& e : t.entities) {
    EXPECT_EQ(id_type(e.id), static_cast<uint32_t>(MEDIA_GRAPH_ENTITY));
    ids.insert(e.id);
  }
  for (const auto& i : t.interfaces) {
    EXPECT_EQ(id_type(i.id), static_cast<uint32_t>(MEDIA_GRAPH_INTF_DEVNODE));
    ids.insert(i.id);
  }
  for (const auto& p : t.pads) {
    EXPECT_EQ(id_type(p.id), static_cast<uint32_t>(MEDIA_GRAPH_PAD));
    ids.insert(p.id);
  }
  for (const auto& l : t.links) {
    EXPECT_EQ(id_type(l.id), static_cast<uint32_t>(MEDIA_GRAPH_LINK));
    ids.insert(l.id);
  }
  // One counter for all types: the low 24 bits never repeat.
  std::set<uint32_t> low;
  for (uint32_t id : ids) low.insert(id & 0xffffff);
  EXPECT_EQ(low.size(), 13u);

  // Entities with their function (not the legacy type) and flags.
  ASSERT_NE(t.entity("Source"), nullptr);
  EXPECT_EQ(t.entity("Source")->function, static_cast<uint32_t>(MEDIA_ENT_F_CAM_SENSOR));
  EXPECT_EQ(t.entity("Lens")->function, static_cast<uint32_t>(MEDIA_ENT_F_LENS));
  EXPECT_EQ(t.entity("Sink")->id, media_entity_id(&drv_->sink));

  // Pads: entity and index.
  for (const auto& p : t.pads) {
    if (p.id == drv_->proc_pads[1].graph_obj.id) {
      EXPECT_EQ(p.entity_id, media_entity_id(&drv_->proc));
      EXPECT_EQ(p.index, 1u);
      EXPECT_EQ(p.flags, static_cast<uint32_t>(MEDIA_PAD_FL_SOURCE));
    }
  }

  // The interface: type and devnode numbers.
  const media_v2_interface& intf = t.interfaces[0];
  EXPECT_EQ(intf.id, drv_->intf->intf.graph_obj.id);
  EXPECT_EQ(intf.intf_type, static_cast<uint32_t>(MEDIA_INTF_T_V4L_VIDEO));
  EXPECT_EQ(intf.devnode.major, 81u);
  EXPECT_EQ(intf.devnode.minor, 0u);

  // Data links: pad to pad, source pad first; no backlink (sink pad first).
  const media_v2_link* l1 =
      t.link(drv_->source_pads[0].graph_obj.id, drv_->proc_pads[0].graph_obj.id);
  ASSERT_NE(l1, nullptr);
  EXPECT_EQ(l1->flags, static_cast<uint32_t>(MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE));
  EXPECT_NE(t.link(drv_->proc_pads[1].graph_obj.id, drv_->sink_pads[0].graph_obj.id), nullptr);
  EXPECT_EQ(t.link(drv_->proc_pads[0].graph_obj.id, drv_->source_pads[0].graph_obj.id), nullptr);
  EXPECT_EQ(t.link(drv_->sink_pads[0].graph_obj.id, drv_->proc_pads[1].graph_obj.id), nullptr);
  // The interface link: interface id as source, entity id as sink.
  const media_v2_link* il = t.link(intf.id, media_entity_id(&drv_->sink));
  ASSERT_NE(il, nullptr);
  EXPECT_EQ(il->flags, static_cast<uint32_t>(MEDIA_LNK_FL_INTERFACE_LINK | MEDIA_LNK_FL_ENABLED));
  // The ancillary link: entity to entity.
  const media_v2_link* al = t.link(media_entity_id(&drv_->source), media_entity_id(&drv_->lens));
  ASSERT_NE(al, nullptr);
  EXPECT_EQ(al->flags & MEDIA_LNK_FL_LINK_TYPE, static_cast<uint32_t>(MEDIA_LNK_FL_ANCILLARY_LINK));
  EXPECT_TRUE(al->flags & MEDIA_LNK_FL_ENABLED);
  EXPECT_TRUE(al->flags & MEDIA_LNK_FL_IMMUTABLE);
  // Every link endpoint is an object of the topology.
  for (const auto& l : t.links) {
    EXPECT_TRUE(t.has_id(l.source_id)) << std::hex << l.source_id;
    EXPECT_TRUE(t.has_id(l.sink_id)) << std::hex << l.sink_id;
  }
}

// ENOSPC when a count is too small; the counts (and version) are NOT copied
// back, because the ioctl copies out only on success. The elements that fit
// were already written (direct copy_to_user), the rest not.
TEST_F(MediaIoctlTest, TopologyTooSmallIsENOSPCAndCopiesNoCountsBack) {
  fill_user(kArrayA, 0xcd, 4 * sizeof(media_v2_entity));
  media_v2_topology t = {};
  t.topology_version = 0x1111;
  t.num_entities = 2;
  t.ptr_entities = kArrayA;
  t.num_pads = 99;  // plenty, but no array: only counted
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_G_TOPOLOGY, &t), -ENOSPC);
  EXPECT_EQ(t.num_entities, 2u);
  EXPECT_EQ(t.num_pads, 99u);
  EXPECT_EQ(t.topology_version, 0x1111u);
  auto ents = read_user_array<media_v2_entity>(kArrayA, 3);
  EXPECT_STREQ(ents[0].name, "Source");
  EXPECT_STREQ(ents[1].name, "Proc");
  EXPECT_EQ(ents[2].id, 0xcdcdcdcdu);

  // Each array on its own.
  struct Case {
    __u32 media_v2_topology::*num;
    __u64 media_v2_topology::*ptr;
    uint32_t real;
  } cases[] = {
      {&media_v2_topology::num_entities, &media_v2_topology::ptr_entities, 4},
      {&media_v2_topology::num_interfaces, &media_v2_topology::ptr_interfaces, 1},
      {&media_v2_topology::num_pads, &media_v2_topology::ptr_pads, 4},
      {&media_v2_topology::num_links, &media_v2_topology::ptr_links, 4},
  };
  for (const Case& c : cases) {
    media_v2_topology u = {};
    u.*(c.num) = c.real - 1;
    u.*(c.ptr) = kArrayB;
    EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_G_TOPOLOGY, &u), -ENOSPC);
    EXPECT_EQ(u.*(c.num), c.real - 1);
    u = {};
    u.*(c.num) = c.real;
    u.*(c.ptr) = kArrayB;
    EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_G_TOPOLOGY, &u), 0);
    EXPECT_EQ(u.*(c.num), c.real);
    EXPECT_EQ(u.num_entities, 4u);  // counted even without an array
    EXPECT_EQ(u.num_links, 4u);
  }
  // A count larger than needed is fine and comes back corrected.
  media_v2_topology big = {};
  big.num_links = 100;
  big.ptr_links = kArrayB;
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_G_TOPOLOGY, &big), 0);
  EXPECT_EQ(big.num_links, 4u);
}

// v4l2-compliance passes ptr = 4 and expects EFAULT for each non-empty list.
TEST_F(MediaIoctlTest, TopologyBadPointersAreEFAULT) {
  __u64 media_v2_topology::*ptrs[] = {
      &media_v2_topology::ptr_entities, &media_v2_topology::ptr_interfaces,
      &media_v2_topology::ptr_pads, &media_v2_topology::ptr_links};
  __u32 media_v2_topology::*nums[] = {
      &media_v2_topology::num_entities, &media_v2_topology::num_interfaces,
      &media_v2_topology::num_pads, &media_v2_topology::num_links};
  for (int i = 0; i < 4; ++i) {
    media_v2_topology t = {};
    t.*(nums[i]) = 10;
    t.*(ptrs[i]) = kBadPtr;
    EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_G_TOPOLOGY, &t), -EFAULT) << i;
    EXPECT_EQ(t.*(nums[i]), 10u) << i;  // not copied back
  }
  // A bad pointer with count 0 is ENOSPC (the count check comes first).
  media_v2_topology t = {};
  t.ptr_entities = kBadPtr;
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_G_TOPOLOGY, &t), -ENOSPC);
  // The struct itself out of the arena.
  EXPECT_EQ(proc_.ioctl(fd_, MEDIA_IOC_G_TOPOLOGY, kBadPtr), -EFAULT);
  EXPECT_EQ(proc_.ioctl(fd_, MEDIA_IOC_G_TOPOLOGY, 0), -EFAULT);
}

// An error in an earlier array stops copying into later ones (as upstream:
// "no error has occurred yet"), but counting goes on.
TEST_F(MediaIoctlTest, TopologyErrorStopsLaterCopies) {
  fill_user(kArrayD, 0xcd, sizeof(media_v2_link));
  media_v2_topology t = {};
  t.num_entities = 4;
  t.ptr_entities = kBadPtr;
  t.num_links = 4;
  t.ptr_links = kArrayD;
  EXPECT_EQ(ioctl_arg(fd_, MEDIA_IOC_G_TOPOLOGY, &t), -EFAULT);
  EXPECT_EQ(read_user_array<media_v2_link>(kArrayD, 1)[0].id, 0xcdcdcdcdu);
}

TEST_F(MediaIoctlTest, TopologyVersionChangesWhenLinksComeAndGo) {
  Topology t0 = topology(fd_);
  // A new data link Source:0 -> Sink:0.
  ASSERT_EQ(media_create_pad_link(&drv_->source, 0, &drv_->sink, 0, 0), 0);
  Topology t1 = topology(fd_);
  EXPECT_NE(t1.hdr.topology_version, t0.hdr.topology_version);
  EXPECT_EQ(t1.links.size(), t0.links.size() + 1);
  EXPECT_NE(t1.link(drv_->source_pads[0].graph_obj.id, drv_->sink_pads[0].graph_obj.id), nullptr);
  // ENUM_ENTITIES counts it too.
  media_entity_desc ed = {};
  ed.id = media_entity_id(&drv_->source);
  ASSERT_EQ(ioctl_arg(fd_, MEDIA_IOC_ENUM_ENTITIES, &ed), 0);
  EXPECT_EQ(ed.links, 2);

  // An interface link to Proc, then removed.
  media_link* il = media_create_intf_link(&drv_->proc, &drv_->intf->intf, MEDIA_LNK_FL_ENABLED);
  ASSERT_NE(il, nullptr);
  const uint32_t il_id = il->graph_obj.id;
  Topology t2 = topology(fd_);
  EXPECT_NE(t2.hdr.topology_version, t1.hdr.topology_version);
  EXPECT_TRUE(t2.has_id(il_id));
  media_remove_intf_link(il);
  Topology t3 = topology(fd_);
  EXPECT_NE(t3.hdr.topology_version, t2.hdr.topology_version);
  EXPECT_FALSE(t3.has_id(il_id));
  EXPECT_EQ(t3.links.size(), t1.links.size());
  // Unchanged graph, unchanged version.
  EXPECT_EQ(topology(fd_).hdr.topology_version, t3.hdr.topology_version);
}

TEST_F(MediaIoctlTest, CreatePadLinkRefusesBadPads) {
  const long links = live_objects_count("media_link");
  // Wrong direction (sink pad as source), out of range, padless entity.
  EXPECT_EQ(media_create_pad_link(&drv_->proc, 0, &drv_->sink, 0, 0), -EINVAL);
  EXPECT_EQ(media_create_pad_link(&drv_->proc, 1, &drv_->proc, 1, 0), -EINVAL);
  EXPECT_EQ(media_create_pad_link(&drv_->proc, 2, &drv_->sink, 0, 0), -EINVAL);
  EXPECT_EQ(media_create_pad_link(&drv_->lens, 0, &drv_->sink, 0, 0), -EINVAL);
  // An entity that is not registered.
  test_entity te("Loose");
  EXPECT_EQ(media_create_pad_link(&drv_->proc, 1, &te.entity, 0, 0), -EINVAL);
  EXPECT_EQ(live_objects_count("media_link"), links);
  media_entity_put(&te.entity);
}

}  // namespace
}  // namespace mcf::mctest
