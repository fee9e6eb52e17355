// The lifetime rules of DESIGN.md §1 that concern the media controller, one
// test (or a few) per rule, each named after its rule. Every test says how it
// would fail if the rule were broken.
#include <gtest/gtest.h>
#include <linux/media.h>

#include <cerrno>
#include <latch>
#include <thread>

#include "tests/mc/mc_test_util.h"

namespace mcf::mctest {
namespace {

using ::mcf::testing::test_media_released_count;

using LifetimeRulesTest = MediaDriverTest;
using LifetimeRulesDeathTest = MediaDriverTest;

// ---------------------------------------------------------------------------
// R1: media_devnode is embedded in media_device; what a call uses stays valid
// until it returns.

// If the devnode (or the media device) were freed at remove(), every call
// below would read freed memory: ASan reports heap-use-after-free in
// media_ioctl/media_poll; without ASan the return codes would be garbage.
// (The in-flight case, a call already past the registration check while the
// device goes, is R1_IoctlInFlight... in mc_concurrency_test.cc.)
TEST_F(LifetimeRulesTest, R1_CallsOnRemovedDeviceRunAgainstValidMemory) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  media_device* mdev = &drv_->mdev;
  // R1: one allocation. The devnode (and its struct device) lives inside
  // the driver struct, so one count governs both.
  auto* lo = reinterpret_cast<char*>(drv_);
  auto* dn = reinterpret_cast<char*>(&mdev->devnode);
  EXPECT_TRUE(dn >= lo && dn + sizeof(mdev->devnode) <= lo + sizeof(*drv_));

  remove_device();
  EXPECT_EQ(live_objects_count("test_media_drv"), 1);

  media_device_info info = {};
  EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_DEVICE_INFO, &info), -EIO);
  media_entity_desc ed = {};
  ed.id = MEDIA_ENT_ID_FLAG_NEXT;
  EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_ENUM_ENTITIES, &ed), -EIO);
  media_links_enum le = {};
  EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_ENUM_LINKS, &le), -EIO);
  media_link_desc ld = {};
  EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_SETUP_LINK, &ld), -EIO);
  media_v2_topology topo = {};
  EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_G_TOPOLOGY, &topo), -EIO);
  EXPECT_EQ(proc_.poll(fd, EPOLLIN, /*block=*/false), static_cast<long>(EPOLLERR | EPOLLHUP));
  // A dup'ed fd is the same file: same answers, same memory.
  int fd2 = proc_.dup(fd);
  ASSERT_GE(fd2, 0);
  EXPECT_EQ(ioctl_arg(fd2, MEDIA_IOC_DEVICE_INFO, &info), -EIO);
  EXPECT_EQ(proc_.close(fd), 0);
  EXPECT_EQ(live_objects_count("test_media_drv"), 1);
  EXPECT_EQ(proc_.close(fd2), 0);
  EXPECT_EQ(live_objects_count("test_media_drv"), 0);
}

// ---------------------------------------------------------------------------
// R2: media_device is counted through its devnode's struct device and freed
// only by release() at the last put.

// If media_open did not take a reference (or media_release did not put it),
// the count would not move with opens and closes; and close after remove
// would then put the driver's reference a second time: refcount-underflow,
// or ASan use-after-free on the already freed driver struct.
TEST_F(LifetimeRulesTest, R2_OpenAndCloseMoveTheMediaDeviceCount) {
  media_device* mdev = &drv_->mdev;
  const unsigned base = mdev_refs(mdev);
  int fd1 = open_media();
  ASSERT_GE(fd1, 0);
  // Two per open file: the char device's pin (chrdev_open) and media_open's
  // own get_device.
  EXPECT_EQ(mdev_refs(mdev), base + 2);
  int fd2 = open_media();
  ASSERT_GE(fd2, 0);
  EXPECT_EQ(mdev_refs(mdev), base + 4);
  int fd3 = proc_.dup(fd2);  // dup shares the file: no new reference
  ASSERT_GE(fd3, 0);
  EXPECT_EQ(mdev_refs(mdev), base + 4);
  EXPECT_EQ(proc_.close(fd2), 0);
  EXPECT_EQ(mdev_refs(mdev), base + 4);
  EXPECT_EQ(proc_.close(fd3), 0);
  EXPECT_EQ(mdev_refs(mdev), base + 2);
  EXPECT_EQ(proc_.close(fd1), 0);
  EXPECT_EQ(mdev_refs(mdev), base);
}

