#include "supervisor/monitor.h"

#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "lib/dataplane.h"
#include "supervisor/filter.h"
#include "supervisor/inject.h"
#include "supervisor/launcher.h"
#include "supervisor/procfs.h"
#include "supervisor/ptrace_util.h"
#include "supervisor/syscall_decode.h"

namespace dpsupervise {
namespace {

int ExitStatusOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 125;
}

bool IsGroupStopSignal(int signal) {
  return signal == SIGSTOP || signal == SIGTSTP || signal == SIGTTIN || signal == SIGTTOU;
}

// A task vanishing under us (ESRCH) is normal: it was killed or exited, and
// its exit will be reported by waitpid.
absl::Status IgnoreVanished(absl::Status status) {
  return absl::IsNotFound(status) ? absl::OkStatus() : status;
}

std::string ProcName(pid_t tid) {
  auto name = TaskName(tid);
  return name.ok() ? *name : "?";
}

}  // namespace

Monitor::Monitor(const MonitorOptions& options) : options_(options) {
  ThreadState& main = Track(options_.program_pid);
  main.tgid = options_.program_pid;
}

ThreadState& Monitor::Track(pid_t tid) {
  auto [it, inserted] = threads_.try_emplace(tid);
  if (inserted) {
    it->second.tid = tid;
    auto tgid = TaskTgid(tid);
    it->second.tgid = tgid.ok() ? *tgid : tid;
  }
  return it->second;
}

absl::StatusOr<int> Monitor::Run() {
  for (;;) {
    int status = 0;
    pid_t tid = waitpid(-1, &status, __WALL);
    if (tid < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) break;
      return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
    }
    absl::Status handled = IgnoreVanished(HandleWaitStatus(tid, status));
    if (!handled.ok()) {
      // Supervision can no longer be guaranteed: nothing may run unwatched.
      KillProgram();
      while (waitpid(-1, nullptr, __WALL) > 0 || errno == EINTR) {
      }
      return handled;
    }
  }
  if (!program_execed_) {
    absl::Status setup = ReadSetupError(options_.setup_error_fd, options_.program_name);
    close(options_.setup_error_fd);
    if (!setup.ok()) return setup;
  }
  return ExitStatusOf(program_wait_status_);
}

absl::Status Monitor::HandleWaitStatus(pid_t tid, int status) {
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    HandleExit(tid, status);
    return absl::OkStatus();
  }
  if (!WIFSTOPPED(status)) return absl::OkStatus();
  ThreadState& thread = Track(tid);
  const int signal = WSTOPSIG(status);
  const int event = status >> 16;
  switch (event) {
    case PTRACE_EVENT_SECCOMP:
      return HandleSeccompStop(thread);
    case PTRACE_EVENT_CLONE:
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
      return HandleNewTask(thread, event);
    case PTRACE_EVENT_EXEC:
      return HandleExec(thread);
    case PTRACE_EVENT_STOP:
      return HandleEventStop(thread, signal);
    case 0:
      break;
    default:  // PTRACE_EVENT_VFORK_DONE, PTRACE_EVENT_EXIT: nothing to do.
      return Continue(tid);
  }
  // A syscall stop outside an injection carries no signal.
  if (signal == (SIGTRAP | 0x80)) return Continue(tid);
  // Signal-delivery-stop: forwarded unchanged.
  return Continue(tid, signal);
}

void Monitor::HandleExit(pid_t tid, int status) {
  if (tid == options_.program_pid) {
    program_exited_ = true;
    program_wait_status_ = status;
  }
  threads_.erase(tid);
}

absl::Status Monitor::HandleEventStop(ThreadState& thread, int signal) {
  // With PTRACE_SEIZE, group-stop is reported as PTRACE_EVENT_STOP with the
  // stopping signal; LISTEN keeps the task stopped, as job control expects,
  // while still reporting its next events. Any other event stop (a new task's
  // first stop, PTRACE_INTERRUPT) just resumes.
  if (IsGroupStopSignal(signal)) return Listen(thread.tid);
  return Continue(thread.tid);
}

absl::Status Monitor::HandleNewTask(ThreadState& parent, int event) {
  auto new_tid = GetEventMsg(parent.tid);
  if (!new_tid.ok()) return new_tid.status();
  ThreadState& child = Track(static_cast<pid_t>(*new_tid));
  if (event != PTRACE_EVENT_CLONE) child.tgid = child.tid;
  // The kernel copies seccomp filters to every child, thread or process. A
  // new task is not strict itself (strict mode is per thread).
  child.strict_filter_installed = child.strict_filter_installed || parent.strict_filter_installed;
  return Continue(parent.tid);
}

