// The supervisor is never the weak point: its own signals, its death,
// daemons, floods, and programs that try to get around it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <regex>
#include <string>

#include "tests/run_util.h"
#include "tests/test_files.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;

bool Exists(pid_t pid) {
  struct stat st;
  // A zombie still has a /proc entry; its state says Z.
  if (stat(("/proc/" + std::to_string(pid)).c_str(), &st) != 0) return false;
  RunResult state = dptest::Run({"/bin/sh", "-c", "grep -h State: /proc/" + std::to_string(pid) +
                                              "/status 2>/dev/null"});
  return state.out.find("Z (zombie)") == std::string::npos && !state.out.empty();
}

// Polls (no fixed sleep) until `pid` is gone, up to 20 s.
bool GoneWithin20s(pid_t pid) {
  for (int i = 0; i < 2000; ++i) {
    if (!Exists(pid)) return true;
    timespec ts{0, 10 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  return false;
}

class ForwardedSignal : public ::testing::TestWithParam<int> {};

TEST_P(ForwardedSignal, ReachesTheProgramsHandlerAndItsStatusIsOurs) {
  const int sig = GetParam();
  Background bg({Runfile("supervisor/dpsupervise"), "--", TestProgram("lifecycle"), "handler"});
  ASSERT_TRUE(bg.WaitForStdout("ready")) << bg.out() << bg.err();
  ASSERT_EQ(kill(bg.pid(), sig), 0);
  // The program's handler exits 7; its forked child is left running
  // (still supervised), so end it to let dpsupervise finish.
  ASSERT_TRUE(bg.WaitForStdout("got ")) << bg.out() << bg.err();
  std::smatch match;
  const std::string out = bg.out();
  ASSERT_TRUE(std::regex_search(out, match, std::regex("child=([0-9]+)")));
  kill(std::stoi(match[1].str()), SIGKILL);
  RunResult r = bg.Wait();
  EXPECT_EQ(r.exit_status, 7) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr(std::string("got ") + sigabbrev_np(sig)));
}

INSTANTIATE_TEST_SUITE_P(IntTermHup, ForwardedSignal, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const auto& info) { return std::string(sigabbrev_np(info.param)); });

TEST(Lifecycle, KillingTheSupervisorKillsTheWholeProgram) {
  Background bg({Runfile("supervisor/dpsupervise"), "--", TestProgram("lifecycle"), "handler"});
  ASSERT_TRUE(bg.WaitForStdout("ready")) << bg.out() << bg.err();
  std::smatch match;
  const std::string out = bg.out();
  ASSERT_TRUE(std::regex_search(out, match, std::regex("pid=([0-9]+) child=([0-9]+)")));
  const pid_t program = std::stoi(match[1].str());
  const pid_t child = std::stoi(match[2].str());
  ASSERT_EQ(kill(bg.pid(), SIGKILL), 0);
  bg.Wait();
  // PTRACE_O_EXITKILL: every traced task dies with its tracer.
  EXPECT_TRUE(GoneWithin20s(program));
  EXPECT_TRUE(GoneWithin20s(child));
}

TEST(Lifecycle, ADaemonStaysSupervisedAndIsWaitedFor) {
  RunResult r = RunSupervised({"--", TestProgram("lifecycle"), "daemon"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  // dpsupervise waited for the daemon (its stdout is our pipe).
  EXPECT_THAT(r.out, HasSubstr("daemon done"));
}

TEST(Lifecycle, ThreadAndSignalFloodsAreHandled) {
  RunOptions options;
  options.timeout_seconds = 120;
  RunResult r = RunSupervised({"--preflight=off", "--", TestProgram("lifecycle"), "flood"}, options);
  ASSERT_FALSE(r.timed_out) << Describe(r);
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("signals=5000"));
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("thread:  " + std::to_string(FindLabeledNumber(r.out, "violator_tid")) + " "));
}

TEST(Lifecycle, ReportFileHoldsTheReportWhenTheProgramIsKilled) {
  const std::string path = dptest::TestTmpDir() + "/killed.txt";
  RunResult r = RunSupervised({"-o", path, "--", TestProgram("lifecycle"), "flood"});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  RunResult cat = dptest::Run({"/bin/cat", path});
  EXPECT_EQ(CountReports(cat.out), 1) << cat.out;
  EXPECT_THAT(cat.out, HasSubstr("action:  kill"));
}

TEST(Hostile, OwnSeccompFiltersBehaveAsWithoutSupervision) {
  RunResult native = dptest::Run({TestProgram("hostile"), "seccomp"});
  RunResult r = RunSupervised({"--preflight=off", "--", TestProgram("hostile"), "seccomp"});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  // RET_TRACE with no tracer of its own: ENOSYS (38), as natively.
  EXPECT_THAT(r.out, HasSubstr("filter=0 getppid=-1 errno=38 getuid=-1 errno=13"));
  EXPECT_THAT(native.out, HasSubstr("filter=0 getppid=-1 errno=38 getuid=-1 errno=13"));
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("syscall getpid()"));
}

TEST(Hostile, PtraceFromInsideIsRefused) {
  RunResult r = RunSupervised({"--preflight=off", "--", TestProgram("hostile"), "ptrace"});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("traceme=-1 errno=1"));  // EPERM: already traced
  EXPECT_THAT(r.out, HasSubstr("attach=-1 errno=1"));
  EXPECT_THAT(r.out, HasSubstr("seize=-1 errno=1"));
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
}

TEST(Hostile, PersonalityChangesDoNotMatter) {
  RunResult r = RunSupervised({"--preflight=off", "--", TestProgram("hostile"), "personality"});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("after=0x440000"));
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("thread:  " + std::to_string(FindLabeledNumber(r.out, "violator_tid")) + " "));
}

}  // namespace
}  // namespace dptest
