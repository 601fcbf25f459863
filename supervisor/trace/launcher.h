// launcher.h: starts the program under supervision.
//
// The child sets NO_NEW_PRIVS, installs the base filter, stops itself with
// SIGSTOP; the parent seizes it (PTRACE_SEIZE with kSeizeOptions), resumes it
// with SIGCONT, and the child execs the program. Everything the child needs is
// prepared before fork: it makes no allocation between fork and exec.
#ifndef DPSUPERVISE_SUPERVISOR_TRACE_LAUNCHER_H_
#define DPSUPERVISE_SUPERVISOR_TRACE_LAUNCHER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "supervisor/seccomp/bpf_program.h"

namespace dpsupervise {

// Finds `name` as execvp(3) would: as given when it contains '/', else in
// $PATH. NotFoundError when nothing matches, PermissionDeniedError when a
// match exists but cannot be executed.
absl::StatusOr<std::string> ResolveProgram(const std::string& name);

struct LaunchRequest {
  std::string path;               // from ResolveProgram
  std::vector<std::string> argv;  // argv[0] as the user gave it
  const BpfProgram* base_filter = nullptr;
  // Optional: stacked on top of the base filter before exec (--strict=exec).
  const BpfProgram* exec_filter = nullptr;
};

struct LaunchedProgram {
  pid_t pid = -1;
  // Read end of a close-on-exec pipe: EOF once exec succeeded, or a
  // ChildSetupFailure when the child failed before or at exec.
  int setup_error_fd = -1;
};

// Forks, hands the child over to ptrace, and lets it run towards exec. On
// return the child is seized and running; its first events (SIGCONT, exec)
// are for the monitor to collect.
absl::StatusOr<LaunchedProgram> Launch(const LaunchRequest& request);

// After the child ended without exec, turns what it wrote on
// `setup_error_fd` into the error to print: NotFound (exit 127),
// PermissionDenied (126) or Internal (125). Returns OK when exec succeeded.
absl::Status ReadSetupError(int setup_error_fd, const std::string& program);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_TRACE_LAUNCHER_H_
