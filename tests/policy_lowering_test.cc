// Unit tests of lowering (supervisor/policy/policy_lowering.h): the libseccomp
// rules a parsed filter becomes, and the errors only lowering can find.
#include "supervisor/policy/policy_lowering.h"

#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <string>
#include <vector>

#include "supervisor/policy/policy_lexer.h"
#include "supervisor/policy/policy_merge.h"
#include "supervisor/policy/policy_parser.h"

namespace dpsupervise {
namespace policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Each rule as "ACTION: cond && cond", ACTION "allow" or "errno E".
std::vector<std::string> Describe(const std::vector<SyscallRule>& rules) {
  std::vector<std::string> out;
  for (const SyscallRule& rule : rules) {
    std::string text = rule.action == SCMP_ACT_ALLOW
                           ? "allow"
                           : "errno " + std::to_string(rule.action & 0xffff);
    std::vector<std::string> conditions;
    for (const scmp_arg_cmp& c : rule.conditions) conditions.push_back(FormatCompare(c));
    if (!conditions.empty()) text += ":";
    for (size_t i = 0; i < conditions.size(); ++i) {
      text += (i == 0 ? " " : " && ") + conditions[i];
    }
    EXPECT_EQ(rule.nr, SYS_read);
    out.push_back(text);
  }
  return out;
}

// Parses `read: FILTER` and lowers it.
absl::StatusOr<std::vector<SyscallRule>> Lower(const std::string& filter) {
  const std::string text = "read: " + filter;
  std::vector<LogicalLine> lines = SplitLogicalLines(text);
  auto statement = ParseStatement("t.policy", lines[0]);
  if (!statement.ok()) return statement.status();
  const RuleStatement& rule = std::get<RuleStatement>(*statement);
  return LowerFilter(LineLocation{"t.policy", &lines[0]}, SYS_read, rule.filter);
}

std::vector<std::string> Lowered(const std::string& filter) {
  auto rules = Lower(filter);
  EXPECT_TRUE(rules.ok()) << rules.status();
  return rules.ok() ? Describe(*rules) : std::vector<std::string>{};
}

std::string ErrorOf(const std::string& filter) {
  auto rules = Lower(filter);
  EXPECT_FALSE(rules.ok()) << filter;
  return std::string(rules.status().message());
}

TEST(PolicyLoweringTest, UnconditionalFilters) {
  EXPECT_THAT(Lowered("1"), ElementsAre("allow"));
  EXPECT_THAT(Lowered("return EPERM"), ElementsAre("errno 1"));
}

TEST(PolicyLoweringTest, OneAllowRulePerAlternative) {
  EXPECT_THAT(Lowered("arg0 == 1 || arg0 == 2 && arg1 < 5"),
              ElementsAre("allow: arg0 == 1", "allow: arg0 == 2 && arg1 < 5"));
  EXPECT_THAT(Lowered("arg1 < 9 && arg0 >= 3 && arg0 <= 3"),
              ElementsAre("allow: arg0 == 3 && arg1 < 9"));
}

TEST(PolicyLoweringTest, MasksBecomeOneAlternativePerBit) {
  EXPECT_THAT(Lowered("arg2 & 0x5"),
              ElementsAre("allow: arg2 & 1 == 1", "allow: arg2 & 4 == 4"));
  EXPECT_THAT(Lowered("arg2 & 0xffffffffffffff01"),
              ElementsAre("allow: arg2 >= 256", "allow: arg2 & 1 == 1"));
  EXPECT_THAT(Lowered("arg2 & -1"), ElementsAre("allow: arg2 != 0"));
  EXPECT_THAT(Lowered("arg2 in 0x3"), ElementsAre("allow: arg2 & 0xfffffffffffffffc == 0"));
}

TEST(PolicyLoweringTest, ReturnAddsTheOppositeOfTheExpression) {
  EXPECT_THAT(Lowered("arg0 == 1 || arg1 == 2; return EBADF"),
              ElementsAre("allow: arg0 == 1", "allow: arg1 == 2",
                          "errno 9: arg0 != 1 && arg1 != 2"));
  EXPECT_THAT(Lowered("arg0 <= 4 || arg0 == 5; return EBADF"),
              ElementsAre("allow: arg0 <= 4", "allow: arg0 == 5", "errno 9: arg0 >= 6"));
  EXPECT_THAT(Lowered("arg0 == 1 && arg1 == 2; return EPERM"),
              ElementsAre("allow: arg0 == 1 && arg1 == 2", "errno 1: arg0 != 1",
                          "errno 1: arg1 != 2"));
}

TEST(PolicyLoweringTest, AnArgumentComparedTwiceIsRefusedAtTheSecondComparison) {
  EXPECT_EQ(ErrorOf("arg0 > 1 && arg0 < 5"),
            "t.policy:1:19: error: found 'arg0' compared twice in one '&&' clause (arg0 > 1 && "
            "arg0 < 5), expected each argument at most once per clause: libseccomp cannot "
            "compare an argument twice in one rule (list the allowed values with '||' "
            "instead)\nread: arg0 > 1 && arg0 < 5\n                  ^");
  // The ALLOW rules are checked first, at the second comparison.
  EXPECT_THAT(ErrorOf("arg0 != 1 && arg0 != 3 || arg1 == 1; return EPERM"),
              HasSubstr("1:20: error: found 'arg0' compared twice"));
  // The opposite's, at 'return'.
  EXPECT_THAT(ErrorOf("arg0 == 1 || arg0 == 2; return EBADF"),
              HasSubstr("1:31: error: found 'return' after an expression whose opposite "
                        "compares arg0 twice (arg0 != 1 && arg0 != 2)"));
  EXPECT_THAT(ErrorOf("arg0 < 1 || arg0 > 4; return EPERM"),
              HasSubstr("found 'return' after an expression whose opposite compares arg0 twice "
                        "(arg0 >= 1 && arg0 <= 4)"));
}

TEST(PolicyLoweringTest, AClauseThatIsNeverTrueIsRefused) {
  EXPECT_THAT(ErrorOf("arg0 == 1 && arg0 == 2"),
              HasSubstr("1:20: error: found 'arg0 == 1 && arg0 == 2', expected a condition that "
                        "can be true"));
  EXPECT_THAT(ErrorOf("arg3 < 0"), HasSubstr("found 'arg3 < 0', expected a condition"));
}

TEST(PolicyLoweringTest, TooManyRulesForOneSyscall) {
  // Eight bits in each of three masks: 8 * 8 * 8 = 512 combinations.
  EXPECT_THAT(ErrorOf("arg0 & 0xff && arg1 & 0xff && arg2 & 0xff"),
              HasSubstr("1:7: error: found a clause that expands to more than 128 seccomp rules, "
                        "expected at most 128 per syscall"));
  EXPECT_THAT(Lowered("arg0 & 0xff && arg1 & 0xff"), testing::SizeIs(64));
}

}  // namespace
}  // namespace policy
}  // namespace dpsupervise
