// Where the reports go never harms the program: a standard error the
// program made non-blocking and filled, a reader of the reports that goes
// away, a report file that cannot be written. In each case the program runs
// to completion and dpsupervise exits with its status.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_util.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;

// dpsupervise with stdin, stdout and stderr each a pipe of the test's,
// read only when the test says so (run_util's Background reads both
// outputs whenever it waits).
class Supervised {
 public:
  // With `stderr_socket`, stderr is a socket (which cannot be reopened
  // through /proc, unlike a pipe) rather than a pipe.
  explicit Supervised(const std::vector<std::string>& args, bool stderr_socket = false) {
    std::vector<std::string> argv = {Runfile("supervisor/dpsupervise")};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> pointers;
    for (const std::string& arg : argv) pointers.push_back(const_cast<char*>(arg.c_str()));
    pointers.push_back(nullptr);
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return;
    if (stderr_socket) {
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, err) != 0) return;
      shutdown(err[0], SHUT_WR);
    } else if (pipe2(err, O_CLOEXEC) != 0) {
      return;
    }
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(err[1], 2);
      execv(pointers[0], pointers.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
  }
  ~Supervised() {
    if (pid_ > 0 && !reaped_) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (int fd : {in_, out_, err_}) {
      if (fd >= 0) close(fd);
    }
  }

  pid_t pid() const { return pid_; }
  const std::string& out() const { return out_text_; }
  const std::string& err() const { return err_text_; }

  // Reads stdout (only) until it holds `needle`, up to 60 s.
  bool WaitForStdout(const std::string& needle) { return ReadUntil(&out_, &out_text_, needle); }
  // Reads stderr (only) until it holds `needle`, up to 60 s.
  bool WaitForStderr(const std::string& needle) { return ReadUntil(&err_, &err_text_, needle); }

  void CloseStderrReader() {
    close(err_);
    err_ = -1;
  }
  void WriteStdinAndClose(const std::string& text) {
    (void)!write(in_, text.data(), text.size());
    close(in_);
    in_ = -1;
  }

  // Polls, without reading anything, until dpsupervise is blocked writing
  // (in write, poll or ppoll: /proc/PID/syscall) or has exited; up to 60 s.
  bool WaitUntilBlockedWritingOrExited() {
    for (int i = 0; i < 6000; ++i) {
      if (!reaped_ && waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
      if (reaped_) return true;
      std::ifstream syscall_file("/proc/" + std::to_string(pid_) + "/syscall");
      long nr = -1;
      if (syscall_file >> nr && (nr == 1 || nr == 7 || nr == 271)) return true;
      timespec ten_ms{0, 10 * 1000 * 1000};
      nanosleep(&ten_ms, nullptr);
    }
    return false;
  }

  // Reads both outputs to their end and waits for the exit, up to 120 s.
  // Returns the exit status (128+signal when killed), -1 on timeout.
  int Finish() {
    for (int i = 0; i < 12000 && (out_ >= 0 || err_ >= 0); ++i) {
      std::vector<pollfd> fds;
      for (int fd : {out_, err_}) {
        if (fd >= 0) fds.push_back({fd, POLLIN, 0});
      }
      if (poll(fds.data(), fds.size(), 10) <= 0) continue;
      for (const pollfd& p : fds) {
        if (p.revents == 0) continue;
        int* fd = p.fd == out_ ? &out_ : &err_;
        if (!ReadSome(fd, p.fd == out_ ? &out_text_ : &err_text_)) {
          close(*fd);
          *fd = -1;
        }
      }
    }
    if (!reaped_) {
      for (int i = 0; i < 12000 && !reaped_; ++i) {
        if (waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
        timespec ten_ms{0, 10 * 1000 * 1000};
        if (!reaped_) nanosleep(&ten_ms, nullptr);
      }
    }
    if (!reaped_) return -1;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  }

 private:
  // False at the end of the stream.
  static bool ReadSome(int* fd, std::string* text) {
    char buffer[65536];
    const ssize_t n = read(*fd, buffer, sizeof(buffer));
    if (n <= 0) return n < 0 && errno == EINTR;
    text->append(buffer, static_cast<size_t>(n));
    return true;
  }

  bool ReadUntil(int* fd, std::string* text, const std::string& needle) {
    for (int i = 0; i < 6000; ++i) {
      if (text->find(needle) != std::string::npos) return true;
      if (*fd < 0) return false;
      pollfd p{*fd, POLLIN, 0};
      if (poll(&p, 1, 10) <= 0) continue;
      if (!ReadSome(fd, text)) {
        close(*fd);
        *fd = -1;
      }
    }
    return text->find(needle) != std::string::npos;
  }

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string out_text_, err_text_;
  bool reaped_ = false;
  int status_ = 0;
};

std::string Describe(const Supervised& s, int status) {
  std::ostringstream text;
  text << "exit=" << status << "\n--- stdout\n"
       << s.out() << "\n--- stderr (" << s.err().size() << " bytes)\n"
       << s.err().substr(s.err().size() > 4000 ? s.err().size() - 4000 : 0);
  return text.str();
}

// The program makes the stderr it shares with dpsupervise non-blocking and
// fills it; nothing reads it until dpsupervise is blocked writing its first
// report (or has given up). Every report must still arrive, and the program
// must end as it would have.
TEST(ReportOutput, NonBlockingFullStderrDelaysReportsButHarmsNothing) {
  Supervised s({"--on-violation=log", "--", TestProgram("report_pressure"), "fill", "3"});
  ASSERT_TRUE(s.WaitForStdout("filled=")) << s.out();
  ASSERT_TRUE(s.WaitUntilBlockedWritingOrExited());
  const int status = s.Finish();
  EXPECT_EQ(status, 3) << Describe(s, status);
  EXPECT_THAT(s.out(), HasSubstr("done"));
  EXPECT_EQ(CountReports(s.err()), 3) << Describe(s, status);
  EXPECT_THAT(s.err(), HasSubstr("action:  log (the program continues)"));
}

// The same with a socket as stderr (a journal stream, say): it cannot be
// reopened, so dpsupervise shares the program's non-blocking description
// and must wait for room instead of failing.
TEST(ReportOutput, NonBlockingFullStderrSocketDelaysReportsButHarmsNothing) {
  Supervised s({"--on-violation=log", "--", TestProgram("report_pressure"), "fill", "3"},
               /*stderr_socket=*/true);
  ASSERT_TRUE(s.WaitForStdout("filled=")) << s.out();
  ASSERT_TRUE(s.WaitUntilBlockedWritingOrExited());
  const int status = s.Finish();
  EXPECT_EQ(status, 3) << Describe(s, status);
  EXPECT_THAT(s.out(), HasSubstr("done"));
  EXPECT_EQ(CountReports(s.err()), 3) << Describe(s, status);
}

// `dpsupervise ... 2>&1 | head -1`: the reader of the reports goes away
// after the first one. The later reports are lost, but neither dpsupervise
// nor the program dies of it (SIGPIPE).
TEST(ReportOutput, ReaderThatGoesAwayHarmsNothing) {
  Supervised s({"--on-violation=log", "--", TestProgram("report_pressure"), "gone", "3"});
  ASSERT_TRUE(s.WaitForStderr("strict mode violated")) << s.err();
  ASSERT_TRUE(s.WaitForStdout("first")) << s.out();
  s.CloseStderrReader();
  s.WriteStdinAndClose("go\n");
  const int status = s.Finish();
  EXPECT_EQ(status, 3) << Describe(s, status);
  EXPECT_THAT(s.out(), HasSubstr("done"));
}

// A report file that cannot be written (ENOSPC): one message on stderr,
// supervision goes on, the exit status is the program's.
TEST(ReportOutput, UnwritableReportFileIsSaidOnceAndHarmsNothing) {
  RunResult r = RunSupervised(
      {"--on-violation=log", "-o", "/dev/full", "--", TestProgram("violate_n"), "3"});
  EXPECT_EQ(r.exit_status, 0) << dptest::Describe(r);
  EXPECT_THAT(r.out, HasSubstr("done"));
  const std::string message =
      "dpsupervise: cannot write reports to /dev/full: No space left on device; supervision "
      "goes on, later reports are lost\n";
  EXPECT_THAT(r.err, HasSubstr(message));
  EXPECT_EQ(r.err.find(message), r.err.rfind(message)) << r.err;
}

// dpsupervise survives SIGPIPE with a handler of its own, which exec resets:
// the program gets the disposition it would have had without dpsupervise.
TEST(ReportOutput, TheProgramInheritsSigpipeAsWithoutUs) {
  const std::vector<std::string> grep = {"/bin/grep", "SigIgn", "/proc/self/status"};
  RunResult alone = dptest::Run(grep);
  std::vector<std::string> supervised = {"--"};
  supervised.insert(supervised.end(), grep.begin(), grep.end());
  RunResult under = RunSupervised(supervised);
  ASSERT_EQ(alone.exit_status, 0) << dptest::Describe(alone);
  ASSERT_EQ(under.exit_status, 0) << dptest::Describe(under);
  EXPECT_EQ(under.out, alone.out);
}

}  // namespace
}  // namespace dptest
