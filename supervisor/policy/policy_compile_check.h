// policy_compile_check.h: the last stage of the policy compiler (policy.h):
// gives every rule of the policy to libseccomp, so that a policy libseccomp
// refuses, hangs or crashes on is rejected at load time, at the line of the
// syscall responsible, instead of when a thread enters strict mode.
//
// libseccomp 2.5.4 never returns from seccomp_rule_add_array for some pairs
// of conditional rules (found by tests/policy_fuzz_test.cc), and a policy
// must not hang dpsupervise. So the rules are given to libseccomp in one
// child process, which says on a pipe which syscall it starts on (and the
// error of a rule libseccomp refuses); a syscall it spends more than
// kCompileLimitMs on is the one that hangs, and a child that dies is a
// crash. One child for the whole policy: a fork per syscall cost ~3 ms each
// at startup. The child builds the real strict filter (StrictFilterBuilder)
// and hands the program back over the pipe, so that libseccomp compiles the
// policy once, under the time limit. Rules without conditions never make
// libseccomp hang: those policies are compiled in process.
//
// Used by the driver (policy.cc) and tests.
#ifndef DPSUPERVISE_SUPERVISOR_POLICY_POLICY_COMPILE_CHECK_H_
#define DPSUPERVISE_SUPERVISOR_POLICY_POLICY_COMPILE_CHECK_H_

#include <stddef.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "supervisor/seccomp/filter.h"
#include "supervisor/policy/policy_lexer.h"

namespace dpsupervise {
namespace policy {

constexpr int kCompileLimitMs = 400;

// A syscall's rules, lowered but not yet given to libseccomp, and the place
// in the policy its errors point at. Owns copies of its source text: the
// file contents are gone by the time the check runs.
struct PendingSyscall {
  PendingSyscall(std::string name, std::vector<SyscallRule> rules, absl::string_view file,
                 const LogicalLine& line, size_t pos);

  // ErrorAt at `pos` of `line`.
  absl::Status Error(absl::string_view what) const;

  std::string name;
  std::vector<SyscallRule> rules;
  std::string file;
  LogicalLine line;
  std::vector<std::string> physical;  // the text line.segments view
  size_t pos = 0;
};

enum class FilterOutput { kProgram, kProgramAndPseudoCode };

// What libseccomp built from the rules, handed back by the child (or built
// in process), so that the policy is compiled once. `program` is
// BuildStrictFilter's result for the rules, an error included (a filter
// longer than the kernel accepts is reported when it is used, with its
// size); `pseudo_code` DescribeStrictFilter's, when asked for.
struct CompiledFilter {
  absl::StatusOr<BpfProgram> program = absl::FailedPreconditionError("not compiled");
  absl::StatusOr<std::string> pseudo_code =
      absl::FailedPreconditionError("the pseudo-code was not asked for");
};

// The strict filter of every rule of `pending` (in order), when libseccomp
// accepts every rule and turns them all into one filter. Otherwise
// InvalidArgumentError at the first syscall it refuses ("... that libseccomp rejects (ERROR) ..."), never returns on
// ("... cannot compile (it never returns) ...") or crashes on; or, when it
// accepts every rule but hangs or crashes exporting the filter, at the last
// syscall with rules, saying so. InternalError when the child cannot be
// started (or does not hand the filter back whole). The check runs whether
// or not `pending` is empty: the filter is needed either way.
absl::StatusOr<CompiledFilter> CompileChecked(const std::vector<PendingSyscall>& pending,
                                              FilterOutput output);

}  // namespace policy
}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_POLICY_POLICY_COMPILE_CHECK_H_
