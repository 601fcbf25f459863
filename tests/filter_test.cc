// Unit tests of the seccomp programs: each test loads the compiled filters in
// a forked child, traced by the test, and checks which syscalls run and which
// stop with which cookie.
#include "supervisor/seccomp/filter.h"

#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <utility>
#include <vector>

#include "lib/dataplane.h"
#include "tests/filtered_child.h"

namespace dpsupervise {
namespace {


int Cookie(TraceCookie c) { return static_cast<int>(c); }

class FilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto base = BuildBaseFilter();
    ASSERT_TRUE(base.ok()) << base.status();
    base_ = *base;
    auto strict = BuildStrictFilter({});
    ASSERT_TRUE(strict.ok()) << strict.status();
    strict_ = *strict;
  }
  BpfProgram base_;
  BpfProgram strict_;
};

TEST_F(FilterTest, ProgramsAreWithinKernelLimits) {
  EXPECT_GT(base_.instructions.size(), 4u);
  EXPECT_LT(base_.instructions.size(), 64u) << "base filter should stay tiny";
  EXPECT_GT(strict_.instructions.size(), 4u);
  EXPECT_LE(strict_.instructions.size(), static_cast<size_t>(BPF_MAXINSNS));
}

TEST_F(FilterTest, BaseFilterLetsOrdinarySyscallsRun) {
  ChildRun run = RunFiltered({&base_}, [] {
    if (Raw(SYS_getpid) <= 0) return 1;
    if (Raw(SYS_getppid) <= 0) return 2;
    char name[16];
    if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0) return 3;
    return 0;
  });
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.stops, ::testing::IsEmpty());
}

TEST_F(FilterTest, BaseFilterTracesDataplanePrctlsOnly) {
  ChildRun run = RunFiltered({&base_}, [] {
    Raw(SYS_prctl, PR_SET_DATAPLANE, PR_DATAPLANE_STRICT);
    Raw(SYS_prctl, PR_GET_DATAPLANE);
    // Upper 32 bits are ignored by the kernel, so by the filter too.
    Raw(SYS_prctl, (1L << 32) | PR_GET_DATAPLANE);
    Raw(SYS_prctl, PR_GET_DATAPLANE + 1);  // not ours: runs (EINVAL)
    return 0;
  });
  EXPECT_EQ(run.exit_code, 0);
  const TraceStop prctl{Cookie(TraceCookie::kDataplanePrctl), SYS_prctl};
  EXPECT_THAT(run.stops, ::testing::ElementsAre(prctl, prctl, prctl));
}

TEST_F(FilterTest, BaseFilterTracesClone3AndUntracedClone) {
  ChildRun run = RunFiltered({&base_}, [] {
    Raw(SYS_clone3, 0, 0);
    // CLONE_UNTRACED with an invalid flag combination so nothing is created
    // even if the filter let it through.
    Raw(SYS_clone, CLONE_UNTRACED | CLONE_THREAD, 0);
    Raw(SYS_clone, CLONE_THREAD, 0);  // no CLONE_UNTRACED: runs (EINVAL)
    return 0;
  });
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.stops,
              ::testing::ElementsAre(TraceStop{Cookie(TraceCookie::kClone3), SYS_clone3},
                                     TraceStop{Cookie(TraceCookie::kCloneUntraced), SYS_clone}));
}

TEST_F(FilterTest, BaseFilterTracesFilterInstallation) {
  ChildRun run = RunFiltered({&base_}, [] {
    Raw(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_STRICT);  // skipped by the harness
    Raw(SYS_prctl, (1L << 32) | PR_SET_SECCOMP, SECCOMP_MODE_STRICT);
    return 0;
  });
  EXPECT_EQ(run.exit_code, 0);
  const TraceStop change{Cookie(TraceCookie::kFilterChange), SYS_prctl};
  EXPECT_THAT(run.stops, ::testing::ElementsAre(change, change));
}

