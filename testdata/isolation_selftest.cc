// isolation_selftest [CASE...]: the cases of the task-isolation kernel
// selftest (tools/testing/selftests/task_isolation/isolation.c of the 2016-17
// successors of the dataplane strict-mode patches), written again for the
// PR_SET_DATAPLANE ABI. As there, one harness process forks a child per case;
// the child locks its memory, runs the case's setup, enters strict mode and
// runs the case, and the harness judges how the child ended, printing one
// line per case:
//
//   test_off: the child leaves strict mode, then writes: exits 0.
//   test_segv: a NULL write with a SIGSEGV handler: the handler runs (under
//     dpsupervise that needs `@action trap deliver`) and exits 0.
//   test_fault, test_syscall: a page fault (first touch of a file page), a
//     write(2): killed by SIGKILL; with PR_DATAPLANE_SIG(SIGUSR1), by SIGUSR1.
//   test_munmap: another thread of the child unmaps memory, which IPIs the
//     strict thread's CPU (a TLB shootdown): killed under the kernel patch.
//   test_schedule: another process is scheduled onto the strict thread's
//     CPU: killed under the kernel patch.
//   prctl_unpinned: entry by a thread allowed on every CPU fails with EINVAL
//     (under dpsupervise with --preflight=enforce).
//
// A case's line is "NAME: OK", or "NAME: FAIL (how it ended)". CASE names
// pick cases (default: all but prctl_unpinned). Exit status: 0 when every
// case was OK, 1 otherwise.
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>

#include "testdata/strict_test_util.h"

