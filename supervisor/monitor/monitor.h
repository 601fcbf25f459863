// monitor.h: the ptrace event loop. It owns the per-thread state, reacts to
// every stop of every traced task, turns kernel entries of strict threads
// into violations, acts on them, and returns the program's exit status once
// all traced tasks are gone.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_MONITOR_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_MONITOR_H_

#include <signal.h>
#include <sys/types.h>
#include <linux/seccomp.h>
#include <sys/user.h>

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "supervisor/model/violation.h"
#include "supervisor/monitor/breakpoints.h"
#include "supervisor/monitor/notify.h"
#include "supervisor/monitor/strict_windows.h"
#include "supervisor/monitor/thread_table.h"
#include "supervisor/monitor/triggers.h"
#include "supervisor/policy/action.h"
#include "supervisor/policy/action_table.h"
#include "supervisor/policy/policy.h"
#include "supervisor/seccomp/bpf_program.h"
#include "supervisor/symbols/symbol_lookup.h"

namespace dpsupervise {

// How a thread is made strict (--mechanism; docs/usage.md says why auto
// picks what it picks).
enum class StrictMechanism {
  // Syscall user dispatch where the kernel has it for tracers (Linux 6.4),
  // else the strict filter. main.cc turns auto into kSeccomp when the
  // policy allows syscalls in strict mode or under --strict=exec.
  kAuto,
  kSeccomp,   // the strict filter, injected at the first entry
  kDispatch,  // syscall user dispatch; entry refused where the kernel lacks it
};

struct MonitorOptions {
  pid_t program_pid = -1;    // seized by Launch, not yet exec'd
  int setup_error_fd = -1;   // LaunchedProgram::setup_error_fd; the monitor closes it
  std::string program_name;  // argv[0], for messages
  // The base filter every task of a launched program carries (null in
  // attach mode): stops are judged by running it, and the strict filter.
  const BpfProgram* base_filter = nullptr;
  const BpfProgram* strict_filter = nullptr;
  // Told of violations, messages, strict entries and leaves, and the end
  // (ReportNotify writes the reports). Outlives the monitor.
  Notify* notify = nullptr;
  ActionTable actions;
  // --strict=exec: every thread is strict from its first instruction after
  // the program's exec (the strict filter was stacked before exec).
  bool strict_from_exec = false;
  // Checks at strict entry; enforce also refuses entry (EPERM) when page
  // faults cannot be detected.
  PreflightMode preflight = PreflightMode::kWarn;
  // A summary will be written: strict windows read their noise counters.
  bool summary = false;
  StrictTriggers triggers;
  // -p PID: the program was attached to, not launched: no filter may be
  // left in it, strict threads are stepped syscall by syscall, and SIGINT,
  // SIGTERM or SIGHUP detach, leaving it running as before.
  bool attach = false;
  std::vector<pid_t> attached_tids;
  // --enter-at / --enter-at-every / --leave-at.
  std::vector<CodeLocation> enter_at;
  bool enter_at_every = false;
  std::vector<CodeLocation> leave_at;
  StrictMechanism mechanism = StrictMechanism::kSeccomp;
  // Interruptions to act on (the noise tracer), read on every tick; null:
  // none. Outlives the monitor.
  InterruptionSource* interruptions = nullptr;
};

// The monitor dispatches stops and owns the thread table; the work is its
// collaborators': StrictWindows (time, noise, the summary), Triggers,
// Breakpoints, ExecuteAction over a Tracee (what an action does), and the
// Notify listeners (the reports). docs/architecture.md follows a stop
// through it.
// The gdb command that selects thread `tid` (gdb selects the first thread
// of a process it attaches to).
std::string SelectThreadCommand(pid_t tid);

class Monitor {
 public:
  explicit Monitor(const MonitorOptions& options);
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Attach mode: inserts the --enter-at/--leave-at breakpoints in the
  // running process before Run().
  absl::Status ArmAttached();

  // Runs until no traced task is left and the program has ended. Returns
  // the status dpsupervise should exit with: the program's exit code, or
  // 128+signal when it was killed. Errors: the program could not be
  // executed (NotFound: 127, PermissionDenied: 126) or the supervisor failed
  // (Internal: 125; the program has been killed then).
  absl::StatusOr<int> Run();

