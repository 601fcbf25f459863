#include "tests/run_util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <regex>

namespace dptest {
namespace {

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

}  // namespace

RunResult Run(const std::vector<std::string>& argv, const RunOptions& options) {
  Background program(argv, /*pipe_stdin=*/true);
  if (program.pid() <= 0) {
    RunResult result;
    result.err = "pipe or fork failed";
    return result;
  }
  // Feed stdin and close it so the program sees EOF.
  program.WriteStdin(options.stdin_data);
  program.CloseStdin();
  if (options.on_start) options.on_start(program.pid());
  RunResult result = program.Wait(options.timeout_seconds);
  // Anything the program left behind in its group must not outlive the test.
  kill(-program.pid(), SIGKILL);
  return result;
}

std::string Runfile(const std::string& path) {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  std::string root = std::string(srcdir ? srcdir : ".") + "/" + (workspace ? workspace : "dpsupervise");
  return root + "/" + path;
}

namespace {
std::string g_mechanism;
}  // namespace

void SetMechanism(const std::string& mechanism) { g_mechanism = mechanism; }

std::vector<std::string> SupervisorArgv(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {Runfile("supervisor/dpsupervise")};
  if (!g_mechanism.empty()) argv.push_back("--mechanism=" + g_mechanism);
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

RunResult RunSupervised(const std::vector<std::string>& args, const RunOptions& options) {
  return Run(SupervisorArgv(args), options);
}

std::string TestProgram(const std::string& name) { return Runfile("testdata/" + name); }

long FindLabeledNumber(const std::string& text, const std::string& label) {
  std::smatch match;
  std::regex pattern(label + "=(-?[0-9]+)");
  if (!std::regex_search(text, match, pattern)) return -1;
  return std::stol(match[1]);
}

Background::Background(const std::vector<std::string>& argv, bool pipe_stdin) {
  int out_pipe[2], err_pipe[2], in_pipe[2] = {-1, -1};
  if (pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC)) return;
  if (pipe_stdin && pipe2(in_pipe, O_CLOEXEC)) return;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);
    int stdin_fd = pipe_stdin ? in_pipe[0] : open("/dev/null", O_RDONLY);
    dup2(stdin_fd, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  if (pipe_stdin) {
    close(in_pipe[0]);
    in_fd_ = in_pipe[1];
  }
}

void Background::WriteStdin(const std::string& text) {
  if (in_fd_ >= 0) (void)!write(in_fd_, text.data(), text.size());
}

void Background::CloseStdin() {
  if (in_fd_ >= 0) close(in_fd_);
  in_fd_ = -1;
}

Background::~Background() {
  if (pid_ > 0 && !reaped_) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
  if (in_fd_ >= 0) close(in_fd_);
}

bool Background::Pump(int timeout_ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  int n = poll(fds, 2, timeout_ms);
  if (n <= 0) return n == 0 || errno == EINTR;
  bool open_any = false;
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0) continue;
    if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[8192];
      ssize_t got = read(fds[i].fd, buf, sizeof(buf));
      if (got > 0) {
        (i == 0 ? result_.out : result_.err).append(buf, got);
        open_any = true;
      } else {
        close(fds[i].fd);
        (i == 0 ? out_fd_ : err_fd_) = -1;
      }
    } else {
      open_any = true;
    }
  }
  return open_any;
}

static bool WaitForText(Background* bg, const std::string& (Background::*text)() const,
                        const std::string& needle, int timeout_seconds,
                        const std::function<bool(int)>& pump) {
  const double deadline = Now() + timeout_seconds;
  while (((*bg).*text)().find(needle) == std::string::npos) {
    if (Now() > deadline) return false;
    if (!pump(100)) return ((*bg).*text)().find(needle) != std::string::npos;
  }
  return true;
}

bool Background::WaitForStderr(const std::string& needle, int timeout_seconds) {
  return WaitForText(this, &Background::err, needle, timeout_seconds,
                     [this](int ms) { return (out_fd_ >= 0 || err_fd_ >= 0) && Pump(ms); });
}

bool Background::WaitForStdout(const std::string& needle, int timeout_seconds) {
  return WaitForText(this, &Background::out, needle, timeout_seconds,
                     [this](int ms) { return (out_fd_ >= 0 || err_fd_ >= 0) && Pump(ms); });
}

RunResult Background::Wait(int timeout_seconds) {
  const double deadline = Now() + timeout_seconds;
  while (out_fd_ >= 0 || err_fd_ >= 0) {
    if (Now() > deadline) {
      result_.timed_out = true;
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      break;
    }
    Pump(100);
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  if (WIFEXITED(status)) result_.exit_status = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result_.exit_status = 128 + WTERMSIG(status);
  return result_;
}

std::string Describe(const RunResult& r) {
  return "exit=" + std::to_string(r.exit_status) + (r.timed_out ? " (timed out)" : "") +
         "\n--- stdout\n" + r.out + "--- stderr\n" + r.err;
}

int CountReports(const std::string& err) {
  int count = 0;
  for (size_t at = err.find("strict mode violated"); at != std::string::npos;
       at = err.find("strict mode violated", at + 1)) {
    ++count;
  }
  return count;
}

}  // namespace dptest
