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
// at startup. Rules without conditions never make libseccomp hang: those
// policies are checked in process.
//
// Used by the driver (policy.cc) and tests.
#ifndef DPSUPERVISE_SUPERVISOR_POLICY_COMPILE_CHECK_H_
#define DPSUPERVISE_SUPERVISOR_POLICY_COMPILE_CHECK_H_

#include <stddef.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "supervisor/filter.h"
#include "supervisor/policy_lexer.h"

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

// OK when libseccomp accepts every rule of `pending` and turns them all into
// one filter. Otherwise InvalidArgumentError at the first syscall it
// refuses ("... that libseccomp rejects (ERROR) ..."), never returns on
// ("... cannot compile (it never returns) ...") or crashes on; or, when it
// accepts every rule but hangs or crashes exporting the filter, at the last
// syscall with rules, saying so. InternalError when the child cannot be
// started. A failure to export (e.g. too many instructions) is not this
// check's to report: BuildStrictFilter reports it with the filter's size.
absl::Status CheckCompiles(const std::vector<PendingSyscall>& pending);

}  // namespace policy
}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_POLICY_COMPILE_CHECK_H_
