#include "supervisor/monitor/monitor.h"

#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "supervisor/monitor/action_executor.h"
#include "supervisor/monitor/classify.h"
#include "supervisor/monitor/tracee.h"
#include "supervisor/noise/prefault.h"
#include "supervisor/os/procfs.h"
#include "supervisor/os/send_signal.h"
#include "supervisor/os/wakeups.h"
#include "supervisor/seccomp/filter.h"
#include "supervisor/trace/fault_detector.h"
#include "supervisor/trace/launcher.h"
#include "supervisor/trace/ptrace_util.h"
#include "supervisor/trace/regs.h"

namespace dpsupervise {
namespace {

int ExitStatusOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 125;
}

// Whether the kernel would discard `signal` at send time for `tid`'s
// process without a tracer (kernel/signal.c sig_task_ignored): its handler
// is SIG_IGN, or SIG_DFL for a signal whose default is to ignore. (A
// blocked signal stays queued natively, but a blocked one never reaches a
// delivery stop.) Unreadable dispositions count as not ignored.
bool DiscardedNatively(pid_t tid, int signal) {
  const uint64_t bit = uint64_t{1} << (signal - 1);
  auto ignored = TaskSignalSet(tid, "SigIgn");
  if (ignored.ok() && (*ignored & bit) != 0) return true;
  const bool ignored_by_default =
      signal == SIGCHLD || signal == SIGURG || signal == SIGWINCH || signal == SIGCONT;
  if (!ignored_by_default) return false;
  auto caught = TaskSignalSet(tid, "SigCgt");
  return caught.ok() && (*caught & bit) == 0;
}

bool IsGroupStopSignal(int signal) {
  return signal == SIGSTOP || signal == SIGTSTP || signal == SIGTTIN || signal == SIGTTOU;
}

// A task vanishing under us (ESRCH) is normal: it was killed or exited, and
// its exit will be reported by waitpid.
absl::Status IgnoreVanished(absl::Status status) {
  return absl::IsNotFound(status) ? absl::OkStatus() : status;
}

}  // namespace

// The thread a violation was seen in, as the action code sees it.
class Monitor::StoppedThread : public Tracee {
 public:
  StoppedThread(Monitor& monitor, ThreadState& thread) : monitor_(monitor), thread_(thread) {}

  pid_t tid() const override { return thread_.tid; }
  pid_t tgid() const override { return thread_.tgid; }
  absl::Status Resume(int signal) override { return monitor_.Resume(thread_, signal); }
  absl::Status RunSyscall(const user_regs_struct& regs) override {
    return monitor_.LetSyscallRun(thread_, regs);
  }
  absl::Status ReturnFromSyscall(const user_regs_struct& regs, long value) override {
    return monitor_.ReturnFromSyscall(thread_, regs, value);
  }
  absl::Status RewindToSyscall(const user_regs_struct& regs) override {
    return SetRegs(thread_.tid, RewoundToSyscall(regs));
  }
  absl::Status QueueSignal(int signal) override {
    if (SignalThread(thread_.tgid, thread_.tid, signal) == 0) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("tgkill(", thread_.tid, "): ", strerror(errno)));
  }
  void LeaveStrict() override { monitor_.LeaveStrict(thread_); }
  absl::Status StopForDebugger(bool run_gdb, int resend_signal) override {
    if (thread_.faults.due == DueFaultTrap::kFault) {
      // The fault's SIGTRAP comes before the thread runs an instruction,
      // and would kill it once detached: stop it there.
      thread_.faults.stop_at_due = run_gdb ? StopAtFaultTrap::kGdb : StopAtFaultTrap::kStop;
      return monitor_.Resume(thread_, 0);
    }
    return monitor_.StopForDebugger(thread_, run_gdb, resend_signal);
  }
  absl::Status StopForDebuggerAfterSyscall(const user_regs_struct& regs, bool run_gdb) override {
    // Stopped at the SIGTRAP of the page fault that starts the vsyscall's
    // emulation (HandleSignalStop).
    thread_.faults.stop_at_due = run_gdb ? StopAtFaultTrap::kGdb : StopAtFaultTrap::kStop;
    return monitor_.LetSyscallRun(thread_, regs);
  }
  void KillProcess() override { monitor_.KillProcess(thread_.tgid); }
  void KillProgram() override { monitor_.KillProgram(); }

 private:
  Monitor& monitor_;
  ThreadState& thread_;
};

