#include "supervisor/monitor/triggers.h"

#include <fnmatch.h>
#include <sched.h>

#include <utility>

#include "supervisor/os/procfs.h"

namespace dpsupervise {
namespace {

double SecondsBetween(const timespec& from, const timespec& to) {
  return (to.tv_sec - from.tv_sec) + (to.tv_nsec - from.tv_nsec) / 1e9;
}

absl::StatusOr<std::set<int>> TaskAffinity(pid_t tid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(tid, sizeof(set), &set) != 0) {
    return absl::NotFoundError("sched_getaffinity failed");
  }
  std::set<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.insert(cpu);
  }
  return cpus;
}

}  // namespace

Triggers::Triggers(StrictTriggers options)
    : Triggers(std::move(options), TaskName, TaskAffinity) {}

Triggers::Triggers(StrictTriggers options, NameOf name_of, AffinityOf affinity_of)
    : options_(std::move(options)),
      name_of_(std::move(name_of)),
      affinity_of_(std::move(affinity_of)) {}

bool Triggers::NameMatches(pid_t tid) const {
  if (options_.thread_globs.empty()) return false;
  auto name = name_of_(tid);
  if (!name.ok()) return false;
  for (const std::string& glob : options_.thread_globs) {
    if (fnmatch(glob.c_str(), name->c_str(), 0) == 0) return true;
  }
  return false;
}

bool Triggers::PinnedToAStrictCpu(pid_t tid) const {
  if (options_.cpus.empty()) return false;
  auto cpus = affinity_of_(tid);
  return cpus.ok() && cpus->size() == 1 && options_.cpus.count(*cpus->begin()) > 0;
}

std::vector<Triggers::Request> Triggers::Due(
    ThreadTable& threads, const timespec& now,
    const std::function<bool(const ThreadState&)>& skip) {
  std::vector<Request> due;
  for (auto& [tid, thread] : threads) {
    if (skip(thread)) continue;
    TriggerState& trigger = thread.trigger;
    if (trigger.triggered && thread.state == StrictState::kStrict && options_.for_seconds > 0 &&
        SecondsBetween(thread.window.since, now) >= options_.for_seconds) {
      due.push_back({tid, Move::kLeave});
      continue;
    }
    if (trigger.triggered || thread.state != StrictState::kNotStrict || !options_.any()) continue;
    if (!NameMatches(tid) && !PinnedToAStrictCpu(tid)) {
      // Renamed or re-pinned away (or gone): the delay starts again.
      trigger.matched = false;
      continue;
    }
    if (!trigger.matched) {
      trigger.matched = true;
      trigger.matched_at = now;
    }
    if (SecondsBetween(trigger.matched_at, now) < options_.after_seconds) continue;
    due.push_back({tid, Move::kEnter});
  }
  return due;
}

void Triggers::Requested(ThreadState& thread, Move move) {
  if (move == Move::kLeave) {
    thread.state = StrictState::kLeaveRequested;
    return;
  }
  thread.trigger.triggered = true;
  thread.state = StrictState::kEntryRequested;
}

}  // namespace dpsupervise
