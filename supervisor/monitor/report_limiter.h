// report_limiter.h: rate limiting of identical violation reports, as a Notify
// decorator in front of the reports (ReportNotify), so that a strict thread
// violating in a loop cannot flood the report stream, nor slow every traced
// task down with reports nobody reads.
//
// Violations are identical when they have the same thread, kind and site: the
// syscall (ABI and number) for a syscall, the pc for a page fault or a trap,
// the signal number for a signal. Of each such series the first `burst` are
// passed on whole; the later ones are counted, and at most once per
// `interval` (of the violations' own times) one EventSuppressed says how many
// were held back since the last one. The run's end says the rest. Only the
// reports are limited: the monitor counts and acts on every violation, and
// the summary and the verdict count them all (StrictWindows).
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_REPORT_LIMITER_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_REPORT_LIMITER_H_

#include <stdint.h>

#include <map>
#include <string>
#include <tuple>

#include "supervisor/monitor/notify.h"
#include "supervisor/report/report_limit.h"

namespace dpsupervise {

class ReportLimiter : public Notify {
 public:
  // `next` (the reports) outlives this.
  ReportLimiter(Notify* next, const ReportLimit& limit) : next_(next), limit_(limit) {}

  void EventViolation(const Violation& violation) override;
  void EventMessage(const std::string& text) override { next_->EventMessage(text); }
  void EventStrictEntered(pid_t tgid, pid_t tid) override { next_->EventStrictEntered(tgid, tid); }
  void EventStrictLeft(pid_t tgid, pid_t tid) override { next_->EventStrictLeft(tgid, tid); }
  void EventStrictEntryRefused(pid_t tgid, pid_t tid) override {
    next_->EventStrictEntryRefused(tgid, tid);
  }
  void EventSuppressed(const SuppressedReports& suppressed) override {
    next_->EventSuppressed(suppressed);
  }
  // Say every series' violations held back since its last line (at
  // EventFinishing, before any listener's end-of-run summary), then end.
  void EventFinishing() override;
  void EventFinished(const RunSummary& summary) override;

 private:
  // tid, kind, and the site: syscall ABI << 32 | nr, pc, or signal number.
  using SeriesKey = std::tuple<pid_t, int, uint64_t>;
  struct Series {
    long long seen = 0;
    long long held_back = 0;        // since the last suppression line
    int64_t last_line_ns = 0;       // the last report or suppression line
    SuppressedReports description;  // of the first violation, counts filled when said
  };

  static SeriesKey KeyOf(const Violation& violation);
  void SayEveryHeldBack();
  void SayHeldBack(Series& series, int64_t now_ns);

  Notify* next_;
  ReportLimit limit_;
  std::map<SeriesKey, Series> series_;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_REPORT_LIMITER_H_
