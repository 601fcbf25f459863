// noise.h: per-thread kernel noise that user space cannot trap.
//
// A strict thread's own kernel entries are caught as violations; the kernel
// taking its CPU away (interrupts, preemption, migration) is not an entry the
// thread makes, so seccomp and ptrace never see it. It can only be counted:
// the monitor takes a snapshot at strict entry and another at strict exit (or
// thread exit) and adds the difference to the thread's summary. This is the
// user-space version of the seed kernel's "track kernel noise on isolated
// CPUs".
#ifndef DPSUPERVISE_SUPERVISOR_NOISE_NOISE_H_
#define DPSUPERVISE_SUPERVISOR_NOISE_NOISE_H_

#include <sys/types.h>
#include <time.h>

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "supervisor/model/summary.h"

namespace dpsupervise {

struct NoiseSnapshot {
  bool valid = false;
  // /proc/<pid>/task/<tid>/status: voluntary_ctxt_switches (the thread
  // blocked) and nonvoluntary_ctxt_switches (it was preempted).
  long long voluntary_ctxt = -1;
  long long involuntary_ctxt = -1;
  // se.nr_migrations of /proc/<pid>/task/<tid>/sched; -1 when the kernel has
  // no sched file (CONFIG_SCHED_DEBUG off).
  long long migrations = -1;
  // Fields 10 and 12 of /proc/<pid>/task/<tid>/stat.
  long long minor_faults = -1;
  long long major_faults = -1;
  // The CPU whose /proc/interrupts column was read (the strict thread's CPU);
  // -1: interrupts not read.
  int cpu = -1;
  // Every /proc/interrupts line that has a per-CPU column, by its label:
  // "LOC", "CAL", "RES", "TLB", "24", ...
  std::map<std::string, long long> interrupts_on_cpu;
  // The CPU the thread runs on, or last ran on (field 39 of its stat).
  int ran_on_cpu = -1;
  // Every CPU's hypervisor steal time (the steal column of /proc/stat, in
  // USER_HZ ticks, as nanoseconds); empty when /proc/stat has no steal column
  // or cannot be read.
  std::map<int, int64_t> steal_ns_by_cpu;
  // CLOCK_MONOTONIC when the snapshot was taken.
  timespec when{};
};

// Reads the counters of thread `tid` of process `pid`, the interrupt counts
// of `cpu` (none when cpu < 0) and every CPU's steal time, from the proc
// file system mounted at `proc_root` (tests pass a fake tree). Fails when
// the thread's status or stat file cannot be read (it exited); a missing
// sched file leaves migrations at -1, an unreadable /proc/interrupts or an
// offline `cpu` leaves the map empty, an unreadable /proc/stat the steal.
absl::StatusOr<NoiseSnapshot> TakeNoiseSnapshot(pid_t pid, pid_t tid, int cpu,
                                                const std::string& proc_root = "/proc");

// Adds after-before into `summary`: counters still at -1 (never measured)
// start from 0; a counter unknown in either snapshot is left alone. Interrupt
// deltas are added only when both snapshots read the same CPU, and only
// nonzero ones (a line absent before counts from 0: its IRQ was allocated
// during the window). Steal time is added for the CPUs the thread ran on at
// either snapshot, when both read it. Does nothing unless both snapshots
// are valid.
void AccumulateNoise(const NoiseSnapshot& before, const NoiseSnapshot& after,
                     ThreadSummary* summary);

// Parsing helpers, exposed for tests.

// The column of `cpu` in /proc/interrupts text, by line label. Columns are
// located through the "CPUn" header (offline CPUs have no column). Lines with
// fewer counts than CPUs (ERR, MIS: system-wide totals) are skipped.
// NotFound when `cpu` has no column.
absl::StatusOr<std::map<std::string, long long>> ParseInterrupts(absl::string_view text, int cpu);

// voluntary_ctxt_switches and nonvoluntary_ctxt_switches of a status file.
absl::Status ParseStatusCounters(absl::string_view status_text, NoiseSnapshot* snapshot);

// minflt (field 10) and majflt (field 12) of a stat file.
absl::Status ParseStatFaults(absl::string_view stat_text, NoiseSnapshot* snapshot);

// The CPU a thread last ran on: processor (field 39) of its stat file.
absl::StatusOr<int> ParseStatProcessor(absl::string_view stat_text);

// The steal column (the 8th number) of every "cpuN" line of /proc/stat, in
// USER_HZ ticks, by CPU. NotFound when no line has one (kernels before
// 2.6.11).
absl::StatusOr<std::map<int, long long>> ParseStealTicks(absl::string_view proc_stat_text);

// se.nr_migrations of a sched file.
absl::StatusOr<long long> ParseSchedMigrations(absl::string_view sched_text);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_NOISE_NOISE_H_
