// Shared scaffolding of the media-controller tests (tests/mc/*_test.cc):
//  - MediaDriverTest: a fixture with the test-only media driver bound to
//    "mcf-test-media.0" (tests/support/test_media_driver.h), a process to
//    drive /dev/mediaN through, ioctl helpers and G_TOPOLOGY's two-call
//    pattern;
//  - test_entity / bare_media_device: counted objects whose release callback
//    only records that it ran (the test owns the memory), so a test can look
//    at a count after it reached zero, or put one time too many, without the
//    sanitizer seeing a use-after-free first;
//  - HookGate: a HookSink that stops a chosen thread at a chosen hook point,
//    to build an interleaving deterministically out of real threads.
#pragma once

#include <gtest/gtest.h>
#include <linux/media.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "core/fs/process.h"
#include "core/kernel/hooks.h"
#include "core/kernel/live_objects.h"
#include "core/kernel/platform.h"
#include "core/mc/media_device.h"
#include "core/mc/media_devnode.h"
#include "tests/support/live_objects_check.h"
#include "tests/support/test_media_driver.h"

namespace mcf::mctest {

using ::mcf::testing::alive_objects;
using ::mcf::testing::test_media_drv;

// User addresses inside the process's arena (1 MiB from kDefaultBase).
constexpr user_addr_t kArg = user_arena::kDefaultBase;  // the ioctl's struct
constexpr user_addr_t kArrayA = kArg + 0x1000;          // arrays handed to ioctls
constexpr user_addr_t kArrayB = kArg + 0x4000;
constexpr user_addr_t kArrayC = kArg + 0x8000;
constexpr user_addr_t kArrayD = kArg + 0xc000;
constexpr size_t kArenaSize = 1 << 20;
// v4l2-compliance's bad pointer: outside every arena.
constexpr user_addr_t kBadPtr = 4;

template <typename T>
T* uptr(user_addr_t a) {
  return reinterpret_cast<T*>(static_cast<uintptr_t>(a));
}

inline unsigned mdev_refs(media_device* mdev) { return kref_read(&mdev->devnode.dev.kobj); }
inline unsigned entity_refs(media_entity* e) { return kref_read(&e->ref); }
inline unsigned intf_refs(media_interface* i) { return kref_read(&i->ref); }
inline uint32_t id_type(uint32_t id) { return id >> 24; }

// An entity with two pads (sink 0, source 1) owned by the test. Its release
// only counts; the test frees the memory.
struct test_entity {
  media_entity entity;
  media_pad pads[2];
  std::atomic<int> released{0};
  // The media device's count seen from inside release (R3: the entity's
  // release runs before the registration's media-device reference is put).
  std::atomic<int> mdev_refs_in_release{-1};

  explicit test_entity(const char* name, uint32_t function = MEDIA_ENT_F_PROC_VIDEO_SCALER) {
    entity.name = name;
    entity.function = function;
    pads[0].flags = MEDIA_PAD_FL_SINK;
    pads[1].flags = MEDIA_PAD_FL_SOURCE;
    media_entity_pads_init(&entity, 2, pads);
    entity.release = [](media_entity* e) {
      test_entity* te = container_of(e, test_entity, entity);
      if (e->graph_obj.mdev != nullptr)
        te->mdev_refs_in_release.store(static_cast<int>(mdev_refs(e->graph_obj.mdev)));
      te->released.fetch_add(1);
    };
  }
};

// A media device with no driver and no parent, whose release only counts.
struct bare_media_device {
  media_device mdev;
  std::atomic<int> released{0};
  media_device_ops ops;

