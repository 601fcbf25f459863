// Monitor: --enter-at and --leave-at, software breakpoints (int3) at the
// functions the user named.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "supervisor/monitor.h"
#include "supervisor/procfs.h"
#include "supervisor/ptrace_util.h"
#include "supervisor/send_signal.h"

namespace dpsupervise {
namespace {

constexpr uint8_t kInt3 = 0xcc;
constexpr uint64_t kAtEntry = 9;  // auxv: the program's entry point

// /proc/PID/mem writes go through read-only text (FOLL_FORCE) without the
// task having to be stopped.
absl::Status PokeByte(pid_t pid, uint64_t address, uint8_t byte) {
  int fd = open(absl::StrCat("/proc/", pid, "/mem").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("open /proc/", pid, "/mem: ", strerror(errno)));
  ssize_t n = pwrite(fd, &byte, 1, static_cast<off_t>(address));
  const int err = errno;
  close(fd);
  if (n != 1) {
    return absl::InternalError(absl::StrCat("writing a breakpoint at 0x", absl::Hex(address),
                                            " in ", pid, ": ", strerror(err)));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint8_t> PeekByte(pid_t pid, uint64_t address) {
  auto bytes = ReadMemory(pid, address, 1);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() != 1) return absl::InternalError("short read of code");
  return static_cast<uint8_t>((*bytes)[0]);
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
  absl::Status restored = PokeByte(thread.tgid, breakpoint.address, breakpoint.original);
  if (!restored.ok()) return restored;
  if (ptrace(PTRACE_SINGLESTEP, thread.tid, nullptr, nullptr) != 0) {
    return absl::InternalError(absl::StrCat("ptrace(PTRACE_SINGLESTEP, ", thread.tid, "): ",
                                            strerror(errno)));
  }
  for (;;) {
    int status = 0;
    if (waitpid(thread.tid, &status, __WALL) < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("waitpid(", thread.tid, "): ", strerror(errno)));
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      HandleExit(thread.tid, status);
      return absl::NotFoundError("thread exited while stepping over a breakpoint");
    }
    if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0) break;
    // Another signal arrived first: keep it for later, finish the step.
    if (WIFSTOPPED(status) && (status >> 16) == 0) {
      SignalThread(thread.tgid, thread.tid, WSTOPSIG(status));
    }
    if (ptrace(PTRACE_SINGLESTEP, thread.tid, nullptr, nullptr) != 0) {
      return absl::InternalError(absl::StrCat("ptrace(PTRACE_SINGLESTEP): ", strerror(errno)));
    }
  }
  return PokeByte(thread.tgid, breakpoint.address, kInt3);
}

absl::Status Monitor::HandleBreakpoint(ThreadState& thread, user_regs_struct regs) {
  const Breakpoint breakpoint = breakpoints_.at(regs.rip - 1);
  regs.rip = breakpoint.address;  // execute the original instruction
  absl::Status set = SetRegs(thread.tid, regs);
  if (!set.ok()) return set;
  switch (breakpoint.role) {
    case BreakpointRole::kEntryPoint: {
      RemoveBreakpoint(thread.tgid, breakpoint.address);
      absl::Status armed = ArmCodeLocations(thread.tgid);
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
        for (uint64_t address : enters) RemoveBreakpoint(thread.tgid, address);
      } else {
        absl::Status stepped = StepOverBreakpoint(thread, breakpoint);
        if (!stepped.ok()) return stepped;
      }
      if (thread.strict()) return Resume(thread);
      thread.triggered = true;
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
  for (uint64_t address : addresses) RemoveBreakpoint(options_.program_pid, address);
}

}  // namespace dpsupervise
