// vimc's formats as upstream: the sensors' media bus codes and frame sizes,
// the debayer's and the scaler's propagation from sink to source, the
// scaler's crop, the captures' pixel formats and TRY_FMT adjustments.
#include <gtest/gtest.h>

#include "tests/drivers/vimc_test_util.h"

namespace mcf::vimctest {
namespace {

class VimcFormatsTest : public VimcTest {
 protected:
  // Every code ENUM_MBUS_CODE gives on `pad`.
  std::vector<uint32_t> mbus_codes(const std::string& entity, uint32_t pad) {
    int fd = open_node(entity);
    std::vector<uint32_t> codes;
    for (uint32_t i = 0;; ++i) {
      v4l2_subdev_mbus_code_enum c = {};
      c.which = V4L2_SUBDEV_FORMAT_ACTIVE;
      c.pad = pad;
      c.index = i;
      if (user_ioctl(proc_, fd, VIDIOC_SUBDEV_ENUM_MBUS_CODE, &c, kArg) != 0) break;
      codes.push_back(c.code);
    }
    proc_.close(fd);
    return codes;
  }

  v4l2_subdev_selection get_selection(const std::string& entity, uint32_t target,
                                      long* ret = nullptr) {
    int fd = open_node(entity);
    v4l2_subdev_selection sel = {};
    sel.which = V4L2_SUBDEV_FORMAT_ACTIVE;
    sel.pad = 0;
    sel.target = target;
    long r = user_ioctl(proc_, fd, VIDIOC_SUBDEV_G_SELECTION, &sel, kArg);
    if (ret != nullptr) *ret = r;
    proc_.close(fd);
    return sel;
  }
};

void expect_fmt(const v4l2_mbus_framefmt& f, uint32_t code, uint32_t w, uint32_t h) {
  EXPECT_EQ(f.code, code);
  EXPECT_EQ(f.width, w);
  EXPECT_EQ(f.height, h);
  EXPECT_EQ(f.field, V4L2_FIELD_NONE);
  EXPECT_EQ(f.colorspace, V4L2_COLORSPACE_SRGB);
}

TEST_F(VimcFormatsTest, UpstreamDefaults) {
  v4l2_mbus_framefmt f;
  for (const char* sensor : {"Sensor A", "Sensor B", "RGB/YUV Input"}) {
    SCOPED_TRACE(sensor);
    ASSERT_EQ(subdev_get_fmt(sensor, 0, &f), 0);
    expect_fmt(f, MEDIA_BUS_FMT_RGB888_1X24, 640, 480);
    EXPECT_EQ(subdev_get_fmt(sensor, 1, &f), -EINVAL);  // one pad
  }
  for (const char* debayer : {"Debayer A", "Debayer B"}) {
    SCOPED_TRACE(debayer);
    ASSERT_EQ(subdev_get_fmt(debayer, 0, &f), 0);
    expect_fmt(f, MEDIA_BUS_FMT_SRGGB8_1X8, 640, 480);
    ASSERT_EQ(subdev_get_fmt(debayer, 1, &f), 0);
    expect_fmt(f, MEDIA_BUS_FMT_RGB888_1X24, 640, 480);
  }
  for (uint32_t pad : {0u, 1u}) {
    ASSERT_EQ(subdev_get_fmt("Scaler", pad, &f), 0);
    expect_fmt(f, MEDIA_BUS_FMT_RGB888_1X24, 640, 480);
  }
  v4l2_subdev_selection crop = get_selection("Scaler", V4L2_SEL_TGT_CROP);
  EXPECT_EQ(crop.r.left, 0);
  EXPECT_EQ(crop.r.top, 0);
  EXPECT_EQ(crop.r.width, 640u);
  EXPECT_EQ(crop.r.height, 480u);
  // The lenses have no pads and no pad operations.
  EXPECT_EQ(subdev_get_fmt("Lens A", 0, &f), -ENOTTY);

  for (const std::string& capture : vimc_capture_names()) {
    SCOPED_TRACE(capture);
    int fd = open_node(capture);
    v4l2_format fmt = {};
    fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_G_FMT, &fmt, kArg), 0);
    EXPECT_EQ(fmt.fmt.pix.width, 640u);
    EXPECT_EQ(fmt.fmt.pix.height, 480u);
    EXPECT_EQ(fmt.fmt.pix.pixelformat, V4L2_PIX_FMT_RGB24);
    EXPECT_EQ(fmt.fmt.pix.bytesperline, 640u * 3);
    EXPECT_EQ(fmt.fmt.pix.sizeimage, 640u * 480 * 3);
    EXPECT_EQ(fmt.fmt.pix.field, V4L2_FIELD_NONE);
    EXPECT_EQ(fmt.fmt.pix.colorspace, V4L2_COLORSPACE_SRGB);
    proc_.close(fd);
  }
}

