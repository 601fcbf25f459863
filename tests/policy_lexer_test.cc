// Unit tests of the policy lexer (supervisor/policy/policy_lexer.h): logical lines,
// tokens and their positions, numbers, and where error messages point.
#include "supervisor/policy/policy_lexer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace dpsupervise {
namespace policy {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// (kind, text, pos) of every token, kEnd included.
std::vector<std::pair<std::string, size_t>> TextsAndPositions(absl::string_view line) {
  std::vector<std::pair<std::string, size_t>> out;
  for (const Token& token : Tokenize(line)) out.emplace_back(std::string(token.text), token.pos);
  return out;
}

std::vector<TokenKind> Kinds(absl::string_view line) {
  std::vector<TokenKind> kinds;
  for (const Token& token : Tokenize(line)) kinds.push_back(token.kind);
  return kinds;
}

TEST(PolicyLexerTest, CommentsGoAndContinuationsJoinWithTheirLineNumbers) {
  const std::string text = "# header\nread: 1  # why\r\nwrite: arg0 == 1 || \\\n  arg0 == 2\n";
  std::vector<LogicalLine> lines = SplitLogicalLines(text);
  ASSERT_EQ(lines.size(), 4u);  // the last is the empty line after the final '\n'
  EXPECT_EQ(lines[0].text, "");
  EXPECT_EQ(lines[1].text, "read: 1");
  EXPECT_EQ(lines[1].line_number(), 2);
  EXPECT_EQ(lines[1].segments[0].physical, "read: 1  # why");
  EXPECT_EQ(lines[2].text, "write: arg0 == 1 ||    arg0 == 2");
  EXPECT_EQ(lines[2].line_number(), 3);
  ASSERT_EQ(lines[2].segments.size(), 2u);
  EXPECT_EQ(lines[2].segments[1].line_number, 4);
  EXPECT_EQ(lines[2].segments[1].logical_start, 21u);
}

TEST(PolicyLexerTest, TokensOfASyscallLineWithTheirPositions) {
  const absl::string_view line = "ioctl: arg1 & ~(O_RDONLY|0x10) ; return ENOTTY  ";
  EXPECT_THAT(TextsAndPositions(line),
              ElementsAre(Pair("ioctl", 0), Pair(":", 5), Pair("arg1", 7), Pair("&", 12),
                          Pair("~", 14), Pair("(", 15), Pair("O_RDONLY", 16), Pair("|", 24),
                          Pair("0x10", 25), Pair(")", 29), Pair(";", 31), Pair("return", 33),
                          Pair("ENOTTY", 40), Pair("", 46)));
  EXPECT_THAT(Kinds(line),
              ElementsAre(TokenKind::kIdentifier, TokenKind::kPunctuation, TokenKind::kIdentifier,
                          TokenKind::kOperator, TokenKind::kPunctuation, TokenKind::kPunctuation,
                          TokenKind::kIdentifier, TokenKind::kOperator, TokenKind::kNumber,
                          TokenKind::kPunctuation, TokenKind::kPunctuation,
                          TokenKind::kIdentifier, TokenKind::kIdentifier, TokenKind::kEnd));
}

TEST(PolicyLexerTest, TyposAndForeignWordsAreReadWhole) {
  // An operator run, a minijail action with '-', a negative number, a
  // directive, and a multi-byte UTF-8 character.
  EXPECT_THAT(TextsAndPositions("arg0 === -1"),
              ElementsAre(Pair("arg0", 0), Pair("===", 5), Pair("-1", 9), Pair("", 11)));
  EXPECT_THAT(Kinds("kill-process @include \xc3\xa9"),
              ElementsAre(TokenKind::kIdentifier, TokenKind::kDirective, TokenKind::kInvalid,
                          TokenKind::kEnd));
  EXPECT_THAT(TextsAndPositions("kill-process @include \xc3\xa9"),
              ElementsAre(Pair("kill-process", 0), Pair("@include", 13), Pair("\xc3\xa9", 22),
                          Pair("", 24)));
  // '-' not followed by a digit or a letter is not part of anything.
  EXPECT_THAT(Kinds("a - b"), ElementsAre(TokenKind::kIdentifier, TokenKind::kInvalid,
                                          TokenKind::kIdentifier, TokenKind::kEnd));
}

TEST(PolicyLexerTest, TheFoundWordingOfTokens) {
  std::vector<Token> tokens = Tokenize("read");
  EXPECT_EQ(tokens[0].Found(), "'read'");
  EXPECT_EQ(tokens[1].Found(), "end of line");
}

TEST(PolicyLexerTest, NumbersInEveryBaseAndTheirErrors) {
  uint64_t value = 0;
  EXPECT_EQ(ParseNumber("42", &value), NumberError::kNone);
  EXPECT_EQ(value, 42u);
  EXPECT_EQ(ParseNumber("0x1F", &value), NumberError::kNone);
  EXPECT_EQ(value, 31u);
  EXPECT_EQ(ParseNumber("010", &value), NumberError::kNone);
  EXPECT_EQ(value, 8u);
  EXPECT_EQ(ParseNumber("0", &value), NumberError::kNone);
  EXPECT_EQ(value, 0u);
  EXPECT_EQ(ParseNumber("-1", &value), NumberError::kNone);
  EXPECT_EQ(value, ~0ULL);
  EXPECT_EQ(ParseNumber("0xffffffffffffffff", &value), NumberError::kNone);
  EXPECT_EQ(value, ~0ULL);
  EXPECT_EQ(ParseNumber("-9223372036854775808", &value), NumberError::kNone);
  EXPECT_EQ(value, 1ULL << 63);
  EXPECT_EQ(ParseNumber("0x10000000000000000", &value), NumberError::kOverflow);
  EXPECT_EQ(ParseNumber("-9223372036854775809", &value), NumberError::kOverflow);
  EXPECT_EQ(ParseNumber("08", &value), NumberError::kMalformed);
  EXPECT_EQ(ParseNumber("0x", &value), NumberError::kMalformed);
  EXPECT_EQ(ParseNumber("12ab", &value), NumberError::kMalformed);
}

TEST(PolicyLexerTest, ErrorsPointAtThePhysicalLineAndColumn) {
  const std::string text = "write: arg0 == 1 || \\\n\targ0 === 2\n";
  std::vector<LogicalLine> lines = SplitLogicalLines(text);
  Cursor c("dir/t.policy", lines[0]);
  while (c.Peek().text != "===") c.Next();
  EXPECT_EQ(c.Error(c.Peek(), "an operator").message(),
            "dir/t.policy:2:7: error: found '===', expected an operator\n"
            "\targ0 === 2\n"
            "\t     ^");
  c.Next();
  c.Next();
  EXPECT_EQ(c.ExpectEnd().ok(), true);
}

TEST(PolicyLexerTest, BytesFromTheFileAreShownPrintable) {
  EXPECT_EQ(ShownText("a\tb"), "a\tb");
  EXPECT_EQ(ShownText("\x1b[2J\xff"), "\\x1b[2J\\xff");
  EXPECT_EQ(ShownText("\\x41 \\"), "\\x5cx41 \\");
  const std::string text = std::string("re\0d: 1", 7);
  std::vector<LogicalLine> lines = SplitLogicalLines(text);
  EXPECT_EQ(ErrorAt("t.policy", lines[0], 4, "found X").message(),
            "t.policy:1:5: error: found X\nre\\x00d: 1\n       ^");
}

}  // namespace
}  // namespace policy
}  // namespace dpsupervise
