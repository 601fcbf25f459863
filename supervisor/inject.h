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

// The address of a `syscall` instruction (0f 05) in the vDSO of `pid`, for
// running syscalls in a thread that is not stopped at one of its own.
absl::StatusOr<uint64_t> FindSyscallInstruction(pid_t pid);

// Installs `program` as a seccomp filter on `tid`, which is in any ptrace
// stop but a seccomp stop (PTRACE_INTERRUPT, signal-delivery, event stop),
// by running seccomp(2) through the `syscall` instruction at
// `syscall_instruction`. Every register is restored afterwards; when the
// thread had been stopped inside an interrupted syscall (-ERESTART*), it is
// set up to restart that syscall exactly as the kernel would have, and an
// -EINTR it had already received stays. On return (unless it died) the
// thread is stopped and must be resumed by the caller. Signals that arrive
// during the injection are queued again with tgkill (their siginfo is lost).
absl::StatusOr<InjectionOutcome> InjectSeccompFilterAnywhere(pid_t tgid, pid_t tid,
                                                             uint64_t syscall_instruction,
                                                             const BpfProgram& program);

// The registers to resume a thread with after an injection, given those it
// was stopped with: applies the syscall-restart rules (exposed for tests).
user_regs_struct RegistersAfterInjection(const user_regs_struct& stopped);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_INJECT_H_
