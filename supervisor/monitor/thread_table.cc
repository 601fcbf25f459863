#include "supervisor/monitor/thread_table.h"

#include <iterator>
#include <utility>

#include "supervisor/monitor/classify.h"
#include "supervisor/os/procfs.h"

namespace dpsupervise {

const char* StrictStateName(StrictState state) {
  switch (state) {
    case StrictState::kNotStrict:
      return "not strict";
    case StrictState::kEntryRequested:
      return "entry requested";
    case StrictState::kEntryAtSyscallExit:
      return "entry at syscall exit";
    case StrictState::kStrict:
      return "strict";
    case StrictState::kLeaveRequested:
      return "leave requested";
  }
  return "?";
}

bool FaultState::IsDue(uint64_t address) const {
  switch (due) {
    case DueFaultTrap::kNone:
      return false;
    case DueFaultTrap::kVsyscall:
      return InVsyscallPage(address);
    case DueFaultTrap::kFault:
      return address == due_address;
  }
  return false;
}

ThreadTable::ThreadTable() : ThreadTable(TaskTgid) {}

ThreadTable::ThreadTable(TgidOf tgid_of) : tgid_of_(std::move(tgid_of)) {}

ThreadState& ThreadTable::Track(pid_t tid) {
  auto [it, inserted] = threads_.try_emplace(tid);
  if (inserted) {
    it->second.tid = tid;
    auto tgid = tgid_of_(tid);
    it->second.tgid = tgid.ok() ? *tgid : tid;
  }
  return it->second;
}

ThreadState* ThreadTable::Find(pid_t tid) {
  auto it = threads_.find(tid);
  return it == threads_.end() ? nullptr : &it->second;
}

const ThreadState* ThreadTable::Find(pid_t tid) const {
  auto it = threads_.find(tid);
  return it == threads_.end() ? nullptr : &it->second;
}

void ThreadTable::Erase(pid_t tid) { threads_.erase(tid); }

pid_t ThreadTable::LiveTid(pid_t tgid) const {
  const ThreadState* leader = Find(tgid);
  if (leader != nullptr && !leader->exiting) return tgid;
  for (const auto& [tid, thread] : threads_) {
    if (thread.tgid == tgid && !thread.exiting) return tid;
  }
  return tgid;
}

bool ThreadTable::HasThreadsOf(pid_t tgid) const {
  for (const auto& [tid, thread] : threads_) {
    if (thread.tgid == tgid) return true;
  }
  return false;
}

std::set<pid_t> ThreadTable::HandedOverOrTraced() const {
  std::set<pid_t> tgids;
  for (const auto& [tid, thread] : threads_) tgids.insert(thread.tgid);
  for (const auto& [tgid, process] : processes_) {
    if (process.handover != DebuggerHandover::kNone) tgids.insert(tgid);
  }
  return tgids;
}

ThreadState& ThreadTable::ReplaceAfterExec(pid_t tgid, pid_t former_tid, ThreadState& stopped) {
  ThreadState survivor;
  auto former = threads_.find(former_tid);
  survivor = std::move(former != threads_.end() ? former->second : stopped);
  survivor.tid = tgid;
  survivor.tgid = tgid;
  survivor.window.summary.tid = tgid;
  for (auto it = threads_.begin(); it != threads_.end();) {
    it = it->second.tgid == tgid || it->first == former_tid ? threads_.erase(it) : std::next(it);
  }
  ProcessState& process = Process(tgid);
  const DebuggerHandover handover = process.handover;
  process = ProcessState();
  process.handover = handover;
  return threads_[tgid] = std::move(survivor);
}

ProcessState& ThreadTable::Process(pid_t tgid) { return processes_[tgid]; }

ProcessState* ThreadTable::FindProcess(pid_t tgid) {
  auto it = processes_.find(tgid);
  return it == processes_.end() ? nullptr : &it->second;
}

void ThreadTable::ForgetProcessIfGone(pid_t tgid) {
  auto it = processes_.find(tgid);
  if (it == processes_.end() || it->second.handover != DebuggerHandover::kNone) return;
  if (!HasThreadsOf(tgid)) processes_.erase(it);
}

}  // namespace dpsupervise
