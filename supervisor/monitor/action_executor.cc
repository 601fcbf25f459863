#include "supervisor/monitor/action_executor.h"

#include "absl/strings/str_cat.h"
#include "supervisor/monitor/classify.h"

namespace dpsupervise {
namespace {

absl::Status Log(const Violation& violation, int stop_signal, Tracee& tracee) {
  switch (violation.kind) {
    case ViolationKind::kSyscall:
      return tracee.RunSyscall(violation.regs);  // the syscall runs
    case ViolationKind::kPageFault:
      return tracee.Resume(0);  // our SIGTRAP is dropped
    case ViolationKind::kTrap:
    case ViolationKind::kSignal:
      return tracee.Resume(stop_signal);  // as without dpsupervise
    case ViolationKind::kIpi:
    case ViolationKind::kIrq:
    case ViolationKind::kTimer:
    case ViolationKind::kSoftirq:
    case ViolationKind::kPreemption:
    case ViolationKind::kMigration:
      return tracee.Resume(0);  // stopped by our interrupt: nothing to give back
  }
  return tracee.Resume(0);
}

absl::Status Signal(const Violation& violation, int stop_signal, int signal, Tracee& tracee) {
  // As in the seed kernel: the thread leaves strict mode so that its
  // handler may make syscalls.
  tracee.LeaveStrict();
  switch (violation.kind) {
    case ViolationKind::kSyscall: {
      // The syscall does not run now; when the handler returns, the thread
      // executes it again, no longer strict. A call through the vsyscall
      // page cannot be rewound (the kernel kills a thread whose emulated
      // call has its pc changed): it completes, then the signal comes.
      if (!InVsyscallPage(violation.regs.rip)) {
        absl::Status rewound = tracee.RewindToSyscall(violation.regs);
        if (!rewound.ok()) return rewound;
      }
      absl::Status queued = tracee.QueueSignal(signal);
      if (!queued.ok()) return queued;
      return tracee.Resume(0);
    }
    case ViolationKind::kPageFault:
    case ViolationKind::kTrap:
      // Delivered in place of the SIGTRAP or fault signal, at the faulting
      // instruction.
      return tracee.Resume(signal);
    case ViolationKind::kSignal: {
      // Both arrive: the configured signal, and the one that was sent.
      absl::Status queued = tracee.QueueSignal(signal);
      if (!queued.ok()) return queued;
      return tracee.Resume(stop_signal);
    }
    case ViolationKind::kIpi:
    case ViolationKind::kIrq:
    case ViolationKind::kTimer:
    case ViolationKind::kSoftirq:
    case ViolationKind::kPreemption:
    case ViolationKind::kMigration:
    {
      // Stopped by our interrupt, wherever it was (in a syscall the policy
      // allows, it restarts): the signal is delivered as it runs on.
      absl::Status queued = tracee.QueueSignal(signal);
      if (!queued.ok()) return queued;
      return tracee.Resume(0);
    }
  }
  return tracee.Resume(0);
}

absl::Status Stop(const Violation& violation, int stop_signal, bool run_gdb, Tracee& tracee) {
  if (violation.kind == ViolationKind::kSyscall && InVsyscallPage(violation.regs.rip)) {
    // A call through the vsyscall page cannot be rewound: it completes, and
    // the thread is stopped at the SIGTRAP of the page fault that started
    // its emulation, which must not reach it detached.
    return tracee.StopForDebuggerAfterSyscall(violation.regs, run_gdb);
  }
  if (violation.kind == ViolationKind::kSyscall) {
    absl::Status rewound = tracee.RewindToSyscall(violation.regs);
    if (!rewound.ok()) return rewound;
  }
  // A sent signal stays pending for the debugger to see; a fault or our
  // SIGTRAP is not re-sent: the instruction faults again when resumed.
  return tracee.StopForDebugger(run_gdb,
                                violation.kind == ViolationKind::kSignal ? stop_signal : 0);
}

}  // namespace

std::string DescribeAction(const Action& action, pid_t tid, pid_t tgid) {
  switch (action.kind) {
    case ActionKind::kKill:
      return absl::StrCat("kill (SIGKILL to process ", tgid, ")");
    case ActionKind::kKillAll:
      return "kill-all (SIGKILL to the whole program)";
    case ActionKind::kDeliver:
      return absl::StrCat("deliver (thread ", tid,
                          " left strict mode; the signal reaches the program)");
    case ActionKind::kLog:
      return "log (the program continues)";
    case ActionKind::kSignal:
      return absl::StrCat(action.ToString(), " (thread ", tid, " left strict mode)");
    case ActionKind::kErrno:
      return absl::StrCat(action.ToString(), " (the syscall failed without running)");
    case ActionKind::kStop:
    case ActionKind::kGdb:
      return absl::StrCat(action.ToString(), " (process ", tgid,
                          " left stopped at the violation for a debugger: gdb -p ", tgid, ")");
  }
  return action.ToString();
}

absl::Status ExecuteAction(const Action& action, const Violation& violation, int stop_signal,
                           Tracee& tracee) {
  switch (action.kind) {
    case ActionKind::kKill:
      tracee.KillProcess();
      return absl::OkStatus();
    case ActionKind::kKillAll:
      tracee.KillProgram();
      return absl::OkStatus();
    case ActionKind::kDeliver:
      // As the later kernel patches did with a strict thread's own
      // synchronous signal: strict mode ends and the program's handler (or
      // the default action) runs. The action table gives deliver to traps
      // and signals only.
      tracee.LeaveStrict();
      return tracee.Resume(stop_signal);
    case ActionKind::kLog:
      return Log(violation, stop_signal, tracee);
    case ActionKind::kSignal:
      return Signal(violation, stop_signal, action.signal, tracee);
    case ActionKind::kErrno:
      return tracee.ReturnFromSyscall(violation.regs, -action.errno_value);
    case ActionKind::kStop:
    case ActionKind::kGdb:
      return Stop(violation, stop_signal, action.kind == ActionKind::kGdb, tracee);
  }
  return tracee.Resume(0);
}

}  // namespace dpsupervise
