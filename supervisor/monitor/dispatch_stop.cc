// Monitor: syscall user dispatch as the strict mechanism. A tracer switches
// it on for one stopped thread (PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG,
// Linux 6.4): every syscall of that thread is then not executed but raises
// a SIGSYS, checked in syscall entry before ptrace and seccomp, for every
// ABI. Entry needs no injected code, and since it can be switched off, a
// thread that left strict mode makes syscalls at native cost again (an
// injected filter stays for the thread's life).
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "absl/strings/str_cat.h"
#include "supervisor/monitor/monitor.h"
#include "supervisor/os/procfs.h"
#include "supervisor/seccomp/filter.h"
#include "supervisor/trace/ptrace_util.h"
#include "supervisor/trace/regs.h"

namespace dpsupervise {
namespace {

// asm-generic/siginfo.h: a SIGSYS raised by syscall user dispatch (1 is
// SYS_SECCOMP, a seccomp filter's SECCOMP_RET_TRAP).
constexpr int kSysUserDispatch = 2;
constexpr uint32_t kAuditArchI386 = 0x40000003;

// The dispatched syscall as seccomp would have seen it: number and ABI from
// the siginfo, arguments from the registers of that ABI.
seccomp_data DispatchedSyscallData(const siginfo_t& info, const user_regs_struct& regs) {
  seccomp_data data{};
  data.nr = info.si_syscall;
  data.arch = info.si_arch;
  data.instruction_pointer = regs.rip;
  if (info.si_arch == kAuditArchI386) {
    const unsigned long long args[6] = {regs.rbx, regs.rcx, regs.rdx,
                                        regs.rsi, regs.rdi, regs.rbp};
    for (int i = 0; i < 6; ++i) data.args[i] = args[i] & 0xffffffffu;
  } else {
    const unsigned long long args[6] = {regs.rdi, regs.rsi, regs.rdx,
                                        regs.r10, regs.r8,  regs.r9};
    for (int i = 0; i < 6; ++i) data.args[i] = args[i];
  }
  return data;
}

}  // namespace

absl::StatusOr<Monitor::MechanismChoice> Monitor::ChooseMechanism(ThreadState& thread) {
  MechanismChoice choice;
  if (options_.mechanism == StrictMechanism::kSeccomp) return choice;
  if (thread.strict()) {  // a flags change: strict the way it already is
    choice.dispatch = thread.syscalls.dispatched;
    return choice;
  }
  const bool explicit_dispatch = options_.mechanism == StrictMechanism::kDispatch;
  const char* kLacking =
      "--mechanism=dispatch: the kernel has no syscall user dispatch for tracers "
      "(PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG, Linux 6.4 or later)";
  if (kernel_lacks_dispatch_) {
    if (explicit_dispatch) choice.refusal = kLacking;
    return choice;
  }
  auto on = SyscallUserDispatchOn(thread.tid);
  if (absl::IsUnimplemented(on.status())) {
    kernel_lacks_dispatch_ = true;  // auto: the strict filter, silently
    if (explicit_dispatch) choice.refusal = kLacking;
    return choice;
  }
  if (!on.ok()) return on.status();
  if (*on) {
    // The program dispatches syscalls itself (Wine does): ours would
    // replace its configuration.
    Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid),
                     ": the thread uses syscall user dispatch itself; strict through the "
                     "injected seccomp filter instead\n"));
    return choice;
  }
  choice.dispatch = true;
  return choice;
}

absl::Status Monitor::SwitchDispatchOn(ThreadState& thread) {
  if (thread.syscalls.dispatched) return absl::OkStatus();
  absl::Status on = SetSyscallUserDispatch(thread.tid, true);
  if (!on.ok()) return on;
  thread.syscalls.dispatched = true;
  return absl::OkStatus();
}

void Monitor::SwitchDispatchOff(ThreadState& thread) {
  if (!thread.syscalls.dispatched) return;
  thread.syscalls.dispatched = false;
  thread.syscalls.stale_dispatch_sigsys = true;
  // Mid re-execution it is off already.
  if (!thread.syscalls.reexecuting) (void)SetSyscallUserDispatch(thread.tid, false);
}

bool Monitor::IsDispatchedSyscall(const ThreadState& thread, const siginfo_t& info) {
  if (!thread.syscalls.dispatched) return false;
  return IsKernelDispatchSigsys(thread, info);
}