void Monitor::TakeInterruptions() {
  if (options_.interruptions == nullptr) return;
  for (Violation& violation : options_.interruptions->TakeInterruptions()) {
    ThreadState* thread = threads_.Find(violation.tid);
    // A window already over (or a thread gone, or on its way to a
    // debugger): the interruption stays noise, counted in the summary.
    if (thread == nullptr || !thread->strict() || Killing(*thread) ||
        HandingOver(thread->tgid)) {
      continue;
    }
    const bool requested = thread->interrupt_requested();
    thread->pending_interruptions.push_back(std::move(violation));
    if (!requested) (void)Interrupt(thread->tid);
  }
}

absl::Status Monitor::HandleInterruptions(ThreadState& thread) {
  std::vector<Violation> pending;
  pending.swap(thread.pending_interruptions);
  auto regs = GetRegs(thread.tid);
  if (!regs.ok()) return regs.status();
  for (size_t i = 0; i < pending.size(); ++i) {
    // Where the thread is now, and when it was stopped for the report; the
    // interruption's own time is in its details.
    Violation stopped = NewViolation(pending[i].kind, thread.tgid, thread.tid, *regs);
    Violation& violation = pending[i];
    violation.regs = stopped.regs;
    violation.time_ns = stopped.time_ns;
    violation.process_name = stopped.process_name;
    if (violation.thread_name.empty()) violation.thread_name = stopped.thread_name;
    const Action action = RecordViolation(thread, &violation, 1);
    notify_.EventViolation(violation);
    // One action per stop: a log lets the next one be reported; any other
    // ends the thread's strict window (or the thread), and the rest of
    // this batch stays noise.
    if (action.kind != ActionKind::kLog || i + 1 == pending.size()) {
      StoppedThread tracee(*this, thread);
      const bool leave_due = thread.state == StrictState::kLeaveRequested;
      absl::Status acted = ExecuteAction(action, violation, 0, tracee);
      // A --strict-for leave that met this stop is asked for again.
      ThreadState* still = threads_.Find(thread.tid);
      if (acted.ok() && leave_due && still != nullptr && still->interrupt_requested()) {
        (void)Interrupt(still->tid);
      }
      return acted;
    }
  }
  return Resume(thread);
}

absl::Status Monitor::HandleViolation(ThreadState& thread, Violation violation,
                                      int stop_signal) {
  const Action action = RecordViolation(thread, &violation, 1);
  notify_.EventViolation(violation);
  StoppedThread tracee(*this, thread);
  return ExecuteAction(action, violation, stop_signal, tracee);
}


Monitor::Monitor(const MonitorOptions& options)
    : options_(options),
      notify_(*options.notify),
      windows_(options.summary),
      triggers_(options.triggers),
      breakpoints_(options.enter_at, options.leave_at,
                   [this](pid_t pid, const CodeLocation& location) {
                     return ResolveInSession(pid, location);
                   }) {
  if (options_.attach) {
    // The seized threads: a main thread that had exited before the attach
    // is a zombie, not seized, and not tracked.
    for (pid_t tid : options_.attached_tids) threads_.Track(tid);
  } else {
    ThreadState& main = threads_.Track(options_.program_pid);
    main.tgid = options_.program_pid;
    // The launch child installed the base filter, and the strict filter for
    // --strict=exec.
    main.syscalls.own_filters = options_.strict_from_exec ? 2 : 1;
    // Its syscalls from the strict filter's installation to exec (execve
    // itself) stop for that filter: they are ours to let through.
    main.syscalls.strict_filter_installed = options_.strict_from_exec;
  }
  if (options_.attach) program_execed_ = true;
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) open_file_budget_ = files.rlim_cur / 2;
}

