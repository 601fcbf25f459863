// named_worker MODE: an unmodified-style program whose worker never asks
// for strict mode itself; dpsupervise's triggers make it strict from outside.
// The worker only observes its state with dp_status() (a prctl, allowed).
//   spin:    worker "rte-worker-1" computes; once strict, calls getpid.
//   comm:    worker starts as "plain"; the main thread renames it by writing
//            /proc/self/task/TID/comm; once strict, it calls getpid.
//   blocked: the worker blocks in read() on a pipe; the main thread names
//            it "blocked-worker" only then, and writes 5 bytes once the
//            trigger has interrupted the read. The read must return 5
//            (restarted, not EINTR) and the worker is strict afterwards; it
//            leaves strict mode itself and prints "read=5 strict=2".
//   window:  worker "rte-worker-1" waits to become strict, then to be made
//            non-strict again (--strict-for), then prints and exits 0.
//   pinned:  worker "pinned-worker" (matching no --strict-thread of the
//            tests) is pinned to CPU 1 by the main thread; once strict
//            (--strict-cpus), it calls getpid.
//   serve:   for attach tests: prints "pid=P", worker "rte-worker-1"
//            computes until SIGUSR1 (then the program exits 0); SIGUSR2
//            makes the worker call getppid once.
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <string>

#include "testdata/strict_test_util.h"

namespace {

const char* g_mode;
std::atomic<int> g_tid{0};
std::atomic<bool> g_stop{false};
std::atomic<bool> g_violate{false};
int g_pipe[2];
volatile unsigned long long g_sink;

bool IsStrict() { return dp_status() == PR_DATAPLANE_STRICT; }

void WaitUntilStrict() {
  unsigned long long x = 1;
  for (;;) {
    for (int i = 0; i < 100000; ++i) x = x * 6364136223846793005ULL + 1;
    g_sink = x;
    if (IsStrict()) return;
  }
}

void* Worker(void*) {
  dptest::LeaveUserSignalsToTheMainThread();
  dptest::LockAndPrefault();
  g_tid = static_cast<int>(syscall(SYS_gettid));
  if (strcmp(g_mode, "blocked") == 0) {
    char buf[8];
    long n = read(g_pipe[0], buf, sizeof(buf));
    WaitUntilStrict();
    const int flags = dp_status();
    dp_exit_strict();
    printf("read=%ld strict=%d\n", n, flags);
    return nullptr;
  }
  if (strcmp(g_mode, "window") == 0) {
    WaitUntilStrict();
    while (IsStrict()) {
    }
    printf("window over\n");
    return nullptr;
  }
  if (strcmp(g_mode, "serve") == 0) {
    unsigned long long x = 1;
    while (!g_stop.load()) {
      x = x * 6364136223846793005ULL + 1;
      if (g_violate.exchange(false)) dptest::RawSyscall0(SYS_getppid);
    }
    g_sink = x;
    return nullptr;
  }
  WaitUntilStrict();
  dptest::RawSyscall0(SYS_getpid);  // the violation
  dp_exit_strict();
  printf("survived\n");
  return nullptr;
}

void OnUsr1(int) { g_stop = true; }
void OnUsr2(int) { g_violate = true; }

// The whole of /proc/self/task/TID/FILE ("" if it cannot be read).
std::string TaskFile(int tid, const char* file) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/" + file);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A number from /proc/self/task/TID/status, after `field` (-1 if absent).
long StatusNumber(int tid, const char* field) {
  const std::string status = TaskFile(tid, "status");
  const size_t at = status.find(field);
  return at == std::string::npos ? -1 : atol(status.c_str() + at + strlen(field));
}

}  // namespace

int main(int argc, char** argv) {
  g_mode = argc > 1 ? argv[1] : "spin";
  if (pipe(g_pipe) != 0) return 9;
  signal(SIGUSR1, OnUsr1);
  signal(SIGUSR2, OnUsr2);
  if (strcmp(g_mode, "serve") == 0) {
    printf("pid=%d\n", getpid());
    fflush(stdout);
  }
  pthread_t worker = dptest::StartThread(Worker);
  // The worker is named only once its set-up (libc's thread start, signal
  // mask, mlock) is over: with --strict-after=0 a matching name makes it
  // strict at once, and set-up syscalls would then be violations.
  while (g_tid.load() == 0) {
  }
  const int tid = g_tid.load();
  if (strcmp(g_mode, "blocked") == 0) {
    // Named while blocked in read(): that is the case under test.
    while (TaskFile(tid, "syscall").rfind("0 ", 0) != 0) sched_yield();
  }
  const char* name = strcmp(g_mode, "blocked") == 0  ? "blocked-worker"
                     : strcmp(g_mode, "comm") == 0   ? "plain"
                     : strcmp(g_mode, "pinned") == 0 ? "pinned-worker"
                                                     : "rte-worker-1";
  pthread_setname_np(worker, name);
  if (strcmp(g_mode, "pinned") == 0) {
    // Pinned from here, so the worker itself makes no syscall for it.
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(1, &one);
    if (pthread_setaffinity_np(worker, sizeof(one), &one) != 0) return 11;
  }
  printf("worker_tid=%d\n", tid);
  fflush(stdout);
  if (strcmp(g_mode, "comm") == 0) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
    FILE* comm = fopen(path, "w");
    if (comm == nullptr) return 10;
    fputs("rte-worker-9", comm);
    fclose(comm);
  }
  if (strcmp(g_mode, "blocked") == 0) {
    // Data arrives once the trigger has interrupted the blocked read (the
    // worker's ptrace stop is one more voluntary context switch, then it
    // blocks in the restarted read again), or after 10 s: the outcome must
    // be the same in both orders, only the first is the case under test.
    // (The worker becomes strict at the read's exit, so strictness itself
    // cannot be awaited here.)
    const long switches = StatusNumber(tid, "voluntary_ctxt_switches:");
    const time_t give_up = time(nullptr) + 10;
    while (time(nullptr) < give_up &&
           !(StatusNumber(tid, "voluntary_ctxt_switches:") > switches &&
             TaskFile(tid, "syscall").rfind("0 ", 0) == 0)) {
      sched_yield();
    }
    if (write(g_pipe[1], "hello", 5) != 5) return 11;
  }
  pthread_join(worker, nullptr);
  return 0;
}
