#include "supervisor/os/own_stderr.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace dpsupervise {
namespace {

void NoOp(int) {}

// A pipe, FIFO or terminal can be opened anew through /proc; the O_NONBLOCK
// of the open itself keeps a FIFO without a reader from blocking us here
// (ENXIO instead).
int ReopenStderr() {
  struct stat st;
  if (fstat(STDERR_FILENO, &st) != 0) return -1;
  if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) return -1;
  return open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

}  // namespace

absl::StatusOr<int> OpenOwnStderr(bool nonblocking) {
  int fd = ReopenStderr();
  if (fd >= 0) {
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0 ||
        fcntl(fd, F_SETFL, nonblocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) != 0) {
      const int err = errno;
      close(fd);
      return absl::InternalError(absl::StrCat("fcntl on standard error: ", strerror(err)));
    }
    return fd;
  }
  fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("standard error is not usable: ", strerror(errno)));
  }
  return fd;
}

int WriteFully(int fd, const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return EIO;  // cannot happen for a non-empty write; do not spin
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return errno;
    // A shared description someone made non-blocking: wait until writable.
    pollfd pfd{fd, POLLOUT, 0};
    if (poll(&pfd, 1, -1) < 0 && errno != EINTR) return errno;
  }
  return 0;
}

void WriteWithoutBlocking(int fd, const char* data, size_t size) {
  // A socket shared with the program may have been left blocking.
  if (send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == ENOTSOCK) {
    (void)!write(fd, data, size);
  }
}

absl::Status KeepSigpipeFromKillingUs() {
  struct sigaction current;
  if (sigaction(SIGPIPE, nullptr, &current) != 0) {
    return absl::InternalError(absl::StrCat("sigaction(SIGPIPE): ", strerror(errno)));
  }
  if (current.sa_handler == SIG_IGN) return absl::OkStatus();
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = NoOp;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGPIPE, &action, nullptr) != 0) {
    return absl::InternalError(absl::StrCat("sigaction(SIGPIPE): ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace dpsupervise