absl::Status Monitor::ArmAttached() {
  for (auto& [tid, thread] : threads_) PrepareFaultDetector(thread);
  return breakpoints_.ArmPending(threads_.LiveTid(options_.program_pid));
}

bool Monitor::HandingOver(pid_t tgid) {
  const ProcessState* process = threads_.FindProcess(tgid);
  return process != nullptr && process->handover != DebuggerHandover::kNone;
}

absl::StatusOr<int> Monitor::Run() {
  struct Event {
    pid_t tid;
    int status;
  };
  std::vector<Event> batch;
  for (;;) {
    if (options_.attach && DetachRequested()) return DetachAll();
    if (ConsumeTick()) OnTick();
    int status = 0;
    pid_t tid = waitpid(-1, &status, __WALL);
    if (tid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) break;
      return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
    }
    // Collect every stop already pending before serving any: waitpid
    // returns the most recently attached tracee first, so serving one event
    // per call would starve the oldest threads under a steady load.
    batch.clear();
    batch.push_back({tid, status});
    while ((tid = waitpid(-1, &status, __WALL | WNOHANG)) > 0) batch.push_back({tid, status});
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      absl::Status handled = IgnoreVanished(HandleWaitStatus(it->tid, it->status));
      if (handled.ok()) continue;
      // Supervision can no longer be guaranteed: nothing may run unwatched.
      KillProgram();
      // Dying tasks still stop for PTRACE_EVENT_EXIT: let each one go.
      int dying = 0;
      for (pid_t gone; (gone = waitpid(-1, &dying, __WALL)) > 0 || errno == EINTR;) {
        if (gone > 0 && WIFSTOPPED(dying)) (void)Continue(gone);
      }
      return handled;
    }
    windows_.TakeDueSnapshots(threads_);
    RunDeferredEntryChecks();
  }
  if (!program_execed_) {
    absl::Status setup = ReadSetupError(options_.setup_error_fd, options_.program_name);
    close(options_.setup_error_fd);
    if (!setup.ok()) return setup;
  }
  const int exit_status = ExitStatusOf(program_wait_status_);
  notify_.EventFinished(windows_.Summary(threads_, exit_status));
  return exit_status;
}

absl::Status Monitor::HandleWaitStatus(pid_t tid, int status) {
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    HandleExit(tid, status);
    return absl::OkStatus();
  }
  if (!WIFSTOPPED(status)) return absl::OkStatus();
  ThreadState& thread = threads_.Track(tid);
  if (HandingOver(thread.tgid)) return DetachForDebugger(thread, status);
  const int event = status >> 16;
  absl::Status handled = DispatchStop(thread, status);
  // The kernel clears a pending PTRACE_INTERRUPT when the thread enters any
  // other ptrace stop first (a seccomp stop, a signal): that stop stood for
  // it. A trigger's request still pending is asked for again, or the thread
  // would never become strict (or leave).
  const ThreadState* still = threads_.Find(tid);
  if (handled.ok() && event != PTRACE_EVENT_STOP && still != nullptr &&
      still->interrupt_requested() && !Killing(*still)) {
    (void)Interrupt(tid);
  }
  return handled;
}

