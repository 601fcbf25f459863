#include "supervisor/policy/policy_lexer.h"

#include <string.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace dpsupervise {
namespace policy {
namespace {

constexpr uint64_t kMax = ~0ULL;

// How byte `i` of `text`, quoted from a policy file, is shown in a message:
// printable ASCII and tabs (so the caret lines up) as they are, every other
// byte (NUL, ESC and the other control bytes, anything not ASCII) as a
// visible \xNN, so a binary file can neither cut a message short nor send a
// terminal an escape sequence. A '\\' before an 'x' is shown as \x5c, so
// that every "\x" in a message is an escape; any other '\\' (a line
// continuation) as it is.
std::string ShownByte(absl::string_view text, size_t i) {
  const unsigned char byte = static_cast<unsigned char>(text[i]);
  const bool reads_as_escape = byte == '\\' && i + 1 < text.size() && text[i + 1] == 'x';
  if (!reads_as_escape && (byte == '\t' || (byte >= 0x20 && byte < 0x7f))) {
    return std::string(1, static_cast<char>(byte));
  }
  return absl::StrCat("\\x", absl::Hex(byte, absl::kZeroPad2));
}

// The caret line under ShownText(source): blanks as wide as the bytes before
// the column (tabs kept so it lines up), then '^'.
std::string Caret(absl::string_view source, size_t column) {
  std::string caret;
  for (size_t i = 0; i + 1 < column; ++i) {
    const std::string shown = i < source.size() ? ShownByte(source, i) : " ";
    caret.append(shown == "\t" ? "\t" : std::string(shown.size(), ' '));
  }
  caret.push_back('^');
  return caret;
}


bool IsIdentifierStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsIdentifierChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }
// Runs of these form one operator token, so a typo such as '===' or '=<' is
// reported whole instead of as a valid operator followed by garbage.
bool IsOperatorChar(char c) { return strchr("=!<>&|", c) != nullptr && c != '\0'; }
bool IsPunctuationChar(char c) { return strchr(":;,{}()~[]", c) != nullptr && c != '\0'; }

size_t ScanWhile(absl::string_view text, size_t i, bool (*pred)(char)) {
  while (i < text.size() && pred(text[i])) ++i;
  return i;
}

// Identifiers may contain '-' between letters so that minijail's action
// names (kill-process) are read whole and rejected with a useful message.
size_t ScanIdentifier(absl::string_view text, size_t i) {
  for (;;) {
    i = ScanWhile(text, i, IsIdentifierChar);
    if (i + 1 < text.size() && text[i] == '-' && absl::ascii_isalpha(text[i + 1])) {
      ++i;
      continue;
    }
    return i;
  }
}

Token ScanToken(absl::string_view text, size_t start) {
  const char c = text[start];
  size_t end = start + 1;
  TokenKind kind = TokenKind::kInvalid;
  const bool negative_number =
      c == '-' && start + 1 < text.size() && absl::ascii_isdigit(text[start + 1]);
  if (IsIdentifierStart(c)) {
    kind = TokenKind::kIdentifier;
    end = ScanIdentifier(text, start);
  } else if (absl::ascii_isdigit(c) || negative_number) {
    kind = TokenKind::kNumber;
    end = ScanWhile(text, start + 1, IsIdentifierChar);
  } else if (c == '@' && start + 1 < text.size() && IsIdentifierStart(text[start + 1])) {
    kind = TokenKind::kDirective;
    end = ScanWhile(text, start + 1, IsIdentifierChar);
  } else if (IsOperatorChar(c)) {
    kind = TokenKind::kOperator;
    end = ScanWhile(text, start, IsOperatorChar);
  } else if (IsPunctuationChar(c)) {
    kind = TokenKind::kPunctuation;
  } else {
    // Keep a multi-byte UTF-8 character whole in the message.
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) ++end;
  }
  return {kind, text.substr(start, end - start), start};
}

}  // namespace