// If the driver struct were freed at remove() (or by devres), the
// released count would rise at remove and the closes would touch freed
// memory (ASan); if a close freed it early, the second file's close would.
TEST_F(LifetimeRulesTest, R2_DriverStructFreedOnlyAtLastClose) {
  int fd1 = open_media();
  int fd2 = open_media();
  ASSERT_GE(fd1, 0);
  ASSERT_GE(fd2, 0);
  const int released = test_media_released_count();
  remove_device();
  EXPECT_EQ(test_media_released_count(), released);
  EXPECT_EQ(live_objects_count("test_media_drv"), 1);
  EXPECT_EQ(live_objects_count("media_device"), 1);
  // Only the two files hold the media device now.
  EXPECT_EQ(mdev_refs(&drv_->mdev), 4u);
  EXPECT_EQ(proc_.close(fd1), 0);
  EXPECT_EQ(test_media_released_count(), released);
  EXPECT_EQ(mdev_refs(&drv_->mdev), 2u);
  EXPECT_EQ(proc_.close(fd2), 0);
  EXPECT_EQ(test_media_released_count(), released + 1);
  EXPECT_EQ(live_objects_count("test_media_drv"), 0);
  EXPECT_EQ(live_objects_count("media_device"), 0);
}

// Without files, the release runs inside remove(), exactly once.
TEST_F(LifetimeRulesTest, R2_DriverStructFreedAtRemoveWhenNothingElseHoldsIt) {
  const int released = test_media_released_count();
  remove_device();
  EXPECT_EQ(test_media_released_count(), released + 1);
  EXPECT_EQ(alive_objects(), "");
}

// ---------------------------------------------------------------------------
// R3: entities are counted; registration takes a reference on the entity
// and one on the media device; the entity's release puts the device.

// If registration did not take the entity reference, unregistering would
// put the creator's reference and run release early (released == 1 while we
// still hold it); if it did not take the media-device one, the entity's
// release would put a reference it never got: refcount-underflow at the
// driver's final media_device_put.
TEST_F(LifetimeRulesTest, R3_RegisteringEntityTakesEntityAndMediaDeviceReferences) {
  media_device* mdev = &drv_->mdev;
  test_entity te("Extra");
  EXPECT_EQ(entity_refs(&te.entity), 1u);
  const unsigned base = mdev_refs(mdev);

  ASSERT_EQ(media_device_register_entity(mdev, &te.entity), 0);
  EXPECT_EQ(entity_refs(&te.entity), 2u);
  EXPECT_EQ(mdev_refs(mdev), base + 1);

  media_device_unregister_entity(&te.entity);
  EXPECT_EQ(entity_refs(&te.entity), 1u);
  EXPECT_EQ(te.released.load(), 0);
  EXPECT_EQ(mdev_refs(mdev), base + 1);  // put by the entity's release, not yet

  media_entity_put(&te.entity);  // the creator's reference: the last one
  EXPECT_EQ(te.released.load(), 1);
  // The release ran while the registration's device reference was held,
  // then that reference was put.
  EXPECT_EQ(te.mdev_refs_in_release.load(), static_cast<int>(base + 1));
  EXPECT_EQ(mdev_refs(mdev), base);
  // A second unregister of a gone entity is a no-op.
  media_device_unregister_entity(&te.entity);
  EXPECT_EQ(te.released.load(), 1);
}

// If an entity reference did not pin the media device (R3), remove() would
// free the driver struct that embeds the entity: the put below would then
// be a heap-use-after-free under ASan, and released would rise at remove.
TEST_F(LifetimeRulesTest, R3_EntityReferenceKeepsDriverStructAfterRemove) {
  media_entity* proc = &drv_->proc;
  media_entity_get(proc);
  EXPECT_EQ(entity_refs(proc), 3u);  // driver, registration, us
  const int released = test_media_released_count();
  remove_device();
  EXPECT_EQ(test_media_released_count(), released);
  EXPECT_EQ(live_objects_count("test_media_drv"), 1);
  EXPECT_EQ(entity_refs(proc), 1u);
  EXPECT_FALSE(proc->registered);
  // Only Proc's registration reference holds the media device.
  EXPECT_EQ(mdev_refs(&drv_->mdev), 1u);
  media_entity_put(proc);
  EXPECT_EQ(test_media_released_count(), released + 1);
  EXPECT_EQ(alive_objects(), "");
}

