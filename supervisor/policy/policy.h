// policy.h: dpsupervise policy files (docs/policy.md).
//
// A policy lists the syscalls a strict thread may still make, in minijail's
// seccomp policy syntax so existing policies carry over:
//
//     clock_gettime: 1
//     write: arg0 == 1 || arg0 == 2
//     sched_yield: return EPERM
//     ioctl: arg1 == TCGETS; return ENOTTY
//
// plus directives for what minijail has no words for: `@include PATH`,
// `@action KIND ACTION` and `@preflight off|warn|enforce`. The rules compile
// into the strict filter (filter.h), so allowed syscalls cost nothing at run
// time. Any error rejects the whole policy with a compiler-style message:
//
//     app.policy:3:14: error: found '===', expected a comparison operator ...
//     write: arg0 === 1
//                 ^
#ifndef DPSUPERVISE_SUPERVISOR_POLICY_POLICY_H_
#define DPSUPERVISE_SUPERVISOR_POLICY_POLICY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "supervisor/policy/action.h"
#include "supervisor/seccomp/filter.h"
#include "supervisor/model/violation.h"

namespace dpsupervise {

enum class PreflightMode { kOff, kWarn, kEnforce };

// "off", "warn", "enforce".
const char* PreflightModeName(PreflightMode mode);

struct Policy {
  // To compile into the strict filter with BuildStrictFilter(). One syscall
  // line may give several rules (one per `||` alternative, and for
  // `EXPR; return E` the errno rules of the opposite of EXPR). Rules for
  // prctl, exit and exit_group are left out: strict mode always allows them.
  std::vector<SyscallRule> rules;
  // One human line per syscall rule line of the policy, in order, for
  // --check-policy: "app.policy:3: write: arg0 == 1 || arg0 == 2". Not
  // parallel to `rules`.
  std::vector<std::string> rule_sources;
  // "@action KIND ACTION"; a later line or file overrides an earlier one.
  std::map<ViolationKind, Action> actions;
  // "@action default ACTION".
  std::optional<Action> default_action;
  // "@preflight off|warn|enforce".
  std::optional<PreflightMode> preflight;
  // Every file read, in order, includes too (each once).
  std::vector<std::string> files;
  // The strict filter of `rules`: what BuildStrictFilter(rules) returns,
  // its error included (a filter longer than the kernel accepts, reported
  // when the filter is used). libseccomp compiles the policy once, in the
  // load's compile check (in a child that guards against libseccomp
  // stalls), which hands the program back.
  absl::StatusOr<BpfProgram> strict_filter =
      absl::FailedPreconditionError("the policy was not loaded: no strict filter");
  // DescribeStrictFilter(rules), when PolicyLoadOptions::describe_filter
  // asked for it (--check-policy).
  absl::StatusOr<std::string> strict_filter_pseudo_code =
      absl::FailedPreconditionError("the filter's pseudo-code was not asked for");
};

struct PolicyLoadOptions {
  // Also hand back the strict filter's pseudo-code.
  bool describe_filter = false;
};

// Parses and merges several files in order, as if concatenated: a syscall
// may have one rule in all of them together; a later @action or @preflight
// overrides an earlier one. A file already read (by another path or an
// @include) is not read again. InvalidArgumentError on any problem, with the
// compiler-style message above; nothing is partially accepted. No paths:
// the empty policy (every syscall but prctl, exit and exit_group is a
// violation), with its strict filter.
absl::StatusOr<Policy> LoadPolicyFiles(const std::vector<std::string>& paths,
                                       PolicyLoadOptions options = {});

// Parses `text` as if read from `filename` (@include paths are resolved
// relative to its directory; the file itself need not exist).
absl::StatusOr<Policy> ParsePolicy(absl::string_view text, const std::string& filename,
                                   PolicyLoadOptions options = {});

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_POLICY_POLICY_H_
