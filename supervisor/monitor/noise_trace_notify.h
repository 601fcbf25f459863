// noise_trace_notify.h: what the kernel does to strict threads, as a Notify
// listener. It follows the kernel's tracepoints (TracepointSession) on
// every tick, tells NoiseAttribution when windows begin and end, writes
// each noise event to the report stream (--noise=events) and the noise
// summary at the end. It keeps dpsupervise's own threads off the CPUs
// strict threads may run on, and says so once when it cannot. Runs on the
// monitor's thread: the report stream has one writer.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_NOISE_TRACE_NOTIFY_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_NOISE_TRACE_NOTIFY_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "supervisor/model/violation.h"
#include "supervisor/monitor/ipi_sender_backtraces.h"
#include "supervisor/monitor/notify.h"
#include "supervisor/report/report.h"
#include "supervisor/tracing/noise_attribution.h"
#include "supervisor/tracing/tracepoint_session.h"

namespace dpsupervise {

class NoiseTraceNotify : public Notify, public InterruptionSource {
 public:
  // Starts following the tracepoints (TracepointSession::Open: fails
  // without tracefs or the privilege). `writer` outlives the listener.
  // `events`: write each noise event, not only the summary. The owner makes
  // the monitor tick (StartTicker): the buffers are drained on ticks.
  static absl::StatusOr<std::unique_ptr<NoiseTraceNotify>> Start(ReportWriter* writer,
                                                                 ReportFormat format,
                                                                 bool events);
  NoiseTraceNotify(std::unique_ptr<TracepointSession> session, ReportWriter* writer,
                   ReportFormat format, bool events);

  void EventStrictEntered(pid_t tgid, pid_t tid) override;
  void EventStrictLeft(pid_t tgid, pid_t tid) override;
  void EventTick() override;
  void EventFinished(const RunSummary& summary) override;

  // The interruption kinds to hand to the monitor (TakeInterruptions);
  // none by default: noise is only counted and written.
  void ActOn(std::set<ViolationKind> kinds) { act_on_ = std::move(kinds); }
  std::vector<Violation> TakeInterruptions() override;
  // Whether the events and the summary are written (--noise=summary or
  // events); tracing only for an action writes neither.
  void SetWriting(bool summary, bool events) {
    summary_ = summary;
    events_ = events;
  }
  // Whether to say that dpsupervise cannot keep off the strict CPUs (yes
  // by default). Not when tracing was not asked for: the preflight's
  // affinity check already tells the user to pin the thread.
  void SayWhenOnStrictCpus(bool say) { say_observer_ = say; }

 private:
  // Reads the buffers and attributes the records old enough that no CPU
  // can still write an earlier one (`everything`: all of them, at the end).
  void Process(bool everything);
  // IPI senders' backtraces, made where the events will be written or
  // acted on (they cost a libdw unwind each).
  void FillSenderBacktraces(std::vector<NoiseEvent>* events);
  // Appends the events' records to those of this tick, written at once by
  // FlushEvents (one write a tick, not one per record: 10k records/s).
  void Write(const std::vector<NoiseEvent>& events);
  void FlushEvents();
  void KeepInterruptions(const std::vector<NoiseEvent>& events);
  void Say(const std::string& text);
  // Moves dpsupervise's threads off the CPUs a strict thread may run on
  // (`allowed`), or warns, once, that it cannot.
  void KeepOffStrictCpus(const std::set<int>& allowed);
  // Follows `cpu`'s interrupts and switches from now on; says once per CPU
  // when it cannot.
  void FollowCpu(int cpu);
  // A strict thread's migration to a CPU not followed yet follows it.
  void FollowMigration(const TraceRecord& record);

  std::unique_ptr<TracepointSession> session_;
  ReportWriter* writer_;
  ReportFormat format_;
  bool events_;
  bool summary_ = true;
  std::set<ViolationKind> act_on_;
  std::vector<Violation> interruptions_;  // for the monitor, not taken yet
  NoiseAttribution attribution_;
  IpiSenderBacktraces sender_backtraces_;
  std::vector<TraceRecord> pending_;  // drained, not attributed yet
  std::set<int> own_cpus_;       // dpsupervise's affinity when tracing started
  std::set<int> strict_cpus_;    // every CPU a strict thread may run on
  std::set<int> observer_cpus_;  // where dpsupervise's threads are kept now
  bool warned_observer_ = false;
  bool say_observer_ = true;
  std::string unwritten_;  // this tick's noise records
  bool any_strict_ = false;  // a thread entered strict mode
  std::set<int> unfollowed_cpus_;  // FollowCpu failed (said once each)
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_NOISE_TRACE_NOTIFY_H_
