// forced_exit.h: dpsupervise always ends within a bounded time once asked.
//
// The first termination signal (SIGINT or SIGTERM; in attach mode SIGHUP
// too, which also detaches) gets the graceful treatment of its caller:
// forwarded to the program (launch mode), or a detach (attach mode). If the program ignores it, or dpsupervise is
// itself stuck (a tracee that never reports, a report nobody reads), a
// second termination signal, or the end of the grace period (--kill-after)
// after the first, ends dpsupervise at once: one line on standard error,
// then _exit(128 + the first signal). In launch mode PTRACE_O_EXITKILL then
// kills every traced task of the program; an attached program (no
// EXITKILL) is left running, untraced.
#ifndef DPSUPERVISE_SUPERVISOR_OS_FORCED_EXIT_H_
#define DPSUPERVISE_SUPERVISOR_OS_FORCED_EXIT_H_

#include "absl/status/status.h"

namespace dpsupervise {

enum class ForcedExitConsequence {
  kProgramKilled,  // launch mode: EXITKILL ends the program with us
  kProgramLeftRunning,  // attach mode
};

// Prepares the grace timer (a CLOCK_MONOTONIC POSIX timer signalling
// SIGRTMIN), its handler, and a non-blocking descriptor of standard error
// for the last message, so that nothing of it can block. Call once, before
// the termination signals' handlers are installed. Fails with the syscall's
// errno.
absl::Status PrepareForcedExit(double grace_seconds, ForcedExitConsequence consequence);

// For the handlers of the termination signals; async-signal-safe. The first
// call arms the grace timer; any later call ends dpsupervise now. Does
// nothing before PrepareForcedExit.
void NoteTerminationSignal(int signal);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_OS_FORCED_EXIT_H_