 private:
  class StoppedThread;  // the Tracee of an action (monitor.cc)

  // Dispatch (monitor.cc).
  absl::Status HandleWaitStatus(pid_t tid, int status);
  absl::Status DispatchStop(ThreadState& thread, int status);
  void HandleExit(pid_t tid, int status);
  absl::Status HandleNewTask(ThreadState& parent, int event);
  absl::Status HandleExec(ThreadState& thread);
  absl::Status HandleEventStop(ThreadState& thread, int signal);
  absl::Status HandleSignalStop(ThreadState& thread, int signal);
  // PTRACE_EVENT_EXIT: the last moment the thread's counters can be read.
  absl::Status HandleExitEvent(ThreadState& thread);
  // Every tick of the main loop: pending --enter-at locations, triggers.
  void OnTick();
  // Detaches from every thread, leaving nothing behind; returns 0.
  absl::StatusOr<int> DetachAll();
  // Process `tgid` is being handed over to a debugger.
  bool HandingOver(pid_t tgid);

  // Strict mode entry and exit (strict_entry.cc).
  absl::Status HandleDataplanePrctl(ThreadState& thread, const user_regs_struct& regs);
  struct PrctlEntry {
    long result = 0;         // the prctl's return value
    bool injected = false;   // the thread sits at an injected syscall's exit
    bool abandoned = false;  // the thread's stop went to HandleWaitStatus:
                             // `thread` may no longer exist
  };
  absl::StatusOr<PrctlEntry> EnterStrictFromPrctl(ThreadState& thread,
                                                  const user_regs_struct& regs, uint32_t flags);
  // Entry from outside the thread (a trigger, --enter-at, attach mode), at
  // any stop; resumes the thread.
  absl::Status EnterStrictFromOutside(ThreadState& thread);
  // What every entry does once the strict filter is on the thread (or, with
  // `dispatch`, instead of it): the preflight checks, page-fault detection,
  // SIGTRAP kept unblocked, foreign filters, the quiesce flush, syscall user
  // dispatch switched on, the window. Returns the prctl's error (0: strict
  // now; otherwise nothing changed and the refusal was said).
  absl::StatusOr<long> StartStrict(ThreadState& thread, uint32_t flags, bool dispatch = false);
  void SayEntryRefused(const ThreadState& thread, absl::string_view why);
  absl::Status ArmPageFaults(ThreadState& thread);
  // Interruptions read on this tick: each strict thread concerned is
  // interrupted, and reported and acted on at that stop
  // (HandleInterruptions).
  void TakeInterruptions();
  absl::Status HandleInterruptions(ThreadState& thread);
  // Opens the thread's page-fault event disabled, ahead of any strict
  // entry, so that the entry only enables it (the open is most of a first
  // entry's cost otherwise). Done for every thread when it is first seen and
  // after exec (which removes the event). A failure is not said here: the
  // entry opens again and says why, or refuses, as without this.
  void PrepareFaultDetector(ThreadState& thread);
  void LeaveStrict(ThreadState& thread);
  // Preflight checks; returns the prctl's error (0: proceed). Under
  // --preflight=warn they decide nothing, so they wait for
  // RunDeferredEntryChecks: the entry does not pay for their /proc and
  // /sys reads.
  long RunEntryChecks(ThreadState& thread);
  // The --preflight=warn checks of the threads that entered in this batch
  // of stops, run once they are running again.
  void RunDeferredEntryChecks();
  // A trigger's PTRACE_INTERRUPT stop.
  absl::Status HandleInterrupt(ThreadState& thread);
  // Installs the strict filter on a thread stopped anywhere; sets
  // *installed when done. Otherwise the thread was resumed with a message
  // saying why, or its stop was handed to HandleWaitStatus.
  absl::Status InjectFromOutside(ThreadState& thread, bool* installed);
  // A syscall-entry or -exit stop (stepped strict threads, and a trigger's
  // entry at a syscall's exit).
  absl::Status HandleSyscallStop(ThreadState& thread);

