// own_stderr.h: a descriptor of dpsupervise's own for its standard error.
//
// The program inherits fd 2 and shares its open file description with
// dpsupervise: when the program sets O_NONBLOCK on it (fcntl changes the
// description, not the descriptor), dpsupervise's writes would start to
// fail with EAGAIN. Reopening /proc/self/fd/2 gives a description of our
// own for a pipe, a FIFO or a terminal, whose flags the program cannot
// change. A regular file keeps the shared description (O_NONBLOCK does not
// apply to it, and the shared offset keeps the program's output and ours in
// order); a socket cannot be reopened and is shared too: writers must then
// be ready for EAGAIN (poll for POLLOUT and retry).
#ifndef DPSUPERVISE_SUPERVISOR_OS_OWN_STDERR_H_
#define DPSUPERVISE_SUPERVISOR_OS_OWN_STDERR_H_

#include "absl/status/statusor.h"

namespace dpsupervise {

// A close-on-exec descriptor for what fd 2 is now: a new open file
// description when it can be reopened, with O_NONBLOCK set or cleared as
// asked, else a duplicate of fd 2 (flags unchanged). Fails when fd 2 is
// closed.
absl::StatusOr<int> OpenOwnStderr(bool nonblocking);

// Writes all of `data` to `fd` (a descriptor from OpenOwnStderr, or a
// file): retries on EINTR and partial writes, and waits with poll(POLLOUT)
// when a shared description was made non-blocking. Returns 0, or the errno
// that ended it (EPIPE, EIO, ENOSPC, ...). Never raises SIGPIPE's default
// action by itself: see KeepSigpipeFromKillingUs.
int WriteFully(int fd, const char* data, size_t size);

// One write attempt of `data` to `fd` that cannot block (MSG_DONTWAIT on a
// socket; a pipe or terminal from OpenOwnStderr(true) is non-blocking; a
// regular file does not block): for last words, which are dropped rather
// than wait. Async-signal-safe.
void WriteWithoutBlocking(int fd, const char* data, size_t size);

// SIGPIPE must not kill dpsupervise when the reader of its reports goes
// away; the write then fails with EPIPE. A no-op handler is installed
// rather than SIG_IGN, because an ignored disposition would be inherited by
// the program across exec, while a handled one is reset to the default
// there. When SIGPIPE is already ignored (inherited), it is left so, as the
// program would inherit it without dpsupervise too.
absl::Status KeepSigpipeFromKillingUs();

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_OS_OWN_STDERR_H_
