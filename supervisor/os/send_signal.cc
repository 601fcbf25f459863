#include "supervisor/os/send_signal.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace dpsupervise {

int SignalProcess(pid_t pid, int signal) {
  if (pid <= 0) {
    errno = EINVAL;
    return -1;
  }
  return kill(pid, signal);
}

int SignalThread(pid_t tgid, pid_t tid, int signal) {
  if (tgid <= 0 || tid <= 0) {
    errno = EINVAL;
    return -1;
  }
  return static_cast<int>(syscall(SYS_tgkill, tgid, tid, signal));
}

}  // namespace dpsupervise
