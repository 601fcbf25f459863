// Unit tests of the name and time triggers' decisions.
#include "supervisor/monitor/triggers.h"

#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace dpsupervise {
namespace {

timespec At(double seconds) {
  timespec t;
  t.tv_sec = static_cast<time_t>(seconds);
  t.tv_nsec = static_cast<long>((seconds - t.tv_sec) * 1e9);
  return t;
}

class TriggersTest : public ::testing::Test {
 protected:
  TriggersTest()
      : table_([](pid_t tid) -> absl::StatusOr<pid_t> { return 10; }) {}

  Triggers Make(std::vector<std::string> globs, double after, double for_seconds,
                std::set<int> cpus = {}) {
    StrictTriggers options;
    options.thread_globs = std::move(globs);
    options.cpus = std::move(cpus);
    options.after_seconds = after;
    options.for_seconds = for_seconds;
    return Triggers(
        options,
        [this](pid_t tid) -> absl::StatusOr<std::string> {
          auto it = names_.find(tid);
          if (it == names_.end()) return absl::NotFoundError("gone");
          return it->second;
        },
        [this](pid_t tid) -> absl::StatusOr<std::set<int>> {
          auto it = affinities_.find(tid);
          if (it == affinities_.end()) return absl::NotFoundError("gone");
          return it->second;
        });
  }
  std::vector<Triggers::Request> Due(Triggers& triggers, double now) {
    return triggers.Due(table_, At(now), [](const ThreadState&) { return false; });
  }

  std::map<pid_t, std::string> names_;
  std::map<pid_t, std::set<int>> affinities_;
  ThreadTable table_;
};

TEST_F(TriggersTest, AMatchingNameIsDueForEntryOnce) {
  Triggers triggers = Make({"dp-*"}, 0, 0);
  names_ = {{10, "main"}, {11, "dp-worker"}};
  table_.Track(10);
  table_.Track(11);
  auto due = Due(triggers, 1);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].tid, 11);
  EXPECT_EQ(due[0].move, Triggers::Move::kEnter);
  Triggers::Requested(*table_.Find(11), due[0].move);
  EXPECT_EQ(table_.Find(11)->state, StrictState::kEntryRequested);
  EXPECT_TRUE(table_.Find(11)->trigger.triggered);
  EXPECT_TRUE(Due(triggers, 2).empty());  // requested: not again
}

TEST_F(TriggersTest, StrictAfterCountsFromTheFirstMatchAndRestartsOnARename) {
  Triggers triggers = Make({"dp-*"}, 1.0, 0);
  names_ = {{11, "dp-worker"}};
  table_.Track(11);
  EXPECT_TRUE(Due(triggers, 10).empty());
  EXPECT_TRUE(Due(triggers, 10.5).empty());
  names_[11] = "renamed";
  EXPECT_TRUE(Due(triggers, 11.2).empty());
  names_[11] = "dp-again";
  EXPECT_TRUE(Due(triggers, 11.5).empty());  // the delay starts again here
  EXPECT_TRUE(Due(triggers, 12.4).empty());
  EXPECT_EQ(Due(triggers, 12.5).size(), 1u);
}

TEST_F(TriggersTest, AStrictForWindowEndsWithALeaveRequest) {
  Triggers triggers = Make({"dp-*"}, 0, 2.0);
  names_ = {{11, "dp-worker"}};
  ThreadState& thread = table_.Track(11);
  thread.trigger.triggered = true;
  thread.BecomeStrict(PR_DATAPLANE_STRICT);
  thread.window.since = At(100);
  EXPECT_TRUE(Due(triggers, 101.9).empty());
  auto due = Due(triggers, 102);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].move, Triggers::Move::kLeave);
  Triggers::Requested(thread, due[0].move);
  EXPECT_EQ(thread.state, StrictState::kLeaveRequested);
  EXPECT_TRUE(Due(triggers, 103).empty());
}

TEST_F(TriggersTest, ThreadsStrictByThemselvesAreLeftAlone) {
  Triggers triggers = Make({"*"}, 0, 1.0);
  names_ = {{11, "worker"}};
  ThreadState& thread = table_.Track(11);
  thread.BecomeStrict(PR_DATAPLANE_STRICT);  // its own prctl: not triggered
  thread.window.since = At(0);
  EXPECT_TRUE(Due(triggers, 100).empty());
}

TEST_F(TriggersTest, SkippedAndVanishedThreadsAreNotDue) {
  Triggers triggers = Make({"*"}, 0, 0);
  names_ = {{11, "worker"}};
  table_.Track(11);
  table_.Track(12);  // no name: gone
  EXPECT_TRUE(triggers.Due(table_, At(1), [](const ThreadState&) { return true; }).empty());
  auto due = Due(triggers, 1);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].tid, 11);
}

TEST_F(TriggersTest, AThreadPinnedToOneStrictCpuIsDue) {
  Triggers triggers = Make({}, 0, 0, {1, 3});
  affinities_ = {{10, {0, 1}}, {11, {1}}, {12, {2}}, {13, {3}}};
  for (pid_t tid : {10, 11, 12, 13}) table_.Track(tid);
  auto due = Due(triggers, 1);
  std::set<pid_t> entering;
  for (const auto& request : due) {
    EXPECT_EQ(request.move, Triggers::Move::kEnter);
    entering.insert(request.tid);
  }
  // 10 may run on two CPUs; 12 is pinned, but not to a strict CPU.
  EXPECT_EQ(entering, (std::set<pid_t>{11, 13}));
}

TEST_F(TriggersTest, RepinningAwayRestartsTheDelay) {
  Triggers triggers = Make({}, 1.0, 0, {1});
  affinities_ = {{11, {1}}};
  table_.Track(11);
  EXPECT_TRUE(Due(triggers, 10).empty());
  affinities_[11] = {0, 1};
  EXPECT_TRUE(Due(triggers, 10.6).empty());
  affinities_[11] = {1};
  EXPECT_TRUE(Due(triggers, 10.8).empty());
  EXPECT_TRUE(Due(triggers, 11.7).empty());
  EXPECT_EQ(Due(triggers, 11.8).size(), 1u);
}

TEST_F(TriggersTest, ANameOrACpuIsEnough) {
  Triggers triggers = Make({"dp-*"}, 0, 0, {1});
  names_ = {{11, "dp-rx"}, {12, "other"}};
  affinities_ = {{11, {0, 1}}, {12, {1}}};
  table_.Track(11);
  table_.Track(12);
  EXPECT_EQ(Due(triggers, 1).size(), 2u);
}

}  // namespace
}  // namespace dpsupervise
