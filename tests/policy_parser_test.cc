// Unit tests of the policy parser (supervisor/policy/policy_parser.h): the
// statement each kind of line becomes, and the exact error of malformed ones.
#include "supervisor/policy/policy_parser.h"

#include <errno.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <string>
#include <vector>

#include "supervisor/policy/policy_lexer.h"

namespace dpsupervise {
namespace policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Parses the first logical line of `text` as t.policy.
absl::StatusOr<Statement> ParseLine(const std::string& text) {
  std::vector<LogicalLine> lines = SplitLogicalLines(text);
  return ParseStatement("t.policy", lines.front());
}

template <typename T>
T ParseAs(const std::string& text) {
  auto statement = ParseLine(text);
  EXPECT_TRUE(statement.ok()) << statement.status();
  if (!statement.ok() || !std::holds_alternative<T>(*statement)) {
    ADD_FAILURE() << "'" << text << "' is not the expected statement";
    return T{};
  }
  return std::get<T>(*statement);
}

std::string ErrorOf(const std::string& text) {
  auto statement = ParseLine(text);
  EXPECT_FALSE(statement.ok()) << text;
  return std::string(statement.status().message());
}

TEST(PolicyParserTest, BlankCommentAndFrequencyLinesAreEmpty) {
  ParseAs<EmptyStatement>("");
  ParseAs<EmptyStatement>("   # only a comment");
  ParseAs<EmptyStatement>("@frequency ./frequency.txt");
}

TEST(PolicyParserTest, AnExpressionIsClausesOfAtomsWithTheirPositions) {
  RuleStatement rule = ParseAs<RuleStatement>("write: arg0 == 1 || arg1 & O_APPEND && arg2 in 3");
  ASSERT_EQ(rule.syscalls.size(), 1u);
  EXPECT_EQ(rule.syscalls[0].name, "write");
  EXPECT_EQ(rule.syscalls[0].nr, SYS_write);
  EXPECT_EQ(rule.source, "arg0 == 1 || arg1 & O_APPEND && arg2 in 3");
  EXPECT_EQ(rule.filter.kind, FilterKind::kExpression);
  EXPECT_EQ(rule.filter.errno_value, 0);
  ASSERT_EQ(rule.filter.expression.size(), 2u);
  ASSERT_EQ(rule.filter.expression[0].size(), 1u);
  const Atom& first = rule.filter.expression[0][0];
  EXPECT_EQ(first.arg, 0);
  EXPECT_EQ(first.op, Comparison::kEq);
  EXPECT_EQ(first.value, 1u);
  EXPECT_EQ(first.pos, 7u);
  ASSERT_EQ(rule.filter.expression[1].size(), 2u);
  EXPECT_EQ(rule.filter.expression[1][0].op, Comparison::kMaskAny);
  EXPECT_EQ(rule.filter.expression[1][0].value, static_cast<uint64_t>(O_APPEND));
  EXPECT_EQ(rule.filter.expression[1][0].pos, 20u);
  EXPECT_EQ(rule.filter.expression[1][1].op, Comparison::kMaskIn);
  EXPECT_EQ(rule.filter.expression[1][1].arg, 2);
}

TEST(PolicyParserTest, ValuesCombineConstantsComplementsAndParentheses) {
  RuleStatement rule = ParseAs<RuleStatement>("openat: arg2 == ~(O_CREAT|0x1) | -1");
  EXPECT_EQ(rule.filter.expression[0][0].value, ~0ULL);
  rule = ParseAs<RuleStatement>("openat: arg0 == AT_FDCWD");
  EXPECT_EQ(rule.filter.expression[0][0].value, static_cast<uint64_t>(-100));
  rule = ParseAs<RuleStatement>("kill: arg1 == SIGTERM");
  EXPECT_EQ(rule.filter.expression[0][0].value, 15u);
}

TEST(PolicyParserTest, SyscallListsNumbersAllowAndReturn) {
  RuleStatement rule = ParseAs<RuleStatement>("{read, 1}: allow");
  ASSERT_EQ(rule.syscalls.size(), 2u);
  EXPECT_EQ(rule.syscalls[0].name, "read");
  EXPECT_EQ(rule.syscalls[1].name, "write");
  EXPECT_EQ(rule.syscalls[1].pos, 7u);
  EXPECT_EQ(rule.filter.kind, FilterKind::kAllow);
  rule = ParseAs<RuleStatement>("sched_yield: return EPERM");
  EXPECT_EQ(rule.filter.kind, FilterKind::kErrno);
  EXPECT_EQ(rule.filter.errno_value, EPERM);
  EXPECT_EQ(rule.filter.return_pos, 13u);
  rule = ParseAs<RuleStatement>("ioctl: arg1 == TCGETS; return ENOTTY");
  EXPECT_EQ(rule.filter.kind, FilterKind::kExpression);
  EXPECT_EQ(rule.filter.errno_value, ENOTTY);
  EXPECT_EQ(rule.filter.return_pos, 23u);
}

TEST(PolicyParserTest, Directives) {
  IncludeStatement include = ParseAs<IncludeStatement>("@include  common/base.policy");
  EXPECT_EQ(include.path, "common/base.policy");
  EXPECT_EQ(include.pos, 10u);
  ActionStatement action = ParseAs<ActionStatement>("@action page_fault log");
  ASSERT_TRUE(action.kind.has_value());
  EXPECT_EQ(*action.kind, ViolationKind::kPageFault);
  EXPECT_EQ(action.action.kind, ActionKind::kLog);
  action = ParseAs<ActionStatement>("@action ipi signal SIGUSR1");
  ASSERT_TRUE(action.kind.has_value());
  EXPECT_EQ(*action.kind, ViolationKind::kIpi);
  EXPECT_EQ(action.action.ToString(), "signal SIGUSR1");
  action = ParseAs<ActionStatement>("@action default signal SIGUSR1");
  EXPECT_FALSE(action.kind.has_value());
  EXPECT_EQ(action.action.kind, ActionKind::kSignal);
  EXPECT_EQ(ParseAs<PreflightStatement>("@preflight enforce").mode, "enforce");
}

TEST(PolicyParserTest, SyntaxErrorsSayWhatWasFoundAndWhatWasExpected) {
  EXPECT_EQ(ErrorOf("write: arg0 === 1"),
            "t.policy:1:13: error: found '===', expected a comparison operator (==, !=, <, <=, "
            ">, >=, & or in)\nwrite: arg0 === 1\n            ^");
  EXPECT_EQ(ErrorOf("wirte: 1"),
            "t.policy:1:1: error: found 'wirte', expected a syscall name known to libseccomp "
            "for x86_64 (did you mean 'write'?)\nwirte: 1\n^");
  EXPECT_THAT(ErrorOf("read: arg6 == 1"),
              HasSubstr("1:7: error: found 'arg6', expected an argument arg0..arg5"));
  EXPECT_THAT(ErrorOf("read: arg0 == O_RDONY"),
              HasSubstr("found 'O_RDONY', expected a number or a known constant (did you mean "
                        "'O_RDONLY'?)"));
  EXPECT_THAT(ErrorOf("read: arg0 == 1 arg1"),
              HasSubstr("1:17: error: found 'arg1', expected '&&', '||', ';' or end of line"));
  EXPECT_THAT(ErrorOf("read: 0"), HasSubstr("there is no '0'"));
  EXPECT_THAT(ErrorOf("read: kill"), HasSubstr("per-syscall actions are not supported"));
  EXPECT_THAT(ErrorOf("read[arch=x86_64]: 1"),
              HasSubstr("found '[', expected ':' after the syscall name (minijail's "
                        "[arch=...] metadata is not supported)"));
  EXPECT_THAT(ErrorOf("read: return"),
              HasSubstr("found end of line, expected an errno name or number after 'return'"));
  EXPECT_THAT(ErrorOf("{read write}: 1"), HasSubstr("found 'write', expected ',' or '}'"));
}

TEST(PolicyParserTest, AZeroMaskIsRefusedWhereTheValueStarts) {
  EXPECT_EQ(ErrorOf("read: arg1 & (0)"),
            "t.policy:1:14: error: found '(0)' (0), expected a non-zero mask: 'arg1 & 0' is "
            "never true\nread: arg1 & (0)\n             ^");
}

TEST(PolicyParserTest, NestingIsBounded) {
  const std::string deep = "read: arg0 == " + std::string(65, '(') + "1" + std::string(65, ')');
  EXPECT_THAT(ErrorOf(deep), HasSubstr("expected at most 64 nested parentheses"));
  const std::string ok = "read: arg0 == " + std::string(64, '(') + "1" + std::string(64, ')');
  ParseAs<RuleStatement>(ok);
}

TEST(PolicyParserTest, DirectiveErrors) {
  EXPECT_THAT(ErrorOf("@include"),
              HasSubstr("1:9: error: found end of line, expected a file path after '@include'"));
  EXPECT_THAT(ErrorOf(std::string("@include a\0b", 12)),
              HasSubstr("expected a file path without NUL bytes"));
  EXPECT_THAT(ErrorOf("@default kill"),
              HasSubstr("(for minijail's '@default ACTION' write '@action syscall ACTION')"));
  EXPECT_THAT(ErrorOf("@action preemption deliver"),
              HasSubstr("found 'deliver', expected an action for preemption violations (kill, "
                        "kill-all, signal SIG, stop, gdb or log)"));
  EXPECT_THAT(ErrorOf("@action page_fault errno EPERM"),
              HasSubstr("found 'errno', expected an action for page_fault violations"));
  EXPECT_THAT(ErrorOf("@action sometimes kill"),
              HasSubstr("expected a violation kind (syscall, page_fault, trap, signal, ipi, "
                        "irq, timer, softirq, preemption, migration or default)"));
  EXPECT_THAT(ErrorOf("@preflight maybe"),
              HasSubstr("found 'maybe', expected off, warn or enforce"));
  EXPECT_THAT(ErrorOf("@preflight warn now"),
              HasSubstr("found 'now', expected end of line"));
}

}  // namespace
}  // namespace policy
}  // namespace dpsupervise
