#include "supervisor/monitor/strict_windows.h"

#include <time.h>

#include <algorithm>

#include "supervisor/noise/noise.h"
#include "supervisor/report/report.h"
#include "supervisor/os/procfs.h"

namespace dpsupervise {
namespace {

// The thread's name and CPU as the summary shows them.
void RecordNameAndCpu(pid_t tid, ThreadSummary* summary) {
  auto name = TaskName(tid);
  if (name.ok()) summary->thread_name = *name;
  auto cpu = TaskCpu(tid);
  summary->cpu = cpu.ok() ? *cpu : -1;
}

}  // namespace

void StrictWindows::Begin(ThreadState& thread) {
  WindowState& window = thread.window;
  clock_gettime(CLOCK_MONOTONIC, &window.since);
  window.ever_strict = true;
  window.summary.pid = thread.tgid;
  window.summary.tid = thread.tid;
  ++window.summary.strict_entries;
  if (!read_counters_) return;
  if (!window.noise_snapshot_due) snapshots_due_.push_back(thread.tid);
  window.noise_snapshot_due = true;
}

void StrictWindows::TakeDueSnapshots(ThreadTable& threads) {
  for (pid_t tid : snapshots_due_) {
    ThreadState* thread = threads.Find(tid);
    if (thread == nullptr || !thread->window.noise_snapshot_due) continue;
    WindowState& window = thread->window;
    window.noise_snapshot_due = false;
    RecordNameAndCpu(thread->tid, &window.summary);
    auto snapshot = TakeNoiseSnapshot(thread->tgid, thread->tid, window.summary.cpu);
    window.noise_at_entry = snapshot.ok() ? *snapshot : NoiseSnapshot{};
  }
  snapshots_due_.clear();
}

void StrictWindows::End(ThreadState& thread) {
  WindowState& window = thread.window;
  window.summary.strict_seconds += SecondsSince(window.since);
  // The window is closed: a later exit must not count it again.
  clock_gettime(CLOCK_MONOTONIC, &window.since);
  if (!read_counters_) return;
  if (window.noise_snapshot_due) {
    // Ended in the batch that began it: no entry snapshot to count from,
    // and nothing to count in so short a window. Name and CPU still.
    window.noise_snapshot_due = false;
    RecordNameAndCpu(thread.tid, &window.summary);
    return;
  }
  auto after = TakeNoiseSnapshot(thread.tgid, thread.tid, window.noise_at_entry.cpu);
  if (after.ok()) AccumulateNoise(window.noise_at_entry, *after, &window.summary);
  window.noise_at_entry = NoiseSnapshot{};
}

void StrictWindows::EndAll(ThreadTable& threads, pid_t tgid) {
  for (auto& [tid, thread] : threads) {
    if (thread.strict() && (tgid == 0 || thread.tgid == tgid)) End(thread);
  }
}

void StrictWindows::Retire(ThreadState& thread) {
  if (!thread.window.ever_strict) return;
  if (thread.strict()) {
    thread.window.summary.strict_seconds += SecondsSince(thread.window.since);
    clock_gettime(CLOCK_MONOTONIC, &thread.window.since);
  }
  retired_.push_back(thread.window.summary);
}

void StrictWindows::CountViolations(ThreadState& thread, ViolationKind kind, long long count) {
  total_violations_ += count;
  thread.window.summary.violations[ViolationKindName(kind)] += count;
}

void StrictWindows::CountSuppressedSignal(ThreadState& thread) {
  ++suppressed_signals_;
  ++thread.window.summary.suppressed_signals;
}

void StrictWindows::CountCallSite(const Violation& violation, long long count) {
  CallSiteCount key;
  key.kind = ViolationKindName(violation.kind);
  switch (violation.kind) {
    case ViolationKind::kSyscall:
      key.call = violation.syscall.name;
      break;
    case ViolationKind::kTrap:
    case ViolationKind::kSignal:
      key.call = violation.signal.signal_name;
      break;
    case ViolationKind::kPageFault:
      break;
    case ViolationKind::kIpi:
    case ViolationKind::kIrq:
    case ViolationKind::kTimer:
    case ViolationKind::kSoftirq:
    case ViolationKind::kPreemption:
    case ViolationKind::kMigration:
      key.call = violation.interruption.cause;
      break;
  }
  key.site = violation.backtrace.empty() ? "?" : FormatFrameLocation(violation.backtrace[0]);
  for (CallSiteCount& seen : call_sites_) {
    if (seen.kind == key.kind && seen.call == key.call && seen.site == key.site) {
      seen.count += count;
      return;
    }
  }
  key.count = count;
  call_sites_.push_back(std::move(key));
}

RunSummary StrictWindows::Summary(const ThreadTable& threads, int exit_status) const {
  RunSummary run;
  run.exit_status = exit_status;
  run.total_violations = total_violations_;
  run.suppressed_signals = suppressed_signals_;
  run.call_sites = call_sites_;
  std::stable_sort(run.call_sites.begin(), run.call_sites.end(),
                   [](const CallSiteCount& a, const CallSiteCount& b) { return a.count > b.count; });
  run.threads = retired_;
  for (const auto& [tid, thread] : threads) {
    if (thread.window.ever_strict) run.threads.push_back(thread.window.summary);
  }
  return run;
}

}  // namespace dpsupervise
