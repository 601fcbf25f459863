// Adversarial end-to-end tests of the core promise: no kernel entry of a
// strict thread goes unreported, and dpsupervise never harms the program
// (testdata/adversary.cc, testdata/hostile.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/json_records.h"
#include "tests/mechanism_param.h"
#include "tests/run_util.h"
#include "tests/test_files.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;



// A policy of three rules of 100 alternatives each: a large filter.
std::string LargePolicy() {
  std::string text;
  for (const char* syscall : {"write", "read", "ioctl"}) {
    text += std::string(syscall) + ": arg0 == 1000";
    for (int i = 1; i < 100; ++i) text += " || arg0 == " + std::to_string(1000 + i);
    text += "\n";
  }
  return text;
}

// Another thread's exec while the main thread's first strict entry runs:
// the new image must never get the old image's registers (it used to die
// by SIGSEGV at an old address in about a third of the runs).
TEST(Entry, AnExecDuringTheFirstEntryLeavesTheNewImageAlone) {
  for (int run = 0; run < 30; ++run) {
    RunResult r = RunSupervised(
        {"--format=json", "--", TestProgram("adversary"), "exec-during-entry"});
    ASSERT_EQ(r.exit_status, 0) << "run " << run << ": " << Describe(r);
    ASSERT_THAT(r.out, HasSubstr("exec done")) << "run " << run << ": " << Describe(r);
    ASSERT_TRUE(JsonViolations(r.err).empty()) << "run " << run << ": " << Describe(r);
  }
}

// A thread on a small stack of the program's own: the filter image must not
// be written below it (a large policy's filter is bigger than the room left).
TEST(Entry, NeverWritesBelowASmallStack) {
  const std::string policy = TestTmpDir() + "/large.policy";
  WriteTestFile(policy, LargePolicy());
  RunResult check = RunSupervised({"--policy=" + policy, "--check-policy"});
  ASSERT_EQ(check.exit_status, 0) << Describe(check);
  std::smatch size;
  ASSERT_TRUE(std::regex_search(check.out, size, std::regex("strict filter: ([0-9]+) BPF")));
  // The thread has 512 bytes of stack left: the image (8 bytes an instruction)
  // would not fit in it.
  ASSERT_GT(std::stoi(size[1].str()) * 8, 512) << check.out;

  RunResult r = RunSupervised({"--policy=" + policy, "--format=json", "--", TestProgram("adversary"),
                               "small-stack"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("entry=0 canary=intact")) << Describe(r);
}

class VdsoGone : public ::testing::TestWithParam<const char*> {};

// Entry from outside runs seccomp through a syscall instruction of the
// program's: with no usable vDSO, another one is found.
TEST_P(VdsoGone, EntryFromOutsideStillWorks) {
  RunResult r = RunSupervised({"--strict-thread=dp-worker", "--format=json", "--",
                               TestProgram("adversary"), GetParam()},
                              RunOptions{60, "", nullptr});
  ASSERT_FALSE(r.timed_out) << Describe(r);
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("vdso gone"));
  std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << Describe(r);
  EXPECT_EQ(violations[0]["kind"], "syscall");
  EXPECT_EQ(violations[0]["syscall"]["name"], "getpid");
  EXPECT_EQ(violations[0]["thread"], "dp-worker");
}

INSTANTIATE_TEST_SUITE_P(UnmappedOrProtNone, VdsoGone,
                         ::testing::Values("vdso-unmap", "vdso-protnone"),
                         [](const auto& info) {
                           return std::string(info.param) == "vdso-unmap" ? "Unmapped"
                                                                          : "ProtNone";
                         });

