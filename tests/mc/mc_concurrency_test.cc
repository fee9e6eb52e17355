// Real threads against the media node: an ioctl in flight while another
// thread removes the device and a third closes the fd. First with the
// interleaving forced by hook points (HookGate: a thread is stopped at a
// chosen lock acquisition until the others have acted), then free-running
// for many iterations to let TSan and ASan see genuine parallelism.
//
// What would fail if the lifetime rules were broken:
//  - R1/R2: if the file did not pin the media device, the paused ioctl would
//    resume on the driver struct remove() and close() already freed: ASan
//    heap-use-after-free in media_device_ioctl, and test_media_released_count
//    would rise before the ioctl returned;
//  - R12: an ioctl that starts after the flag is cleared must be -EIO; the
//    file layer reports "call-on-unregistered" if one succeeds on a deleted
//    node;
//  - R10: a handler reading links without graph_mutex while unregistration
//    frees them is a data race (TSan) and a use-after-free (ASan).
#include <gtest/gtest.h>
#include <linux/media.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <latch>
#include <thread>

#include "tests/mc/mc_test_util.h"

namespace mcf::mctest {
namespace {

using ::mcf::testing::test_media_released_count;

constexpr const char kGraphMutex[] = "media_device.graph_mutex";
constexpr const char kDevnodeLock[] = "media_devnode_lock";

class McConcurrencyTest : public MediaDriverTest {
 protected:
  // One ioctl with its argument written at kArg, and what it must return
  // when its handler runs after media_device_unregister() emptied the graph.
  struct IoctlCase {
    const char* name;
    unsigned long cmd;
    std::function<void(McConcurrencyTest*)> write_arg;
    long ret_on_empty_graph;
  };
  std::vector<IoctlCase> cases() {
    const uint32_t proc = media_entity_id(&drv_->proc);
    const uint32_t sink = media_entity_id(&drv_->sink);
    return {
        {"DEVICE_INFO", MEDIA_IOC_DEVICE_INFO,
         [](McConcurrencyTest* t) {
           media_device_info i = {};
           t->proc_.mem().write(kArg, &i, sizeof(i));
         },
         0},
        {"ENUM_ENTITIES", MEDIA_IOC_ENUM_ENTITIES,
         [](McConcurrencyTest* t) {
           media_entity_desc d = {};
           d.id = MEDIA_ENT_ID_FLAG_NEXT;
           t->proc_.mem().write(kArg, &d, sizeof(d));
         },
         -EINVAL},
        {"ENUM_LINKS", MEDIA_IOC_ENUM_LINKS,
         [proc](McConcurrencyTest* t) {
           media_links_enum le = {};
           le.entity = proc;
           le.pads = uptr<media_pad_desc>(kArrayA);
           le.links = uptr<media_link_desc>(kArrayB);
           t->proc_.mem().write(kArg, &le, sizeof(le));
         },
         -EINVAL},
        {"SETUP_LINK", MEDIA_IOC_SETUP_LINK,
         [proc, sink](McConcurrencyTest* t) {
           media_link_desc d = {};
           d.source.entity = proc;
           d.source.index = 1;
           d.sink.entity = sink;
           d.flags = MEDIA_LNK_FL_ENABLED;
           t->proc_.mem().write(kArg, &d, sizeof(d));
         },
         -EINVAL},
        {"G_TOPOLOGY", MEDIA_IOC_G_TOPOLOGY,
         [](McConcurrencyTest* t) {
           media_v2_topology topo = {};
           topo.num_entities = topo.num_interfaces = topo.num_pads = topo.num_links = 16;
           topo.ptr_entities = kArrayA;
           topo.ptr_interfaces = kArrayB;
           topo.ptr_pads = kArrayC;
           topo.ptr_links = kArrayD;
           t->proc_.mem().write(kArg, &topo, sizeof(topo));
         },
         0},
    };
  }
};

// The ioctl passed media_ioctl's registration check and is stopped just
// before it takes graph_mutex. Another thread removes the device (the driver
// drops every reference it has), a third closes the fd. Only the in-flight
// call's hold on the file keeps the media device now; the ioctl resumes,
// runs its handler against the emptied graph, and its final fput frees the
// driver struct.
TEST_F(McConcurrencyTest, R1_IoctlInFlightKeepsMediaDeviceUntilReturn) {
  for (const IoctlCase& c : cases()) {
    SCOPED_TRACE(c.name);
    if (pdev_ == nullptr) probe();
    int fd = open_media();
    ASSERT_GE(fd, 0);
    c.write_arg(this);
    const int released = test_media_released_count();

    long ret = 1;
    int close_ret = 1;
    {
      HookGate gate;
      const int stop = gate.add_stop(1, HookKind::kLockAcquire, kGraphMutex, /*pause=*/true);
      std::thread ioctl_thread([&] {
        HookGate::tag(1);
        ret = proc_.ioctl(fd, c.cmd, kArg);
      });
      ASSERT_TRUE(gate.wait_reached(stop));
      std::thread remove_thread([&] { remove_device(); });
      std::thread close_thread([&] { close_ret = proc_.close(fd); });
      remove_thread.join();
      close_thread.join();
      // The paused call is the last holder: nothing freed yet.
      EXPECT_EQ(test_media_released_count(), released);
      EXPECT_EQ(live_objects_count("test_media_drv"), 1);
      EXPECT_EQ(live_objects_count("media_link"), 0);  // links went at unregistration
      EXPECT_EQ(mdev_refs(&drv_->mdev), 2u);            // the file's two pins
      gate.release(stop);
      ioctl_thread.join();
    }
    EXPECT_EQ(close_ret, 0);
    EXPECT_EQ(ret, c.ret_on_empty_graph);
    if (c.cmd == MEDIA_IOC_G_TOPOLOGY) {
      media_v2_topology topo;
      ASSERT_TRUE(proc_.mem().read(kArg, &topo, sizeof(topo)));
      EXPECT_EQ(topo.num_entities, 0u);
      EXPECT_EQ(topo.num_interfaces, 0u);
      EXPECT_EQ(topo.num_pads, 0u);
      EXPECT_EQ(topo.num_links, 0u);
    }
    EXPECT_EQ(test_media_released_count(), released + 1);
    EXPECT_EQ(alive_objects(), "");
  }
}

// Stopped after the handler ran (graph_mutex just released) and before the
// copy to user space: remove and close happen in between; the copy-out and
// the last fput run in the ioctl thread.
TEST_F(McConcurrencyTest, R1_IoctlCopyOutAfterRemoveAndClose) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  cases()[4].write_arg(this);  // G_TOPOLOGY with room for everything
  const int released = test_media_released_count();
  long ret = 1;
  {
    HookGate gate;
    const int stop = gate.add_stop(1, HookKind::kLockRelease, kGraphMutex, /*pause=*/true);
    std::thread ioctl_thread([&] {
      HookGate::tag(1);
      ret = proc_.ioctl(fd, MEDIA_IOC_G_TOPOLOGY, kArg);
    });
    ASSERT_TRUE(gate.wait_reached(stop));
    std::thread remove_thread([&] { remove_device(); });
    std::thread close_thread([&] { EXPECT_EQ(proc_.close(fd), 0); });
    remove_thread.join();
    close_thread.join();
    EXPECT_EQ(test_media_released_count(), released);
    gate.release(stop);
    ioctl_thread.join();
  }
  EXPECT_EQ(ret, 0);
  media_v2_topology topo;
  ASSERT_TRUE(proc_.mem().read(kArg, &topo, sizeof(topo)));
  // The handler saw the whole graph before the removal.
  EXPECT_EQ(topo.num_entities, 4u);
  EXPECT_EQ(topo.num_links, 4u);
  auto ents = read_user_array<media_v2_entity>(kArrayA, 4);
  EXPECT_STREQ(ents[3].name, "Lens");
  EXPECT_EQ(test_media_released_count(), released + 1);
  EXPECT_EQ(alive_objects(), "");
}

// The other order: unregistration holds graph_mutex (stopped inside
// media_device_unregister, before it clears the flag) when the ioctl
// arrives; the ioctl passed the check and waits for the mutex; the fd is
// closed meanwhile. When unregistration goes on, the ioctl runs on the
// emptied graph. Lock order: the ioctl only takes graph_mutex, so no
// inversion with unregister's graph_mutex -> media_devnode_lock.
TEST_F(McConcurrencyTest, R1_IoctlWaitingForGraphMutexHeldByUnregister) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  cases()[4].write_arg(this);
  const int released = test_media_released_count();
  long ret = 1;
  {
    HookGate gate;
    const int unreg = gate.add_stop(2, HookKind::kLockAcquire, kDevnodeLock, /*pause=*/true);
    const int waiting = gate.add_stop(1, HookKind::kLockAcquire, kGraphMutex, /*pause=*/false);
    std::thread remove_thread([&] {
      HookGate::tag(2);
      remove_device();
    });
    ASSERT_TRUE(gate.wait_reached(unreg));
    std::thread ioctl_thread([&] {
      HookGate::tag(1);
      ret = proc_.ioctl(fd, MEDIA_IOC_G_TOPOLOGY, kArg);
    });
    ASSERT_TRUE(gate.wait_reached(waiting));
    std::thread close_thread([&] { EXPECT_EQ(proc_.close(fd), 0); });
    close_thread.join();
    gate.release(unreg);
    remove_thread.join();
    ioctl_thread.join();
  }
  EXPECT_EQ(ret, 0);
  media_v2_topology topo;
  ASSERT_TRUE(proc_.mem().read(kArg, &topo, sizeof(topo)));
  EXPECT_EQ(topo.num_entities, 0u);
  EXPECT_EQ(topo.num_links, 0u);
  EXPECT_EQ(test_media_released_count(), released + 1);
  EXPECT_EQ(alive_objects(), "");
}

