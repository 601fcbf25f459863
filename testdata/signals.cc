// signals MODE, with a strict worker spinning until told to stop:
//   child: a forked child process sends SIGUSR1 to the worker with tgkill;
//          it prints "sender_pid=P" first.
//   timer: a POSIX timer aimed at the worker's tid (SIGEV_THREAD_ID) fires.
//   nonstrict: SIGUSR1 goes to the main thread, which is not strict: its
//          handler runs as usual, the worker is untouched; exit 0.
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <atomic>

#include "testdata/strict_test_util.h"

namespace {

std::atomic<int> g_worker_tid{0};
std::atomic<bool> g_stop{false};
volatile sig_atomic_t g_main_handled = 0;

void* Worker(void*) {
  dptest::LockAndPrefault();
  dptest::AnnounceTid("worker_tid");
  dptest::EnterStrictOrDie();
  g_worker_tid = static_cast<int>(syscall(SYS_gettid));
  while (!g_stop.load()) {
  }
  dp_exit_strict();
  return nullptr;
}

void OnUsr1(int) { g_main_handled = 1; }

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "child";
  signal(SIGUSR1, OnUsr1);
  pthread_t worker = dptest::StartThread(Worker);
  while (g_worker_tid.load() == 0) {
  }
  const pid_t pid = getpid();
  const int tid = g_worker_tid.load();
  if (strcmp(mode, "child") == 0) {
    pid_t child = fork();
    if (child == 0) {
      printf("sender_pid=%d\n", getpid());
      fflush(stdout);
      syscall(SYS_tgkill, pid, tid, SIGUSR1);
      _exit(0);
    }
    waitpid(child, nullptr, 0);
  } else if (strcmp(mode, "timer") == 0) {
    sigevent event{};
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = SIGALRM;
    event._sigev_un._tid = tid;
    timer_t timer;
    if (timer_create(CLOCK_MONOTONIC, &event, &timer) != 0) return 9;
    itimerspec spec{};
    spec.it_value.tv_nsec = 1000000;  // 1 ms
    timer_settime(timer, 0, &spec, nullptr);
  } else if (strcmp(mode, "nonstrict") == 0) {
    syscall(SYS_tgkill, pid, static_cast<long>(syscall(SYS_gettid)), SIGUSR1);
    while (!g_main_handled) {
    }
    printf("main handled SIGUSR1\n");
    fflush(stdout);
    g_stop = true;
    pthread_join(worker, nullptr);
    return 0;
  }
  pthread_join(worker, nullptr);  // killed before this returns
  return 0;
}
