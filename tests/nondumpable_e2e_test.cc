// A program that makes itself non-dumpable, supervised by an unprivileged
// dpsupervise. A target of its own because it must run outside Bazel's
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
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

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
  RunResult r = dptest::Run({kSetpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                             copies.supervisor(), "--format=json", "--", copies.program()});
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

// The control: with CAP_SYS_PTRACE (root) the same program is supervised
// in full, its syscall's path decoded from its memory.
TEST(NonDumpable, PrivilegedSupervisorDecodesArguments) {
  RunResult r = RunSupervised({"--format=json", "--", TestProgram("nondumpable")});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(R"("name":"open")")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr(R"(open(\"/dpsupervise-nondumpable-probe\", 0, 000))"))
      << Describe(r);
}

}  // namespace
}  // namespace dptest
