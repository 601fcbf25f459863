#include "supervisor/monitor/ipi_sender_backtraces.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "supervisor/os/procfs.h"

namespace dpsupervise {
namespace {

// A sender's backtrace in a noise record: as deep as a violation's default.
constexpr int kMaxSenderFrames = 32;

// When the process `pid` started (field 22 of /proc/PID/stat), in clock
// ticks since boot: a pid reused by a new process has another.
absl::StatusOr<std::string> StartTime(pid_t pid) {
  auto fields = TaskStatFields(pid);
  if (!fields.ok()) return fields.status();
  constexpr size_t kStartTimeIndex = 22 - 3;
  if (fields->size() <= kStartTimeIndex) {
    return absl::InternalError(absl::StrCat("malformed /proc/", pid, "/stat"));
  }
  return (*fields)[kStartTimeIndex];
}

}  // namespace

void IpiSenderBacktraces::Fill(NoiseEvent* event) {
  if (event->kind != NoiseKind::kIpi || !event->has_sender) return;
  if (event->sender_in_interrupt) {
    event->sender_backtrace_error = "sent from interrupt context: no user task sent it";
    return;
  }
  if (event->sender_stack == nullptr) {
    event->sender_backtrace_error = "no user-space state at the send (a kernel thread)";
    return;
  }
  auto symbolizer = SymbolizerFor(event->sender);
  if (!symbolizer.ok()) {
    event->sender_backtrace_error = std::string(symbolizer.status().message());
    return;
  }
  const UserStackSample& sample = *event->sender_stack;
  auto frames = (*symbolizer)->BacktraceOfSample(sample.regs, sample.stack, sample.callchain,
                                                 kMaxSenderFrames);
  if (!frames.ok()) {
    event->sender_backtrace_error = std::string(frames.status().message());
    return;
  }
  event->sender_backtrace = std::move(*frames);
  const bool any_module = std::any_of(event->sender_backtrace.begin(), event->sender_backtrace.end(),
                                      [](const Frame& frame) { return !frame.module.empty(); });
  if (!any_module) {
    // Its pcs are still worth having (addr2line, a core file).
    event->sender_backtrace_error = absl::StrCat(
        "process ", event->sender.pid,
        " had no module at these addresses when symbolized (it exited or exec'd since)");
  }
}

absl::StatusOr<Symbolizer*> IpiSenderBacktraces::SymbolizerFor(const TaskIdentity& sender) {
  auto known = processes_.find(sender.pid);
  if (known != processes_.end() && known->second.checked_in_batch == batch_) {
    return known->second.symbolizer.get();
  }
  auto start_time = StartTime(sender.pid);
  if (!start_time.ok()) {
    if (known != processes_.end()) processes_.erase(known);
    return absl::NotFoundError(absl::StrCat("process ", sender.pid,
                                            " exited before its stack was symbolized"));
  }
  if (known != processes_.end() && known->second.start_time == *start_time) {
    known->second.checked_in_batch = batch_;
    return known->second.symbolizer.get();
  }
  if (known == processes_.end() && processes_.size() >= kMaxProcesses) processes_.clear();
  // Through the process's leader, which usually outlives the thread that
  // sent (the session is kept for later sends); through the sender thread
  // when the leader has exited while its other threads run on: a zombie
  // leader's /proc entries show no address space (Symbolizer::Create).
  auto leader_state = TaskRunState(sender.pid);
  const bool leader_gone = !leader_state.ok() || *leader_state == 'Z';
  auto symbolizer = Symbolizer::Create(leader_gone ? sender.tid : sender.pid);
  if (!symbolizer.ok()) {
    return absl::Status(symbolizer.status().code(),
                        absl::StrCat("cannot read process ", sender.pid, "'s modules: ",
                                     symbolizer.status().message()));
  }
  Process& process = processes_[sender.pid];
  process.symbolizer = std::move(*symbolizer);
  process.start_time = *start_time;
  process.checked_in_batch = batch_;
  return process.symbolizer.get();
}

}  // namespace dpsupervise
