// A set-user-ID program under dpsupervise. A target of its own because it
// must run outside Bazel's sandbox (tag no-sandbox in tests/BUILD): the
// sandbox runs tests in a user namespace where only the caller's uid is
// mapped, so a file cannot be given to another user (chown: EINVAL) and no
// set-user-ID exec can be observed there.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "tests/run_util.h"
#include "tests/test_files.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;

// A set-user-ID binary gains nothing under dpsupervise: the kernel ignores
// the bit for a traced process and under PR_SET_NO_NEW_PRIVS, both set at
// launch. The control run, without dpsupervise, shows the bit works here.
TEST(Hostile, SetuidBinaryGainsNoPrivilege) {
  const std::string copy = TestTmpDir() + "/hostile_setuid";
  {
    std::ifstream in(TestProgram("hostile"), std::ios::binary);
    std::ofstream out(copy, std::ios::binary | std::ios::trunc);
    out << in.rdbuf();
  }
  constexpr uid_t kNobody = 65534;
  if (chown(copy.c_str(), kNobody, kNobody) != 0) {
    GTEST_SKIP() << "cannot give a file to uid 65534 here (not root?): " << strerror(errno);
  }
  ASSERT_EQ(chmod(copy.c_str(), 04755), 0) << strerror(errno);
  RunResult native = dptest::Run({copy, "ids"});
  if (native.out.find("euid=65534") == std::string::npos) {
    GTEST_SKIP() << "set-user-ID is not honored here (nosuid mount?): " << native.out;
  }
  RunResult r = RunSupervised({"--preflight=off", "--", copy, "ids"});
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("uid=" + std::to_string(getuid()) +
                               " euid=" + std::to_string(geteuid()) + "\n"));
  EXPECT_EQ(CountReports(r.err), 1) << Describe(r);
}

}  // namespace
}  // namespace dptest