// A media device unregistration unregisters every entity (and drops the
// registration reference once); the driver's later unregister_entity must
// not drop it a second time. If it did: refcount-underflow at the put.
TEST_F(LifetimeRulesTest, R3_UnregisterEntityAfterMediaDeviceUnregisterIsNoop) {
  media_device* mdev = &drv_->mdev;
  test_entity te("Late");
  ASSERT_EQ(media_device_register_entity(mdev, &te.entity), 0);
  media_entity_get(&te.entity);  // ours, so the count can be read after remove
  remove_device();               // media_device_unregister puts registration's
  EXPECT_EQ(entity_refs(&te.entity), 2u);
  media_device_unregister_entity(&te.entity);
  EXPECT_EQ(entity_refs(&te.entity), 2u);
  EXPECT_EQ(live_objects_count("test_media_drv"), 1);  // te's registration ref pins mdev
  media_entity_put(&te.entity);
  media_entity_put(&te.entity);
  EXPECT_EQ(te.released.load(), 1);
  EXPECT_EQ(live_objects_count("test_media_drv"), 0);
}

// An entity is in one graph at a time: registering it again while it is
// registered must be refused, or its release (which puts one media-device
// reference) would leave the second registration's reference leaked and
// the entity listed twice.
TEST_F(LifetimeRulesTest, R3_EntityRegisteredTwiceAtOnceIsRefused) {
  test_entity te("Once");
  ASSERT_EQ(media_device_register_entity(&drv_->mdev, &te.entity), 0);
  const unsigned refs = mdev_refs(&drv_->mdev);
  EXPECT_EQ(media_device_register_entity(&drv_->mdev, &te.entity), -EBUSY);
  EXPECT_EQ(mdev_refs(&drv_->mdev), refs);
  EXPECT_EQ(entity_refs(&te.entity), 2u);
  media_device_unregister_entity(&te.entity);
  media_entity_put(&te.entity);
  EXPECT_EQ(te.released.load(), 1);
}

// ---------------------------------------------------------------------------
// R5: interfaces are counted the same way; interface links are graph objects.

// If media_devnode_create took no media-device reference, the interface
// release's media_device_put would underflow the count (reported) at the
// driver's last put, or free the driver struct early.
TEST_F(LifetimeRulesTest, R5_DevnodeCreateTakesMediaDeviceReference) {
  media_device* mdev = &drv_->mdev;
  const unsigned base = mdev_refs(mdev);
  const long intfs = live_objects_count("media_intf_devnode");
  media_intf_devnode* nd = media_devnode_create(mdev, MEDIA_INTF_T_V4L_SUBDEV, 0, 81, 7);
  ASSERT_NE(nd, nullptr);
  EXPECT_EQ(mdev_refs(mdev), base + 1);
  EXPECT_EQ(intf_refs(&nd->intf), 1u);
  EXPECT_EQ(id_type(nd->intf.graph_obj.id), static_cast<uint32_t>(MEDIA_GRAPH_INTF_DEVNODE));
  EXPECT_EQ(live_objects_count("media_intf_devnode"), intfs + 1);
  media_devnode_remove(nd);
  EXPECT_EQ(mdev_refs(mdev), base);
  EXPECT_EQ(live_objects_count("media_intf_devnode"), intfs);
}

// If media_interface_get did not count, or media_devnode_remove freed the
// interface regardless of other references, the reads below would be a
// heap-use-after-free (ASan) and the live count would drop at remove.
TEST_F(LifetimeRulesTest, R5_InterfaceReferenceOutlivesDevnodeRemove) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  media_device* mdev = &drv_->mdev;
  const long links_before = live_objects_count("media_link");
  media_intf_devnode* nd = media_devnode_create(mdev, MEDIA_INTF_T_V4L_SUBDEV, 0, 81, 9);
  ASSERT_NE(nd, nullptr);
  ASSERT_NE(media_create_intf_link(&drv_->proc, &nd->intf, MEDIA_LNK_FL_ENABLED), nullptr);
  EXPECT_EQ(live_objects_count("media_link"), links_before + 1);
  const uint32_t intf_id = nd->intf.graph_obj.id;
  {
    Topology t = topology(fd);
    EXPECT_TRUE(t.has_id(intf_id));
    EXPECT_NE(t.link(intf_id, media_entity_id(&drv_->proc)), nullptr);
  }
  const unsigned base = mdev_refs(mdev);
  media_interface_get(&nd->intf);
  media_devnode_remove(nd);
  // Out of the graph, with its link; the memory and its device reference stay.
  EXPECT_FALSE(nd->intf.registered);
  EXPECT_EQ(intf_refs(&nd->intf), 1u);
  EXPECT_EQ(nd->minor, 9u);
  EXPECT_EQ(live_objects_count("media_link"), links_before);
  EXPECT_EQ(mdev_refs(mdev), base);
  {
    Topology t = topology(fd);
    EXPECT_FALSE(t.has_id(intf_id));
    EXPECT_EQ(t.link(intf_id, media_entity_id(&drv_->proc)), nullptr);
    EXPECT_EQ(t.interfaces.size(), 1u);
  }
  media_interface_put(&nd->intf);
  EXPECT_EQ(mdev_refs(mdev), base - 1);
}

