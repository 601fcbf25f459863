#include "supervisor/inject.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "supervisor/procfs.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "supervisor/ptrace_util.h"

namespace dpsupervise {
namespace {

// The System V x86-64 ABI lets leaf code use 128 bytes below rsp; the
// scratch copy goes below that so no live data is overwritten.
constexpr uint64_t kRedZone = 128;
// `syscall` and `int 0x80` are both two bytes long.
constexpr unsigned long long kSyscallInstructionBytes = 2;

// Writes the sock_fprog and its instructions (16-byte aligned) below the red zone of `rsp`; returns its address.
absl::StatusOr<uint64_t> WriteFilterImage(pid_t tid, uint64_t rsp, const BpfProgram& program) {
  const size_t code_bytes = program.instructions.size() * sizeof(sock_filter);
  const size_t total = sizeof(sock_fprog) + code_bytes;
  const uint64_t base = (rsp - kRedZone - total) & ~uint64_t{15};
  sock_fprog remote_prog;
  remote_prog.len = static_cast<unsigned short>(program.instructions.size());
  remote_prog.filter = reinterpret_cast<sock_filter*>(base + sizeof(sock_fprog));
  std::vector<char> image(total);
  memcpy(image.data(), &remote_prog, sizeof(remote_prog));
  memcpy(image.data() + sizeof(remote_prog), program.instructions.data(), code_bytes);
  absl::Status written = WriteMemory(tid, base, image.data(), image.size());
  if (!written.ok()) {
    return absl::InternalError(
        absl::StrCat("writing the strict filter to the thread's stack: ", written.message()));
  }
  return base;
}

// Resumes with PTRACE_SYSCALL until a syscall stop; signals met on the way
// are collected (and suppressed) for re-queueing.
absl::StatusOr<InjectionOutcome> RunToNextSyscallStop(pid_t tid, std::vector<int>* signals) {
  absl::Status resumed = ContinueToSyscall(tid);
  if (!resumed.ok()) return resumed;
  for (;;) {
    int status = 0;
    if (waitpid(tid, &status, __WALL) < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("waitpid(", tid, "): ", strerror(errno)));
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      InjectionOutcome outcome;
      outcome.thread_died = true;
      outcome.wait_status = status;
      return outcome;
    }
    if (!WIFSTOPPED(status)) continue;
    if (WSTOPSIG(status) == (SIGTRAP | 0x80)) return InjectionOutcome{};
    // A signal-delivery-stop before our syscall: hold the signal back.
    if ((status >> 16) == 0) signals->push_back(WSTOPSIG(status));
    resumed = ContinueToSyscall(tid);
    if (!resumed.ok()) return resumed;
  }
}

// Waits for `tid`'s next stop at a syscall exit, from its seccomp stop.
absl::StatusOr<InjectionOutcome> RunToSyscallExit(pid_t tid) {
  std::vector<int> signals;
  auto outcome = RunToNextSyscallStop(tid, &signals);
  // Nothing else can be reported between a syscall's seccomp stop and its
  // exit stop: signals are delivered after the exit stop.
  if (outcome.ok() && !signals.empty()) {
    return absl::InternalError(absl::StrCat("thread ", tid, " stopped for signal ", signals[0],
                                            " during injection"));
  }
  return outcome;
}

}  // namespace

absl::StatusOr<InjectionOutcome> InjectSeccompFilter(pid_t tid, const user_regs_struct& stop_regs,
                                                     const BpfProgram& program) {
  auto base = WriteFilterImage(tid, stop_regs.rsp, program);
  if (!base.ok()) return base.status();

  user_regs_struct regs = stop_regs;
  regs.orig_rax = SYS_seccomp;
  regs.rdi = SECCOMP_SET_MODE_FILTER;
  regs.rsi = SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  regs.rdx = *base;
  absl::Status set = SetRegs(tid, regs);
  if (!set.ok()) return set;

  auto outcome = RunToSyscallExit(tid);
  if (!outcome.ok() || outcome->thread_died) return outcome;
  auto exit_regs = GetRegs(tid);
  if (!exit_regs.ok()) return exit_regs.status();
  outcome->result = static_cast<long>(exit_regs->rax);
  return outcome;
}

