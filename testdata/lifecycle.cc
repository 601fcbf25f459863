// lifecycle MODE: programs for the supervisor's own lifecycle tests.
//   handler:   SIGINT/SIGTERM/SIGHUP handlers print "got <SIG>" and exit 7;
//              prints "ready pid=P child=C" (C: a forked child that waits
//              too) and waits.
//   daemon:    double fork + setsid; the parent exits 0 at once, the
//              daemon computes for a while, prints "daemon done" and exits.
//   flood:     1000 short-lived threads and 5000 signals to itself, then a
//              strict worker's getpid (the report must still be right).
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <initializer_list>

#include "testdata/strict_test_util.h"

namespace {

void OnSignal(int sig) {
  char message[64];
  int n = snprintf(message, sizeof(message), "got %s\n", sigabbrev_np(sig));
  (void)!write(1, message, n);
  _exit(7);
}

std::atomic<int> g_signals{0};
void CountSignal(int) { g_signals.fetch_add(1); }

void* Nothing(void*) { return nullptr; }

void* StrictViolator(void*) {
  dptest::LockAndPrefault();
  dptest::AnnounceTid("violator_tid");
  dptest::EnterStrictOrDie();
  dptest::RawSyscall0(SYS_getpid);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "handler";
  if (strcmp(mode, "handler") == 0) {
    pid_t child = fork();
    if (child == 0) {
      for (;;) pause();
    }
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) signal(sig, OnSignal);
    printf("ready pid=%d child=%d\n", getpid(), child);
    fflush(stdout);
    for (;;) pause();
  }
  if (strcmp(mode, "daemon") == 0) {
    if (fork() != 0) return 0;  // the launched process exits at once
    setsid();
    if (fork() != 0) _exit(0);
    volatile unsigned long long x = 1;
    for (long i = 0; i < 300 * 1000 * 1000; ++i) x = x * 3 + 1;
    printf("daemon done\n");
    fflush(stdout);
    return 0;
  }
  if (strcmp(mode, "flood") == 0) {
    for (int i = 0; i < 1000; ++i) pthread_join(dptest::StartThread(Nothing, nullptr, 64 * 1024), nullptr);
    signal(SIGUSR1, CountSignal);
    for (int i = 0; i < 5000; ++i) raise(SIGUSR1);
    printf("signals=%d\n", g_signals.load());
    fflush(stdout);
    pthread_join(dptest::StartThread(StrictViolator), nullptr);
    return 0;
  }
  return 2;
}
