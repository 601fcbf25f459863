// ipi_sender_backtraces.h: symbolized user-space backtraces of the tasks
// that sent IPIs to strict threads, from the registers and stack top the
// kernel copied at each send (UserStackSample). The sender may be any
// process on the machine, not only the supervised program: each is
// symbolized through its own /proc/PID/maps, with one Symbolizer per
// process kept while the process lives (loading a module's symbols costs
// milliseconds; unwinding one sample, with them loaded, microseconds).
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_IPI_SENDER_BACKTRACES_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_IPI_SENDER_BACKTRACES_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "supervisor/model/violation.h"
#include "supervisor/symbols/symbolize.h"
#include "supervisor/tracing/noise_attribution.h"

namespace dpsupervise {

class IpiSenderBacktraces {
 public:
  // Fills `event`'s sender_backtrace, or sender_backtrace_error, when it is
  // an IPI sent by a user task whose state was sampled; leaves any other
  // event alone.
  void Fill(NoiseEvent* event);

  // Processes symbolized since the last call may have exited, and their
  // pids been reused: each is checked again on its next use. Called once
  // per batch of events, so the check costs one /proc read per sender
  // process and batch, not one per event.
  void NewBatch() { ++batch_; }

 private:
  struct Process {
    std::unique_ptr<Symbolizer> symbolizer;
    std::string start_time;  // field 22 of /proc/PID/stat: tells pid reuse
    long long checked_in_batch = -1;
  };
  // A Symbolizer for the process of `sender` as it is now.
  absl::StatusOr<Symbolizer*> SymbolizerFor(const TaskIdentity& sender);

  // Beyond this many sender processes the cache starts over: a machine
  // where thousands of short-lived processes send IPIs must not grow it.
  static constexpr size_t kMaxProcesses = 64;
  std::map<pid_t, Process> processes_;
  long long batch_ = 0;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_IPI_SENDER_BACKTRACES_H_
