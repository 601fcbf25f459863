// inject.h: makes a stopped tracee run one syscall of the supervisor's
// choosing, in place of the syscall it stopped at.
#ifndef DPSUPERVISE_SUPERVISOR_INJECT_H_
#define DPSUPERVISE_SUPERVISOR_INJECT_H_

#include <sys/types.h>
#include <sys/user.h>

#include "absl/status/statusor.h"
#include "supervisor/bpf_program.h"

namespace dpsupervise {

// Outcome of an injected syscall whose thread may die while it runs.
struct InjectionOutcome {
  // True when the thread ended (killed from outside) during the injection;
  // `wait_status` then holds its waitpid status and `result` is meaningless.
  bool thread_died = false;
  int wait_status = 0;
  // The injected syscall's return value: >= 0, or -errno.
  long result = 0;
};

// `tid` must be in a PTRACE_EVENT_SECCOMP stop, with `stop_regs` its
// registers. Writes `program` below the thread's red zone, rewrites the
// syscall into seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW)
// and runs it to its exit. On return (unless the thread died) the thread sits
// at that syscall-exit stop; the caller restores `stop_regs` with the return
// value it wants the original syscall to have. The filter applies to `tid`
// only (no TSYNC). Errors are ptrace or memory failures, naming the step.
absl::StatusOr<InjectionOutcome> InjectSeccompFilter(pid_t tid, const user_regs_struct& stop_regs,
                                                     const BpfProgram& program);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_INJECT_H_
