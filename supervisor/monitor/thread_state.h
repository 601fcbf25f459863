// thread_state.h: what the monitor knows about each traced task and each
// traced process. Each group of fields belongs to one collaborator (named
// at the group), which is the only code that changes it.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_THREAD_STATE_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_THREAD_STATE_H_

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <linux/seccomp.h>

#include <memory>
#include <optional>
#include <vector>

#include "lib/dataplane.h"
#include "supervisor/model/summary.h"
#include "supervisor/noise/noise.h"
#include "supervisor/model/violation.h"
#include "supervisor/symbols/symbolize.h"
#include "supervisor/trace/fault_detector.h"
#include "supervisor/trace/inject.h"

namespace dpsupervise {

// Seconds of CLOCK_MONOTONIC elapsed since `since`.
inline double SecondsSince(const timespec& since) {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - since.tv_sec) + (now.tv_nsec - since.tv_nsec) / 1e9;
}

// Where a thread is in its strict-mode life. A trigger's entry and leave go
// through a PTRACE_INTERRUPT: the request states say one is outstanding (the
// kernel drops it when another stop comes first, and it is sent again).
//
//   kNotStrict --trigger--> kEntryRequested --interrupt stop--> kStrict
//                           kEntryRequested --stopped in a syscall-->
//                               kEntryAtSyscallExit --syscall exit--> kStrict
//   kNotStrict --prctl, breakpoint, exec--> kStrict
//   kStrict --trigger's window over--> kLeaveRequested --interrupt--> kNotStrict
//   kStrict or kLeaveRequested --prctl, breakpoint, action--> kNotStrict
enum class StrictState {
  kNotStrict,
  kEntryRequested,
  kEntryAtSyscallExit,
  kStrict,
  kLeaveRequested,
};

const char* StrictStateName(StrictState state);

// The strict window: its time and kernel-noise counters (StrictWindows).
struct WindowState {
  bool ever_strict = false;
  // CLOCK_MONOTONIC time the open window began (or the last one ended).
  timespec since{};
  ThreadSummary summary;
  NoiseSnapshot noise_at_entry;
  // The entry snapshot is taken once the thread runs again (see
  // StrictWindows::TakeDueSnapshots): set until then.
  bool noise_snapshot_due = false;
};

// --strict-thread, --strict-cpus and --strict-after bookkeeping (Triggers):
// whether, and since when, the thread has matched.
struct TriggerState {
  bool matched = false;
  timespec matched_at{};
  // A trigger (or --enter-at) made or is making it strict: triggers leave
  // it alone from then on.
  bool triggered = false;
};

// The task's seccomp filters and how its syscalls are judged
// (syscall_stop.cc).
struct SyscallState {
  // The strict filter is on this task (injected, or inherited at clone):
  // it then never needs injecting again, since filters cannot be removed.
  bool strict_filter_installed = false;
  // Seccomp filters dpsupervise put on this task (the base filter,
  // --strict=exec's, the injected strict filter); any other filter it has
  // is the program's, or came from outside dpsupervise.
  int own_filters = 0;
  // While strict, its syscalls stop at their entry (PTRACE_SYSCALL), before
  // any seccomp filter runs: a filter not dpsupervise's could fail, kill or
  // trap them before the strict filter sees them. (Attach mode steps every
  // strict thread.)
  bool stepped = false;
  // The syscall the thread is stopped at was judged at its entry stop: its
  // seccomp stop is not a second violation.
  bool judged = false;
  // Strict through syscall user dispatch (dispatch_stop.cc): every syscall
  // of the thread arrives as a SIGSYS, nothing was injected, and leaving
  // switches it off. Never set on a thread that is not strict.
  bool dispatched = false;
  // Dispatch was just switched off: a syscall it caught just before (its
  // SIGSYS queued, met first by an interrupt or another stop) may still be
  // delivered. Cleared at the thread's next signal-delivery-stop.
  bool stale_dispatch_sigsys = false;
  // Stopped at such a SIGSYS: letting the syscall run means re-executing it.
  bool at_dispatch_stop = false;
  // A dispatched syscall being re-executed with dispatch off, until its
  // syscall-exit stop (PTRACE_SYSCALL) switches dispatch on again.
  bool reexecuting = false;
  // The syscall seen at the last seccomp or syscall-entry stop, and what the
  // base filter says of it (what must be fixed before it may run).
  seccomp_data current{};
  uint32_t base_verdict = SECCOMP_RET_ALLOW;
};

