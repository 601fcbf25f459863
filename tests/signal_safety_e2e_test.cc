// dpsupervise never signals more than it means to, and always ends when it
// is asked to: a failed getpid() never becomes kill(-1), and termination
// signals end dpsupervise within a bounded time whatever the program does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <regex>
#include <string>

#include "tests/run_util.h"

namespace dptest {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

// The State: line of /proc/PID/status ("S (sleeping)"), empty once gone.
std::string StateOf(pid_t pid) {
  RunResult state = dptest::Run(
      {"/bin/sh", "-c", "grep -h State: /proc/" + std::to_string(pid) + "/status 2>/dev/null"});
  return state.out;
}

// Gone, or a zombie nobody reaped yet.
bool Gone(pid_t pid) {
  const std::string state = StateOf(pid);
  return state.empty() || state.find("Z (zombie)") != std::string::npos;
}

// Polls (no fixed sleep) until `pid` is gone, up to 20 s.
bool GoneWithin20s(pid_t pid) {
  for (int i = 0; i < 2000; ++i) {
    if (Gone(pid)) return true;
    timespec ten_ms{0, 10 * 1000 * 1000};
    nanosleep(&ten_ms, nullptr);
  }
  return false;
}

pid_t ReadyPid(const std::string& out) {
  std::smatch match;
  return std::regex_search(out, match, std::regex("ready pid=([0-9]+)")) ? std::stoi(match[1].str())
                                                                        : -1;
}

// An outer seccomp filter (a wrapper, a container runtime) that makes
// getpid() fail: the launch child must not turn that into kill(-1, SIGSTOP),
// which as root stops every process it can see. All of it runs in a pid
// namespace of its own, where the worst case stops only the sibling.
TEST(OwnPidUnknown, LaunchFailsClearlyAndSignalsNothingElse) {
  // Under --config=asan, LeakSanitizer's exit-time check spins for ever
  // when getpid() fails: it is turned off for this one run.
  const char* asan = getenv("ASAN_OPTIONS");
  const std::string asan_options =
      std::string("ASAN_OPTIONS=") + (asan != nullptr ? asan : "") + ":detect_leaks=0";
  RunOptions options;
  options.timeout_seconds = 120;  // pidns_sibling_check gives up after 60 s
  RunResult r = dptest::Run(
      {"/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount-proc",
       TestProgram("pidns_sibling_check"), "/usr/bin/env", asan_options,
       TestProgram("deny_getpid"), Runfile("supervisor/dpsupervise"), "--", "/bin/true"},
      options);
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("sibling state=S")) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("command exit=125")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("dpsupervise: launching /bin/true: getpid()")) << Describe(r);
}

// The first SIGTERM is the program's (it ignores it); the second ends
// dpsupervise at once, and the program with it (PTRACE_O_EXITKILL). The
// grace period is far longer than the test may take.
TEST(TerminationSignals, SecondSigtermEndsUsAndTheProgram) {
  Background bg({Runfile("supervisor/dpsupervise"), "--kill-after=1h", "--",
                 TestProgram("ignore_term")});
  ASSERT_TRUE(bg.WaitForStdout("ready pid=")) << bg.out() << bg.err();
  const pid_t program = ReadyPid(bg.out());
  ASSERT_GT(program, 0) << bg.out();
  ASSERT_EQ(kill(bg.pid(), SIGTERM), 0);
  // Forwarded: dpsupervise handled the first one before the second is sent.
  ASSERT_TRUE(bg.WaitForStdout("ignoring SIGTERM")) << bg.out() << bg.err();
  ASSERT_EQ(kill(bg.pid(), SIGTERM), 0);
  RunResult r = bg.Wait(/*timeout_seconds=*/60);
  EXPECT_FALSE(r.timed_out) << Describe(r);
  EXPECT_EQ(r.exit_status, 128 + SIGTERM) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("dpsupervise: a second termination signal: exiting now; the "
                               "program's traced tasks are killed with us\n"))
      << Describe(r);
  EXPECT_TRUE(GoneWithin20s(program));
}

// One SIGTERM, ignored by the program: the grace period ends dpsupervise.
TEST(TerminationSignals, GracePeriodEndsUsAndTheProgram) {
  Background bg({Runfile("supervisor/dpsupervise"), "--kill-after=500ms", "--",
                 TestProgram("ignore_term")});
  ASSERT_TRUE(bg.WaitForStdout("ready pid=")) << bg.out() << bg.err();
  const pid_t program = ReadyPid(bg.out());
  ASSERT_GT(program, 0) << bg.out();
  ASSERT_EQ(kill(bg.pid(), SIGINT), 0);
  RunResult r = bg.Wait(/*timeout_seconds=*/60);
  EXPECT_FALSE(r.timed_out) << Describe(r);
  EXPECT_EQ(r.exit_status, 128 + SIGINT) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("ignoring SIGINT"));
  EXPECT_THAT(r.err, HasSubstr("dpsupervise: the program did not end within --kill-after (0.5 s) "
                               "of SIGINT: exiting now; the program's traced tasks are killed "
                               "with us\n"))
      << Describe(r);
  EXPECT_TRUE(GoneWithin20s(program));
}

// Attach mode has no EXITKILL: however dpsupervise ends (a detach, or the
// forced exit of a second signal arriving during it), the process runs on,
// untraced.
TEST(TerminationSignals, AnAttachedProgramSurvivesEitherEnding) {
  Background program({TestProgram("ignore_term")});
  ASSERT_TRUE(program.WaitForStdout("ready pid=")) << program.out();
  const pid_t pid = program.pid();
  Background supervisor({Runfile("supervisor/dpsupervise"), "--preflight=off",
                         "--strict-thread=no-such-thread", "-p", std::to_string(pid)});
  // Attached once the threads are seized; poll the tracer field.
  auto tracer = [pid] {
    RunResult r = dptest::Run({"/bin/sh", "-c", "grep -h TracerPid: /proc/" +
                                                    std::to_string(pid) + "/status"});
    return r.out;
  };
  for (int i = 0; i < 2000 && tracer() == "TracerPid:\t0\n"; ++i) usleep(10000);
  ASSERT_NE(tracer(), "TracerPid:\t0\n");
  ASSERT_EQ(kill(supervisor.pid(), SIGTERM), 0);
  ASSERT_EQ(kill(supervisor.pid(), SIGINT), 0);
  RunResult r = supervisor.Wait(/*timeout_seconds=*/60);
  EXPECT_FALSE(r.timed_out) << Describe(r);
  EXPECT_THAT(r.exit_status, AnyOf(0, 128 + SIGTERM, 128 + SIGINT)) << Describe(r);
  if (r.exit_status != 0) {
    EXPECT_THAT(r.err, HasSubstr("a second termination signal: exiting now, without finishing "
                                 "the detach; the process is left running, untraced"));
  }
  EXPECT_EQ(tracer(), "TracerPid:\t0\n");
  EXPECT_THAT(StateOf(pid), AnyOf(HasSubstr("S (sleeping)"), HasSubstr("R (running)")));
  kill(pid, SIGKILL);
  program.Wait();
}

}  // namespace
}  // namespace dptest
