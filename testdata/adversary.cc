// adversary MODE: programs that put dpsupervise's strict-mode entry and
// detection in corners where it used to miss kernel entries or harm the
// program (the trust review's items). Each mode says what it prints.
//   exec-during-entry: the main thread enters strict mode while another
//            thread execs /bin/echo "exec done" at that moment. Whatever
//            wins, the new image must run normally.
//   small-stack: a thread on a 16 KiB stack of the program's own, below
//            which 48 KiB of canary bytes lie, enters strict mode with its
//            stack pointer 512 bytes above the stack's bottom, then leaves.
//            Prints "entry=R canary=intact" (or "canary=overwritten at -N").
//   vdso-unmap / vdso-protnone: the main thread removes the vDSO (munmap)
//            or makes it PROT_NONE, then names a worker "dp-worker" that
//            spins until strict (made so from outside: --strict-thread) and
//            then calls getpid once, raw. Prints "vdso gone".
//   sigtrap-blocked: a worker blocks every signal (as dataplane workers do
//            so that signals go to the main thread), enters strict mode and
//            writes to 16 fresh pages. Prints "faults done".
//   sigmask-in-strict: a worker enters strict mode, then blocks SIGTRAP
//            with rt_sigprocmask (a violation: run it under log, or with a
//            policy allowing it), reads its mask back (SIGTRAP must still
//            look blocked: "sees sigtrap blocked=1"), and writes to 4 fresh
//            pages.
//   errno-filter: the process installs a filter failing getppid with EACCES
//            (as systemd's SystemCallFilter= or a container runtime would);
//            a strict worker calls getppid once. Prints "getppid=-13".
//   filter-in-strict: a strict worker installs that filter itself with
//            prctl(PR_SET_SECCOMP) (prctl is allowed), then calls getppid.
//   trace-filter-reentry: a worker enters and leaves strict mode, installs
//            a filter returning SECCOMP_RET_TRACE with data 4 for getppid,
//            enters again and calls getppid.
//   untraced-clone: a worker enters and leaves strict mode, then forks with
//            clone(CLONE_UNTRACED); the child calls getpid and exits 20 if
//            it worked (it is traced: the strict filter it inherited lets
//            its syscalls through slowly) or 10 if it failed with ENOSYS (an
//            untraced task under that filter). Prints "child=20" or 10.
//   handler-masks-sigtrap: a strict worker sends itself SIGUSR2, whose
//            handler blocks every signal (sa_mask) and writes to 3 fresh
//            pages. Run under log. Prints "handler faults done".
//   vsyscall: a strict worker calls gettimeofday through the legacy
//            vsyscall page, then leaves strict mode and prints "vsyscall
//            done" (and "handler ran" if SIGUSR1's handler ran).
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <string>

#include "testdata/strict_test_util.h"

