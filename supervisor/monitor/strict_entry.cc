// Monitor: entering and leaving strict mode (the dataplane prctls).
#include <errno.h>
#include <string.h>

#include "absl/strings/str_cat.h"
#include "lib/dataplane.h"
#include "supervisor/trace/inject.h"
#include "supervisor/monitor/monitor.h"
#include "supervisor/noise/preflight.h"
#include "supervisor/os/procfs.h"
#include "supervisor/noise/quiesce_flush.h"
#include "supervisor/trace/ptrace_util.h"

namespace dpsupervise {

absl::Status Monitor::HandleDataplanePrctl(ThreadState& thread, const user_regs_struct& regs) {
  const uint32_t option = static_cast<uint32_t>(regs.rdi);
  if (option == PR_GET_DATAPLANE) {
    return ReturnFromSyscall(thread, regs, static_cast<long>(thread.dataplane_flags));
  }
  // PR_SET_DATAPLANE.
  const uint64_t flags = regs.rsi;
  const uint64_t signal = PR_DATAPLANE_SIG_OF(flags);
  if ((flags & ~static_cast<uint64_t>(PR_DATAPLANE_VALID_MASK)) != 0 || signal >= _NSIG) {
    return ReturnFromSyscall(thread, regs, -EINVAL);
  }
  if ((flags & PR_DATAPLANE_STRICT) == 0) {
    LeaveStrict(thread);
    thread.BecomeNotStrict(static_cast<uint32_t>(flags));
    return ReturnFromSyscall(thread, regs, 0);
  }
  auto entry = EnterStrict(thread, regs, static_cast<uint32_t>(flags));
  if (!entry.ok() || entry->abandoned) return entry.status();
  if (!entry->injected) return ReturnFromSyscall(thread, regs, entry->result);
  // The thread sits at the injected syscall's exit: restore every register
  // and give the prctl its return value.
  user_regs_struct restored = regs;
  restored.rax = static_cast<unsigned long long>(entry->result);
  absl::Status set = SetRegs(thread.tid, restored);
  if (!set.ok()) return set;
  return Resume(thread);
}

absl::StatusOr<Monitor::StrictEntry> Monitor::EnterStrict(ThreadState& thread,
                                                          const user_regs_struct& regs,
                                                          uint32_t flags) {
  StrictEntry entry;
  if (!thread.syscalls.strict_filter_installed) {
    auto outcome = InjectSeccompFilter(thread.tgid, thread.tid, regs, *options_.strict_filter,
                                       &threads_.Process(thread.tgid).scratch);
    if (absl::IsPermissionDenied(outcome.status())) {
      // Nothing was changed: the program goes on, told it is not strict.
      Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid), ": strict entry refused: ",
                       outcome.status().message(), "\n"));
      entry.result = -EPERM;
      return entry;
    }
    if (!outcome.ok()) return outcome.status();
    if (outcome->abandoned) {
      // Killed, exiting, or its tid taken over by another thread's exec:
      // that stop is the monitor's to handle, and the entry never happened.
      entry.abandoned = true;
      absl::Status handled = HandleWaitStatus(thread.tid, outcome->wait_status);
      if (!handled.ok()) return handled;
      return entry;
    }
    entry.injected = true;
    if (!outcome->refusal.empty()) {
      Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid), ": strict entry refused: ",
                       outcome->refusal, "\n"));
      entry.result = outcome->result;
      return entry;
    }
    if (outcome->result < 0) {
      Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid),
                       ": cannot enter strict mode: installing the strict filter: ",
                       strerror(static_cast<int>(-outcome->result)), "\n"));
      entry.result = outcome->result;
      return entry;
    }
    thread.syscalls.strict_filter_installed = true;
    ++thread.syscalls.own_filters;
  }
  entry.result = RunEntryChecks(thread);
  if (entry.result != 0) return entry;
  const uint32_t previous = thread.dataplane_flags;
  const StrictState previous_state = thread.state;
  thread.BecomeStrict(flags);
  absl::Status armed = ArmPageFaults(thread);
  if (absl::IsFailedPrecondition(armed)) {
    // --preflight=enforce and no page-fault detection: refuse the entry.
    thread.dataplane_flags = previous;
    thread.state = previous_state;
    Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid),
                                               ": strict entry refused: ", armed.message(), "\n"));
    entry.result = -EPERM;
    return entry;
  }
  if (!armed.ok()) return armed;
  UnblockPageFaultTrap(thread);
  CheckForeignFilters(thread);
  if (flags & PR_DATAPLANE_QUIESCE) {
    // Done while the thread is still stopped in its prctl: the flush runs
    // work on every CPU, the strict thread's included.
    absl::Status flushed = FlushKernelWork();
    if (!flushed.ok()) {
      Say(
          absl::StrCat("dpsupervise: ", TaskLabel(thread.tid), ": quiesce: ", flushed.message(), "\n"));
    }
  }
  if ((previous & PR_DATAPLANE_STRICT) == 0) BeginStrictWindow(thread);
  return entry;
}

long Monitor::RunEntryChecks(ThreadState& thread) {
  if (options_.preflight == PreflightMode::kOff) return 0;
  const bool enforce = options_.preflight == PreflightMode::kEnforce;
  // Warnings are said once per thread; enforcement judges every entry.
  if (!enforce && thread.preflight_reported) return 0;
  std::vector<PreflightFinding> findings = RunPreflight(thread.tgid, thread.tid);
  if (enforce) {
    absl::Status verdict = CheckPreflight(findings, true);
    if (!verdict.ok()) {
      Say(absl::StrCat(
          "dpsupervise: ", TaskLabel(thread.tid), ": strict entry refused (--preflight=enforce): ",
          verdict.message(), "\n"));
      return -EPERM;
    }
    return 0;
  }
  thread.preflight_reported = true;
  const std::string text = FormatFindings(findings, TaskLabel(thread.tid));
  if (!text.empty()) Say(text);
  return 0;
}

absl::Status Monitor::ArmPageFaults(ThreadState& thread) {
  if (thread.faults.detector.open()) return thread.faults.detector.Enable();
  auto detector = PageFaultDetector::Open(thread.tid);
  if (detector.ok()) {
    thread.faults.detector = std::move(*detector);
    return absl::OkStatus();
  }
  if (options_.preflight == PreflightMode::kEnforce) {
    return absl::FailedPreconditionError(
        absl::StrCat("page faults cannot be detected: ", detector.status().message()));
  }
  if (!warned_no_page_faults_) {
    warned_no_page_faults_ = true;
    Say(absl::StrCat(
        "dpsupervise: ", TaskLabel(thread.tid), ": page faults of strict threads will not be detected: ",
        detector.status().message(), "; detecting syscalls, traps and signals only\n"));
  }
  return absl::OkStatus();
}

void Monitor::LeaveStrict(ThreadState& thread) {
  if (thread.strict()) {
    ReportUnseenPageFaults(thread);
    EndStrictWindow(thread);
  }
  thread.BecomeNotStrict();
  // Disarming can only fail if the thread is gone; its exit is handled then.
  (void)thread.faults.detector.Disable();
  RestoreProgramSignalMask(thread);
}

}  // namespace dpsupervise
