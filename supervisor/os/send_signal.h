// send_signal.h: the only way dpsupervise signals another task.
//
// kill(2) with a pid of 0 signals our whole process group, -1 every process
// we may signal (as root: the whole machine), -N process group N. A pid that
// came from a failed call (getpid() under an outer seccomp filter returning
// an error, a zero event message) must never reach kill(2): these wrappers
// refuse anything but a positive pid. Both are async-signal-safe and
// allocate nothing, for signal handlers and for a child between fork and
// exec.
#ifndef DPSUPERVISE_SUPERVISOR_OS_SEND_SIGNAL_H_
#define DPSUPERVISE_SUPERVISOR_OS_SEND_SIGNAL_H_

#include <sys/types.h>

namespace dpsupervise {

// kill(pid, signal) when pid > 0; otherwise -1 with errno EINVAL, nothing
// sent. Returns what kill(2) returns.
int SignalProcess(pid_t pid, int signal);

// tgkill(tgid, tid, signal) when both are > 0; otherwise -1 with errno
// EINVAL. Reaches exactly one thread, and only while it still belongs to
// `tgid`.
int SignalThread(pid_t tgid, pid_t tid, int signal);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_OS_SEND_SIGNAL_H_
