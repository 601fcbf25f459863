// triggers.h: making threads strict without their cooperation, by name
// (--strict-thread, after --strict-after) and for a while (--strict-for).
// Triggers only decides; the monitor interrupts the threads and enters or
// leaves strict mode at their interrupt stop.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_TRIGGERS_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_TRIGGERS_H_

#include <sys/types.h>
#include <time.h>

#include <functional>
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
  // --strict-after: how long a name must have matched before entry.
  double after_seconds = 0;
  // --strict-for: a triggered thread leaves strict mode after this long
  // (0: stays strict).
  double for_seconds = 0;

  bool any() const { return !thread_globs.empty(); }
};

class Triggers {
 public:
  // A thread's name (comm), /proc/TID/comm by default.
  using NameOf = std::function<absl::StatusOr<std::string>(pid_t tid)>;
  explicit Triggers(StrictTriggers options);
  Triggers(StrictTriggers options, NameOf name_of);

  enum class Move { kEnter, kLeave };
  struct Request {
    pid_t tid;
    Move move;
  };
  // What is due at `now` (CLOCK_MONOTONIC) among `threads`: entry for a
  // thread not yet triggered whose name has matched for --strict-after,
  // leave for a triggered strict thread whose --strict-for is over.
  // Updates the threads' name bookkeeping (a thread renamed away starts its
  // delay again). `skip` says which threads to leave alone now.
  std::vector<Request> Due(ThreadTable& threads, const timespec& now,
                           const std::function<bool(const ThreadState&)>& skip);

  // The request for `thread` is under way (its PTRACE_INTERRUPT was sent).
  static void Requested(ThreadState& thread, Move move);

 private:
  bool NameMatches(const std::string& name) const;

  StrictTriggers options_;
  NameOf name_of_;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_TRIGGERS_H_
