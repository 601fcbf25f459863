// Monitor: strict entry from outside (name triggers, --strict-for windows)
// and attach mode (syscall stepping of strict threads, detaching).
#include <errno.h>
#include <fnmatch.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "absl/strings/str_cat.h"
#include "supervisor/seccomp/bpf_interpreter.h"
#include "supervisor/monitor/classify.h"
#include "supervisor/trace/inject.h"
#include "supervisor/monitor/monitor.h"
#include "supervisor/os/procfs.h"
#include "supervisor/trace/ptrace_util.h"
#include "supervisor/trace/regs.h"

namespace dpsupervise {

void Monitor::OnTick() {
  // Libraries loaded later (dlopen) are looked for on every tick.
  if (!pending_locations_.empty() && program_execed_ && !killing_) {
    absl::Status armed = ArmCodeLocations(threads_.LiveTid(options_.program_pid));
    if (!armed.ok()) {
      Say(absl::StrCat("dpsupervise: ", armed.message(), "\n"));
      pending_locations_.clear();
    }
  }
  const StrictTriggers& triggers = options_.triggers;
  for (auto& [tid, thread] : threads_) {
    if (killing_ || HandingOver(thread.tgid)) continue;
    if (thread.trigger.triggered && thread.state == StrictState::kStrict &&
        triggers.for_seconds > 0 && SecondsSince(thread.window.since) >= triggers.for_seconds) {
      if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) == 0) {
        thread.state = StrictState::kLeaveRequested;
      }
      continue;
    }
    if (thread.trigger.triggered || thread.strict() || triggers.thread_globs.empty()) continue;
    auto name = TaskName(tid);
    if (!name.ok()) continue;
    bool matches = false;
    for (const std::string& glob : triggers.thread_globs) {
      matches = matches || fnmatch(glob.c_str(), name->c_str(), 0) == 0;
    }
    if (!matches) {
      thread.trigger.name_matched = false;  // renamed away: the delay starts again
      continue;
    }
    if (!thread.trigger.name_matched) {
      thread.trigger.name_matched = true;
      clock_gettime(CLOCK_MONOTONIC, &thread.trigger.name_matched_at);
    }
    if (SecondsSince(thread.trigger.name_matched_at) < triggers.after_seconds) continue;
    if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) == 0) {
      thread.trigger.triggered = true;
      thread.state = StrictState::kEntryRequested;
    }
  }
}

absl::Status Monitor::HandleInterrupt(ThreadState& thread) {
  if (thread.state == StrictState::kLeaveRequested) {
    LeaveStrict(thread);
    Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid), ": strict mode left after --strict-for\n"));
    return Resume(thread);
  }
  thread.state = StrictState::kNotStrict;  // the request is served
  auto regs = GetRegs(thread.tid);
  if (!regs.ok()) return regs.status();
  if (InInterruptedSyscall(*regs)) {
    // The thread was blocked in the kernel: it restarts its syscall exactly
    // as it would have without us, and is strict from that syscall's exit.
    thread.state = StrictState::kEntryAtSyscallExit;
    return ContinueToSyscall(thread.tid);
  }
  return AsyncEnterStrict(thread);
}

absl::Status Monitor::AsyncEnterStrict(ThreadState& thread) {
  if (!options_.attach && !thread.syscalls.strict_filter_installed) {
    bool installed = false;
    absl::Status injected = InjectFromOutside(thread, &installed);
    // `thread` is gone when the injection handed a stop back: say nothing
    // more about it.
    if (!injected.ok() || !installed) return injected;
    thread.syscalls.strict_filter_installed = true;
    ++thread.syscalls.own_filters;
  }
  if (RunEntryChecks(thread) != 0) {
    thread.BecomeNotStrict();
    return Resume(thread);
  }
  thread.BecomeStrict(PR_DATAPLANE_STRICT);
  absl::Status armed = ArmPageFaults(thread);
  if (absl::IsFailedPrecondition(armed)) {
    thread.BecomeNotStrict();
    Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid), ": strict entry refused: ",
                     armed.message(), "\n"));
    return Resume(thread);
  }
  if (!armed.ok()) return armed;
  UnblockPageFaultTrap(thread);
  CheckForeignFilters(thread);
  BeginStrictWindow(thread);
  Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid), ": strict mode entered (",
                   options_.attach ? "attached, syscalls stepped" : "filter injected", ")\n"));
  return Resume(thread);
}

