#include "supervisor/inject.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "supervisor/ptrace_util.h"

namespace dpsupervise {
namespace {

// The System V x86-64 ABI lets leaf code use 128 bytes below rsp; the
// scratch copy goes below that so no live data is overwritten.
constexpr uint64_t kRedZone = 128;

// Waits for `tid`'s next stop at a syscall exit.
absl::StatusOr<InjectionOutcome> RunToSyscallExit(pid_t tid) {
  absl::Status resumed = ContinueToSyscall(tid);
  if (!resumed.ok()) return resumed;
  for (;;) {
    int status = 0;
    pid_t got = waitpid(tid, &status, __WALL);
    if (got < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("waitpid(", tid, "): ", strerror(errno)));
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      InjectionOutcome outcome;
      outcome.thread_died = true;
      outcome.wait_status = status;
      return outcome;
    }
    if (WIFSTOPPED(status) && WSTOPSIG(status) == (SIGTRAP | 0x80)) return InjectionOutcome{};
    // Nothing else can be reported between a syscall's seccomp stop and its
    // exit stop: signals are delivered after the exit stop.
    return absl::InternalError(absl::StrCat("thread ", tid, " stopped unexpectedly (status 0x",
                                            absl::Hex(status), ") during injection"));
  }
}

}  // namespace

absl::StatusOr<InjectionOutcome> InjectSeccompFilter(pid_t tid, const user_regs_struct& stop_regs,
                                                     const BpfProgram& program) {
  // Layout: [sock_fprog][instructions], 16-byte aligned, below the red zone.
  const size_t code_bytes = program.instructions.size() * sizeof(sock_filter);
  const size_t total = sizeof(sock_fprog) + code_bytes;
  const uint64_t base = (stop_regs.rsp - kRedZone - total) & ~uint64_t{15};
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

  user_regs_struct regs = stop_regs;
  regs.orig_rax = SYS_seccomp;
  regs.rdi = SECCOMP_SET_MODE_FILTER;
  regs.rsi = SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  regs.rdx = base;
  absl::Status set = SetRegs(tid, regs);
  if (!set.ok()) return set;

  auto outcome = RunToSyscallExit(tid);
  if (!outcome.ok() || outcome->thread_died) return outcome;
  auto exit_regs = GetRegs(tid);
  if (!exit_regs.ok()) return exit_regs.status();
  outcome->result = static_cast<long>(exit_regs->rax);
  return outcome;
}

}  // namespace dpsupervise