// An ioctl that starts once unregistration cleared the flag is -EIO even
// though the device is still half torn down (unregistration stopped while
// it holds graph_mutex, just after clearing the flag).
TEST_F(McConcurrencyTest, R12_IoctlStartingDuringUnregisterIsEIO) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  {
    HookGate gate;
    // The flag is cleared under media_devnode_lock; its release is the point
    // right after.
    const int cleared = gate.add_stop(2, HookKind::kLockRelease, kDevnodeLock, /*pause=*/true);
    std::thread remove_thread([&] {
      HookGate::tag(2);
      remove_device();
    });
    ASSERT_TRUE(gate.wait_reached(cleared));
    EXPECT_FALSE(media_devnode_is_registered(&drv_->mdev));
    media_device_info info = {};
    EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_DEVICE_INFO, &info), -EIO);
    EXPECT_EQ(proc_.poll(fd, EPOLLIN, false), static_cast<long>(EPOLLERR | EPOLLHUP));
    // The char device is still there, so open reaches media_open: -ENXIO.
    EXPECT_EQ(open_media(), -ENXIO);
    gate.release(cleared);
    remove_thread.join();
  }
  EXPECT_EQ(open_media(), -ENOENT);
  EXPECT_EQ(proc_.close(fd), 0);
  EXPECT_EQ(alive_objects(), "");
}

