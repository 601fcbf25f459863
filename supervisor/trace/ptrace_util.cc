#include "supervisor/trace/ptrace_util.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "absl/strings/str_cat.h"

namespace dpsupervise {
namespace {

absl::Status PtraceError(absl::string_view request, pid_t tid) {
  const int err = errno;
  std::string message = absl::StrCat("ptrace(", request, ", ", tid, "): ", strerror(err));
  // ESRCH means the task is gone (killed or exited): callers treat it as such.
  if (err == ESRCH) return absl::NotFoundError(message);
  return absl::InternalError(message);
}

// Linux 6.4 (include/uapi/linux/ptrace.h); glibc may not name them yet.
constexpr int kSetSyscallUserDispatchConfig = 0x4210;
constexpr int kGetSyscallUserDispatchConfig = 0x4211;

struct SyscallUserDispatchConfig {
  uint64_t mode;  // PR_SYS_DISPATCH_OFF (0) or PR_SYS_DISPATCH_ON (1)
  uint64_t selector;
  uint64_t offset;
  uint64_t len;
};

absl::Status DispatchError(absl::string_view request, pid_t tid) {
  const int err = errno;
  if (err == EIO || err == EINVAL) {
    return absl::UnimplementedError(absl::StrCat(
        "ptrace(", request, ", ", tid, "): ", strerror(err),
        ": the kernel has no syscall user dispatch for tracers (Linux 6.4 or later)"));
  }
  errno = err;
  return PtraceError(request, tid);
}

}  // namespace

const unsigned long kSeizeOptions = PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP |
                                    PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
                                    PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |
                                    PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXIT;

absl::Status Seize(pid_t pid) {
  if (ptrace(PTRACE_SEIZE, pid, nullptr, kSeizeOptions) != 0) {
    return PtraceError("PTRACE_SEIZE", pid);
  }
  return absl::OkStatus();
}

absl::StatusOr<user_regs_struct> GetRegs(pid_t tid) {
  user_regs_struct regs;
  if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return PtraceError("PTRACE_GETREGS", tid);
  return regs;
}

absl::Status SetRegs(pid_t tid, const user_regs_struct& regs) {
  if (ptrace(PTRACE_SETREGS, tid, nullptr, &regs) != 0) return PtraceError("PTRACE_SETREGS", tid);
  return absl::OkStatus();
}

absl::StatusOr<unsigned long> GetEventMsg(pid_t tid) {
  unsigned long msg = 0;
  if (ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg) != 0) {
    return PtraceError("PTRACE_GETEVENTMSG", tid);
  }
  return msg;
}

absl::StatusOr<siginfo_t> GetSigInfo(pid_t tid) {
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  if (ptrace(PTRACE_GETSIGINFO, tid, nullptr, &info) != 0) {
    return PtraceError("PTRACE_GETSIGINFO", tid);
  }
  return info;
}

absl::Status SetSyscallUserDispatch(pid_t tid, bool on) {
  // Selector 0 (no switch in the program's memory) and an empty exempt
  // range: every syscall of the thread is dispatched.
  SyscallUserDispatchConfig config{on ? 1u : 0u, 0, 0, 0};
  if (ptrace(static_cast<__ptrace_request>(kSetSyscallUserDispatchConfig), tid,
             reinterpret_cast<void*>(sizeof(config)), &config) != 0) {
    return DispatchError("PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG", tid);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SyscallUserDispatchOn(pid_t tid) {
  SyscallUserDispatchConfig config{};
  if (ptrace(static_cast<__ptrace_request>(kGetSyscallUserDispatchConfig), tid,
             reinterpret_cast<void*>(sizeof(config)), &config) != 0) {
    return DispatchError("PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG", tid);
  }
  return config.mode != 0;
}

absl::Status SingleStep(pid_t tid) {
  if (ptrace(PTRACE_SINGLESTEP, tid, nullptr, nullptr) != 0) {
    return PtraceError("PTRACE_SINGLESTEP", tid);
  }
  return absl::OkStatus();
}

absl::Status Interrupt(pid_t tid) {
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
    return PtraceError("PTRACE_INTERRUPT", tid);
  }
  return absl::OkStatus();
}

absl::Status Detach(pid_t tid, int signal) {
  if (ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal))) !=
      0) {
    return PtraceError("PTRACE_DETACH", tid);
  }
  return absl::OkStatus();
}

