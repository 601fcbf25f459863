// End-to-end tests of strict entry from outside: thread-name triggers (set
// by the thread or written to /proc/.../comm), a thread blocked in a
// syscall, strict windows, and attaching to a running process.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
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
using ::testing::Not;

std::string StatusField(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return line.substr(field.size() + 1);
  }
  return "";
}

class NameTriggerByMechanism : public BothMechanisms {};

TEST_P(NameTriggerByMechanism, MakesAMatchingThreadStrictFromOutside) {
  RunResult r = RunSupervised({"--preflight=off", "--strict-thread=rte-worker-*", "--",
                               TestProgram("named_worker"), "spin"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  const std::string tid = std::to_string(FindLabeledNumber(r.out, "worker_tid"));
  EXPECT_THAT(r.err, HasSubstr("rte-worker-1/" + tid + ": strict mode entered"));
  EXPECT_THAT(r.err, HasSubstr("rte-worker-1/" + tid + " (cpu "));
  EXPECT_THAT(r.err, HasSubstr("strict mode violated by syscall getpid()"));
  EXPECT_EQ(CountReports(r.err), 1);
}

TEST(CpuTrigger, MakesAThreadPinnedToAStrictCpuStrictFromOutside) {
  RunResult r = RunSupervised({"--preflight=off", "--strict-cpus=1", "--format=json", "--",
                               TestProgram("named_worker"), "pinned"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  const long tid = FindLabeledNumber(r.out, "worker_tid");
  EXPECT_THAT(JsonMessages(r.err),
              HasSubstr("pinned-worker/" + std::to_string(tid) + ": strict mode entered"));
  const std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << r.err;
  EXPECT_EQ(violations[0]["tid"], tid);
  EXPECT_EQ(violations[0]["cpu"], 1);
  EXPECT_EQ(violations[0]["syscall"]["name"], "getpid");
}

TEST(NameTrigger, NamesWrittenToProcCommCount) {
  RunResult r = RunSupervised({"--preflight=off", "--strict-thread=rte-worker-*", "--",
                               TestProgram("named_worker"), "comm"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("rte-worker-9/"));
  EXPECT_EQ(CountReports(r.err), 1);
}

TEST(NameTrigger, NonMatchingThreadsAreLeftAlone) {
  RunResult r = RunSupervised({"--preflight=off", "--strict-thread=nothing-*", "--",
                               TestProgram("named_worker"), "window"},
                              RunOptions{5, "", nullptr});
  // The worker waits forever to become strict: killed at the timeout.
  EXPECT_TRUE(r.timed_out);
  EXPECT_THAT(r.err, Not(HasSubstr("strict mode entered")));
}

TEST_P(NameTriggerByMechanism, ThreadBlockedInASyscallRestartsItAndIsStrictAfter) {
  RunResult r = RunSupervised({"--preflight=off", "--strict-thread=blocked-*", "--",
                               TestProgram("named_worker"), "blocked"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  // read() returned its 5 bytes: not EINTR, not a leaked -ERESTARTSYS.
  EXPECT_THAT(r.out, HasSubstr("read=5 strict=2"));
  EXPECT_EQ(CountReports(r.err), 0) << Describe(r);
}

TEST_P(NameTriggerByMechanism, StrictForEndsTheWindow) {
  RunResult r = RunSupervised({"--preflight=off", "--strict-thread=rte-worker-*",
                               "--strict-for=200ms", "--", TestProgram("named_worker"), "window"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("window over"));
  EXPECT_THAT(r.err, HasSubstr("strict mode left after --strict-for"));
  EXPECT_EQ(CountReports(r.err), 0) << Describe(r);
}

TEST(NameTrigger, StrictAfterDelaysEntry) {
  RunResult r =
      RunSupervised({"--preflight=off", "--summary", "--strict-thread=rte-worker-*",
                     "--strict-after=300ms", "--", TestProgram("named_worker"), "spin"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_EQ(CountReports(r.err), 1);
}

// The kernel drops a pending PTRACE_INTERRUPT when the thread enters another
// ptrace stop first (the seccomp stop of its next prctl): the trigger must
// ask again, or the thread never becomes strict and the program spins on.
// The window is a few microseconds: about one run in twenty met it before
// the fix, so this repeats the run (a regression fails here about four
// times in five).
TEST(NameTrigger, AnInterruptMetByAnotherStopIsSentAgain) {
  for (int run = 0; run < 30; ++run) {
    RunResult r = RunSupervised({"--preflight=off", "--format=json", "--strict-thread=rte-worker-*",
                                 "--strict-after=300ms", "--", TestProgram("named_worker"), "spin"},
                                RunOptions{20, "", nullptr});
    ASSERT_FALSE(r.timed_out) << "run " << run << ": " << Describe(r);
    ASSERT_EQ(r.exit_status, 137) << "run " << run << ": " << Describe(r);
    ASSERT_EQ(JsonViolations(r.err).size(), 1u) << "run " << run << ": " << Describe(r);
  }
}

TEST(Cli, TriggerMisuseIsAUsageError) {
  RunResult r = RunSupervised({"--strict-after=2s", "--", "/bin/true"});
  EXPECT_EQ(r.exit_status, 2) << Describe(r);
  r = RunSupervised({"--strict-thread=x", "--strict-after=soon", "--", "/bin/true"});
  EXPECT_EQ(r.exit_status, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("expected a duration"));
  r = RunSupervised({"-p", "1"});
  EXPECT_EQ(r.exit_status, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("-p PID needs --strict-thread"));
  // Out of the range of process ids: misuse. In range but no such process
  // (pids stay below pid_max, which is at most 4194304): not found.
  r = RunSupervised({"--strict-thread=x", "-p", "999999999"});
  EXPECT_EQ(r.exit_status, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("expected a process id from 1 to 4194304"));
  r = RunSupervised({"--strict-thread=x", "-p", "4194304"});
  EXPECT_EQ(r.exit_status, 127) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("no process 4194304"));
}

class Attach : public BothMechanisms {
 protected:
  void SetUp() override {
    BothMechanisms::SetUp();
    program_ = std::make_unique<Background>(
        std::vector<std::string>{TestProgram("named_worker"), "serve"});
    ASSERT_TRUE(program_->WaitForStdout("worker_tid=")) << program_->out();
    pid_ = static_cast<pid_t>(FindLabeledNumber(program_->out(), "pid"));
    ASSERT_GT(pid_, 0);
  }
  std::unique_ptr<Background> program_;
  pid_t pid_ = 0;
};

TEST_P(Attach, MakesTheWorkerStrictReportsAndDetachesLeavingNothing) {
  Background supervisor(SupervisorArgv({"--preflight=off", "--on-violation=log",
                                        "--strict-thread=rte-worker-*", "-p",
                                        std::to_string(pid_)}));
  // Under dispatch its syscalls are not stepped (PTRACE_SYSCALL).
  ASSERT_TRUE(supervisor.WaitForStderr(dispatch() ? "strict mode entered (attached, syscall user "
                                                    "dispatch)"
                                                  : "strict mode entered (attached, syscalls "
                                                    "stepped)"))
      << supervisor.err();
  EXPECT_EQ(StatusField(pid_, "Seccomp"), "\t0");  // no filter, ever
  kill(pid_, SIGUSR2);  // the worker calls getppid once
  ASSERT_TRUE(supervisor.WaitForStderr("action:  log")) << supervisor.err();
  EXPECT_THAT(supervisor.err(), HasSubstr("syscall getppid()"));
  const std::string tid = std::to_string(FindLabeledNumber(program_->out(), "worker_tid"));
  EXPECT_THAT(supervisor.err(), HasSubstr("thread:  " + tid + " "));
  kill(supervisor.pid(), SIGINT);
  RunResult r = supervisor.Wait();
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("detached from process " + std::to_string(pid_)));
  // Nothing left behind: no tracer, no filter; the program carries on.
  EXPECT_EQ(StatusField(pid_, "TracerPid"), "\t0");
  EXPECT_EQ(StatusField(pid_, "Seccomp"), "\t0");
  kill(pid_, SIGUSR1);
  RunResult program = program_->Wait();
  EXPECT_EQ(program.exit_status, 0) << Describe(program);
}

// A detach ends the windows before its own stops: the verdict is the last
// record, and the detach's stop of the worker is no interruption (noise
// records need root; without, only the order is checked).
TEST_P(Attach, DetachEndsTheWindowsFirstAndTheVerdictComesLast) {
  Background supervisor(SupervisorArgv({"--preflight=off", "--format=json", "--noise=events",
                                        "--strict-thread=rte-worker-*", "-p",
                                        std::to_string(pid_)}));
  ASSERT_TRUE(supervisor.WaitForStderr("strict mode entered")) << supervisor.err();
  usleep(100 * 1000);  // a strict window with its ticks
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  const long long detach_ns = now.tv_sec * 1000000000LL + now.tv_nsec;
  kill(supervisor.pid(), SIGINT);
  RunResult r = supervisor.Wait();
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  const std::vector<Json> records = JsonLines(r.err);
  ASSERT_GE(records.size(), 2u) << r.err;
  EXPECT_EQ(records.back()["type"], "verdict") << r.err;
  for (const Json& event : JsonRecords(r.err, "noise")) {
    if (event["kind"] != "preemption" || !event["by_dpsupervise"].get<bool>()) continue;
    EXPECT_LT(event["start_ns"].get<long long>(), detach_ns) << event;
  }
  kill(pid_, SIGUSR1);
  EXPECT_EQ(program_->Wait().exit_status, 0);
}

TEST_P(Attach, LogsByDefaultAndEndsCleanlyWhenTheProgramExitsByItself) {
  Background supervisor(SupervisorArgv({"--preflight=off", "--format=json",
                                        "--strict-thread=rte-worker-*", "-p",
                                        std::to_string(pid_)}));
  ASSERT_TRUE(supervisor.WaitForStderr("strict mode entered")) << supervisor.err();
  kill(pid_, SIGUSR2);  // the worker calls getppid once: logged, not killed
  ASSERT_TRUE(supervisor.WaitForStderr("\"type\":\"violation\"")) << supervisor.err();
  kill(pid_, SIGUSR1);  // the program ends by itself, exit status 0
  RunResult r = supervisor.Wait();
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  // The getppid, then the strict worker's own exit (libc's thread end:
  // rt_sigprocmask, madvise): logged too, and nothing is killed.
  const std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_GE(violations.size(), 1u) << Describe(r);
  EXPECT_EQ(violations[0]["syscall"]["name"], "getppid");
  for (const Json& v : violations) EXPECT_EQ(v["action"], "log") << v.dump();
  const std::vector<Json> summaries = JsonRecords(r.err, "summary");
  ASSERT_EQ(summaries.size(), 1u) << Describe(r);
  EXPECT_EQ(summaries[0]["exit_status"], 0);
  EXPECT_EQ(program_->Wait().exit_status, 0);
}

TEST_P(Attach, KillActionKillsTheAttachedProgram) {
  Background supervisor(SupervisorArgv({"--preflight=off", "--on-violation=kill",
                                        "--strict-thread=rte-worker-*", "-p",
                                        std::to_string(pid_)}));
  ASSERT_TRUE(supervisor.WaitForStderr("strict mode entered")) << supervisor.err();
  kill(pid_, SIGUSR2);
  RunResult r = supervisor.Wait();
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_EQ(program_->Wait().exit_status, 137);
}

TEST(EnterAt, FirstThreadOnlyByDefault) {
  RunResult r = RunSupervised(
      {"--preflight=off", "--enter-at=DataplaneLoop", "--", TestProgram("enter_at"), "first"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("A strict=2"));
  EXPECT_THAT(r.out, HasSubstr("B strict=0"));
  EXPECT_THAT(r.err, HasSubstr("reached DataplaneLoop"));
}

TEST(EnterAt, EveryThreadWithEnterAtEvery) {
  RunResult r = RunSupervised({"--preflight=off", "--enter-at=DataplaneLoop", "--enter-at-every",
                               "--", TestProgram("enter_at"), "first"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("A strict=2"));
  EXPECT_THAT(r.out, HasSubstr("B strict=2"));
}

class EnterAtByMechanism : public BothMechanisms {};

TEST_P(EnterAtByMechanism, ViolationInsideIsReported) {
  RunResult r = RunSupervised(
      {"--preflight=off", "--enter-at=DataplaneLoop", "--", TestProgram("enter_at"), "violate"});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("strict mode violated by syscall getpid()"));
  EXPECT_THAT(r.err, ::testing::ContainsRegex("#1 +0x[0-9a-f]+ in DataplaneLoop"));
}

TEST_P(EnterAtByMechanism, LeaveAtEndsTheWindow) {
  RunResult r = RunSupervised({"--preflight=off", "--enter-at=DataplaneLoop", "--enter-at-every",
                               "--leave-at=LeaveHere", "--", TestProgram("enter_at"), "leave"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("after leave: flags=0 getpid_ok=1"));
  EXPECT_THAT(r.err, HasSubstr("strict mode left at LeaveHere"));
  EXPECT_EQ(CountReports(r.err), 0) << Describe(r);
}


TEST(EnterAtEvery, SignalsDuringTheStepAreDeliveredOnceWithTheirSiginfo) {
  // A 5 ms interval timer while the breakpoint is hit 1000 times: SIGALRMs
  // arrive while the thread is at the breakpoint, and are dequeued during
  // the step over it. Held there, each is delivered once afterwards; the
  // program ends by itself (rather than the step spinning forever).
  RunResult r = RunSupervised({"--preflight=off", "--format=json", "--on-violation=log",
                               "--enter-at=StepTarget", "--enter-at-every", "--",
                               TestProgram("step_signals"), "timer"},
                              RunOptions{60, "", nullptr});
  ASSERT_FALSE(r.timed_out) << Describe(r);
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("calls=1000"));
  const long handler_runs = FindLabeledNumber(r.out, "handler_runs");
  EXPECT_GE(handler_runs, 50);
  // A SIGALRM delivered while the thread is strict is a violation, and so is
  // its handler's return (rt_sigreturn): one of each per strict delivery.
  int alarms = 0, sigreturns = 0;
  for (const Json& v : JsonViolations(r.err)) {
    if (v["kind"] == "signal") {
      EXPECT_EQ(v["signal"]["name"], "SIGALRM") << v.dump();
      // The timer's own siginfo, not the supervisor's re-queue (SI_TKILL).
      EXPECT_EQ(v["signal"]["code_name"], "SI_KERNEL") << v.dump();
      ++alarms;
    } else if (v["kind"] == "syscall" && v["syscall"]["name"] == "rt_sigreturn") {
      ++sigreturns;
    } else {
      ADD_FAILURE() << "unexpected violation " << v.dump();
    }
  }
  EXPECT_EQ(alarms, sigreturns);
  EXPECT_LE(alarms, handler_runs);
}

TEST(EnterAtEvery, AThreadEndingInsideTheStepLeavesTheBreakpointInPlace) {
  // The breakpoint is on a syscall instruction: the first thread's step
  // executes exit. The int3 must be back for the second thread.
  RunResult r = RunSupervised({"--preflight=off", "--enter-at=SyscallHere", "--enter-at-every",
                               "--", TestProgram("step_signals"), "exit"},
                              RunOptions{60, "", nullptr});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("first thread gone"));
  EXPECT_THAT(r.err, HasSubstr("strict mode violated by syscall getppid()"));
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
}

TEST(EnterAtEvery, ProgramKilledAroundTheStepEndsWithItsOwnStatus) {
  // SIGKILL from another thread while the stepping thread is held at the
  // breakpoint (as far as the program can aim): the thread vanishes under
  // the supervisor, which is normal, not a supervisor failure (125).
  for (int run = 0; run < 10; ++run) {
    RunResult r = RunSupervised({"--preflight=off", "--enter-at=StepTarget", "--enter-at-every",
                                 "--", TestProgram("step_signals"), "killed"},
                                RunOptions{60, "", nullptr});
    ASSERT_EQ(r.exit_status, 137) << "run " << run << ": " << Describe(r);
  }
}

// The program's main thread has exited (pthread_exit) before its worker is
// made strict: per-process work (vDSO lookup, breakpoints, symbols) goes
// through a live thread, since the zombie leader's /proc entries show no
// address space. The worker's violation is reported, symbolized, and the
// program ends with its own status.
void ExpectWorkerViolationReported(const RunResult& r) {
  ASSERT_FALSE(r.timed_out) << Describe(r);
  EXPECT_EQ(r.exit_status, 7) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("worker done, strict=2"));
  const long worker = FindLabeledNumber(r.out, "worker_tid");
  const std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << Describe(r);
  const Json& v = violations[0];
  EXPECT_EQ(v["syscall"]["name"], "getppid") << v.dump();
  EXPECT_EQ(v["tid"], worker) << v.dump();
  bool in_violate = false;
  for (const Json& frame : v["backtrace"]) in_violate = in_violate || frame["function"] == "Violate";
  EXPECT_TRUE(in_violate) << v.dump();
}

TEST(ZombieLeader, StrictThreadAfterTheMainThreadExited) {
  RunResult r = RunSupervised({"--preflight=off", "--format=json", "--on-violation=log",
                               "--strict-thread=dp-worker", "--", TestProgram("zombie_leader"),
                               "name"},
                              RunOptions{60, "", nullptr});
  ExpectWorkerViolationReported(r);
}

TEST(ZombieLeader, EnterAtAfterTheMainThreadExited) {
  RunResult r = RunSupervised({"--preflight=off", "--format=json", "--on-violation=log",
                               "--enter-at=EnterHere", "--enter-at-every", "--",
                               TestProgram("zombie_leader"), "enter"},
                              RunOptions{60, "", nullptr});
  ExpectWorkerViolationReported(r);
}

// Attached after the main thread exited: the zombie leader, seized with the
// rest, cannot serve the process's memory; a live thread does.
TEST(ZombieLeader, AttachAfterTheMainThreadExited) {
  Background program({TestProgram("zombie_leader"), "attach"}, /*pipe_stdin=*/true);
  ASSERT_TRUE(program.WaitForStdout("enter_here=")) << program.out();
  const std::string worker = std::to_string(FindLabeledNumber(program.out(), "worker_tid"));
  std::smatch match;
  const std::string out = program.out();
  ASSERT_TRUE(std::regex_search(out, match, std::regex("enter_here=(0x[0-9a-f]+)")));
  const off_t enter_here = static_cast<off_t>(std::stoull(match[1].str(), nullptr, 16));
  Background supervisor({Runfile("supervisor/dpsupervise"), "--preflight=off", "--format=json",
                         "--on-violation=log", "--enter-at=EnterHere", "-p",
                         std::to_string(program.pid())});
  // Wait for the int3 at EnterHere, read through the live worker.
  const int mem = open(("/proc/" + worker + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(mem, 0);
  unsigned char byte = 0;
  for (int i = 0; i < 2000 && byte != 0xcc; ++i) {
    if (pread(mem, &byte, 1, enter_here) != 1) byte = 0;
    if (byte != 0xcc) usleep(10000);
  }
  close(mem);
  ASSERT_EQ(byte, 0xcc) << supervisor.err();
  program.WriteStdin("x");
  ASSERT_TRUE(supervisor.WaitForStderr("\"getppid\"")) << supervisor.err();
  EXPECT_EQ(program.Wait().exit_status, 7) << program.out();
  RunResult r = supervisor.Wait();
  EXPECT_NE(r.exit_status, 125) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("\"tid\":" + worker)) << Describe(r);
}

TEST(EnterAt, LibrarySymbolIsResolvedWhenTheLoaderHasMappedIt) {
  RunResult r = RunSupervised({"--preflight=off", "--enter-at=libc.so.6:getppid", "--",
                               TestProgram("enter_at"), "libc"});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("reached libc.so.6:getppid"));
  EXPECT_THAT(r.err, HasSubstr("syscall getppid()"));
  EXPECT_THAT(r.err, HasSubstr("thread:  " + std::to_string(FindLabeledNumber(r.out, "worker_tid")) + " "));
}

// A copy of testdata program `name` at `path`, executable.
void CopyProgram(const std::string& name, const std::string& path) {
  std::ifstream in(TestProgram(name), std::ios::binary);
  const std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(image.empty());
  WriteTestFile(path, image);
  ASSERT_EQ(chmod(path.c_str(), 0755), 0);
}

// The JSON violation's backtrace has DataplaneLoop at a line of
// enter_at.cc, in module `module`.
void ExpectDataplaneLoopFrame(const RunResult& r, const std::string& module) {
  const std::vector<Json> violations = JsonViolations(r.err);
  ASSERT_EQ(violations.size(), 1u) << Describe(r);
  bool found = false;
  for (const Json& frame : violations[0]["backtrace"]) {
    if (frame["function"] != "DataplaneLoop") continue;
    found = true;
    EXPECT_THAT(frame["file"].get<std::string>(), ::testing::EndsWith("enter_at.cc"));
    EXPECT_GT(frame["line"].get<int>(), 0);
    EXPECT_EQ(frame["module"], module);
  }
  EXPECT_TRUE(found) << violations[0].dump();
}

TEST(EnterAt, ExecutableWithANewlineInItsPath) {
  // /proc/PID/maps writes the newline as "\012": the symbol is still found
  // in the executable, and the report still symbolized.
  const std::string path = MakeTestDir("newline") + "/enter\nat";
  CopyProgram("enter_at", path);
  RunResult r = RunSupervised(
      {"--preflight=off", "--format=json", "--enter-at=DataplaneLoop", "--", path, "violate"},
      RunOptions{60, "", nullptr});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  ExpectDataplaneLoopFrame(r, path);
}

TEST(EnterAt, ExecutableDeletedBeforeTheViolation) {
  const std::string path = MakeTestDir("deleted") + "/enter_at";
  CopyProgram("enter_at", path);
  RunResult r = RunSupervised({"--preflight=off", "--format=json", "--enter-at=DataplaneLoop",
                               "--", path, "violate_deleted"},
                              RunOptions{60, "", nullptr});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  ExpectDataplaneLoopFrame(r, path + " (deleted)");
}

TEST(EnterAt, UnknownSymbolIsAClearErrorBeforeLaunch) {
  RunResult r = RunSupervised(
      {"--enter-at=NoSuchFunction", "--", TestProgram("enter_at"), "first"});
  EXPECT_EQ(r.exit_status, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("no function 'NoSuchFunction'"));
  EXPECT_THAT(r.out, Not(HasSubstr("strict=")));  // nothing launched
  r = RunSupervised({"--enter-at=libc.so.6:no_such_function_dp", "--", TestProgram("enter_at"),
                     "libc"});
  EXPECT_EQ(r.exit_status, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("no function 'no_such_function_dp'"));
}

TEST(EnterAt, AttachAtAnAddressAndDetachRemovesTheBreakpoint) {
  Background program({TestProgram("enter_at"), "serve"});
  ASSERT_TRUE(program.WaitForStdout("addr=")) << program.out();
  std::smatch match;
  const std::string out = program.out();
  ASSERT_TRUE(std::regex_search(out, match, std::regex("pid=([0-9]+) addr=(0x[0-9a-f]+)")));
  const pid_t pid = std::stoi(match[1].str());
  Background supervisor({Runfile("supervisor/dpsupervise"), "--preflight=off",
                         "--on-violation=log", "--enter-at=" + match[2].str(), "-p",
                         std::to_string(pid)});
  // Attached once the threads are seized; poll the tracer field.
  for (int i = 0; i < 1000 && StatusField(pid, "TracerPid") == "\t0"; ++i) usleep(10000);
  kill(pid, SIGUSR1);
  ASSERT_TRUE(supervisor.WaitForStderr("syscall getpid()")) << supervisor.err();
  kill(supervisor.pid(), SIGINT);
  EXPECT_EQ(supervisor.Wait().exit_status, 0);
  // The int3 is gone: running DataplaneLoop again does not SIGTRAP.
  kill(pid, SIGUSR1);
  ASSERT_TRUE(program.WaitForStdout("worker looped\nworker looped")) << program.out();
  kill(pid, SIGUSR2);
  EXPECT_EQ(program.Wait().exit_status, 0);
}

DP_INSTANTIATE_BOTH_MECHANISMS(NameTriggerByMechanism);
DP_INSTANTIATE_BOTH_MECHANISMS(Attach);
DP_INSTANTIATE_BOTH_MECHANISMS(EnterAtByMechanism);

}  // namespace
}  // namespace dptest