// A kernel entry already reported whose page-fault SIGTRAP (the perf
// event's) is still on its way: that SIGTRAP is the same kernel entry, not
// another violation.
enum class DueFaultTrap {
  kNone,
  // A syscall through the vsyscall page, reported as that syscall: the
  // page fault that starts its emulation is in the vsyscall page.
  kVsyscall,
  // A fault reported as the trap it ended in (SIGSEGV, SIGBUS): the kernel
  // sends the SIGTRAP at the next return to user mode, after the fault's
  // own signal.
  kFault,
};
enum class StopAtFaultTrap { kNo, kStop, kGdb };

// What keeps the thread's page faults visible (syscall_stop.cc).
struct FaultState {
  // Armed while strict (when perf events are available).
  PageFaultDetector detector;
  // The program's own view of SIGTRAP in the thread's signal mask: while
  // strict the kernel's mask has it unblocked, or the page-fault SIGTRAP
  // would stay pending and faults go unreported. Given back at leave.
  bool program_blocks_sigtrap = false;
  // Page-fault SIGTRAPs of ours delivered to the thread, against the
  // detector's own count: the difference is faults not reported one by one.
  uint64_t seen = 0;
  DueFaultTrap due = DueFaultTrap::kNone;
  uint64_t due_address = 0;  // kFault: the faulting address
  // The stop or gdb action waits for that SIGTRAP to stop the thread (it
  // would kill the process once detached).
  StopAtFaultTrap stop_at_due = StopAtFaultTrap::kNo;
  // Whether the SIGTRAP at `address` is the one that is due.
  bool IsDue(uint64_t address) const;
};

struct ThreadState {
  pid_t tid = 0;
  pid_t tgid = 0;
  StrictState state = StrictState::kNotStrict;
  // PR_SET_DATAPLANE flags as last set (PR_GET_DATAPLANE returns them); the
  // strict bit agrees with `state` (BecomeStrict, BecomeNotStrict).
  uint32_t dataplane_flags = 0;
  // Reached PTRACE_EVENT_EXIT: its /proc entries lose the address space.
  bool exiting = false;
  // Preflight findings are printed once per thread (--preflight=warn).
  bool preflight_reported = false;

  WindowState window;
  TriggerState trigger;
  SyscallState syscalls;
  FaultState faults;
  // Signals held back while stepping over a breakpoint, re-queued with
  // tgkill: their original siginfo, restored at their delivery stop.
  std::vector<siginfo_t> held_signals;
  // Interruptions of its strict window to act on (InterruptionSource),
  // waiting for the thread's PTRACE_INTERRUPT stop.
  std::vector<Violation> pending_interruptions;

  bool strict() const {
    return state == StrictState::kStrict || state == StrictState::kLeaveRequested;
  }
  // A PTRACE_INTERRUPT is outstanding: a trigger's, or for interruptions
  // to act on.
  bool interrupt_requested() const {
    return state == StrictState::kEntryRequested || state == StrictState::kLeaveRequested ||
           !pending_interruptions.empty();
  }
  // The signal the thread asked for with PR_DATAPLANE_SIG, or 0.
  int violation_signal() const { return PR_DATAPLANE_SIG_OF(dataplane_flags); }

  void BecomeStrict(uint32_t flags) {
    dataplane_flags = flags | PR_DATAPLANE_STRICT;
    state = StrictState::kStrict;
  }
  void BecomeNotStrict(uint32_t flags = 0) {
    dataplane_flags = flags & ~static_cast<uint32_t>(PR_DATAPLANE_STRICT);
    state = StrictState::kNotStrict;
  }
};

// A process being handed over to a debugger (the stop and gdb actions):
// its threads are detached as they reach a stop.
enum class DebuggerHandover { kNone, kDetach, kDetachThenRunGdb };

struct ProcessState {
  // Memory mapped in the process for the strict filter's image (inject.h).
  ScratchMemory scratch;
  // A syscall instruction in its code, for injections into threads stopped
  // anywhere (found once per program image).
  std::optional<uint64_t> syscall_instruction;
  // Its address space's symbols, refreshed as libraries come and go.
  std::unique_ptr<Symbolizer> symbolizer;
  DebuggerHandover handover = DebuggerHandover::kNone;
  pid_t violating_tid = 0;  // the thread the debugger should show first
  // The kill action SIGKILLed it: its threads' stops are let go unreported.
  bool killed = false;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_THREAD_STATE_H_
