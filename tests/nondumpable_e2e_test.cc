// Programs that make themselves non-dumpable, supervised by an
// unprivileged dpsupervise. A target of its own because it must run outside Bazel's
// sandbox (tag no-sandbox in tests/BUILD): only there can the test, as root,
// run dpsupervise as another user (setpriv, uid 65534).
//
// Since Linux 4.10 the kernel keeps the memory of a non-dumpable process
// from any tracer without CAP_SYS_PTRACE over it: process_vm_readv/writev
// and /proc/PID/mem fail with EPERM, and even the tracer's own
// PTRACE_PEEKDATA/POKEDATA fail with EIO (ptrace_access_vm). The strict
// filter cannot be written into the thread then; dpsupervise must say why
// and what to do, and refuse the entry instead of failing as a whole.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/run_util.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSetpriv[] = "/usr/bin/setpriv";

// Copies of dpsupervise and the test program in a fresh directory under
// /tmp that uid 65534 can traverse: the runfiles tree lives under root's
// home, which it cannot.
class UnprivilegedCopies {
 public:
  UnprivilegedCopies() {
    char dir_template[] = "/tmp/dpsupervise-nondumpable-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) return;
    dir_ = dir_template;
    chmod(dir_.c_str(), 0755);
    supervisor_ = Copy(Runfile("supervisor/dpsupervise"), "dpsupervise");
    program_ = Copy(TestProgram("nondumpable"), "nondumpable");
  }
  ~UnprivilegedCopies() {
    unlink(supervisor_.c_str());
    unlink(program_.c_str());
    rmdir(dir_.c_str());
  }
  bool ok() const { return !supervisor_.empty() && !program_.empty(); }
  const std::string& supervisor() const { return supervisor_; }
  const std::string& program() const { return program_; }

 private:
  std::string Copy(const std::string& from, const std::string& name) {
    if (dir_.empty()) return "";
    const std::string to = dir_ + "/" + name;
    {
      std::ifstream in(from, std::ios::binary);
      std::ofstream out(to, std::ios::binary | std::ios::trunc);
      out << in.rdbuf();
      if (!in || !out) return "";
    }
    return chmod(to.c_str(), 0755) == 0 ? to : "";
  }

  std::string dir_;
  std::string supervisor_;
  std::string program_;
};

TEST(NonDumpable, UnprivilegedSupervisorRefusesStrictEntryAndSaysWhy) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run dpsupervise as uid 65534";
  if (access(kSetpriv, X_OK) != 0) GTEST_SKIP() << kSetpriv << " (util-linux) is not installed";
  UnprivilegedCopies copies;
  ASSERT_TRUE(copies.ok()) << "cannot copy the binaries to /tmp: " << strerror(errno);
  RunResult r =
      dptest::Run({kSetpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                   copies.supervisor(), "--mechanism=seccomp", "--format=json", "--",
                   copies.program()});
  // The entry is refused with EPERM; the program reports that and exits 4
  // (testdata/strict_test_util.h), dpsupervise with its status.
  EXPECT_EQ(r.exit_status, 4) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("strict entry refused: cannot write the strict filter"));
  EXPECT_THAT(r.err, HasSubstr("is not dumpable (it called prctl(PR_SET_DUMPABLE, 0)"));
  EXPECT_THAT(r.err, HasSubstr("run dpsupervise as root (or with CAP_SYS_PTRACE and CAP_PERFMON)"));
  EXPECT_THAT(r.err, HasSubstr("dp_enter_strict: Operation not permitted"));
  EXPECT_THAT(r.err, HasSubstr("\"total_violations\":0"));
  EXPECT_THAT(r.out, Not(HasSubstr("nondumpable survived")));
}

// Syscall user dispatch writes nothing into the program: the entry works,
// and the syscall after it is reported (page faults still go unseen).
TEST(NonDumpable, UnprivilegedSupervisorEntersByDispatch) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run dpsupervise as uid 65534";
  if (access(kSetpriv, X_OK) != 0) GTEST_SKIP() << kSetpriv << " (util-linux) is not installed";
  UnprivilegedCopies copies;
  ASSERT_TRUE(copies.ok()) << "cannot copy the binaries to /tmp: " << strerror(errno);
  RunResult r =
      dptest::Run({kSetpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                   copies.supervisor(), "--mechanism=dispatch", "--format=json", "--",
                   copies.program()});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.err, Not(HasSubstr("strict entry refused"))) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("\"total_violations\":1")) << Describe(r);
}

std::vector<std::string> AsNobody(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {kSetpriv, "--reuid=65534", "--regid=65534", "--clear-groups"});
  return argv;
}

