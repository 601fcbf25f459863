// Monitor: a thread at one of the --enter-at / --leave-at breakpoints, and
// stepping it over the original instruction with signals held back.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "supervisor/monitor/monitor.h"
#include "supervisor/os/procfs.h"
#include "supervisor/os/send_signal.h"
#include "supervisor/trace/ptrace_util.h"

namespace dpsupervise {
namespace {

constexpr int kKernelSigRtMin = 32;

bool IsStepTrap(const siginfo_t& info) {
  // The single-step trap has a kernel si_code (TRAP_TRACE), or SI_USER with
  // no sender when the stepped instruction was a syscall; a SIGTRAP sent by
  // a process (kill, tgkill, sigqueue) is a signal like any other.
  return info.si_signo == SIGTRAP &&
         (info.si_code > 0 || (info.si_code == SI_USER && info.si_pid == 0));
}

// Whether `signal` is pending for thread `tid` itself (SigPnd), as opposed
// to the whole process (ShdPnd).
absl::StatusOr<bool> ThreadPendsSignal(pid_t tid, int signal) {
  auto pending = TaskSignalSet(tid, "SigPnd");
  if (!pending.ok()) return pending.status();
  return ((*pending >> (signal - 1)) & 1) != 0;
}

}  // namespace

absl::Status Monitor::HandleBreakpoint(ThreadState& thread, user_regs_struct regs) {
  const Breakpoints::Breakpoint breakpoint = *breakpoints_.At(regs.rip - 1);
  regs.rip = breakpoint.address;  // execute the original instruction
  absl::Status set = SetRegs(thread.tid, regs);
  if (!set.ok()) return set;
  switch (breakpoint.role) {
    case Breakpoints::Role::kEntryPoint: {
      breakpoints_.Remove(thread.tid, breakpoint.address);
      absl::Status armed = breakpoints_.ArmPending(thread.tid);
      if (!armed.ok()) return armed;
      return Resume(thread);
    }
    case Breakpoints::Role::kEnter:
      if (!options_.enter_at_every) {
        // The first thread to get there: the breakpoints have done their job.
        breakpoints_.RemoveRole(thread.tid, Breakpoints::Role::kEnter);
      } else {
        absl::Status stepped = StepOverBreakpoint(thread, breakpoint);
        if (!stepped.ok()) return stepped;
      }
      if (thread.strict()) return Resume(thread);
      thread.trigger.triggered = true;
      Say(absl::StrCat("dpsupervise: ", thread.tid, ": reached ", breakpoint.label, "\n"));
      return EnterStrictFromOutside(thread);
    case Breakpoints::Role::kLeave: {
      absl::Status stepped = StepOverBreakpoint(thread, breakpoint);
      if (!stepped.ok()) return stepped;
      if (thread.strict()) {
        LeaveStrict(thread);
        Say(absl::StrCat("dpsupervise: ", thread.tid, ": strict mode left at ", breakpoint.label,
                         "\n"));
      }
      return Resume(thread);
    }
  }
  return Resume(thread);
}

absl::Status Monitor::StepOverBreakpoint(ThreadState& thread,
                                         const Breakpoints::Breakpoint& breakpoint) {
  // `thread` is erased from the table if it exits during the step.
  const pid_t tid = thread.tid;
  const pid_t tgid = thread.tgid;
  absl::Status lifted = Breakpoints::Lift(tid, breakpoint);
  if (!lifted.ok()) return lifted;
  std::vector<siginfo_t> held;
  absl::Status stepped = SingleStep(thread, &held);
  // The int3 goes back whatever became of the stepped thread: the others run
  // the same code. A process that has gone entirely needs none.
  absl::Status restored =
      Breakpoints::Restore(stepped.ok() ? tid : threads_.LiveTid(tgid), breakpoint);
  if (!restored.ok() && !absl::IsNotFound(restored)) return restored;
  if (!stepped.ok()) return stepped;
  return RequeueHeldSignals(thread, held);
}

absl::Status Monitor::SingleStep(ThreadState& thread, std::vector<siginfo_t>* held) {
  const pid_t tid = thread.tid;
  bool resume = true;
  for (;;) {
    if (resume) {
      // NotFound (ESRCH): killed (SIGKILL wakes a stopped tracee), its exit
      // follows.
      absl::Status stepping = dpsupervise::SingleStep(tid);
      if (!stepping.ok()) return stepping;
    }
    resume = true;
    int status = 0;
    pid_t waited;
    while ((waited = waitpid(tid, &status, __WALL)) < 0 && errno == EINTR) {
    }
    if (waited < 0) {
      const std::string message = absl::StrCat("waitpid(", tid, "): ", strerror(errno));
      return errno == ECHILD ? absl::NotFoundError(message) : absl::InternalError(message);
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      HandleExit(tid, status);
      return absl::NotFoundError(
          absl::StrCat("thread ", tid, " ended while stepping over a breakpoint"));
    }
    if (!WIFSTOPPED(status)) continue;
    const int event = status >> 16;
    if (event == PTRACE_EVENT_EXIT) {
      // Exiting (a fatal signal, or the stepped instruction ended it):
      // HandleExitEvent lets it go on; its exit ends the wait.
      absl::Status let_go = HandleExitEvent(thread);
      if (!let_go.ok()) return let_go;
      resume = false;
      continue;
    }
    // Other event stops (group-stop, an earlier PTRACE_INTERRUPT) just step on.
    if (event != 0) continue;
    auto info = GetSigInfo(tid);
    if (!info.ok()) return info.status();
    if (IsStepTrap(*info)) return absl::OkStatus();
    // A signal arrived before the instruction ran: it is dequeued now, and
    // would be again at every attempt if it stayed pending. Hold it back
    // (the next PTRACE_SINGLESTEP suppresses it) and deliver it after the
    // step.
    held->push_back(*info);
  }
}

absl::Status Monitor::RequeueHeldSignals(ThreadState& thread,
                                         const std::vector<siginfo_t>& held) {
  for (const siginfo_t& info : held) {
    // A standard signal already pending for the thread would swallow the
    // re-queued one, as the kernel merges them: then it is that one.
    auto pending = ThreadPendsSignal(thread.tid, info.si_signo);
    if (!pending.ok()) return pending.status();
    // (The kernel's real-time signals start at 32, below glibc's SIGRTMIN.)
    if (*pending && info.si_signo < kKernelSigRtMin) continue;
    if (SignalThread(thread.tgid, thread.tid, info.si_signo) != 0) {
      const std::string message = absl::StrCat("tgkill(", thread.tid, "): ", strerror(errno));
      return errno == ESRCH ? absl::NotFoundError(message) : absl::InternalError(message);
    }
    thread.held_signals.push_back(info);
  }
  return absl::OkStatus();
}

void Monitor::RestoreHeldSignal(ThreadState& thread, siginfo_t* info) {
  if (thread.held_signals.empty()) return;
  // Ours: re-queued by RequeueHeldSignals (si_pid is 0 when dpsupervise is
  // outside the program's pid namespace).
  const bool requeued =
      info->si_code == SI_TKILL && (info->si_pid == getpid() || info->si_pid == 0);
  if (!requeued) return;
  for (auto it = thread.held_signals.begin(); it != thread.held_signals.end(); ++it) {
    if (it->si_signo != info->si_signo) continue;
    // The original siginfo (sender, timer, value) is what the program sees.
    if (SetSigInfo(thread.tid, *it).ok()) *info = *it;
    thread.held_signals.erase(it);
    return;
  }
}

}  // namespace dpsupervise
