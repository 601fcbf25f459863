// Job control in a real terminal (tmux): Ctrl-Z, fg and Ctrl-C as a user
// types them, in an interactive bash with job control.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <initializer_list>
#include <regex>
#include <string>
#include <vector>

#include "tests/run_util.h"

using ::testing::HasSubstr;

namespace dptest {
namespace {

// A terminal user's view, in a real pty (tmux): Ctrl-Z stops both the
// supervisor and the program, SIGCONT resumes them, Ctrl-C reaches the
// program's handler and dpsupervise exits with its status.
class Terminal : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/tmux", X_OK) != 0) GTEST_SKIP() << "tmux is missing (tools/bazel installs it)";
    // A unix socket path must fit in 108 bytes: Bazel's TEST_TMPDIR does not.
    char dir[] = "/tmp/dptmux-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    socket_ = dir_ + "/s";
  }
  void TearDown() override {
    if (dir_.empty()) return;
    Tmux({"kill-server"});
    unlink(socket_.c_str());
    rmdir(dir_.c_str());  // /tmp outlives the test: leave nothing there
  }
  RunResult Tmux(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/tmux", "-S", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    return dptest::Run(argv);
  }
  std::string Screen() { return Tmux({"capture-pane", "-p", "-t", "t"}).out; }
  // Polls `done` every 10 ms for up to 30 s.
  static bool PollFor(const std::function<bool()>& done) {
    for (int i = 0; i < 3000; ++i) {
      if (done()) return true;
      usleep(10000);
    }
    return false;
  }
  bool WaitForScreen(const std::string& needle) {
    return PollFor([&] { return Screen().find(needle) != std::string::npos; });
  }
  // The State: line of /proc/PID/status.
  static std::string State(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("State:", 0) == 0) return line;
    }
    return "";
  }
  // Waits until the State of `pid` contains one of `states`.
  static bool WaitForState(pid_t pid, std::initializer_list<const char*> states) {
    return PollFor([&] {
      const std::string state = State(pid);
      for (const char* s : states) {
        if (state.find(s) != std::string::npos) return true;
      }
      return false;
    });
  }
  std::string dir_;
  std::string socket_;
};

TEST_F(Terminal, CtrlZStopsBothSigcontResumesCtrlCReachesTheHandler) {
  // An interactive shell with job control, as a user has: a pipeline
  // started from a plain `sh -c` would be an orphaned process group, for
  // which the kernel drops terminal stop signals.
  RunResult started = Tmux({"new-session", "-d", "-s", "t", "-x", "150", "-y", "40",
                            "/bin/bash --norc --noprofile -i"});
  ASSERT_EQ(started.exit_status, 0) << started.err;
  Tmux({"send-keys", "-t", "t",
        Runfile("supervisor/dpsupervise") + " --preflight=off -- " + TestProgram("lifecycle") +
            " handler",
        "Enter"});
  ASSERT_TRUE(WaitForScreen("ready pid=")) << Screen();
  std::smatch match;
  const std::string screen = Screen();
  ASSERT_TRUE(std::regex_search(screen, match, std::regex("ready pid=([0-9]+)")));
  const pid_t program = std::stoi(match[1].str());
  Tmux({"send-keys", "-t", "t", "C-z"});
  EXPECT_TRUE(WaitForState(program, {"(stopped)", "(tracing stop)"})) << State(program);
  ASSERT_TRUE(WaitForScreen("Stopped")) << Screen();
  // fg reports the job's exit status once it ends.
  Tmux({"send-keys", "-t", "t", "fg; echo FG=$?", "Enter"});
  EXPECT_TRUE(WaitForState(program, {"(sleeping)", "(running)"})) << State(program);
  Tmux({"send-keys", "-t", "t", "C-c"});
  ASSERT_TRUE(WaitForScreen("FG=7")) << Screen();
  EXPECT_THAT(Screen(), HasSubstr("got INT"));
}

// --on-violation=gdb with a terminal: dpsupervise runs gdb on the stopped
// program itself, in the user's terminal; the user sees the violating
// function, kills the program and quits, and dpsupervise exits with the
// program's status.
TEST_F(Terminal, GdbActionRunsAnInteractiveGdbOnTheViolation) {
  if (access("/usr/bin/gdb", X_OK) != 0) GTEST_SKIP() << "gdb is missing (tools/bazel installs it)";
  // Tall enough that gdb's attach messages never ask to page.
  RunResult started = Tmux({"new-session", "-d", "-s", "t", "-x", "200", "-y", "100",
                            "/bin/bash --norc --noprofile -i"});
  ASSERT_EQ(started.exit_status, 0) << started.err;
  Tmux({"send-keys", "-t", "t",
        Runfile("supervisor/dpsupervise") + " --preflight=off --on-violation=gdb -- " +
            TestProgram("violate_n") + " 1; echo DP=$?",
        "Enter"});
  ASSERT_TRUE(WaitForScreen("(gdb)")) << Screen();  // capture-pane drops the trailing blank
  EXPECT_THAT(Screen(), HasSubstr("is stopped at the violation; running gdb -p "));
  Tmux({"send-keys", "-t", "t", "set confirm off", "Enter"});
  // gdb starts on the violating thread (a worker), not on thread 1.
  Tmux({"send-keys", "-t", "t", "bt", "Enter"});
  ASSERT_TRUE(WaitForScreen("ViolatingCall")) << Screen();
  Tmux({"send-keys", "-t", "t", "kill", "Enter"});
  Tmux({"send-keys", "-t", "t", "quit", "Enter"});
  ASSERT_TRUE(WaitForScreen("DP=137")) << Screen();
}

}  // namespace
}  // namespace dptest
