#include "supervisor/noise/own_affinity.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <string.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace dpsupervise {

absl::StatusOr<std::set<int>> TaskAffinity(pid_t tid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(tid, sizeof(set), &set) != 0) {
    return absl::NotFoundError(absl::StrCat("sched_getaffinity(", tid, "): ", strerror(errno)));
  }
  std::set<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.insert(cpu);
  }
  return cpus;
}

absl::Status RestrictOwnThreads(const std::set<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int cpu : cpus) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
      return absl::InvalidArgumentError(absl::StrCat("cpu ", cpu, " is beyond CPU_SETSIZE"));
    }
    CPU_SET(cpu, &set);
  }
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) {
    return absl::NotFoundError(absl::StrCat("/proc/self/task: ", strerror(errno)));
  }
  absl::Status status;
  while (dirent* entry = readdir(tasks)) {
    pid_t tid;
    if (!absl::SimpleAtoi(entry->d_name, &tid)) continue;  // "." and ".."
    // A thread that exited meanwhile (ESRCH) needs no moving.
    if (sched_setaffinity(tid, sizeof(set), &set) != 0 && errno != ESRCH) {
      status = absl::FailedPreconditionError(
          absl::StrCat("sched_setaffinity(thread ", tid, "): ", strerror(errno)));
      break;
    }
  }
  closedir(tasks);
  return status;
}

std::set<int> ObserverCpus(const std::set<int>& own, const std::set<int>& strict) {
  std::set<int> rest;
  for (int cpu : own) {
    if (strict.count(cpu) == 0) rest.insert(cpu);
  }
  return rest;
}

}  // namespace dpsupervise