  // Syscalls judged by our own filters, and what keeps a strict thread's
  // kernel entries visible (syscall_stop.cc).
  struct OurVerdicts {
    uint32_t base = SECCOMP_RET_ALLOW;    // the base filter's, if it has it
    uint32_t strict = SECCOMP_RET_ALLOW;  // the strict filter's, if strict or
                                          // it has the filter
  };
  absl::StatusOr<OurVerdicts> JudgeByOurFilters(const ThreadState& thread,
                                                const seccomp_data& data);
  // Judges the syscall a thread is stopped at and records it, with the base
  // filter's verdict, in the thread (LetSyscallRun reads them).
  absl::StatusOr<OurVerdicts> JudgeStoppedSyscall(ThreadState& thread, const seccomp_data& data);
  // A PTRACE_EVENT_SECCOMP stop, whoever's filter traced the syscall.
  absl::Status HandleSeccompStop(ThreadState& thread);
  // A syscall-entry stop of a strict thread whose syscalls are stepped.
  absl::Status JudgeSyscall(ThreadState& thread);
  absl::Status ReportSyscall(ThreadState& thread, const user_regs_struct& regs);
  // Lets the syscall `thread` is stopped at (as judged by
  // JudgeStoppedSyscall) go on, with what must never run unwatched fixed
  // first: clone3, CLONE_UNTRACED, a new seccomp filter on a strict thread,
  // rt_sigprocmask of a strict thread (emulated).
  absl::Status LetSyscallRun(ThreadState& thread, const user_regs_struct& regs);
  void StepSyscalls(ThreadState& thread, absl::string_view why);
  // At strict entry: steps the thread's syscalls when it carries seccomp
  // filters not ours that could hide them from the strict filter.
  void CheckForeignFilters(ThreadState& thread);
  absl::Status EmulateSignalMask(ThreadState& thread, const user_regs_struct& regs);
  // While strict, SIGTRAP is unblocked in the kernel's mask of the thread;
  // the program's own choice is kept and given back at leave or detach.
  void UnblockPageFaultTrap(ThreadState& thread);
  void RestoreProgramSignalMask(ThreadState& thread);
  // Reports, as one page_fault violation, faults the detector counted whose
  // SIGTRAP never reached us (the thread had it blocked meanwhile).
  void ReportUnseenPageFaults(ThreadState& thread);

  // Where `location` is in process `pid`, through the process's symbol
  // session (one libdwfl session per process, shared with backtraces).
  absl::StatusOr<uint64_t> ResolveInSession(pid_t pid, const CodeLocation& location);

  // Syscall user dispatch as the strict mechanism (dispatch_stop.cc).
  struct MechanismChoice {
    bool dispatch = false;
    std::string refusal;  // non-empty: the entry is refused, and why
  };
  // Which mechanism makes `thread` strict now (it is stopped).
  absl::StatusOr<MechanismChoice> ChooseMechanism(ThreadState& thread);
  absl::Status SwitchDispatchOn(ThreadState& thread);
  // Switches it off for good (leave, detach); a thread that is gone needs
  // nothing.
  void SwitchDispatchOff(ThreadState& thread);
  // A SIGSYS stop of a dispatched thread raised by its dispatch, not by a
  // seccomp filter's RET_TRAP or by a sender.
  bool IsDispatchedSyscall(const ThreadState& thread, const siginfo_t& info);
  // Whether `info` is a SIGSYS the kernel's syscall user dispatch raised at
  // the syscall `thread` is stopped after (whether dispatch is on or not).
  bool IsKernelDispatchSigsys(const ThreadState& thread, const siginfo_t& info);
  // Judges and acts on a dispatched syscall, as HandleSeccompStop does.
  absl::Status HandleDispatchedSyscall(ThreadState& thread, const siginfo_t& info);
  // Lets the syscall the thread is stopped at run: re-executed with dispatch
  // off at a dispatch stop, resumed otherwise.
  absl::Status RunStoppedSyscall(ThreadState& thread);
  // A syscall stop while a dispatched syscall is re-executed.
  absl::Status HandleReexecutionStop(ThreadState& thread);
  // A signal-delivery-stop came before the re-executed syscall was entered:
  // the thread stands at its syscall instruction, which is dispatched again
  // once the signal is dealt with.
  void AbandonReexecution(ThreadState& thread);
  // Before detaching a dispatched thread: dispatch off, and a dispatch
  // SIGSYS it is stopped at rewound to its syscall instead of delivered.
  void UndoDispatchForDetach(ThreadState& thread, int* deliver);

