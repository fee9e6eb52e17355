// The topology printer (tools/topology) on vimc: the media-ctl -p text and
// the --print-dot graph of the default topology, compared with the expected
// output in full; what changes after SETUP_LINK; and what the printer says
// once the device is gone.
#include <gtest/gtest.h>

#include <string>

#include "tests/drivers/vimc_test_util.h"
#include "tools/topology/topology.h"

namespace mcf::vimctest {
namespace {

// media-ctl -p (v4l-utils 1.22 layout) on upstream vimc, less the pad format
// lines media-ctl reads from the sub-device nodes.
const char kVimcText[] = R"TXT(Media controller API version 6.17.0

Media device information
------------------------
driver          vimc
model           VIMC MDEV
serial          
bus info        platform:vimc
hw revision     0x0
driver version  6.17.0

Device topology
- entity 1: Sensor A (1 pad, 2 links)
            type V4L2 subdev subtype Sensor flags 0
            device node name /dev/v4l-subdev0
	pad0: Source
		-> "Debayer A":0 [ENABLED,IMMUTABLE]
		-> "Raw Capture 0":0 [ENABLED,IMMUTABLE]

- entity 3: Sensor B (1 pad, 2 links)
            type V4L2 subdev subtype Sensor flags 0
            device node name /dev/v4l-subdev1
	pad0: Source
		-> "Debayer B":0 [ENABLED,IMMUTABLE]
		-> "Raw Capture 1":0 [ENABLED,IMMUTABLE]

- entity 5: Debayer A (2 pads, 2 links)
            type V4L2 subdev subtype Unknown flags 0
            device node name /dev/v4l-subdev2
	pad0: Sink
		<- "Sensor A":0 [ENABLED,IMMUTABLE]
	pad1: Source
		-> "Scaler":0 [ENABLED]

- entity 8: Debayer B (2 pads, 2 links)
            type V4L2 subdev subtype Unknown flags 0
            device node name /dev/v4l-subdev3
	pad0: Sink
		<- "Sensor B":0 [ENABLED,IMMUTABLE]
	pad1: Source
		-> "Scaler":0 []

- entity 11: Raw Capture 0 (1 pad, 1 link)
             type Node subtype V4L flags 0
             device node name /dev/video0
	pad0: Sink
		<- "Sensor A":0 [ENABLED,IMMUTABLE]

- entity 15: Raw Capture 1 (1 pad, 1 link)
             type Node subtype V4L flags 0
             device node name /dev/video1
	pad0: Sink
		<- "Sensor B":0 [ENABLED,IMMUTABLE]

- entity 19: RGB/YUV Input (1 pad, 1 link)
             type V4L2 subdev subtype Sensor flags 0
             device node name /dev/v4l-subdev4
	pad0: Source
		-> "Scaler":0 []

- entity 21: Scaler (2 pads, 4 links)
             type V4L2 subdev subtype Unknown flags 0
             device node name /dev/v4l-subdev5
	pad0: Sink
		<- "Debayer A":1 [ENABLED]
		<- "Debayer B":1 []
		<- "RGB/YUV Input":0 []
	pad1: Source
		-> "RGB/YUV Capture":0 [ENABLED,IMMUTABLE]

- entity 24: RGB/YUV Capture (1 pad, 1 link)
             type Node subtype V4L flags 0
             device node name /dev/video2
	pad0: Sink
		<- "Scaler":1 [ENABLED,IMMUTABLE]

- entity 28: Lens A (0 pad, 0 link)
             type V4L2 subdev subtype Lens flags 0
             device node name /dev/v4l-subdev6

- entity 29: Lens B (0 pad, 0 link)
             type V4L2 subdev subtype Lens flags 0
             device node name /dev/v4l-subdev7

)TXT";

// media-ctl --print-dot.
const char kVimcDot[] = R"DOT(digraph board {
	rankdir=TB
	n00000001 [label="{{} | Sensor A\n/dev/v4l-subdev0 | {<port0> 0}}", shape=Mrecord, style=filled, fillcolor=green]
	n00000001:port0 -> n00000005:port0 [style=bold]
	n00000001:port0 -> n0000000b [style=bold]
	n00000003 [label="{{} | Sensor B\n/dev/v4l-subdev1 | {<port0> 0}}", shape=Mrecord, style=filled, fillcolor=green]
	n00000003:port0 -> n00000008:port0 [style=bold]
	n00000003:port0 -> n0000000f [style=bold]
	n00000005 [label="{{<port0> 0} | Debayer A\n/dev/v4l-subdev2 | {<port1> 1}}", shape=Mrecord, style=filled, fillcolor=green]
	n00000005:port1 -> n00000015:port0
	n00000008 [label="{{<port0> 0} | Debayer B\n/dev/v4l-subdev3 | {<port1> 1}}", shape=Mrecord, style=filled, fillcolor=green]
	n00000008:port1 -> n00000015:port0 [style=dashed]
	n0000000b [label="Raw Capture 0\n/dev/video0", shape=box, style=filled, fillcolor=yellow]
	n0000000f [label="Raw Capture 1\n/dev/video1", shape=box, style=filled, fillcolor=yellow]
	n00000013 [label="{{} | RGB/YUV Input\n/dev/v4l-subdev4 | {<port0> 0}}", shape=Mrecord, style=filled, fillcolor=green]
	n00000013:port0 -> n00000015:port0 [style=dashed]
	n00000015 [label="{{<port0> 0} | Scaler\n/dev/v4l-subdev5 | {<port1> 1}}", shape=Mrecord, style=filled, fillcolor=green]
	n00000015:port1 -> n00000018 [style=bold]
	n00000018 [label="RGB/YUV Capture\n/dev/video2", shape=box, style=filled, fillcolor=yellow]
	n0000001c [label="{{} | Lens A\n/dev/v4l-subdev6 | {}}", shape=Mrecord, style=filled, fillcolor=green]
	n0000001d [label="{{} | Lens B\n/dev/v4l-subdev7 | {}}", shape=Mrecord, style=filled, fillcolor=green]
}
)DOT";

