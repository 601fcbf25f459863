// policy_lexer.h: the first stage of the policy compiler (policy.h): source
// text into logical lines, logical lines into tokens, and the compiler-style
// error messages that point into the source.
//
// Contract:
// - SplitLogicalLines: one LogicalLine per statement. Comments ('#' to the
//   end of the physical line) are removed, a line ending in '\' is joined to
//   the next with one blank (as minijail does), and "\r\n" ends a line like
//   "\n". Every offset into LogicalLine::text maps back to a physical line and
//   column through its segments.
// - Tokenize: never fails. Bytes that start no token become kInvalid tokens
//   (a multi-byte UTF-8 character whole), so the parser can say what it
//   found; the list always ends with one kEnd token, placed just after the
//   last non-blank character.
// - ErrorAt: "file:line:column: error: WHAT", the physical source line and a
//   caret under the column; every byte from the file (or its name) is shown
//   printable (ShownText), so a binary file cannot garble a terminal.
// Used by the parser (policy_parser.h), the later stages for their messages,
// and tests; nothing here knows the policy grammar.
#ifndef DPSUPERVISE_SUPERVISOR_POLICY_POLICY_LEXER_H_
#define DPSUPERVISE_SUPERVISOR_POLICY_POLICY_LEXER_H_

#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace dpsupervise {
namespace policy {

// A piece of a logical line that came from one physical line.
struct Segment {
  size_t logical_start = 0;    // offset in LogicalLine::text
  int line_number = 0;         // 1-based
  absl::string_view physical;  // the whole physical line, for the message
};

// One statement: comments removed, continuation lines joined.
struct LogicalLine {
  std::string text;
  std::vector<Segment> segments;  // never empty
  int line_number() const { return segments.front().line_number; }
};

// The segments view `contents`, which must outlive the lines.
std::vector<LogicalLine> SplitLogicalLines(absl::string_view contents);

// `text` with every byte that is not printable ASCII or a tab shown as \xNN
// (and a '\' before an 'x' as \x5c, so every "\x" in a message is an escape).
std::string ShownText(absl::string_view text);

// The compiler-style error (InvalidArgumentError) described above, at offset
// `pos` of `line`.
absl::Status ErrorAt(absl::string_view file, const LogicalLine& line, size_t pos,
                     absl::string_view what);

// Where errors of one logical line point: for the stages after parsing,
// which report at an offset the parser recorded.
struct LineLocation {
  absl::string_view file;
  const LogicalLine* line = nullptr;

  absl::Status Error(size_t pos, absl::string_view what) const {
    return ErrorAt(file, *line, pos, what);
  }
};

enum class TokenKind { kEnd, kIdentifier, kNumber, kOperator, kPunctuation, kDirective, kInvalid };

// Identifiers may contain '-' between letters (so minijail's kill-process is
// one token); numbers are a digit or '-' and a digit, then letters and
// digits (validated by ParseNumber); a run of =!<>&| is one operator (so
// '===' is reported whole); punctuation is one of :;,{}()~[]; a directive
// is '@' and an identifier.
struct Token {
  TokenKind kind = TokenKind::kEnd;
  absl::string_view text;  // views the LogicalLine's text
  size_t pos = 0;          // offset in the logical line

  bool Is(TokenKind k, absl::string_view t) const { return kind == k && text == t; }
  bool IsPunctuation(char c) const {
    return kind == TokenKind::kPunctuation && text.size() == 1 && text[0] == c;
  }
  // As a message says what was found: 'text', or end of line.
  std::string Found() const;
};

// The tokens of one logical line's text, ending with kEnd.
std::vector<Token> Tokenize(absl::string_view text);

// Numbers: decimal, 0x hexadecimal, 0 octal, optionally negative (two's
// complement in 64 bits, as minijail does on 64-bit targets).
enum class NumberError { kNone, kMalformed, kOverflow };
NumberError ParseNumber(absl::string_view text, uint64_t* value);

// Walks the tokens of one line and builds its error messages. The line must
// outlive the cursor.
class Cursor {
 public:
  Cursor(absl::string_view file, const LogicalLine& line)
      : file_(file), line_(line), tokens_(Tokenize(line.text)) {}

  const Token& Peek() const { return tokens_[index_]; }
  // The current token, then moves past it (never past kEnd).
  const Token& Next() {
    const Token& token = tokens_[index_];
    if (token.kind != TokenKind::kEnd) ++index_;
    return token;
  }
  bool AtEnd() const { return Peek().kind == TokenKind::kEnd; }
  // Parentheses open in the value being parsed.
  int depth = 0;
  const LogicalLine& line() const { return line_; }
  absl::string_view file() const { return file_; }
  LineLocation location() const { return {file_, &line_}; }

  // "found 'X', expected Y" about a token.
  absl::Status Error(const Token& token, absl::string_view expected) const;
  // A message of any wording at an offset of the line.
  absl::Status ErrorAtPos(size_t pos, absl::string_view what) const {
    return ErrorAt(file_, line_, pos, what);
  }
  // The source text from `pos` up to the current token, trimmed.
  absl::string_view TextFrom(size_t pos) const;
  // OK at the end of the line, else "found X, expected `expected`".
  absl::Status ExpectEnd(absl::string_view expected = "end of line") const {
    return AtEnd() ? absl::OkStatus() : Error(Peek(), expected);
  }

 private:
  absl::string_view file_;
  const LogicalLine& line_;
  std::vector<Token> tokens_;
  size_t index_ = 0;
};

}  // namespace policy
}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_POLICY_POLICY_LEXER_H_
