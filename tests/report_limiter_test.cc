// Unit tests of ReportLimiter (monitor/report_limiter.h): which identical
// violations reach the reports, and what is said of the others.
#include "supervisor/monitor/report_limiter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dpsupervise {
namespace {

constexpr int64_t kMs = 1000 * 1000;

// What reached the reports.
class Recorder : public Notify {
 public:
  void EventViolation(const Violation& v) override { violations.push_back(v); }
  void EventSuppressed(const SuppressedReports& s) override { suppressed.push_back(s); }
  void EventFinished(const RunSummary&) override { finished = true; }
  std::vector<Violation> violations;
  std::vector<SuppressedReports> suppressed;
  bool finished = false;
};

Violation Getpid(pid_t tid, int64_t time_ns) {
  Violation v;
  v.kind = ViolationKind::kSyscall;
  v.pid = 100;
  v.tid = tid;
  v.thread_name = "worker";
  v.syscall.nr = 39;
  v.syscall.name = "getpid";
  v.time_ns = time_ns;
  return v;
}

TEST(ReportLimiter, BurstWholeThenOneLinePerIntervalThenTheRestAtTheEnd) {
  Recorder reports;
  ReportLimiter limiter(&reports, ReportLimit{});  // 5/1s
  for (int i = 0; i < 12; ++i) limiter.EventViolation(Getpid(101, i * 300 * kMs));
  ASSERT_EQ(reports.violations.size(), 5u);
  // The 9th (2.4 s) comes 1.2 s after the last report (the 5th, 1.2 s).
  ASSERT_EQ(reports.suppressed.size(), 1u);
  EXPECT_EQ(reports.suppressed[0].suppressed, 4);
  EXPECT_EQ(reports.suppressed[0].total, 9);
  EXPECT_EQ(reports.suppressed[0].site, "getpid");
  EXPECT_EQ(reports.suppressed[0].tid, 101);
  limiter.EventFinished(RunSummary{});
  ASSERT_EQ(reports.suppressed.size(), 2u);
  EXPECT_EQ(reports.suppressed[1].suppressed, 3);
  EXPECT_EQ(reports.suppressed[1].total, 12);
  EXPECT_TRUE(reports.finished);
}

// In a NotifyList, the held-back counts go out before any listener's
// end-of-run output (the noise summary precedes the limiter in main).
TEST(ReportLimiter, HeldBackCountsComeBeforeEveryEndOfRunSummary) {
  std::vector<std::string> order;
  class Summariser : public Notify {
   public:
    explicit Summariser(std::vector<std::string>* order) : order_(order) {}
    void EventFinished(const RunSummary&) override { order_->push_back("noise summary"); }
    std::vector<std::string>* order_;
  } noise(&order);
  class Reports : public Notify {
   public:
    explicit Reports(std::vector<std::string>* order) : order_(order) {}
    void EventSuppressed(const SuppressedReports&) override { order_->push_back("held back"); }
    void EventFinished(const RunSummary&) override { order_->push_back("summary"); }
    std::vector<std::string>* order_;
  } reports(&order);
  ReportLimiter limiter(&reports, ReportLimit{});
  NotifyList list({&noise, &limiter});
  for (int i = 0; i < 7; ++i) list.EventViolation(Getpid(101, i * kMs));
  list.EventFinished(RunSummary{});
  EXPECT_THAT(order, ::testing::ElementsAre("held back", "noise summary", "summary"));
}

TEST(ReportLimiter, SeriesAreByThreadKindAndSite) {
  Recorder reports;
  ReportLimit limit;
  limit.burst = 1;
  ReportLimiter limiter(&reports, limit);
  Violation other_call = Getpid(101, 0);
  other_call.syscall.nr = 110;
  Violation fault = Getpid(101, 0);
  fault.kind = ViolationKind::kPageFault;
  fault.regs.rip = 0x401000;
  Violation other_pc = fault;
  other_pc.regs.rip = 0x401010;
  for (const Violation& v : {Getpid(101, 0), Getpid(102, 0), other_call, fault, other_pc}) {
    limiter.EventViolation(v);
  }
  EXPECT_EQ(reports.violations.size(), 5u);
  limiter.EventViolation(fault);
  EXPECT_EQ(reports.violations.size(), 5u);
  limiter.EventFinished(RunSummary{});
  ASSERT_EQ(reports.suppressed.size(), 1u);
  EXPECT_EQ(reports.suppressed[0].site, "pc 0x401000");
}

TEST(ReportLimiter, OffPassesEveryViolation) {
  Recorder reports;
  ReportLimit off;
  off.enabled = false;
  ReportLimiter limiter(&reports, off);
  for (int i = 0; i < 50; ++i) limiter.EventViolation(Getpid(101, 0));
  limiter.EventFinished(RunSummary{});
  EXPECT_EQ(reports.violations.size(), 50u);
  EXPECT_TRUE(reports.suppressed.empty());
}

}  // namespace
}  // namespace dpsupervise