absl::Status Monitor::HandleExec(ThreadState& thread) {
  // After exec the thread group has one thread, with the group's id; when a
  // non-leader thread called exec it took over the leader's tid.
  auto former_tid = GetEventMsg(thread.tid);
  if (!former_tid.ok()) return former_tid.status();
  const pid_t tgid = thread.tid;
  ThreadState survivor = thread;
  if (static_cast<pid_t>(*former_tid) != tgid) {
    auto it = threads_.find(static_cast<pid_t>(*former_tid));
    if (it != threads_.end()) survivor = it->second;
  }
  survivor.tid = tgid;
  survivor.tgid = tgid;
  for (auto it = threads_.begin(); it != threads_.end();) {
    it = it->second.tgid == tgid ? threads_.erase(it) : std::next(it);
  }
  threads_[tgid] = survivor;
  if (tgid == options_.program_pid && !program_execed_) {
    program_execed_ = true;
    close(options_.setup_error_fd);
    options_.setup_error_fd = -1;
  }
  return Continue(tgid);
}

absl::Status Monitor::HandleSeccompStop(ThreadState& thread) {
  auto message = GetEventMsg(thread.tid);
  if (!message.ok()) return message.status();
  auto regs = GetRegs(thread.tid);
  if (!regs.ok()) return regs.status();
  switch (static_cast<TraceCookie>(*message & 0xffff)) {
    case TraceCookie::kDataplanePrctl:
      return HandleDataplanePrctl(thread, *regs);
    case TraceCookie::kViolation:
    case TraceCookie::kForeignArch:
      // The strict filter stays after a thread leaves strict mode, and is
      // inherited by its children: their syscalls take this slow path.
      if (!thread.strict() || killing_) return Continue(thread.tid);
      return HandleSyscallViolation(thread, *regs);
    case TraceCookie::kClone3:
      // BPF cannot read clone3's flags (CLONE_UNTRACED could hide in them):
      // answer ENOSYS so the C library falls back to clone, as sandbox2 does.
      return ReturnFromSyscall(thread.tid, *regs, -ENOSYS);
    case TraceCookie::kCloneUntraced: {
      // CLONE_UNTRACED would start a task we cannot see: drop the flag.
      user_regs_struct changed = *regs;
      changed.rdi &= ~static_cast<unsigned long long>(CLONE_UNTRACED);
      absl::Status set = SetRegs(thread.tid, changed);
      if (!set.ok()) return set;
      return Continue(thread.tid);
    }
  }
  // SECCOMP_RET_TRACE from a filter of the program's own: with no tracer the
  // kernel would fail the syscall with ENOSYS, so do the same.
  return ReturnFromSyscall(thread.tid, *regs, -ENOSYS);
}

absl::Status Monitor::ReturnFromSyscall(pid_t tid, user_regs_struct regs, long value) {
  regs.orig_rax = static_cast<unsigned long long>(-1);  // skip the syscall
  regs.rax = static_cast<unsigned long long>(value);
  absl::Status set = SetRegs(tid, regs);
  if (!set.ok()) return set;
  return Continue(tid);
}

absl::Status Monitor::HandleDataplanePrctl(ThreadState& thread, const user_regs_struct& regs) {
  const uint32_t option = static_cast<uint32_t>(regs.rdi);
  if (option == PR_GET_DATAPLANE) {
    return ReturnFromSyscall(thread.tid, regs, static_cast<long>(thread.dataplane_flags));
  }
  // PR_SET_DATAPLANE.
  const uint64_t flags = regs.rsi;
  const uint64_t signal = PR_DATAPLANE_SIG_OF(flags);
  if ((flags & ~static_cast<uint64_t>(PR_DATAPLANE_VALID_MASK)) != 0 || signal >= _NSIG) {
    return ReturnFromSyscall(thread.tid, regs, -EINVAL);
  }
  if ((flags & PR_DATAPLANE_STRICT) == 0) {
    thread.dataplane_flags = static_cast<uint32_t>(flags);
    return ReturnFromSyscall(thread.tid, regs, 0);
  }
  bool injected = false;
  auto result = EnterStrict(thread, regs, static_cast<uint32_t>(flags), &injected);
  if (!result.ok()) return result.status();
  if (!injected) return ReturnFromSyscall(thread.tid, regs, *result);
  // The thread sits at the injected syscall's exit: restore every register
  // and give the prctl its return value.
  user_regs_struct restored = regs;
  restored.rax = static_cast<unsigned long long>(*result);
  absl::Status set = SetRegs(thread.tid, restored);
  if (!set.ok()) return set;
  return Continue(thread.tid);
}