// open() found the char device and pinned it, then stops before media_open
// takes media_devnode_lock; the device is removed meanwhile. The open must
// fail with -ENXIO and its unpin may be the last put, freeing the driver
// struct in the opening thread (ASan checks nothing touches it after).
TEST_F(McConcurrencyTest, R12_OpenRacingWithRemoveFailsWithENXIO) {
  const int released = test_media_released_count();
  int open_ret = 1;
  {
    HookGate gate;
    const int stop = gate.add_stop(1, HookKind::kLockAcquire, kDevnodeLock, /*pause=*/true);
    std::thread open_thread([&] {
      HookGate::tag(1);
      open_ret = open_media();
    });
    ASSERT_TRUE(gate.wait_reached(stop));
    std::thread remove_thread([&] { remove_device(); });
    remove_thread.join();
    EXPECT_EQ(test_media_released_count(), released);  // the open's pin holds it
    gate.release(stop);
    open_thread.join();
  }
  EXPECT_EQ(open_ret, -ENXIO);
  EXPECT_EQ(test_media_released_count(), released + 1);
  EXPECT_EQ(proc_.open_fd_count(), 0);
  EXPECT_EQ(alive_objects(), "");
}

// A pipeline start in flight (stopped just before it takes graph_mutex)
// while the device goes: it must see the entity unregistered and fail with
// -ENODEV. The caller's entity reference (R3) is what keeps the entity, and
// through its release the driver struct, valid meanwhile.
TEST_F(McConcurrencyTest, R3_PipelineStartRacingWithRemoveIsENODEV) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(setup_link(fd, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_ENABLED), 0);
  ASSERT_EQ(proc_.close(fd), 0);
  media_entity* sink = &drv_->sink;
  media_entity_get(sink);  // the caller's reference (a video node's, say)
  const int released = test_media_released_count();
  int ret = 1;
  media_pipeline pipe;
  {
    HookGate gate;
    const int stop = gate.add_stop(1, HookKind::kLockAcquire, kGraphMutex, /*pause=*/true);
    std::thread start_thread([&] {
      HookGate::tag(1);
      ret = media_pipeline_start(sink, &pipe);
    });
    ASSERT_TRUE(gate.wait_reached(stop));
    std::thread remove_thread([&] { remove_device(); });
    remove_thread.join();
    gate.release(stop);
    start_thread.join();
  }
  EXPECT_EQ(ret, -ENODEV);
  EXPECT_EQ(pipe.start_count, 0);
  EXPECT_EQ(test_media_released_count(), released);
  media_entity_put(sink);
  EXPECT_EQ(test_media_released_count(), released + 1);
  EXPECT_EQ(alive_objects(), "");
}

