// Monitor: entering and leaving strict mode, from the thread's own prctl or
// from outside it (triggers, --enter-at, attach mode).
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>

#include "absl/strings/str_cat.h"
#include "lib/dataplane.h"
#include "supervisor/monitor/monitor.h"
#include "supervisor/noise/preflight.h"
#include "supervisor/noise/quiesce_flush.h"
#include "supervisor/os/procfs.h"
#include "supervisor/trace/inject.h"
#include "supervisor/trace/ptrace_util.h"
#include "supervisor/trace/regs.h"

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
  auto entry = EnterStrictFromPrctl(thread, regs, static_cast<uint32_t>(flags));
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

void Monitor::SayEntryRefused(const ThreadState& thread, absl::string_view why) {
  Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid), ": strict entry refused: ", why,
                   "\n"));
  notify_.EventStrictEntryRefused(thread.tgid, thread.tid);
}

absl::StatusOr<Monitor::PrctlEntry> Monitor::EnterStrictFromPrctl(ThreadState& thread,
                                                                  const user_regs_struct& regs,
                                                                  uint32_t flags) {
  PrctlEntry entry;
  auto mechanism = ChooseMechanism(thread);
  if (!mechanism.ok()) return mechanism.status();
  if (!mechanism->refusal.empty()) {
    SayEntryRefused(thread, mechanism->refusal);
    entry.result = -EPERM;
    return entry;
  }
  if (!mechanism->dispatch && !thread.syscalls.strict_filter_installed) {
    auto outcome = InjectSeccompFilter(thread.tgid, thread.tid, regs, *options_.strict_filter,
                                       &threads_.Process(thread.tgid).scratch);
    if (absl::IsPermissionDenied(outcome.status())) {
      // Nothing was changed: the program goes on, told it is not strict.
      SayEntryRefused(thread, outcome.status().message());
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
      SayEntryRefused(thread, outcome->refusal);
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
  auto started = StartStrict(thread, flags, mechanism->dispatch);
  if (!started.ok()) return started.status();
  entry.result = *started;
  return entry;
}

absl::StatusOr<long> Monitor::StartStrict(ThreadState& thread, uint32_t flags, bool dispatch) {
  long refused = RunEntryChecks(thread);
  if (refused != 0) return refused;
  const bool was_strict = thread.strict();
  const uint32_t previous_flags = thread.dataplane_flags;
  const StrictState previous_state = thread.state;
  thread.BecomeStrict(flags);
  absl::Status armed = ArmPageFaults(thread);
  if (absl::IsFailedPrecondition(armed)) {
    // --preflight=enforce and no page-fault detection: refuse the entry.
    thread.dataplane_flags = previous_flags;
    thread.state = previous_state;
    SayEntryRefused(thread, armed.message());
    return -EPERM;
  }
  if (!armed.ok()) return armed;
  if (dispatch) {
    // From here on every syscall of the thread is a SIGSYS, whatever
    // filters it has: none can hide one (CheckForeignFilters).
    absl::Status on = SwitchDispatchOn(thread);
    if (!on.ok()) return on;
  }
  UnblockPageFaultTrap(thread);
  CheckForeignFilters(thread);
  if (flags & PR_DATAPLANE_QUIESCE) {
    // Done while the thread is still stopped: the flush runs work on every
    // CPU, the strict thread's included.
    absl::Status flushed = FlushKernelWork();
    if (!flushed.ok()) {
      Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid), ": quiesce: ", flushed.message(),
                       "\n"));
    }
  }
  if (!was_strict) {
    windows_.Begin(thread);
    notify_.EventStrictEntered(thread.tgid, thread.tid);
  }
  return 0;
}

long Monitor::RunEntryChecks(ThreadState& thread) {
  if (options_.preflight == PreflightMode::kOff) return 0;
  const bool enforce = options_.preflight == PreflightMode::kEnforce;
  // Warnings are said once per thread; enforcement judges every entry.
  if (!enforce && thread.preflight_reported) return 0;
  if (enforce) {
    std::vector<PreflightFinding> findings = RunPreflight(thread.tgid, thread.tid);
    absl::Status verdict = CheckPreflight(findings, true);
    if (!verdict.ok()) {
      Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid),
                       ": strict entry refused (--preflight=enforce): ", verdict.message(), "\n"));
      notify_.EventStrictEntryRefused(thread.tgid, thread.tid);
      return -PreflightRefusalErrno(verdict);
    }
    return 0;
  }
  thread.preflight_reported = true;
  entry_checks_due_.push_back(thread.tid);
  return 0;
}

