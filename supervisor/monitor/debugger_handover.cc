// Monitor: handing a process over to a debugger (the stop and gdb actions).
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "supervisor/monitor/monitor.h"
#include "supervisor/os/send_signal.h"
#include "supervisor/trace/fault_detector.h"
#include "supervisor/trace/ptrace_util.h"

namespace dpsupervise {

absl::Status Monitor::StopForDebugger(ThreadState& thread, bool run_gdb, int resend_signal) {
  const pid_t tgid = thread.tgid;
  const pid_t tid = thread.tid;
  // A SIGSTOP aimed at the violating thread itself: once detached, it takes
  // the signal before running a single instruction and puts the whole group
  // into group-stop. (A process-directed SIGSTOP could be taken by another,
  // still traced thread, letting this one run on in the meantime.) The other
  // threads are detached as they reach their group-stop (DetachForDebugger);
  // a thread detached in group-stop stays stopped, ready for `gdb -p`.
  ProcessState& process = threads_.Process(tgid);
  process.handover = run_gdb ? DebuggerHandover::kDetachThenRunGdb : DebuggerHandover::kDetach;
  process.violating_tid = tid;
  int no_signal = 0;
  UndoDispatchForDetach(thread, &no_signal);  // at the violation: rewound already
  RestoreProgramSignalMask(thread);
  if (SignalThread(tgid, tid, SIGSTOP) != 0) {
    return absl::InternalError(absl::StrCat("tgkill(", tid, ", SIGSTOP): ", strerror(errno)));
  }
  absl::Status detached = Detach(tid, 0);
  if (!detached.ok() && !absl::IsNotFound(detached)) return detached;
  threads_.Erase(tid);
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
  UndoDispatchForDetach(thread, &deliver);
  RestoreProgramSignalMask(thread);
  absl::Status detached = Detach(tid, deliver);
  if (!detached.ok() && !absl::IsNotFound(detached)) return detached;
  threads_.Erase(tid);
  return FinishDetachIfDone(tgid);
}

absl::Status Monitor::FinishDetachIfDone(pid_t tgid) {
  if (threads_.HasThreadsOf(tgid)) return absl::OkStatus();  // more to detach
  ProcessState& process = threads_.Process(tgid);
  const bool run_gdb = process.handover == DebuggerHandover::kDetachThenRunGdb;
  const pid_t violating_tid = process.violating_tid;
  process.handover = DebuggerHandover::kNone;
  threads_.ForgetProcessIfGone(tgid);
  if (run_gdb && isatty(STDIN_FILENO)) {
    Say(absl::StrCat("dpsupervise: process ", tgid,
                     " is stopped at the violation; running gdb -p ", tgid, " on thread ",
                     violating_tid, "\n"));
    RunDebugger(tgid, violating_tid);
    return absl::OkStatus();
  }
  Say(absl::StrCat("dpsupervise: process ", tgid, " is stopped at the violation",
                   run_gdb ? " (stdin is not a terminal)" : "", "; debug it with: gdb -p ", tgid,
                   " (the violating thread is LWP ", violating_tid, ": thread find ",
                   violating_tid, ")\n", "dpsupervise: or resume it with: kill -CONT ", tgid,
                   "; dpsupervise exits when it ends\n"));
  return absl::OkStatus();
}

std::string SelectThreadCommand(pid_t tid) {
  // gdb selects the process's first thread on attach; its Python API finds
  // the violating one by its LWP (ptid[1]) and switches to it.
  return absl::StrCat("python [t.switch() for t in gdb.selected_inferior().threads() if t.ptid[1] == ",
                      tid, "]");
}

void Monitor::RunDebugger(pid_t pid, pid_t tid) {
  const std::string pid_text = absl::StrCat(pid);
  const std::string select = SelectThreadCommand(tid);
  pid_t gdb = fork();
  if (gdb == 0) {
    execlp("gdb", "gdb", "-q", "-p", pid_text.c_str(), "-ex", select.c_str(),
           static_cast<char*>(nullptr));
    fprintf(stderr, "dpsupervise: cannot run gdb: %s; debug with: gdb -p %d\n", strerror(errno),
            pid);
    _exit(127);
  }
  if (gdb > 0) debugger_pids_.insert(gdb);
}

}  // namespace dpsupervise