std::vector<LogicalLine> SplitLogicalLines(absl::string_view contents) {
  std::vector<LogicalLine> lines;
  LogicalLine current;
  int number = 0;
  for (absl::string_view physical : absl::StrSplit(contents, '\n')) {
    ++number;
    absl::ConsumeSuffix(&physical, "\r");
    absl::string_view content = physical.substr(0, physical.find('#'));
    content = absl::StripTrailingAsciiWhitespace(content);
    const bool continues = absl::ConsumeSuffix(&content, "\\");
    if (!current.segments.empty()) current.text.push_back(' ');
    current.segments.push_back({current.text.size(), number, physical});
    current.text.append(content.data(), content.size());
    if (!continues) {
      lines.push_back(std::move(current));
      current = LogicalLine();
    }
  }
  if (!current.segments.empty()) lines.push_back(std::move(current));
  return lines;
}

std::string ShownText(absl::string_view text) {
  std::string shown;
  for (size_t i = 0; i < text.size(); ++i) shown += ShownByte(text, i);
  return shown;
}

// "file:line:column: error: found X, expected Y", the source line, a caret.
// Everything in it that came from the file (or its name) is shown with
// ShownText.
absl::Status ErrorAt(absl::string_view file, const LogicalLine& line, size_t pos,
                     absl::string_view what) {
  const Segment* segment = &line.segments.front();
  for (const Segment& s : line.segments) {
    if (s.logical_start <= pos) segment = &s;
  }
  const size_t column = pos - segment->logical_start + 1;
  return absl::InvalidArgumentError(absl::StrCat(
      ShownText(file), ":", segment->line_number, ":", column, ": error: ", ShownText(what), "\n",
      ShownText(segment->physical), "\n", Caret(segment->physical, column)));
}

std::string Token::Found() const {
  return kind == TokenKind::kEnd ? "end of line" : absl::StrCat("'", text, "'");
}

std::vector<Token> Tokenize(absl::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  for (;;) {
    while (i < text.size() && absl::ascii_isspace(text[i])) ++i;
    if (i == text.size()) break;
    tokens.push_back(ScanToken(text, i));
    i = tokens.back().pos + tokens.back().text.size();
  }
  // The end of the line is just after its last character (a continued line
  // may end in blanks).
  const size_t end = absl::StripTrailingAsciiWhitespace(text).size();
  tokens.push_back({TokenKind::kEnd, text.substr(end, 0), end});
  return tokens;
}

absl::Status Cursor::Error(const Token& token, absl::string_view expected) const {
  return ErrorAt(file_, line_, token.pos,
                 absl::StrCat("found ", token.Found(), ", expected ", expected));
}

absl::string_view Cursor::TextFrom(size_t pos) const {
  return absl::StripTrailingAsciiWhitespace(
      absl::string_view(line_.text).substr(pos, Peek().pos - pos));
}

NumberError ParseNumber(absl::string_view text, uint64_t* value) {
  const bool negative = absl::ConsumePrefix(&text, "-");
  int base = 10;
  if (absl::ConsumePrefix(&text, "0x") || absl::ConsumePrefix(&text, "0X")) {
    base = 16;
  } else if (text.size() > 1 && text[0] == '0') {
    base = 8;
    text.remove_prefix(1);
  }
  if (text.empty()) return NumberError::kMalformed;
  unsigned __int128 magnitude = 0;
  for (char c : text) {
    int digit = absl::ascii_isdigit(c) ? c - '0'
                : absl::ascii_isxdigit(c) ? absl::ascii_tolower(c) - 'a' + 10
                                          : 99;
    if (digit >= base) return NumberError::kMalformed;
    magnitude = magnitude * base + digit;
    if (magnitude > kMax) return NumberError::kOverflow;
  }
  if (negative && magnitude > (static_cast<unsigned __int128>(1) << 63)) {
    return NumberError::kOverflow;
  }
  *value = negative ? 0 - static_cast<uint64_t>(magnitude) : static_cast<uint64_t>(magnitude);
  return NumberError::kNone;
}


}  // namespace policy
}  // namespace dpsupervise
