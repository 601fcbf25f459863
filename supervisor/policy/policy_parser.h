// policy_parser.h: the second stage of the policy compiler (policy.h): one
// logical line (policy_lexer.h) into one statement, in minijail's seccomp
// policy syntax plus dpsupervise's directives (docs/policy.md):
//
//   statement  = [ syscalls ':' filter | directive ]
//   syscalls   = syscall | '{' syscall { ',' syscall } '}'
//   filter     = '1' | 'allow' | 'return' ERRNO | expression [ ';' 'return' ERRNO ]
//   expression = clause { '||' clause },  clause = atom { '&&' atom }
//   atom       = 'arg'N OP value,  OP = == != < <= > >= & in
//   value      = term { '|' term },  term = [ '~' ] ( number | CONSTANT | '(' value ')' )
//   directive  = '@include' PATH | '@action' KIND ACTION | '@preflight' MODE | '@frequency' ...
//
// Contract: ParseStatement checks everything that one line alone decides
// (syntax, syscall names and numbers, constants, errno names, actions) and
// returns the first problem as the compiler-style error of ErrorAt. It does
// not lower comparisons (policy_lowering.h), does not read included files,
// and does not check what depends on other lines (duplicate syscalls,
// include cycles, rule limits): the driver (policy.cc) does. Values nest at
// most kMaxValueNesting parentheses deep, so parsing never overflows the
// stack. Used by the driver and tests only.
#ifndef DPSUPERVISE_SUPERVISOR_POLICY_POLICY_PARSER_H_
#define DPSUPERVISE_SUPERVISOR_POLICY_POLICY_PARSER_H_

#include <stddef.h>
#include <stdint.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "supervisor/policy/action.h"
#include "supervisor/policy/policy_lexer.h"
#include "supervisor/model/violation.h"

namespace dpsupervise {
namespace policy {

constexpr int kMaxValueNesting = 64;

// The comparison operators of an atom. kMaskAny is minijail's `arg & MASK`
// (any bit of MASK set); kMaskIn is `arg in MASK` (no bit outside MASK).
enum class Comparison { kEq, kNe, kLt, kLe, kGt, kGe, kMaskAny, kMaskIn };

// argN OP value. A kMaskAny value is never 0 (refused: never true).
struct Atom {
  int arg = 0;
  Comparison op = Comparison::kEq;
  uint64_t value = 0;
  size_t pos = 0;  // of 'argN', for errors
};
using Clause = std::vector<Atom>;        // atoms joined by &&
using Expression = std::vector<Clause>;  // clauses joined by ||

struct SyscallRef {
  int nr = -1;       // x86-64 number
  std::string name;  // libseccomp's name for it
  size_t pos = 0;
};

enum class FilterKind { kAllow, kErrno, kExpression };

struct Filter {
  FilterKind kind = FilterKind::kAllow;
  Expression expression;  // kExpression
  int errno_value = 0;    // kErrno, or kExpression's "; return E" (0: none)
  size_t return_pos = 0;  // of 'return', for errors
};

// `syscalls: filter`.
struct RuleStatement {
  std::vector<SyscallRef> syscalls;
  Filter filter;
  // The filter's text with runs of blanks collapsed, for --check-policy.
  std::string source;
};

// `@include PATH`: the rest of the line, not empty, without NUL bytes.
struct IncludeStatement {
  std::string path;
  size_t pos = 0;
};

// `@action KIND ACTION`; `kind` is nullopt for `@action default`.
struct ActionStatement {
  std::optional<ViolationKind> kind;
  Action action;
};

// `@preflight off|warn|enforce`.
struct PreflightStatement {
  std::string mode;  // "off", "warn" or "enforce"
};

// A blank or comment-only line, or a directive minijail uses and
// dpsupervise needs not (@frequency).
struct EmptyStatement {};

using Statement = std::variant<EmptyStatement, RuleStatement, IncludeStatement,
                               ActionStatement, PreflightStatement>;

absl::StatusOr<Statement> ParseStatement(absl::string_view file, const LogicalLine& line);

}  // namespace policy
}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_POLICY_POLICY_PARSER_H_
