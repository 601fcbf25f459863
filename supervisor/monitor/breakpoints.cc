// Monitor: --enter-at and --leave-at, software breakpoints (int3) at the
// functions the user named.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "supervisor/monitor/monitor.h"
#include "supervisor/os/procfs.h"
#include "supervisor/trace/ptrace_util.h"
#include "supervisor/os/send_signal.h"

namespace dpsupervise {
namespace {

constexpr uint8_t kInt3 = 0xcc;
constexpr uint64_t kAtEntry = 9;  // auxv: the program's entry point

// The breakpoint bytes are read and written through /proc/TID/mem of a
// live thread of the process: any thread's entry reaches the shared address
// space, while the leader's has none once it has exited (pthread_exit in
// main). Writes go through read-only text (FOLL_FORCE) without the task
// having to be stopped. A process that has gone (no such entry, or no
// address space left to read) is NotFound, which callers treat as such.
absl::Status AccessCode(pid_t tid, uint64_t address, uint8_t* byte, bool write) {
  const std::string path = absl::StrCat("/proc/", tid, "/mem");
  int fd = open(path.c_str(), (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    const std::string message = absl::StrCat("open ", path, ": ", strerror(errno));
    return errno == ENOENT || errno == ESRCH ? absl::NotFoundError(message)
                                             : absl::InternalError(message);
  }
  ssize_t n = write ? pwrite(fd, byte, 1, static_cast<off_t>(address))
                    : pread(fd, byte, 1, static_cast<off_t>(address));
  const int err = errno;
  close(fd);
  if (n == 1) return absl::OkStatus();
  const std::string message =
      absl::StrCat(write ? "writing" : "reading", " the breakpoint byte at 0x", absl::Hex(address),
                   " in ", tid, ": ", n == 0 ? "the process has no memory left" : strerror(err));
  // 0 bytes: the address space is gone (every thread has exited).
  return n == 0 || err == ESRCH ? absl::NotFoundError(message) : absl::InternalError(message);
}

absl::Status PokeByte(pid_t tid, uint64_t address, uint8_t byte) {
  return AccessCode(tid, address, &byte, /*write=*/true);
}

absl::StatusOr<uint8_t> PeekByte(pid_t tid, uint64_t address) {
  uint8_t byte = 0;
  absl::Status read = AccessCode(tid, address, &byte, /*write=*/false);
  if (!read.ok()) return read;
  return byte;
}

absl::StatusOr<uint64_t> EntryPoint(pid_t pid) {
  auto auxv = ReadProcFile(absl::StrCat("/proc/", pid, "/auxv"));
  if (!auxv.ok()) return auxv.status();
  for (size_t i = 0; i + 16 <= auxv->size(); i += 16) {
    uint64_t type, value;
    memcpy(&type, auxv->data() + i, 8);
    memcpy(&value, auxv->data() + i + 8, 8);
    if (type == kAtEntry) return value;
  }
  return absl::NotFoundError("no AT_ENTRY in auxv");
}

bool IsStepTrap(const siginfo_t& info) {
  // The single-step trap has a kernel si_code (TRAP_TRACE), or SI_USER with
  // no sender when the stepped instruction was a syscall; a SIGTRAP sent by
  // a process (kill, tgkill, sigqueue) is a signal like any other.
  return info.si_signo == SIGTRAP &&
         (info.si_code > 0 || (info.si_code == SI_USER && info.si_pid == 0));
}

// Whether `signal` is pending for thread `tid` itself (SigPnd), as opposed
// to the whole process (ShdPnd).
absl::StatusOr<bool> ThreadPendsSignal(pid_t tid, int signal) {
  auto status = ReadProcFile(absl::StrCat("/proc/", tid, "/status"));
  if (!status.ok()) return status.status();
  const size_t at = status->find("\nSigPnd:");
  unsigned long long mask = 0;
  if (at == std::string::npos || sscanf(status->c_str() + at, "\nSigPnd: %llx", &mask) != 1) {
    return absl::InternalError(absl::StrCat("/proc/", tid, "/status has no SigPnd line"));
  }
  return ((mask >> (signal - 1)) & 1) != 0;
}

}  // namespace

absl::Status Monitor::InsertBreakpoint(pid_t pid, uint64_t address, BreakpointRole role,
                                       const std::string& label) {
  if (breakpoints_.count(address)) return absl::OkStatus();
  auto original = PeekByte(pid, address);
  if (!original.ok()) return original.status();
  absl::Status poked = PokeByte(pid, address, kInt3);
  if (!poked.ok()) return poked;
  breakpoints_[address] = Breakpoint{address, *original, role, label};
  return absl::OkStatus();
}

void Monitor::RemoveBreakpoint(pid_t pid, uint64_t address) {
  auto it = breakpoints_.find(address);
  if (it == breakpoints_.end()) return;
  (void)PokeByte(pid, address, it->second.original);
  breakpoints_.erase(it);
}

absl::Status Monitor::ArmCodeLocations(pid_t pid) {
  std::vector<PendingLocation> still_pending;
  for (const PendingLocation& pending : pending_locations_) {
    auto address = ResolveCodeLocation(pid, pending.location);
    if (absl::IsNotFound(address.status())) {
      still_pending.push_back(pending);  // its library is not loaded yet
      continue;
    }
    if (!address.ok()) return address.status();
    absl::Status inserted = InsertBreakpoint(pid, *address, pending.role, pending.location.text);
    if (!inserted.ok()) return inserted;
  }
  pending_locations_ = std::move(still_pending);
  return absl::OkStatus();
}

absl::Status Monitor::ArmBreakpointsAtExec(pid_t pid) {
  absl::Status armed = ArmCodeLocations(pid);
  if (!armed.ok()) return armed;
  if (pending_locations_.empty()) return absl::OkStatus();
  // Libraries named LIB:SYMBOL are mapped by the dynamic loader before the
  // program's entry point runs: resolve them there.
  auto entry = EntryPoint(pid);
  if (!entry.ok()) return entry.status();
  return InsertBreakpoint(pid, *entry, BreakpointRole::kEntryPoint, "entry point");
}

absl::Status Monitor::StepOverBreakpoint(ThreadState& thread, const Breakpoint& breakpoint) {
  // `thread` is erased from threads_ if it exits during the step.
  const pid_t tid = thread.tid;
  const pid_t tgid = thread.tgid;
  absl::Status restored = PokeByte(tid, breakpoint.address, breakpoint.original);
  if (!restored.ok()) return restored;
  std::vector<siginfo_t> held;
  absl::Status stepped = SingleStep(thread, &held);
  // The int3 goes back whatever became of the stepped thread: the others run
  // the same code. A process that has gone entirely needs none.
  absl::Status rearmed =
      PokeByte(stepped.ok() ? tid : threads_.LiveTid(tgid), breakpoint.address, kInt3);
  if (!rearmed.ok() && !absl::IsNotFound(rearmed)) return rearmed;
  if (!stepped.ok()) return stepped;
  return RequeueHeldSignals(thread, held);
}

absl::Status Monitor::SingleStep(ThreadState& thread, std::vector<siginfo_t>* held) {
  const pid_t tid = thread.tid;
  bool resume = true;
  for (;;) {
    if (resume && ptrace(PTRACE_SINGLESTEP, tid, nullptr, nullptr) != 0) {
      const std::string message =
          absl::StrCat("ptrace(PTRACE_SINGLESTEP, ", tid, "): ", strerror(errno));
      // ESRCH: killed (SIGKILL wakes a stopped tracee), its exit follows.
      return errno == ESRCH ? absl::NotFoundError(message) : absl::InternalError(message);
    }
    resume = true;
    int status = 0;
    pid_t waited;
    while ((waited = waitpid(tid, &status, __WALL)) < 0 && errno == EINTR) {
    }
    if (waited < 0) {
      const std::string message = absl::StrCat("waitpid(", tid, "): ", strerror(errno));
      return errno == ECHILD ? absl::NotFoundError(message) : absl::InternalError(message);
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      HandleExit(tid, status);
      return absl::NotFoundError(absl::StrCat("thread ", tid, " ended while stepping over a breakpoint"));
    }
    if (!WIFSTOPPED(status)) continue;
    const int event = status >> 16;
    if (event == PTRACE_EVENT_EXIT) {
      // Exiting (a fatal signal, or the stepped instruction ended it):
      // HandleExitEvent lets it go on; its exit ends the wait.
      absl::Status let_go = HandleExitEvent(thread);
      if (!let_go.ok()) return let_go;
      resume = false;
      continue;
    }
    // Other event stops (group-stop, an earlier PTRACE_INTERRUPT) just step on.
    if (event != 0) continue;
    auto info = GetSigInfo(tid);
    if (!info.ok()) return info.status();
    if (IsStepTrap(*info)) return absl::OkStatus();
    // A signal arrived before the instruction ran: it is dequeued now, and
    // would be again at every attempt if it stayed pending. Hold it back
    // (the next PTRACE_SINGLESTEP suppresses it) and deliver it after the
    // step.
    held->push_back(*info);
  }
}

absl::Status Monitor::RequeueHeldSignals(ThreadState& thread, const std::vector<siginfo_t>& held) {
  for (const siginfo_t& info : held) {
    // A standard signal already pending for the thread would swallow the
    // re-queued one, as the kernel merges them: then it is that one.
    auto pending = ThreadPendsSignal(thread.tid, info.si_signo);
    if (!pending.ok()) return pending.status();
    if (*pending && info.si_signo < SIGRTMIN) continue;
    if (SignalThread(thread.tgid, thread.tid, info.si_signo) != 0) {
      const std::string message = absl::StrCat("tgkill(", thread.tid, "): ", strerror(errno));
      return errno == ESRCH ? absl::NotFoundError(message) : absl::InternalError(message);
    }
    thread.held_signals.push_back(info);
  }
  return absl::OkStatus();
}

void Monitor::RestoreHeldSignal(ThreadState& thread, siginfo_t* info) {
  if (thread.held_signals.empty()) return;
  // Ours: re-queued by RequeueHeldSignals (si_pid is 0 when dpsupervise is
  // outside the program's pid namespace).
  const bool requeued =
      info->si_code == SI_TKILL && (info->si_pid == getpid() || info->si_pid == 0);
  if (!requeued) return;
  for (auto it = thread.held_signals.begin(); it != thread.held_signals.end(); ++it) {
    if (it->si_signo != info->si_signo) continue;
    // The original siginfo (sender, timer, value) is what the program sees.
    if (ptrace(PTRACE_SETSIGINFO, thread.tid, nullptr, &*it) == 0) *info = *it;
    thread.held_signals.erase(it);
    return;
  }
}

absl::Status Monitor::HandleBreakpoint(ThreadState& thread, user_regs_struct regs) {
  const Breakpoint breakpoint = breakpoints_.at(regs.rip - 1);
  regs.rip = breakpoint.address;  // execute the original instruction
  absl::Status set = SetRegs(thread.tid, regs);
  if (!set.ok()) return set;
  switch (breakpoint.role) {
    case BreakpointRole::kEntryPoint: {
      RemoveBreakpoint(thread.tid, breakpoint.address);
      absl::Status armed = ArmCodeLocations(thread.tid);
      if (!armed.ok()) return armed;
      return Resume(thread);
    }
    case BreakpointRole::kEnter:
      if (!options_.enter_at_every) {
        // The first thread to get there: the breakpoints have done their job.
        std::vector<uint64_t> enters;
        for (const auto& [address, bp] : breakpoints_) {
          if (bp.role == BreakpointRole::kEnter) enters.push_back(address);
        }
        for (uint64_t address : enters) RemoveBreakpoint(thread.tid, address);
      } else {
        absl::Status stepped = StepOverBreakpoint(thread, breakpoint);
        if (!stepped.ok()) return stepped;
      }
      if (thread.strict()) return Resume(thread);
      thread.trigger.triggered = true;
      Say(absl::StrCat("dpsupervise: ", thread.tid, ": reached ", breakpoint.label, "\n"));
      return AsyncEnterStrict(thread);
    case BreakpointRole::kLeave: {
      absl::Status stepped = StepOverBreakpoint(thread, breakpoint);
      if (!stepped.ok()) return stepped;
      if (thread.strict()) {
        LeaveStrict(thread);
        Say(absl::StrCat("dpsupervise: ", thread.tid, ": strict mode left at ", breakpoint.label,
                         "\n"));
      }
      return Resume(thread);
    }
  }
  return Resume(thread);
}

void Monitor::RemoveBreakpointsFromCopy(pid_t pid) {
  // Best effort: a copy that is already gone needs no cleaning.
  for (const auto& [address, bp] : breakpoints_) (void)PokeByte(pid, address, bp.original);
}

void Monitor::RemoveAllBreakpoints() {
  std::vector<uint64_t> addresses;
  for (const auto& [address, bp] : breakpoints_) addresses.push_back(address);
  const pid_t live = threads_.LiveTid(options_.program_pid);
  for (uint64_t address : addresses) RemoveBreakpoint(live, address);
}

}  // namespace dpsupervise
