// End-to-end tests of the walking skeleton: the real dpsupervise binary on
// real programs from testdata/.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/run_util.h"
#include "tests/test_files.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;

TEST(BasicE2E, StrictThreadComputesAndExitsCleanly) {
  RunResult r = RunSupervised({"--", TestProgram("strict_compute")});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("supervised=1"));
  // PR_GET_DATAPLANE while strict reports STRICT (2); after leaving, 0.
  EXPECT_THAT(r.out, HasSubstr("status_while_strict=2 status_after=0"));
  EXPECT_EQ(r.err.find("violated"), std::string::npos) << Describe(r);
}

TEST(BasicE2E, StrictGetpidIsReportedAndKillsTheProgram) {
  RunResult r = RunSupervised({"--", TestProgram("strict_getpid")});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  const long tid = FindLabeledNumber(r.out, "worker_tid");
  ASSERT_GT(tid, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("/" + std::to_string(tid) + " (cpu "));
  EXPECT_THAT(r.err, HasSubstr("strict mode violated by syscall getpid()"));
  EXPECT_THAT(r.err, HasSubstr("thread:  " + std::to_string(tid)));
  EXPECT_THAT(r.err, HasSubstr("[x86-64 nr 39]"));
  EXPECT_THAT(r.err, HasSubstr("ORIG_RAX: 0000000000000027"));
  EXPECT_THAT(r.err, HasSubstr("action:  kill"));
  // The syscall never ran and the thread never went on.
  EXPECT_EQ(r.out.find("survived"), std::string::npos) << Describe(r);
}

TEST(BasicE2E, OnlyTheViolatingWorkerIsBlamedWhileMainMakesSyscalls) {
  RunResult r = RunSupervised({"--", TestProgram("busy_main_violating_worker")});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  const long worker = FindLabeledNumber(r.out, "worker_tid");
  const long main_tid = FindLabeledNumber(r.out, "main_tid");
  ASSERT_GT(worker, 0) << Describe(r);
  ASSERT_NE(worker, main_tid);
  EXPECT_THAT(r.err, HasSubstr("thread:  " + std::to_string(worker) + " "));
  EXPECT_THAT(r.err, HasSubstr("process: " + std::to_string(main_tid) + " "));
  EXPECT_THAT(r.err, HasSubstr("syscall getpid()"));
  // Exactly one report.
  size_t first = r.err.find("strict mode violated");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(r.err.find("strict mode violated", first + 1), std::string::npos) << Describe(r);
}

TEST(BasicE2E, LeavingStrictModeRestoresNormalSyscalls) {
  RunResult r = RunSupervised({"--", TestProgram("leave_strict")});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  // Flags round-trip, including PR_DATAPLANE_SIG(10) = 0xa00 | STRICT.
  EXPECT_THAT(r.out, HasSubstr("round=1 flags_while_strict=0xa02 flags_after=0x0 pid_ok=1"));
  EXPECT_THAT(r.out, HasSubstr("round=2 flags_while_strict=0xa02 flags_after=0x0 pid_ok=1"));
  EXPECT_EQ(r.err.find("violated"), std::string::npos) << Describe(r);
}

TEST(BasicE2E, PrctlAbiErrors) {
  RunResult r = RunSupervised({"--", TestProgram("bad_prctl")});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_EQ(r.out.find("FAILED"), std::string::npos) << Describe(r);
}

TEST(BasicE2E, ExitCodeIsPropagated) {
  RunResult r = RunSupervised({"--", TestProgram("exit_with"), "42"});
  EXPECT_EQ(r.exit_status, 42) << Describe(r);
  EXPECT_EQ(r.err, "dpsupervise: no thread entered strict mode\n");
}

TEST(BasicE2E, DeathBySignalIs128PlusSignal) {
  RunResult r = RunSupervised({"--", TestProgram("kill_self"), "15"});
  EXPECT_EQ(r.exit_status, 143) << Describe(r);
  r = RunSupervised({"--", TestProgram("kill_self"), "6"});
  EXPECT_EQ(r.exit_status, 134) << Describe(r);
}

TEST(BasicE2E, ProgramNotFoundIs127) {
  RunResult r = RunSupervised({"--", "/nonexistent/program"});
  EXPECT_EQ(r.exit_status, 127) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("dpsupervise: /nonexistent/program: No such file or directory"));
  r = RunSupervised({"--", "no-such-program-in-path-dpsupervise"});
  EXPECT_EQ(r.exit_status, 127) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("no-such-program-in-path-dpsupervise: command not found"));
}

TEST(BasicE2E, ProgramNotExecutableIs126) {
  const std::string plain_file = dptest::TestTmpDir() + "/not-executable";
  dptest::Run({"/bin/sh", "-c", "echo true > " + plain_file + " && chmod 644 " + plain_file});
  RunResult r = RunSupervised({"--", plain_file});
  EXPECT_EQ(r.exit_status, 126) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("Permission denied"));
  r = RunSupervised({"--", "/tmp"});
  EXPECT_EQ(r.exit_status, 126) << Describe(r);
}

TEST(BasicE2E, PathLookupFindsPrograms) {
  RunResult r = RunSupervised({"--", "true"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  r = RunSupervised({"--", "sh", "-c", "exit 7"});
  EXPECT_EQ(r.exit_status, 7) << Describe(r);
}

// dpsupervise raises its own descriptor limit (one page-fault event per
// thread), never the program's: the program gets the limits it was given.
TEST(BasicE2E, ProgramKeepsItsDescriptorLimit) {
  const std::string limits = "ulimit -Sn 512; ulimit -Hn 4096; ";
  RunResult native = dptest::Run({"/bin/sh", "-c", limits + "ulimit -Sn; ulimit -Hn"});
  ASSERT_EQ(native.out, "512\n4096\n") << Describe(native);
  RunResult r = dptest::Run({"/bin/sh", "-c", limits + "exec \"$0\" \"$@\"",
                             Runfile("supervisor/dpsupervise"), "--", "/bin/sh", "-c",
                             "ulimit -Sn; ulimit -Hn"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_EQ(r.out, native.out) << Describe(r);
}

TEST(BasicE2E, UsageErrorsAreExit2) {
  RunResult r = RunSupervised({});
  EXPECT_EQ(r.exit_status, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("no program given"));
  r = RunSupervised({"--no-such-flag", "--", "true"});
  EXPECT_EQ(r.exit_status, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("unknown option '--no-such-flag'"));
  r = RunSupervised({"-o"});
  EXPECT_EQ(r.exit_status, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("needs a value"));
}

TEST(BasicE2E, HelpAndVersion) {
  RunResult r = RunSupervised({"--help"});
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_THAT(r.out, HasSubstr("Usage: dpsupervise"));
  r = RunSupervised({"--version"});
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_THAT(r.out, HasSubstr("dpsupervise "));
}

TEST(BasicE2E, UnsupervisedEntryFailsWithEinval) {
  RunResult r = dptest::Run({TestProgram("strict_compute")});
  EXPECT_EQ(r.exit_status, 3) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("supervised=0"));
  EXPECT_THAT(r.err, HasSubstr("Invalid argument (not supervised)"));
}

TEST(BasicE2E, ReportsGoToTheOutputFile) {
  const std::string path = dptest::TestTmpDir() + "/report.txt";
  RunResult r = RunSupervised({"-o", path, "--", TestProgram("strict_getpid")});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_EQ(r.err.find("violated"), std::string::npos);
  RunResult cat = dptest::Run({"/bin/cat", path});
  EXPECT_THAT(cat.out, HasSubstr("strict mode violated by syscall getpid()"));
}

}  // namespace
}  // namespace dptest
