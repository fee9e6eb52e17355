// video_ioctl2: the command table, -ENOTTY for unknown commands and missing
// ops, copy in / copy out (only on success), -EFAULT, buffer type checks,
// QUERYCAP's core-filled fields, and the format and input ioctls of the
// test video driver.
#include "core/v4l2/v4l2_ioctl.h"

#include <gtest/gtest.h>

#include <cstring>

#include "core/mc/media_device.h"
#include "core/v4l2/videobuf2.h"
#include "tests/support/test_video_driver.h"

namespace mcf {
namespace {

using namespace mcf::testing;

constexpr user_addr_t kArgAt = user_arena::kDefaultBase;

class VideoIoctlTest : public TestVideoFixture {};

class VideoIoctlMinimalTest : public TestVideoFixture {
 protected:
  bool minimal() const override { return true; }
};

TEST(VideoIoctlTable, NamesAndQueueIoctls) {
  EXPECT_STREQ(v4l2_ioctl_name(VIDIOC_QUERYCAP), "VIDIOC_QUERYCAP");
  EXPECT_STREQ(v4l2_ioctl_name(VIDIOC_DQBUF), "VIDIOC_DQBUF");
  EXPECT_EQ(v4l2_ioctl_name(VIDIOC_G_STD), nullptr);
  EXPECT_EQ(v4l2_ioctl_name(_IOR('V', 0, int)), nullptr);  // right number, wrong size
  EXPECT_TRUE(v4l2_is_queue_ioctl(VIDIOC_QBUF));
  EXPECT_TRUE(v4l2_is_queue_ioctl(VIDIOC_STREAMOFF));
  EXPECT_FALSE(v4l2_is_queue_ioctl(VIDIOC_S_FMT));
}

TEST_F(VideoIoctlTest, Querycap) {
  int fd = open_node();
  ASSERT_GE(fd, 0);
  v4l2_capability cap;
  std::memset(&cap, 0xa5, sizeof(cap));  // _IOR: the core zeroes its copy
  ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_QUERYCAP, &cap), 0);
  EXPECT_STREQ(reinterpret_cast<char*>(cap.driver), "mcf-test-video");
  EXPECT_STREQ(reinterpret_cast<char*>(cap.card), "MCF test video");
  EXPECT_STREQ(reinterpret_cast<char*>(cap.bus_info), "platform:mcf-test-video");
  EXPECT_EQ(cap.version, MCF_LINUX_VERSION_CODE);
  const uint32_t caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING | V4L2_CAP_EXT_PIX_FORMAT;
  EXPECT_EQ(cap.device_caps, caps);
  EXPECT_EQ(cap.capabilities, caps | V4L2_CAP_DEVICE_CAPS);
  EXPECT_EQ(cap.reserved[0], 0u);
}

TEST_F(VideoIoctlTest, EnumFmtCopiesOutOnlyOnSuccess) {
  int fd = open_node();
  v4l2_fmtdesc f = {};
  f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_ENUM_FMT, &f), 0);
  EXPECT_EQ(f.pixelformat, static_cast<uint32_t>(V4L2_PIX_FMT_GREY));
  EXPECT_STREQ(reinterpret_cast<char*>(f.description), "8-bit Greyscale");
  // Past the end: -EINVAL, and user memory is left as it was.
  std::memset(&f, 0, sizeof(f));
  f.index = 1;
  f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  f.pixelformat = 0x12345678;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_ENUM_FMT, &f), -EINVAL);
  EXPECT_EQ(f.pixelformat, 0x12345678u);
  f.index = 0;
  f.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_ENUM_FMT, &f), -EINVAL);
}

TEST_F(VideoIoctlTest, FormatIoctls) {
  int fd = open_node();
  v4l2_format f = {};
  f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_G_FMT, &f), 0);
  EXPECT_EQ(f.fmt.pix.width, kTestVideoWidth);
  EXPECT_EQ(f.fmt.pix.height, kTestVideoHeight);
  EXPECT_EQ(f.fmt.pix.pixelformat, static_cast<uint32_t>(V4L2_PIX_FMT_GREY));
  EXPECT_EQ(f.fmt.pix.sizeimage, kTestVideoSizeImage);
  EXPECT_EQ(f.fmt.pix.priv, V4L2_PIX_FMT_PRIV_MAGIC);

  v4l2_format want = {};
  want.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  want.fmt.pix.width = 1920;
  want.fmt.pix.height = 1080;
  want.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
  v4l2_format tried = want;
  ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_TRY_FMT, &tried), 0);
  EXPECT_EQ(tried.fmt.pix.width, kTestVideoWidth);  // the one format there is
  v4l2_format set = want;
  ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_S_FMT, &set), 0);
  EXPECT_EQ(set.fmt.pix.pixelformat, static_cast<uint32_t>(V4L2_PIX_FMT_GREY));
  EXPECT_EQ(set.fmt.pix.priv, V4L2_PIX_FMT_PRIV_MAGIC);

  // A buffer type this capture node does not handle.
  for (unsigned long cmd : {VIDIOC_G_FMT, VIDIOC_S_FMT, VIDIOC_TRY_FMT}) {
    v4l2_format out = {};
    out.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
    EXPECT_EQ(user_ioctl(proc_, fd, cmd, &out), -EINVAL) << cmd;
    out.type = 0;
    EXPECT_EQ(user_ioctl(proc_, fd, cmd, &out), -EINVAL) << cmd;
  }
}

