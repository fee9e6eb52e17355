// The test-only video driver: see test_video_driver.h.
#include "tests/support/test_video_driver.h"

#include <cstdio>
#include <cstring>

#include "core/kernel/slab.h"
#include "core/v4l2/v4l2_fh.h"
#include "core/v4l2/v4l2_ioctl.h"

namespace mcf::testing {
namespace {

std::atomic<int> g_irq_handled{0};
std::atomic<int> g_released{0};

test_video_drv* to_drv(vb2_queue* q) { return static_cast<test_video_drv*>(vb2_get_drv_priv(q)); }
test_video_drv* file_drv(file* filp) {
  return container_of(video_devdata(filp), test_video_drv, vdev);
}

v4l2_pix_format fixed_format() {
  v4l2_pix_format pix = {};
  pix.width = kTestVideoWidth;
  pix.height = kTestVideoHeight;
  pix.pixelformat = V4L2_PIX_FMT_GREY;
  pix.field = V4L2_FIELD_NONE;
  pix.bytesperline = kTestVideoWidth;
  pix.sizeimage = kTestVideoSizeImage;
  pix.colorspace = V4L2_COLORSPACE_SRGB;
  return pix;
}

// --- The "hardware": one frame per interrupt.

// Hard-IRQ context (irq_fire): no sleeping, no mutex. irqlock is held across
// the completion so stop_streaming cannot return while a buffer is half done.
irqreturn_t test_video_irq(int irq, void* dev_id) {
  auto* drv = static_cast<test_video_drv*>(dev_id);
  g_irq_handled.fetch_add(1);
  SpinGuard g(&drv->irqlock);
  if (!drv->streaming) return IRQ_NONE;
  writel(1, drv->regs, kTestVideoRegIrqAck);
  uint32_t seq = drv->sequence++;
  writel(seq + 1, drv->regs, kTestVideoRegFrameCount);
  if (drv->buf_list.empty()) return IRQ_HANDLED;  // dropped frame
  vb2_v4l2_buffer* vbuf = drv->buf_list.front();
  drv->buf_list.pop_front();
  vb2_buffer* vb = &vbuf->vb2_buf;
  auto* p = static_cast<uint8_t*>(vb2_plane_vaddr(vb, 0));
  for (size_t i = 0; i < kTestVideoSizeImage; ++i) p[i] = test_video_pattern(seq, i);
  vb2_set_plane_payload(vb, 0, kTestVideoSizeImage);
  vbuf->sequence = seq;
  vbuf->field = V4L2_FIELD_NONE;
  vb->timestamp = (seq + 1) * kTestVideoFrameNs;
  vb2_buffer_done(vb, VB2_BUF_STATE_DONE);
  return IRQ_HANDLED;
}

// Gives every buffer the driver holds back to vb2 and stops frame delivery.
void return_all_buffers(test_video_drv* drv, vb2_buffer_state state) {
  SpinGuard g(&drv->irqlock);
  drv->streaming = false;
  for (vb2_v4l2_buffer* vbuf : drv->buf_list) vb2_buffer_done(&vbuf->vb2_buf, state);
  drv->buf_list.clear();
}

// --- vb2 ops (q->lock held, process context).

int test_video_queue_setup(vb2_queue* q, unsigned* num_buffers, unsigned* num_planes,
                           unsigned sizes[]) {
  if (*num_planes != 0) return sizes[0] < kTestVideoSizeImage ? -EINVAL : 0;
  *num_planes = 1;
  sizes[0] = kTestVideoSizeImage;
  return 0;
}

int test_video_buf_prepare(vb2_buffer* vb) {
  return vb2_plane_size(vb, 0) < kTestVideoSizeImage ? -EINVAL : 0;
}

void test_video_buf_queue(vb2_buffer* vb) {
  test_video_drv* drv = to_drv(vb->vb2_queue);
  SpinGuard g(&drv->irqlock);
  drv->buf_list.push_back(to_vb2_v4l2_buffer(vb));
}

int test_video_start_streaming(vb2_queue* q, unsigned count) {
  test_video_drv* drv = to_drv(q);
  int err = drv->start_streaming_error.load();
  if (err != 0) {
    // As upstream requires: a failed start hands the buffers back QUEUED.
    return_all_buffers(drv, VB2_BUF_STATE_QUEUED);
    return err;
  }
  writel(1, drv->regs, kTestVideoRegStreamCtrl);
  SpinGuard g(&drv->irqlock);
  drv->sequence = 0;
  drv->streaming = true;
  return 0;
}

void test_video_stop_streaming(vb2_queue* q) {
  test_video_drv* drv = to_drv(q);
  // A register write: stop_streaming after remove() would be reported (R15).
  writel(0, drv->regs, kTestVideoRegStreamCtrl);
  return_all_buffers(drv, VB2_BUF_STATE_ERROR);
}

const vb2_ops test_video_qops = {
    .queue_setup = test_video_queue_setup,
    .buf_prepare = test_video_buf_prepare,
    .start_streaming = test_video_start_streaming,
    .stop_streaming = test_video_stop_streaming,
    .buf_queue = test_video_buf_queue,
};

// --- ioctl ops (drv->lock held).

int test_video_querycap(file* filp, void* fh, v4l2_capability* cap) {
  std::snprintf(reinterpret_cast<char*>(cap->driver), sizeof(cap->driver), "%s",
                kTestVideoDriverName);
  std::snprintf(reinterpret_cast<char*>(cap->card), sizeof(cap->card), "MCF test video");
  return 0;
}

int test_video_enum_fmt(file* filp, void* fh, v4l2_fmtdesc* f) {
  if (f->index != 0) return -EINVAL;
  f->pixelformat = V4L2_PIX_FMT_GREY;
  std::snprintf(reinterpret_cast<char*>(f->description), sizeof(f->description),
                "8-bit Greyscale");
  return 0;
}

int test_video_g_fmt(file* filp, void* fh, v4l2_format* f) {
  f->fmt.pix = fixed_format();
  return 0;
}

int test_video_try_fmt(file* filp, void* fh, v4l2_format* f) {
  f->fmt.pix = fixed_format();  // one format only: anything asked becomes it
  return 0;
}

int test_video_s_fmt(file* filp, void* fh, v4l2_format* f) {
  // The format cannot change under allocated buffers.
  if (vb2_is_busy(&file_drv(filp)->queue)) return -EBUSY;
  return test_video_try_fmt(filp, fh, f);
}

int test_video_enum_input(file* filp, void* fh, v4l2_input* inp) {
  if (inp->index != 0) return -EINVAL;
  std::snprintf(reinterpret_cast<char*>(inp->name), sizeof(inp->name), "Camera 0");
  inp->type = V4L2_INPUT_TYPE_CAMERA;
  return 0;
}

int test_video_g_input(file* filp, void* fh, unsigned* i) {
  *i = 0;
  return 0;
}

int test_video_s_input(file* filp, void* fh, unsigned i) { return i == 0 ? 0 : -EINVAL; }

const v4l2_ioctl_ops test_video_ioctl_ops = {
    .vidioc_querycap = test_video_querycap,
    .vidioc_enum_fmt_vid_cap = test_video_enum_fmt,
    .vidioc_g_fmt_vid_cap = test_video_g_fmt,
    .vidioc_s_fmt_vid_cap = test_video_s_fmt,
    .vidioc_try_fmt_vid_cap = test_video_try_fmt,
    .vidioc_reqbufs = vb2_ioctl_reqbufs,
    .vidioc_querybuf = vb2_ioctl_querybuf,
    .vidioc_qbuf = vb2_ioctl_qbuf,
    .vidioc_dqbuf = vb2_ioctl_dqbuf,
    .vidioc_streamon = vb2_ioctl_streamon,
    .vidioc_streamoff = vb2_ioctl_streamoff,
    .vidioc_enum_input = test_video_enum_input,
    .vidioc_g_input = test_video_g_input,
    .vidioc_s_input = test_video_s_input,
};

const v4l2_ioctl_ops test_video_min_ioctl_ops = {
    .vidioc_querycap = test_video_querycap,
    .vidioc_enum_fmt_vid_cap = test_video_enum_fmt,
    .vidioc_g_fmt_vid_cap = test_video_g_fmt,
    .vidioc_s_fmt_vid_cap = test_video_s_fmt,
    .vidioc_reqbufs = vb2_ioctl_reqbufs,
    .vidioc_querybuf = vb2_ioctl_querybuf,
    .vidioc_qbuf = vb2_ioctl_qbuf,
    .vidioc_dqbuf = vb2_ioctl_dqbuf,
    .vidioc_streamon = vb2_ioctl_streamon,
    .vidioc_streamoff = vb2_ioctl_streamoff,
};

const v4l2_file_operations test_video_fops = {
    .open = v4l2_fh_open,
    .release = vb2_fop_release,
    .unlocked_ioctl = video_ioctl2,
    .poll = vb2_fop_poll,
};

// --- Lifetime.

// Who calls it: the last v4l2_device_put(): the driver's (remove) or the
// video node's release (last close after remove), whichever is last (R9).
void test_video_v4l2_release(v4l2_device* v4l2_dev) {
  test_video_drv* drv = container_of(v4l2_dev, test_video_drv, v4l2_dev);
  kfree(drv);
  g_released.fetch_add(1);
}

int test_video_probe(platform_device* pdev) {
  bool minimal = pdev->name == kTestVideoMinDriverName;
  int irq = platform_get_irq(pdev, 0);
  if (irq < 0) return irq;
  if (platform_get_iomem(pdev) == nullptr) return -ENXIO;
  test_video_drv* drv = kzalloc<test_video_drv>();
  if (drv == nullptr) return -ENOMEM;
  drv->pdev = pdev;
  drv->irq = irq;
  drv->regs = platform_get_iomem(pdev);

  // 1. The v4l2_device: from here the struct is freed by its release (R9).
  drv->v4l2_dev.release = test_video_v4l2_release;
  int ret = v4l2_device_register(&pdev->dev, &drv->v4l2_dev);
  if (ret != 0) {
    kfree(drv);
    return ret;
  }

  // 2. The buffer queue.
  vb2_queue* q = &drv->queue;
  q->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  q->io_modes = VB2_MMAP;
  q->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC | V4L2_BUF_FLAG_TSTAMP_SRC_EOF;
  q->lock = &drv->lock;
  q->ops = &test_video_qops;
  q->drv_priv = drv;
  q->min_queued_buffers = kTestVideoMinQueued;
  ret = vb2_queue_init(q);
  if (ret != 0) goto err_v4l2;

  // 3. The IRQ, before the node is reachable (the handler ignores frames
  //    until start_streaming). Not devm: remove() frees it (R15).
  ret = request_irq(static_cast<unsigned>(irq), test_video_irq, 0, kTestVideoDriverName, drv);
  if (ret != 0) goto err_v4l2;

  // 4. The node.
  {
    video_device* vdev = &drv->vdev;
    std::snprintf(vdev->name, sizeof(vdev->name), "%s", pdev->name.c_str());
    vdev->v4l2_dev = &drv->v4l2_dev;
    vdev->fops = &test_video_fops;
    vdev->ioctl_ops = minimal ? &test_video_min_ioctl_ops : &test_video_ioctl_ops;
    vdev->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
    vdev->queue = q;
    vdev->lock = &drv->lock;
    vdev->vfl_dir = VFL_DIR_RX;
    vdev->release = video_device_release_empty;  // embedded: freed with drv
    ret = video_register_device(vdev, VFL_TYPE_VIDEO, -1);
    if (ret != 0) goto err_irq;
  }
  platform_set_drvdata(pdev, drv);
  return 0;

  // Unwind in reverse; the memory goes with the last v4l2_device reference.
err_irq:
  free_irq(static_cast<unsigned>(irq), drv);
err_v4l2:
  v4l2_device_unregister(&drv->v4l2_dev);
  v4l2_device_put(&drv->v4l2_dev);
  return ret;
}

// R8: unregister, drop our reference; the memory stays while a file is open.
void test_video_remove(platform_device* pdev) {
  test_video_drv* drv = test_video_drvdata(pdev);
  // 1. R13/R14: waits for calls in flight, wakes DQBUF/poll sleepers, then
  //    releases the queue: stop_streaming runs now, while the hardware is
  //    there, and later closes find no owner and touch no driver code.
  vb2_video_unregister_device(&drv->vdev);
  // 2. R15: the handler uses drv; it goes before drv can.
  free_irq(static_cast<unsigned>(drv->irq), drv);
  // 3. The driver's own reference; may free drv (no file open).
  v4l2_device_unregister(&drv->v4l2_dev);
  platform_set_drvdata(pdev, nullptr);
  v4l2_device_put(&drv->v4l2_dev);
}

platform_driver make_driver(const char* name) {
  platform_driver d;
  d.probe = test_video_probe;
  d.remove = test_video_remove;
  d.driver.name = name;
  return d;
}

platform_driver test_video_platform_driver = make_driver(kTestVideoDriverName);
platform_driver test_video_min_platform_driver = make_driver(kTestVideoMinDriverName);

}  // namespace

int test_video_driver_register() {
  int ret = platform_driver_register(&test_video_platform_driver);
  if (ret != 0) return ret;
  ret = platform_driver_register(&test_video_min_platform_driver);
  if (ret != 0) platform_driver_unregister(&test_video_platform_driver);
  return ret;
}

void test_video_driver_unregister() {
  platform_driver_unregister(&test_video_min_platform_driver);
  platform_driver_unregister(&test_video_platform_driver);
}

platform_device* test_video_device_add(int id, bool minimal) {
  return platform_device_register_simple(minimal ? kTestVideoMinDriverName : kTestVideoDriverName,
                                         id, 1, kTestVideoNumRegs);
}

test_video_drv* test_video_drvdata(platform_device* pdev) {
  return static_cast<test_video_drv*>(platform_get_drvdata(pdev));
}

std::string test_video_devnode(test_video_drv* drv) {
  return "/dev/video" + std::to_string(drv->vdev.num);
}

int test_video_irq_handled_count() { return g_irq_handled.load(); }
int test_video_released_count() { return g_released.load(); }

}  // namespace mcf::testing