TEST_F(VimcFormatsTest, MediaBusCodesAndFrameSizes) {
  // Sensors: every code of the table, RGB first.
  std::vector<uint32_t> sensor = mbus_codes("Sensor A", 0);
  ASSERT_EQ(sensor.size(), 31u);
  EXPECT_EQ(sensor[0], MEDIA_BUS_FMT_BGR888_1X24);
  EXPECT_EQ(sensor[2], MEDIA_BUS_FMT_RGB888_1X24);
  EXPECT_EQ(sensor[10], MEDIA_BUS_FMT_ARGB8888_1X32);
  EXPECT_EQ(sensor[11], MEDIA_BUS_FMT_SBGGR8_1X8);
  EXPECT_EQ(sensor[30], MEDIA_BUS_FMT_SRGGB12_1X12);
  // Debayer: Bayer in, RGB out.
  std::vector<uint32_t> deb_sink = mbus_codes("Debayer A", 0);
  ASSERT_EQ(deb_sink.size(), 12u);
  EXPECT_EQ(deb_sink[0], MEDIA_BUS_FMT_SBGGR8_1X8);
  EXPECT_EQ(deb_sink[11], MEDIA_BUS_FMT_SRGGB12_1X12);
  std::vector<uint32_t> deb_src = mbus_codes("Debayer A", 1);
  ASSERT_EQ(deb_src.size(), 10u);
  EXPECT_EQ(deb_src[0], MEDIA_BUS_FMT_GBR888_1X24);
  EXPECT_EQ(deb_src[3], MEDIA_BUS_FMT_RGB888_1X24);
  // Scaler: the non-Bayer codes only.
  std::vector<uint32_t> scaler = mbus_codes("Scaler", 0);
  ASSERT_EQ(scaler.size(), 11u);
  EXPECT_EQ(scaler.back(), MEDIA_BUS_FMT_ARGB8888_1X32);

  int fd = open_node("Sensor B");
  v4l2_subdev_frame_size_enum fse = {};
  fse.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  fse.code = MEDIA_BUS_FMT_SGRBG10_1X10;
  ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_SUBDEV_ENUM_FRAME_SIZE, &fse, kArg), 0);
  EXPECT_EQ(fse.min_width, 16u);
  EXPECT_EQ(fse.min_height, 16u);
  EXPECT_EQ(fse.max_width, 4096u);
  EXPECT_EQ(fse.max_height, 2160u);
  fse.index = 1;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_SUBDEV_ENUM_FRAME_SIZE, &fse, kArg), -EINVAL);
  fse.index = 0;
  fse.code = MEDIA_BUS_FMT_YUYV8_2X8;  // not in the table
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_SUBDEV_ENUM_FRAME_SIZE, &fse, kArg), -EINVAL);
  proc_.close(fd);
}

TEST_F(VimcFormatsTest, SensorAdjustsWhatItIsGiven) {
  v4l2_mbus_framefmt f;
  ASSERT_EQ(subdev_set_fmt("Sensor A", 0, MEDIA_BUS_FMT_SGBRG10_1X10, 1001, 3, &f), 0);
  expect_fmt(f, MEDIA_BUS_FMT_SGBRG10_1X10, 1000, 16);
  ASSERT_EQ(subdev_set_fmt("Sensor A", 0, MEDIA_BUS_FMT_YUYV8_2X8, 5000, 5000, &f), 0);
  expect_fmt(f, MEDIA_BUS_FMT_RGB888_1X24, 4096, 2160);
  ASSERT_EQ(subdev_get_fmt("Sensor A", 0, &f), 0);
  expect_fmt(f, MEDIA_BUS_FMT_RGB888_1X24, 4096, 2160);
}

TEST_F(VimcFormatsTest, DebayerPropagatesSinkToSource) {
  v4l2_mbus_framefmt f;
  ASSERT_EQ(subdev_set_fmt("Debayer B", 0, MEDIA_BUS_FMT_SBGGR12_1X12, 320, 240, &f), 0);
  expect_fmt(f, MEDIA_BUS_FMT_SBGGR12_1X12, 320, 240);
  ASSERT_EQ(subdev_get_fmt("Debayer B", 1, &f), 0);
  expect_fmt(f, MEDIA_BUS_FMT_RGB888_1X24, 320, 240);
  // The source pad cannot be set: the current format comes back.
  ASSERT_EQ(subdev_set_fmt("Debayer B", 1, MEDIA_BUS_FMT_BGR888_1X24, 64, 64, &f), 0);
  expect_fmt(f, MEDIA_BUS_FMT_RGB888_1X24, 320, 240);
  // A non-Bayer sink code becomes the default one.
  ASSERT_EQ(subdev_set_fmt("Debayer B", 0, MEDIA_BUS_FMT_RGB888_1X24, 64, 64, &f), 0);
  expect_fmt(f, MEDIA_BUS_FMT_SRGGB8_1X8, 64, 64);
}