TEST_F(VideoIoctlTest, InputIoctls) {
  int fd = open_node();
  v4l2_input in;
  std::memset(&in, 0xff, sizeof(in));
  in.index = 0;  // only the index is copied in; the rest comes back zeroed
  ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_ENUMINPUT, &in), 0);
  EXPECT_STREQ(reinterpret_cast<char*>(in.name), "Camera 0");
  EXPECT_EQ(in.type, static_cast<uint32_t>(V4L2_INPUT_TYPE_CAMERA));
  EXPECT_EQ(in.reserved[0], 0u);
  in.index = 1;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_ENUMINPUT, &in), -EINVAL);
  unsigned i = 7;
  ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_G_INPUT, &i), 0);
  EXPECT_EQ(i, 0u);
  i = 0;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_S_INPUT, &i), 0);
  i = 1;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_S_INPUT, &i), -EINVAL);
}

TEST_F(VideoIoctlTest, UnknownIoctlIsEnotty) {
  int fd = open_node();
  uint64_t junk = 0;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_G_STD, &junk), -ENOTTY);      // not modelled
  EXPECT_EQ(user_ioctl(proc_, fd, _IOR('V', 0, int), &junk), -ENOTTY);  // QUERYCAP's number
  EXPECT_EQ(proc_.ioctl(fd, 0xdeadbeef, kArgAt), -ENOTTY);
  EXPECT_EQ(proc_.ioctl(fd, _IOWR('X', 1, int), kArgAt), -ENOTTY);
  // Unknown commands do not look at user memory, even a bad pointer.
  EXPECT_EQ(proc_.ioctl(fd, VIDIOC_G_STD, 0x10), -ENOTTY);
}

TEST_F(VideoIoctlMinimalTest, MissingOpsAreEnotty) {
  int fd = open_node();
  v4l2_capability cap = {};
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_QUERYCAP, &cap), 0);
  v4l2_input in = {};
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_ENUMINPUT, &in), -ENOTTY);
  unsigned i = 0;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_G_INPUT, &i), -ENOTTY);
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_S_INPUT, &i), -ENOTTY);
  v4l2_format f = {};
  f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_TRY_FMT, &f), -ENOTTY);
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_G_FMT, &f), 0);
}

TEST_F(VideoIoctlTest, BadUserPointerIsEfault) {
  int fd = open_node();
  const user_addr_t outside = 0x10;
  const user_addr_t end = user_arena::kDefaultBase + proc_.mem().bytes.size();
  // _IOR: the handler runs, the copy out faults.
  EXPECT_EQ(proc_.ioctl(fd, VIDIOC_QUERYCAP, outside), -EFAULT);
  EXPECT_EQ(proc_.ioctl(fd, VIDIOC_QUERYCAP, end - sizeof(v4l2_capability) / 2), -EFAULT);
  // _IOWR: the copy in faults before the handler runs: nothing allocated.
  EXPECT_EQ(proc_.ioctl(fd, VIDIOC_REQBUFS, outside), -EFAULT);
  EXPECT_EQ(proc_.ioctl(fd, VIDIOC_REQBUFS, end - 4), -EFAULT);
  EXPECT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QUERYBUF, 0), -EINVAL);
  // _IOW: STREAMON's int.
  EXPECT_EQ(proc_.ioctl(fd, VIDIOC_STREAMON, outside), -EFAULT);
  EXPECT_EQ(proc_.ioctl(fd, VIDIOC_QBUF, outside), -EFAULT);
  EXPECT_EQ(proc_.ioctl(fd, VIDIOC_DQBUF, outside), -EFAULT);
}

TEST_F(VideoIoctlTest, QuerybufCopiesInOnlyItsInputFields) {
  int fd = open_node();
  ASSERT_EQ(user_reqbufs(proc_, fd, 2), 0);
  v4l2_buffer b;
  std::memset(&b, 0xee, sizeof(b));
  b.index = 1;
  b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_QUERYBUF, &b), 0);
  EXPECT_EQ(b.index, 1u);
  EXPECT_EQ(b.reserved2, 0u);
  EXPECT_EQ(b.length, kTestVideoSizeImage);
}

}  // namespace
}  // namespace mcf