namespace {

// Kernel-internal syscall return values that ask for a restart.
constexpr long kErestartSys = -512;
constexpr long kErestartNoIntr = -513;
constexpr long kErestartNoHand = -514;
constexpr long kErestartRestartBlock = -516;

}  // namespace

absl::StatusOr<uint64_t> FindSyscallInstruction(pid_t pid) {
  auto maps = ReadProcFile(absl::StrCat("/proc/", pid, "/maps"));
  if (!maps.ok()) return maps.status();
  for (absl::string_view line : absl::StrSplit(*maps, '\n', absl::SkipEmpty())) {
    if (!absl::EndsWith(line, "[vdso]")) continue;
    std::vector<absl::string_view> range = absl::StrSplit(line.substr(0, line.find(' ')), '-');
    uint64_t start = 0, end = 0;
    if (range.size() != 2 || !absl::SimpleHexAtoi(range[0], &start) ||
        !absl::SimpleHexAtoi(range[1], &end)) {
      break;
    }
    auto bytes = ReadMemory(pid, start, end - start);
    if (!bytes.ok()) return bytes.status();
    for (size_t i = 0; i + 1 < bytes->size(); ++i) {
      if (static_cast<unsigned char>((*bytes)[i]) == 0x0f &&
          static_cast<unsigned char>((*bytes)[i + 1]) == 0x05) {
        return start + i;
      }
    }
    return absl::NotFoundError(absl::StrCat("no syscall instruction in the vDSO of ", pid));
  }
  return absl::NotFoundError(absl::StrCat("process ", pid, " has no vDSO"));
}

user_regs_struct RegistersAfterInjection(const user_regs_struct& stopped) {
  user_regs_struct regs = stopped;
  const long rax = static_cast<long>(stopped.rax);
  if (static_cast<long>(stopped.orig_rax) < 0) return regs;
  // Stopped inside an interrupted syscall: with no handler run, the kernel
  // would restart it on the way out; our injected syscall's exit path does
  // not, so do it here.
  if (rax == kErestartSys || rax == kErestartNoIntr || rax == kErestartNoHand) {
    regs.rax = stopped.orig_rax;
    regs.rip -= kSyscallInstructionBytes;
    regs.orig_rax = static_cast<unsigned long long>(-1);
  } else if (rax == kErestartRestartBlock) {
    regs.rax = SYS_restart_syscall;
    regs.rip -= kSyscallInstructionBytes;
    regs.orig_rax = static_cast<unsigned long long>(-1);
  }
  return regs;
}

absl::StatusOr<InjectionOutcome> InjectSeccompFilterAnywhere(pid_t tgid, pid_t tid,
                                                             uint64_t syscall_instruction,
                                                             const BpfProgram& program) {
  auto stopped = GetRegs(tid);
  if (!stopped.ok()) return stopped.status();
  auto base = WriteFilterImage(tid, stopped->rsp, program);
  if (!base.ok()) return base.status();
  user_regs_struct regs = *stopped;
  regs.rip = syscall_instruction;
  regs.rax = SYS_seccomp;
  regs.orig_rax = static_cast<unsigned long long>(-1);  // no restart logic
  regs.rdi = SECCOMP_SET_MODE_FILTER;
  regs.rsi = SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  regs.rdx = *base;
  absl::Status set = SetRegs(tid, regs);
  if (!set.ok()) return set;
  std::vector<int> signals;
  auto entry = RunToNextSyscallStop(tid, &signals);  // syscall entry
  if (!entry.ok() || entry->thread_died) return entry;
  auto exit = RunToNextSyscallStop(tid, &signals);  // syscall exit
  if (!exit.ok() || exit->thread_died) return exit;
  auto after = GetRegs(tid);
  if (!after.ok()) return after.status();
  InjectionOutcome outcome;
  outcome.result = static_cast<long>(after->rax);
  set = SetRegs(tid, RegistersAfterInjection(*stopped));
  if (!set.ok()) return set;
  for (int signal : signals) syscall(SYS_tgkill, tgid, tid, signal);
  return outcome;
}

}  // namespace dpsupervise
