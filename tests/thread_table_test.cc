// Unit tests of the monitor's thread and process table.
#include "supervisor/monitor/thread_table.h"

#include <unistd.h>

#include <map>

#include "gtest/gtest.h"

namespace dpsupervise {
namespace {

// Thread groups as a fake /proc would report them.
ThreadTable TableWithGroups(std::map<pid_t, pid_t> tgids) {
  return ThreadTable([tgids](pid_t tid) -> absl::StatusOr<pid_t> {
    auto it = tgids.find(tid);
    if (it == tgids.end()) return absl::NotFoundError("no such task");
    return it->second;
  });
}

TEST(ThreadTable, TrackLooksUpTheThreadGroupOnce) {
  ThreadTable table = TableWithGroups({{10, 10}, {11, 10}});
  ThreadState& worker = table.Track(11);
  EXPECT_EQ(worker.tid, 11);
  EXPECT_EQ(worker.tgid, 10);
  worker.preflight_reported = true;
  EXPECT_TRUE(table.Track(11).preflight_reported);  // the same entry
  EXPECT_EQ(table.Find(12), nullptr);
}

TEST(ThreadTable, AnUnknownThreadGroupIsTheTaskItself) {
  ThreadTable table = TableWithGroups({});
  EXPECT_EQ(table.Track(42).tgid, 42);
}

TEST(ThreadTable, TheRealProcFindsThisProcess) {
  ThreadTable table;
  EXPECT_EQ(table.Track(getpid()).tgid, getpid());
}

TEST(ThreadTable, LiveTidAvoidsAnExitingLeader) {
  ThreadTable table = TableWithGroups({{10, 10}, {11, 10}, {12, 10}});
  table.Track(10);
  table.Track(12);
  EXPECT_EQ(table.LiveTid(10), 10);
  table.Find(10)->exiting = true;
  EXPECT_EQ(table.LiveTid(10), 12);
  table.Find(12)->exiting = true;
  EXPECT_EQ(table.LiveTid(10), 10);  // nothing better known
  EXPECT_EQ(table.LiveTid(99), 99);
}

TEST(ThreadTable, ExecLeavesOneThreadWithTheCallersStateAndANewImage) {
  ThreadTable table = TableWithGroups({{10, 10}, {11, 10}, {12, 10}, {20, 20}});
  table.Track(10);
  table.Track(11).BecomeStrict(PR_DATAPLANE_STRICT);
  table.Track(12);
  table.Track(20);
  table.Process(10).syscall_instruction = 0x1000;
  table.Process(10).scratch.address = 0x2000;
  table.Process(10).handover = DebuggerHandover::kDetach;

  // Thread 11 called exec: the kernel gave it the leader's tid.
  ThreadState& survivor = table.ReplaceAfterExec(10, 11, *table.Find(10));
  EXPECT_EQ(survivor.tid, 10);
  EXPECT_EQ(survivor.tgid, 10);
  EXPECT_TRUE(survivor.strict());
  EXPECT_EQ(table.Find(11), nullptr);
  EXPECT_EQ(table.Find(12), nullptr);
  ASSERT_NE(table.Find(20), nullptr);  // another process is untouched
  const ProcessState& process = table.Process(10);
  EXPECT_FALSE(process.syscall_instruction.has_value());
  EXPECT_EQ(process.scratch.address, 0u);
  EXPECT_EQ(process.handover, DebuggerHandover::kDetach);
}

TEST(ThreadTable, ExecByTheLeaderKeepsItsOwnState) {
  ThreadTable table = TableWithGroups({{10, 10}});
  table.Track(10).preflight_reported = true;
  ThreadState& survivor = table.ReplaceAfterExec(10, 10, *table.Find(10));
  EXPECT_TRUE(survivor.preflight_reported);
}

TEST(ThreadTable, AProcessIsForgottenWithItsLastThreadUnlessHandedOver) {
  ThreadTable table = TableWithGroups({{10, 10}, {11, 10}, {20, 20}});
  table.Track(10);
  table.Track(11);
  table.Process(10).syscall_instruction = 0x1000;
  table.Erase(10);
  table.ForgetProcessIfGone(10);
  ASSERT_NE(table.FindProcess(10), nullptr);  // thread 11 is left
  table.Erase(11);
  table.ForgetProcessIfGone(10);
  EXPECT_EQ(table.FindProcess(10), nullptr);

  table.Track(20);
  table.Process(20).handover = DebuggerHandover::kDetachThenRunGdb;
  table.Erase(20);
  table.ForgetProcessIfGone(20);
  EXPECT_NE(table.FindProcess(20), nullptr);
  EXPECT_EQ(table.HandedOverOrTraced(), std::set<pid_t>{20});
}

TEST(ThreadState, TheStrictBitFollowsTheState) {
  ThreadState thread;
  EXPECT_FALSE(thread.strict());
  thread.BecomeStrict(PR_DATAPLANE_SIG(SIGUSR1));
  EXPECT_TRUE(thread.strict());
  EXPECT_EQ(thread.dataplane_flags, PR_DATAPLANE_STRICT | PR_DATAPLANE_SIG(SIGUSR1));
  EXPECT_EQ(thread.violation_signal(), SIGUSR1);
  thread.state = StrictState::kLeaveRequested;
  EXPECT_TRUE(thread.strict());
  EXPECT_TRUE(thread.interrupt_requested());
  thread.BecomeNotStrict(PR_DATAPLANE_STRICT | PR_DATAPLANE_SIG(SIGUSR2));
  EXPECT_FALSE(thread.strict());
  EXPECT_EQ(thread.dataplane_flags, PR_DATAPLANE_SIG(SIGUSR2));
  thread.state = StrictState::kEntryRequested;
  EXPECT_FALSE(thread.strict());
  EXPECT_TRUE(thread.interrupt_requested());
  EXPECT_STREQ(StrictStateName(StrictState::kEntryAtSyscallExit), "entry at syscall exit");
}

}  // namespace
}  // namespace dpsupervise
