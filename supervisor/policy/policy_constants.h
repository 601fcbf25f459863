// policy_constants.h: the names a policy may use for values and syscalls,
// and "did you mean" suggestions for misspelt ones. Used by the parser
// (policy_parser.h) and tests.
//
// Contract:
// - ConstantValue: the value of a named constant: every name the reports
//   print for flags and enumerations (syscall_flags.h: open, mmap, madvise,
//   fcntl, clock, futex, socket, message, prctl (with the dataplane
//   options), signal-mask, scheduler and common ioctl names), then *at,
//   access, seek, seal, mlock, msync, mremap, timerfd, socket option,
//   eventfd, poll, random, memfd, membarrier, clone and wait names, then
//   errno names E* and signal names SIG*; from this machine's headers, which
//   are the target's (x86-64 only). Negative constants (AT_FDCWD) are sign-extended
//   to 64 bits. Exact, case-sensitive spelling only.
// - Suggestion: " (did you mean 'X'?)" for the closest candidate within two
//   edits (and fewer edits than the candidate is long), or "". Cheap for
//   huge names: candidates whose length alone rules them out are skipped.
#ifndef DPSUPERVISE_SUPERVISOR_POLICY_POLICY_CONSTANTS_H_
#define DPSUPERVISE_SUPERVISOR_POLICY_POLICY_CONSTANTS_H_

#include <stdint.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace dpsupervise {
namespace policy {

std::optional<uint64_t> ConstantValue(absl::string_view name);

std::string Suggestion(absl::string_view name, const std::vector<std::string>& candidates);

// Every x86-64 syscall name libseccomp knows, and every name ConstantValue
// accepts: the candidates for Suggestion.
const std::vector<std::string>& SyscallNames();
const std::vector<std::string>& ConstantNames();

}  // namespace policy
}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_POLICY_POLICY_CONSTANTS_H_