namespace {

constexpr int kPass = 0;
constexpr int kFail = 1;

// Shared between the harness, its children and theirs.
struct Shared {
  volatile int strict;       // the case's strict thread has entered
  volatile int disturbed;    // the disturbing thread or process is done
};
Shared* g_shared;

char* g_file_page;          // test_fault: a file page never touched
void* g_unmapped;           // test_munmap: what the other thread unmaps

[[noreturn]] void ExitNow(int status) {
  dptest::RawSyscall3(SYS_exit_group, status, 0, 0);
  __builtin_unreachable();
}

void PinTo(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

// Spins without entering the kernel until `flag` is set, then a while more
// so that what it waited for has time to reach this CPU.
void SpinUntil(volatile int* flag) {
  while (*flag == 0) {
  }
  for (volatile long i = 0; i < 200000000; ++i) {
  }
}

int DoOff() {
  dp_exit_strict();
  static const char kLine[] = "==> hello, world\n";
  return write(STDOUT_FILENO, kLine, sizeof(kLine) - 1) == sizeof(kLine) - 1 ? kPass : kFail;
}

void OnSegv(int) {
  // Strict mode has ended (deliver): output is allowed again.
  static const char kLine[] = "received SIGSEGV in the handler\n";
  (void)!write(STDOUT_FILENO, kLine, sizeof(kLine) - 1);
  ExitNow(kPass);
}
void SetupSegv() { signal(SIGSEGV, OnSegv); }
int* volatile g_null = nullptr;
int DoSegv() {
  *g_null = 0;
  return kFail;
}

void SetupFault() {
  char path[] = "/tmp/isolation_selftest_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0 || ftruncate(fd, 4096) != 0) ExitNow(90);
  unlink(path);
  // Mapped after mlockall(MCL_CURRENT): not populated, the first touch faults.
  g_file_page = static_cast<char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  if (g_file_page == MAP_FAILED) ExitNow(91);
  close(fd);
}
int DoFault() {
  *g_file_page = 1;
  return kFail;
}

int DoSyscall() {
  static const char kLine[] = "goodbye, world\n";
  dptest::RawSyscall3(SYS_write, STDOUT_FILENO, reinterpret_cast<long>(kLine), sizeof(kLine) - 1);
  return kFail;
}

void* Unmapper(void*) {
  while (g_shared->strict == 0) {
  }
  munmap(g_unmapped, 4096);
  g_shared->disturbed = 1;
  return nullptr;
}
void SetupMunmap() {
  g_unmapped = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                    MAP_ANONYMOUS | MAP_PRIVATE | MAP_POPULATE, -1, 0);
  if (g_unmapped == MAP_FAILED) ExitNow(92);
  // Touched from this thread: its CPU has the mapping in its TLB.
  *static_cast<volatile char*>(g_unmapped) = 1;
  pthread_t thread = dptest::StartThread(Unmapper);
  pthread_detach(thread);
}
int DoMunmap() {
  g_shared->strict = 1;
  SpinUntil(&g_shared->disturbed);
  return kFail;
}

void SetupSchedule() {
  PinTo(0);
  pid_t child = fork();
  if (child < 0) ExitNow(93);
  if (child == 0) {
    while (g_shared->strict == 0) {
    }
    PinTo(1);  // onto the strict thread's CPU
    for (volatile long i = 0; i < 50000000; ++i) {
    }
    g_shared->disturbed = 1;
    _exit(0);
  }
  PinTo(1);
}
int DoSchedule() {
  g_shared->strict = 1;
  SpinUntil(&g_shared->disturbed);
  return kFail;
}

struct Case {
  const char* name;
  void (*setup)();
  int (*run)();
  bool killed;  // expected to be killed (by SIGKILL, then by SIGUSR1)
};

const Case kCases[] = {
    {"test_off", nullptr, DoOff, false},
    {"test_segv", SetupSegv, DoSegv, false},
    {"test_fault", SetupFault, DoFault, true},
    {"test_syscall", nullptr, DoSyscall, true},
    {"test_munmap", SetupMunmap, DoMunmap, true},
    {"test_schedule", SetupSchedule, DoSchedule, true},
};

// Forks the child of one case and returns its wait status.
int RunChild(const Case& c, int flags) {
  g_shared->strict = 0;
  g_shared->disturbed = 0;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // The stack the case will use, then everything mapped so far, is
    // populated and locked; what a setup maps later is not (test_fault).
    volatile char* stack = static_cast<volatile char*>(__builtin_alloca(64 * 1024));
    for (int i = 0; i < 64 * 1024; i += 4096) stack[i] = 0;
    if (mlockall(MCL_CURRENT) != 0) ExitNow(94);
    PinTo(1);
    if (c.setup != nullptr) c.setup();
    fflush(stdout);
    if (dp_enter_strict(flags) != 0) ExitNow(95);
    ExitNow(c.run());
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

bool Judge(const char* name, const char* variant, int status, bool ok) {
  if (ok) {
    printf("%s%s: OK\n", name, variant);
  } else if (WIFSIGNALED(status)) {
    printf("%s%s: FAIL (killed by %s)\n", name, variant, sigabbrev_np(WTERMSIG(status)));
  } else {
    printf("%s%s: FAIL (exit %d)\n", name, variant, WEXITSTATUS(status));
  }
  return ok;
}

bool RunCase(const Case& c) {
  if (!c.killed) {
    const int status = RunChild(c, 0);
    return Judge(c.name, "", status, WIFEXITED(status) && WEXITSTATUS(status) == kPass);
  }
  int status = RunChild(c, 0);
  bool ok = Judge(c.name, "", status, WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  status = RunChild(c, PR_DATAPLANE_SIG(SIGUSR1));
  ok = Judge(c.name, " (SIGUSR1)", status, WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1) &&
       ok;
  return ok;
}

bool PrctlUnpinned() {
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &all);
  sched_setaffinity(0, sizeof(all), &all);
  const int rc = dp_enter_strict(0);
  const int err = errno;
  if (rc == 0) dp_exit_strict();
  const bool ok = rc != 0 && err == EINVAL;
  if (ok) {
    printf("prctl_unpinned: OK\n");
  } else if (rc == 0) {
    printf("prctl_unpinned: FAIL (entered)\n");
  } else {
    printf("prctl_unpinned: FAIL (%s)\n", strerrorname_np(err));
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  g_shared = static_cast<Shared*>(
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_SHARED, -1, 0));
  if (g_shared == MAP_FAILED) return 2;
  bool all_ok = true;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "prctl_unpinned") == 0) all_ok = PrctlUnpinned() && all_ok;
  }
  for (const Case& c : kCases) {
    bool picked = argc == 1;
    for (int i = 1; i < argc; ++i) picked = picked || strcmp(argv[i], c.name) == 0;
    if (picked) all_ok = RunCase(c) && all_ok;
  }
  return all_ok ? 0 : 1;
}