absl::Status Monitor::InjectFromOutside(ThreadState& thread, bool* installed) {
  const pid_t tid = thread.tid;
  const pid_t tgid = thread.tgid;
  auto refuse = [&](absl::string_view why) {
    Say(absl::StrCat("dpsupervise: ", TaskLabel(tid), ": cannot enter strict mode: ", why, "\n"));
    return Resume(thread);
  };
  std::optional<uint64_t>& syscall_instruction = threads_.Process(tgid).syscall_instruction;
  if (!syscall_instruction) {
    // Any thread of the process reads its memory, a zombie leader's too.
    auto address = FindSyscallInstruction(tid);
    if (absl::IsNotFound(address.status()) && !TaskName(tid).ok()) return address.status();
    if (!address.ok()) return refuse(address.status().message());
    syscall_instruction = *address;
  }
  auto outcome = InjectSeccompFilterAnywhere(tgid, tid, *syscall_instruction,
                                             *options_.strict_filter,
                                             &threads_.Process(tgid).scratch);
  if (absl::IsFailedPrecondition(outcome.status())) {
    threads_.Process(tgid).syscall_instruction.reset();  // look again next time
    return refuse(outcome.status().message());
  }
  if (absl::IsPermissionDenied(outcome.status())) return refuse(outcome.status().message());
  if (!outcome.ok()) return outcome.status();
  if (outcome->abandoned) return HandleWaitStatus(tid, outcome->wait_status);
  if (outcome->result < 0) {
    return refuse(absl::StrCat("installing the strict filter: ",
                               strerror(static_cast<int>(-outcome->result))));
  }
  *installed = true;
  return absl::OkStatus();
}

absl::Status Monitor::HandleSyscallStop(ThreadState& thread) {
  if (thread.state == StrictState::kEntryAtSyscallExit) {
    auto info = GetSyscallInfo(thread.tid);
    if (!info.ok()) return info.status();
    if (info->op != PTRACE_SYSCALL_INFO_EXIT) return ContinueToSyscall(thread.tid);
    thread.state = StrictState::kNotStrict;
    return AsyncEnterStrict(thread);
  }
  if ((options_.attach || thread.syscalls.stepped) && thread.strict() && !killing_) {
    return JudgeSyscall(thread);
  }
  thread.syscalls.judged = false;
  return Resume(thread);
}

absl::StatusOr<int> Monitor::DetachAll() {
  EndStrictWindows(0);
  RemoveAllBreakpoints();
  for (auto& [tid, thread] : threads_) ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
  while (!threads_.empty()) {
    int status = 0;
    pid_t tid = waitpid(-1, &status, __WALL);
    if (tid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      HandleExit(tid, status);
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    // A task born during the detach is auto-attached: detach it too.
    ThreadState& thread = threads_.Track(tid);
    const int signal = WSTOPSIG(status);
    const int deliver = ((status >> 16) == 0 && signal != (SIGTRAP | 0x80)) ? signal : 0;
    RestoreProgramSignalMask(thread);
    ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(deliver)));
    if (thread.window.ever_strict) finished_.push_back(thread.window.summary);
    threads_.Erase(tid);  // closes its page-fault event
  }
  if (options_.summary || options_.format == ReportFormat::kJson) WriteSummary(0);
  Say(absl::StrCat("dpsupervise: detached from process ", options_.program_pid,
                   "; it runs on as before\n"));
  return 0;
}

}  // namespace dpsupervise