namespace {

std::atomic<bool> g_entering{false};
std::atomic<bool> g_strict{false};
volatile unsigned long long g_sink;

// `count` pages that are not populated, though the program locks its
// memory (MCL_FUTURE populated them: unlocked and emptied again), so that
// each first write is a page fault.
char* FreshPages(int count) {
  char* pages = static_cast<char*>(
      mmap(nullptr, count * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (pages == MAP_FAILED || munlock(pages, count * 4096) != 0 ||
      madvise(pages, count * 4096, MADV_DONTNEED) != 0) {
    _exit(94);
  }
  return pages;
}

// --- exec-during-entry -----------------------------------------------------

void* Execer(void*) {
  while (!g_entering.load()) {
  }
  execl("/bin/echo", "echo", "exec done", static_cast<char*>(nullptr));
  _exit(66);
}

int ExecDuringEntry() {
  dptest::LockAndPrefault();
  dptest::StartThread(Execer);
  g_entering = true;
  dp_enter_strict(0);
  // Strict now, unless the exec already took the thread away: wait for it.
  for (;;) {
  }
}

// --- small-stack -----------------------------------------------------------

constexpr size_t kCanaryBytes = 48 * 1024;
constexpr size_t kStackBytes = 16 * 1024;
constexpr unsigned char kCanary = 0x5a;
char* g_region;
long g_entry_result;

__attribute__((noinline)) void EnterNearStackBottom(char* stack_bottom) {
  char here;
  // Move the stack pointer down to 512 bytes above the bottom of the stack.
  const size_t room = static_cast<size_t>(&here - stack_bottom);
  volatile char* low = static_cast<char*>(__builtin_alloca(room - 512));
  low[0] = 0;
  g_entry_result = dptest::RawSyscall3(SYS_prctl, PR_SET_DATAPLANE, PR_DATAPLANE_STRICT, 0);
  dptest::RawSyscall3(SYS_prctl, PR_SET_DATAPLANE, 0, 0);
}

void* SmallStackThread(void*) {
  EnterNearStackBottom(g_region + kCanaryBytes);
  return nullptr;
}

int SmallStack() {
  dptest::LockAndPrefault();
  g_region = static_cast<char*>(mmap(nullptr, kCanaryBytes + kStackBytes, PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (g_region == MAP_FAILED) return 90;
  memset(g_region, kCanary, kCanaryBytes);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstack(&attr, g_region + kCanaryBytes, kStackBytes);
  pthread_t thread;
  if (pthread_create(&thread, &attr, SmallStackThread, nullptr) != 0) return 91;
  pthread_join(thread, nullptr);
  for (size_t i = kCanaryBytes; i-- > 0;) {
    if (static_cast<unsigned char>(g_region[i]) != kCanary) {
      printf("entry=%ld canary=overwritten at -%zu\n", g_entry_result, kCanaryBytes - i);
      return 1;
    }
  }
  printf("entry=%ld canary=intact\n", g_entry_result);
  return 0;
}

// --- vdso-unmap / vdso-protnone --------------------------------------------

void* SpinUntilStrictThenGetpid(void*) {
  dptest::LockAndPrefault();
  pthread_setname_np(pthread_self(), "dp-worker");
  unsigned long long x = 1;
  // dp_status is a prctl: allowed in strict mode.
  while (dp_status() != PR_DATAPLANE_STRICT) {
    for (int i = 0; i < 100000; ++i) x = x * 6364136223846793005ULL + 1;
    g_sink = x;
  }
  dptest::RawSyscall0(SYS_getpid);
  return nullptr;
}

// The vDSO's extent, from /proc/self/maps.
bool FindVdso(unsigned long* start, unsigned long* end) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("[vdso]") == std::string::npos) continue;
    return sscanf(line.c_str(), "%lx-%lx", start, end) == 2;
  }
  return false;
}

int VdsoGone(bool unmap) {
  unsigned long start = 0, end = 0;
  if (!FindVdso(&start, &end)) return 92;
  // From here on nothing may use the vDSO: no clock_gettime, no time().
  const long rc = unmap ? dptest::RawSyscall3(SYS_munmap, start, end - start, 0)
                        : dptest::RawSyscall3(SYS_mprotect, start, end - start, PROT_NONE);
  if (rc != 0) return 93;
  printf("vdso gone\n");
  fflush(stdout);
  pthread_join(dptest::StartThread(SpinUntilStrictThenGetpid), nullptr);
  return 0;
}

// --- sigtrap-blocked -------------------------------------------------------

void* BlockedFaulter(void*) {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  dptest::LockAndPrefault();
  constexpr int kPages = 16;
  char* pages = FreshPages(kPages);
  dptest::EnterStrictOrDie();
  for (int i = 0; i < kPages; ++i) pages[i * 4096] = 1;
  dp_exit_strict();
  return nullptr;
}

int SigtrapBlocked() {
  pthread_join(dptest::StartThread(BlockedFaulter), nullptr);
  printf("faults done\n");
  return 0;
}

// --- seccomp filters of the program's own --------------------------------

// Fails getppid with EACCES, or traces it with data 4 (`trace`).
long InstallGetppidFilter(bool trace) {
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, trace ? (SECCOMP_RET_TRACE | 4) : (SECCOMP_RET_ERRNO | EACCES)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof(code) / sizeof(code[0])), code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return dptest::RawSyscall3(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                             reinterpret_cast<long>(&prog));
}

long g_getppid = 0;

void* GetppidWorker(void* mode) {
  const char* which = static_cast<const char*>(mode);
  dptest::LockAndPrefault();
  if (strcmp(which, "trace-filter-reentry") == 0) {
    dptest::EnterStrictOrDie();
    dp_exit_strict();
    if (InstallGetppidFilter(true) != 0) _exit(95);
  }
  dptest::EnterStrictOrDie();
  if (strcmp(which, "filter-in-strict") == 0 && InstallGetppidFilter(false) != 0) _exit(96);
  g_getppid = dptest::RawSyscall0(SYS_getppid);
  dp_exit_strict();
  return nullptr;
}

int Getppid(const char* mode) {
  if (strcmp(mode, "errno-filter") == 0 && InstallGetppidFilter(false) != 0) return 97;
  pthread_join(dptest::StartThread(GetppidWorker, const_cast<char*>(mode)), nullptr);
  printf("getppid=%ld\n", g_getppid);
  return 0;
}

// --- trap-filter: the program's own SECCOMP_RET_TRAP ------------------------

volatile sig_atomic_t g_sigsys_code = -1;
void OnSigsys(int, siginfo_t* info, void*) { g_sigsys_code = info->si_code; }

void* TrappedGetppid(void*) {
  dptest::LockAndPrefault();
  dptest::EnterStrictOrDie();
  g_getppid = dptest::RawSyscall0(SYS_getppid);
  dp_exit_strict();
  return nullptr;
}

// getppid raises SIGSYS (SYS_SECCOMP) through a filter of the program's; a
// strict thread whose policy allows getppid must still get it.
int TrapFilter() {
  struct sigaction action {};
  action.sa_sigaction = OnSigsys;
  action.sa_flags = SA_SIGINFO;
  sigaction(SIGSYS, &action, nullptr);
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof(code) / sizeof(code[0])), code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 97;
  if (dptest::RawSyscall3(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                          reinterpret_cast<long>(&prog)) != 0) {
    return 98;
  }
  pthread_join(dptest::StartThread(TrappedGetppid), nullptr);
  printf("sigsys_code=%d\n", static_cast<int>(g_sigsys_code));
  return 0;
}

