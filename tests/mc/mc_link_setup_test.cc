// SETUP_LINK's driver callbacks (reference/kernel-media.md §3.1, step 4):
// link_notify(PRE) may refuse; then link_setup on the source, then on the
// sink (-ENOIOCTLCMD counts as success; a sink refusal rolls the source back
// with the old flags); flags are written to the link and its backlink; and
// link_notify(POST) runs whatever link_setup said. DYNAMIC links may change
// while streaming. Driven through /dev/mediaN of a bare media device with
// two test entities:  A:1 --[flags]--> 0:B
#include <gtest/gtest.h>
#include <linux/media.h>

#include <cerrno>
#include <string>
#include <vector>

#include "core/kernel/kerrno.h"
#include "tests/mc/mc_test_util.h"

namespace mcf::mctest {
namespace {

struct Call {
  std::string who;  // "PRE", "POST", or the entity name
  int local = -1, remote = -1;
  uint32_t flags = 0;
  bool operator==(const Call& o) const {
    return who == o.who && local == o.local && remote == o.remote && flags == o.flags;
  }
};
std::ostream& operator<<(std::ostream& os, const Call& c) {
  return os << c.who << "(" << c.local << "," << c.remote << ",0x" << std::hex << c.flags
            << std::dec << ")";
}

// Single-threaded tests: plain globals.
std::vector<Call> g_calls;
int g_ret_pre = 0, g_ret_a = 0, g_ret_b = 0;

int record_link_setup(media_entity* e, const media_pad* local, const media_pad* remote,
                      uint32_t flags) {
  g_calls.push_back({e->name, local->index, remote->index, flags});
  return e->name == "A" ? g_ret_a : g_ret_b;
}
int record_link_notify(media_link* link, uint32_t flags, unsigned notification) {
  g_calls.push_back({notification == MEDIA_DEV_NOTIFY_PRE_LINK_CH ? "PRE" : "POST", -1, -1, flags});
  return notification == MEDIA_DEV_NOTIFY_PRE_LINK_CH ? g_ret_pre : 0;
}
const media_entity_operations kRecordOps = {.link_setup = record_link_setup};

class McLinkSetupTest : public ::testing::Test {
 protected:
  // The objects are members (built before SetUp, destroyed after TearDown),
  // so the next fixture's SetUp is where a leak from here would show.
  void SetUp() override {
    g_calls.clear();
    g_ret_pre = g_ret_a = g_ret_b = 0;
    b_.ops.link_notify = record_link_notify;
    a_.entity.ops = &kRecordOps;
    bb_.entity.ops = &kRecordOps;
    ASSERT_EQ(media_device_register_entity(&b_.mdev, &a_.entity), 0);
    ASSERT_EQ(media_device_register_entity(&b_.mdev, &bb_.entity), 0);
    ASSERT_EQ(media_device_register(&b_.mdev), 0);
    fd_ = proc_.open(b_.path(), O_RDWR_);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    EXPECT_EQ(proc_.close(fd_), 0);
    media_device_unregister(&b_.mdev);
    media_entity_put(&a_.entity);
    media_entity_put(&bb_.entity);
    media_device_put(&b_.mdev);
    EXPECT_EQ(b_.released.load(), 1);
  }

  void link(uint32_t flags) {
    ASSERT_EQ(media_create_pad_link(&a_.entity, 1, &bb_.entity, 0, flags), 0);
  }
  long setup(uint32_t flags) {
    media_link_desc d = {};
    d.source.entity = media_entity_id(&a_.entity);
    d.source.index = 1;
    d.sink.entity = media_entity_id(&bb_.entity);
    d.sink.index = 0;
    d.flags = flags;
    EXPECT_TRUE(proc_.mem().write(kArg, &d, sizeof(d)));
    return proc_.ioctl(fd_, MEDIA_IOC_SETUP_LINK, kArg);
  }
  // The flags of the link and of its backlink.
  std::pair<uint32_t, uint32_t> flags() {
    MutexGuard g(&b_.mdev.graph_mutex);
    media_link* l = media_entity_find_link(&a_.pads[1], &bb_.pads[0]);
    return {static_cast<uint32_t>(l->flags), static_cast<uint32_t>(l->reverse->flags)};
  }

