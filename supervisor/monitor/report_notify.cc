#include "supervisor/monitor/report_notify.h"

namespace dpsupervise {

void ReportNotify::Start(const RunStart& start) {
  if (json()) writer_->Write(FormatJsonStart(start));
}

void ReportNotify::EventViolation(const Violation& violation) {
  const size_t depth = static_cast<size_t>(options_.backtrace_depth);
  if (depth > 0 && violation.backtrace.size() > depth) {
    Violation shortened = violation;
    shortened.backtrace.resize(depth);
    Report(shortened);
    return;
  }
  Report(violation);
}

void ReportNotify::Report(const Violation& violation) {
  TextReportOptions text;
  text.registers = options_.registers;
  // Reports that cannot be written never change what happens to the
  // program (ReportWriter).
  switch (options_.format) {
    case ReportFormat::kText:
      writer_->Write(FormatTextReport(violation, text));
      break;
    case ReportFormat::kLine:
      writer_->Write(FormatLineReport(violation, text));
      break;
    case ReportFormat::kJson:
      writer_->Write(FormatJsonReport(violation));
      break;
  }
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
