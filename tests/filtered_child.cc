#include "tests/filtered_child.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

namespace dpsupervise {
namespace {

// Ends the filtered child with exit_group itself. Under --config=asan,
// _exit() goes through the sanitizer runtime's exit-time leak check, which
// makes syscalls of its own that the strict filter traps (strace: sigaltstack
// and gettid; failing, it then tries write, mmap, tgkill and loops forever on
// futex): the test would hang.
[[noreturn]] void ExitNow(int code) {
  syscall(SYS_exit_group, code);
  __builtin_unreachable();
}

}  // namespace

void PrintTo(const TraceStop& s, std::ostream* os) {
  *os << "{cookie " << s.cookie << " nr " << s.nr << "}";
}

long Raw(long nr, long a0, long a1, long a2) { return syscall(nr, a0, a1, a2); }

ChildRun RunFiltered(const std::vector<const BpfProgram*>& filters, std::function<int()> body) {
  ChildRun run;
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    kill(getpid(), SIGSTOP);
    for (const BpfProgram* filter : filters) {
      sock_fprog prog = filter->AsFprog();
      if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &prog)) {
        ExitNow(100);
      }
    }
    ExitNow(body());
  }
  int status;
  waitpid(pid, &status, WUNTRACED);
  EXPECT_EQ(ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL), 0);
  kill(pid, SIGCONT);
  for (;;) {
    if (waitpid(pid, &status, __WALL) < 0) break;
    if (WIFEXITED(status)) {
      run.exit_code = WEXITSTATUS(status);
      break;
    }
    if (WIFSIGNALED(status)) {
      run.exit_code = 128 + WTERMSIG(status);
      break;
    }
    int sig = WSTOPSIG(status);
    if ((status >> 16) == PTRACE_EVENT_SECCOMP) {
      unsigned long msg = 0;
      ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg);
      user_regs_struct regs;
      ptrace(PTRACE_GETREGS, pid, 0, &regs);
      if (regs.orig_rax == SYS_seccomp) {  // loading `filters`
        ptrace(PTRACE_CONT, pid, 0, 0);
        continue;
      }
      run.stops.push_back({static_cast<int>(msg), static_cast<long>(regs.orig_rax)});
      regs.orig_rax = -1;
      regs.rax = -ENOSYS;
      ptrace(PTRACE_SETREGS, pid, 0, &regs);
      sig = 0;
    } else if ((status >> 16) != 0 || sig == SIGCONT) {
      sig = 0;
    }
    ptrace(PTRACE_CONT, pid, 0, sig);
  }
  return run;
}

}  // namespace dpsupervise