TEST_F(VimcFormatsTest, ScalerPropagatesAndCrops) {
  v4l2_mbus_framefmt f;
  // The documented setup: 640x480 in, crop (100,50)/400x150, 300x700 out.
  ASSERT_EQ(subdev_set_fmt("Scaler", 0, MEDIA_BUS_FMT_RGB888_1X24, 640, 480), 0);
  int fd = open_node("Scaler");
  v4l2_subdev_selection sel = {};
  sel.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  sel.target = V4L2_SEL_TGT_CROP;
  sel.r = {100, 50, 400, 150};
  ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_SUBDEV_S_SELECTION, &sel, kArg), 0);
  EXPECT_EQ(sel.r.left, 100);
  EXPECT_EQ(sel.r.top, 50);
  EXPECT_EQ(sel.r.width, 400u);
  EXPECT_EQ(sel.r.height, 150u);
  ASSERT_EQ(subdev_set_fmt("Scaler", 1, MEDIA_BUS_FMT_RGB888_1X24, 300, 700, &f), 0);
  expect_fmt(f, MEDIA_BUS_FMT_RGB888_1X24, 300, 700);
  // Crops are kept inside the sink frame and at least 16x16.
  sel.r = {600, 470, 100, 4};
  ASSERT_EQ(user_ioctl(proc_, fd, VIDIOC_SUBDEV_S_SELECTION, &sel, kArg), 0);
  EXPECT_EQ(sel.r.left, 540);
  EXPECT_EQ(sel.r.top, 464);
  EXPECT_EQ(sel.r.width, 100u);
  EXPECT_EQ(sel.r.height, 16u);
  // Only the sink's crop exists.
  sel.pad = 1;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_SUBDEV_S_SELECTION, &sel, kArg), -EINVAL);
  sel.pad = 0;
  sel.target = V4L2_SEL_TGT_COMPOSE;
  EXPECT_EQ(user_ioctl(proc_, fd, VIDIOC_SUBDEV_S_SELECTION, &sel, kArg), -EINVAL);
  proc_.close(fd);
  v4l2_subdev_selection bounds = get_selection("Scaler", V4L2_SEL_TGT_CROP_BOUNDS);
  EXPECT_EQ(bounds.r.width, 640u);
  EXPECT_EQ(bounds.r.height, 480u);
  // A new sink format resets the crop and the source, code included.
  ASSERT_EQ(subdev_set_fmt("Scaler", 0, MEDIA_BUS_FMT_BGR888_1X24, 320, 240), 0);
  v4l2_subdev_selection crop = get_selection("Scaler", V4L2_SEL_TGT_CROP);
  EXPECT_EQ(crop.r.left, 0);
  EXPECT_EQ(crop.r.width, 320u);
  EXPECT_EQ(crop.r.height, 240u);
  ASSERT_EQ(subdev_get_fmt("Scaler", 1, &f), 0);
  expect_fmt(f, MEDIA_BUS_FMT_BGR888_1X24, 320, 240);
  // The source's code follows the sink whatever is asked; Bayer is refused.
  ASSERT_EQ(subdev_set_fmt("Scaler", 1, MEDIA_BUS_FMT_RGB888_1X24, 64, 64, &f), 0);
  expect_fmt(f, MEDIA_BUS_FMT_BGR888_1X24, 64, 64);
  ASSERT_EQ(subdev_set_fmt("Scaler", 0, MEDIA_BUS_FMT_SRGGB8_1X8, 64, 64, &f), 0);
  expect_fmt(f, MEDIA_BUS_FMT_RGB888_1X24, 64, 64);
}

