// Monitor: strict windows (time and kernel-noise counters per strict
// thread), the end-of-run summary, and backtraces for reports.
#include <sys/syscall.h>
#include <time.h>

#include "supervisor/monitor/monitor.h"
#include "supervisor/noise/noise.h"
#include "supervisor/os/procfs.h"
#include "supervisor/trace/ptrace_util.h"

namespace dpsupervise {
bool Monitor::WantSummary() const {
  return options_.summary || options_.format == ReportFormat::kJson;
}

namespace {

// The thread's name and CPU as the summary shows them.
void RecordNameAndCpu(pid_t tid, ThreadSummary* summary) {
  auto name = TaskName(tid);
  if (name.ok()) summary->thread_name = *name;
  auto cpu = TaskCpu(tid);
  summary->cpu = cpu.ok() ? *cpu : -1;
}

}  // namespace

void Monitor::BeginStrictWindow(ThreadState& thread) {
  clock_gettime(CLOCK_MONOTONIC, &thread.window.since);
  ThreadSummary& summary = thread.window.summary;
  thread.window.ever_strict = true;
  summary.pid = thread.tgid;
  summary.tid = thread.tid;
  ++summary.strict_entries;
  // The name, the CPU and the counters cost ~100 us of /proc reading per
  // entry and exit: only when a summary will show them, and not while the
  // thread waits in its prctl: they are read once it runs again, after the
  // current batch of stops (the few microseconds in between go uncounted).
  if (!WantSummary()) return;
  if (!thread.window.noise_snapshot_due) noise_snapshots_due_.push_back(thread.tid);
  thread.window.noise_snapshot_due = true;
}

void Monitor::TakeDueNoiseSnapshots() {
  for (pid_t tid : noise_snapshots_due_) {
    ThreadState* found = threads_.Find(tid);
    if (found == nullptr || !found->window.noise_snapshot_due) continue;
    ThreadState& thread = *found;
    thread.window.noise_snapshot_due = false;
    RecordNameAndCpu(thread.tid, &thread.window.summary);
    auto snapshot = TakeNoiseSnapshot(thread.tgid, thread.tid, thread.window.summary.cpu);
    thread.window.noise_at_entry = snapshot.ok() ? *snapshot : NoiseSnapshot{};
  }
  noise_snapshots_due_.clear();
}

void Monitor::EndStrictWindow(ThreadState& thread) {
  thread.window.summary.strict_seconds += SecondsSince(thread.window.since);
  // The window is closed: a later exit must not count it again.
  clock_gettime(CLOCK_MONOTONIC, &thread.window.since);
  if (!WantSummary()) return;
  if (thread.window.noise_snapshot_due) {
    // Ended in the batch that began it: no entry snapshot to count from,
    // and nothing to count in so short a window. Name and CPU still.
    thread.window.noise_snapshot_due = false;
    RecordNameAndCpu(thread.tid, &thread.window.summary);
    return;
  }
  auto after = TakeNoiseSnapshot(thread.tgid, thread.tid, thread.window.noise_at_entry.cpu);
  if (after.ok()) AccumulateNoise(thread.window.noise_at_entry, *after, &thread.window.summary);
  thread.window.noise_at_entry = NoiseSnapshot{};
}

void Monitor::EndStrictWindows(pid_t tgid) {
  for (auto& [tid, thread] : threads_) {
    if (thread.strict() && (tgid == 0 || thread.tgid == tgid)) EndStrictWindow(thread);
  }
}

absl::Status Monitor::HandleExitEvent(ThreadState& thread) {
  // The last moment the thread's counters can be read. A thread calling
  // exit_group takes its siblings down with it: close theirs too.
  thread.exiting = true;
  if (killing_) return Resume(thread);
  auto regs = GetRegs(thread.tid);
  if (regs.ok() && regs->orig_rax == SYS_exit_group) {
    EndStrictWindows(thread.tgid);
  } else if (thread.strict()) {
    ReportUnseenPageFaults(thread);
    EndStrictWindow(thread);
  }
  return Resume(thread);
}

void Monitor::WriteSummary(int exit_status) {
  RunSummary run;
  run.exit_status = exit_status;
  run.total_violations = total_violations_;
  run.threads = finished_;
  for (const auto& [tid, thread] : threads_) {
    if (thread.window.ever_strict) run.threads.push_back(thread.window.summary);
  }
  options_.reports->Write(options_.format == ReportFormat::kJson ? FormatJsonSummary(run)
                                                                 : FormatTextSummary(run));
}

void Monitor::Symbolize(Violation* violation) {
  std::unique_ptr<Symbolizer>& symbolizer = threads_.Process(violation->pid).symbolizer;
  absl::Status ready = absl::OkStatus();
  if (symbolizer == nullptr) {
    // Through the violating thread, which is stopped and so alive: the
    // leader may have exited.
    auto created = Symbolizer::Create(violation->tid);
    if (created.ok()) {
      symbolizer = std::move(*created);
    } else {
      ready = created.status();
    }
  } else {
    // Libraries may have been loaded since the last report.
    ready = symbolizer->Refresh(violation->tid);
  }
  if (!ready.ok()) {
    violation->backtrace_error = std::string(ready.message());
    return;
  }
  auto frames = symbolizer->Backtrace(violation->tid, violation->regs);
  if (!frames.ok()) {
    violation->backtrace_error = std::string(frames.status().message());
    return;
  }
  violation->backtrace = std::move(*frames);
}

}  // namespace dpsupervise