absl::Status Monitor::DispatchStop(ThreadState& thread, int status) {
  const int signal = WSTOPSIG(status);
  const int event = status >> 16;
  thread.syscalls.at_dispatch_stop = false;  // set by the stop that is one
  switch (event) {
    case PTRACE_EVENT_SECCOMP:
      return HandleSeccompStop(thread);
    case PTRACE_EVENT_CLONE:
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
      return HandleNewTask(thread, event);
    case PTRACE_EVENT_EXEC:
      return HandleExec(thread);
    case PTRACE_EVENT_STOP:
      return HandleEventStop(thread, signal);
    case 0:
      break;
    case PTRACE_EVENT_EXIT:
      return HandleExitEvent(thread);
    default:  // PTRACE_EVENT_VFORK_DONE: nothing to do.
      return Resume(thread);
  }
  // A syscall stop outside an injection carries no signal.
  if (signal == (SIGTRAP | 0x80)) return HandleSyscallStop(thread);
  return HandleSignalStop(thread, signal);
}

void Monitor::HandleExit(pid_t tid, int status) {
  if (debugger_pids_.erase(tid) > 0) return;
  ThreadState* thread = threads_.Find(tid);
  if (thread != nullptr) windows_.Retire(*thread);
  if (tid == options_.program_pid) {
    program_wait_status_ = status;
  }
  const pid_t tgid = thread != nullptr ? thread->tgid : tid;
  threads_.Erase(tid);
  threads_.ForgetProcessIfGone(tgid);
}

absl::Status Monitor::HandleEventStop(ThreadState& thread, int signal) {
  // With PTRACE_SEIZE, group-stop is reported as PTRACE_EVENT_STOP with the
  // stopping signal; LISTEN keeps the task stopped, as job control expects,
  // while still reporting its next events. Any other event stop (a new task's
  // first stop, PTRACE_INTERRUPT) just resumes.
  if (IsGroupStopSignal(signal)) return Listen(thread.tid);
  if (!thread.pending_interruptions.empty()) return HandleInterruptions(thread);
  if (thread.interrupt_requested()) return HandleInterrupt(thread);
  return Resume(thread);
}

absl::Status Monitor::HandleSignalStop(ThreadState& thread, int signal) {
  auto info = GetSigInfo(thread.tid);
  if (!info.ok()) return info.status();
  RestoreHeldSignal(thread, &*info);
  if (thread.syscalls.reexecuting) AbandonReexecution(thread);
  const bool stale_dispatch_sigsys = thread.syscalls.stale_dispatch_sigsys;
  thread.syscalls.stale_dispatch_sigsys = false;
  if (signal == SIGSYS && stale_dispatch_sigsys && !thread.syscalls.dispatched &&
      IsKernelDispatchSigsys(thread, *info)) {
    // Caught by dispatch just before it was switched off (a --strict-for
    // leave met first): the syscall did not run. It runs now, natively.
    auto regs = GetRegs(thread.tid);
    if (!regs.ok()) return regs.status();
    absl::Status rewound = SetRegs(thread.tid, RewoundToSyscall(*regs));
    if (!rewound.ok()) return rewound;
    return Resume(thread, 0);
  }
  // A strict thread's syscall under syscall user dispatch; a SIGSYS of a
  // seccomp filter's RET_TRAP (SYS_SECCOMP) or from a sender goes on below.
  if (signal == SIGSYS && IsDispatchedSyscall(thread, *info)) {
    return HandleDispatchedSyscall(thread, *info);
  }
  if (signal == SIGTRAP && info->si_code == SI_KERNEL && !breakpoints_.empty()) {
    auto regs = GetRegs(thread.tid);
    if (!regs.ok()) return regs.status();
    if (breakpoints_.At(regs->rip - 1) != nullptr) return HandleBreakpoint(thread, *regs);
  }
  const bool ours = IsOurPageFaultTrap(*info);
  if (ours) {
    ++thread.faults.seen;
    // The fault that started a vsyscall's emulation, or that ended in a
    // trap: already reported as that syscall or trap, one kernel entry.
    if (thread.faults.IsDue(reinterpret_cast<uint64_t>(info->si_addr))) {
      thread.faults.due = DueFaultTrap::kNone;
      const StopAtFaultTrap stop = thread.faults.stop_at_due;
      thread.faults.stop_at_due = StopAtFaultTrap::kNo;
      if (stop != StopAtFaultTrap::kNo) {
        return StopForDebugger(thread, stop == StopAtFaultTrap::kGdb, 0);
      }
      return Resume(thread, 0);
    }
  }
  if (!thread.strict() || Killing(thread)) {
    // Our page-fault SIGTRAP can still arrive just after the thread left
    // strict mode; it is never the program's to see.
    return Resume(thread, ours ? 0 : signal);
  }
  auto regs = GetRegs(thread.tid);
  if (!regs.ok()) return regs.status();
  const ViolationKind kind = ClassifySignal(*info);
  if (kind == ViolationKind::kSignal && DiscardedNatively(thread.tid, signal)) {
    // Without ptrace the kernel drops such a signal when it is sent; a
    // tracer makes it queue and stop the thread. Not the program's kernel
    // entry: it goes on to be discarded, and is counted.
    windows_.CountSuppressedSignal(thread);
    return Resume(thread, signal);
  }
  if (kind == ViolationKind::kTrap && EndsAPageFault(*info) && thread.faults.detector.armed()) {
    // The fault was counted by the page-fault event too: its SIGTRAP is
    // the same kernel entry, reported here as this trap.
    thread.faults.due = DueFaultTrap::kFault;
    thread.faults.due_address = reinterpret_cast<uint64_t>(info->si_addr);
  }
  Violation violation = NewViolation(kind, thread.tgid, thread.tid, *regs);
  DescribeSignal(thread.tid, *info, *regs, &violation.signal);
  return HandleViolation(thread, std::move(violation), signal);
}

