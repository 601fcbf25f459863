// inject.h: makes a stopped tracee run syscalls of the supervisor's choosing
// (mmap(2) for scratch memory, seccomp(2) to install the strict filter),
// then puts it back as it was.
//
// The filter image seccomp(2) reads is written only into memory dpsupervise
// mapped itself: the memory below a thread's stack pointer may belong to
// anything when the program chose its own stacks (a small stack inside a
// larger arena), so it is never written.
//
// The injection waits for its thread alone (waitpid on the tid). Whatever
// else that thread may report meanwhile is handled here when it belongs to
// the injection, and handed back to the monitor when it does not: an exec by
// another thread that takes the tid over, or the thread being killed.
#ifndef DPSUPERVISE_SUPERVISOR_TRACE_INJECT_H_
#define DPSUPERVISE_SUPERVISOR_TRACE_INJECT_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "supervisor/seccomp/bpf_program.h"
#include "supervisor/os/procfs.h"

namespace dpsupervise {

// Memory dpsupervise mapped in a process (one per process, kept for its
// lifetime: unmapping it would send TLB-shootdown IPIs to the CPUs of the
// process's other threads, strict ones included). Zero: none yet.
struct ScratchMemory {
  uint64_t address = 0;
  size_t size = 0;
};

// Outcome of an injection whose thread may die or be taken over meanwhile.
struct InjectionOutcome {
  // The injection was abandoned because the thread reported a stop that is
  // not the injection's: `wait_status` is that waitpid status, which the
  // caller must handle as if its own waitpid had returned it. The thread's
  // registers were not restored: it exited (WIFEXITED/WIFSIGNALED), is
  // exiting (PTRACE_EVENT_EXIT), or the tid now belongs to a new program
  // image (PTRACE_EVENT_EXEC of another thread, which took the tid over).
  bool abandoned = false;
  int wait_status = 0;
  // The injected seccomp's return value: >= 0, or -errno (also -errno of
  // the scratch mmap, when that failed first).
  long result = 0;
  // Set, with `result` -EPERM, when the filter could not even be written:
  // the process is not dumpable, and the kernel keeps its memory from a
  // supervisor without CAP_SYS_PTRACE. Says so and what to do.
  std::string refusal;
};

// `tid` must be in a PTRACE_EVENT_SECCOMP stop at a syscall instruction,
// with `stop_regs` its registers. Writes `program` into `scratch` (mapped
// first, with the stopped syscall turned into mmap(2), when it is missing,
// too small or no longer mapped), and installs it with seccomp(SECCOMP_SET_MODE_FILTER,
// SECCOMP_FILTER_FLAG_SPEC_ALLOW). Unless abandoned, the thread is left at
// that syscall's exit stop; the caller restores `stop_regs` with the return
// value it wants the original syscall to have. The filter applies to `tid`
// only (no TSYNC). Errors are ptrace or memory failures, naming the step;
// PermissionDenied, with nothing changed in the thread (still at its
// seccomp stop), when the process is not dumpable and the filter cannot be
// written (see `refusal` for the same after the scratch mmap ran).
absl::StatusOr<InjectionOutcome> InjectSeccompFilter(pid_t tgid, pid_t tid,
                                                     const user_regs_struct& stop_regs,
                                                     const BpfProgram& program,
                                                     ScratchMemory* scratch);

// The address of a `syscall` instruction (0f 05) in executable memory of the
// process `tid` belongs to, for running syscalls in a thread that is not
// stopped at one of its own: the vDSO's when it is mapped executable,
// otherwise the first one in another executable mapping. NotFound (with
// why) when there is none; PermissionDenied (with the cause) when the
// process is not dumpable and its memory map is closed to this supervisor.
absl::StatusOr<uint64_t> FindSyscallInstruction(pid_t tid);

// Installs `program` as a seccomp filter on `tid`, which is in any ptrace
// stop but a seccomp stop (PTRACE_INTERRUPT, signal-delivery, event stop),
// by running seccomp(2) (and mmap(2) for `scratch`, as above) through the
// `syscall` instruction at `syscall_instruction`. Every register is restored
// afterwards; when the thread had been stopped inside an interrupted syscall
// (-ERESTART*), it is set up to restart that syscall exactly as the kernel
// would have, and an -EINTR it had already received stays. On return (unless
// abandoned) the thread is stopped and must be resumed by the caller.
// Signals that arrive during the injection are queued again with tgkill
// (their siginfo is lost). FailedPrecondition when the instruction faults
// (it was unmapped or made non-executable since it was found), and
// PermissionDenied (with the cause) when the process is not dumpable and
// the filter cannot be written: registers are restored and nothing was
// installed.
absl::StatusOr<InjectionOutcome> InjectSeccompFilterAnywhere(pid_t tgid, pid_t tid,
                                                             uint64_t syscall_instruction,
                                                             const BpfProgram& program,
                                                             ScratchMemory* scratch);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_TRACE_INJECT_H_
