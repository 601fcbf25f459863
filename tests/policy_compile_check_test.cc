// Unit tests of the compile check (supervisor/policy/policy_compile_check.h): the
// filter it hands back, in process and from its child, and where its errors
// point. (Its stall protection is exercised by tests/policy_fuzz_test.cc,
// with the policies that make libseccomp 2.5.4 hang.)
#include "supervisor/policy/policy_compile_check.h"

#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <algorithm>
#include <string>
#include <vector>

#include "supervisor/seccomp/filter.h"
#include "supervisor/policy/policy_lexer.h"

namespace dpsupervise {
namespace policy {
namespace {

using ::testing::HasSubstr;

bool SameProgram(const BpfProgram& a, const BpfProgram& b) {
  return a.instructions.size() == b.instructions.size() &&
         std::equal(a.instructions.begin(), a.instructions.end(), b.instructions.begin(),
                    [](const sock_filter& x, const sock_filter& y) {
                      return x.code == y.code && x.jt == y.jt && x.jf == y.jf && x.k == y.k;
                    });
}

class CompileCheckTest : public ::testing::Test {
 protected:
  // A pending syscall whose errors point at offset 0 of `source_`.
  PendingSyscall Pending(const std::string& name, std::vector<SyscallRule> rules) {
    return PendingSyscall(name, std::move(rules), "t.policy", lines_[0], 0);
  }

  // Every rule of `pending`, in order: what BuildStrictFilter is given.
  static std::vector<SyscallRule> AllRules(const std::vector<PendingSyscall>& pending) {
    std::vector<SyscallRule> rules;
    for (const PendingSyscall& p : pending) {
      rules.insert(rules.end(), p.rules.begin(), p.rules.end());
    }
    return rules;
  }

  void ExpectHandsBackTheStrictFilter(const std::vector<PendingSyscall>& pending) {
    auto compiled = CompileChecked(pending, FilterOutput::kProgramAndPseudoCode);
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    auto expected = BuildStrictFilter(AllRules(pending));
    ASSERT_TRUE(expected.ok()) << expected.status();
    ASSERT_TRUE(compiled->program.ok()) << compiled->program.status();
    EXPECT_TRUE(SameProgram(*compiled->program, *expected));
    auto description = DescribeStrictFilter(AllRules(pending));
    ASSERT_TRUE(description.ok() && compiled->pseudo_code.ok());
    EXPECT_EQ(*compiled->pseudo_code, *description);
  }

  const std::string source_ = "read: arg0 == 3";
  const std::vector<LogicalLine> lines_ = SplitLogicalLines(source_);
};

TEST_F(CompileCheckTest, NoRulesIsTheEmptyStrictFilter) { ExpectHandsBackTheStrictFilter({}); }

TEST_F(CompileCheckTest, UnconditionalRulesAreCompiledInProcess) {
  ExpectHandsBackTheStrictFilter({Pending("read", {{SYS_read, SCMP_ACT_ALLOW, {}}}),
                                  Pending("close", {{SYS_close, SCMP_ACT_ERRNO(EPERM), {}}})});
}

TEST_F(CompileCheckTest, ConditionalRulesComeBackFromTheChild) {
  ExpectHandsBackTheStrictFilter(
      {Pending("read", {{SYS_read, SCMP_ACT_ALLOW, {SCMP_A0(SCMP_CMP_EQ, 3)}},
                        {SYS_read, SCMP_ACT_ALLOW, {SCMP_A0(SCMP_CMP_GE, 0x100000000ULL)}}}),
       Pending("rt_sigprocmask",
               {{SYS_rt_sigprocmask, SCMP_ACT_ALLOW, {SCMP_A0(SCMP_CMP_EQ, 0)}}})});
}

TEST_F(CompileCheckTest, TheProgramIsNotAskedForItsPseudoCodeUnlessWanted) {
  auto compiled = CompileChecked(
      {Pending("read", {{SYS_read, SCMP_ACT_ALLOW, {SCMP_A0(SCMP_CMP_EQ, 3)}}})},
      FilterOutput::kProgram);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  EXPECT_TRUE(compiled->program.ok());
  EXPECT_EQ(compiled->pseudo_code.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(CompileCheckTest, ARuleLibseccompRejectsIsReportedAtItsSyscall) {
  // libseccomp has no argument 6.
  scmp_arg_cmp bad{6, SCMP_CMP_EQ, 1, 0};
  auto compiled = CompileChecked(
      {Pending("write", {{SYS_write, SCMP_ACT_ALLOW, {SCMP_A0(SCMP_CMP_EQ, 1)}}}),
       Pending("read", {{SYS_read, SCMP_ACT_ALLOW, {bad}}})},
      FilterOutput::kProgram);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(compiled.status().message(),
            "t.policy:1:1: error: found a rule for 'read' that libseccomp rejects (Invalid "
            "argument), expected one it accepts\nread: arg0 == 3\n^");
}

}  // namespace
}  // namespace policy
}  // namespace dpsupervise
