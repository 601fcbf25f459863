// report_notify.h: the reports as a Notify listener: violations, messages,
// the end-of-run summary and the verdict, written as text or JSON lines.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_REPORT_NOTIFY_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_REPORT_NOTIFY_H_

#include <optional>
#include <string>

#include "supervisor/monitor/notify.h"
#include "supervisor/report/report.h"

namespace dpsupervise {

struct ReportOptions {
  ReportFormat format = ReportFormat::kText;
  // Write the summary (--summary); in JSON it always is.
  bool summary = false;
  // -q: no verdict line in text (the JSON verdict record is always written).
  bool quiet = false;
  // --error-exitcode=N: the exit status when any violation happened.
  std::optional<int> error_exitcode;
  // --registers: the register block in text and line reports (JSON always
  // has the registers).
  bool registers = true;
  // --backtrace-depth: at most this many frames in any report; 0: all.
  int backtrace_depth = 0;
};

class ReportNotify : public Notify {
 public:
  // `writer` outlives this.
  ReportNotify(ReportWriter* writer, const ReportOptions& options)
      : writer_(writer), options_(options) {}

  // Writes the start record in JSON (text has none): before any event.
  void Start(const RunStart& start);

  void EventViolation(const Violation& violation) override;
  void EventMessage(const std::string& text) override;
  void EventStrictEntryRefused(pid_t tgid, pid_t tid) override;
  void EventSuppressed(const SuppressedReports& suppressed) override;
  // Writes the summary (with the verdict's exit status) and the verdict.
  void EventFinished(const RunSummary& summary) override;

  // What dpsupervise exits with, once EventFinished was called: the
  // program's status, or --error-exitcode's N. `run_status` before.
  int ExitStatus(int run_status) const { return verdict_ ? verdict_->exit_status : run_status; }

 private:
  bool json() const { return options_.format == ReportFormat::kJson; }
  void Report(const Violation& violation);

  ReportWriter* writer_;
  ReportOptions options_;
  int refused_entries_ = 0;
  std::optional<Verdict> verdict_;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_REPORT_NOTIFY_H_