// A worker that blocks every signal, as dataplane workers do, must still
// have each page fault reported: SIGTRAP is unblocked while it is strict.
TEST(PageFaults, AreReportedWhileTheThreadBlocksEverySignal) {
  // Every fault reported, not only the first of each pc (--report-limit).
  RunResult r = RunSupervised({"--on-violation=log", "--format=json", "--report-limit=off", "--",
                               TestProgram("adversary"), "sigtrap-blocked"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("faults done"));
  std::vector<Json> violations = JsonViolations(r.err);
  int faults = 0;
  for (const Json& v : violations) faults += v["kind"] == "page_fault" && !v["fault"]["address"].is_null();
  EXPECT_EQ(faults, 16) << Describe(r);
  EXPECT_EQ(violations.size(), 16u) << Describe(r);
}

// A strict thread that blocks SIGTRAP itself: the program sees its own mask,
// and the faults that follow are still reported one by one.
class PageFaultsByMechanism : public BothMechanisms {};

TEST_P(PageFaultsByMechanism, SignalMaskChangesInStrictModeKeepThemVisible) {
  RunResult r = RunSupervised({"--on-violation=log", "--format=json", "--", TestProgram("adversary"),
                               "sigmask-in-strict"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("sees sigtrap blocked=1"));
  int syscalls = 0, faults = 0;
  for (const Json& v : JsonViolations(r.err)) {
    syscalls += v["kind"] == "syscall" && v["syscall"]["name"] == "rt_sigprocmask";
    faults += v["kind"] == "page_fault";
  }
  EXPECT_EQ(syscalls, 2) << Describe(r);
  EXPECT_EQ(faults, 4) << Describe(r);

  // Allowed by the policy: no syscall report, the same view and faults.
  const std::string policy = TestTmpDir() + "/sigmask.policy";
  WriteTestFile(policy, "rt_sigprocmask: 1\n");
  r = RunSupervised({"--policy=" + policy, "--on-violation=log", "--format=json", "--",
                     TestProgram("adversary"), "sigmask-in-strict"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("sees sigtrap blocked=1"));
  std::vector<Json> violations = JsonViolations(r.err);
  EXPECT_EQ(violations.size(), 4u) << Describe(r);
  for (const Json& v : violations) EXPECT_EQ(v["kind"], "page_fault") << v.dump();
}

// A handler whose sa_mask blocks SIGTRAP faults while it runs: the first
// fault is reported when the mask is restored, the others are counted
// (they cannot be reported one by one); none is missing from the total.
TEST(PageFaults, InAHandlerThatBlocksSigtrapAreAllCounted) {
  RunResult r = RunSupervised({"--on-violation=log", "--format=json", "--", TestProgram("adversary"),
                               "handler-masks-sigtrap"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("handler faults done"));
  long faults = 0;
  bool counted_late = false;
  for (const Json& v : JsonViolations(r.err)) {
    if (v["kind"] != "page_fault") continue;
    if (v["note"].is_null()) {
      ++faults;
      continue;
    }
    counted_late = true;
    faults += std::stol(v["note"].get<std::string>());  // "N page fault(s) ..."
  }
  EXPECT_TRUE(counted_late) << Describe(r);
  EXPECT_EQ(faults, 3) << Describe(r);
}

class ProgramFilter : public ::testing::TestWithParam<const char*> {};

// Filters of the program's own (or from outside) that fail, or trace with a
// cookie of ours, a strict thread's syscall: it is still reported.
TEST_P(ProgramFilter, CannotHideAStrictThreadsSyscall) {
  RunResult r = RunSupervised(
      {"--on-violation=log", "--format=json", "--", TestProgram("adversary"), GetParam()});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << Describe(r);
  EXPECT_EQ(violations[0]["syscall"]["name"], "getppid");
}

INSTANTIATE_TEST_SUITE_P(Kinds, ProgramFilter,
                         ::testing::Values("errno-filter", "filter-in-strict",
                                           "trace-filter-reentry"),
                         [](const auto& info) {
                           std::string name = info.param;
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

// The errno filter's own effect is kept: the syscall fails as it would
// without dpsupervise; and the thread is said to be stepped.
TEST(ProgramFilterEffect, IsKeptAndSaid) {
  RunResult r = RunSupervised({"--mechanism=seccomp", "--on-violation=log", "--format=json", "--",
                               TestProgram("adversary"), "errno-filter"});
  EXPECT_THAT(r.out, HasSubstr("getppid=-13")) << Describe(r);
  EXPECT_THAT(JsonMessages(r.err), HasSubstr("its syscalls stop at their entry")) << Describe(r);
}

// A SIGSYS of the program's own filter (SYS_SECCOMP), raised by a syscall
// the policy allows, is the program's, as without dpsupervise; the one
// syscall user dispatch raises never reaches it.
class TrapFilterByMechanism : public BothMechanisms {};

TEST_P(TrapFilterByMechanism, ProgramsOwnSigsysIsDelivered) {
  const std::string dir = MakeTestDir(std::string("trap_filter_") + GetParam());
  WriteTestFile(dir + "/getppid.policy", "getppid: 1\nrt_sigreturn: 1\n@action trap log\n");
  RunResult r = RunSupervised({"--format=json", "-P", dir + "/getppid.policy", "--",
                               TestProgram("adversary"), "trap-filter"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("sigsys_code=1")) << Describe(r);  // SYS_SECCOMP
  std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << Describe(r);
  EXPECT_EQ(violations[0]["kind"], "trap") << Describe(r);
  EXPECT_EQ(violations[0]["signal"]["name"], "SIGSYS") << Describe(r);
}

// A thread that uses syscall user dispatch itself (Wine does) is made strict
// with the injected filter instead, and says so.
TEST(OwnDispatch, FallsBackToTheInjectedFilter) {
  RunResult r = RunSupervised({"--mechanism=dispatch", "--on-violation=log", "--",
                               TestProgram("adversary"), "own-dispatch"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("uses syscall user dispatch itself")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("syscall getppid()")) << Describe(r);
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
}

// A thread that was strict keeps the strict filter: its CLONE_UNTRACED must
// still be caught, or the child would run untraced (its syscalls failing
// with ENOSYS under the filter it inherited).
TEST(Clone, UntracedAfterLeavingStrictModeIsStillTraced) {
  RunResult r = RunSupervised({"--", TestProgram("adversary"), "untraced-clone"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("child=20")) << Describe(r);
}

// A call through the vsyscall page is one kernel entry, one report; the
// signal action cannot rewind it (the kernel would kill the thread).
TEST(Vsyscall, IsOneViolationUnderLog) {
  RunResult r = RunSupervised({"--mechanism=seccomp", "--on-violation=log", "--format=json", "--",
                               TestProgram("adversary"), "vsyscall"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << Describe(r);
  EXPECT_EQ(violations[0]["syscall"]["name"], "gettimeofday");
  EXPECT_THAT(violations[0]["note"].get<std::string>(), HasSubstr("vsyscall"));
}

// The kernel emulates a vsyscall call without looking at syscall user
// dispatch: under dispatch it is the page fault in the vsyscall page that
// tells (docs/limitations.md).
TEST(Vsyscall, UnderDispatchIsOnePageFaultInItsPage) {
  RunResult r = RunSupervised({"--mechanism=dispatch", "--on-violation=log", "--format=json",
                               "--", TestProgram("adversary"), "vsyscall"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << Describe(r);
  EXPECT_EQ(violations[0]["kind"], "page_fault") << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("ffffffffff600")) << Describe(r);
}

TEST(Vsyscall, SignalActionRunsTheHandler) {
  RunResult r = RunSupervised({"--on-violation=signal SIGUSR1", "--format=json", "--",
                               TestProgram("adversary"), "vsyscall"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("vsyscall done, handler ran")) << Describe(r);
  EXPECT_EQ(JsonViolations(r.err).size(), 1u) << Describe(r);
}

TEST(Vsyscall, StopActionLetsTheCallCompleteThenStops) {
  Background bg({Runfile("supervisor/dpsupervise"), "--preflight=off", "--on-violation=stop", "--",
                 TestProgram("adversary"), "vsyscall"});
  ASSERT_TRUE(bg.WaitForStderr("debug it with: gdb -p ")) << bg.err();
  std::smatch match;
  const std::string err = bg.err();
  ASSERT_TRUE(std::regex_search(err, match, std::regex("gdb -p ([0-9]+)")));
  kill(std::stoi(match[1].str()), SIGCONT);
  RunResult r = bg.Wait();
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("vsyscall done")) << Describe(r);
}

DP_INSTANTIATE_BOTH_MECHANISMS(PageFaultsByMechanism);
DP_INSTANTIATE_BOTH_MECHANISMS(TrapFilterByMechanism);

}  // namespace
}  // namespace dptest