absl::StatusOr<long> Monitor::EnterStrict(ThreadState& thread, const user_regs_struct& regs,
                                          uint32_t flags, bool* injected) {
  if (!thread.strict_filter_installed) {
    auto outcome = InjectSeccompFilter(thread.tid, regs, *options_.strict_filter);
    if (!outcome.ok()) return outcome.status();
    if (outcome->thread_died) {
      HandleExit(thread.tid, outcome->wait_status);
      return absl::NotFoundError("thread died during strict entry");
    }
    *injected = true;
    if (outcome->result < 0) {
      const std::string message =
          absl::StrCat("dpsupervise: cannot make thread ", thread.tid,
                       " strict: seccomp(SECCOMP_SET_MODE_FILTER): ", strerror(-outcome->result),
                       "\n");
      (void)options_.reports->Write(message);
      return outcome->result;
    }
    thread.strict_filter_installed = true;
  }
  thread.dataplane_flags = flags;
  clock_gettime(CLOCK_MONOTONIC, &thread.strict_since);
  return 0;
}

Violation Monitor::DescribeSyscallViolation(const ThreadState& thread,
                                            const user_regs_struct& regs) {
  Violation v;
  v.kind = ViolationKind::kSyscall;
  v.pid = thread.tgid;
  v.tid = thread.tid;
  v.thread_name = ProcName(thread.tid);
  v.process_name = ProcName(thread.tgid);
  auto cpu = TaskCpu(thread.tid);
  v.cpu = cpu.ok() ? *cpu : -1;
  v.regs = regs;
  SyscallDetails& s = v.syscall;
  s.nr = regs.orig_rax;
  s.args = {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9};
  s.instruction_pointer = regs.rip;
  auto info = GetSyscallInfo(thread.tid);
  if (info.ok() && info->op == PTRACE_SYSCALL_INFO_SECCOMP) {
    s.abi = ClassifyAbi(info->arch, info->seccomp.nr);
    s.nr = info->seccomp.nr;
    for (int i = 0; i < 6; ++i) s.args[i] = info->seccomp.args[i];
  }
  s.name = SyscallName(s.abi, s.nr);
  if (s.abi == SyscallAbi::kX86_64) {
    const pid_t tid = thread.tid;
    MemoryReader reader = [tid](uint64_t addr, size_t max) -> std::optional<std::string> {
      auto bytes = ReadMemory(tid, addr, max);
      if (!bytes.ok()) return std::nullopt;
      return *bytes;
    };
    s.call = FormatSyscallCall(s.name, DecodeSyscallArgs(s.nr, s.args, reader));
  } else {
    // Foreign tables have no signatures here: show the raw arguments.
    s.call = absl::StrCat(s.name, "(0x", absl::Hex(s.args[0]), ", 0x", absl::Hex(s.args[1]),
                          ", 0x", absl::Hex(s.args[2]), ", 0x", absl::Hex(s.args[3]), ", 0x",
                          absl::Hex(s.args[4]), ", 0x", absl::Hex(s.args[5]), ")");
  }
  return v;
}

absl::Status Monitor::HandleSyscallViolation(ThreadState& thread, const user_regs_struct& regs) {
  Violation violation = DescribeSyscallViolation(thread, regs);
  violation.action = "kill";
  violation.action_detail = "kill (SIGKILL to the whole program)";
  absl::Status written = options_.reports->Write(FormatTextReport(violation));
  // The syscall never runs: the thread stays in its seccomp stop until the
  // SIGKILL ends it.
  KillProgram();
  return written;
}

void Monitor::KillProgram() {
  killing_ = true;
  std::set<pid_t> groups;
  for (const auto& [tid, thread] : threads_) groups.insert(thread.tgid);
  for (pid_t tgid : groups) kill(tgid, SIGKILL);
}

}  // namespace dpsupervise
