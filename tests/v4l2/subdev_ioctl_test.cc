// Sub-device node ioctls (<linux/v4l2-subdev.h>) with upstream's semantics:
// ACTIVE vs per-file TRY state, pad and `which` checks, missing ops, copy in
// and copy back only on success, bad pointers, unknown commands, read-only
// nodes. Driven through the sensor's and the receiver's nodes.
#include <gtest/gtest.h>
#include <linux/videodev2.h>

#include "core/mc/media_device.h"
#include "tests/v4l2/subdev_test_util.h"

namespace mcf::v4l2test {
namespace {

class SubdevIoctlTest : public SensorBridgeTest {
 protected:
  void SetUp() override {
    SensorBridgeTest::SetUp();
    bind_both();
    sensor_fd_ = open_node(sensor_node());
    ASSERT_GE(sensor_fd_, 0);
    receiver_fd_ = open_node(receiver_node());
    ASSERT_GE(receiver_fd_, 0);
  }
  int sensor_fd_ = -1;
  int receiver_fd_ = -1;
};

TEST_F(SubdevIoctlTest, NodesAreNamedAndNumberedInRegistrationOrder) {
  // complete() registered the receiver (bridge probe) before the sensor.
  EXPECT_EQ(receiver_node(), "/dev/v4l-subdev0");
  EXPECT_EQ(sensor_node(), "/dev/v4l-subdev1");
  EXPECT_EQ(media_node(), "/dev/media0");
}

TEST_F(SubdevIoctlTest, Querycap) {
  v4l2_subdev_capability cap;
  std::memset(&cap, 0xff, sizeof(cap));
  ASSERT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_QUERYCAP, &cap), 0);
  EXPECT_EQ(cap.version, MCF_LINUX_VERSION_CODE);
  EXPECT_EQ(cap.capabilities, 0u);
  for (uint32_t r : cap.reserved) EXPECT_EQ(r, 0u);
}

TEST_F(SubdevIoctlTest, GetFormatActiveAndTryDefaults) {
  v4l2_mbus_framefmt active, tried;
  ASSERT_EQ(g_fmt(sensor_fd_, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &active), 0);
  EXPECT_EQ(active.width, testing::kSensorWidth);
  EXPECT_EQ(active.height, testing::kSensorHeight);
  EXPECT_EQ(active.code, static_cast<uint32_t>(MEDIA_BUS_FMT_SGRBG10_1X10));
  EXPECT_EQ(active.field, static_cast<uint32_t>(V4L2_FIELD_NONE));
  // A file's TRY state starts from init_state too.
  ASSERT_EQ(g_fmt(sensor_fd_, V4L2_SUBDEV_FORMAT_TRY, 0, &tried), 0);
  EXPECT_EQ(std::memcmp(&active, &tried, sizeof(active)), 0);
}

TEST_F(SubdevIoctlTest, SetFormatTryIsPerFileHandleAndLeavesActiveAlone) {
  v4l2_subdev_format f =
      make_format(V4L2_SUBDEV_FORMAT_TRY, 0, 640, 480, MEDIA_BUS_FMT_SGRBG8_1X8);
  ASSERT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_S_FMT, &f), 0);
  EXPECT_EQ(f.format.width, 640u);
  EXPECT_EQ(f.format.code, static_cast<uint32_t>(MEDIA_BUS_FMT_SGRBG8_1X8));
  v4l2_mbus_framefmt fmt;
  ASSERT_EQ(g_fmt(sensor_fd_, V4L2_SUBDEV_FORMAT_TRY, 0, &fmt), 0);
  EXPECT_EQ(fmt.width, 640u);
  EXPECT_EQ(fmt.height, 480u);
  ASSERT_EQ(g_fmt(sensor_fd_, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), 0);
  EXPECT_EQ(fmt.width, testing::kSensorWidth);
  // Another file handle has its own TRY state.
  int fd2 = open_node(sensor_node());
  ASSERT_GE(fd2, 0);
  ASSERT_EQ(g_fmt(fd2, V4L2_SUBDEV_FORMAT_TRY, 0, &fmt), 0);
  EXPECT_EQ(fmt.width, testing::kSensorWidth);
}

