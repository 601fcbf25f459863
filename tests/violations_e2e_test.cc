// End-to-end tests of detection: every kind of kernel entry by a strict
// thread, foreign ABIs, and every way of creating tasks or replacing the
// program. Each runs the real dpsupervise on a program from testdata/.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/json_records.h"
#include "tests/mechanism_param.h"
#include "tests/run_util.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Tid(const RunResult& r, const std::string& label) {
  return std::to_string(FindLabeledNumber(r.out, label));
}

TEST(PageFaults, FreshPageWriteIsReportedWithItsAddress) {
  RunResult r = RunSupervised({"--", TestProgram("page_fault"), "fresh"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  const size_t at = r.out.find("target=0x");
  ASSERT_NE(at, std::string::npos) << Describe(r);
  const std::string target = r.out.substr(at + 7, r.out.find('\n', at) - at - 7);
  EXPECT_THAT(r.err, HasSubstr("strict mode violated by page fault at " + target)) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("kind:    page_fault"));
  EXPECT_THAT(r.err, HasSubstr("access:  unknown"));
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
  EXPECT_THAT(r.out, Not(HasSubstr("worker done")));
}

TEST(PageFaults, AGlobalArraysPageIsNamedWithItsMappingAndACause) {
  RunResult r =
      RunSupervised({"--preflight=off", "--format=json", "--", TestProgram("page_fault"), "bss"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  const std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << r.err;
  const Json& context = violations[0]["fault"]["context"];
  ASSERT_TRUE(context.is_object()) << violations[0].dump();
  // .bss past the executable's file pages is anonymous memory.
  EXPECT_EQ(context["mapping"], "anonymous") << context.dump();
  EXPECT_EQ(context["symbol"], "g_table") << context.dump();
  EXPECT_EQ(context["symbol_offset"], 0x20010) << context.dump();
  EXPECT_THAT(context["hint"].get<std::string>(), HasSubstr("first touch of anonymous memory"));
}

TEST(PageFaults, AnUnmappedAddressSaysSo) {
  RunResult r = RunSupervised(
      {"--preflight=off", "--format=json", "--", TestProgram("traps"), "segv"});
  const std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << r.err;
  const Json& context = violations[0]["signal"]["fault_context"];
  EXPECT_EQ(context["mapping"], "unmapped") << violations[0].dump();
  EXPECT_TRUE(context["offset"].is_null());
}

TEST(PageFaults, PrefaultedLockedMemoryRunsClean) {
  RunResult r = RunSupervised({"--", TestProgram("page_fault"), "prefaulted"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("worker done"));
  EXPECT_EQ(CountReports(r.err), 0) << Describe(r);
}

struct TrapCase {
  const char* mode;
  const char* signal;
  const char* code;
};

class Traps : public ::testing::TestWithParam<TrapCase> {};

TEST_P(Traps, AreReportedWithSignalAndCode) {
  const TrapCase& c = GetParam();
  RunResult r = RunSupervised({"--", TestProgram("traps"), c.mode});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(std::string("strict mode violated by trap ") + c.signal))
      << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(c.code)) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("thread:  " + Tid(r, "worker_tid") + " "));
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
}

INSTANTIATE_TEST_SUITE_P(AllTraps, Traps,
                         ::testing::Values(TrapCase{"segv", "SIGSEGV", "SEGV_MAPERR"},
                                           TrapCase{"ill", "SIGILL", "ILL_ILLOPN"},
                                           TrapCase{"fpe", "SIGFPE", "FPE_INTDIV"},
                                           TrapCase{"trap", "SIGTRAP", "SI_KERNEL"},
                                           TrapCase{"bus", "SIGBUS", "BUS_ADRERR"}),
                         [](const auto& info) { return std::string(info.param.mode); });

TEST(Traps, SegvReportsTheFaultAddress) {
  RunResult r = RunSupervised({"--", TestProgram("traps"), "segv"});
  EXPECT_THAT(r.err, HasSubstr("trap SIGSEGV (SEGV_MAPERR) at 0x10")) << Describe(r);
}

TEST(Signals, FromAnotherProcessNamesTheSender) {
  RunResult r = RunSupervised({"--", TestProgram("signals"), "child"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  const std::string sender = Tid(r, "sender_pid");
  EXPECT_THAT(r.err, HasSubstr("strict mode violated by signal SIGUSR1 from pid " + sender +
                               " uid " + std::to_string(getuid())))
      << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("thread:  " + Tid(r, "worker_tid") + " "));
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
}

TEST(Signals, FromATimerAimedAtTheThread) {
  RunResult r = RunSupervised({"--", TestProgram("signals"), "timer"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("strict mode violated by signal SIGALRM")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("SI_TIMER"));
}

TEST(Signals, ToNonStrictThreadsPassUntouched) {
  RunResult r = RunSupervised({"--", TestProgram("signals"), "nonstrict"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("main handled SIGUSR1"));
  EXPECT_EQ(CountReports(r.err), 0) << Describe(r);
}

class ForeignAbiByMechanism : public BothMechanisms {};

TEST_P(ForeignAbiByMechanism, Int80FromStrictThreadIsReportedAsX86_32) {
  RunResult r = RunSupervised({"--", TestProgram("foreign_abi"), "int80"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  // This kernel has IA32 emulation: seccomp sees the call with the i386
  // table. Without it the kernel raises SIGSEGV, reported as "int 0x80".
  EXPECT_THAT(r.err, ::testing::AnyOf(HasSubstr("syscall [x86-32] getpid("),
                                      HasSubstr("int 0x80")))
      << Describe(r);
  EXPECT_EQ(CountReports(r.err), 1);
}

TEST_P(ForeignAbiByMechanism, X32FromStrictThreadIsReported) {
  RunResult r = RunSupervised({"--", TestProgram("foreign_abi"), "x32"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("syscall [x32] getpid(")) << Describe(r);
  // As many arguments as getpid takes: none.
  EXPECT_THAT(r.err, HasSubstr("syscall [x32] getpid()")) << Describe(r);
}

// syscall(-1) has every bit set, __X32_SYSCALL_BIT included, but the kernel
// takes it as the x86-64 "no syscall" number: an x86-64 syscall with no
// name, six raw arguments, named as strace names unknown numbers.
TEST_P(ForeignAbiByMechanism, SyscallMinusOneIsAnUnknownX86_64Syscall) {
  RunResult r = RunSupervised({"--format=json", "--", TestProgram("foreign_abi"), "minus1"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(R"("name":"syscall_0xffffffffffffffff")")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(R"("abi":"x86-64")")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("\"call\":\"syscall_0xffffffffffffffff(0x")) << Describe(r);
  EXPECT_THAT(r.err, Not(HasSubstr("x32"))) << Describe(r);
  RunResult text = RunSupervised({"--", TestProgram("foreign_abi"), "minus1"});
  EXPECT_THAT(text.err, HasSubstr("strict mode violated by syscall syscall_0xffffffffffffffff("))
      << Describe(text);
  EXPECT_THAT(text.err, HasSubstr("[x86-64 nr ")) << Describe(text);
  // Not strict: ENOSYS, as without dpsupervise.
  r = RunSupervised({"--", TestProgram("foreign_abi"), "minus1-nonstrict"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("result=-38"));
  EXPECT_EQ(CountReports(r.err), 0);
}

TEST(ForeignAbi, NonStrictThreadsBehaveAsWithoutSupervision) {
  RunResult native = dptest::Run({TestProgram("foreign_abi"), "int80-nonstrict"});
  RunResult r = RunSupervised({"--", TestProgram("foreign_abi"), "int80-nonstrict"});
  // Without IA32 emulation int 0x80 raises SIGSEGV, natively too (139).
  EXPECT_EQ(r.exit_status, native.exit_status) << Describe(r) << "\nnative: " << Describe(native);
  // Same outcome as native: the pid when IA32 emulation exists.
  EXPECT_EQ(native.out.find("result=-") == std::string::npos,
            r.out.find("result=-") == std::string::npos)
      << native.out << " vs " << r.out;
  r = RunSupervised({"--", TestProgram("foreign_abi"), "x32-nonstrict"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("result=-38"));  // ENOSYS: no x32 here
  EXPECT_EQ(CountReports(r.err), 0);
}

class Processes : public ::testing::TestWithParam<const char*> {};

TEST_P(Processes, ChildStaysSupervisedAndIsBlamedByPid) {
  RunResult r = RunSupervised(
      {"--", TestProgram("processes"), GetParam(), TestProgram("strict_violator")});
  const std::string mode = GetParam();
  if (mode == "exec-thread") {
    // The violating program replaced the main process: it is killed.
    ASSERT_EQ(r.exit_status, 137) << Describe(r);
  } else {
    // kill ends the violating process only, as the kernel patch did: the
    // parent sees its child killed by SIGKILL and goes on.
    ASSERT_EQ(r.exit_status, 0) << Describe(r);
    EXPECT_THAT(r.out, HasSubstr("child_killed_by=9\n"));
    EXPECT_THAT(r.out, HasSubstr("parent survived\n"));
  }
  const bool execs = mode == "vfork" || mode == "exec-thread";
  const std::string pid = Tid(r, execs ? "violator_pid" : "child_pid");
  const std::string tid = Tid(r, execs ? "violator_tid" : "child_tid");
  ASSERT_NE(pid, "-1") << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("thread:  " + tid + " ")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("process: " + pid + " ")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("syscall getpid()"));
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
  if (mode == "exec-thread") {
    // The leader swap: the exec'ing thread takes the process's pid.
    EXPECT_EQ(pid, Tid(r, "parent_pid"));
  }
}

INSTANTIATE_TEST_SUITE_P(AllWays, Processes,
                         ::testing::Values("fork", "vfork", "clone-process", "untraced",
                                           "exec-thread"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

class ProcessesByMechanism : public BothMechanisms {};

TEST_P(ProcessesByMechanism, Clone3IsAnsweredEnosysAndThreadsStillStart) {
  RunResult r = RunSupervised({"--", TestProgram("processes"), "clone3"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("clone3=ENOSYS thread_ok=1"));
}

TEST_P(ProcessesByMechanism, ChildOfStrictThreadInheritsFilterButIsNotStrict) {
  RunResult r =
      RunSupervised({"--on-violation=log", "--", TestProgram("processes"), "strict-fork"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("child getpid ok=1 flags=0"));
  EXPECT_THAT(r.out, HasSubstr("child status=0"));
  // The fork itself is the one syscall reported; the child's getpid is not.
  // (The parent's later writes to now copy-on-write pages are page faults,
  // reported too: that is what a fork costs a strict thread.)
  EXPECT_THAT(r.err, HasSubstr("syscall clone("));
  EXPECT_EQ(r.err.find("syscall getpid"), std::string::npos) << Describe(r);
  size_t syscall_reports = 0;
  for (size_t at = r.err.find("violated by syscall"); at != std::string::npos;
       at = r.err.find("violated by syscall", at + 1)) {
    ++syscall_reports;
  }
  EXPECT_EQ(syscall_reports, 1u) << Describe(r);
}

TEST(StrictExec, StaticProgramWithNoKernelEntryRunsClean) {
  RunResult r = RunSupervised({"--strict=exec", "--", TestProgram("nolibc_compute")});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_EQ(CountReports(r.err), 0) << Describe(r);
}

TEST(StrictExec, FirstSyscallIsAViolation) {
  RunResult r = RunSupervised({"--strict=exec", "--", TestProgram("nolibc_getpid")});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("syscall getpid()"));
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
}

TEST(StrictExec, DynamicLoadingShowsUpUnderLog) {
  RunResult r = RunSupervised({"--strict=exec", "--on-violation=log", "--", "/bin/true"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  // The dynamic loader enters the kernel long before main.
  EXPECT_GT(CountReports(r.err), 3) << Describe(r);
  EXPECT_THAT(r.err, ::testing::AnyOf(HasSubstr("syscall brk("), HasSubstr("syscall mmap("),
                                      HasSubstr("syscall openat(")));
}

class LeaveStrictByMechanism : public BothMechanisms {};

TEST_P(LeaveStrictByMechanism, DisarmsPageFaultAndSignalDetection) {
  RunResult r = RunSupervised({"--", TestProgram("leave_strict")});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("after leave: fault ok, signal ok"));
  EXPECT_EQ(CountReports(r.err), 0) << Describe(r);
  // Dispatch enters with one ptrace request: nothing injected, the base
  // filter is the only one; the seccomp mechanism left the strict filter.
  EXPECT_THAT(r.out, HasSubstr(dispatch() ? "seccomp_filters=1" : "seccomp_filters=2"))
      << Describe(r);
}

class ThreadStormByMechanism : public BothMechanisms {};

TEST_P(ThreadStormByMechanism, ExactlyOneReportForTheRightThread) {
  RunOptions options;
  options.timeout_seconds = 120;
  RunResult r = RunSupervised({"--", TestProgram("thread_storm")}, options);
  ASSERT_FALSE(r.timed_out) << Describe(r);
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("thread:  " + Tid(r, "violator_tid") + " ")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("syscall getpid()"));
}

DP_INSTANTIATE_BOTH_MECHANISMS(ForeignAbiByMechanism);
DP_INSTANTIATE_BOTH_MECHANISMS(ProcessesByMechanism);
DP_INSTANTIATE_BOTH_MECHANISMS(LeaveStrictByMechanism);
DP_INSTANTIATE_BOTH_MECHANISMS(ThreadStormByMechanism);

}  // namespace
}  // namespace dptest
