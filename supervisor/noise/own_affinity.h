// own_affinity.h: keeps dpsupervise's own threads off the CPUs strict
// threads may run on. Its work there (serving a stop, writing a report,
// its 20 ms ticker's timer, which fires on the CPU that armed it) would
// interrupt the threads it observes: the observer must not be the noise.
#ifndef DPSUPERVISE_SUPERVISOR_NOISE_OWN_AFFINITY_H_
#define DPSUPERVISE_SUPERVISOR_NOISE_OWN_AFFINITY_H_

#include <sys/types.h>

#include <set>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace dpsupervise {

// The CPUs thread `tid` may run on (sched_getaffinity; 0: the caller).
absl::StatusOr<std::set<int>> TaskAffinity(pid_t tid);

// Restricts every thread of this process (/proc/self/task) to `cpus`;
// threads started later inherit it from the thread that starts them.
// Fails, naming the thread and errno, when one cannot be moved (a cpuset
// that excludes `cpus`, EINVAL) or the task list cannot be read.
absl::Status RestrictOwnThreads(const std::set<int>& cpus);

// Where dpsupervise may run so as not to share a CPU with strict threads:
// `own` (its affinity before any restriction) without `strict` (every CPU
// a strict thread may run on). Empty: nowhere.
std::set<int> ObserverCpus(const std::set<int>& own, const std::set<int>& strict);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_NOISE_OWN_AFFINITY_H_
