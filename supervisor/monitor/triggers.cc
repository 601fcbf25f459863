#include "supervisor/monitor/triggers.h"

#include <fnmatch.h>

#include <utility>

#include "supervisor/os/procfs.h"

namespace dpsupervise {
namespace {

double SecondsBetween(const timespec& from, const timespec& to) {
  return (to.tv_sec - from.tv_sec) + (to.tv_nsec - from.tv_nsec) / 1e9;
}

}  // namespace

Triggers::Triggers(StrictTriggers options) : Triggers(std::move(options), TaskName) {}

Triggers::Triggers(StrictTriggers options, NameOf name_of)
    : options_(std::move(options)), name_of_(std::move(name_of)) {}

bool Triggers::NameMatches(const std::string& name) const {
  for (const std::string& glob : options_.thread_globs) {
    if (fnmatch(glob.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
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
    auto name = name_of_(tid);
    if (!name.ok()) continue;
    if (!NameMatches(*name)) {
      trigger.name_matched = false;  // renamed away: the delay starts again
      continue;
    }
    if (!trigger.name_matched) {
      trigger.name_matched = true;
      trigger.name_matched_at = now;
    }
    if (SecondsBetween(trigger.name_matched_at, now) < options_.after_seconds) continue;
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
