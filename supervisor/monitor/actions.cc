// Monitor: what happens once a violation has been seen: the report, then the
// configured action.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "supervisor/monitor/classify.h"
#include "supervisor/trace/fault_detector.h"
#include "supervisor/monitor/monitor.h"
#include "supervisor/os/procfs.h"
#include "supervisor/trace/regs.h"
#include "supervisor/trace/ptrace_util.h"
#include "supervisor/os/send_signal.h"

namespace dpsupervise {

void Monitor::Report(const Violation& violation) {
  options_.reports->Write(options_.format == ReportFormat::kJson ? FormatJsonReport(violation)
                                                                 : FormatTextReport(violation));
}

void Monitor::Say(const std::string& text) {
  options_.reports->Write(options_.format == ReportFormat::kJson ? FormatJsonMessage(text) : text);
}

Action Monitor::RecordViolation(ThreadState& thread, Violation* violation, long long count) {
  total_violations_ += count;
  thread.window.summary.violations[ViolationKindName(violation->kind)] += count;
  Symbolize(violation);
  const Action action = options_.actions.For(violation->kind, thread.violation_signal());
  violation->action = action.ToString();
  switch (action.kind) {
    case ActionKind::kKill:
      violation->action_detail = "kill (SIGKILL to the whole program)";
      break;
    case ActionKind::kLog:
      violation->action_detail = "log (the program continues)";
      break;
    case ActionKind::kSignal:
      violation->action_detail = absl::StrCat(action.ToString(), " (thread ", thread.tid,
                                              " left strict mode)");
      break;
    case ActionKind::kErrno:
      violation->action_detail =
          absl::StrCat(action.ToString(), " (the syscall failed without running)");
      break;
    case ActionKind::kStop:
    case ActionKind::kGdb:
      violation->action_detail =
          absl::StrCat(action.ToString(), " (process ", thread.tgid,
                       " left stopped at the violation for a debugger: gdb -p ", thread.tgid, ")");
      break;
  }
  return action;
}

absl::Status Monitor::HandleViolation(ThreadState& thread, Violation violation,
                                      int stop_signal) {
  const Action action = RecordViolation(thread, &violation, 1);
  // Reports that cannot be written never change what happens to the
  // program (ReportWriter).
  Report(violation);
  absl::Status acted;
  switch (action.kind) {
    case ActionKind::kKill:
      acted = ActKill();
      break;
    case ActionKind::kLog:
      acted = ActLog(thread, violation, stop_signal);
      break;
    case ActionKind::kSignal:
      acted = ActSignal(thread, violation, stop_signal, action.signal);
      break;
    case ActionKind::kErrno:
      acted = ActErrno(thread, violation, action.errno_value);
      break;
    case ActionKind::kStop:
    case ActionKind::kGdb:
      acted = ActStop(thread, violation, stop_signal, action.kind == ActionKind::kGdb);
      break;
  }
  return acted;
}

absl::Status Monitor::ActKill() {
  // The violating thread stays in its stop (a syscall never runs) until the
  // SIGKILL ends it.
  KillProgram();
  return absl::OkStatus();
}

absl::Status Monitor::ActLog(ThreadState& thread, const Violation& violation, int stop_signal) {
  switch (violation.kind) {
    case ViolationKind::kSyscall:
      return LetSyscallRun(thread, violation.regs);  // the syscall runs
    case ViolationKind::kPageFault:
      return Resume(thread, 0);  // our SIGTRAP is dropped
    case ViolationKind::kTrap:
    case ViolationKind::kSignal:
      return Resume(thread, stop_signal);  // as without dpsupervise
  }
  return Resume(thread);
}

absl::Status Monitor::ActSignal(ThreadState& thread, const Violation& violation, int stop_signal,
                                int signal) {
  // As in the seed kernel: the thread leaves strict mode so that its
  // handler may make syscalls.
  LeaveStrict(thread);
  switch (violation.kind) {
    case ViolationKind::kSyscall: {
      // The syscall does not run now; when the handler returns, the thread
      // executes it again, no longer strict. A call through the vsyscall
      // page cannot be rewound (the kernel kills a thread whose emulated
      // call has its pc changed): it completes, then the signal comes.
      if (!InVsyscallPage(violation.regs.rip)) {
        absl::Status set = SetRegs(thread.tid, RewoundToSyscall(violation.regs));
        if (!set.ok()) return set;
      }
      if (SignalThread(thread.tgid, thread.tid, signal) != 0) {
        return absl::InternalError(absl::StrCat("tgkill(", thread.tid, "): ", strerror(errno)));
      }
      return Resume(thread);
    }
    case ViolationKind::kPageFault:
    case ViolationKind::kTrap:
      // Delivered in place of the SIGTRAP or fault signal, at the faulting
      // instruction.
      return Resume(thread, signal);
    case ViolationKind::kSignal:
      // Both arrive: the configured signal, and the one that was sent.
      if (SignalThread(thread.tgid, thread.tid, signal) != 0) {
        return absl::InternalError(absl::StrCat("tgkill(", thread.tid, "): ", strerror(errno)));
      }
      return Resume(thread, stop_signal);
  }
  return Resume(thread);
}

absl::Status Monitor::ActErrno(ThreadState& thread, const Violation& violation, int error) {
  return ReturnFromSyscall(thread, violation.regs, -error);
}

absl::Status Monitor::ActStop(ThreadState& thread, const Violation& violation, int stop_signal,
                              bool run_gdb) {
  if (violation.kind == ViolationKind::kSyscall && InVsyscallPage(violation.regs.rip)) {
    // A call through the vsyscall page cannot be rewound: it completes, and
    // the thread is stopped at the SIGTRAP of the page fault that started
    // its emulation (HandleSignalStop), which must not reach it detached.
    thread.faults.stop_after_vsyscall = run_gdb ? StopAfterVsyscall::kGdb : StopAfterVsyscall::kStop;
    return LetSyscallRun(thread, violation.regs);
  }
  if (violation.kind == ViolationKind::kSyscall) {
    absl::Status set = SetRegs(thread.tid, RewoundToSyscall(violation.regs));
    if (!set.ok()) return set;
  }
  return StopForDebugger(thread, run_gdb,
                         violation.kind == ViolationKind::kSignal ? stop_signal : 0);
}

absl::Status Monitor::StopForDebugger(ThreadState& thread, bool run_gdb, int resend_signal) {
  const pid_t tgid = thread.tgid;
  const pid_t tid = thread.tid;
  // A SIGSTOP aimed at the violating thread itself: once detached, it takes
  // the signal before running a single instruction and puts the whole group
  // into group-stop. (A process-directed SIGSTOP could be taken by another,
  // still traced thread, letting this one run on in the meantime.) The other
  // threads are detached as they reach their group-stop (DetachForDebugger);
  // a thread detached in group-stop stays stopped, ready for `gdb -p`.
  threads_.Process(tgid).handover =
      run_gdb ? DebuggerHandover::kDetachThenRunGdb : DebuggerHandover::kDetach;
  RestoreProgramSignalMask(thread);
  if (SignalThread(tgid, tid, SIGSTOP) != 0) {
    return absl::InternalError(absl::StrCat("tgkill(", tid, ", SIGSTOP): ", strerror(errno)));
  }
  if (ptrace(PTRACE_DETACH, tid, nullptr, nullptr) != 0 && errno != ESRCH) {
    return absl::InternalError(absl::StrCat("ptrace(PTRACE_DETACH, ", tid, "): ", strerror(errno)));
  }
  threads_.Erase(tid);
  // A sent signal stays pending for the debugger to see; a fault or our
  // SIGTRAP is not re-sent: the instruction faults again when resumed.
  if (resend_signal != 0) SignalThread(tgid, tid, resend_signal);
  return FinishDetachIfDone(tgid);
}

absl::Status Monitor::DetachForDebugger(ThreadState& thread, int status) {
  const pid_t tgid = thread.tgid;
  const pid_t tid = thread.tid;
  const int signal = WSTOPSIG(status);
  const int event = status >> 16;
  // A signal-delivery-stop passes its signal on (SIGSTOP among them, which
  // starts the group-stop), except our page-fault SIGTRAP, which would kill
  // the detached process; any other stop detaches with none.
  int deliver = (event == 0 && signal != (SIGTRAP | 0x80)) ? signal : 0;
  if (deliver == SIGTRAP) {
    auto info = GetSigInfo(tid);
    if (info.ok() && IsOurPageFaultTrap(*info)) deliver = 0;
  }
  RestoreProgramSignalMask(thread);
  if (ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(deliver))) !=
          0 &&
      errno != ESRCH) {
    return absl::InternalError(absl::StrCat("ptrace(PTRACE_DETACH, ", tid, "): ", strerror(errno)));
  }
  threads_.Erase(tid);
  return FinishDetachIfDone(tgid);
}

