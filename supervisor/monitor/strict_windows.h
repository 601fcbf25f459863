// strict_windows.h: the strict windows of every thread (when each began and
// ended, the kernel noise counted meanwhile), the violations counted, and the
// end-of-run summary made of them.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_STRICT_WINDOWS_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_STRICT_WINDOWS_H_

#include <sys/types.h>

#include <vector>

#include "supervisor/model/summary.h"
#include "supervisor/model/violation.h"
#include "supervisor/monitor/thread_table.h"

namespace dpsupervise {

class StrictWindows {
 public:
  // `read_counters`: read each window's thread name, CPU and noise counters
  // (about 100 us of /proc reading per entry and exit): only when a summary
  // will show them.
  explicit StrictWindows(bool read_counters) : read_counters_(read_counters) {}

  // A window begins: the thread just became strict. The counters at entry
  // are read by TakeDueSnapshots, once the thread runs again (not while it
  // waits in its prctl; the few microseconds in between go uncounted).
  void Begin(ThreadState& thread);
  // Takes the entry snapshots of the windows begun since the last call, for
  // the threads still in `threads`.
  void TakeDueSnapshots(ThreadTable& threads);
  // The window of a strict thread ends (it leaves, exits, or is detached):
  // its time and the noise counted since its entry snapshot are added.
  void End(ThreadState& thread);
  // Ends the open window of every strict thread of `tgid` (0: of all).
  void EndAll(ThreadTable& threads, pid_t tgid);
  // A thread that was ever strict is gone from the table: its summary is
  // kept. Its counters can no longer be read: only the time of a window
  // still open counts.
  void Retire(ThreadState& thread);

  // `count` kernel entries of `kind` by `thread`.
  void CountViolations(ThreadState& thread, ViolationKind kind, long long count);
  // The same `count` entries by where they happened: `violation` is
  // complete (its backtrace symbolized).
  void CountCallSite(const Violation& violation, long long count);
  long long total_violations() const { return total_violations_; }
  // A signal the kernel would have discarded natively was let through.
  void CountSuppressedSignal(ThreadState& thread);

  // Every thread that was ever strict, the retired ones and those still in
  // `threads`.
  RunSummary Summary(const ThreadTable& threads, int exit_status) const;

 private:
  const bool read_counters_;
  std::vector<pid_t> snapshots_due_;
  std::vector<ThreadSummary> retired_;
  long long total_violations_ = 0;
  long long suppressed_signals_ = 0;
  std::vector<CallSiteCount> call_sites_;  // in order of first occurrence
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_STRICT_WINDOWS_H_
