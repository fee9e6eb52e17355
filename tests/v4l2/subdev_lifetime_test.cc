// Sub-device lifetime rules: R4 (containers wrap the entity count; the last
// release frees the one allocation), R7 (the embedded node: open try_gets,
// close puts, -ENODEV once the count hit zero), R12/R13 on sub-device nodes,
// R16 (no sub-device operation after the sensor left). Each test says how it
// fails when its rule is broken.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/v4l2/subdev_test_util.h"

namespace mcf::v4l2test {
namespace {

using SubdevLifetimeTest = SensorBridgeTest;

// ---------------------------------------------------------------------------
// R4

// Broken rule -> failure: if v4l2_subdev_get/put/try_get counted anything but
// the entity, the count checks fail; if the sensor's struct were freed at
// remove() (devm-style) instead of by the last release, the live count drops
// to 0 early and ASan reports a use-after-free at the next count read.
TEST_F(SubdevLifetimeTest, R4_SubdevRefsWrapTheEntityCountAndTheLastReleaseFrees) {
  bind_both();
  v4l2_subdev* sd = &sensor()->sd;
  // The driver's, the v4l2_device list's, the media-device registration's,
  // the node's and v4l2_async's waiting list's.
  EXPECT_EQ(v4l2_subdev_refcount(sd), 5u);
  EXPECT_EQ(v4l2_subdev_refcount(sd), kref_read(&sd->entity.ref));
  v4l2_subdev_get(sd);
  EXPECT_EQ(kref_read(&sd->entity.ref), 6u);
  EXPECT_TRUE(v4l2_subdev_try_get(sd));
  EXPECT_EQ(kref_read(&sd->entity.ref), 7u);
  v4l2_subdev_put(sd);
  EXPECT_EQ(kref_read(&sd->entity.ref), 6u);

  const int released = testing::test_sensor_released_count();
  remove_sensor();
  // Only our reference is left: the allocation (sub-device, entity, pad,
  // node) is whole and not released.
  EXPECT_EQ(v4l2_subdev_refcount(sd), 1u);
  EXPECT_EQ(live_objects_count("test_sensor"), 1);
  EXPECT_EQ(testing::test_sensor_released_count(), released);
  EXPECT_FALSE(v4l2_subdev_is_registered(sd));
  v4l2_subdev_put(sd);
  EXPECT_EQ(testing::test_sensor_released_count(), released + 1);
  EXPECT_EQ(live_objects_count("test_sensor"), 0);
  EXPECT_EQ(live_objects_count("v4l2_subdev_state"), 1);  // the receiver's only
}

// A graph walker's reference pins the allocation like any other (R4 + R10).
// Broken rule -> failure: a release that ignored the entity count would free
// the sensor under the walker (ASan use-after-free at the name read).
TEST_F(SubdevLifetimeTest, R4_GraphWalkReferenceKeepsTheSensorAfterRemove) {
  bind_both();
  media_device* mdev = &bridge()->mdev;
  media_graph graph;
  {
    MutexGuard g(&mdev->graph_mutex);
    media_graph_walk_start(&graph, &bridge()->receiver.entity);
    while (media_graph_walk_next(&graph) != nullptr) {
    }
  }
  ASSERT_EQ(graph.visited.size(), 2u);  // receiver and sensor, both referenced
  remove_sensor();
  EXPECT_EQ(live_objects_count("test_sensor"), 1);
  EXPECT_EQ(graph.visited[1]->name, "mcf-test-sensor.0");
  media_graph_walk_cleanup(&graph);
  EXPECT_EQ(live_objects_count("test_sensor"), 0);
}

// ---------------------------------------------------------------------------
// R7

// Broken rule -> failure: without the get in open / the put in close the
// count checks fail (and a close without its get underflows: a report).
TEST_F(SubdevLifetimeTest, R7_OpenTakesAReferenceAndCloseDropsIt) {
  bind_both();
  v4l2_subdev* sd = &sensor()->sd;
  const unsigned base = v4l2_subdev_refcount(sd);
  int fd1 = open_node(sensor_node());
  ASSERT_GE(fd1, 0);
  EXPECT_EQ(v4l2_subdev_refcount(sd), base + 1);
  int fd2 = open_node(sensor_node());
  ASSERT_GE(fd2, 0);
  EXPECT_EQ(v4l2_subdev_refcount(sd), base + 2);
  EXPECT_EQ(proc_.close(fd1), 0);
  EXPECT_EQ(v4l2_subdev_refcount(sd), base + 1);
  // dup shares the file: no new reference, and the last close puts once.
  int fd3 = proc_.dup(fd2);
  ASSERT_GE(fd3, 0);
  EXPECT_EQ(v4l2_subdev_refcount(sd), base + 1);
  EXPECT_EQ(proc_.close(fd2), 0);
  EXPECT_EQ(v4l2_subdev_refcount(sd), base + 1);
  EXPECT_EQ(proc_.close(fd3), 0);
  EXPECT_EQ(v4l2_subdev_refcount(sd), base);
  EXPECT_EQ(live_objects_count("v4l2_subdev_fh"), 0);
}

// The window R7 closes: a node still pinned by an opener while the
// sub-device's count already reached zero (its memory intact, being part of
// the same allocation). The sub-device's open must refuse with -ENODEV and
// leave nothing behind. The state is set up by hand (the count forced to 0
// through refcount_t's test hook), because R12/R13 already keep the file
// layer from reaching it.
// Broken rule -> failure: an open using get instead of try_get is a
// "refcount_t: addition on 0" report (abort); an open taking no reference
// returns 0 here and its close would underflow the count.
TEST(SubdevOwnedTest, R7_OpenAfterTheCountHitZeroFailsWithENODEV) {
  ASSERT_EQ(alive_objects(), "");
  {
    owned_subdev o("owned");
    o.register_all();
    ASSERT_NE(o.path(), "");
    const int saved = o.sd.entity.ref.refcount.read();
    file f;  // a file being opened on the node
    f.f_inode.i_cdev = &o.sd.devnode.cdev;
    o.sd.entity.ref.refcount.set(0);
    EXPECT_FALSE(v4l2_subdev_try_get(&o.sd));
    EXPECT_EQ(v4l2_subdev_fops.open(&f), -ENODEV);
    EXPECT_EQ(f.private_data, nullptr);
    EXPECT_EQ(live_objects_count("v4l2_subdev_fh"), 0);
    EXPECT_EQ(o.sd.entity.ref.refcount.read(), 0);  // not raised (R11)
    o.sd.entity.ref.refcount.set(saved);
    // With a live count the same open works, and its release puts.
    EXPECT_EQ(v4l2_subdev_fops.open(&f), 0);
    EXPECT_EQ(o.sd.entity.ref.refcount.read(), saved + 1);
    EXPECT_EQ(v4l2_subdev_fops.release(&f), 0);
    EXPECT_EQ(o.sd.entity.ref.refcount.read(), saved);
    o.teardown();
    EXPECT_EQ(o.released.load(), 1);
  }
  EXPECT_EQ(alive_objects(), "");
}

// The node's struct device holds the entity (not the other way round), so
// the last close after unregistration releases the whole sub-device.
// Broken rule -> failure: a node that did not pin the entity would let the
// driver's put free it under the open file (release count 1 too early, ASan
// use-after-free at close); a cycle (entity pinning the node) would leak it
// (release count stays 0, alive_objects not empty).
TEST(SubdevOwnedTest, R7_LastCloseAfterUnregistrationReleasesTheSubdev) {
  ASSERT_EQ(alive_objects(), "");
  {
    owned_subdev o("owned");
    o.register_all();
    process p(kArenaSize);
    int fd = p.open(o.path(), O_RDWR_);
    ASSERT_GE(fd, 0);
    o.teardown();
    EXPECT_EQ(o.released.load(), 0);
    // The file's, and its node's (the file pins the node's device).
    EXPECT_EQ(v4l2_subdev_refcount(&o.sd), 2u);
    v4l2_subdev_format f = make_format(V4L2_SUBDEV_FORMAT_ACTIVE, 0);
    EXPECT_EQ(ioctl_arg(p, fd, VIDIOC_SUBDEV_G_FMT, &f), -ENODEV);  // R12
    EXPECT_EQ(p.close(fd), 0);
    EXPECT_EQ(o.released.load(), 1);
  }
  EXPECT_EQ(alive_objects(), "");
}

// ---------------------------------------------------------------------------
// R12/R13 on sub-device nodes

// Broken rule -> failure: an ioctl that succeeds on the unregistered node is
// the file layer's kCallOnUnregistered report; a node left in /dev opens.
TEST_F(SubdevLifetimeTest, R12_IoctlOnSubdevNodeAfterUnregistrationIsENODEV) {
  bind_both();
  const std::string path = sensor_node();
  int fd = open_node(path);
  ASSERT_GE(fd, 0);
  v4l2_mbus_framefmt fmt;
  ASSERT_EQ(g_fmt(fd, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), 0);
  remove_sensor();
  EXPECT_EQ(g_fmt(fd, V4L2_SUBDEV_FORMAT_ACTIVE, 0, &fmt), -ENODEV);
  v4l2_subdev_capability cap = {};
  EXPECT_EQ(ioctl(fd, VIDIOC_SUBDEV_QUERYCAP, &cap), -ENODEV);
  EXPECT_EQ(proc_.open(path, O_RDWR_), -ENOENT);
  EXPECT_EQ(live_objects_count("test_sensor"), 1);  // the file keeps it (R8)
  EXPECT_EQ(proc_.close(fd), 0);
  EXPECT_EQ(live_objects_count("test_sensor"), 0);
}

// poll: no events on these nodes (EPOLLERR), and the unregistered answer.
// Broken rule -> failure: a poll that reached the driver after the node was
// unregistered would answer EPOLLERR alone instead of ERR|HUP|PRI.
TEST_F(SubdevLifetimeTest, R12_PollOnSubdevNode) {
  bind_both();
  int fd = open_node(sensor_node());
  ASSERT_GE(fd, 0);
  EXPECT_EQ(proc_.poll(fd, EPOLLIN | EPOLLPRI, /*block=*/true), static_cast<long>(EPOLLERR));
  remove_sensor();
  EXPECT_EQ(proc_.poll(fd, EPOLLIN | EPOLLPRI, /*block=*/true),
            static_cast<long>(EPOLLERR | EPOLLHUP | EPOLLPRI));
}

// v4l2_device_unregister_subdev directly (not through v4l2_async): same.
// Broken rule -> failure: the ioctl succeeding is the file layer's
// kCallOnUnregistered report; a second unregistration that was not a no-op
// would put the list's references twice (refcount underflow report).
TEST(SubdevOwnedTest, R12_UnregisterSubdevMakesNodeCallsFail) {
  ASSERT_EQ(alive_objects(), "");
  {
    owned_subdev o("owned");
    o.register_all();
    process p(kArenaSize);
    const std::string path = o.path();
    int fd = p.open(path, O_RDWR_);
    ASSERT_GE(fd, 0);
    v4l2_device_unregister_subdev(&o.sd);
    EXPECT_FALSE(v4l2_subdev_is_registered(&o.sd));
    EXPECT_EQ(o.sd.v4l2_dev, nullptr);
    v4l2_subdev_format f = make_format(V4L2_SUBDEV_FORMAT_TRY, 0);
    EXPECT_EQ(ioctl_arg(p, fd, VIDIOC_SUBDEV_G_FMT, &f), -ENODEV);
    EXPECT_EQ(p.open(path, O_RDWR_), -ENOENT);
    v4l2_device_unregister_subdev(&o.sd);  // a second time: no-op
    EXPECT_EQ(p.close(fd), 0);
    o.teardown();
    EXPECT_EQ(o.released.load(), 1);
  }
  EXPECT_EQ(alive_objects(), "");
}

// R14 on a sub-device node: a poll asleep waiting for events wakes when the
// node is unregistered and reports it gone. (Whether it was asleep yet or
// not, the answer is the same; the pause makes "asleep" the usual case.)
// Broken rule -> failure: a sleeper never woken hangs the join (ctest timeout).
TEST(SubdevOwnedTest, R14_BlockingPollWakesAtUnregistration) {
  ASSERT_EQ(alive_objects(), "");
  {
    owned_subdev o("events");
    o.sd.flags |= V4L2_SUBDEV_FL_HAS_EVENTS;
    o.register_all();
    process p(kArenaSize);
    int fd = p.open(o.path(), O_RDWR_);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(p.poll(fd, EPOLLPRI, /*block=*/false), 0);
    std::atomic<long> result{-1};
    std::thread poller([&] { result = p.poll(fd, EPOLLPRI, /*block=*/true); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    v4l2_device_unregister_subdev(&o.sd);
    poller.join();
    EXPECT_EQ(result.load(), static_cast<long>(EPOLLERR | EPOLLHUP | EPOLLPRI));
    EXPECT_EQ(p.close(fd), 0);
    o.teardown();
    EXPECT_EQ(o.released.load(), 1);
  }
  EXPECT_EQ(alive_objects(), "");
}

// ---------------------------------------------------------------------------
// R16

// The bridge stops calling into the sensor when it is unbound, and says so.
// Broken rule -> failure: a bridge that kept the pointer would call the
// removed sensor: v4l2_subdev_call reports (abort) and, for s_stream, the
// sensor's register write is a hardware-access-after-remove report.
TEST_F(SubdevLifetimeTest, R16_BridgeStopsCallingTheSensorAfterItLeft) {
  bind_both();
  test_bridge* b = bridge();
  test_sensor* s = sensor();
  v4l2_subdev_get(&s->sd);  // to look at the sensor after its remove()
  ASSERT_EQ(testing::test_bridge_s_stream(b, 1), 0);
  EXPECT_EQ(s->streaming.load(), 1);
  EXPECT_EQ(s->s_stream_calls.load(), 1);
  v4l2_mbus_framefmt fmt;
  ASSERT_EQ(testing::test_bridge_sensor_get_fmt(b, &fmt), 0);
  EXPECT_EQ(fmt.width, testing::kSensorWidth);

  remove_sensor();
  // unbind ran while the sensor was still registered: it stopped streaming.
  EXPECT_EQ(b->unbind_calls.load(), 1);
  EXPECT_EQ(s->streaming.load(), 0);
  EXPECT_EQ(s->s_stream_calls.load(), 2);
  EXPECT_EQ(testing::test_bridge_sensor(b), nullptr);
  EXPECT_FALSE(v4l2_subdev_is_registered(&s->sd));
  // From now on the bridge refuses instead of calling.
  EXPECT_EQ(testing::test_bridge_s_stream(b, 1), -ENODEV);
  EXPECT_EQ(testing::test_bridge_sensor_get_fmt(b, &fmt), -ENODEV);
  EXPECT_EQ(s->s_stream_calls.load(), 2);
  v4l2_subdev_put(&s->sd);
  EXPECT_EQ(live_objects_count("test_sensor"), 0);
}

// A bridge that calls its sensor after the sensor was unbound is caught, for
// an op that touches no hardware too (else only ASan would see it, and only
// once the memory is gone).
// Broken rule -> failure: without the check in v4l2_subdev_call, the get_fmt
// call succeeds silently and the death test fails.
TEST_F(SubdevLifetimeTest, R16_SubdevCallAfterUnbindIsReported) {
  bind_both();
  v4l2_subdev* sd = testing::test_bridge_sensor(bridge());
  ASSERT_EQ(sd, &sensor()->sd);
  v4l2_subdev_get(sd);  // memory stays: the report, not ASan, must fire
  remove_sensor();
  v4l2_subdev_format f = make_format(V4L2_SUBDEV_FORMAT_ACTIVE, 0);
  EXPECT_DEATH(v4l2_subdev_call(sd, pad, get_fmt, nullptr, &f),
               "REPORT warning: v4l2_subdev_call on unregistered subdev 'mcf-test-sensor.0': "
               "pad.get_fmt");
  EXPECT_DEATH(v4l2_subdev_call(sd, video, s_stream, 1),
               "v4l2_subdev_call on unregistered subdev .*video.s_stream");
  v4l2_subdev_put(sd);
}

// The same when the bridge left first: the sensor went back to waiting and
// is registered with nobody; an old bridge pointer must not be used either.
// Broken rule -> failure: without the check the call reaches the sensor,
// which is still bound, so nothing else would notice: the death test fails.
TEST_F(SubdevLifetimeTest, R16_SubdevCallAfterTheBridgeLeftIsReported) {
  bind_both();
  v4l2_subdev* sd = &sensor()->sd;
  remove_bridge();
  EXPECT_FALSE(v4l2_subdev_is_registered(sd));
  EXPECT_DEATH(v4l2_subdev_call(sd, video, s_stream, 1),
               "v4l2_subdev_call on unregistered subdev");
}

// A missing op is -ENOIOCTLCMD, for a missing group and a missing member.
TEST_F(SubdevLifetimeTest, SubdevCallMissingOpIsENOIOCTLCMD) {
  bind_both();
  v4l2_subdev* rx = &bridge()->receiver;
  EXPECT_EQ(v4l2_subdev_call(rx, video, s_stream, 1), -ENOIOCTLCMD);  // no video ops
  v4l2_subdev_selection sel = {};
  sel.which = V4L2_SUBDEV_FORMAT_ACTIVE;
  EXPECT_EQ(v4l2_subdev_call(rx, pad, get_selection, nullptr, &sel), -ENOIOCTLCMD);
  EXPECT_EQ(v4l2_subdev_call(rx, core, ioctl, 0u, nullptr), -ENOIOCTLCMD);
  EXPECT_FALSE(v4l2_subdev_has_op(rx, pad, get_selection));
  EXPECT_TRUE(v4l2_subdev_has_op(rx, pad, get_fmt));
  // The wrappers check `which`, `pad` and TRY-without-state first.
  v4l2_subdev_format f = make_format(V4L2_SUBDEV_FORMAT_ACTIVE, 2);
  EXPECT_EQ(v4l2_subdev_call(rx, pad, get_fmt, nullptr, &f), -EINVAL);
  f = make_format(7, 0);
  EXPECT_EQ(v4l2_subdev_call(rx, pad, get_fmt, nullptr, &f), -EINVAL);
  f = make_format(V4L2_SUBDEV_FORMAT_TRY, 0);
  EXPECT_EQ(v4l2_subdev_call(rx, pad, get_fmt, nullptr, &f), -EINVAL);
  f = make_format(V4L2_SUBDEV_FORMAT_ACTIVE, 1);
  EXPECT_EQ(v4l2_subdev_call(rx, pad, get_fmt, nullptr, &f), 0);
  EXPECT_EQ(f.format.width, testing::kSensorWidth);
}

}  // namespace
}  // namespace mcf::v4l2test
