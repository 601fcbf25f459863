// regs.h: facts of the x86-64 register file that the monitor and the
// injection both rely on, in one place.
#ifndef DPSUPERVISE_SUPERVISOR_TRACE_REGS_H_
#define DPSUPERVISE_SUPERVISOR_TRACE_REGS_H_

#include <sys/syscall.h>
#include <sys/user.h>

namespace dpsupervise {

// `syscall` (0f 05) and `int 0x80` (cd 80) are both two bytes long: a
// syscall stop's rip is that far past the instruction.
inline constexpr unsigned long long kSyscallInstructionBytes = 2;

// Kernel-internal syscall return values asking for a restart (the thread
// was stopped inside an interrupted syscall).
inline constexpr long kErestartSys = -512;
inline constexpr long kErestartNoIntr = -513;
inline constexpr long kErestartNoHand = -514;
inline constexpr long kErestartRestartBlock = -516;

// Stopped inside an interrupted syscall: it will be restarted (or fail
// with EINTR) on the way out.
inline bool InInterruptedSyscall(const user_regs_struct& regs) {
  const long rax = static_cast<long>(regs.rax);
  return static_cast<long>(regs.orig_rax) >= 0 && rax <= kErestartSys &&
         rax >= kErestartRestartBlock;
}

// Registers that make the thread execute its syscall instruction again when
// resumed, with the syscall skipped now: a debugger, or a signal handler
// that returns, finds it exactly where it stopped.
inline user_regs_struct RewoundToSyscall(user_regs_struct regs) {
  regs.rax = regs.orig_rax;
  regs.orig_rax = static_cast<unsigned long long>(-1);
  regs.rip -= kSyscallInstructionBytes;
  return regs;
}

// The registers a thread stopped with `stopped` resumes with after
// dpsupervise ran syscalls of its own in it: when it had been stopped inside
// an interrupted syscall, set up to restart it as the kernel would have
// (restart_syscall for a restart block); an -EINTR it already got stays.
inline user_regs_struct RegistersToResume(const user_regs_struct& stopped) {
  user_regs_struct regs = stopped;
  const long rax = static_cast<long>(stopped.rax);
  if (static_cast<long>(stopped.orig_rax) < 0) return regs;
  if (rax == kErestartSys || rax == kErestartNoIntr || rax == kErestartNoHand) {
    regs.rax = stopped.orig_rax;
  } else if (rax == kErestartRestartBlock) {
    regs.rax = SYS_restart_syscall;
  } else {
    return regs;
  }
  regs.rip -= kSyscallInstructionBytes;
  regs.orig_rax = static_cast<unsigned long long>(-1);
  return regs;
}

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_TRACE_REGS_H_