absl::Status Monitor::HandleNewTask(ThreadState& parent, int event) {
  auto new_tid = GetEventMsg(parent.tid);
  if (!new_tid.ok()) return new_tid.status();
  const pid_t parent_tid = parent.tid;
  const pid_t parent_tgid = parent.tgid;
  const bool parent_filter = parent.syscalls.strict_filter_installed;
  const bool parent_strict = parent.strict();
  const int parent_own_filters = parent.syscalls.own_filters;
  // The child's kernel mask is a copy of the parent's, SIGTRAP unblocked
  // while the parent is strict: its view of the mask is the parent's too.
  const bool parent_blocks_sigtrap = parent.faults.program_blocks_sigtrap;
  ThreadState& child = threads_.Track(static_cast<pid_t>(*new_tid));
  if (event != PTRACE_EVENT_CLONE) child.tgid = child.tid;
  if (event == PTRACE_EVENT_FORK || (event == PTRACE_EVENT_CLONE && child.tgid == child.tid)) {
    // A forked copy of the address space carries our int3 bytes: take them
    // out of the copy (a vfork child shares the parent's memory: keep).
    breakpoints_.RemoveFromCopy(child.tid);
  }
  if (event != PTRACE_EVENT_CLONE || child.tgid == child.tid) {
    // A copy of the address space holds the parent's scratch memory too.
    const ProcessState* parent_process = threads_.FindProcess(parent_tgid);
    if (parent_process != nullptr) threads_.Process(child.tgid).scratch = parent_process->scratch;
  }
  // The kernel copies seccomp filters to every child, thread or process. A
  // new task is not strict itself (strict mode is per thread), except under
  // --strict=exec, where the whole program is.
  child.syscalls.strict_filter_installed = child.syscalls.strict_filter_installed || parent_filter;
  child.syscalls.own_filters = parent_own_filters;
  if (options_.strict_from_exec && parent_strict) {
    child.BecomeStrict(PR_DATAPLANE_STRICT);
    child.faults.program_blocks_sigtrap = parent_blocks_sigtrap;
    windows_.Begin(child);
    notify_.EventStrictEntered(child.tgid, child.tid);
    absl::Status armed = ArmPageFaults(child);
    if (!armed.ok()) return armed;
    CheckForeignFilters(child);
  }
  const pid_t child_tid = child.tid;
  ThreadState* parent_again = threads_.Find(parent_tid);
  absl::Status resumed = parent_again == nullptr ? Continue(parent_tid) : Resume(*parent_again);
  // The child waits at its first stop until the monitor serves it: opening
  // its event now, with the parent already running, delays neither.
  ThreadState* child_again = threads_.Find(child_tid);
  if (child_again != nullptr) PrepareFaultDetector(*child_again);
  return resumed;
}

