// enter_at MODE: an unmodified-style program for --enter-at/--leave-at.
// DataplaneLoop() is where a thread should become strict; it reports what
// dp_status() (a prctl, allowed) says inside, and optionally violates.
//   first:  thread A, then thread B, each run DataplaneLoop(0) and print
//           "A strict=F" / "B strict=F" (F: flags seen inside).
//   violate: a thread runs DataplaneLoop(1): getpid inside.
//   violate_deleted: the same, after deleting its own executable file.
//   leave:  DataplaneLoop(0), then LeaveHere(), then an ordinary getpid.
//   libc:   a thread calls libc's getppid().
//   serve:  prints "pid=P addr=0xA" (A: DataplaneLoop's address); SIGUSR1
//           makes a worker run DataplaneLoop(1), SIGUSR2 ends the program.
#include <signal.h>

#include <atomic>

#include "testdata/strict_test_util.h"

namespace {
std::atomic<int> g_go{0};
std::atomic<bool> g_quit{false};
}  // namespace

extern "C" __attribute__((noinline)) int DataplaneLoop(int violate) {
  volatile unsigned long long x = 1;
  for (int i = 0; i < 1000; ++i) x = x * 3 + 1;
  const int flags = dp_status();
  if (violate) dptest::RawSyscall0(SYS_getpid);
  return flags;
}

extern "C" __attribute__((noinline)) void LeaveHere() { asm volatile("" ::: "memory"); }

namespace {

const char* g_mode;

void* RunLoop(void* arg) {
  dptest::LockAndPrefault();
  const char* who = static_cast<const char*>(arg);
  const int flags = DataplaneLoop(strcmp(g_mode, "violate") == 0);
  dp_exit_strict();
  if (strcmp(g_mode, "leave") == 0) {
    // Enter again, then leave at LeaveHere() (the breakpoint), so that the
    // getpid below is ordinary.
    DataplaneLoop(0);
    LeaveHere();
    printf("after leave: flags=%d getpid_ok=%d\n", dp_status(), getpid() > 0);
  }
  printf("%s strict=%d\n", who, flags);
  fflush(stdout);
  return nullptr;
}

void* CallGetppid(void*) {
  dptest::LockAndPrefault();
  dptest::AnnounceTid("worker_tid");
  printf("getppid=%d\n", getppid());
  return nullptr;
}

void* Serve(void*) {
  dptest::LeaveUserSignalsToTheMainThread();
  dptest::LockAndPrefault();
  while (!g_quit.load()) {
    if (g_go.exchange(0)) {
      DataplaneLoop(1);
      dp_exit_strict();
      printf("worker looped\n");
      fflush(stdout);
    }
  }
  return nullptr;
}

void OnUsr1(int) { g_go = 1; }
void OnUsr2(int) { g_quit = true; }

}  // namespace

int main(int argc, char** argv) {
  g_mode = argc > 1 ? argv[1] : "first";
  if (strcmp(g_mode, "violate_deleted") == 0) {
    char self[4096] = {};
    if (readlink("/proc/self/exe", self, sizeof(self) - 1) <= 0 || unlink(self) != 0) return 12;
    g_mode = "violate";
  }
  if (strcmp(g_mode, "libc") == 0) {
    pthread_join(dptest::StartThread(CallGetppid), nullptr);
  } else if (strcmp(g_mode, "serve") == 0) {
    signal(SIGUSR1, OnUsr1);
    signal(SIGUSR2, OnUsr2);
    printf("pid=%d addr=%p\n", getpid(), reinterpret_cast<void*>(&DataplaneLoop));
    fflush(stdout);
    pthread_join(dptest::StartThread(Serve), nullptr);
  } else {
    pthread_join(dptest::StartThread(RunLoop, const_cast<char*>("A")), nullptr);
    if (strcmp(g_mode, "first") == 0) {
      pthread_join(dptest::StartThread(RunLoop, const_cast<char*>("B")), nullptr);
    }
  }
  return 0;
}
