#include "supervisor/monitor/noise_trace_notify.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "supervisor/noise/own_affinity.h"
#include "supervisor/noise/preflight.h"
#include "supervisor/os/procfs.h"
#include "supervisor/tracing/noise_format.h"

namespace dpsupervise {
namespace {

// Records are written per CPU; one stamped before the drain may still be
// being written on another CPU. Records younger than this wait for the
// next tick, so the merged order never goes back in time.
constexpr int64_t kSettleNs = 2000000;

int64_t NowNs() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);  // the violations' and the samples' clock
  return now.tv_sec * 1000000000LL + now.tv_nsec;
}

NoiseAttribution::Options AttributionOptions() {
  NoiseAttribution::Options options;
  options.own_pid = getpid();
  options.tgid_of = [](pid_t tid) -> pid_t {
    auto tgid = TaskTgid(tid);
    return tgid.ok() ? *tgid : 0;
  };
  options.comm_of = [](pid_t tid) -> std::string {
    auto name = TaskName(tid);
    return name.ok() ? *name : "";
  };
  return options;
}

// The violation kind of an interruption kind that can be given an action;
// none for NMIs and other vectors (noise only: an NMI cannot be told from
// the hypervisor's or the watchdog's, and acting on it is not offered).
std::optional<ViolationKind> KindOf(NoiseKind kind) {
  switch (kind) {
    case NoiseKind::kTimer:
      return ViolationKind::kTimer;
    case NoiseKind::kIrq:
      return ViolationKind::kIrq;
    case NoiseKind::kIpi:
      return ViolationKind::kIpi;
    case NoiseKind::kSoftirq:
      return ViolationKind::kSoftirq;
    case NoiseKind::kPreemption:
      return ViolationKind::kPreemption;
    case NoiseKind::kMigration:
      return ViolationKind::kMigration;
    case NoiseKind::kNmi:
    case NoiseKind::kOther:
      return std::nullopt;
  }
  return std::nullopt;
}