using TopologyTextTest = VimcTest;

TEST_F(TopologyTextTest, TextDumpOfTheDefaultTopology) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(topology::topology_text(proc_, fd, kArrays), kVimcText);
}

TEST_F(TopologyTextTest, DotGraphOfTheDefaultTopology) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(topology::topology_dot(proc_, fd, kArrays), kVimcDot);
}

TEST_F(TopologyTextTest, DumpsFollowSetupLink) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(setup_link(fd, "Debayer A", 1, "Scaler", 0, 0), 0);
  ASSERT_EQ(setup_link(fd, "RGB/YUV Input", 0, "Scaler", 0, MEDIA_LNK_FL_ENABLED), 0);
  std::string text = topology::topology_text(proc_, fd, kArrays);
  std::string expected = kVimcText;
  auto replace = [&expected](const std::string& from, const std::string& to) {
    size_t at = expected.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    expected.replace(at, from.size(), to);
  };
  replace("\t\t-> \"Scaler\":0 [ENABLED]\n", "\t\t-> \"Scaler\":0 []\n");
  replace("\t\t<- \"Debayer A\":1 [ENABLED]\n", "\t\t<- \"Debayer A\":1 []\n");
  replace("\t\t<- \"RGB/YUV Input\":0 []\n", "\t\t<- \"RGB/YUV Input\":0 [ENABLED]\n");
  // The Input's own block: its one link, now enabled.
  size_t input = expected.find("RGB/YUV Input (1 pad");
  ASSERT_NE(input, std::string::npos);
  const std::string disabled = "\t\t-> \"Scaler\":0 []\n";
  size_t at = expected.find(disabled, input);
  ASSERT_NE(at, std::string::npos);
  expected.replace(at, disabled.size(), "\t\t-> \"Scaler\":0 [ENABLED]\n");
  EXPECT_EQ(text, expected);

  std::string dot = topology::topology_dot(proc_, fd, kArrays);
  EXPECT_NE(dot.find("\tn00000005:port1 -> n00000015:port0 [style=dashed]\n"), std::string::npos);
  EXPECT_NE(dot.find("\tn00000013:port0 -> n00000015:port0\n"), std::string::npos);
}

TEST_F(TopologyTextTest, V2DumpListsInterfacesAndAncillaryLinks) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  std::string v2 = topology::topology_v2_text(proc_, fd, kArrays);
  EXPECT_EQ(v2.substr(0, v2.find('\n')),
            "topology version 16: 11 entities, 11 interfaces, 12 pads, 21 links");
  EXPECT_NE(v2.find("interface 13: V4L_VIDEO 81:0 /dev/video0\n"), std::string::npos);
  EXPECT_NE(v2.find("interface 60: V4L_SUBDEV 81:9 /dev/v4l-subdev6\n"), std::string::npos);
  EXPECT_NE(v2.find("link 46: entity 1 -> entity 28 [ENABLED,IMMUTABLE] ancillary\n"),
            std::string::npos);
  EXPECT_NE(v2.find("link 47: entity 3 -> entity 29 [ENABLED,IMMUTABLE] ancillary\n"),
            std::string::npos);
  EXPECT_NE(v2.find("link 38: pad 7 -> pad 22 [ENABLED] data\n"), std::string::npos);
}

TEST_F(TopologyTextTest, UnregisteredDeviceCannotBeEnumerated) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  remove_device();
  // R12: the media node answers -EIO once unregistered; the open file kept
  // the memory (R1, R2).
  EXPECT_EQ(topology::topology_text(proc_, fd, kArrays),
            "Failed to enumerate " + std::to_string(fd) + " (-5)\n");
  topology::media_snapshot snap;
  EXPECT_EQ(topology::topology_read(proc_, fd, &snap, kArrays), -EIO);
  // A scratch range outside the process's memory is refused up front.
  EXPECT_EQ(topology::topology_read(proc_, fd, &snap, 4), -EFAULT);
}

}  // namespace
}  // namespace mcf::vimctest