TEST_F(VimcFormatsTest, TryFormatsBelongToTheirFile) {
  int a = open_node("Sensor A");
  int b = open_node("Sensor A");
  v4l2_subdev_format f = {};
  f.which = V4L2_SUBDEV_FORMAT_TRY;
  f.format.code = MEDIA_BUS_FMT_SBGGR8_1X8;
  f.format.width = 320;
  f.format.height = 200;
  ASSERT_EQ(user_ioctl(proc_, a, VIDIOC_SUBDEV_S_FMT, &f, kArg), 0);
  v4l2_subdev_format g = {};
  g.which = V4L2_SUBDEV_FORMAT_TRY;
  ASSERT_EQ(user_ioctl(proc_, a, VIDIOC_SUBDEV_G_FMT, &g, kArg), 0);
  EXPECT_EQ(g.format.code, MEDIA_BUS_FMT_SBGGR8_1X8);
  g = {};
  g.which = V4L2_SUBDEV_FORMAT_TRY;
  ASSERT_EQ(user_ioctl(proc_, b, VIDIOC_SUBDEV_G_FMT, &g, kArg), 0);
  expect_fmt(g.format, MEDIA_BUS_FMT_RGB888_1X24, 640, 480);  // init_state's defaults
  v4l2_mbus_framefmt active;
  ASSERT_EQ(subdev_get_fmt("Sensor A", 0, &active), 0);
  expect_fmt(active, MEDIA_BUS_FMT_RGB888_1X24, 640, 480);
}

TEST_F(VimcFormatsTest, CapturePixelFormats) {
  int fd = open_node("Raw Capture 1");
  std::vector<uint32_t> formats;
  for (uint32_t i = 0;; ++i) {
    v4l2_fmtdesc d = {};
    d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    d.index = i;
    if (user_ioctl(proc_, fd, VIDIOC_ENUM_FMT, &d, kArg) != 0) break;
    formats.push_back(d.pixelformat);
  }
  ASSERT_EQ(formats.size(), 23u);
  EXPECT_EQ(formats[0], V4L2_PIX_FMT_BGR24);
  EXPECT_EQ(formats[1], V4L2_PIX_FMT_RGB24);
  EXPECT_EQ(formats[2], V4L2_PIX_FMT_ARGB32);
  EXPECT_EQ(formats[3], V4L2_PIX_FMT_SBGGR8);
  EXPECT_EQ(formats[22], V4L2_PIX_FMT_SRGGB12);
  // IO_MC: ENUM_FMT filtered by a media bus code gives its pixel format.
  auto enum_for_code = [&](uint32_t code, uint32_t index, uint32_t* out) {
    v4l2_fmtdesc d = {};
    d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    d.index = index;
    d.mbus_code = code;
    long ret = user_ioctl(proc_, fd, VIDIOC_ENUM_FMT, &d, kArg);
    *out = d.pixelformat;
    return ret;
  };
  uint32_t pixfmt = 0;
  EXPECT_EQ(enum_for_code(MEDIA_BUS_FMT_SRGGB8_1X8, 0, &pixfmt), 0);
  EXPECT_EQ(pixfmt, V4L2_PIX_FMT_SRGGB8);
  EXPECT_EQ(enum_for_code(MEDIA_BUS_FMT_RGB888_3X8, 0, &pixfmt), 0);
  EXPECT_EQ(pixfmt, V4L2_PIX_FMT_RGB24);
  EXPECT_EQ(enum_for_code(MEDIA_BUS_FMT_SRGGB8_1X8, 1, &pixfmt), -EINVAL);
  EXPECT_EQ(enum_for_code(MEDIA_BUS_FMT_YUYV8_2X8, 0, &pixfmt), -EINVAL);

  v4l2_pix_format pix;
  // Sizes clamped to 16..4096 x 16..2160 and made even; bytesperline and
  // sizeimage from the format's bytes per pixel.
  ASSERT_EQ(capture_s_fmt(fd, V4L2_PIX_FMT_SGRBG12, 5001, 7, &pix), 0);
  EXPECT_EQ(pix.width, 4096u);
  EXPECT_EQ(pix.height, 16u);
  EXPECT_EQ(pix.bytesperline, 4096u * 2);
  EXPECT_EQ(pix.sizeimage, 4096u * 2 * 16);
  // An unknown pixel format becomes RGB24.
  ASSERT_EQ(capture_s_fmt(fd, V4L2_PIX_FMT_YUYV, 321, 241, &pix), 0);
  EXPECT_EQ(pix.pixelformat, V4L2_PIX_FMT_RGB24);
  EXPECT_EQ(pix.width, 320u);
  EXPECT_EQ(pix.height, 240u);
  EXPECT_EQ(pix.sizeimage, 320u * 240 * 3);
  // REQBUFS sizes the buffers from the format.
  v4l2_requestbuffers req;
  ASSERT_EQ(user_reqbufs(proc_, fd, 2, kArg, &req), 0);
  v4l2_buffer b = {};
  ASSERT_EQ(user_buf_ioctl(proc_, fd, VIDIOC_QUERYBUF, 1, &b, kArg), 0);
  EXPECT_EQ(b.length, 320u * 240 * 3);
  proc_.close(fd);
}

}  // namespace
}  // namespace mcf::vimctest
