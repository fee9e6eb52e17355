// MEDIA_IOC_SETUP_LINK on vimc: the three links into the Scaler toggle (vimc
// has no link_setup, so nothing stops two of them being enabled at once);
// the immutable ones refuse any change as upstream (-EINVAL, an unchanged
// request succeeds); a link that touches a started pipeline is -EBUSY, one
// outside it is not.
#include <gtest/gtest.h>

#include "tests/drivers/vimc_test_util.h"

namespace mcf::vimctest {
namespace {

struct Link {
  const char* src;
  uint16_t src_pad;
  const char* sink;
  uint16_t sink_pad;
  uint32_t flags;  // upstream's default
};

constexpr uint32_t ON = MEDIA_LNK_FL_ENABLED, FIXED = MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE;

const Link kMutable[] = {
    {"Debayer A", 1, "Scaler", 0, ON},
    {"Debayer B", 1, "Scaler", 0, 0},
    {"RGB/YUV Input", 0, "Scaler", 0, 0},
};
const Link kImmutable[] = {
    {"Sensor A", 0, "Debayer A", 0, FIXED},
    {"Sensor A", 0, "Raw Capture 0", 0, FIXED},
    {"Sensor B", 0, "Debayer B", 0, FIXED},
    {"Sensor B", 0, "Raw Capture 1", 0, FIXED},
    {"Scaler", 1, "RGB/YUV Capture", 0, FIXED},
};

using VimcLinkSetupTest = VimcTest;

TEST_F(VimcLinkSetupTest, MutableLinksToggle) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  for (const Link& l : kMutable) {
    SCOPED_TRACE(std::string(l.src) + " -> " + l.sink);
    ASSERT_EQ(link_flags(fd, l.src, l.src_pad, l.sink, l.sink_pad), l.flags);
    const uint32_t toggled = l.flags ^ MEDIA_LNK_FL_ENABLED;
    EXPECT_EQ(setup_link(fd, l.src, l.src_pad, l.sink, l.sink_pad, toggled), 0);
    EXPECT_EQ(link_flags(fd, l.src, l.src_pad, l.sink, l.sink_pad), toggled);
    // The same request again: nothing to do, success.
    EXPECT_EQ(setup_link(fd, l.src, l.src_pad, l.sink, l.sink_pad, toggled), 0);
    EXPECT_EQ(setup_link(fd, l.src, l.src_pad, l.sink, l.sink_pad, l.flags), 0);
    EXPECT_EQ(link_flags(fd, l.src, l.src_pad, l.sink, l.sink_pad), l.flags);
  }
  // No link_setup in vimc: all three inputs of the Scaler may be enabled.
  for (const Link& l : kMutable)
    EXPECT_EQ(setup_link(fd, l.src, l.src_pad, l.sink, l.sink_pad, ON), 0);
  for (const Link& l : kMutable)
    EXPECT_EQ(link_flags(fd, l.src, l.src_pad, l.sink, l.sink_pad), ON);
}

TEST_F(VimcLinkSetupTest, ImmutableLinksRefuseChanges) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  for (const Link& l : kImmutable) {
    SCOPED_TRACE(std::string(l.src) + " -> " + l.sink);
    EXPECT_EQ(setup_link(fd, l.src, l.src_pad, l.sink, l.sink_pad, FIXED), 0);  // unchanged
    EXPECT_EQ(setup_link(fd, l.src, l.src_pad, l.sink, l.sink_pad, ON), -EINVAL);
    EXPECT_EQ(setup_link(fd, l.src, l.src_pad, l.sink, l.sink_pad, 0), -EINVAL);
    EXPECT_EQ(setup_link(fd, l.src, l.src_pad, l.sink, l.sink_pad, MEDIA_LNK_FL_IMMUTABLE),
              -EINVAL);
    EXPECT_EQ(link_flags(fd, l.src, l.src_pad, l.sink, l.sink_pad), FIXED);
  }
  // Flags other than ENABLED cannot be set on a mutable link either.
  EXPECT_EQ(setup_link(fd, "Debayer B", 1, "Scaler", 0, MEDIA_LNK_FL_DYNAMIC), -EINVAL);
  EXPECT_EQ(setup_link(fd, "Debayer B", 1, "Scaler", 0, ON | MEDIA_LNK_FL_INTERFACE_LINK),
            -EINVAL);
  EXPECT_EQ(setup_link(fd, "Debayer B", 1, "Scaler", 0, ON | MEDIA_LNK_FL_IMMUTABLE), -EINVAL);
  // No link between the pads, a pad out of range, an unknown entity.
  EXPECT_EQ(setup_link(fd, "Sensor A", 0, "Scaler", 0, ON), -EINVAL);
  EXPECT_EQ(setup_link(fd, "Sensor A", 1, "Debayer A", 0, FIXED), -EINVAL);
  media_link_desc bad = {};
  bad.source.entity = 1000;
  bad.sink.entity = 5;
  EXPECT_EQ(user_ioctl(proc_, fd, MEDIA_IOC_SETUP_LINK, &bad, kArg), -EINVAL);
  // The ancillary links are not data links: the lens has no pad to name.
  EXPECT_EQ(setup_link(fd, "Sensor A", 0, "Lens A", 0, FIXED), -EINVAL);
}

TEST_F(VimcLinkSetupTest, LinksOfAStartedPipelineAreBusy) {
  ASSERT_NO_FATAL_FAILURE(configure_all(32, 16));
  int fd = open_media();
  int rgb = open_node("RGB/YUV Capture");
  ASSERT_EQ(start_capture(rgb, 2), 0);
  // The Scaler is streaming: none of its inputs may change.
  EXPECT_EQ(setup_link(fd, "Debayer A", 1, "Scaler", 0, 0), -EBUSY);
  EXPECT_EQ(setup_link(fd, "Debayer B", 1, "Scaler", 0, ON), -EBUSY);
  EXPECT_EQ(setup_link(fd, "RGB/YUV Input", 0, "Scaler", 0, ON), -EBUSY);
  // Unchanged requests are checked before busy-ness.
  EXPECT_EQ(setup_link(fd, "Debayer A", 1, "Scaler", 0, ON), 0);
  EXPECT_EQ(setup_link(fd, "Scaler", 1, "RGB/YUV Capture", 0, FIXED), 0);
  EXPECT_EQ(link_flags(fd, "Debayer A", 1, "Scaler", 0), ON);
  ASSERT_EQ(user_stream(proc_, rgb, VIDIOC_STREAMOFF, kArg), 0);
  EXPECT_EQ(setup_link(fd, "Debayer A", 1, "Scaler", 0, 0), 0);

  // Sensor B's pipeline (Sensor B, Debayer B, Raw Capture 1): the Input's
  // link is outside it, Debayer B's is not.
  int raw1 = open_node("Raw Capture 1");
  ASSERT_EQ(start_capture(raw1, 2), 0);
  EXPECT_EQ(setup_link(fd, "RGB/YUV Input", 0, "Scaler", 0, ON), 0);
  EXPECT_EQ(setup_link(fd, "Debayer B", 1, "Scaler", 0, ON), -EBUSY);
  ASSERT_EQ(user_stream(proc_, raw1, VIDIOC_STREAMOFF, kArg), 0);
  EXPECT_EQ(setup_link(fd, "Debayer B", 1, "Scaler", 0, ON), 0);
}

}  // namespace
}  // namespace mcf::vimctest
