// report.h: turns a Violation into what the user reads, and writes it out.
#ifndef DPSUPERVISE_SUPERVISOR_REPORT_H_
#define DPSUPERVISE_SUPERVISOR_REPORT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "supervisor/violation.h"

namespace dpsupervise {

// The oops-style text report. The first line says it all, in the seed
// kernel's style: "dpsupervise: worker/1235 (cpu 3): strict mode violated by
// syscall getpid()". Ends with the action taken (violation.action_detail).
std::string FormatTextReport(const Violation& violation);

// Where reports go: stderr or a file (-o). Each report is written whole with
// write(2) before the action runs, so nothing is lost when the program is
// killed or the supervisor is signalled.
class ReportWriter {
 public:
  // Writes to standard error.
  ReportWriter();
  ReportWriter(const ReportWriter&) = delete;
  ReportWriter& operator=(const ReportWriter&) = delete;
  ~ReportWriter();

  // Opens `path` for the reports (created or truncated). Fails with the path
  // and errno.
  static absl::StatusOr<std::unique_ptr<ReportWriter>> OpenFile(const std::string& path);

  absl::Status Write(const std::string& text);

 private:
  explicit ReportWriter(int fd, bool owned) : fd_(fd), owned_(owned) {}
  int fd_;
  bool owned_;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_REPORT_H_