// The driver's own interface: a reference kept after remove() keeps the
// driver struct (through the interface's media-device reference). If it did
// not, the put below would touch freed memory (ASan) and released would
// have risen at remove.
TEST_F(LifetimeRulesTest, R5_InterfaceReferenceKeepsDriverStructAfterRemove) {
  media_interface* intf = &drv_->intf->intf;
  media_interface_get(intf);
  const int released = test_media_released_count();
  remove_device();
  EXPECT_EQ(test_media_released_count(), released);
  EXPECT_EQ(live_objects_count("test_media_drv"), 1);
  EXPECT_EQ(live_objects_count("media_intf_devnode"), 1);
  // Interface links are framework-owned: gone at unregistration.
  EXPECT_EQ(live_objects_count("media_link"), 0);
  EXPECT_TRUE(intf->links.empty());
  EXPECT_EQ(mdev_refs(&drv_->mdev), 1u);
  media_interface_put(intf);
  EXPECT_EQ(test_media_released_count(), released + 1);
  EXPECT_EQ(alive_objects(), "");
}

// Interface links leave with the entity they point at (not only with the
// interface): if they stayed, G_TOPOLOGY would report a link whose sink id
// no entity has, and the link would reach freed memory once the entity goes.
TEST_F(LifetimeRulesTest, R5_InterfaceLinkLeavesWithItsEntity) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  test_entity te("Linked");
  ASSERT_EQ(media_device_register_entity(&drv_->mdev, &te.entity), 0);
  media_interface* intf = &drv_->intf->intf;
  ASSERT_NE(media_create_intf_link(&te.entity, intf, MEDIA_LNK_FL_ENABLED), nullptr);
  EXPECT_EQ(intf->links.size(), 2u);
  EXPECT_NE(topology(fd).link(intf->graph_obj.id, media_entity_id(&te.entity)), nullptr);
  media_device_unregister_entity(&te.entity);
  EXPECT_EQ(intf->links.size(), 1u);
  Topology t = topology(fd);
  EXPECT_EQ(t.link(intf->graph_obj.id, media_entity_id(&te.entity)), nullptr);
  EXPECT_NE(t.link(intf->graph_obj.id, media_entity_id(&drv_->sink)), nullptr);
  media_entity_put(&te.entity);
  EXPECT_EQ(te.released.load(), 1);
}

// media_device_unregister() takes every interface out of the graph with
// its links, even before the creator's media_devnode_remove(); the memory
// stays with the creator's reference (and with it a media-device reference).
// If unregistration left the interface registered, a later
// media_create_intf_link would succeed on a dead graph and the interface
// would still be listed on the media device.
TEST_F(LifetimeRulesTest, R5_MediaDeviceUnregisterTakesInterfacesOutOfTheGraph) {
  bare_media_device b;
  test_entity te("E");
  ASSERT_EQ(media_device_register_entity(&b.mdev, &te.entity), 0);
  media_intf_devnode* nd = media_devnode_create(&b.mdev, MEDIA_INTF_T_V4L_SUBDEV, 0, 81, 4);
  ASSERT_NE(nd, nullptr);
  ASSERT_NE(media_create_intf_link(&te.entity, &nd->intf, MEDIA_LNK_FL_ENABLED), nullptr);
  ASSERT_EQ(media_device_register(&b.mdev), 0);
  const long links = live_objects_count("media_link");

  media_device_unregister(&b.mdev);
  EXPECT_FALSE(nd->intf.registered);
  EXPECT_TRUE(nd->intf.links.empty());
  EXPECT_FALSE(te.entity.registered);
  EXPECT_EQ(live_objects_count("media_link"), links - 1);
  {
    MutexGuard g(&b.mdev.graph_mutex);
    EXPECT_TRUE(b.mdev.interfaces.empty());
    EXPECT_TRUE(b.mdev.entities.empty());
    EXPECT_TRUE(b.mdev.pads.empty());
    EXPECT_TRUE(b.mdev.links.empty());
  }
  // Nothing can be linked to what left the graph.
  EXPECT_EQ(media_create_intf_link(&te.entity, &nd->intf, MEDIA_LNK_FL_ENABLED), nullptr);
  EXPECT_EQ(te.released.load(), 0);
  media_entity_put(&te.entity);  // the creator's; registration's went at unregister
  EXPECT_EQ(te.released.load(), 1);
  // Device count: ours + the interface's.
  EXPECT_EQ(mdev_refs(&b.mdev), 2u);
  media_devnode_remove(nd);  // no-op on the graph, drops the creator's reference
  EXPECT_EQ(mdev_refs(&b.mdev), 1u);
  media_device_put(&b.mdev);
  EXPECT_EQ(b.released.load(), 1);
}

