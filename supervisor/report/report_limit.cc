#include "supervisor/report/report_limit.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace dpsupervise {
namespace {

absl::Status BadLimit(absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid value '", absl::CHexEscape(text),
                   "' for --report-limit: expected N or N/INTERVAL (5, 5/1s, 20/500ms) or off"));
}

}  // namespace

absl::StatusOr<ReportLimit> ParseReportLimit(absl::string_view text) {
  ReportLimit limit;
  if (text == "off") {
    limit.enabled = false;
    return limit;
  }
  const size_t slash = text.find('/');
  const absl::string_view burst = text.substr(0, slash);
  if (burst.empty() || burst.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(burst, &limit.burst) || limit.burst < 1) {
    return BadLimit(text);
  }
  if (slash != absl::string_view::npos) {
    absl::Duration interval;
    if (!absl::ParseDuration(text.substr(slash + 1), &interval) ||
        interval <= absl::ZeroDuration() || interval == absl::InfiniteDuration()) {
      return BadLimit(text);
    }
    limit.interval_ns = absl::ToInt64Nanoseconds(interval);
  }
  return limit;
}

}  // namespace dpsupervise
