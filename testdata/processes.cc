// processes MODE VIOLATOR_PATH: every way of creating a task or replacing a
// program, each ending in a strict-mode violation that dpsupervise must see
// and attribute to the right pid/tid.
//   fork, clone-process, untraced: the child (CLONE_UNTRACED for untraced,
//       which dpsupervise strips) enters strict mode and calls getpid.
//   vfork: the child execs VIOLATOR_PATH.
//   exec-thread: a non-leader thread execs VIOLATOR_PATH (leader swap).
//   clone3: clone3 fails with ENOSYS (so libc falls back to clone) and
//       threads still start; exit 0.
//   strict-fork: a strict thread forks (a violation: run with log); the
//       child inherits the strict filter but is not strict: its getpid runs.
#include <linux/sched.h>
#include <sys/wait.h>

#include "testdata/strict_test_util.h"

namespace {

const char* g_violator;

[[noreturn]] void ViolateHere(const char* who) {
  printf("%s_pid=%d %s_tid=%ld\n", who, getpid(), who, static_cast<long>(syscall(SYS_gettid)));
  fflush(stdout);
  dptest::EnterStrictOrDie();
  dptest::RawSyscall0(SYS_getpid);
  dp_exit_strict();
  printf("%s survived\n", who);
  fflush(stdout);
  _exit(0);
}

int WaitChild(pid_t child) {
  int status = 0;
  if (waitpid(child, &status, __WALL) < 0) return -1;
  return status;
}

// Waits for the child and says how it ended: "child_killed_by=SIGNAL" or
// "child_exit=CODE".
void ReportChild(pid_t child) {
  const int status = WaitChild(child);
  if (WIFSIGNALED(status)) {
    printf("child_killed_by=%d\n", WTERMSIG(status));
  } else {
    printf("child_exit=%d\n", WEXITSTATUS(status));
  }
  fflush(stdout);
}

void* ExecFromThread(void*) {
  char* argv[] = {const_cast<char*>(g_violator), nullptr};
  execv(g_violator, argv);
  perror("execv");
  exit(11);
}

void* Nothing(void*) { return nullptr; }

void* StrictForker(void*) {
  dptest::LockAndPrefault();
  dptest::EnterStrictOrDie();
  pid_t child = fork();  // the one violation
  if (child == 0) {
    // Not strict (strict mode is per thread), but it carries the strict
    // filter, so this getpid takes dpsupervise's slow path and runs.
    printf("child getpid ok=%d flags=%d\n", getpid() > 0, dp_status());
    fflush(stdout);
    _exit(0);
  }
  dp_exit_strict();
  printf("child status=%d\n", WaitChild(child));
  fflush(stdout);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "fork";
  g_violator = argc > 2 ? argv[2] : "";
  dptest::LockAndPrefault();
  printf("parent_pid=%d\n", getpid());
  fflush(stdout);
  if (strcmp(mode, "fork") == 0) {
    pid_t child = fork();
    if (child == 0) ViolateHere("child");
    ReportChild(child);
  } else if (strcmp(mode, "clone-process") == 0) {
    long child = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (child == 0) ViolateHere("child");
    ReportChild(static_cast<pid_t>(child));
  } else if (strcmp(mode, "untraced") == 0) {
    long child = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
    if (child == 0) ViolateHere("child");
    ReportChild(static_cast<pid_t>(child));
  } else if (strcmp(mode, "vfork") == 0) {
    pid_t child = vfork();
    if (child == 0) {
      char* child_argv[] = {const_cast<char*>(g_violator), nullptr};
      execv(g_violator, child_argv);
      _exit(12);
    }
    ReportChild(child);
  } else if (strcmp(mode, "exec-thread") == 0) {
    pthread_join(dptest::StartThread(ExecFromThread), nullptr);
  } else if (strcmp(mode, "clone3") == 0) {
    clone_args args{};
    args.exit_signal = SIGCHLD;
    long ret = syscall(SYS_clone3, &args, sizeof(args));
    const int err = errno;
    if (ret == 0) _exit(0);
    pthread_join(dptest::StartThread(Nothing), nullptr);
    printf("clone3=%s thread_ok=1\n", ret == -1 && err == ENOSYS ? "ENOSYS" : "UNEXPECTED");
    return 0;
  } else if (strcmp(mode, "strict-fork") == 0) {
    pthread_join(dptest::StartThread(StrictForker), nullptr);
    return 0;
  }
  printf("parent survived\n");
  return 0;
}
