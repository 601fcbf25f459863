// Monitor: syscalls of traced threads, judged by dpsupervise's own filters
// (never by the SECCOMP_RET_DATA the kernel reports, which the program's own
// filters can set), and what keeps a strict thread's kernel entries visible:
// stepping its syscalls when a filter not ours could hide them, and keeping
// the page-fault SIGTRAP unblocked.
#include <errno.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "absl/strings/str_cat.h"
#include "supervisor/seccomp/bpf_interpreter.h"
#include "supervisor/monitor/classify.h"
#include "supervisor/seccomp/filter.h"
#include "supervisor/monitor/monitor.h"
#include "supervisor/os/procfs.h"
#include "supervisor/trace/ptrace_util.h"

namespace dpsupervise {
namespace {

constexpr uint32_t kAuditArchX86_64 = 0xc000003e;
constexpr uint64_t kSigtrapBit = uint64_t{1} << (SIGTRAP - 1);
constexpr uint64_t kUnblockable = (uint64_t{1} << (SIGKILL - 1)) | (uint64_t{1} << (SIGSTOP - 1));

// The syscall a thread is stopped at, as seccomp sees it: from a seccomp
// stop or a syscall-entry stop.
absl::StatusOr<seccomp_data> SyscallAtStop(pid_t tid) {
  auto info = GetSyscallInfo(tid);
  if (!info.ok()) return info.status();
  seccomp_data data{};
  data.arch = info->arch;
  data.instruction_pointer = info->instruction_pointer;
  if (info->op == PTRACE_SYSCALL_INFO_SECCOMP) {
    data.nr = static_cast<int>(info->seccomp.nr);
    for (int i = 0; i < 6; ++i) data.args[i] = info->seccomp.args[i];
  } else if (info->op == PTRACE_SYSCALL_INFO_ENTRY) {
    data.nr = static_cast<int>(info->entry.nr);
    for (int i = 0; i < 6; ++i) data.args[i] = info->entry.args[i];
  } else {
    // A SIGKILL woke it from its stop: it is going (NotFound, as a task
    // that has gone), its exit will be reported.
    return absl::NotFoundError(absl::StrCat("thread ", tid, " is no longer at a syscall entry"));
  }
  return data;
}

bool IsNative(const seccomp_data& data, long nr) {
  return data.arch == kAuditArchX86_64 && data.nr == nr;
}

// Can `program` (a filter not ours) make the kernel act on a syscall before
// a SECCOMP_RET_TRACE of ours is seen? Those actions outrank TRACE; a
// return of the accumulator or index register is judged as if it could.
bool CanHideSyscalls(const std::vector<sock_filter>& program) {
  for (const sock_filter& insn : program) {
    if (BPF_CLASS(insn.code) != BPF_RET) continue;
    if (BPF_RVAL(insn.code) != BPF_K) return true;
    switch (insn.k & SECCOMP_RET_ACTION_FULL) {
      case SECCOMP_RET_ALLOW:
      case SECCOMP_RET_LOG:
      case SECCOMP_RET_TRACE:
        break;
      default:
        return true;
    }
  }
  return false;
}

bool SameProgram(const std::vector<sock_filter>& a, const BpfProgram* b) {
  return b != nullptr && a.size() == b->instructions.size() &&
         memcmp(a.data(), b->instructions.data(), a.size() * sizeof(sock_filter)) == 0;
}

}  // namespace

absl::StatusOr<Monitor::OurVerdicts> Monitor::JudgeByOurFilters(const ThreadState& thread,
                                                                const seccomp_data& data) {
  OurVerdicts verdicts;
  if (options_.base_filter != nullptr) {
    auto base = RunSeccompFilter(*options_.base_filter, data);
    if (!base.ok()) return base.status();
    verdicts.base = *base;
  }
  if (thread.syscalls.strict_filter_installed || thread.strict()) {
    auto strict = RunSeccompFilter(*options_.strict_filter, data);
    if (!strict.ok()) return strict.status();
    verdicts.strict = *strict;
  }
  return verdicts;
}

absl::StatusOr<Monitor::OurVerdicts> Monitor::JudgeStoppedSyscall(ThreadState& thread,
                                                                  const seccomp_data& data) {
  auto verdicts = JudgeByOurFilters(thread, data);
  if (!verdicts.ok()) return verdicts.status();
  thread.syscalls.current = data;
  thread.syscalls.base_verdict = verdicts->base;
  return verdicts;
}

absl::Status Monitor::HandleSeccompStop(ThreadState& thread) {
  if (Killing(thread)) return Resume(thread);  // nothing runs: SIGKILL is on its way
  auto data = SyscallAtStop(thread.tid);
  if (!data.ok()) return data.status();
  auto regs = GetRegs(thread.tid);
  if (!regs.ok()) return regs.status();
  const bool judged = thread.syscalls.judged;
  thread.syscalls.judged = false;
  auto verdicts = JudgeStoppedSyscall(thread, *data);
  if (!verdicts.ok()) return verdicts.status();
  const std::optional<TraceCookie> base = TraceCookieOf(verdicts->base);
  const std::optional<TraceCookie> strict = TraceCookieOf(verdicts->strict);
  if (base == TraceCookie::kDataplanePrctl) return HandleDataplanePrctl(thread, *regs);
  if (thread.strict() && !judged &&
      (strict == TraceCookie::kViolation || strict == TraceCookie::kForeignArch)) {
    return ReportSyscall(thread, *regs);
  }
  if (!base && !strict) {
    // Traced by a filter of the program's own only: with no tracer, the
    // kernel fails such a syscall with ENOSYS.
    return ReturnFromSyscall(thread, *regs, -ENOSYS);
  }
  return LetSyscallRun(thread, *regs);
}

absl::Status Monitor::JudgeSyscall(ThreadState& thread) {
  auto data = SyscallAtStop(thread.tid);
  if (!data.ok()) {
    // A syscall-exit stop: the syscall judged at its entry is over.
    thread.syscalls.judged = false;
    return Resume(thread);
  }
  auto verdicts = JudgeStoppedSyscall(thread, *data);
  if (!verdicts.ok()) return verdicts.status();
  auto regs = GetRegs(thread.tid);
  if (!regs.ok()) return regs.status();
  // Its seccomp stop, if the filters give one, comes next for this syscall.
  thread.syscalls.judged = true;
  const uint32_t strict = verdicts->strict;
  const std::optional<TraceCookie> cookie = TraceCookieOf(strict);
  if ((strict & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO) {
    return ReturnFromSyscall(thread, *regs, -static_cast<long>(strict & SECCOMP_RET_DATA));
  }
  if (cookie == TraceCookie::kViolation || cookie == TraceCookie::kForeignArch) {
    return ReportSyscall(thread, *regs);
  }
  // The dataplane prctls and the base filter's other cases are handled at
  // the seccomp stop that follows (launch mode).
  return LetSyscallRun(thread, *regs);
}

absl::Status Monitor::ReportSyscall(ThreadState& thread, const user_regs_struct& regs) {
  Violation violation = NewViolation(ViolationKind::kSyscall, thread.tgid, thread.tid, regs);
  DescribeSyscall(thread.tid, regs, thread.syscalls.current, &violation.syscall);
  if (InVsyscallPage(regs.rip)) {
    violation.note = "called through the vsyscall page (the kernel emulates it)";
    thread.faults.due = DueFaultTrap::kVsyscall;
  }
  return HandleViolation(thread, std::move(violation), 0);
}

absl::Status Monitor::LetSyscallRun(ThreadState& thread, const user_regs_struct& regs) {
  const seccomp_data& data = thread.syscalls.current;
  switch (TraceCookieOf(thread.syscalls.base_verdict).value_or(TraceCookie::kViolation)) {
    case TraceCookie::kClone3:
      // BPF cannot read clone3's flags (CLONE_UNTRACED could hide in them):
      // answer ENOSYS so the C library falls back to clone, as sandbox2 does.
      return ReturnFromSyscall(thread, regs, -ENOSYS);
    case TraceCookie::kCloneUntraced: {
      // CLONE_UNTRACED would start a task we cannot see: drop the flag.
      user_regs_struct changed = regs;
      changed.rdi &= ~static_cast<unsigned long long>(CLONE_UNTRACED);
      absl::Status set = SetRegs(thread.tid, changed);
      if (!set.ok()) return set;
      return RunStoppedSyscall(thread);
    }
    case TraceCookie::kFilterChange:
      if (thread.strict()) {
        StepSyscalls(thread, "it installs a seccomp filter, which could hide its syscalls");
      }
      return RunStoppedSyscall(thread);
    default:
      break;
  }
  if (thread.strict() && IsNative(data, SYS_rt_sigprocmask)) return EmulateSignalMask(thread, regs);
  return RunStoppedSyscall(thread);
}

void Monitor::StepSyscalls(ThreadState& thread, absl::string_view why) {
  // Dispatch stops every syscall before any filter runs.
  if (thread.syscalls.stepped || options_.attach || thread.syscalls.dispatched) return;
  thread.syscalls.stepped = true;
  Say(absl::StrCat("dpsupervise: ", TaskLabel(thread.tid), ": ", why,
                   "; while it is strict, its syscalls stop at their entry (PTRACE_SYSCALL), "
                   "before any seccomp filter runs\n"));
}

void Monitor::CheckForeignFilters(ThreadState& thread) {
  if (options_.attach || thread.syscalls.stepped || thread.syscalls.dispatched) return;
  auto total = TaskStatusField(thread.tid, "Seccomp_filters");
  if (!total.ok()) {
    StepSyscalls(thread, "the kernel does not say how many seccomp filters it has");
    return;
  }
  if (*total <= thread.syscalls.own_filters) return;
  // Which of them are ours is told by their code; the others are judged by
  // what they can return. PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN.
  int foreign = 0;
  bool can_hide = false;
  int ours_left = thread.syscalls.own_filters;
  for (long long index = 0; index < *total; ++index) {
    auto program = GetSeccompFilter(thread.tid, static_cast<unsigned long>(index));
    if (!program.ok()) {
      StepSyscalls(thread,
                   absl::StrCat("it has ", *total - thread.syscalls.own_filters,
                                " seccomp filter(s) not dpsupervise's that cannot be read (",
                                program.status().message(), ")"));
      return;
    }
    if (ours_left > 0 && (SameProgram(*program, options_.base_filter) ||
                          SameProgram(*program, options_.strict_filter))) {
      --ours_left;
      continue;
    }
    ++foreign;
    can_hide = can_hide || CanHideSyscalls(*program);
  }
  if (can_hide) {
    StepSyscalls(thread, absl::StrCat("it has ", foreign,
                                      " seccomp filter(s) not dpsupervise's that can fail, kill "
                                      "or trap syscalls before the strict filter sees them"));
  }
}

absl::Status Monitor::EmulateSignalMask(ThreadState& thread, const user_regs_struct& regs) {
  // rt_sigprocmask(how, set, oldset, sigsetsize), as the kernel runs it, on
  // the program's view of the mask; the kernel's keeps SIGTRAP unblocked.
  const seccomp_data& data = thread.syscalls.current;
  const int how = static_cast<int>(data.args[0]);
  const uint64_t set_address = data.args[1];
  const uint64_t oldset_address = data.args[2];
  if (data.args[3] != sizeof(uint64_t)) return ReturnFromSyscall(thread, regs, -EINVAL);
  auto kernel_mask = GetSigMask(thread.tid);
  if (!kernel_mask.ok()) return kernel_mask.status();
  const uint64_t old_mask = *kernel_mask | (thread.faults.program_blocks_sigtrap ? kSigtrapBit : 0);
  uint64_t new_mask = old_mask;
  if (set_address != 0) {
    auto bytes = ReadMemory(thread.tid, set_address, sizeof(uint64_t));
    if (!bytes.ok() || bytes->size() != sizeof(uint64_t)) {
      return ReturnFromSyscall(thread, regs, -EFAULT);
    }
    uint64_t set;
    memcpy(&set, bytes->data(), sizeof(set));
    switch (how) {
      case SIG_BLOCK:
        new_mask = old_mask | set;
        break;
      case SIG_UNBLOCK:
        new_mask = old_mask & ~set;
        break;
      case SIG_SETMASK:
        new_mask = set;
        break;
      default:
        return ReturnFromSyscall(thread, regs, -EINVAL);
    }
    new_mask &= ~kUnblockable;
  }
  thread.faults.program_blocks_sigtrap = (new_mask & kSigtrapBit) != 0;
  absl::Status set = SetSigMask(thread.tid, new_mask & ~kSigtrapBit);
  if (!set.ok()) return set;
  if (oldset_address != 0 &&
      !WriteMemory(thread.tid, oldset_address, &old_mask, sizeof(old_mask)).ok()) {
    return ReturnFromSyscall(thread, regs, -EFAULT);  // as the kernel: mask changed
  }
  return ReturnFromSyscall(thread, regs, 0);
}

void Monitor::UnblockPageFaultTrap(ThreadState& thread) {
  if (!thread.faults.detector.armed()) return;
  auto mask = GetSigMask(thread.tid);
  if (!mask.ok() || (*mask & kSigtrapBit) == 0) return;
  // Only set once SetSigMask worked: a thread that is gone needs nothing.
  if (SetSigMask(thread.tid, *mask & ~kSigtrapBit).ok()) thread.faults.program_blocks_sigtrap = true;
}

void Monitor::RestoreProgramSignalMask(ThreadState& thread) {
  if (!thread.faults.program_blocks_sigtrap) return;
  thread.faults.program_blocks_sigtrap = false;
  auto mask = GetSigMask(thread.tid);
  if (mask.ok()) (void)SetSigMask(thread.tid, *mask | kSigtrapBit);
}

void Monitor::ReportUnseenPageFaults(ThreadState& thread) {
  if (!thread.faults.detector.open()) return;
  auto count = thread.faults.detector.Count();
  // The fault of a vsyscall or trap just reported has its SIGTRAP still on
  // the way.
  const uint64_t in_flight = thread.faults.due != DueFaultTrap::kNone ? 1 : 0;
  if (!count.ok() || *count <= thread.faults.seen + in_flight) return;
  const uint64_t unseen = *count - thread.faults.seen - in_flight;
  thread.faults.seen = *count - in_flight;
  auto regs = GetRegs(thread.tid);
  if (!regs.ok()) return;
  Violation violation = NewViolation(ViolationKind::kPageFault, thread.tgid, thread.tid, *regs);
  violation.signal.signal_name = "SIGTRAP";
  violation.signal.signo = SIGTRAP;
  violation.note = absl::StrCat(
      unseen, " page fault(s) counted but not reported one by one: the thread had SIGTRAP "
              "blocked (a signal handler's sa_mask, or a mask set outside dpsupervise's view); "
              "addresses unknown, pc is where the thread is now");
  const Action action = RecordViolation(thread, &violation, static_cast<long long>(unseen));
  // The faults are over: only kill and kill-all can still act on them.
  const bool kills = action.kind == ActionKind::kKill || action.kind == ActionKind::kKillAll;
  if (!kills) {
    violation.action = "log";
    violation.action_detail = "log (found after the fact: reported only)";
  }
  notify_.EventViolation(violation);
  if (action.kind == ActionKind::kKill) KillProcess(thread.tgid);
  if (action.kind == ActionKind::kKillAll) KillProgram();
}

}  // namespace dpsupervise
