// report_notify.h: the reports as a Notify listener: violations, messages
// and the end-of-run summary written as text or JSON lines.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_REPORT_NOTIFY_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_REPORT_NOTIFY_H_

#include "supervisor/monitor/notify.h"
#include "supervisor/report/report.h"

namespace dpsupervise {

class ReportNotify : public Notify {
 public:
  // `writer` outlives this. The summary is written when `summary` is set;
  // in JSON it always is.
  ReportNotify(ReportWriter* writer, ReportFormat format, bool summary)
      : writer_(writer), format_(format), summary_(summary || format == ReportFormat::kJson) {}

  void EventViolation(const Violation& violation) override;
  void EventMessage(const std::string& text) override;
  void EventFinished(const RunSummary& summary) override;

 private:
  bool json() const { return format_ == ReportFormat::kJson; }

  ReportWriter* writer_;
  ReportFormat format_;
  bool summary_;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_REPORT_NOTIFY_H_