bool Monitor::IsKernelDispatchSigsys(const ThreadState& thread, const siginfo_t& info) {
  if (info.si_code != kSysUserDispatch) return false;
  // A thread of the program can queue itself a SIGSYS with any si_code
  // (rt_tgsigqueueinfo): the kernel's own stands at the syscall it names,
  // just after the instruction, with rax rolled back to the number.
  auto regs = GetRegs(thread.tid);
  return regs.ok() && static_cast<long>(regs->orig_rax) == info.si_syscall &&
         regs->rax == regs->orig_rax && reinterpret_cast<uint64_t>(info.si_call_addr) == regs->rip;
}

absl::Status Monitor::HandleDispatchedSyscall(ThreadState& thread, const siginfo_t& info) {
  // Nothing runs while the process is killed; the SIGSYS never reaches it.
  if (Killing(thread)) return Continue(thread.tid);
  auto regs = GetRegs(thread.tid);
  if (!regs.ok()) return regs.status();
  thread.syscalls.judged = false;
  thread.syscalls.at_dispatch_stop = true;
  auto verdicts = JudgeStoppedSyscall(thread, DispatchedSyscallData(info, *regs));
  if (!verdicts.ok()) return verdicts.status();
  if (TraceCookieOf(verdicts->base) == TraceCookie::kDataplanePrctl) {
    return HandleDataplanePrctl(thread, *regs);
  }
  const uint32_t strict = verdicts->strict;
  if ((strict & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) {
    return ReturnFromSyscall(thread, *regs, -static_cast<long>(strict & SECCOMP_RET_DATA));
  }
  const std::optional<TraceCookie> cookie = TraceCookieOf(strict);
  if (cookie == TraceCookie::kViolation || cookie == TraceCookie::kForeignArch) {
    return ReportSyscall(thread, *regs);
  }
  // Allowed by the policy (exit and exit_group among them): run it for real.
  return LetSyscallRun(thread, *regs);
}

absl::Status Monitor::RunStoppedSyscall(ThreadState& thread) {
  if (!thread.syscalls.at_dispatch_stop) return Resume(thread);
  thread.syscalls.at_dispatch_stop = false;
  // Back to the syscall instruction, dispatch off for that one syscall; its
  // seccomp stop (the base filter's) is not a second violation.
  auto regs = GetRegs(thread.tid);
  if (!regs.ok()) return regs.status();
  absl::Status rewound = SetRegs(thread.tid, RewoundToSyscall(*regs));
  if (!rewound.ok()) return rewound;
  absl::Status off = SetSyscallUserDispatch(thread.tid, false);
  if (!off.ok()) return off;
  thread.syscalls.reexecuting = true;
  thread.syscalls.judged = true;
  return ContinueToSyscall(thread.tid);
}

absl::Status Monitor::HandleReexecutionStop(ThreadState& thread) {
  auto info = GetSyscallInfo(thread.tid);
  if (!info.ok()) return info.status();
  if (info->op != PTRACE_SYSCALL_INFO_EXIT) return ContinueToSyscall(thread.tid);
  thread.syscalls.reexecuting = false;
  thread.syscalls.judged = false;
  if (thread.syscalls.dispatched) {
    absl::Status on = SetSyscallUserDispatch(thread.tid, true);
    if (!on.ok()) return on;
  }
  return Resume(thread);
}

void Monitor::AbandonReexecution(ThreadState& thread) {
  thread.syscalls.reexecuting = false;
  thread.syscalls.judged = false;
  if (thread.syscalls.dispatched) (void)SetSyscallUserDispatch(thread.tid, true);
}

void Monitor::UndoDispatchForDetach(ThreadState& thread, int* deliver) {
  if (!thread.syscalls.dispatched) return;
  if (*deliver == SIGSYS) {
    auto info = GetSigInfo(thread.tid);
    auto regs = GetRegs(thread.tid);
    if (info.ok() && regs.ok() && IsDispatchedSyscall(thread, *info)) {
      // Detached, it executes that syscall again, natively.
      (void)SetRegs(thread.tid, RewoundToSyscall(*regs));
      *deliver = 0;
    }
  }
  SwitchDispatchOff(thread);
}

}  // namespace dpsupervise
