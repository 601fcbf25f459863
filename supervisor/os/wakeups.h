// wakeups.h: the two reasons the monitor wakes up other than a ptrace event:
// a periodic tick (strict-mode triggers that poll thread names and times)
// and, in attach mode, a request to detach (SIGINT, SIGTERM, SIGHUP).
// Both are signal handlers installed without SA_RESTART, so that the
// monitor's blocking waitpid returns EINTR and it looks at the flags.
#ifndef DPSUPERVISE_SUPERVISOR_OS_WAKEUPS_H_
#define DPSUPERVISE_SUPERVISOR_OS_WAKEUPS_H_

#include "absl/status/status.h"

namespace dpsupervise {

// SIGALRM every `interval_ms` (setitimer); called again, the shortest
// interval asked for stays. Fails with the syscall's errno.
absl::Status StartTicker(int interval_ms);
// True once per tick since the last call.
bool ConsumeTick();

// SIGINT, SIGTERM and SIGHUP request a detach instead of killing us; a
// second one, or a detach that outlasts the grace period, ends us at once,
// leaving the process running (forced_exit.h).
absl::Status DetachOnTerminationSignals();
bool DetachRequested();

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_OS_WAKEUPS_H_