// The violation the monitor completes (registers, backtrace, action).
Violation InterruptionViolation(const NoiseEvent& event, ViolationKind kind) {
  Violation v;
  v.kind = kind;
  v.pid = event.pid;
  v.tid = event.tid;
  v.thread_name = event.thread;
  v.cpu = event.cpu;
  v.interruption.start_ns = event.start_ns;
  v.interruption.duration_ns = event.duration_ns;
  v.interruption.cause = event.cause;
  v.interruption.detail = NoiseEventDetail(event);
  std::string record = FormatJsonNoiseEvent(event);
  if (!record.empty() && record.back() == '\n') record.pop_back();
  v.interruption.noise_record = std::move(record);
  return v;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NoiseTraceNotify>> NoiseTraceNotify::Start(ReportWriter* writer,
                                                                          ReportFormat format,
                                                                          bool events) {
  auto session = TracepointSession::Open();
  if (!session.ok()) return session.status();
  return std::make_unique<NoiseTraceNotify>(std::move(*session), writer, format, events);
}

NoiseTraceNotify::NoiseTraceNotify(std::unique_ptr<TracepointSession> session,
                                   ReportWriter* writer, ReportFormat format, bool events)
    : session_(std::move(session)),
      writer_(writer),
      format_(format),
      events_(events),
      attribution_(AttributionOptions()) {
  auto own = TaskAffinity(0);
  if (own.ok()) own_cpus_ = *own;
  observer_cpus_ = own_cpus_;
}

void NoiseTraceNotify::EventStrictEntered(pid_t tgid, pid_t tid) {
  any_strict_ = true;
  auto allowed = TaskAffinity(tid);
  if (allowed.ok()) {
    // Before the window begins: the thread is still stopped, so the
    // cross-CPU calls that enable a CPU's tracepoints do not interrupt it,
    // and nothing in its window happens before its CPU is followed.
    for (int cpu : *allowed) FollowCpu(cpu);
    KeepOffStrictCpus(*allowed);
  }
  auto name = TaskName(tid);
  attribution_.WindowBegins(tgid, tid, name.ok() ? *name : "", NowNs());
}

void NoiseTraceNotify::FollowCpu(int cpu) {
  if (session_ == nullptr) return;
  absl::Status followed = session_->FollowCpu(cpu);
  if (followed.ok() || !unfollowed_cpus_.insert(cpu).second) return;
  Say(absl::StrCat("dpsupervise: --noise: interruptions on cpu ", cpu,
                   " are not seen: ", followed.message(), "\n"));
}

void NoiseTraceNotify::KeepOffStrictCpus(const std::set<int>& allowed) {
  if (own_cpus_.empty()) return;  // ours unknown
  strict_cpus_.insert(allowed.begin(), allowed.end());
  const std::set<int> keep = ObserverCpus(own_cpus_, strict_cpus_);
  if (keep == observer_cpus_ || warned_observer_) return;
  absl::Status moved = keep.empty() ? absl::OkStatus() : RestrictOwnThreads(keep);
  if (!keep.empty() && moved.ok()) {
    observer_cpus_ = keep;
    return;
  }
  warned_observer_ = true;
  if (!say_observer_) return;
  const std::string why =
      keep.empty() ? absl::StrCat("strict threads may run on CPUs ", FormatCpuList(strict_cpus_),
                                  ", dpsupervise on ", FormatCpuList(own_cpus_))
                   : std::string(moved.message());
  Say(absl::StrCat("dpsupervise: --noise: cannot keep dpsupervise's threads off the strict CPUs (",
                   why, "): its own work interrupts them (labelled by_dpsupervise); pin the "
                   "strict threads to CPUs of their own (taskset, sched_setaffinity)\n"));
}

void NoiseTraceNotify::EventStrictLeft(pid_t tgid, pid_t tid) {
  attribution_.WindowEnds(tid, NowNs());
}

void NoiseTraceNotify::EventTick() { Process(false); }

void NoiseTraceNotify::EventFinished(const RunSummary& summary) {
  Process(true);
  if (session_ == nullptr) return;
  const long long lost = session_->lost_records();
  if (lost > 0) {
    Say(absl::StrCat("dpsupervise: noise tracing lost ", lost,
                     " trace records (ring buffer full): the noise figures are low\n"));
  }
  // No strict thread: the verdict says so; a noise summary would say nothing.
  if (!summary_ || !any_strict_) return;
  StealByThread steal;
  for (const ThreadSummary& thread : summary.threads) steal[thread.tid] = thread.steal_ns;
  const std::set<int>& followed = session_->followed_cpus();
  writer_->Write(format_ == ReportFormat::kJson
                     ? FormatJsonNoiseSummary(attribution_.tallies(), lost, steal, followed)
                     : FormatTextNoiseSummary(attribution_.tallies(), lost, steal, followed));
}

std::vector<Violation> NoiseTraceNotify::TakeInterruptions() {
  std::vector<Violation> taken;
  taken.swap(interruptions_);
  return taken;
}

void NoiseTraceNotify::KeepInterruptions(const std::vector<NoiseEvent>& events) {
  if (act_on_.empty()) return;
  for (const NoiseEvent& event : events) {
    // dpsupervise's own stops, timers and IPIs (the kick of a
    // PTRACE_INTERRUPT, a signal it sent) are never someone else's
    // interruption.
    if (event.by_dpsupervise) continue;
    const std::optional<ViolationKind> kind = KindOf(event.kind);
    if (kind && act_on_.count(*kind) > 0) {
      interruptions_.push_back(InterruptionViolation(event, *kind));
    }
  }
}

void NoiseTraceNotify::Process(bool everything) {
  if (session_ == nullptr) return;
  const int64_t drained_at = NowNs();
  absl::Status drained = session_->Drain(&pending_);
  if (!drained.ok()) {
    // Never a silent gap: say so once and stop tracing.
    Say(absl::StrCat("dpsupervise: noise tracing stopped: ", drained.message(), "\n"));
    session_.reset();
    return;
  }
  std::stable_sort(pending_.begin(), pending_.end(),
                   [](const TraceRecord& a, const TraceRecord& b) { return a.time_ns < b.time_ns; });
  size_t ready = pending_.size();
  if (!everything) {
    ready = std::lower_bound(pending_.begin(), pending_.end(), drained_at - kSettleNs,
                             [](const TraceRecord& record, int64_t limit) {
                               return record.time_ns < limit;
                             }) -
            pending_.begin();
  }
  sender_backtraces_.NewBatch();
  for (size_t i = 0; i < ready; ++i) {
    FollowMigration(pending_[i]);
    std::vector<NoiseEvent> events = attribution_.Feed(pending_[i]);
    FillSenderBacktraces(&events);
    KeepInterruptions(events);
    Write(events);
  }
  pending_.erase(pending_.begin(), pending_.begin() + ready);
  FlushEvents();
}

void NoiseTraceNotify::FollowMigration(const TraceRecord& record) {
  // A strict thread moved where it could not run at its entry (its
  // affinity changed since): that CPU is followed from this record on.
  if (record.type != TraceEventType::kSchedMigrate || session_ == nullptr ||
      session_->followed_cpus().count(record.dest_cpu) != 0 ||
      !attribution_.IsStrictAt(record.migrated_tid, record.time_ns)) {
    return;
  }
  FollowCpu(record.dest_cpu);
}

void NoiseTraceNotify::FillSenderBacktraces(std::vector<NoiseEvent>* events) {
  if (!events_ && act_on_.empty()) return;
  for (NoiseEvent& event : *events) sender_backtraces_.Fill(&event);
}

void NoiseTraceNotify::Write(const std::vector<NoiseEvent>& events) {
  if (!events_) return;
  for (const NoiseEvent& event : events) {
    unwritten_ += format_ == ReportFormat::kJson ? FormatJsonNoiseEvent(event)
                                                 : FormatTextNoiseEvent(event);
  }
}

void NoiseTraceNotify::FlushEvents() {
  if (unwritten_.empty()) return;
  writer_->Write(unwritten_);
  unwritten_.clear();
}

void NoiseTraceNotify::Say(const std::string& text) {
  FlushEvents();
  writer_->Write(format_ == ReportFormat::kJson ? FormatJsonMessage(text) : text);
}

}  // namespace dpsupervise
