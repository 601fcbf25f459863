// quiesce_flush.h: the supervisor's half of PR_DATAPLANE_QUIESCE.
//
// The seed kernel's quiesce ran inside the kernel on the entering CPU: it
// waited until that CPU's timer tick was stopped and its pending softirq and
// RCU work was done. From user space the supervisor can only ask the kernel
// to do, now, work it would otherwise do later on the strict thread's CPU,
// while the thread is still stopped in its entry prctl; the thread itself can
// then watch for quiet with dp_wait_quiet (lib/dataplane.h).
#ifndef DPSUPERVISE_SUPERVISOR_NOISE_QUIESCE_FLUSH_H_
#define DPSUPERVISE_SUPERVISOR_NOISE_QUIESCE_FLUSH_H_

#include <string>

#include "absl/status/status.h"

namespace dpsupervise {

inline constexpr char kStatRefreshPath[] = "/proc/sys/vm/stat_refresh";

// Writes "1" to /proc/sys/vm/stat_refresh, which folds every CPU's pending
// vmstat deltas into the global counters now, so the periodic vmstat_update
// work has nothing left to do on the strict CPU (the vmstat shepherd only
// queues it on CPUs with pending deltas). OK when flushed, and also OK when
// the file cannot be written for lack of permission (EACCES, EPERM: not root)
// or because /proc/sys is read-only (EROFS: containers): nothing to flush
// from here, and that is not the program's fault. Any other failure is an
// error naming the path and errno.
absl::Status FlushKernelWork();

// The same on `stat_refresh_path` (tests); `*flushed` (if not null) tells
// whether the write happened.
absl::Status FlushKernelWork(const std::string& stat_refresh_path, bool* flushed);

// A short paragraph for users: what the user-space quiesce does, and what the
// seed kernel's quiesce did that it cannot.
std::string QuiesceLimitations();

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_NOISE_QUIESCE_FLUSH_H_
