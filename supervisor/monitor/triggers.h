// triggers.h: making threads strict without their cooperation, by name
// (--strict-thread) or by CPU (--strict-cpus), after --strict-after, and for
// a while (--strict-for).
// Triggers only decides; the monitor interrupts the threads and enters or
// leaves strict mode at their interrupt stop.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_TRIGGERS_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_TRIGGERS_H_

#include <sys/types.h>
#include <time.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "supervisor/monitor/thread_table.h"

namespace dpsupervise {

// Ways to make threads strict without their cooperation (docs/usage.md,
// "Making threads strict").
struct StrictTriggers {
  // --strict-thread: fnmatch(3) patterns matched against thread names.
  std::vector<std::string> thread_globs;
  // --strict-cpus: a thread whose affinity is one CPU of these matches.
  std::set<int> cpus;
  // --strict-after: how long a thread must have matched before entry.
  double after_seconds = 0;
  // --strict-for: a triggered thread leaves strict mode after this long
  // (0: stays strict).
  double for_seconds = 0;

  bool any() const { return !thread_globs.empty() || !cpus.empty(); }
};

class Triggers {
 public:
  // A thread's name (comm), /proc/TID/comm by default.
  using NameOf = std::function<absl::StatusOr<std::string>(pid_t tid)>;
  // The CPUs a thread may run on, sched_getaffinity(2) by default.
  using AffinityOf = std::function<absl::StatusOr<std::set<int>>(pid_t tid)>;
  explicit Triggers(StrictTriggers options);
  Triggers(StrictTriggers options, NameOf name_of, AffinityOf affinity_of);

  enum class Move { kEnter, kLeave };
  struct Request {
    pid_t tid;
    Move move;
  };
  // What is due at `now` (CLOCK_MONOTONIC) among `threads`: entry for a
  // thread not yet triggered that has matched (its name a glob, or its
  // affinity one CPU of --strict-cpus) for --strict-after, leave for a
  // triggered strict thread whose --strict-for is over. Updates the
  // threads' bookkeeping (a thread renamed or re-pinned away starts its
  // delay again). `skip` says which threads to leave alone now.
  std::vector<Request> Due(ThreadTable& threads, const timespec& now,
                           const std::function<bool(const ThreadState&)>& skip);

  // The request for `thread` is under way (its PTRACE_INTERRUPT was sent).
  static void Requested(ThreadState& thread, Move move);

 private:
  bool NameMatches(pid_t tid) const;
  bool PinnedToAStrictCpu(pid_t tid) const;

  StrictTriggers options_;
  NameOf name_of_;
  AffinityOf affinity_of_;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_TRIGGERS_H_
