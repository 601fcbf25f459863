// run_util.h: runs real binaries for end-to-end tests and captures what they
// did: exit status (shell convention: 128+signal when killed), stdout, stderr.
#ifndef DPSUPERVISE_TESTS_RUN_UTIL_H_
#define DPSUPERVISE_TESTS_RUN_UTIL_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace dptest {

struct RunResult {
  int exit_status = -1;  // exit code, or 128+signal
  std::string out;
  std::string err;
  bool timed_out = false;
};

struct RunOptions {
  int timeout_seconds = 60;
  std::string stdin_data;
  // Runs in the parent once the child started (e.g. to signal it); gets its pid.
  std::function<void(pid_t)> on_start;
};

// Runs argv[0] (a path) with argv, killing its whole process group on timeout.
RunResult Run(const std::vector<std::string>& argv, const RunOptions& options = {});

// A program running in the background, in its own process group, with
// stdout and stderr captured, for tests that act while it runs.
class Background {
 public:
  // With `pipe_stdin`, the program's stdin is a pipe fed by WriteStdin
  // (and kept open until CloseStdin); otherwise /dev/null.
  explicit Background(const std::vector<std::string>& argv, bool pipe_stdin = false);
  ~Background();  // kills the process group if still running
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return pid_; }
  void WriteStdin(const std::string& text);
  void CloseStdin();
  // Reads output until stderr contains `needle` (true) or the timeout.
  bool WaitForStderr(const std::string& needle, int timeout_seconds = 30);
  bool WaitForStdout(const std::string& needle, int timeout_seconds = 30);
  // Waits for the exit (killing the group after the timeout).
  RunResult Wait(int timeout_seconds = 60);
  const std::string& out() const { return result_.out; }
  const std::string& err() const { return result_.err; }

 private:
  bool Pump(int timeout_ms);
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int in_fd_ = -1;
  bool reaped_ = false;
  RunResult result_;
};

// Absolute path of a runfile given relative to the workspace root,
// e.g. "supervisor/dpsupervise".
std::string Runfile(const std::string& path);

// Runs dpsupervise with `args` (options, "--", the program and its args).
RunResult RunSupervised(const std::vector<std::string>& args, const RunOptions& options = {});

// The strict mechanism (--mechanism=...) RunSupervised and SupervisorArgv
// add, set by the BothMechanisms fixture (tests/mechanism_param.h); empty:
// none, dpsupervise's default.
void SetMechanism(const std::string& mechanism);
// The dpsupervise binary, with --mechanism when one is set, followed by
// `args`: for tests that start it as a Background.
std::vector<std::string> SupervisorArgv(const std::vector<std::string>& args);

// Path of a testdata program.
std::string TestProgram(const std::string& name);

// Exit status, stdout and stderr, for assertion messages.
std::string Describe(const RunResult& r);

// How many violation reports (text format) `err` holds.
int CountReports(const std::string& err);

// The number after "<label>=" in `text`, or -1.
long FindLabeledNumber(const std::string& text, const std::string& label);

}  // namespace dptest

#endif  // DPSUPERVISE_TESTS_RUN_UTIL_H_