// Two paths drop an entity's registration reference: the driver's
// media_device_unregister_entity and media_device_unregister. Racing, exactly
// one must put it. The entity's unregistration is stopped just before it
// takes graph_mutex while the whole device is unregistered; when it goes on
// it must find the entity gone and put nothing. Without the check: a second
// put, the creator's reference gone (released == 1 below) and an underflow
// at the creator's put.
TEST_F(LifetimeRulesTest, R3_EntityUnregisterRacingWithMediaDeviceUnregisterPutsOnce) {
  test_entity te("Racer");
  ASSERT_EQ(media_device_register_entity(&drv_->mdev, &te.entity), 0);
  {
    HookGate gate;
    const int stop =
        gate.add_stop(1, HookKind::kLockAcquire, "media_device.graph_mutex", /*pause=*/true);
    std::thread unreg_entity([&] {
      HookGate::tag(1);
      media_device_unregister_entity(&te.entity);
    });
    ASSERT_TRUE(gate.wait_reached(stop));
    std::thread unreg_device([&] { remove_device(); });
    unreg_device.join();
    gate.release(stop);
    unreg_entity.join();
  }
  EXPECT_EQ(entity_refs(&te.entity), 1u);
  EXPECT_EQ(te.released.load(), 0);
  EXPECT_EQ(live_objects_count("test_media_drv"), 1);  // te pins the media device
  media_entity_put(&te.entity);
  EXPECT_EQ(te.released.load(), 1);
  EXPECT_EQ(live_objects_count("test_media_drv"), 0);  // te's release put the last reference
}

// The same race free-running.
TEST_F(LifetimeRulesTest, R3_EntityUnregisterRacingWithMediaDeviceUnregister50Iterations) {
  for (int iter = 0; iter < 50; ++iter) {
    SCOPED_TRACE(iter);
    if (pdev_ == nullptr) probe();
    test_entity te("Racer");
    ASSERT_EQ(media_device_register_entity(&drv_->mdev, &te.entity), 0);
    std::latch go(2);
    std::thread a([&] {
      go.arrive_and_wait();
      media_device_unregister_entity(&te.entity);
    });
    std::thread b([&] {
      go.arrive_and_wait();
      remove_device();
    });
    a.join();
    b.join();
    EXPECT_EQ(entity_refs(&te.entity), 1u);
    media_entity_put(&te.entity);
    EXPECT_EQ(te.released.load(), 1);
    ASSERT_EQ(live_objects_count("test_media_drv"), 0);
    ASSERT_EQ(live_objects_count("media_link"), 0);
  }
}

// ---------------------------------------------------------------------------
// R10: graph walks hold the graph mutex and try_get every visited entity;
// links are framework-owned and read only under the graph mutex.

// If the walk did not take references, the counts would not rise during the
// walk (and an entity released meanwhile could be returned after its
// memory went); if cleanup did not put them, they would stay raised and the
// driver struct would leak (alive_objects() at TearDown).
TEST_F(LifetimeRulesTest, R10_GraphWalkReferencesEveryVisitedEntity) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(setup_link(fd, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_ENABLED), 0);
  media_device* mdev = &drv_->mdev;
  media_entity* all[] = {&drv_->source, &drv_->proc, &drv_->sink, &drv_->lens};
  unsigned base[4];
  for (int i = 0; i < 4; ++i) base[i] = entity_refs(all[i]);

  media_graph graph;
  std::vector<media_entity*> seen;
  {
    MutexGuard g(&mdev->graph_mutex);
    media_graph_walk_start(&graph, &drv_->source);
    EXPECT_EQ(entity_refs(&drv_->source), base[0] + 1);
    EXPECT_EQ(entity_refs(&drv_->proc), base[1]);  // not reached yet
    while (media_entity* e = media_graph_walk_next(&graph)) {
      // Every entity handed out is referenced while we look at it.
      seen.push_back(e);
      for (int i = 0; i < 4; ++i)
        if (all[i] == e) EXPECT_EQ(entity_refs(e), base[i] + 1) << e->name;
    }
  }
  // Enabled data links only: Lens hangs on an ancillary link.
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], &drv_->source);
  EXPECT_EQ(seen[1], &drv_->proc);
  EXPECT_EQ(seen[2], &drv_->sink);
  EXPECT_EQ(entity_refs(&drv_->lens), base[3]);
  // The references are held after the walk, until cleanup (outside the lock:
  // a put there may be the last one).
  for (int i = 0; i < 3; ++i) EXPECT_EQ(entity_refs(all[i]), base[i] + 1);
  media_graph_walk_cleanup(&graph);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(entity_refs(all[i]), base[i]);
}

