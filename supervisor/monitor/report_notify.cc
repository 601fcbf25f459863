#include "supervisor/monitor/report_notify.h"

namespace dpsupervise {

void ReportNotify::EventViolation(const Violation& violation) {
  // Reports that cannot be written never change what happens to the
  // program (ReportWriter).
  writer_->Write(json() ? FormatJsonReport(violation) : FormatTextReport(violation));
}

void ReportNotify::EventMessage(const std::string& text) {
  writer_->Write(json() ? FormatJsonMessage(text) : text);
}

void ReportNotify::EventSuppressed(const SuppressedReports& suppressed) {
  writer_->Write(json() ? FormatJsonSuppressed(suppressed) : FormatTextSuppressed(suppressed));
}

void ReportNotify::EventStrictEntryRefused(pid_t, pid_t) { ++refused_entries_; }

void ReportNotify::EventFinished(const RunSummary& summary) {
  verdict_ = JudgeRun(summary, refused_entries_, options_.error_exitcode);
  // The summary says what dpsupervise exits with: the verdict decides it.
  RunSummary judged = summary;
  judged.exit_status = verdict_->exit_status;
  if (options_.summary || json()) {
    writer_->Write(json() ? FormatJsonSummary(judged) : FormatTextSummary(judged));
  }
  if (json()) {
    writer_->Write(FormatJsonVerdict(*verdict_));
  } else if (!options_.quiet) {
    writer_->Write(FormatTextVerdict(*verdict_));
  }
}

}  // namespace dpsupervise
