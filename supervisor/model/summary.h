// summary.h: the end-of-run summary, one entry per thread that was ever
// strict. Filled by the monitor from the noise counters (noise.h).
#ifndef DPSUPERVISE_SUPERVISOR_MODEL_SUMMARY_H_
#define DPSUPERVISE_SUPERVISOR_MODEL_SUMMARY_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace dpsupervise {

struct ThreadSummary {
  pid_t pid = 0;
  pid_t tid = 0;
  std::string thread_name;
  int cpu = -1;  // CPU at the last strict entry; -1 unknown
  double strict_seconds = 0;
  int strict_entries = 0;
  // Keys: "syscall", "page_fault", "trap", "signal".
  std::map<std::string, long long> violations;
  // Signals sent to the thread while strict that the kernel would have
  // discarded at once without ptrace (ignored, or ignored by default):
  // let through, not violations.
  long long suppressed_signals = 0;
  // Deltas accumulated over the thread's strict windows. -1: not measured
  // (for example the thread exited before its counters could be read).
  long long voluntary_context_switches = -1;
  long long involuntary_context_switches = -1;
  long long cpu_migrations = -1;
  long long minor_faults = -1;
  long long major_faults = -1;
  // /proc/interrupts deltas on the thread's CPU while strict, by line
  // ("LOC", "CAL", "RES", "TLB", "12", ...), nonzero ones only.
  std::map<std::string, long long> interrupts;
  // Hypervisor steal time (/proc/stat) over the strict windows, by CPU: of
  // the CPUs the thread ran on at each window's start and end. Empty: not
  // measured (no steal column, or no window with both snapshots).
  std::map<int, int64_t> steal_ns;
};

// Violations of one kind, call and code location, over the whole run (as
// strace -c counts by syscall): the line of code to fix first.
struct CallSiteCount {
  std::string kind;  // "syscall", "page_fault", "trap", "signal"
  std::string call;  // the syscall's or signal's name; empty for a page fault
  std::string site;  // the top frame ("in Worker+0x1a at app.cc:12"), or "?"
  long long count = 0;
};

struct RunSummary {
  std::vector<ThreadSummary> threads;
  // Most violations first; ties in order of first occurrence.
  std::vector<CallSiteCount> call_sites;
  long long total_violations = 0;
  long long suppressed_signals = 0;
  int exit_status = 0;  // what dpsupervise exits with
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MODEL_SUMMARY_H_