// A reference kept from a walk holds the entity (and so the driver struct)
// after remove(), until cleanup. Without it, cleanup would put freed memory.
TEST_F(LifetimeRulesTest, R10_WalkReferencesHeldAcrossRemoveUntilCleanup) {
  media_graph graph;
  {
    MutexGuard g(&drv_->mdev.graph_mutex);
    media_graph_walk_start(&graph, &drv_->source);
    while (media_graph_walk_next(&graph) != nullptr) {
    }
  }
  ASSERT_EQ(graph.visited.size(), 2u);  // Source, Proc (Proc->Sink is disabled)
  const int released = test_media_released_count();
  remove_device();
  EXPECT_EQ(test_media_released_count(), released);
  EXPECT_EQ(entity_refs(&drv_->source), 1u);
  EXPECT_EQ(entity_refs(&drv_->proc), 1u);
  media_graph_walk_cleanup(&graph);
  EXPECT_EQ(test_media_released_count(), released + 1);
}

// An entity whose count already reached zero is skipped, not revived. The
// state cannot arise through the API (a registered entity holds its
// registration reference), so the count is forced to zero with the
// refcount's test hook. If the walk used media_entity_get instead of
// try_get, this test would die with "refcount-add-on-zero"; if it returned
// the entity anyway, `seen` would contain Sink.
TEST_F(LifetimeRulesTest, R10_GraphWalkSkipsEntityWhoseCountIsZero) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  ASSERT_EQ(setup_link(fd, &drv_->proc, 1, &drv_->sink, 0, MEDIA_LNK_FL_ENABLED), 0);
  media_entity* sink = &drv_->sink;
  const int saved = static_cast<int>(entity_refs(sink));
  std::vector<media_entity*> seen;
  media_graph graph;
  {
    MutexGuard g(&drv_->mdev.graph_mutex);
    sink->ref.refcount.set(0);
    media_graph_walk_start(&graph, &drv_->source);
    while (media_entity* e = media_graph_walk_next(&graph)) seen.push_back(e);
    EXPECT_EQ(entity_refs(sink), 0u);
    sink->ref.refcount.set(saved);
  }
  media_graph_walk_cleanup(&graph);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], &drv_->source);
  EXPECT_EQ(seen[1], &drv_->proc);
  // Starting at a zero-count entity gives an empty walk.
  {
    MutexGuard g(&drv_->mdev.graph_mutex);
    sink->ref.refcount.set(0);
    media_graph_walk_start(&graph, sink);
    EXPECT_EQ(media_graph_walk_next(&graph), nullptr);
    sink->ref.refcount.set(saved);
  }
  media_graph_walk_cleanup(&graph);
  EXPECT_EQ(entity_refs(sink), static_cast<unsigned>(saved));
}

// Links are freed at unregistration, while files still pin the media
// device. If they lived on until the media device's release, the live
// count of media_link would be non-zero here.
TEST_F(LifetimeRulesTest, R10_LinksFreedAtUnregistration) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  // Two data links (+ two backlinks), one ancillary, one interface link.
  EXPECT_EQ(live_objects_count("media_link"), 6);
  remove_device();
  EXPECT_EQ(live_objects_count("test_media_drv"), 1);
  EXPECT_EQ(live_objects_count("media_link"), 0);
  EXPECT_TRUE(drv_->source.links.empty());
  EXPECT_TRUE(drv_->proc.links.empty());
  EXPECT_TRUE(drv_->sink.links.empty());
  EXPECT_EQ(drv_->proc.num_links, 0);
  EXPECT_EQ(drv_->sink.num_backlinks, 0);
}