  // Breakpoint stops (breakpoint_stops.cc).
  absl::Status HandleBreakpoint(ThreadState& thread, user_regs_struct regs);
  // Executes the original instruction under the breakpoint with the int3
  // taken out, then puts it back. Signals that arrive meanwhile are held and
  // re-queued after the step (see RestoreHeldSignal). NotFound when the
  // thread vanished (its exit has been handled).
  absl::Status StepOverBreakpoint(ThreadState& thread, const Breakpoints::Breakpoint& breakpoint);
  absl::Status SingleStep(ThreadState& thread, std::vector<siginfo_t>* held);
  absl::Status RequeueHeldSignals(ThreadState& thread, const std::vector<siginfo_t>& held);
  // At the delivery stop of a signal RequeueHeldSignals re-queued: puts its
  // original siginfo back, in the thread and in `info`.
  void RestoreHeldSignal(ThreadState& thread, siginfo_t* info);

  // Violations (violations.cc; HandleViolation is in monitor.cc, beside the
  // Tracee it acts through). `stop_signal` is the signal the thread is
  // stopped for (0 for a seccomp stop).
  absl::Status HandleViolation(ThreadState& thread, Violation violation, int stop_signal);
  // Counts `count` kernel entries `violation` stands for, symbolizes it and
  // fills its action from the action table; returns that action.
  Action RecordViolation(ThreadState& thread, Violation* violation, long long count);
  // Fills the backtrace of a violation (the thread is stopped).
  void Symbolize(Violation* violation);
  // Fills where a page fault's (or a trap's) address is: mapping, data
  // symbol, likely cause.
  void DescribeFault(Violation* violation);
  // A message of dpsupervise's own, to the Notify listeners.
  void Say(const std::string& text);

  // Handing a process over to a debugger (debugger_handover.cc).
  // Leaves `thread` (at any stop) to a debugger: SIGSTOP to it, detach, the
  // rest of its process detached as its threads reach the group-stop.
  // `resend_signal` (a signal violation's) stays pending for the debugger.
  absl::Status StopForDebugger(ThreadState& thread, bool run_gdb, int resend_signal);
  // While a process is being handed over to a debugger, its threads are
  // detached as they reach a stop.
  absl::Status DetachForDebugger(ThreadState& thread, int status);
  // Once no thread of `tgid` is traced: prints how to debug it, or runs gdb.
  absl::Status FinishDetachIfDone(pid_t tgid);
  // Starts gdb on process `pid` with thread `tid` selected; dpsupervise
  // keeps serving the rest meanwhile.
  void RunDebugger(pid_t pid, pid_t tid);

  // Resuming and ending tracees (monitor.cc).
  // SIGKILLs every process of the program; from then on every stop is let
  // go without a report.
  void KillProgram();
  // SIGKILLs process `tgid` only; the rest of the program is served on.
  void KillProcess(pid_t tgid);
  // `thread`'s process is being killed: its stops are let go.
  bool Killing(const ThreadState& thread);
  // Skips the syscall `tid` is stopped at, making it return `value`.
  absl::Status ReturnFromSyscall(ThreadState& thread, user_regs_struct regs, long value);
  // Resumes a stopped thread, delivering `signal`: PTRACE_SYSCALL for a
  // strict thread whose syscalls are stepped (attach mode, or filters not
  // ours), PTRACE_CONT otherwise.
  absl::Status Resume(ThreadState& thread, int signal = 0);

  MonitorOptions options_;
  Notify& notify_;
  ThreadTable threads_;
  StrictWindows windows_;
  Triggers triggers_;
  Breakpoints breakpoints_;
  bool program_execed_ = false;
  int program_wait_status_ = 0;
  bool killing_ = false;
  // gdb processes we started: our children, but not the program's.
  std::set<pid_t> debugger_pids_;
  bool warned_no_page_faults_ = false;
  std::vector<pid_t> entry_checks_due_;
  // How many threads may hold a page-fault event opened ahead of entry.
  size_t open_file_budget_ = 0;
  // The kernel refused PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG (before 6.4).
  bool kernel_lacks_dispatch_ = false;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_MONITOR_H_
