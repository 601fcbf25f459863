// preflight.h: environment checks made when a thread enters strict mode.
//
// Strict mode catches the kernel entries a thread makes itself; it cannot stop
// the kernel from taking the CPU away (the timer tick, other tasks, IRQs,
// page-cache work). Whether that happens is decided by how the machine and
// the thread are set up, so at entry dpsupervise looks at that setup and says,
// one line per problem, what to change. With --preflight=enforce a failed
// check refuses the entry (CheckPreflight).
#ifndef DPSUPERVISE_SUPERVISOR_NOISE_PREFLIGHT_H_
#define DPSUPERVISE_SUPERVISOR_NOISE_PREFLIGHT_H_

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dpsupervise {

struct PreflightFinding {
  // One of "affinity", "isolated_cpu", "nohz_full", "memory_locked",
  // "clocksource", "thp", "sched_policy", "umip".
  std::string check;
  bool ok = false;
  // What was found, e.g. "thread may run on CPUs 0-1".
  std::string detail;
  // What to change when !ok, e.g. "pin it to one isolated CPU
  // (sched_setaffinity or taskset)". May be empty when ok.
  std::string advice;
};

// Where the checks read the machine's state. Unit tests point these at a fake
// tree; the fake /proc holds <pid>/status, <pid>/task/<tid>/status and
// <pid>/task/<tid>/stat.
struct PreflightEnv {
  std::string sys_root = "/sys";
  std::string proc_root = "/proc";
};

// Runs every check for thread `tid` of process `pid`, in the order listed in
// PreflightFinding::check. Never fails as a whole: a check whose input cannot
// be read is a failed finding that says so (the thread may have exited).
// With the real /proc, affinity and scheduling policy come from
// sched_getaffinity(2)/sched_getscheduler(2); with a fake root they come from
// Cpus_allowed_list and field 41 of the task's stat file.
std::vector<PreflightFinding> RunPreflight(pid_t pid, pid_t tid);
std::vector<PreflightFinding> RunPreflight(pid_t pid, pid_t tid, const PreflightEnv& env);

// One line per failed finding, each ending with "\n", e.g.
// "dpsupervise: preflight: worker/1234: thread may run on CPUs 0-1; pin it to
// one isolated CPU (sched_setaffinity or taskset)". Empty when all passed.
std::string FormatFindings(const std::vector<PreflightFinding>& findings,
                           const std::string& thread_label);

// The verdict for strict entry: OK when `enforce` is false or every check
// passed; otherwise an error whose message names the failed checks and their
// details: InvalidArgument when the thread is not pinned to one isolated
// nohz_full CPU (affinity, isolated_cpu or nohz_full failed: the entry's
// prctl then returns EINVAL, as the task-isolation patches' did), otherwise
// PermissionDenied (EPERM).
absl::Status CheckPreflight(const std::vector<PreflightFinding>& findings, bool enforce);
// The errno the entry's prctl returns for a CheckPreflight refusal.
int PreflightRefusalErrno(const absl::Status& refusal);

// Parses a kernel CPU list ("0-3,8,10-11", as in Cpus_allowed_list and
// /sys/devices/system/cpu/isolated). Empty or blank text is the empty set.
// Trailing "\n" is accepted; "(null)" (printed by some kernels for an empty
// nohz_full mask) is the empty set.
absl::StatusOr<std::set<int>> ParseCpuList(absl::string_view text);

// The inverse: {0,1,2,5} -> "0-2,5".
std::string FormatCpuList(const std::set<int>& cpus);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_NOISE_PREFLIGHT_H_
