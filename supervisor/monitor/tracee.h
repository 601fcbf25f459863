// tracee.h: what an action may do to the stopped thread a violation was
// seen in. The monitor implements it over ptrace (monitor.cc); the action
// code (action_executor.h) uses nothing else, so it is tested with a fake.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_TRACEE_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_TRACEE_H_

#include <sys/types.h>
#include <sys/user.h>

#include "absl/status/status.h"

namespace dpsupervise {

class Tracee {
 public:
  virtual ~Tracee() = default;

  virtual pid_t tid() const = 0;
  virtual pid_t tgid() const = 0;

  // Resumes the thread, delivering `signal` (0: none; the signal it is
  // stopped for is then dropped).
  virtual absl::Status Resume(int signal) = 0;
  // Lets the syscall it is stopped at run, with what must never run
  // unwatched fixed first (clone3, CLONE_UNTRACED, ...), and resumes it.
  virtual absl::Status RunSyscall(const user_regs_struct& regs) = 0;
  // Skips the syscall it is stopped at, which returns `value`, and resumes.
  virtual absl::Status ReturnFromSyscall(const user_regs_struct& regs, long value) = 0;
  // Puts the thread back at the syscall instruction it is stopped at, so
  // that it executes that syscall again when it next runs.
  virtual absl::Status RewindToSyscall(const user_regs_struct& regs) = 0;
  // Queues `signal` for the thread (tgkill); delivered once it runs.
  virtual absl::Status QueueSignal(int signal) = 0;
  // Ends its strict mode (the window, page-fault detection, its signal mask).
  virtual void LeaveStrict() = 0;
  // Leaves it, and then its whole process, stopped for a debugger; runs gdb
  // on it when asked. `resend_signal` stays pending for the debugger.
  virtual absl::Status StopForDebugger(bool run_gdb, int resend_signal) = 0;
  // As StopForDebugger, but once the syscall it is stopped at has run: a
  // call through the vsyscall page cannot be rewound.
  virtual absl::Status StopForDebuggerAfterSyscall(const user_regs_struct& regs,
                                                   bool run_gdb) = 0;
  // SIGKILLs the thread's process (its thread group) only; the rest of the
  // supervised program goes on. The thread stays in its stop until the
  // SIGKILL ends it.
  virtual void KillProcess() = 0;
  // SIGKILLs every process of the supervised program.
  virtual void KillProgram() = 0;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_TRACEE_H_