void Monitor::RunDeferredEntryChecks() {
  for (pid_t tid : entry_checks_due_) {
    const ThreadState* thread = threads_.Find(tid);
    if (thread == nullptr) continue;
    const std::string text =
        FormatFindings(RunPreflight(thread->tgid, thread->tid), TaskLabel(thread->tid));
    if (!text.empty()) Say(text);
  }
  entry_checks_due_.clear();
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
    Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid),
                     ": page faults of strict threads will not be detected: ",
                     detector.status().message(), "; detecting syscalls, traps and signals only\n"));
  }
  return absl::OkStatus();
}

void Monitor::PrepareFaultDetector(ThreadState& thread) {
  if (thread.faults.detector.open()) return;
  // One descriptor per thread: a program with more threads than half our
  // descriptor limit keeps the rest for /proc reads and the reports; its
  // further threads open theirs at entry, as without this.
  if (threads_.size() > open_file_budget_) return;
  auto detector = PageFaultDetector::Open(thread.tid, /*enabled=*/false);
  if (detector.ok()) thread.faults.detector = std::move(*detector);
}

void Monitor::LeaveStrict(ThreadState& thread) {
  // Native cost again for its syscalls: the point of dispatch.
  SwitchDispatchOff(thread);
  if (thread.strict()) {
    ReportUnseenPageFaults(thread);
    windows_.End(thread);
    notify_.EventStrictLeft(thread.tgid, thread.tid);
  }
  thread.BecomeNotStrict();
  // Interruptions of the window just over are noise now, not acted on.
  thread.pending_interruptions.clear();
  // Disarming can only fail if the thread is gone; its exit is handled then.
  (void)thread.faults.detector.Disable();
  RestoreProgramSignalMask(thread);
}

absl::Status Monitor::HandleInterrupt(ThreadState& thread) {
  if (thread.state == StrictState::kLeaveRequested) {
    LeaveStrict(thread);
    Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid),
                     ": strict mode left after --strict-for\n"));
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
  return EnterStrictFromOutside(thread);
}

absl::Status Monitor::EnterStrictFromOutside(ThreadState& thread) {
  auto mechanism = ChooseMechanism(thread);
  if (!mechanism.ok()) return mechanism.status();
  if (!mechanism->refusal.empty()) {
    Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid), ": cannot enter strict mode: ",
                     mechanism->refusal, "\n"));
    return Resume(thread);
  }
  if (!mechanism->dispatch && !options_.attach && !thread.syscalls.strict_filter_installed) {
    bool installed = false;
    absl::Status injected = InjectFromOutside(thread, &installed);
    // `thread` is gone when the injection handed a stop back: say nothing
    // more about it.
    if (!injected.ok() || !installed) return injected;
    thread.syscalls.strict_filter_installed = true;
    ++thread.syscalls.own_filters;
  }
  auto started = StartStrict(thread, PR_DATAPLANE_STRICT, mechanism->dispatch);
  if (!started.ok()) return started.status();
  if (*started == 0) {
    const char* how = mechanism->dispatch ? (options_.attach ? "attached, syscall user dispatch"
                                                             : "syscall user dispatch")
                      : options_.attach   ? "attached, syscalls stepped"
                                          : "filter injected";
    Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid), ": strict mode entered (", how,
                     ")\n"));
  }
  return Resume(thread);
}

absl::Status Monitor::InjectFromOutside(ThreadState& thread, bool* installed) {
  const pid_t tid = thread.tid;
  const pid_t tgid = thread.tgid;
  auto refuse = [&](absl::string_view why) {
    Say(absl::StrCat("dpsupervise: ", TaskLabel(tid), ": cannot enter strict mode: ", why, "\n"));
    return Resume(thread);
  };
  ProcessState& process = threads_.Process(tgid);
  if (!process.syscall_instruction) {
    // Any thread of the process reads its memory, a zombie leader's too.
    auto address = FindSyscallInstruction(tid);
    if (absl::IsNotFound(address.status()) && !TaskName(tid).ok()) return address.status();
    if (!address.ok()) return refuse(address.status().message());
    process.syscall_instruction = *address;
  }
  auto outcome = InjectSeccompFilterAnywhere(tgid, tid, *process.syscall_instruction,
                                             *options_.strict_filter, &process.scratch);
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
  if (thread.syscalls.reexecuting) return HandleReexecutionStop(thread);
  if (thread.state == StrictState::kEntryAtSyscallExit) {
    auto info = GetSyscallInfo(thread.tid);
    if (!info.ok()) return info.status();
    if (info->op != PTRACE_SYSCALL_INFO_EXIT) return ContinueToSyscall(thread.tid);
    thread.state = StrictState::kNotStrict;
    return EnterStrictFromOutside(thread);
  }
  if ((options_.attach || thread.syscalls.stepped) && thread.strict() &&
      !thread.syscalls.dispatched && !Killing(thread)) {
    return JudgeSyscall(thread);
  }
  thread.syscalls.judged = false;
  return Resume(thread);
}

}  // namespace dpsupervise
