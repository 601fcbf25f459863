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

void ReportNotify::EventFinished(const RunSummary& summary) {
  if (!summary_) return;
  writer_->Write(json() ? FormatJsonSummary(summary) : FormatTextSummary(summary));
}

}  // namespace dpsupervise