// Free-running: per iteration, one thread issues ioctls in a loop, one
// removes the device, one closes the fd, one opens and closes the node, one
// starts and stops a pipeline; all released together. Every result must be
// one of the sane codes and every object gone at the end.
TEST_F(McConcurrencyTest, RemoveCloseAndIoctlsRace50Iterations) {
  constexpr int kIterations = 50;
  for (int iter = 0; iter < kIterations; ++iter) {
    SCOPED_TRACE(iter);
    if (pdev_ == nullptr) probe();
    int fd = open_media();
    ASSERT_GE(fd, 0);
    ASSERT_EQ(setup_link(fd, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_ENABLED), 0);
    std::vector<IoctlCase> cs = cases();
    media_entity* sink = &drv_->sink;
    media_entity_get(sink);  // lets the pipeline thread use it after remove
    const int released = test_media_released_count();

    std::atomic<int> bad{0};
    std::atomic<long> bad_value{0};
    auto check = [&](long v, std::initializer_list<long> ok) {
      for (long o : ok)
        if (v == o) return;
      bad_value = v;
      bad++;
    };
    std::latch go(5);
    std::thread ioctl_thread([&] {
      go.arrive_and_wait();
      // Each thread of the process writes its argument at its own address.
      for (int i = 0; i < 40; ++i) {
        const IoctlCase& c = cs[i % cs.size()];
        long r;
        {
          // The argument goes at kArg; only this thread issues ioctls.
          c.write_arg(this);
          r = proc_.ioctl(fd, c.cmd, kArg);
        }
        check(r, {0, -EIO, -EBADF, -EINVAL, -EBUSY});
        if (r == -EBADF) break;
      }
    });
    std::thread remove_thread([&] {
      go.arrive_and_wait();
      std::this_thread::yield();
      remove_device();
    });
    std::thread close_thread([&] {
      go.arrive_and_wait();
      for (int i = 0; i < iter % 7; ++i) std::this_thread::yield();
      check(proc_.close(fd), {0});
    });
    std::thread open_thread([&] {
      go.arrive_and_wait();
      for (int i = 0; i < 8; ++i) {
        int nfd = open_media();
        check(nfd < 0 ? nfd : 0, {0, -ENOENT, -ENXIO});
        if (nfd >= 0) {
          media_device_info info = {};
          // Own argument area: the ioctl thread uses kArg.
          proc_.mem().write(kArg + 0x800, &info, sizeof(info));
          check(proc_.ioctl(nfd, MEDIA_IOC_DEVICE_INFO, kArg + 0x800), {0, -EIO});
          check(proc_.poll(nfd, EPOLLIN, false), {0, EPOLLERR | EPOLLHUP});
          check(proc_.close(nfd), {0});
        }
      }
    });
    std::thread pipeline_thread([&] {
      go.arrive_and_wait();
      for (int i = 0; i < 8; ++i) {
        media_pipeline pipe;
        int r = media_pipeline_start(sink, &pipe);
        check(r, {0, -ENODEV, -EBUSY});
        if (r == 0) media_pipeline_stop(sink);
      }
    });
    ioctl_thread.join();
    remove_thread.join();
    close_thread.join();
    open_thread.join();
    pipeline_thread.join();
    EXPECT_EQ(bad.load(), 0) << "unexpected result " << bad_value.load();
    // The pipeline thread's reference is the last one on the driver struct.
    EXPECT_EQ(test_media_released_count(), released);
    media_entity_put(sink);
    EXPECT_EQ(test_media_released_count(), released + 1);
    EXPECT_EQ(proc_.open_fd_count(), 0);
    ASSERT_EQ(alive_objects(), "");
  }
}

