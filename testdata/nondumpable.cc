// nondumpable MODE: a program that makes itself non-dumpable
// (prctl(PR_SET_DUMPABLE, 0), as programs holding secrets do), for an
// unprivileged dpsupervise, whose process_vm_readv/writev, perf_event_open
// and even PTRACE_PEEKDATA/POKEDATA on such a process are refused.
//   enter (default): non-dumpable, prints "nondumpable_tid=T", enters strict
//          mode and calls open() on a path with a raw syscall.
//   serve: for attach tests, prints "pid=P" once non-dumpable; worker
//          "dp-worker" computes until SIGUSR1 (then the program exits 0).
//   serve-later: the same, but dumpable until the first SIGUSR2: then it
//          becomes non-dumpable, names its worker "dp-worker" and prints
//          "named"; a second SIGUSR2 makes the worker call open() on the
//          path once.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>

#include <atomic>

#include "testdata/strict_test_util.h"

namespace {

// Static, so the string is mapped and prefaulted before strict entry.
const char kProbePath[] = "/dpsupervise-nondumpable-probe";

std::atomic<bool> g_stop{false};
std::atomic<int> g_usr2{0};
volatile unsigned long long g_sink;

void OnUsr1(int) { g_stop = true; }
void OnUsr2(int) { ++g_usr2; }

void MakeNonDumpableOrDie() {
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    fprintf(stderr, "prctl(PR_SET_DUMPABLE, 0): %s\n", strerror(errno));
    exit(6);
  }
}

long OpenProbe() { return dptest::RawSyscall3(SYS_open, reinterpret_cast<long>(kProbePath), O_RDONLY, 0); }

int Enter() {
  dptest::LockAndPrefault();
  MakeNonDumpableOrDie();
  dptest::AnnounceTid("nondumpable_tid");
  dptest::EnterStrictOrDie();
  OpenProbe();
  dp_exit_strict();
  printf("nondumpable survived\n");
  return 0;
}

void* Worker(void*) {
  dptest::LeaveUserSignalsToTheMainThread();
  dptest::LockAndPrefault();
  unsigned long long x = 1;
  bool opened = false;
  while (!g_stop.load()) {
    x = x * 6364136223846793005ULL + 1;
    if (!opened && g_usr2.load() >= 2) {
      opened = true;
      OpenProbe();
    }
  }
  g_sink = x;
  return nullptr;
}

int Serve(bool later) {
  signal(SIGUSR1, OnUsr1);
  signal(SIGUSR2, OnUsr2);
  if (!later) MakeNonDumpableOrDie();
  pthread_t worker = dptest::StartThread(Worker);
  if (!later) pthread_setname_np(worker, "dp-worker");
  printf("pid=%d\n", getpid());
  fflush(stdout);
  if (later) {
    while (g_usr2.load() == 0 && !g_stop.load()) pause();
    MakeNonDumpableOrDie();
    pthread_setname_np(worker, "dp-worker");
    printf("named\n");
    fflush(stdout);
  }
  pthread_join(worker, nullptr);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "enter";
  if (strcmp(mode, "serve") == 0) return Serve(false);
  if (strcmp(mode, "serve-later") == 0) return Serve(true);
  return Enter();
}
