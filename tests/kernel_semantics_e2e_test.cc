// dpsupervise behaves as the kernel patches did (docs/abi.md): the kill
// action ends the violating process only, one kernel entry is one
// violation, signals the kernel would discard are no violations, `deliver`
// lets a thread's own fault signal through, placement refusals are EINVAL;
// and the task-isolation selftest's cases, ported to our ABI
// (testdata/isolation_selftest.cc), end as they did under the kernel patch.
#include <signal.h>

#include <regex>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/json_records.h"
#include "tests/run_util.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Policy(const std::string& name) { return Runfile("testdata/policies/" + name); }

std::vector<std::string> Kinds(const std::vector<Json>& violations) {
  std::vector<std::string> kinds;
  for (const Json& v : violations) kinds.push_back(v["kind"].get<std::string>());
  return kinds;
}

// The selftest port, as under the kernel patch with `@action trap deliver`
// (test_segv's handler runs). Interruptions of a strict thread (an IPI from
// another thread's munmap, another process scheduled on its CPU) are not
// violations here: those two cases end with the child's own exit 1, and
// belong to noise attribution.
TEST(IsolationSelftest, EveryCaseEndsAsUnderTheKernelPatch) {
  RunResult r = RunSupervised({"--preflight=off", "-P", Policy("trap_deliver.policy"),
                               "--format=json", "--", TestProgram("isolation_selftest")});
  EXPECT_THAT(r.out, HasSubstr("test_off: OK\n"));
  EXPECT_THAT(r.out, HasSubstr("received SIGSEGV in the handler\ntest_segv: OK\n"));
  EXPECT_THAT(r.out, HasSubstr("test_fault: OK\n"));
  EXPECT_THAT(r.out, HasSubstr("test_fault (SIGUSR1): OK\n"));
  EXPECT_THAT(r.out, HasSubstr("test_syscall: OK\n"));
  EXPECT_THAT(r.out, HasSubstr("test_syscall (SIGUSR1): OK\n"));
  EXPECT_THAT(r.out, HasSubstr("test_munmap: FAIL (exit 1)\n"));
  EXPECT_THAT(r.out, HasSubstr("test_munmap (SIGUSR1): FAIL (exit 1)\n"));
  EXPECT_THAT(r.out, HasSubstr("test_schedule: FAIL (exit 1)\n"));
  EXPECT_THAT(r.out, HasSubstr("test_schedule (SIGUSR1): FAIL (exit 1)\n"));
  // The harness itself is never killed: its status is dpsupervise's.
  EXPECT_EQ(r.exit_status, 1) << Describe(r);
  const std::vector<Json> violations = JsonViolations(r.err);
  EXPECT_EQ(Kinds(violations), (std::vector<std::string>{"trap", "page_fault", "page_fault",
                                                          "syscall", "syscall"}))
      << r.err;
  ASSERT_EQ(violations.size(), 5u);
  EXPECT_EQ(violations[0]["action"], "deliver");
  EXPECT_EQ(violations[1]["action"], "kill");
  EXPECT_EQ(violations[2]["action"], "signal SIGUSR1");
}