// --- own-dispatch: a thread that uses syscall user dispatch itself (Wine) ----

volatile char g_dispatch_selector = 0;  // SYSCALL_DISPATCH_FILTER_ALLOW

void* OwnDispatchWorker(void*) {
  dptest::LockAndPrefault();
  // PR_SET_SYSCALL_USER_DISPATCH (59), on (1); the selector lets every
  // syscall through.
  if (prctl(59, 1, 0, 0, &g_dispatch_selector) != 0) _exit(94);
  dptest::EnterStrictOrDie();
  g_getppid = dptest::RawSyscall0(SYS_getppid);
  dp_exit_strict();
  return nullptr;
}

int OwnDispatch() {
  pthread_join(dptest::StartThread(OwnDispatchWorker), nullptr);
  printf("getppid=%ld\n", g_getppid);
  return 0;
}

// --- untraced-clone ---------------------------------------------------------

int g_child_status = -1;

void* UntracedCloner(void*) {
  dptest::LockAndPrefault();
  dptest::EnterStrictOrDie();
  dp_exit_strict();
  // A raw fork-like clone: the child runs on a copy of this stack.
  const long child = dptest::RawSyscall3(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0);
  if (child == 0) {
    const long pid = dptest::RawSyscall0(SYS_getpid);
    dptest::RawSyscall3(SYS_exit_group, pid < 0 ? 10 : 20, 0, 0);
  }
  int status = 0;
  if (child > 0 && waitpid(static_cast<pid_t>(child), &status, 0) == child) {
    g_child_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return nullptr;
}

int UntracedClone() {
  pthread_join(dptest::StartThread(UntracedCloner), nullptr);
  printf("child=%d\n", g_child_status);
  return 0;
}

// --- vsyscall ----------------------------------------------------------------

volatile sig_atomic_t g_handler_ran = 0;
void OnUsr1(int) { g_handler_ran = 1; }

void* VsyscallCaller(void*) {
  dptest::LockAndPrefault();
  using Gettimeofday = long (*)(struct timeval*, void*);
  const auto vsyscall_gettimeofday = reinterpret_cast<Gettimeofday>(0xffffffffff600000UL);
  struct timeval tv;
  memset(&tv, 0, sizeof(tv));
  dptest::EnterStrictOrDie();
  vsyscall_gettimeofday(&tv, nullptr);
  dp_exit_strict();
  return nullptr;
}

int Vsyscall() {
  signal(SIGUSR1, OnUsr1);
  pthread_join(dptest::StartThread(VsyscallCaller), nullptr);
  printf("vsyscall done%s\n", g_handler_ran ? ", handler ran" : "");
  return 0;
}

// --- handler-masks-sigtrap ---------------------------------------------------

constexpr int kHandlerPages = 3;
char* g_handler_pages;

void WriteHandlerPages(int) {
  for (int i = 0; i < kHandlerPages; ++i) g_handler_pages[i * 4096] = 1;
}


void* MaskingHandlerThread(void*) {
  dptest::LockAndPrefault();
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = WriteHandlerPages;
  sigfillset(&action.sa_mask);
  sigaction(SIGUSR2, &action, nullptr);
  g_handler_pages = FreshPages(kHandlerPages);
  const long tid = dptest::RawSyscall0(SYS_gettid);
  dptest::EnterStrictOrDie();
  dptest::RawSyscall3(SYS_tgkill, getpid(), tid, SIGUSR2);
  dp_exit_strict();
  return nullptr;
}

int HandlerMasksSigtrap() {
  pthread_join(dptest::StartThread(MaskingHandlerThread), nullptr);
  printf("handler faults done\n");
  return 0;
}

// --- sigmask-in-strict -----------------------------------------------------

int g_sees_blocked = -1;

void* MaskingFaulter(void*) {
  dptest::LockAndPrefault();
  constexpr int kPages = 4;
  char* pages = FreshPages(kPages);
  uint64_t trap = uint64_t{1} << (SIGTRAP - 1);
  uint64_t now = 0;
  dptest::EnterStrictOrDie();
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &trap, nullptr, sizeof(trap));
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, nullptr, &now, sizeof(now));
  for (int i = 0; i < kPages; ++i) pages[i * 4096] = 1;
  dp_exit_strict();
  g_sees_blocked = (now & trap) != 0;
  return nullptr;
}

