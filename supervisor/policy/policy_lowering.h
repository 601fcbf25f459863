// policy_lowering.h: the third stage of the policy compiler (policy.h): a
// parsed filter (policy_parser.h) into the libseccomp rules of one syscall
// (filter.h's SyscallRule).
//
// Contract of LowerFilter:
// - `1`/`allow` is one unconditional ALLOW rule; `return E` one
//   unconditional ERRNO(E) rule.
// - An expression is one ALLOW rule per satisfiable combination of each
//   '||' clause, with the comparisons of one argument merged into one
//   (policy_merge.h). `&` becomes one alternative per mask bit (a run of
//   bits up to bit 63 is one `>=`), since libseccomp has no "masked not
//   equal"; `in` is one masked compare.
// - `EXPR; return E` adds ERRNO(E) rules for the opposite of EXPR, because
//   libseccomp lets an unconditional rule replace a syscall's conditional
//   ones.
// - Errors, at the offsets the parser recorded (`at`): a clause that is
//   never true, an argument compared twice in a way libseccomp cannot
//   express, more than kMaxRulesPerSyscall rules.
// It does not know about strict mode's always-allowed syscalls or the
// policy-wide limits (the driver, policy.cc). Used by the driver and tests.
#ifndef DPSUPERVISE_SUPERVISOR_POLICY_POLICY_LOWERING_H_
#define DPSUPERVISE_SUPERVISOR_POLICY_POLICY_LOWERING_H_

#include <stddef.h>

#include <vector>

#include "absl/status/statusor.h"
#include "supervisor/seccomp/filter.h"
#include "supervisor/policy/policy_lexer.h"
#include "supervisor/policy/policy_parser.h"

namespace dpsupervise {
namespace policy {

// One syscall line may expand into several libseccomp rules (`||`, `&`
// masks, the opposite of `EXPR; return E`); past this the policy is
// unreadable and the filter needlessly long.
constexpr size_t kMaxRulesPerSyscall = 128;

absl::StatusOr<std::vector<SyscallRule>> LowerFilter(const LineLocation& at, int nr,
                                                     const Filter& filter);

}  // namespace policy
}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_POLICY_POLICY_LOWERING_H_