// TracerPid of `pid`, or -1 when its status cannot be read.
long TracerOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string status((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = status.find("TracerPid:");
  return at == std::string::npos ? -1 : atol(status.c_str() + at + strlen("TracerPid:"));
}

// Attached while the program was dumpable, dpsupervise keeps watching it
// after it is not: a thread named later is made strict, its violation
// reported. Its page-fault event was opened at the attach, while the
// program was dumpable (every thread's is opened when it is first seen), so
// page faults stay detected: no "will not be detected" message.
TEST(NonDumpable, AttachedSupervisorKeepsPageFaultsOpenedWhileDumpable) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run dpsupervise as uid 65534";
  if (access(kSetpriv, X_OK) != 0) GTEST_SKIP() << kSetpriv << " (util-linux) is not installed";
  UnprivilegedCopies copies;
  ASSERT_TRUE(copies.ok()) << "cannot copy the binaries to /tmp: " << strerror(errno);
  Background program(AsNobody({copies.program(), "serve-later"}));
  ASSERT_TRUE(program.WaitForStdout("pid=")) << program.out();
  const pid_t pid = static_cast<pid_t>(FindLabeledNumber(program.out(), "pid"));
  ASSERT_GT(pid, 0);
  Background supervisor(AsNobody({copies.supervisor(), "--preflight=off", "--on-violation=log",
                                  "--strict-thread=dp-worker", "-p", std::to_string(pid)}));
  for (int i = 0; i < 3000 && TracerOf(pid) <= 0; ++i) usleep(10000);
  ASSERT_GT(TracerOf(pid), 0) << supervisor.err();
  kill(pid, SIGUSR2);  // non-dumpable now, then the worker is named
  ASSERT_TRUE(program.WaitForStdout("named")) << program.out();
  ASSERT_TRUE(supervisor.WaitForStderr("strict mode entered (attached")) << supervisor.err();
  EXPECT_THAT(supervisor.err(), Not(HasSubstr("will not be detected"))) << supervisor.err();
  kill(pid, SIGUSR2);  // the worker's open()
  ASSERT_TRUE(supervisor.WaitForStderr("action:  log")) << supervisor.err();
  // Its path cannot be read: the address stands in for it.
  EXPECT_THAT(supervisor.err(), HasSubstr("strict mode violated by syscall open(0x"));
  kill(supervisor.pid(), SIGINT);
  RunResult detached = supervisor.Wait();
  EXPECT_EQ(detached.exit_status, 0) << Describe(detached);
  kill(pid, SIGUSR1);
  EXPECT_EQ(program.Wait().exit_status, 0);
}

// -p of a process that is already non-dumpable: the kernel refuses the
// attach itself, and the message names that cause.
TEST(NonDumpable, UnprivilegedAttachIsRefusedNamingTheCause) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run dpsupervise as uid 65534";
  if (access(kSetpriv, X_OK) != 0) GTEST_SKIP() << kSetpriv << " (util-linux) is not installed";
  UnprivilegedCopies copies;
  ASSERT_TRUE(copies.ok()) << "cannot copy the binaries to /tmp: " << strerror(errno);
  Background program(AsNobody({copies.program(), "serve"}));
  ASSERT_TRUE(program.WaitForStdout("pid=")) << program.out();
  const pid_t pid = static_cast<pid_t>(FindLabeledNumber(program.out(), "pid"));
  ASSERT_GT(pid, 0);
  RunResult r = dptest::Run(AsNobody({copies.supervisor(), "--strict-thread=dp-worker", "-p",
                                      std::to_string(pid)}));
  EXPECT_EQ(r.exit_status, 125) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("cannot attach to process " + std::to_string(pid) +
                               " (nondumpable): ptrace(PTRACE_SEIZE, "));
  EXPECT_THAT(r.err, HasSubstr("Operation not permitted: process " + std::to_string(pid) +
                               " is not dumpable"));
  kill(pid, SIGUSR1);
  EXPECT_EQ(program.Wait().exit_status, 0);
}

// The control: with CAP_SYS_PTRACE (root) the same program is supervised
// in full, its syscall's path decoded from its memory.
TEST(NonDumpable, PrivilegedSupervisorDecodesArguments) {
  RunResult r = RunSupervised({"--format=json", "--", TestProgram("nondumpable"), "enter"});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(R"("name":"open")")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(R"(open(\"/dpsupervise-nondumpable-probe\", O_RDONLY))"))
      << Describe(r);
}

}  // namespace
}  // namespace dptest