  bare_media_device() {
    ops.release = [](media_device* m) {
      container_of(m, bare_media_device, mdev)->released.fetch_add(1);
    };
    mdev.ops = &ops;
    std::snprintf(mdev.model, sizeof(mdev.model), "bare");
    media_device_init(&mdev);
  }
  std::string path() const { return "/dev/" + mdev.devnode.dev.name; }
};

// The fixture: driver registered, device probed, nothing open.
class MediaDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Death tests re-run the test in a fresh process: safe with threads.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    ASSERT_EQ(alive_objects(), "");
    ASSERT_EQ(::mcf::testing::test_media_driver_register(), 0);
    probe();
  }
  void TearDown() override {
    proc_.close_all();
    remove_device();
    ::mcf::testing::test_media_driver_unregister();
    EXPECT_EQ(alive_objects(), "");
  }

  void probe() {
    pdev_ = ::mcf::testing::test_media_device_add(0);
    ASSERT_NE(pdev_, nullptr);
    drv_ = ::mcf::testing::test_media_drvdata(pdev_);
    ASSERT_NE(drv_, nullptr);
    path_ = "/dev/" + drv_->mdev.devnode.dev.name;
  }
  // The driver's remove() runs; drv_ stays valid only while someone holds a
  // reference (a test that keeps one may still use it).
  void remove_device() {
    if (pdev_ == nullptr) return;
    platform_device_unregister(pdev_);
    pdev_ = nullptr;
  }

  int open_media() { return proc_.open(path_, O_RDWR_); }

  // Writes *arg at `at`, issues the ioctl, reads *arg back.
  template <typename T>
  long ioctl_arg(int fd, unsigned long cmd, T* arg, user_addr_t at = kArg) {
    EXPECT_TRUE(proc_.mem().write(at, arg, sizeof(*arg)));
    long ret = proc_.ioctl(fd, cmd, at);
    EXPECT_TRUE(proc_.mem().read(at, arg, sizeof(*arg)));
    return ret;
  }

  void fill_user(user_addr_t at, uint8_t byte, size_t n) {
    std::vector<uint8_t> b(n, byte);
    ASSERT_TRUE(proc_.mem().write(at, b.data(), n));
  }
  template <typename T>
  std::vector<T> read_user_array(user_addr_t at, size_t n) {
    std::vector<T> v(n);
    EXPECT_TRUE(proc_.mem().read(at, v.data(), n * sizeof(T)));
    return v;
  }

  // G_TOPOLOGY, the two-call pattern user space uses.
  struct Topology {
    media_v2_topology hdr = {};
    std::vector<media_v2_entity> entities;
    std::vector<media_v2_interface> interfaces;
    std::vector<media_v2_pad> pads;
    std::vector<media_v2_link> links;

    const media_v2_entity* entity(const char* name) const {
      for (const auto& e : entities)
        if (std::strcmp(e.name, name) == 0) return &e;
      return nullptr;
    }
    const media_v2_link* link(uint32_t source_id, uint32_t sink_id) const {
      for (const auto& l : links)
        if (l.source_id == source_id && l.sink_id == sink_id) return &l;
      return nullptr;
    }
    bool has_id(uint32_t id) const {
      for (const auto& e : entities)
        if (e.id == id) return true;
      for (const auto& i : interfaces)
        if (i.id == id) return true;
      for (const auto& p : pads)
        if (p.id == id) return true;
      for (const auto& l : links)
        if (l.id == id) return true;
      return false;
    }
  };
  Topology topology(int fd) {
    Topology t;
    media_v2_topology first = {};
    EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_G_TOPOLOGY, &first), 0);
    media_v2_topology second = {};
    second.num_entities = first.num_entities;
    second.num_interfaces = first.num_interfaces;
    second.num_pads = first.num_pads;
    second.num_links = first.num_links;
    second.ptr_entities = kArrayA;
    second.ptr_interfaces = kArrayB;
    second.ptr_pads = kArrayC;
    second.ptr_links = kArrayD;
    EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_G_TOPOLOGY, &second), 0);
    EXPECT_EQ(second.topology_version, first.topology_version);
    t.hdr = second;
    t.entities = read_user_array<media_v2_entity>(kArrayA, second.num_entities);
    t.interfaces = read_user_array<media_v2_interface>(kArrayB, second.num_interfaces);
    t.pads = read_user_array<media_v2_pad>(kArrayC, second.num_pads);
    t.links = read_user_array<media_v2_link>(kArrayD, second.num_links);
    return t;
  }

  long setup_link(int fd, media_entity* src, uint16_t src_pad, media_entity* snk,
                  uint16_t snk_pad, uint32_t flags) {
    media_link_desc d = {};
    d.source.entity = media_entity_id(src);
    d.source.index = src_pad;
    d.sink.entity = media_entity_id(snk);
    d.sink.index = snk_pad;
    d.flags = flags;
    return ioctl_arg(fd, MEDIA_IOC_SETUP_LINK, &d);
  }

  // The flags of the outbound links of `entity` as ENUM_LINKS reports them.
  std::vector<media_link_desc> enum_links(int fd, media_entity* entity, long* ret_out = nullptr) {
    media_entity_desc ed = {};
    ed.id = media_entity_id(entity);
    EXPECT_EQ(ioctl_arg(fd, MEDIA_IOC_ENUM_ENTITIES, &ed), 0);
    media_links_enum le = {};
    le.entity = ed.id;
    le.links = uptr<media_link_desc>(kArrayA);
    long ret = ioctl_arg(fd, MEDIA_IOC_ENUM_LINKS, &le);
    if (ret_out != nullptr) *ret_out = ret;
    return read_user_array<media_link_desc>(kArrayA, ed.links);
  }

  process proc_{kArenaSize};
  platform_device* pdev_ = nullptr;
  test_media_drv* drv_ = nullptr;
  std::string path_;
};

