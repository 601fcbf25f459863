// dpsupervise never signals more than it means to, and always ends when it
// is asked to: a failed getpid() never becomes kill(-1), and termination
// signals end dpsupervise within a bounded time whatever the program does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "tests/run_util.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;

// An outer seccomp filter (a wrapper, a container runtime) that makes
// getpid() fail: the launch child must not turn that into kill(-1, SIGSTOP),
// which as root stops every process it can see. All of it runs in a pid
// namespace of its own, where the worst case stops only the sibling.
TEST(OwnPidUnknown, LaunchFailsClearlyAndSignalsNothingElse) {
  RunResult r = dptest::Run({"/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount-proc",
                     TestProgram("pidns_sibling_check"), TestProgram("deny_getpid"),
                     Runfile("supervisor/dpsupervise"), "--", "/bin/true"});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("sibling state=S")) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("command exit=125")) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("dpsupervise: launching /bin/true: getpid()")) << Describe(r);
}

}  // namespace
}  // namespace dptest
