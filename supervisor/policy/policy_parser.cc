#include "supervisor/policy/policy_parser.h"

#include <seccomp.h>
#include <stdlib.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "supervisor/policy/policy_constants.h"

namespace dpsupervise {
namespace policy {
namespace {

constexpr char kExpectedFilter[] =
    "'1', 'allow', an argument expression (such as 'arg0 == 1') or 'return ERRNO'";
constexpr char kExpectedValue[] = "a number, a named constant or '('";
constexpr char kExpectedOperator[] =
    "a comparison operator (==, !=, <, <=, >, >=, & or in)";
constexpr char kExpectedArgument[] = "an argument arg0..arg5";

bool LooksLikeArgument(absl::string_view text) {
  return text.size() > 3 && absl::StartsWith(text, "arg") &&
         std::all_of(text.begin() + 3, text.end(), [](char c) { return absl::ascii_isdigit(c); });
}

bool IsMinijailAction(absl::string_view word) {
  for (const char* action :
       {"kill", "kill-process", "kill-thread", "trap", "trace", "log", "user-notify"}) {
    if (word == action) return true;
  }
  return false;
}

absl::StatusOr<uint64_t> ParseValue(Cursor& c);

absl::StatusOr<uint64_t> ParseSingleValue(Cursor& c) {
  const Token& token = c.Next();
  if (token.kind == TokenKind::kNumber) {
    uint64_t value = 0;
    switch (ParseNumber(token.text, &value)) {
      case NumberError::kNone:
        return value;
      case NumberError::kOverflow:
        return c.Error(token, "a number that fits in 64 bits");
      case NumberError::kMalformed:
        return c.Error(token, "a number (decimal, 0x hexadecimal or 0 octal)");
    }
  }
  if (token.kind == TokenKind::kIdentifier) {
    auto value = ConstantValue(token.text);
    if (value) return *value;
    return c.Error(token, absl::StrCat("a number or a known constant",
                                       Suggestion(token.text, ConstantNames())));
  }
  if (token.IsPunctuation('(')) {
    // Nesting costs stack: bound it well below what could overflow.
    if (++c.depth > kMaxValueNesting) {
      return c.Error(token, absl::StrCat("at most ", kMaxValueNesting, " nested parentheses"));
    }
    auto value = ParseValue(c);
    --c.depth;
    if (!value.ok()) return value;
    if (!c.Peek().IsPunctuation(')')) return c.Error(c.Peek(), "'|' or ')'");
    c.Next();
    return value;
  }
  return c.Error(token, kExpectedValue);
}

// term = [ '~' ] ( number | constant | '(' value ')' ). One '~' only, as in
// minijail.
absl::StatusOr<uint64_t> ParseTerm(Cursor& c) {
  const bool complement = c.Peek().IsPunctuation('~');
  if (complement) c.Next();
  auto value = ParseSingleValue(c);
  if (!value.ok()) return value;
  return complement ? ~*value : *value;
}

// value = term { '|' term }
absl::StatusOr<uint64_t> ParseValue(Cursor& c) {
  uint64_t value = 0;
  for (;;) {
    auto term = ParseTerm(c);
    if (!term.ok()) return term;
    value |= *term;
    if (!c.Peek().Is(TokenKind::kOperator, "|")) return value;
    c.Next();
  }
}

std::optional<Comparison> ComparisonOf(const Token& token) {
  if (token.Is(TokenKind::kIdentifier, "in")) return Comparison::kMaskIn;
  if (token.kind != TokenKind::kOperator) return std::nullopt;
  static constexpr std::pair<const char*, Comparison> kOperators[] = {
      {"==", Comparison::kEq}, {"!=", Comparison::kNe}, {"<", Comparison::kLt},
      {"<=", Comparison::kLe}, {">", Comparison::kGt},  {">=", Comparison::kGe},
      {"&", Comparison::kMaskAny}};
  for (const auto& [text, op] : kOperators) {
    if (token.text == text) return op;
  }
  return std::nullopt;
}

absl::StatusOr<Atom> ParseAtom(Cursor& c) {
  const Token& arg = c.Next();
  if (arg.kind != TokenKind::kIdentifier || !LooksLikeArgument(arg.text) ||
      arg.text.size() > 4 || arg.text[3] > '5') {
    return c.Error(arg, kExpectedArgument);
  }
  Atom atom;
  atom.arg = arg.text[3] - '0';
  atom.pos = arg.pos;
  const Token& op = c.Next();
  const std::optional<Comparison> comparison = ComparisonOf(op);
  if (!comparison) return c.Error(op, kExpectedOperator);
  atom.op = *comparison;
  const size_t value_pos = c.Peek().pos;
  auto value = ParseValue(c);
  if (!value.ok()) return value.status();
  atom.value = *value;
  if (atom.op == Comparison::kMaskAny && atom.value == 0) {
    return c.ErrorAtPos(value_pos, absl::StrCat("found '", c.TextFrom(value_pos),
                                                "' (0), expected a non-zero mask: 'arg",
                                                atom.arg, " & 0' is never true"));
  }
  return atom;
}

// expression = clause { '||' clause }, clause = atom { '&&' atom }
absl::StatusOr<Expression> ParseExpression(Cursor& c) {
  Expression expression(1);
  for (;;) {
    auto atom = ParseAtom(c);
    if (!atom.ok()) return atom.status();
    expression.back().push_back(*std::move(atom));
    if (c.Peek().Is(TokenKind::kOperator, "&&")) {
      c.Next();
    } else if (c.Peek().Is(TokenKind::kOperator, "||")) {
      c.Next();
      expression.emplace_back();
    } else {
      return expression;
    }
  }
}

// 'return' ERRNO, the 'return' already read.
absl::StatusOr<int> ParseReturnValue(Cursor& c) {
  const Token& token = c.Next();
  if (token.kind == TokenKind::kEnd) {
    return c.Error(token, "an errno name or number after 'return'");
  }
  const int e = ErrnoNumber(token.text);
  if (e < 0 || token.kind == TokenKind::kPunctuation || token.kind == TokenKind::kOperator) {
    return c.Error(token, "an errno (EPERM .. EHWPOISON or a number 1..4095)");
  }
  return e;
}

absl::StatusOr<Filter> ParseExpressionFilter(Cursor& c) {
  Filter filter;
  filter.kind = FilterKind::kExpression;
  auto expression = ParseExpression(c);
  if (!expression.ok()) return expression.status();
  filter.expression = *std::move(expression);
  if (!c.Peek().IsPunctuation(';')) {
    absl::Status end = c.ExpectEnd("'&&', '||', ';' or end of line");
    if (!end.ok()) return end;
    return filter;
  }
  c.Next();
  const Token& ret = c.Next();
  if (!ret.Is(TokenKind::kIdentifier, "return")) return c.Error(ret, "'return ERRNO' after ';'");
  filter.return_pos = ret.pos;
  auto e = ParseReturnValue(c);
  if (!e.ok()) return e.status();
  filter.errno_value = *e;
  absl::Status end = c.ExpectEnd();
  if (!end.ok()) return end;
  return filter;
}

absl::StatusOr<Filter> ParseFilter(Cursor& c) {
  const Token& token = c.Peek();
  Filter filter;
  if (token.kind == TokenKind::kNumber) {
    uint64_t value = 2;
    ParseNumber(token.text, &value);
    if (value == 0) {
      return c.Error(token, absl::StrCat(kExpectedFilter,
                                         "; there is no '0': leave the syscall out to make "
                                         "it a violation, or write 'return EPERM' to fail it"));
    }
    if (value != 1) return c.Error(token, kExpectedFilter);
    c.Next();
  } else if (token.Is(TokenKind::kIdentifier, "allow")) {
    c.Next();
  } else if (token.Is(TokenKind::kIdentifier, "return")) {
    c.Next();
    filter.kind = FilterKind::kErrno;
    filter.return_pos = token.pos;
    auto e = ParseReturnValue(c);
    if (!e.ok()) return e.status();
    filter.errno_value = *e;
  } else if (token.kind == TokenKind::kIdentifier && LooksLikeArgument(token.text)) {
    return ParseExpressionFilter(c);
  } else if (token.kind == TokenKind::kIdentifier && IsMinijailAction(token.text)) {
    return c.Error(token, absl::StrCat(kExpectedFilter,
                                       "; per-syscall actions are not supported: a syscall "
                                       "without a rule is a violation, handled by "
                                       "'@action syscall'"));
  } else if (token.IsPunctuation('{')) {
    return c.Error(token, absl::StrCat(kExpectedFilter,
                                       "; minijail's filter lists '{...}' are not supported"));
  } else {
    return c.Error(token, kExpectedFilter);
  }
  absl::Status end = c.ExpectEnd();
  if (!end.ok()) return end;
  return filter;
}

absl::StatusOr<SyscallRef> ParseSyscallName(Cursor& c) {
  const Token& token = c.Next();
  SyscallRef ref;
  ref.pos = token.pos;
  if (token.kind == TokenKind::kIdentifier) {
    ref.name = std::string(token.text);
    ref.nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, ref.name.c_str());
    // Negative numbers are libseccomp's pseudo-syscalls of other arches.
    if (ref.nr < 0) {
      return c.Error(token, absl::StrCat("a syscall name known to libseccomp for x86_64",
                                         Suggestion(token.text, SyscallNames())));
    }
    return ref;
  }
  if (token.kind == TokenKind::kNumber) {
    uint64_t nr = 0;
    char* name = nullptr;
    if (ParseNumber(token.text, &nr) == NumberError::kNone && nr < 1024) {
      name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, static_cast<int>(nr));
    }
    if (name == nullptr) return c.Error(token, "a syscall number known on x86_64");
    ref.nr = static_cast<int>(nr);
    ref.name = name;
    free(name);
    return ref;
  }
  return c.Error(token, "a syscall name");
}

// syscall-name | '{' syscall-name { ',' syscall-name } '}'
absl::StatusOr<std::vector<SyscallRef>> ParseSyscallList(Cursor& c) {
  std::vector<SyscallRef> syscalls;
  if (!c.Peek().IsPunctuation('{')) {
    auto ref = ParseSyscallName(c);
    if (!ref.ok()) return ref.status();
    syscalls.push_back(*std::move(ref));
    return syscalls;
  }
  c.Next();
  for (;;) {
    auto ref = ParseSyscallName(c);
    if (!ref.ok()) return ref.status();
    syscalls.push_back(*std::move(ref));
    const Token& token = c.Next();
    if (token.IsPunctuation('}')) return syscalls;
    if (!token.IsPunctuation(',')) return c.Error(token, "',' or '}'");
  }
}

// The rest of the line after `token`, and where it starts (first non-blank).
absl::string_view RestAfter(const Cursor& c, const Token& token, size_t* pos) {
  absl::string_view text = c.line().text;
  size_t start = token.pos + token.text.size();
  while (start < text.size() && absl::ascii_isspace(text[start])) ++start;
  *pos = start;
  return text.substr(start);
}

std::string CollapseBlanks(absl::string_view text) {
  return absl::StrJoin(absl::StrSplit(text, absl::ByAnyChar(" \t"), absl::SkipEmpty()), " ");
}

absl::StatusOr<Statement> ParseInclude(Cursor& c, const Token& directive) {
  size_t path_pos = 0;
  const absl::string_view path = RestAfter(c, directive, &path_pos);
  if (path.empty()) return c.Error(c.Peek(), "a file path after '@include'");
  if (path.find('\0') != absl::string_view::npos) {
    return c.ErrorAtPos(path_pos, absl::StrCat("found '", path,
                                               "', expected a file path without NUL bytes"));
  }
  return IncludeStatement{std::string(path), path_pos};
}

absl::StatusOr<Statement> ParseActionDirective(Cursor& c) {
  const Token& kind_token = c.Next();
  std::optional<ViolationKind> kind;
  const bool is_default = kind_token.Is(TokenKind::kIdentifier, "default");
  if (kind_token.kind == TokenKind::kIdentifier) kind = ViolationKindFromName(kind_token.text);
  if (!kind && !is_default) {
    std::string kinds;
    for (ViolationKind each : kAllViolationKinds) {
      absl::StrAppend(&kinds, ViolationKindName(each), ", ");
    }
    kinds.resize(kinds.size() - 2);
    return c.Error(kind_token, absl::StrCat("a violation kind (", kinds, " or default)"));
  }
  size_t action_pos = 0;
  const absl::string_view text = RestAfter(c, kind_token, &action_pos);
  size_t offset = 0;
  auto action = ParseAction(text, "end of line", &offset);
  if (!action.ok()) return c.ErrorAtPos(action_pos + offset, action.status().message());
  if (kind && !ActionAppliesTo(action->kind, *kind)) {
    const bool is_errno = action->kind == ActionKind::kErrno;
    return c.ErrorAtPos(
        action_pos,
        absl::StrCat("found '", is_errno ? "errno" : "deliver", "', expected an action for ",
                     ViolationKindName(*kind), " violations (kill, kill-all, signal SIG, stop, ",
                     *kind == ViolationKind::kSyscall ? "gdb, log or errno E"
                     : *kind == ViolationKind::kTrap || *kind == ViolationKind::kSignal
                         ? "gdb, log or deliver"
                         : "gdb or log",
                     "): ", is_errno ? "errno only applies to syscalls"
                                     : "deliver only applies to traps and signals"));
  }
  return ActionStatement{kind, *action};
}

absl::StatusOr<Statement> ParsePreflight(Cursor& c) {
  const Token& mode = c.Next();
  for (const char* name : {"off", "warn", "enforce"}) {
    if (!mode.Is(TokenKind::kIdentifier, name)) continue;
    absl::Status end = c.ExpectEnd();
    if (!end.ok()) return end;
    return PreflightStatement{name};
  }
  return c.Error(mode, "off, warn or enforce");
}

absl::StatusOr<Statement> ParseDirective(Cursor& c) {
  const Token& directive = c.Next();
  if (directive.text == "@include") return ParseInclude(c, directive);
  if (directive.text == "@action") return ParseActionDirective(c);
  if (directive.text == "@preflight") return ParsePreflight(c);
  if (directive.text == "@frequency") return EmptyStatement{};  // a minijail hint; unneeded
  std::string note;
  if (directive.text == "@default") {
    note = " (for minijail's '@default ACTION' write '@action syscall ACTION')";
  }
  return c.Error(directive, absl::StrCat("a directive (@include, @action or @preflight)", note));
}

absl::StatusOr<Statement> ParseRule(Cursor& c) {
  RuleStatement rule;
  auto syscalls = ParseSyscallList(c);
  if (!syscalls.ok()) return syscalls.status();
  rule.syscalls = *std::move(syscalls);
  const Token& colon = c.Next();
  if (!colon.IsPunctuation(':')) {
    std::string note;
    if (colon.IsPunctuation('[')) note = " (minijail's [arch=...] metadata is not supported)";
    return c.Error(colon, absl::StrCat("':' after the syscall name", note));
  }
  rule.source = CollapseBlanks(absl::string_view(c.line().text).substr(colon.pos + 1));
  auto filter = ParseFilter(c);
  if (!filter.ok()) return filter.status();
  rule.filter = *std::move(filter);
  return rule;
}

}  // namespace

absl::StatusOr<Statement> ParseStatement(absl::string_view file, const LogicalLine& line) {
  Cursor c(file, line);
  if (c.AtEnd()) return EmptyStatement{};
  if (c.Peek().kind == TokenKind::kDirective) return ParseDirective(c);
  return ParseRule(c);
}

}  // namespace policy
}  // namespace dpsupervise