// Stops threads at hook points. A thread takes part after tag(n); a stop
// (tag, kind, lock/object class) fires once, at the first matching point that
// thread reaches, records it, and, if `pause`, blocks the thread there until
// release(). Waits time out (kTimeout) so that a broken interleaving fails
// the test instead of hanging it; a timed-out pause lets its thread go on.
class HookGate : public HookSink {
 public:
  static constexpr std::chrono::seconds kTimeout{20};

  HookGate() { set_hook_sink(this); }
  ~HookGate() override { set_hook_sink(nullptr); }

  // Marks the calling thread as thread `n` (> 0).
  static void tag(int n) { t_tag = n; }

  int add_stop(int thread, HookKind kind, const char* object_class, bool pause) {
    std::lock_guard<std::mutex> g(m_);
    stops_.push_back(Stop{thread, kind, object_class, pause, false, false});
    return static_cast<int>(stops_.size()) - 1;
  }
  // True once the stop's thread reached it (false on timeout).
  bool wait_reached(int stop) {
    std::unique_lock<std::mutex> g(m_);
    return cv_.wait_for(g, kTimeout, [&] { return stops_[stop].reached; });
  }
  bool reached(int stop) {
    std::lock_guard<std::mutex> g(m_);
    return stops_[stop].reached;
  }
  void release(int stop) {
    std::lock_guard<std::mutex> g(m_);
    stops_[stop].released = true;
    cv_.notify_all();
  }

  void on_hook(const HookPoint& p) override {
    int me = t_tag;
    if (me == 0) return;
    std::unique_lock<std::mutex> g(m_);
    for (Stop& s : stops_) {
      if (s.thread != me || s.reached || s.kind != p.kind) continue;
      if (p.object_class == nullptr || std::strcmp(p.object_class, s.object_class) != 0) continue;
      s.reached = true;
      cv_.notify_all();
      if (s.pause) cv_.wait_for(g, kTimeout, [&] { return s.released; });
      return;
    }
  }

 private:
  struct Stop {
    int thread;
    HookKind kind;
    const char* object_class;
    bool pause;
    bool reached;
    bool released;
  };
  static inline thread_local int t_tag = 0;
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<Stop> stops_;  // never resized while a thread waits on one (add before start)
};

}  // namespace mcf::mctest
