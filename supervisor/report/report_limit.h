// report_limit.h: --report-limit, how many identical violation reports are
// written whole before the rest are only counted (ReportLimiter,
// monitor/report_limiter.h, does the limiting).
#ifndef DPSUPERVISE_SUPERVISOR_REPORT_REPORT_LIMIT_H_
#define DPSUPERVISE_SUPERVISOR_REPORT_REPORT_LIMIT_H_

#include <stdint.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dpsupervise {

// --report-limit: N[/INTERVAL] or off.
struct ReportLimit {
  bool enabled = true;
  int burst = 5;                             // reports written whole per series
  int64_t interval_ns = 1000 * 1000 * 1000;  // at most one suppression line per this
};

// "5", "5/1s", "20/500ms", "off". N is 1 or more, INTERVAL a duration of more
// than zero in absl::ParseDuration's syntax (1s when not given).
// InvalidArgumentError naming the expected form otherwise.
absl::StatusOr<ReportLimit> ParseReportLimit(absl::string_view text);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_REPORT_REPORT_LIMIT_H_