absl::Status Monitor::HandleExec(ThreadState& thread) {
  // After exec the thread group has one thread, with the group's id; when a
  // non-leader thread called exec it took over the leader's tid.
  auto former_tid = GetEventMsg(thread.tid);
  if (!former_tid.ok()) return former_tid.status();
  const pid_t tgid = thread.tid;
  ThreadState& execed =
      threads_.ReplaceAfterExec(tgid, static_cast<pid_t>(*former_tid), thread);
  if (tgid == options_.program_pid && !program_execed_) {
    program_execed_ = true;
    absl::Status armed = breakpoints_.ArmAtExec(tgid);
    if (!armed.ok()) return armed;
    close(options_.setup_error_fd);
    options_.setup_error_fd = -1;
    if (options_.strict_from_exec) {
      // The strict filter was stacked just before exec; execve was its last
      // allowed call. From here on, everything is a violation.
      execed.syscalls.strict_filter_installed = true;
      execed.BecomeStrict(PR_DATAPLANE_STRICT);
      windows_.Begin(execed);
      notify_.EventStrictEntered(execed.tgid, execed.tid);
      // Populate what exec mapped, or the first instruction fetch would be
      // the first violation.
      absl::Status prefaulted = PrefaultAddressSpace(tgid);
      if (!prefaulted.ok()) return prefaulted;
    }
  }
  // exec removed the page-fault event (remove_on_exec): open a new one.
  execed.faults.detector = PageFaultDetector();
  execed.faults.seen = 0;
  PrepareFaultDetector(execed);
  if (execed.strict()) {
    absl::Status armed = ArmPageFaults(execed);
    if (!armed.ok()) return armed;
    UnblockPageFaultTrap(execed);
    CheckForeignFilters(execed);
  }
  return Resume(execed);
}

absl::Status Monitor::ReturnFromSyscall(ThreadState& thread, user_regs_struct regs,
                                        long value) {
  regs.orig_rax = static_cast<unsigned long long>(-1);  // skip the syscall
  regs.rax = static_cast<unsigned long long>(value);
  absl::Status set = SetRegs(thread.tid, regs);
  if (!set.ok()) return set;
  return Resume(thread);
}

absl::Status Monitor::Resume(ThreadState& thread, int signal) {
  // Attach mode has no filter in the program, and a stepped thread's filters
  // could hide its syscalls: a strict thread is resumed so that each of its
  // syscalls stops at its entry (PTRACE_SYSCALL) and is judged here. Under
  // syscall user dispatch every syscall stops anyway (a SIGSYS).
  if (thread.syscalls.reexecuting) return ContinueToSyscall(thread.tid, signal);
  if ((options_.attach || thread.syscalls.stepped) && thread.strict() &&
      !thread.syscalls.dispatched && !Killing(thread)) {
    return ContinueToSyscall(thread.tid, signal);
  }
  return Continue(thread.tid, signal);
}

absl::Status Monitor::HandleExitEvent(ThreadState& thread) {
  // The last moment the thread's counters can be read. A thread calling
  // exit_group takes its siblings down with it: close theirs too.
  thread.exiting = true;
  if (Killing(thread)) return Resume(thread);
  auto regs = GetRegs(thread.tid);
  if (regs.ok() && regs->orig_rax == SYS_exit_group) {
    windows_.EndAll(threads_, thread.tgid);
  } else if (thread.strict()) {
    ReportUnseenPageFaults(thread);
    windows_.End(thread);
  }
  return Resume(thread);
}

