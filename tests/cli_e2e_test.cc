// Every command-line misuse on the real binary: exit status 2, nothing on
// standard output, exactly one line on standard error starting with
// "dpsupervise: ". tests/cli_test.cc checks the messages themselves.
// Then -p PID of processes that cannot be attached to: exit 125 and the
// true cause.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "tests/json_records.h"
#include "tests/run_util.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct Misuse {
  std::vector<std::string> args;  // after "dpsupervise"
  const char* names;              // what the message must name
};

void PrintTo(const Misuse& m, std::ostream* os) {
  *os << "dpsupervise";
  for (const std::string& a : m.args) *os << " '" << a << "'";
}

class CliMisuseE2E : public ::testing::TestWithParam<Misuse> {};

TEST_P(CliMisuseE2E, ExitsTwoWithOneLine) {
  std::vector<std::string> argv = {Runfile("supervisor/dpsupervise")};
  argv.insert(argv.end(), GetParam().args.begin(), GetParam().args.end());
  RunOptions options;
  options.timeout_seconds = 30;
  RunResult r = dptest::Run(argv, options);
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_status, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("dpsupervise: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.back(), '\n') << r.err;
  EXPECT_THAT(r.err, HasSubstr(GetParam().names));
}

const Misuse kMisuses[] = {
    {{"--bogus", "--", "/bin/true"}, "unknown option '--bogus'"},
    {{"-x", "/bin/true"}, "unknown option '-x'"},
    {{"--on_violation=kill", "--", "/bin/true"}, "unknown option"},
    {{"--format"}, "option '--format' needs a value"},
    {{"-P"}, "option '-P' needs a value"},
    {{"-o"}, "option '-o' needs a value"},
    {{"-P", "", "--", "/bin/true"}, "-P needs a file name"},
    {{"--format=xml", "--", "/bin/true"}, "invalid value 'xml' for --format"},
    {{"--strict=thread", "--", "/bin/true"}, "invalid value 'thread' for --strict"},
    {{"--preflight=on", "--", "/bin/true"}, "invalid value 'on' for --preflight"},
    {{"--summary=maybe", "--", "/bin/true"}, "invalid value 'maybe' for --summary"},
    {{"--help=2"}, "invalid value '2' for --help"},
    {{"--check-policy"}, "--check-policy needs at least one -P FILE"},
    {{"--check-policy", "-P", "x.policy", "--", "/bin/true"}, "--check-policy takes no program"},
    {{}, "no program given"},
    {{"--"}, "no program given"},
    {{"--format=json"}, "no program given"},
    {{"--enter-at-every", "--", "/bin/true"}, "--enter-at-every needs --enter-at"},
    {{"--strict-after=soon", "--strict-thread=w", "--", "/bin/true"}, "--strict-after"},
    {{"-p", "x", "--strict-thread=w"}, "invalid value 'x'"},
    {{"-p", "0", "--strict-thread=w"}, "invalid value '0' for --pid: expected a process id"},
    {{"--pid=-1", "--strict-thread=w"}, "invalid value '-1' for --pid"},
    {{"-p", "4194305", "--strict-thread=w"}, "invalid value '4194305' for --pid"},
    {{"-p", "12", "--strict-thread=w", "--", "/bin/true"}, "-p PID takes no program"},
    // Parsed with the other options, before the program is looked up (it
    // was once parsed after, which made this 127 "No such file").
    {{"--enter-at=0xZZ", "--", "/nonexistent/program"}, "--enter-at: invalid address '0xZZ'"},
    {{"--leave-at=:f", "--", "/bin/true"}, "--leave-at: ':f': empty library name"},
    // Checked after parsing, before anything is launched.
    {{"--on-violation=explode", "--", "/bin/true"}, "--on-violation: found 'explode'"},
    {{"--on-violation=signal", "--", "/bin/true"}, "--on-violation: "},
    {{"-P", "/nonexistent/x.policy", "--", "/bin/true"}, "cannot read the policy file"},
    {{"--check-policy", "-P", "/nonexistent/x.policy"}, "cannot read the policy file"},
    {{"--sumary", "--", "/bin/true"}, "unknown option '--sumary' (did you mean --summary?)"},
    {{"--log-fd=99", "--", "/bin/true"}, "--log-fd=99: descriptor 99 is not open"},
    {{"--error-exitcode=0", "--", "/bin/true"}, "invalid value '0' for --error-exitcode"},
    {{"--report-limit=5/x", "--", "/bin/true"}, "invalid value '5/x' for --report-limit"},
};

// A report file that cannot be opened is dpsupervise failing (125), with the
// path and the reason, not a misuse.
TEST(CliE2E, UnwritableOutputFileIs125WithPathAndErrno) {
  RunResult r = RunSupervised({"-o", "/nonexistent/dir/r.txt", "--", "/bin/true"});
  EXPECT_EQ(r.exit_status, 125) << Describe(r);
  EXPECT_EQ(r.err,
            "dpsupervise: cannot open report file /nonexistent/dir/r.txt: No such file or "
            "directory\n");
}

// --log-fd writes the reports to an inherited descriptor; JSON starts with
// the start record and ends with the verdict.
TEST(CliE2E, LogFdGetsTheReportsStartingWithTheStartRecord) {
  char path[] = "/tmp/dpsupervise_log_fd_XXXXXX";
  const int fd = mkstemp(path);  // no O_CLOEXEC: dpsupervise inherits it
  ASSERT_GE(fd, 0);
  unlink(path);
  RunResult r = RunSupervised(
      {"--log-fd=" + std::to_string(fd), "--format=json", "--", "/bin/true"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_EQ(r.err, "");
  std::string text(4096, '\0');
  text.resize(static_cast<size_t>(std::max<ssize_t>(0, pread(fd, &text[0], text.size(), 0))));
  close(fd);
  const std::vector<Json> lines = JsonLines(text);
  ASSERT_GE(lines.size(), 3u) << text;
  EXPECT_EQ(lines.front()["type"], "start");
  EXPECT_EQ(lines.front()["schema_version"], 1);
  EXPECT_EQ(lines.front()["command"].back(), "/bin/true");
  EXPECT_GT(lines.front()["program_pid"].get<int>(), 0);
  EXPECT_EQ(lines.back()["type"], "verdict");
  EXPECT_EQ(lines.back()["text"], "dpsupervise: no thread entered strict mode");
}

// -o opens the file with O_APPEND: a rotation that truncates it
// (copytruncate) makes later reports start at the new end, not leave a hole.
TEST(CliE2E, OutputFileIsOpenedForAppending) {
  std::string path = ::testing::TempDir();
  if (path.back() != '/') path += '/';
  path += "append_reports.txt";
  Background supervisor({Runfile("supervisor/dpsupervise"), "-o" + path, "--", "/bin/sh", "-c",
                         "echo started; read line; exit 0"},
                        /*pipe_stdin=*/true);
  ASSERT_TRUE(supervisor.WaitForStdout("started")) << supervisor.err();
  std::string flags;
  const std::string fds = "/proc/" + std::to_string(supervisor.pid()) + "/fd";
  for (int fd = 0; fd < 64 && flags.empty(); ++fd) {
    char target[4096];
    const ssize_t n = readlink((fds + "/" + std::to_string(fd)).c_str(), target, sizeof(target));
    if (n <= 0 || std::string(target, n) != path) continue;
    std::ifstream info("/proc/" + std::to_string(supervisor.pid()) + "/fdinfo/" +
                       std::to_string(fd));
    for (std::string line; std::getline(info, line);) {
      if (line.rfind("flags:", 0) == 0) flags = line.substr(6);
    }
  }
  supervisor.CloseStdin();
  RunResult r = supervisor.Wait();
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  ASSERT_FALSE(flags.empty()) << "no descriptor of dpsupervise is " << path;
  EXPECT_NE(std::stoul(flags, nullptr, 8) & O_APPEND, 0u) << flags;
}

INSTANTIATE_TEST_SUITE_P(Misuses, CliMisuseE2E, ::testing::ValuesIn(kMisuses));

TEST(CliE2E, HelpAndVersionExitZero) {
  RunResult help = dptest::Run({Runfile("supervisor/dpsupervise"), "--help"});
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_THAT(help.out, StartsWith("Usage: dpsupervise"));
  EXPECT_EQ(help.err, "");
  RunResult version = dptest::Run({Runfile("supervisor/dpsupervise"), "--version"});
  EXPECT_EQ(version.exit_status, 0);
  EXPECT_THAT(version.out, StartsWith("dpsupervise "));
  EXPECT_EQ(version.err, "");
}

TEST(CliE2E, CheckPolicyValidatesOnViolationToo) {
  // Fixed; the finding, kept for the record:
  [[maybe_unused]] static constexpr char kFinding[] = "known bug: supervisor/main.cc returns CheckPolicy(policy) before "
                  "ResolveActions() looks at --on-violation, so `dpsupervise --check-policy -P "
                  "FILE --on-violation=explode` says the policy is OK and exits 0.";
  RunResult r = dptest::Run({Runfile("supervisor/dpsupervise"), "--check-policy", "-P",
                             Runfile("testdata/policies/common.policy"),
                             "--on-violation=explode"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_THAT(r.err, StartsWith("dpsupervise: --on-violation: "));
}

// ---------------------------------------------------------------------------
// -p PID that cannot be attached to: exit 125 and one line naming the cause.

RunResult Attach(pid_t pid, const std::vector<std::string>& prefix = {}) {
  std::vector<std::string> argv = prefix;
  argv.insert(argv.end(),
              {Runfile("supervisor/dpsupervise"), "--strict-thread=w", "-p", std::to_string(pid)});
  RunOptions options;
  options.timeout_seconds = 30;
  return dptest::Run(argv, options);
}

void ExpectRefused(const RunResult& r, const std::string& cause) {
  EXPECT_EQ(r.exit_status, 125) << Describe(r);
  EXPECT_THAT(r.err, StartsWith("dpsupervise: cannot attach to process ")) << r.err;
  EXPECT_THAT(r.err, HasSubstr(cause)) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("debugger, or not permitted"))) << r.err;
}

// Field 3 (state) of /proc/PID/stat, or '?' when it cannot be read.
char ProcessState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

// Polls (up to 30 s) until `pid` is in `state`.
bool WaitForState(pid_t pid, char state) {
  for (int i = 0; i < 3000; ++i) {
    if (ProcessState(pid) == state) return true;
    usleep(10000);
  }
  return false;
}

// A child that sleeps until killed; killed and reaped at the end.
class SleepingChild {
 public:
  SleepingChild() {
    pid_ = fork();
    if (pid_ == 0) {
      for (;;) pause();
    }
  }
  ~SleepingChild() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

TEST(AttachE2E, RefusesItselfAsSuch) {
  // The shell's $$ is the pid dpsupervise has after exec.
  RunOptions options;
  options.timeout_seconds = 30;
  RunResult r = dptest::Run({"/bin/sh", "-c", "exec \"$0\" --strict-thread=w -p $$",
                             Runfile("supervisor/dpsupervise")},
                            options);
  ExpectRefused(r, "(dpsupervise): it is this dpsupervise itself");
}

TEST(AttachE2E, RefusesAZombieAsSuch) {
  const pid_t zombie = fork();
  if (zombie == 0) _exit(0);
  ASSERT_GT(zombie, 0);
  ASSERT_TRUE(WaitForState(zombie, 'Z'));
  RunResult r = Attach(zombie);
  ExpectRefused(r, "it is a zombie (it has exited and waits for its parent to reap it)");
  waitpid(zombie, nullptr, 0);
}

TEST(AttachE2E, RefusesATracedProcessNamingItsTracer) {
  SleepingChild child;
  ASSERT_GT(child.pid(), 0);
  ASSERT_EQ(ptrace(PTRACE_SEIZE, child.pid(), nullptr, nullptr), 0) << strerror(errno);
  RunResult r = Attach(child.pid());
  ExpectRefused(r, "it is already traced by process " + std::to_string(getpid()) + " (");
}

// The first kernel thread visible in /proc (PF_KTHREAD in field 9 of its
// stat), or 0: a pid namespace (Bazel's sandbox) shows none.
pid_t FindKernelThread() {
  constexpr unsigned long kPfKthread = 0x00200000;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  pid_t found = 0;
  while (dirent* entry = readdir(proc)) {
    const pid_t pid = atoi(entry->d_name);
    if (pid <= 0) continue;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 9 && fields >> field; ++i) {
    }
    if (strtoul(field.c_str(), nullptr, 10) & kPfKthread) {
      found = pid;
      break;
    }
  }
  closedir(proc);
  return found;
}

TEST(AttachE2E, RefusesAKernelThreadAsSuch) {
  const pid_t kthread = FindKernelThread();
  if (kthread == 0) {
    GTEST_SKIP() << "no kernel thread visible in this pid namespace (Bazel's sandbox); "
                    "//tests:attach_privileged_e2e_test runs this outside it";
  }
  ExpectRefused(Attach(kthread), "it is a kernel thread, and kernel threads cannot be traced");
}

// Outside the sandbox, as root (//tests:attach_privileged_e2e_test): another
// user's process, and pid 1, refused by the kernel for a named reason.
TEST(AttachPrivilegedE2E, RefusesAnotherUsersProcessNamingTheUids) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run dpsupervise as uid 65534";
  if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "setpriv (util-linux) is missing";
  // dpsupervise must be reachable by uid 65534: the runfiles are under
  // root's home.
  char dir[] = "/tmp/dpsupervise-attach-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr) << strerror(errno);
  chmod(dir, 0755);
  const std::string copy = std::string(dir) + "/dpsupervise";
  {
    std::ifstream in(Runfile("supervisor/dpsupervise"), std::ios::binary);
    std::ofstream out(copy, std::ios::binary);
    out << in.rdbuf();
  }
  ASSERT_EQ(chmod(copy.c_str(), 0755), 0) << strerror(errno);
  const std::vector<std::string> as_nobody = {"/usr/bin/setpriv", "--reuid=65534",
                                              "--regid=65534", "--clear-groups"};
  SleepingChild child;
  ASSERT_GT(child.pid(), 0);
  for (pid_t pid : {child.pid(), 1}) {
    std::vector<std::string> argv = as_nobody;
    argv.insert(argv.end(), {copy, "--strict-thread=w", "-p", std::to_string(pid)});
    RunResult r = dptest::Run(argv);
    ExpectRefused(r, "ptrace(PTRACE_SEIZE, " + std::to_string(pid) +
                         "): Operation not permitted: ");
    if (pid == child.pid()) {
      EXPECT_THAT(r.err, HasSubstr("it runs as uid 0 (real, effective, saved: 0, 0, 0), "
                                   "dpsupervise as uid 65534: tracing another user's process "
                                   "needs CAP_SYS_PTRACE"));
    }
  }
  unlink(copy.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace dptest
