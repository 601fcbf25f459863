// exit_codes.h: dpsupervise's own exit statuses (docs/usage.md, "Exit status"). Any
// other status is the program's: its exit code, or 128+signal.
#ifndef DPSUPERVISE_SUPERVISOR_EXIT_CODES_H_
#define DPSUPERVISE_SUPERVISOR_EXIT_CODES_H_

#include "absl/status/status.h"

namespace dpsupervise {

inline constexpr int kExitUsage = 2;
inline constexpr int kExitInternal = 125;
inline constexpr int kExitNotExecutable = 126;
inline constexpr int kExitNotFound = 127;

// The exit status for a failure of dpsupervise itself.
inline int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return kExitUsage;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kPermissionDenied:
      return kExitNotExecutable;
    default:
      return kExitInternal;
  }
}

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_EXIT_CODES_H_