TEST_F(SubdevIoctlTest, SetFormatActiveIsSeenByEveryoneAndClamped) {
  v4l2_subdev_format f = make_format(V4L2_SUBDEV_FORMAT_ACTIVE, 0, 1281, 1, 0x1234);
  ASSERT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_S_FMT, &f), 0);
  EXPECT_EQ(f.format.width, 1280u);                  // even
  EXPECT_EQ(f.format.height, testing::kSensorMinSize);  // at least the minimum
  EXPECT_EQ(f.format.code, static_cast<uint32_t>(MEDIA_BUS_FMT_SGRBG10_1X10));  // unknown code
  int fd2 = open_node(sensor_node());
  ASSERT_GE(fd2, 0);
  v4l2_mbus_framefmt fmt;
  ASSERT_EQ(g_fmt(fd2, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), 0);
  EXPECT_EQ(fmt.width, 1280u);
  // The bridge sees the sensor's active format through v4l2_subdev_call.
  ASSERT_EQ(testing::test_bridge_sensor_get_fmt(bridge(), &fmt), 0);
  EXPECT_EQ(fmt.width, 1280u);
}

TEST_F(SubdevIoctlTest, ReservedFieldsAreZeroed) {
  v4l2_subdev_format f = make_format(V4L2_SUBDEV_FORMAT_ACTIVE, 0);
  std::memset(f.reserved, 0xab, sizeof(f.reserved));
  std::memset(f.format.reserved, 0xab, sizeof(f.format.reserved));
  ASSERT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_G_FMT, &f), 0);
  for (uint32_t r : f.reserved) EXPECT_EQ(r, 0u);
  for (uint16_t r : f.format.reserved) EXPECT_EQ(r, 0u);
}

// A failing call copies nothing back: user memory keeps its bytes.
TEST_F(SubdevIoctlTest, BadPadOrWhichIsEINVALAndCopiesNothingBack) {
  for (auto [which, pad] : {std::pair<uint32_t, uint32_t>{V4L2_SUBDEV_FORMAT_ACTIVE, 1},
                            {V4L2_SUBDEV_FORMAT_TRY, 1},
                            {V4L2_SUBDEV_FORMAT_ACTIVE, 0xffffffff},
                            {2, 0}}) {
    v4l2_subdev_format f = make_format(which, pad);
    std::memset(&f.format, 0x5a, sizeof(f.format));
    v4l2_subdev_format before = f;
    EXPECT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_G_FMT, &f), -EINVAL) << which << " " << pad;
    EXPECT_EQ(std::memcmp(&f, &before, sizeof(f)), 0);
    EXPECT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_S_FMT, &f), -EINVAL);
  }
  // The receiver has two pads: 1 is fine there, 2 is not.
  v4l2_mbus_framefmt fmt;
  EXPECT_EQ(g_fmt(receiver_fd_, V4L2_SUBDEV_FORMAT_ACTIVE, 1, &fmt), 0);
  EXPECT_EQ(g_fmt(receiver_fd_, V4L2_SUBDEV_FORMAT_ACTIVE, 2, &fmt), -EINVAL);
}

TEST_F(SubdevIoctlTest, EnumMbusCode) {
  std::vector<uint32_t> codes;
  for (uint32_t i = 0;; ++i) {
    v4l2_subdev_mbus_code_enum c = {};
    c.which = V4L2_SUBDEV_FORMAT_ACTIVE;
    c.index = i;
    long ret = ioctl(sensor_fd_, VIDIOC_SUBDEV_ENUM_MBUS_CODE, &c);
    if (ret != 0) {
      EXPECT_EQ(ret, -EINVAL);  // index past the end
      break;
    }
    codes.push_back(c.code);
  }
  EXPECT_EQ(codes, (std::vector<uint32_t>{MEDIA_BUS_FMT_SGRBG10_1X10, MEDIA_BUS_FMT_SGRBG8_1X8}));
  v4l2_subdev_mbus_code_enum c = {};
  c.which = V4L2_SUBDEV_FORMAT_TRY;
  c.pad = 1;
  EXPECT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_ENUM_MBUS_CODE, &c), -EINVAL);  // no pad 1
  // The receiver's source pad offers what its sink receives.
  c.pad = 1;
  c.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  ASSERT_EQ(ioctl(receiver_fd_, VIDIOC_SUBDEV_ENUM_MBUS_CODE, &c), 0);
  EXPECT_EQ(c.code, static_cast<uint32_t>(MEDIA_BUS_FMT_SGRBG10_1X10));
  c.index = 1;
  EXPECT_EQ(ioctl(receiver_fd_, VIDIOC_SUBDEV_ENUM_MBUS_CODE, &c), -EINVAL);
}