absl::Status Monitor::FinishDetachIfDone(pid_t tgid) {
  if (threads_.HasThreadsOf(tgid)) return absl::OkStatus();  // more to detach
  ProcessState& process = threads_.Process(tgid);
  const bool run_gdb = process.handover == DebuggerHandover::kDetachThenRunGdb;
  process.handover = DebuggerHandover::kNone;
  threads_.ForgetProcessIfGone(tgid);
  if (run_gdb && isatty(STDIN_FILENO)) {
    Say(absl::StrCat("dpsupervise: process ", tgid,
                                               " is stopped at the violation; running gdb -p ",
                                               tgid, "\n"));
    RunDebugger(tgid);
    return absl::OkStatus();
  }
  Say(absl::StrCat(
      "dpsupervise: process ", tgid, " is stopped at the violation", run_gdb ? " (stdin is not a terminal)" : "",
      "; debug it with: gdb -p ", tgid, "\n",
      "dpsupervise: or resume it with: kill -CONT ", tgid, "; dpsupervise exits when it ends\n"));
  return absl::OkStatus();
}

void Monitor::RunDebugger(pid_t pid) {
  const std::string pid_text = absl::StrCat(pid);
  pid_t gdb = fork();
  if (gdb == 0) {
    execlp("gdb", "gdb", "-q", "-p", pid_text.c_str(), static_cast<char*>(nullptr));
    fprintf(stderr, "dpsupervise: cannot run gdb: %s; debug with: gdb -p %d\n", strerror(errno),
            pid);
    _exit(127);
  }
  if (gdb > 0) debugger_pids_.insert(gdb);
}

}  // namespace dpsupervise