  bare_media_device b_;
  test_entity a_{"A"};
  test_entity bb_{"B"};
  process proc_;
  int fd_ = -1;
};

const uint32_t EN = MEDIA_LNK_FL_ENABLED;

TEST_F(McLinkSetupTest, EnableCallsNotifyThenSourceThenSinkThenNotify) {
  link(0);
  ASSERT_EQ(setup(EN), 0);
  EXPECT_EQ(g_calls, (std::vector<Call>{{"PRE", -1, -1, EN},
                                        {"A", 1, 0, EN},
                                        {"B", 0, 1, EN},
                                        {"POST", -1, -1, EN}}));
  EXPECT_EQ(flags(), std::make_pair(EN, EN));
  // Unchanged flags: 0 and no callback at all.
  g_calls.clear();
  EXPECT_EQ(setup(EN), 0);
  EXPECT_TRUE(g_calls.empty());
}

TEST_F(McLinkSetupTest, SinkRefusalRollsBackSourceAndKeepsFlags) {
  link(EN);
  g_ret_b = -EBUSY;
  EXPECT_EQ(setup(0), -EBUSY);
  EXPECT_EQ(g_calls, (std::vector<Call>{{"PRE", -1, -1, 0},
                                        {"A", 1, 0, 0},
                                        {"B", 0, 1, 0},
                                        {"A", 1, 0, EN},  // rollback to the old flags
                                        {"POST", -1, -1, 0}}));
  EXPECT_EQ(flags(), std::make_pair(EN, EN));
}

TEST_F(McLinkSetupTest, SourceRefusalSkipsSink) {
  link(0);
  g_ret_a = -EINVAL;
  EXPECT_EQ(setup(EN), -EINVAL);
  EXPECT_EQ(g_calls,
            (std::vector<Call>{{"PRE", -1, -1, EN}, {"A", 1, 0, EN}, {"POST", -1, -1, EN}}));
  EXPECT_EQ(flags(), std::make_pair(0u, 0u));
}

TEST_F(McLinkSetupTest, PreNotifyRefusalStopsEverything) {
  link(0);
  g_ret_pre = -EPERM;
  EXPECT_EQ(setup(EN), -EPERM);
  EXPECT_EQ(g_calls, (std::vector<Call>{{"PRE", -1, -1, EN}}));
  EXPECT_EQ(flags(), std::make_pair(0u, 0u));
}

TEST_F(McLinkSetupTest, NoIoctlCmdFromLinkSetupCountsAsSuccess) {
  link(0);
  g_ret_a = -ENOIOCTLCMD;
  g_ret_b = -ENOIOCTLCMD;
  EXPECT_EQ(setup(EN), 0);
  EXPECT_EQ(flags(), std::make_pair(EN, EN));
  EXPECT_EQ(g_calls.size(), 4u);
}

// A DYNAMIC link may change while its pipeline streams; a plain one may not.
TEST_F(McLinkSetupTest, DynamicLinkChangesWhileStreaming) {
  link(EN | MEDIA_LNK_FL_DYNAMIC);
  media_pipeline pipe;
  ASSERT_EQ(media_pipeline_start(&bb_.entity, &pipe), 0);
  EXPECT_EQ(setup(MEDIA_LNK_FL_DYNAMIC), 0);
  EXPECT_EQ(flags(), std::make_pair(static_cast<uint32_t>(MEDIA_LNK_FL_DYNAMIC),
                                    static_cast<uint32_t>(MEDIA_LNK_FL_DYNAMIC)));
  EXPECT_EQ(setup(EN | MEDIA_LNK_FL_DYNAMIC), 0);
  media_pipeline_stop(&bb_.entity);
  EXPECT_EQ(pipe.start_count, 0);
}

TEST_F(McLinkSetupTest, PlainLinkRefusedWhileStreamingWithoutCallbacks) {
  link(EN);
  media_pipeline pipe;
  ASSERT_EQ(media_pipeline_start(&a_.entity, &pipe), 0);
  g_calls.clear();
  EXPECT_EQ(setup(0), -EBUSY);
  EXPECT_TRUE(g_calls.empty());  // the busy check comes before link_notify
  media_pipeline_stop(&a_.entity);
  EXPECT_EQ(setup(0), 0);
}

// Pipeline start validates every enabled link at its sink end, with the
// sink entity's link_validate; a refusal's code comes back.
int g_validate_ret = 0;
int g_validate_calls = 0;
int record_link_validate(media_link* link) {
  g_validate_calls++;
  return g_validate_ret;
}
const media_entity_operations kValidateOps = {.link_setup = record_link_setup,
                                              .link_validate = record_link_validate};

TEST_F(McLinkSetupTest, PipelineStartValidatesAtTheSinkEnd) {
  link(EN);
  bb_.entity.ops = &kValidateOps;
  a_.entity.ops = &kValidateOps;
  g_validate_calls = 0;
  g_validate_ret = -EXDEV;
  media_pipeline pipe;
  EXPECT_EQ(media_pipeline_start(&a_.entity, &pipe), -EXDEV);
  EXPECT_EQ(g_validate_calls, 1);  // once: on B (the sink), not on A
  g_validate_ret = -ENOIOCTLCMD;     // "not implemented" is success
  EXPECT_EQ(media_pipeline_start(&a_.entity, &pipe), 0);
  // A second start of the same pipeline does not validate again.
  g_validate_calls = 0;
  EXPECT_EQ(media_pipeline_start(&bb_.entity, &pipe), 0);
  EXPECT_EQ(g_validate_calls, 0);
  EXPECT_EQ(pipe.start_count, 2);
  media_pipeline_stop(&bb_.entity);
  {
    MutexGuard g(&b_.mdev.graph_mutex);
    EXPECT_TRUE(media_entity_is_streaming(&a_.entity));  // one start left
  }
  media_pipeline_stop(&a_.entity);
  {
    MutexGuard g(&b_.mdev.graph_mutex);
    EXPECT_FALSE(media_entity_is_streaming(&a_.entity));
    EXPECT_FALSE(media_entity_is_streaming(&bb_.entity));
  }
  EXPECT_EQ(pipe.start_count, 0);
}

}  // namespace
}  // namespace mcf::mctest