// Two media devices torn down in parallel, each with an ioctl in flight:
// media_devnode_lock is global, graph_mutex per device; nothing may mix them.
TEST_F(McConcurrencyTest, TwoDevicesRemovedInParallel) {
  platform_device* pdev2 = ::mcf::testing::test_media_device_add(1);
  ASSERT_NE(pdev2, nullptr);
  test_media_drv* drv2 = ::mcf::testing::test_media_drvdata(pdev2);
  ASSERT_NE(drv2, nullptr);
  const std::string path2 = "/dev/" + drv2->mdev.devnode.dev.name;
  ASSERT_NE(path2, path_);
  for (int iter = 0; iter < 20; ++iter) {
    SCOPED_TRACE(iter);
    if (pdev_ == nullptr) probe();
    if (pdev2 == nullptr) {
      pdev2 = ::mcf::testing::test_media_device_add(1);
      ASSERT_NE(pdev2, nullptr);
    }
    int fd1 = open_media();
    int fd2 = proc_.open("/dev/" + ::mcf::testing::test_media_drvdata(pdev2)->mdev.devnode.dev.name,
                         O_RDWR_);
    ASSERT_GE(fd1, 0);
    ASSERT_GE(fd2, 0);
    std::atomic<int> bad{0};
    std::latch go(4);
    auto ioctls = [&](int fd, user_addr_t at) {
      go.arrive_and_wait();
      for (int i = 0; i < 20; ++i) {
        media_v2_topology t = {};
        proc_.mem().write(at, &t, sizeof(t));
        long r = proc_.ioctl(fd, MEDIA_IOC_G_TOPOLOGY, at);
        if (r != 0 && r != -EIO) bad++;
      }
      if (proc_.close(fd) != 0) bad++;
    };
    platform_device* p2 = pdev2;
    std::thread a(ioctls, fd1, kArg);
    std::thread b(ioctls, fd2, kArg + 0x800);
    std::thread c([&] {
      go.arrive_and_wait();
      remove_device();
    });
    std::thread d([&] {
      go.arrive_and_wait();
      platform_device_unregister(p2);
    });
    a.join();
    b.join();
    c.join();
    d.join();
    pdev2 = nullptr;
    EXPECT_EQ(bad.load(), 0);
    ASSERT_EQ(alive_objects(), "");
  }
}

}  // namespace
}  // namespace mcf::mctest
