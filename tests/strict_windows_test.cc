// Unit tests of strict-window accounting and the summary made of it.
#include "supervisor/monitor/strict_windows.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace dpsupervise {
namespace {

pid_t Gettid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// This very thread, as a traced thread would be.
ThreadState& TrackSelf(ThreadTable& table) {
  ThreadState& thread = table.Track(Gettid());
  thread.BecomeStrict(PR_DATAPLANE_STRICT);
  return thread;
}

TEST(StrictWindows, EntriesTimeAndViolationsAreCounted) {
  ThreadTable table;
  StrictWindows windows(/*read_counters=*/false);
  ThreadState& thread = TrackSelf(table);
  windows.Begin(thread);
  windows.CountViolations(thread, ViolationKind::kSyscall, 1);
  windows.CountViolations(thread, ViolationKind::kPageFault, 3);
  windows.End(thread);
  windows.Begin(thread);
  windows.End(thread);

  RunSummary summary = windows.Summary(table, 7);
  EXPECT_EQ(summary.exit_status, 7);
  EXPECT_EQ(summary.total_violations, 4);
  ASSERT_EQ(summary.threads.size(), 1u);
  const ThreadSummary& counted = summary.threads[0];
  EXPECT_EQ(counted.tid, Gettid());
  EXPECT_EQ(counted.pid, getpid());
  EXPECT_EQ(counted.strict_entries, 2);
  EXPECT_GE(counted.strict_seconds, 0.0);
  EXPECT_EQ(counted.violations.at("syscall"), 1);
  EXPECT_EQ(counted.violations.at("page_fault"), 3);
  // Without counters, nothing is read from /proc.
  EXPECT_TRUE(counted.thread_name.empty());
}

TEST(StrictWindows, CountersAreReadOnceTheThreadRunsAgain) {
  ThreadTable table;
  StrictWindows windows(/*read_counters=*/true);
  ThreadState& thread = TrackSelf(table);
  windows.Begin(thread);
  EXPECT_TRUE(thread.window.noise_snapshot_due);
  windows.TakeDueSnapshots(table);
  EXPECT_FALSE(thread.window.noise_snapshot_due);
  EXPECT_FALSE(thread.window.summary.thread_name.empty());
  EXPECT_GE(thread.window.summary.cpu, 0);
  windows.End(thread);
}

TEST(StrictWindows, AWindowEndedInTheBatchThatBeganItStillGetsItsName) {
  ThreadTable table;
  StrictWindows windows(/*read_counters=*/true);
  ThreadState& thread = TrackSelf(table);
  windows.Begin(thread);
  windows.End(thread);
  EXPECT_FALSE(thread.window.noise_snapshot_due);
  EXPECT_FALSE(thread.window.summary.thread_name.empty());
  windows.TakeDueSnapshots(table);  // nothing left to take
}

TEST(StrictWindows, RetiredThreadsStayInTheSummary) {
  ThreadTable table([](pid_t tid) -> absl::StatusOr<pid_t> { return 10; });
  StrictWindows windows(/*read_counters=*/false);
  ThreadState& never = table.Track(12);
  windows.Retire(never);  // never strict: not in the summary
  ThreadState& gone = table.Track(11);
  gone.BecomeStrict(PR_DATAPLANE_STRICT);
  windows.Begin(gone);
  windows.Retire(gone);  // exited while strict: its open window counts
  table.Erase(11);
  table.Erase(12);
  RunSummary summary = windows.Summary(table, 0);
  ASSERT_EQ(summary.threads.size(), 1u);
  EXPECT_EQ(summary.threads[0].tid, 11);
  EXPECT_EQ(summary.threads[0].strict_entries, 1);
}

TEST(StrictWindows, EndAllClosesOnlyTheStrictThreadsOfOneProcess) {
  ThreadTable table([](pid_t tid) -> absl::StatusOr<pid_t> { return tid < 20 ? 10 : 20; });
  StrictWindows windows(/*read_counters=*/false);
  for (pid_t tid : {11, 12, 21}) {
    ThreadState& thread = table.Track(tid);
    thread.BecomeStrict(PR_DATAPLANE_STRICT);
    windows.Begin(thread);
    thread.window.since.tv_sec -= 100;  // strict for 100 s already
  }
  table.Find(12)->BecomeNotStrict();
  windows.EndAll(table, 10);
  EXPECT_GE(table.Find(11)->window.summary.strict_seconds, 100.0);
  EXPECT_EQ(table.Find(12)->window.summary.strict_seconds, 0.0);  // not strict
  EXPECT_EQ(table.Find(21)->window.summary.strict_seconds, 0.0);  // another process
}

Violation At(ViolationKind kind, const std::string& function, const std::string& call) {
  Violation v;
  v.kind = kind;
  v.syscall.name = call;
  v.signal.signal_name = call;
  if (!function.empty()) {
    Frame frame;
    frame.function = function;
    v.backtrace.push_back(frame);
  }
  return v;
}

TEST(StrictWindows, CallSitesAreCountedMostFirst) {
  ThreadTable table;
  StrictWindows windows(/*read_counters=*/false);
  windows.CountCallSite(At(ViolationKind::kSyscall, "Once", "write"), 1);
  windows.CountCallSite(At(ViolationKind::kSyscall, "Poll", "getpid"), 1);
  windows.CountCallSite(At(ViolationKind::kSyscall, "Poll", "getpid"), 1);
  windows.CountCallSite(At(ViolationKind::kPageFault, "Poll", "ignored"), 5);
  windows.CountCallSite(At(ViolationKind::kSyscall, "", "getpid"), 1);
  const RunSummary summary = windows.Summary(table, 0);
  ASSERT_EQ(summary.call_sites.size(), 4u);
  EXPECT_EQ(summary.call_sites[0].kind, "page_fault");
  EXPECT_EQ(summary.call_sites[0].call, "");
  EXPECT_EQ(summary.call_sites[0].count, 5);
  EXPECT_EQ(summary.call_sites[1].call, "getpid");
  EXPECT_EQ(summary.call_sites[1].site, "in Poll");
  EXPECT_EQ(summary.call_sites[1].count, 2);
  // Ties keep the order they were first seen in.
  EXPECT_EQ(summary.call_sites[2].call, "write");
  EXPECT_EQ(summary.call_sites[3].site, "?");
}

}  // namespace
}  // namespace dpsupervise
