#include "supervisor/noise/quiesce_flush.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace dpsupervise {
namespace {

bool IsPermissionErrno(int error) { return error == EACCES || error == EPERM || error == EROFS; }

}  // namespace

absl::Status FlushKernelWork() { return FlushKernelWork(kStatRefreshPath, nullptr); }

absl::Status FlushKernelWork(const std::string& stat_refresh_path, bool* flushed) {
  if (flushed != nullptr) *flushed = false;
  const int fd = open(stat_refresh_path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (IsPermissionErrno(error)) return absl::OkStatus();
    return absl::ErrnoToStatus(error, absl::StrCat("open ", stat_refresh_path));
  }
  // The kernel does the whole flush inside this write (it runs the refresh on
  // every CPU and waits for it), so when write returns the deltas are folded.
  ssize_t n;
  do {
    n = write(fd, "1", 1);
  } while (n < 0 && errno == EINTR);
  const int error = errno;
  close(fd);
  if (n == 1) {
    if (flushed != nullptr) *flushed = true;
    return absl::OkStatus();
  }
  if (n < 0 && IsPermissionErrno(error)) return absl::OkStatus();
  if (n < 0) return absl::ErrnoToStatus(error, absl::StrCat("write ", stat_refresh_path));
  return absl::InternalError(absl::StrCat("write ", stat_refresh_path, ": short write"));
}

std::string QuiesceLimitations() {
  return "PR_DATAPLANE_QUIESCE under dpsupervise is best effort. Before the entry returns, "
         "dpsupervise flushes per-CPU vmstat deltas (/proc/sys/vm/stat_refresh, root only), "
         "so that work runs while the thread is still stopped instead of interrupting it later; "
         "the thread may then call dp_wait_quiet() to spin until no interruption longer than a "
         "threshold was seen for a window. Neither can do what the seed kernel's quiesce did "
         "from inside the kernel: wait until the CPU's timer tick is actually stopped "
         "(nohz_full) and its pending softirqs, RCU callbacks and deferred work are done. A "
         "quiet window observed from user space says the past was quiet, not that the next "
         "tick, IRQ or IPI will not come; only CPU isolation (isolcpus, nohz_full, rcu_nocbs, "
         "IRQ affinity) makes that so. See docs/quiesce-and-noise.md.";
}

}  // namespace dpsupervise