void Monitor::OnTick() {
  notify_.EventTick();
  if (killing_) return;
  TakeInterruptions();
  // Libraries loaded later (dlopen) are looked for on every tick.
  if (breakpoints_.has_pending() && program_execed_) {
    absl::Status armed = breakpoints_.ArmPending(threads_.LiveTid(options_.program_pid));
    if (!armed.ok()) {
      Say(absl::StrCat("dpsupervise: ", armed.message(), "\n"));
      breakpoints_.DropPending();
    }
  }
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  auto due = triggers_.Due(threads_, now,
                           [this](const ThreadState& thread) { return HandingOver(thread.tgid); });
  for (const Triggers::Request& request : due) {
    // A thread that cannot be interrupted is gone: its exit is on its way.
    if (Interrupt(request.tid).ok()) Triggers::Requested(*threads_.Find(request.tid), request.move);
  }
}

absl::StatusOr<int> Monitor::DetachAll() {
  // The windows end now, before the stops of the detach: those stops are
  // the end of a window (not noise), and what the program does after it
  // is no longer watched.
  for (auto& [tid, thread] : threads_) {
    if (thread.strict()) notify_.EventStrictLeft(thread.tgid, tid);
  }
  windows_.EndAll(threads_, 0);
  breakpoints_.RemoveAll(threads_.LiveTid(options_.program_pid));
  for (auto& [tid, thread] : threads_) (void)Interrupt(tid);
  while (!threads_.empty()) {
    int status = 0;
    pid_t tid = waitpid(-1, &status, __WALL);
    if (tid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      HandleExit(tid, status);
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    // A task born during the detach is auto-attached: detach it too.
    ThreadState& thread = threads_.Track(tid);
    const int signal = WSTOPSIG(status);
    const int deliver = ((status >> 16) == 0 && signal != (SIGTRAP | 0x80)) ? signal : 0;
    int deliver_now = deliver;
    UndoDispatchForDetach(thread, &deliver_now);
    RestoreProgramSignalMask(thread);
    (void)Detach(tid, deliver_now);
    windows_.Retire(thread);
    threads_.Erase(tid);  // closes its page-fault event
  }
  // Before the summaries and the verdict, which end every run.
  Say(absl::StrCat("dpsupervise: detached from process ", options_.program_pid,
                   "; it runs on as before\n"));
  notify_.EventFinished(windows_.Summary(threads_, 0));
  return 0;
}

absl::StatusOr<uint64_t> Monitor::ResolveInSession(pid_t pid, const CodeLocation& location) {
  const ThreadState* thread = threads_.Find(pid);
  std::unique_ptr<Symbolizer>& symbolizer =
      threads_.Process(thread != nullptr ? thread->tgid : pid).symbolizer;
  if (symbolizer == nullptr) {
    auto created = Symbolizer::Create(pid);
    if (!created.ok()) return created.status();
    symbolizer = std::move(*created);
  }
  return symbolizer->ResolveCodeLocation(location);
}

bool Monitor::Killing(const ThreadState& thread) {
  if (killing_) return true;
  const ProcessState* process = threads_.FindProcess(thread.tgid);
  return process != nullptr && process->killed;
}

void Monitor::KillProcess(pid_t tgid) {
  ProcessState& process = threads_.Process(tgid);
  if (process.killed) return;
  // Read the noise counters while the strict threads still exist.
  windows_.EndAll(threads_, tgid);
  process.killed = true;
  SignalProcess(tgid, SIGKILL);
}

void Monitor::KillProgram() {
  // Read the noise counters while the strict threads still exist.
  if (!killing_) windows_.EndAll(threads_, 0);
  killing_ = true;
  // Processes being handed to a debugger have threads already detached:
  // they are our children still, and killed with the rest.
  for (pid_t tgid : threads_.HandedOverOrTraced()) SignalProcess(tgid, SIGKILL);
}

}  // namespace dpsupervise