absl::Status SetSigInfo(pid_t tid, const siginfo_t& info) {
  if (ptrace(PTRACE_SETSIGINFO, tid, nullptr, &info) != 0) {
    return PtraceError("PTRACE_SETSIGINFO", tid);
  }
  return absl::OkStatus();
}

absl::StatusOr<__ptrace_syscall_info> GetSyscallInfo(pid_t tid) {
  __ptrace_syscall_info info;
  memset(&info, 0, sizeof(info));
  if (ptrace(PTRACE_GET_SYSCALL_INFO, tid,
             reinterpret_cast<void*>(sizeof(info)), &info) < 0) {
    return PtraceError("PTRACE_GET_SYSCALL_INFO", tid);
  }
  return info;
}

absl::Status Continue(pid_t tid, int signal) {
  if (ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal))) != 0) {
    return PtraceError("PTRACE_CONT", tid);
  }
  return absl::OkStatus();
}

absl::Status ContinueToSyscall(pid_t tid, int signal) {
  if (ptrace(PTRACE_SYSCALL, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal))) !=
      0) {
    return PtraceError("PTRACE_SYSCALL", tid);
  }
  return absl::OkStatus();
}

absl::Status Listen(pid_t tid) {
  if (ptrace(PTRACE_LISTEN, tid, nullptr, nullptr) != 0) return PtraceError("PTRACE_LISTEN", tid);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> GetSigMask(pid_t tid) {
  uint64_t mask = 0;
  if (ptrace(PTRACE_GETSIGMASK, tid, reinterpret_cast<void*>(sizeof(mask)), &mask) != 0) {
    return PtraceError("PTRACE_GETSIGMASK", tid);
  }
  return mask;
}

absl::Status SetSigMask(pid_t tid, uint64_t mask) {
  if (ptrace(PTRACE_SETSIGMASK, tid, reinterpret_cast<void*>(sizeof(mask)), &mask) != 0) {
    return PtraceError("PTRACE_SETSIGMASK", tid);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<sock_filter>> GetSeccompFilter(pid_t tid, unsigned long index) {
  long count = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, reinterpret_cast<void*>(index), nullptr);
  if (count < 0) return PtraceError("PTRACE_SECCOMP_GET_FILTER", tid);
  std::vector<sock_filter> program(static_cast<size_t>(count));
  count = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, reinterpret_cast<void*>(index), program.data());
  if (count < 0) return PtraceError("PTRACE_SECCOMP_GET_FILTER", tid);
  program.resize(static_cast<size_t>(count));
  return program;
}

absl::Status WriteMemory(pid_t pid, uint64_t addr, const void* data, size_t size) {
  iovec local{const_cast<void*>(data), size};
  iovec remote{reinterpret_cast<void*>(addr), size};
  ssize_t written = process_vm_writev(pid, &local, 1, &remote, 1, 0);
  if (written == static_cast<ssize_t>(size)) return absl::OkStatus();
  const int err = written < 0 ? errno : EFAULT;
  return absl::InternalError(absl::StrCat("process_vm_writev(", pid, ", 0x", absl::Hex(addr), ", ",
                                          size, " bytes): ", strerror(err)));
}

absl::StatusOr<std::string> ReadMemory(pid_t pid, uint64_t addr, size_t size) {
  std::string out(size, '\0');
  size_t done = 0;
  // Read page by page so that a range ending in unmapped memory still yields
  // its mapped prefix.
  while (done < size) {
    const uint64_t cur = addr + done;
    const size_t to_page_end = 4096 - (cur & 4095);
    const size_t chunk = std::min(size - done, to_page_end);
    iovec local{&out[done], chunk};
    iovec remote{reinterpret_cast<void*>(cur), chunk};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    done += n;
    if (static_cast<size_t>(n) < chunk) break;
  }
  if (done == 0 && size > 0) {
    return absl::InternalError(
        absl::StrCat("process_vm_readv(", pid, ", 0x", absl::Hex(addr), "): ", strerror(errno)));
  }
  out.resize(done);
  return out;
}

}  // namespace dpsupervise
