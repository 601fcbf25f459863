// named_worker MODE: an unmodified-style program whose worker never asks
// for strict mode itself; dpsupervise's triggers make it strict from outside.
// The worker only observes its state with dp_status() (a prctl, allowed).
//   spin:    worker "rte-worker-1" computes; once strict, calls getpid.
//   comm:    worker starts as "plain"; the main thread renames it by writing
//            /proc/self/task/TID/comm; once strict, it calls getpid.
//   blocked: worker "blocked-worker" blocks in read() on a pipe; the main
//            thread writes 5 bytes a moment later. The read must return 5
//            (restarted, not EINTR) and the worker is strict afterwards; it
//            leaves strict mode itself and prints "read=5 strict=2".
//   window:  worker "rte-worker-1" waits to become strict, then to be made
//            non-strict again (--strict-for), then prints and exits 0.
//   serve:   for attach tests: prints "pid=P", worker "rte-worker-1"
//            computes until SIGUSR1 (then the program exits 0); SIGUSR2
//            makes the worker call getppid once.
#include <signal.h>

#include <atomic>

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
  // Signals are for the main thread: a process-directed signal may
  // otherwise be delivered to this (strict) thread, a violation of its own.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
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
  const char* name = strcmp(g_mode, "blocked") == 0 ? "blocked-worker"
                     : strcmp(g_mode, "comm") == 0  ? "plain"
                                                    : "rte-worker-1";
  pthread_setname_np(worker, name);
  while (g_tid.load() == 0) {
  }
  printf("worker_tid=%d\n", g_tid.load());
  fflush(stdout);
  if (strcmp(g_mode, "comm") == 0) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/comm", g_tid.load());
    FILE* comm = fopen(path, "w");
    if (comm == nullptr) return 10;
    fputs("rte-worker-9", comm);
    fclose(comm);
  }
  if (strcmp(g_mode, "blocked") == 0) {
    // Give the trigger time to find the worker blocked in read(); the
    // result is the same either way (both orders are valid and checked).
    volatile unsigned long long x = 1;
    for (long i = 0; i < 200 * 1000 * 1000; ++i) x = x * 3 + 1;
    if (write(g_pipe[1], "hello", 5) != 5) return 11;
  }
  pthread_join(worker, nullptr);
  return 0;
}
