#include "supervisor/monitor/report_limiter.h"

#include <functional>
#include <string>

#include "absl/strings/str_format.h"

namespace dpsupervise {
namespace {

// "getpid", "pc 0x401136", "SIGUSR1": what a series' violations share.
std::string SiteOf(const Violation& v) {
  switch (v.kind) {
    case ViolationKind::kSyscall:
      return v.syscall.name;
    case ViolationKind::kPageFault:
    case ViolationKind::kTrap:
      return absl::StrFormat("pc 0x%x", v.regs.rip);
    case ViolationKind::kSignal:
      return v.signal.signal_name;
    case ViolationKind::kIpi:
    case ViolationKind::kIrq:
    case ViolationKind::kTimer:
    case ViolationKind::kSoftirq:
    case ViolationKind::kPreemption:
    case ViolationKind::kMigration:
      return v.interruption.cause;
  }
  return "";
}

}  // namespace

ReportLimiter::SeriesKey ReportLimiter::KeyOf(const Violation& v) {
  uint64_t site = 0;
  switch (v.kind) {
    case ViolationKind::kSyscall:
      site = static_cast<uint64_t>(v.syscall.abi) << 32 | v.syscall.nr;
      break;
    case ViolationKind::kPageFault:
    case ViolationKind::kTrap:
      site = v.regs.rip;
      break;
    case ViolationKind::kSignal:
      site = static_cast<uint64_t>(v.signal.signo);
      break;
    case ViolationKind::kIpi:
    case ViolationKind::kIrq:
    case ViolationKind::kTimer:
    case ViolationKind::kSoftirq:
    case ViolationKind::kPreemption:
    case ViolationKind::kMigration:
      site = std::hash<std::string>()(v.interruption.cause);
      break;
  }
  return {v.tid, static_cast<int>(v.kind), site};
}

void ReportLimiter::EventViolation(const Violation& violation) {
  if (!limit_.enabled) {
    next_->EventViolation(violation);
    return;
  }
  Series& series = series_[KeyOf(violation)];
  ++series.seen;
  if (series.seen <= limit_.burst) {
    if (series.seen == 1) {
      series.description.pid = violation.pid;
      series.description.tid = violation.tid;
      series.description.thread_name = violation.thread_name;
      series.description.kind = violation.kind;
      series.description.site = SiteOf(violation);
    }
    series.last_line_ns = violation.time_ns;
    next_->EventViolation(violation);
    return;
  }
  ++series.held_back;
  if (violation.time_ns - series.last_line_ns >= limit_.interval_ns) {
    SayHeldBack(series, violation.time_ns);
  }
}

void ReportLimiter::SayHeldBack(Series& series, int64_t now_ns) {
  series.description.suppressed = series.held_back;
  series.description.total = series.seen;
  series.description.time_ns = now_ns;
  next_->EventSuppressed(series.description);
  series.held_back = 0;
  series.last_line_ns = now_ns;
}

void ReportLimiter::SayEveryHeldBack() {
  for (auto& [key, series] : series_) {
    if (series.held_back > 0) SayHeldBack(series, series.last_line_ns);
  }
}

void ReportLimiter::EventFinishing() {
  // The counts of what was held back, next to the reports they count, not
  // after other listeners' summaries.
  SayEveryHeldBack();
  next_->EventFinishing();
}

void ReportLimiter::EventFinished(const RunSummary& summary) {
  SayEveryHeldBack();  // none left, unless finished without EventFinishing
  next_->EventFinished(summary);
}

}  // namespace dpsupervise