TEST(IsolationSelftest, WithoutDeliverTheSegvHandlerNeverRuns) {
  RunResult r = RunSupervised({"--preflight=off", "--format=json", "--",
                               TestProgram("isolation_selftest"), "test_segv"});
  EXPECT_THAT(r.out, HasSubstr("test_segv: FAIL (killed by KILL)\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("received SIGSEGV")));
  EXPECT_EQ(r.exit_status, 1) << Describe(r);
}

TEST(IsolationSelftest, AnUnpinnedEntryIsEinvalUnderEnforce) {
  RunResult enforced = RunSupervised(
      {"--preflight=enforce", "--", TestProgram("isolation_selftest"), "prctl_unpinned"});
  EXPECT_THAT(enforced.out, HasSubstr("prctl_unpinned: OK\n")) << Describe(enforced);
  EXPECT_THAT(enforced.err, HasSubstr("strict entry refused (--preflight=enforce)"));
  // Only enforcement refuses it: with warnings the thread enters.
  RunResult warned = RunSupervised(
      {"--preflight=warn", "--", TestProgram("isolation_selftest"), "prctl_unpinned"});
  EXPECT_THAT(warned.out, HasSubstr("prctl_unpinned: FAIL (entered)\n")) << Describe(warned);
}

TEST(KillScope, KillAllEndsTheWholeProgram) {
  RunResult r = RunSupervised({"--on-violation=kill-all", "--format=json", "--",
                               TestProgram("processes"), "fork", TestProgram("strict_violator")});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.out, Not(HasSubstr("parent survived")));
  const std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << r.err;
  EXPECT_EQ(violations[0]["action"], "kill-all");
  EXPECT_EQ(violations[0]["action_detail"], "kill-all (SIGKILL to the whole program)");
}

TEST(KillScope, KillSaysWhichProcessItKilled) {
  RunResult r = RunSupervised({"--format=json", "--", TestProgram("processes"), "fork",
                               TestProgram("strict_violator")});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  const std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << r.err;
  const std::string child = std::to_string(violations[0]["pid"].get<int>());
  EXPECT_EQ(violations[0]["action_detail"], "kill (SIGKILL to process " + child + ")");
  EXPECT_THAT(r.out, HasSubstr("child_pid=" + child));
}

// A fault that ends in SIGSEGV or SIGBUS is seen twice (the page-fault
// event's SIGTRAP, then the signal) but is one kernel entry: one trap.
class OneEntryOneViolation : public ::testing::TestWithParam<std::pair<const char*, int>> {};

TEST_P(OneEntryOneViolation, UnderLog) {
  const auto [mode, exit_status] = GetParam();
  RunResult r = RunSupervised({"--preflight=off", "--on-violation=log", "--format=json", "--",
                               TestProgram("traps"), mode});
  EXPECT_EQ(r.exit_status, exit_status) << Describe(r);
  EXPECT_EQ(Kinds(JsonViolations(r.err)), std::vector<std::string>{"trap"}) << r.err;
}

TEST_P(OneEntryOneViolation, WhenOnlyTheTrapIsLogged) {
  // The page fault's own action (kill) must not strike a second time.
  const auto [mode, exit_status] = GetParam();
  RunResult r = RunSupervised({"--preflight=off", "-P", Policy("trap_log.policy"),
                               "--format=json", "--", TestProgram("traps"), mode});
  EXPECT_EQ(r.exit_status, exit_status) << Describe(r);
  EXPECT_EQ(Kinds(JsonViolations(r.err)), std::vector<std::string>{"trap"}) << r.err;
}

TEST_P(OneEntryOneViolation, WhenTheThreadGetsItsSignal) {
  // `signal` ends strict mode at once: the fault's SIGTRAP, still on its
  // way, is not counted as a page fault nobody reported.
  const auto [mode, exit_status] = GetParam();
  RunResult r = RunSupervised({"--preflight=off", "--on-violation=signal SIGUSR1",
                               "--format=json", "--", TestProgram("traps"), mode});
  EXPECT_EQ(r.exit_status, 128 + SIGUSR1) << Describe(r);
  EXPECT_EQ(Kinds(JsonViolations(r.err)), std::vector<std::string>{"trap"}) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Traps, OneEntryOneViolation,
    ::testing::Values(std::make_pair("segv", 128 + SIGSEGV), std::make_pair("bus", 128 + SIGBUS),
                      std::make_pair("ill", 128 + SIGILL), std::make_pair("fpe", 128 + SIGFPE),
                      std::make_pair("trap", 128 + SIGTRAP)),
    [](const auto& info) { return std::string(info.param.first); });

TEST(OneEntry, AForeignAbiSyscallIsOneTrap) {
  // int 0x80 on a kernel without IA32 emulation: a SIGSEGV, no syscall.
  RunResult r = RunSupervised({"--preflight=off", "--on-violation=log", "--format=json", "--",
                               TestProgram("foreign_abi"), "int80"});
  const std::vector<std::string> kinds = Kinds(JsonViolations(r.err));
  ASSERT_EQ(kinds.size(), 1u) << r.err;
  EXPECT_TRUE(kinds[0] == "trap" || kinds[0] == "syscall") << r.err;
}

// A stop on a fault: the process stays stopped for the debugger (the
// fault's SIGTRAP would kill it once detached), and when continued it
// faults again, as it would have without dpsupervise.
TEST(OneEntry, StopOnAFaultLeavesTheProcessStopped) {
  Background bg({Runfile("supervisor/dpsupervise"), "--preflight=off", "--on-violation=stop",
                 "--", TestProgram("traps"), "segv"});
  ASSERT_TRUE(bg.WaitForStderr("dpsupervise exits when it ends")) << bg.err();
  std::smatch match;
  ASSERT_TRUE(std::regex_search(bg.err(), match, std::regex("kill -CONT ([0-9]+)"))) << bg.err();
  const std::string pid = match[1];
  RunResult state =
      dptest::Run({"/bin/sh", "-c", "grep -h State: /proc/" + pid + "/task/*/status"});
  EXPECT_THAT(state.out, HasSubstr("T (stopped)")) << state.out;
  EXPECT_THAT(bg.err(), HasSubstr("the violating thread is LWP "));
  kill(std::stoi(pid), SIGCONT);
  EXPECT_EQ(bg.Wait().exit_status, 128 + SIGSEGV);
}

TEST(DiscardedSignals, AreNotViolationsAndAreCounted) {
  RunResult r = RunSupervised(
      {"--preflight=off", "--format=json", "--", TestProgram("signals"), "ignored"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("sent 4 ignored signals"));
  EXPECT_TRUE(JsonViolations(r.err).empty()) << r.err;
  const std::vector<Json> summary = JsonRecords(r.err, "summary");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary[0]["suppressed_signals"], 4);
  EXPECT_EQ(summary[0]["threads"][0]["suppressed_signals"], 4);
}

TEST(Deliver, LetsTheSentSignalReachItsHandler) {
  // A SIGUSR1 sent to a strict thread, delivered: the thread leaves strict
  // mode and runs the program's handler, then ends.
  RunResult r = RunSupervised({"--preflight=off", "-P", Policy("signal_deliver.policy"),
                               "--format=json", "--", TestProgram("signals"), "child"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("worker handled SIGUSR1"));
  const std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << r.err;
  EXPECT_EQ(violations[0]["kind"], "signal");
  EXPECT_EQ(violations[0]["action"], "deliver");
}

}  // namespace
}  // namespace dptest