// Reading links without graph_mutex is reported (lockdep_assert_held). If
// the walk (or remove_links_locked) did not check, the child would not die
// and EXPECT_DEATH would fail.
TEST_F(LifetimeRulesDeathTest, R10_GraphWalkNextWithoutGraphMutexIsReported) {
  EXPECT_DEATH(
      {
        media_graph graph;
        {
          MutexGuard g(&drv_->mdev.graph_mutex);
          media_graph_walk_start(&graph, &drv_->source);
        }
        media_graph_walk_next(&graph);
      },
      "REPORT bug: lockdep_assert_held\\(media_device.graph_mutex\\) failed");
}

TEST_F(LifetimeRulesDeathTest, R10_GraphWalkStartWithoutGraphMutexIsReported) {
  EXPECT_DEATH(
      {
        media_graph graph;
        media_graph_walk_start(&graph, &drv_->source);
      },
      "REPORT bug: lockdep_assert_held\\(media_device.graph_mutex\\) failed");
}

TEST_F(LifetimeRulesDeathTest, R10_RemoveLinksLockedWithoutGraphMutexIsReported) {
  EXPECT_DEATH(media_entity_remove_links_locked(&drv_->proc),
               "REPORT bug: lockdep_assert_held\\(media_device.graph_mutex\\) failed");
}

// ---------------------------------------------------------------------------
// R11: a count that reached zero never rises again.

// If try_get were a plain get, it would revive the entity (count 1, and a
// second release later: double free) or report add-on-zero.
TEST_F(LifetimeRulesTest, R11_EntityTryGetFailsAtZero) {
  test_entity te("Gone");
  EXPECT_TRUE(media_entity_try_get(&te.entity));
  EXPECT_EQ(entity_refs(&te.entity), 2u);
  media_entity_put(&te.entity);
  media_entity_put(&te.entity);
  EXPECT_EQ(te.released.load(), 1);
  EXPECT_EQ(entity_refs(&te.entity), 0u);
  EXPECT_FALSE(media_entity_try_get(&te.entity));
  EXPECT_EQ(entity_refs(&te.entity), 0u);
  EXPECT_EQ(te.released.load(), 1);
}

// If a get on a zero count went unnoticed, the object would be "revived"
// after its release ran: the child would survive and EXPECT_DEATH fail.
TEST_F(LifetimeRulesDeathTest, R11_EntityGetAtZeroIsReported) {
  test_entity te("Gone");
  media_entity_put(&te.entity);
  ASSERT_EQ(te.released.load(), 1);
  EXPECT_DEATH(media_entity_get(&te.entity),
               "REPORT refcount-add-on-zero: refcount_t: addition on 0; use-after-free"
               "(.|\n)*object: media_entity");
}

// The media device too: a released media device cannot be got again. If
// the get went unnoticed, the count would rise from 0 and a second release
// would run later (double free of the driver struct).
TEST_F(LifetimeRulesDeathTest, R11_MediaDeviceGetAfterReleaseIsReported) {
  bare_media_device b;
  media_device_put(&b.mdev);
  ASSERT_EQ(b.released.load(), 1);
  EXPECT_DEATH(media_device_get(&b.mdev),
               "REPORT refcount-add-on-zero(.|\n)*object: device");
}

// Interfaces likewise. The interface frees itself at its last put, so the
// count is forced to zero instead (the state right after that put); a get
// that went unnoticed would revive freed memory.
TEST_F(LifetimeRulesDeathTest, R11_InterfaceGetAfterLastPutIsReported) {
  media_intf_devnode* nd = media_devnode_create(&drv_->mdev, MEDIA_INTF_T_V4L_SUBDEV, 0, 81, 3);
  ASSERT_NE(nd, nullptr);
  EXPECT_DEATH(
      {
        nd->intf.ref.refcount.set(0);
        media_interface_get(&nd->intf);
      },
      "REPORT refcount-add-on-zero(.|\n)*object: media_interface");
  media_devnode_remove(nd);
}

// ---------------------------------------------------------------------------
// R12: every system call checks registration: the media node answers
// -ENXIO on open and -EIO on ioctl once unregistered (mc-devnode.c).

// If remove() left the /dev node (devtmpfs) or the char device behind, open
// would succeed (fd >= 0) on an unregistered device.
TEST_F(LifetimeRulesTest, R12_OpenAfterRemoveFailsWithENOENT) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(proc_.close(fd), 0);
  remove_device();
  EXPECT_EQ(open_media(), -ENOENT);
}