int SigmaskInStrict() {
  pthread_join(dptest::StartThread(MaskingFaulter), nullptr);
  printf("sees sigtrap blocked=%d\n", g_sees_blocked);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (strcmp(mode, "exec-during-entry") == 0) return ExecDuringEntry();
  if (strcmp(mode, "small-stack") == 0) return SmallStack();
  if (strcmp(mode, "vdso-unmap") == 0) return VdsoGone(true);
  if (strcmp(mode, "vdso-protnone") == 0) return VdsoGone(false);
  if (strcmp(mode, "sigtrap-blocked") == 0) return SigtrapBlocked();
  if (strcmp(mode, "sigmask-in-strict") == 0) return SigmaskInStrict();
  if (strcmp(mode, "errno-filter") == 0 || strcmp(mode, "filter-in-strict") == 0 ||
      strcmp(mode, "trace-filter-reentry") == 0) {
    return Getppid(mode);
  }
  if (strcmp(mode, "untraced-clone") == 0) return UntracedClone();
  if (strcmp(mode, "trap-filter") == 0) return TrapFilter();
  if (strcmp(mode, "own-dispatch") == 0) return OwnDispatch();
  if (strcmp(mode, "vsyscall") == 0) return Vsyscall();
  if (strcmp(mode, "handler-masks-sigtrap") == 0) return HandlerMasksSigtrap();
  fprintf(stderr, "usage: adversary MODE\n");
  return 2;
}