TEST_F(SubdevIoctlTest, EnumFrameSize) {
  v4l2_subdev_frame_size_enum fse = {};
  fse.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  fse.code = MEDIA_BUS_FMT_SGRBG8_1X8;
  ASSERT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_ENUM_FRAME_SIZE, &fse), 0);
  EXPECT_EQ(fse.max_width, testing::kSensorWidth);
  EXPECT_EQ(fse.min_height, testing::kSensorMinSize);
  fse.index = 1;
  EXPECT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_ENUM_FRAME_SIZE, &fse), -EINVAL);
  // Not implemented by the receiver.
  fse.index = 0;
  EXPECT_EQ(ioctl(receiver_fd_, VIDIOC_SUBDEV_ENUM_FRAME_SIZE, &fse), -ENOTTY);
}

TEST_F(SubdevIoctlTest, SelectionCropBoundsAndSet) {
  v4l2_subdev_selection sel = {};
  sel.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  sel.target = V4L2_SEL_TGT_CROP_BOUNDS;
  ASSERT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_G_SELECTION, &sel), 0);
  EXPECT_EQ(sel.r.width, testing::kSensorWidth);
  EXPECT_EQ(sel.r.height, testing::kSensorHeight);

  sel.target = V4L2_SEL_TGT_CROP;
  sel.r = {101, 100, 1001, 800};
  ASSERT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_S_SELECTION, &sel), 0);
  EXPECT_EQ(sel.r.left, 100);  // aligned
  EXPECT_EQ(sel.r.width, 1000u);
  v4l2_subdev_selection got = {};
  got.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  got.target = V4L2_SEL_TGT_CROP;
  ASSERT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_G_SELECTION, &got), 0);
  EXPECT_EQ(got.r.left, 100);
  EXPECT_EQ(got.r.top, 100);
  EXPECT_EQ(got.r.width, 1000u);
  EXPECT_EQ(got.r.height, 800u);
  // The output follows the crop.
  v4l2_mbus_framefmt fmt;
  ASSERT_EQ(g_fmt(sensor_fd_, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), 0);
  EXPECT_EQ(fmt.width, 1000u);
  EXPECT_EQ(fmt.height, 800u);
  // TRY crop is the file's own.
  got.which = V4L2_SUBDEV_FORMAT_TRY;
  ASSERT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_G_SELECTION, &got), 0);
  EXPECT_EQ(got.r.width, testing::kSensorWidth);
  // Unknown target.
  got.target = V4L2_SEL_TGT_COMPOSE;
  EXPECT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_G_SELECTION, &got), -EINVAL);
  EXPECT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_S_SELECTION, &got), -EINVAL);
}

TEST_F(SubdevIoctlTest, LegacyCropMapsToSelection) {
  v4l2_subdev_crop crop = {};
  crop.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  crop.rect = {0, 0, 640, 480};
  ASSERT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_S_CROP, &crop), 0);
  v4l2_subdev_crop got = {};
  got.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  ASSERT_EQ(ioctl(sensor_fd_, VIDIOC_SUBDEV_G_CROP, &got), 0);
  EXPECT_EQ(got.rect.width, 640u);
  EXPECT_EQ(got.rect.height, 480u);
}

TEST_F(SubdevIoctlTest, MissingOpIsENOTTY) {
  v4l2_subdev_selection sel = {};
  sel.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  sel.target = V4L2_SEL_TGT_CROP;
  EXPECT_EQ(ioctl(receiver_fd_, VIDIOC_SUBDEV_G_SELECTION, &sel), -ENOTTY);
  EXPECT_EQ(ioctl(receiver_fd_, VIDIOC_SUBDEV_S_SELECTION, &sel), -ENOTTY);
}

// The receiver's sink format propagates to its source pad.
TEST_F(SubdevIoctlTest, ReceiverSinkFormatPropagatesToSource) {
  v4l2_subdev_format f =
      make_format(V4L2_SUBDEV_FORMAT_ACTIVE, 0, 800, 600, MEDIA_BUS_FMT_SGRBG8_1X8);
  ASSERT_EQ(ioctl(receiver_fd_, VIDIOC_SUBDEV_S_FMT, &f), 0);
  v4l2_mbus_framefmt src;
  ASSERT_EQ(g_fmt(receiver_fd_, V4L2_SUBDEV_FORMAT_ACTIVE, 1, &src), 0);
  EXPECT_EQ(src.width, 800u);
  EXPECT_EQ(src.code, static_cast<uint32_t>(MEDIA_BUS_FMT_SGRBG8_1X8));
  // Setting the source returns the source unchanged.
  f = make_format(V4L2_SUBDEV_FORMAT_ACTIVE, 1, 64, 64);
  ASSERT_EQ(ioctl(receiver_fd_, VIDIOC_SUBDEV_S_FMT, &f), 0);
  EXPECT_EQ(f.format.width, 800u);
}