// The window between media_devnode_unregister_prepare() (REGISTERED
// cleared) and the char device's deletion: the node is still found, so
// open reaches media_open, which must refuse with -ENXIO. If media_open
// did not check the flag, the open would succeed (and take a reference on
// a device being torn down).
TEST_F(LifetimeRulesTest, R12_OpenWhileUnregisterPreparedFailsWithENXIO) {
  bare_media_device b;
  ASSERT_EQ(media_device_register(&b.mdev), 0);
  ASSERT_TRUE(media_devnode_is_registered(&b.mdev));
  const std::string path = b.path();
  EXPECT_NE(path, path_);
  int fd = proc_.open(path, O_RDWR_);
  ASSERT_GE(fd, 0);
  media_device_info info = {};
  EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_DEVICE_INFO, &info), 0);
  EXPECT_STREQ(info.model, "bare");
  EXPECT_EQ(proc_.poll(fd, EPOLLIN, false), 0);

  const unsigned refs = mdev_refs(&b.mdev);
  EXPECT_TRUE(media_devnode_unregister_prepare(&b.mdev));
  EXPECT_FALSE(media_devnode_unregister_prepare(&b.mdev));  // once
  EXPECT_FALSE(media_devnode_is_registered(&b.mdev));
  EXPECT_EQ(proc_.open(path, O_RDWR_), -ENXIO);
  EXPECT_EQ(mdev_refs(&b.mdev), refs);  // the failed open left no reference
  EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_DEVICE_INFO, &info), -EIO);
  EXPECT_EQ(proc_.poll(fd, EPOLLIN, false), static_cast<long>(EPOLLERR | EPOLLHUP));

  media_devnode_unregister(&b.mdev);
  EXPECT_EQ(proc_.open(path, O_RDWR_), -ENOENT);
  EXPECT_EQ(proc_.close(fd), 0);
  EXPECT_EQ(b.released.load(), 0);
  media_device_put(&b.mdev);
  EXPECT_EQ(b.released.load(), 1);
}

// If media_ioctl did not check registration, the ioctls would succeed (0)
// after remove(); the file layer's oracle would also report
// "call-on-unregistered".
TEST_F(LifetimeRulesTest, R12_IoctlAfterRemoveFailsWithEIO) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  media_device_info info = {};
  ASSERT_EQ(ioctl_arg(fd, MEDIA_IOC_DEVICE_INFO, &info), 0);
  remove_device();
  std::memset(&info, 0xab, sizeof(info));
  EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_DEVICE_INFO, &info), -EIO);
  EXPECT_EQ(static_cast<uint8_t>(info.driver[0]), 0xab);  // nothing copied out
  // The registration check comes before dispatch: even unknown commands.
  EXPECT_EQ(proc_.ioctl(fd, _IOWR('|', 0xff, int), kArg), -EIO);
  int req = 0;
  EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_REQUEST_ALLOC, &req), -EIO);
}

// If media_poll did not check registration, a poller would see 0 and keep
// sleeping on a device that is gone.
TEST_F(LifetimeRulesTest, R12_PollAfterRemoveReportsErrHup) {
  int fd = open_media();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(proc_.poll(fd, EPOLLIN | EPOLLPRI, false), 0);
  remove_device();
  EXPECT_EQ(proc_.poll(fd, EPOLLIN | EPOLLPRI, false), static_cast<long>(EPOLLERR | EPOLLHUP));
  // Blocking poll must not sleep either.
  EXPECT_EQ(proc_.poll(fd, EPOLLIN, true), static_cast<long>(EPOLLERR | EPOLLHUP));
}

// A re-probe gets a fresh media device on the same node name while an old
// file still points at the old one: the old file keeps answering -EIO (it
// must not reach the new device), the new one works. If files were bound to
// the node name rather than to their media device, the old fd would succeed
// (0) against the new device; if the minor were not freed at
// unregistration, the re-probe would get another name.
TEST_F(LifetimeRulesTest, R12_OldFileStaysDeadAfterReprobe) {
  int old_fd = open_media();
  ASSERT_GE(old_fd, 0);
  const std::string old_path = path_;
  remove_device();
  probe();
  ASSERT_EQ(path_, old_path);  // minor freed at unregistration, reused
  int new_fd = open_media();
  ASSERT_GE(new_fd, 0);
  media_device_info info = {};
  EXPECT_EQ(ioctl_arg(old_fd, MEDIA_IOC_DEVICE_INFO, &info), -EIO);
  EXPECT_EQ(ioctl_arg(new_fd, MEDIA_IOC_DEVICE_INFO, &info), 0);
  EXPECT_EQ(live_objects_count("test_media_drv"), 2);
  EXPECT_EQ(proc_.close(old_fd), 0);
  EXPECT_EQ(live_objects_count("test_media_drv"), 1);
}

}  // namespace
}  // namespace mcf::mctest