TEST_F(FilterTest, StrictFilterTracesEverythingButPrctlAndExit) {
  ChildRun run = RunFiltered({&base_, &strict_}, [] {
    Raw(SYS_getpid);
    Raw(SYS_write, 1, 0, 0);
    char name[16];
    if (prctl(PR_GET_NAME, name, 0, 0, 0) != 0) return 3;  // allowed
    Raw(SYS_prctl, PR_GET_DATAPLANE);  // the base filter's TRACE wins
    Raw(SYS_clone3, 0, 0);             // the strict filter's cookie wins
    return 0;                          // exit_group: allowed
  });
  EXPECT_EQ(run.exit_code, 0);
  const int violation = Cookie(TraceCookie::kViolation);
  EXPECT_THAT(run.stops, ::testing::ElementsAre(
                             TraceStop{violation, SYS_getpid}, TraceStop{violation, SYS_write},
                             TraceStop{Cookie(TraceCookie::kDataplanePrctl), SYS_prctl},
                             TraceStop{violation, SYS_clone3}));
}

TEST_F(FilterTest, StrictFilterReportsForeignAbi) {
  ChildRun run = RunFiltered({&base_, &strict_}, [] {
    Raw(0x40000000 | 39);  // x32 getpid
    return 0;
  });
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.stops, ::testing::ElementsAre(
                             TraceStop{Cookie(TraceCookie::kForeignArch), 0x40000000 | 39}));
}

TEST_F(FilterTest, BaseFilterLeavesForeignAbiAlone) {
  ChildRun run = RunFiltered({&base_}, [] {
    // No x32 on this kernel: ENOSYS from the kernel itself, not a trace stop.
    return Raw(0x40000000 | 39) == -1 && errno == ENOSYS ? 0 : 1;
  });
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.stops, ::testing::IsEmpty());
}

TEST_F(FilterTest, PolicyRulesAllowAndFailSyscalls) {
  std::vector<SyscallRule> rules;
  rules.push_back({SYS_write, SCMP_ACT_ALLOW, {SCMP_A0(SCMP_CMP_EQ, 1)}});
  rules.push_back({SYS_sched_yield, SCMP_ACT_ERRNO(EPERM), {}});
  auto strict = BuildStrictFilter(rules);
  ASSERT_TRUE(strict.ok()) << strict.status();
  ChildRun run = RunFiltered({&base_, &*strict}, [] {
    if (Raw(SYS_write, 1, reinterpret_cast<long>(""), 0) != 0) return 1;  // allowed, fd 1
    Raw(SYS_write, 2, reinterpret_cast<long>(""), 0);                     // traced
    if (Raw(SYS_sched_yield) != -1 || errno != EPERM) return 2;
    return 0;
  });
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.stops,
              ::testing::ElementsAre(TraceStop{Cookie(TraceCookie::kViolation), SYS_write}));
}

TEST_F(FilterTest, AllowedSignalMaskChangesAreTracedForTheMonitor) {
  std::vector<SyscallRule> rules;
  rules.push_back({SYS_rt_sigprocmask, SCMP_ACT_ALLOW, {}});
  auto strict = BuildStrictFilter(rules);
  ASSERT_TRUE(strict.ok()) << strict.status();
  ChildRun run = RunFiltered({&base_, &*strict}, [] {
    Raw(SYS_rt_sigprocmask, SIG_BLOCK, 0, 0);
    return 0;
  });
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.stops, ::testing::ElementsAre(
                             TraceStop{Cookie(TraceCookie::kSignalMask), SYS_rt_sigprocmask}));
}

TEST_F(FilterTest, DescribeNamesTheRules) {
  auto text = DescribeStrictFilter({{SYS_clock_gettime, SCMP_ACT_ALLOW, {}}});
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, ::testing::HasSubstr("clock_gettime"));
  EXPECT_THAT(*text, ::testing::HasSubstr("exit_group"));
}

}  // namespace
}  // namespace dpsupervise
