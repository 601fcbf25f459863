// ptrace_util.h: thin, Status-returning wrappers over ptrace(2) requests and
// tracee memory access. Every failure names the request, the tid and errno.
#ifndef DPSUPERVISE_SUPERVISOR_TRACE_PTRACE_UTIL_H_
#define DPSUPERVISE_SUPERVISOR_TRACE_PTRACE_UTIL_H_

#include <signal.h>
#include <sys/ptrace.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include <linux/filter.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dpsupervise {

// Options every tracee is seized with (auto-attached tasks inherit them).
extern const unsigned long kSeizeOptions;

absl::Status Seize(pid_t pid);
absl::StatusOr<user_regs_struct> GetRegs(pid_t tid);
absl::Status SetRegs(pid_t tid, const user_regs_struct& regs);
absl::StatusOr<unsigned long> GetEventMsg(pid_t tid);
absl::StatusOr<siginfo_t> GetSigInfo(pid_t tid);
absl::StatusOr<__ptrace_syscall_info> GetSyscallInfo(pid_t tid);

// Resumes a stopped tracee, delivering `signal` (0 for none).
absl::Status Continue(pid_t tid, int signal = 0);
// Resumes until the next syscall entry or exit stop.
absl::Status ContinueToSyscall(pid_t tid, int signal = 0);
// The signal mask of a stopped tracee (bit N-1 for signal N), and setting it
// (SIGKILL and SIGSTOP cannot be blocked; pending signals it unblocks are
// delivered when the tracee resumes).
absl::StatusOr<uint64_t> GetSigMask(pid_t tid);
absl::Status SetSigMask(pid_t tid, uint64_t mask);

// The `index`th seccomp filter of a stopped tracee, 0 the most recently
// installed (PTRACE_SECCOMP_GET_FILTER: needs CAP_SYS_ADMIN).
absl::StatusOr<std::vector<sock_filter>> GetSeccompFilter(pid_t tid, unsigned long index);

// Executes one instruction (PTRACE_SINGLESTEP).
absl::Status SingleStep(pid_t tid);
// Stops a running tracee (PTRACE_INTERRUPT): a PTRACE_EVENT_STOP follows,
// unless another ptrace stop comes first and stands for it.
absl::Status Interrupt(pid_t tid);
// Stops tracing `tid`, which resumes with `signal` (0: none).
absl::Status Detach(pid_t tid, int signal = 0);
// Replaces the siginfo of the signal a tracee is stopped for.
absl::Status SetSigInfo(pid_t tid, const siginfo_t& info);

// Syscall user dispatch of a stopped tracee (Linux 6.4+,
// PTRACE_{SET,GET}_SYSCALL_USER_DISPATCH_CONFIG). On, with no selector and
// no exempt range, every syscall of that thread is not executed but raises
// SIGSYS (si_code SYS_USER_DISPATCH) at the instruction after it; off, its
// syscalls cost what they cost natively. Unimplemented when the kernel lacks
// the requests (EIO, EINVAL).
absl::Status SetSyscallUserDispatch(pid_t tid, bool on);
// Whether the tracee has syscall user dispatch switched on (its own
// prctl(PR_SET_SYSCALL_USER_DISPATCH), as Wine does, or ours).
absl::StatusOr<bool> SyscallUserDispatchOn(pid_t tid);

// Leaves a tracee in group-stop while still reporting events (PTRACE_LISTEN).
absl::Status Listen(pid_t tid);

// Writes `size` bytes at `addr` in the address space of `pid`.
absl::Status WriteMemory(pid_t pid, uint64_t addr, const void* data, size_t size);
// Reads up to `size` bytes at `addr`; fewer when the range ends in unmapped
// memory.
absl::StatusOr<std::string> ReadMemory(pid_t pid, uint64_t addr, size_t size);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_TRACE_PTRACE_UTIL_H_