TEST_F(SubdevIoctlTest, BadPointerIsEFAULT) {
  EXPECT_EQ(proc_.ioctl(sensor_fd_, VIDIOC_SUBDEV_G_FMT, kBadPtr), -EFAULT);    // copy in
  EXPECT_EQ(proc_.ioctl(sensor_fd_, VIDIOC_SUBDEV_QUERYCAP, kBadPtr), -EFAULT);  // copy out
  EXPECT_EQ(proc_.ioctl(sensor_fd_, VIDIOC_SUBDEV_S_SELECTION, 0), -EFAULT);
  // The end of the arena: the struct does not fit.
  const user_addr_t end = kArg + kArenaSize - sizeof(v4l2_subdev_format) / 2;
  EXPECT_EQ(proc_.ioctl(sensor_fd_, VIDIOC_SUBDEV_G_FMT, end), -EFAULT);
}

TEST_F(SubdevIoctlTest, UnknownIoctlIsENOTTY) {
  uint32_t word = 0;
  EXPECT_EQ(ioctl(sensor_fd_, _IOWR('V', 0xff, uint32_t), &word), -ENOTTY);
  EXPECT_EQ(ioctl(sensor_fd_, _IO('V', 4), &word), -ENOTTY);
  // A video-node ioctl is not a sub-device one (same nr, other size).
  v4l2_capability vcap = {};
  EXPECT_EQ(ioctl(sensor_fd_, VIDIOC_QUERYCAP, &vcap), -ENOTTY);
  // The media node's ioctls neither.
  media_device_info info = {};
  EXPECT_EQ(ioctl(sensor_fd_, MEDIA_IOC_DEVICE_INFO, &info), -ENOTTY);
}

// The sub-device entities and their link in the bridge's graph; the
// sub-device entity reports its node's major/minor.
TEST_F(SubdevIoctlTest, GraphHasTheSensorLinkAndNodeNumbers) {
  int mfd = open_node(media_node());
  ASSERT_GE(mfd, 0);
  EXPECT_EQ(entity_names(mfd),
            (std::vector<std::string>{"mcf-test-bridge.0 receiver", "mcf-test-sensor.0"}));
  media_entity_desc d = {};
  d.id = media_entity_id(&sensor()->sd.entity);
  ASSERT_EQ(ioctl(mfd, MEDIA_IOC_ENUM_ENTITIES, &d), 0);
  EXPECT_EQ(d.dev.major, VIDEO_MAJOR);
  EXPECT_EQ(d.dev.minor, static_cast<uint32_t>(sensor()->sd.devnode.minor));
  EXPECT_EQ(d.type, static_cast<uint32_t>(MEDIA_ENT_F_CAM_SENSOR));
  auto links = links_of(mfd, d.id);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].sink.entity, media_entity_id(&bridge()->receiver.entity));
  EXPECT_EQ(links[0].sink.index, 0);
  EXPECT_EQ(links[0].flags, MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE);
}

