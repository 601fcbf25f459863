// thread_state.h: what the monitor knows about each traced task.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_THREAD_STATE_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_THREAD_STATE_H_

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <linux/seccomp.h>

#include <vector>

#include "lib/dataplane.h"
#include "supervisor/trace/fault_detector.h"
#include "supervisor/noise/noise.h"
#include "supervisor/model/summary.h"

namespace dpsupervise {

// Seconds of CLOCK_MONOTONIC elapsed since `since`.
inline double SecondsSince(const timespec& since) {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - since.tv_sec) + (now.tv_nsec - since.tv_nsec) / 1e9;
}

enum class StopAfterVsyscall { kNo, kStop, kGdb };

struct ThreadState {
  pid_t tid = 0;
  pid_t tgid = 0;
  // PR_SET_DATAPLANE flags as last set by the thread (0: not strict).
  uint32_t dataplane_flags = 0;
  // The strict filter is on this task (injected, or inherited at clone):
  // it then never needs injecting again, since filters cannot be removed.
  bool strict_filter_installed = false;
  // CLOCK_MONOTONIC time of the last strict entry.
  timespec strict_since{};
  // Armed while strict (when perf events are available).
  PageFaultDetector page_faults;
  // End-of-run accounting: filled while the thread is or was strict.
  bool ever_strict = false;
  ThreadSummary summary;
  NoiseSnapshot noise_at_entry;
  // The entry snapshot is taken once the thread runs again (see
  // Monitor::TakeDueNoiseSnapshots): set until then.
  bool noise_snapshot_due = false;
  // Preflight findings are printed once per thread (--preflight=warn).
  bool preflight_reported = false;

  // Triggers (--strict-thread, --strict-after, --strict-for).
  bool name_matched = false;
  timespec name_matched_at{};
  bool triggered = false;        // a trigger made (or is making) it strict
  bool entry_requested = false;  // PTRACE_INTERRUPT sent to enter
  bool leave_requested = false;  // PTRACE_INTERRUPT sent to leave
  // Interrupted inside a syscall: strict from that syscall's exit on.
  bool entry_at_syscall_exit = false;

  // Seccomp filters dpsupervise put on this task (the base filter,
  // --strict=exec's, the injected strict filter); any other filter it has
  // is the program's, or came from outside dpsupervise.
  int own_filters = 0;
  // While strict, its syscalls stop at their entry (PTRACE_SYSCALL), before
  // any seccomp filter runs: a filter not dpsupervise's could fail, kill or
  // trap them before the strict filter sees them. (Attach mode steps every
  // strict thread.)
  bool syscalls_stepped = false;
  // The syscall the thread is stopped at was judged at its entry stop: its
  // seccomp stop is not a second violation.
  bool syscall_judged = false;
  // The syscall seen at the last seccomp or syscall-entry stop, and what the
  // base filter says of it (what must be fixed before it may run).
  seccomp_data syscall{};
  uint32_t syscall_base_verdict = SECCOMP_RET_ALLOW;
  // The program's own view of SIGTRAP in the thread's signal mask: while
  // strict the kernel's mask has it unblocked, or the page-fault SIGTRAP
  // would stay pending and faults go unreported. Given back at leave.
  bool program_blocks_sigtrap = false;
  // Page-fault SIGTRAPs of ours delivered to the thread, against the
  // detector's own count: the difference is faults not reported one by one.
  uint64_t page_faults_seen = 0;
  // A syscall through the vsyscall page was reported: the page fault that
  // started its emulation is the same kernel entry, not another violation.
  bool vsyscall_fault_due = false;
  // The stop or gdb action waits for that page fault's SIGTRAP to stop it.
  StopAfterVsyscall stop_after_vsyscall = StopAfterVsyscall::kNo;
  // Reached PTRACE_EVENT_EXIT: its /proc entries lose the address space.
  bool exiting = false;
  // Signals held back while stepping over a breakpoint, re-queued with
  // tgkill: their original siginfo, restored at their delivery stop.
  std::vector<siginfo_t> held_signals;

  bool strict() const { return (dataplane_flags & PR_DATAPLANE_STRICT) != 0; }
  // The signal the thread asked for with PR_DATAPLANE_SIG, or 0.
  int violation_signal() const { return PR_DATAPLANE_SIG_OF(dataplane_flags); }
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_THREAD_STATE_H_