// G_TOPOLOGY: one V4L_SUBDEV interface per node, linked to the sub-device's
// own entity; no extra entity for the node (a video_device embedded in a
// sub-device has none). The sensor's interface and entity leave with it.
TEST_F(SubdevIoctlTest, TopologyLinksSubdevInterfacesToSubdevEntities) {
  int mfd = open_node(media_node());
  ASSERT_GE(mfd, 0);
  struct Topology {
    std::vector<media_v2_entity> entities;
    std::vector<media_v2_interface> interfaces;
    std::vector<media_v2_link> links;
  };
  auto topology = [&]() {
    media_v2_topology t = {};
    EXPECT_EQ(ioctl(mfd, MEDIA_IOC_G_TOPOLOGY, &t), 0);
    Topology out;
    out.entities.resize(t.num_entities);
    out.interfaces.resize(t.num_interfaces);
    out.links.resize(t.num_links);
    t.ptr_entities = kArray;
    t.ptr_interfaces = kArray + 0x4000;
    t.ptr_links = kArray + 0x8000;
    t.num_pads = 0;
    t.ptr_pads = 0;
    EXPECT_EQ(ioctl(mfd, MEDIA_IOC_G_TOPOLOGY, &t), 0);
    EXPECT_TRUE(proc_.mem().read(t.ptr_entities, out.entities.data(),
                                 out.entities.size() * sizeof(media_v2_entity)));
    EXPECT_TRUE(proc_.mem().read(t.ptr_interfaces, out.interfaces.data(),
                                 out.interfaces.size() * sizeof(media_v2_interface)));
    EXPECT_TRUE(proc_.mem().read(t.ptr_links, out.links.data(),
                                 out.links.size() * sizeof(media_v2_link)));
    return out;
  };
  auto expect_node_interface = [](const Topology& t, v4l2_subdev* sd) {
    const media_v2_interface* intf = nullptr;
    for (const auto& i : t.interfaces)
      if (i.devnode.minor == static_cast<uint32_t>(sd->devnode.minor)) intf = &i;
    ASSERT_NE(intf, nullptr) << sd->name;
    EXPECT_EQ(intf->intf_type, static_cast<uint32_t>(MEDIA_INTF_T_V4L_SUBDEV));
    EXPECT_EQ(intf->devnode.major, VIDEO_MAJOR);
    int links = 0;
    for (const auto& l : t.links) {
      if (l.source_id != intf->id) continue;
      ++links;
      EXPECT_EQ(l.sink_id, media_entity_id(&sd->entity));
      EXPECT_EQ(l.flags, MEDIA_LNK_FL_INTERFACE_LINK | MEDIA_LNK_FL_ENABLED |
                             MEDIA_LNK_FL_IMMUTABLE);
    }
    EXPECT_EQ(links, 1) << sd->name;
  };

  Topology t = topology();
  EXPECT_EQ(t.entities.size(), 2u);
  EXPECT_EQ(t.interfaces.size(), 2u);
  EXPECT_EQ(t.links.size(), 3u);  // two interface links, one data link
  expect_node_interface(t, &sensor()->sd);
  expect_node_interface(t, &bridge()->receiver);

  EXPECT_EQ(proc_.close(sensor_fd_), 0);
  remove_sensor();
  t = topology();
  EXPECT_EQ(t.entities.size(), 1u);
  EXPECT_EQ(t.interfaces.size(), 1u);
  EXPECT_EQ(t.links.size(), 1u);
  expect_node_interface(t, &bridge()->receiver);
}

// Read-only nodes: ACTIVE setters are refused, TRY ones work.
TEST(SubdevOwnedIoctlTest, ReadOnlyNodeRefusesActiveSetters) {
  ASSERT_EQ(alive_objects(), "");
  {
    owned_subdev o("ro");
    o.register_all(/*read_only=*/true);
    process p(kArenaSize);
    int fd = p.open(o.path(), O_RDWR_);
    ASSERT_GE(fd, 0);
    v4l2_subdev_capability cap = {};
    ASSERT_EQ(ioctl_arg(p, fd, VIDIOC_SUBDEV_QUERYCAP, &cap), 0);
    EXPECT_EQ(cap.capabilities, static_cast<uint32_t>(V4L2_SUBDEV_CAP_RO_SUBDEV));
    v4l2_subdev_format f = make_format(V4L2_SUBDEV_FORMAT_ACTIVE, 0, 64, 64);
    EXPECT_EQ(ioctl_arg(p, fd, VIDIOC_SUBDEV_S_FMT, &f), -EPERM);
    f = make_format(V4L2_SUBDEV_FORMAT_TRY, 1, 64, 64);
    EXPECT_EQ(ioctl_arg(p, fd, VIDIOC_SUBDEV_S_FMT, &f), 0);
    f = make_format(V4L2_SUBDEV_FORMAT_TRY, 1);
    ASSERT_EQ(ioctl_arg(p, fd, VIDIOC_SUBDEV_G_FMT, &f), 0);
    EXPECT_EQ(f.format.width, 64u);
    v4l2_subdev_selection sel = {};
    sel.which = V4L2_SUBDEV_FORMAT_ACTIVE;
    EXPECT_EQ(ioctl_arg(p, fd, VIDIOC_SUBDEV_S_SELECTION, &sel), -EPERM);
    EXPECT_EQ(p.close(fd), 0);
    o.teardown();
  }
  EXPECT_EQ(alive_objects(), "");
}

}  // namespace
}  // namespace mcf::v4l2test
