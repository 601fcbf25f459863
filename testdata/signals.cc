// signals MODE, with a strict worker spinning until told to stop:
//   child: a child process (forked before the worker starts) sends SIGUSR1
//          to the worker with tgkill; it prints "sender_pid=P" first.
//   timer: a POSIX timer aimed at the worker's tid (SIGEV_THREAD_ID) fires.
//   nonstrict: SIGUSR1 goes to the main thread, which is not strict: its
//          handler runs as usual, the worker is untouched; exit 0.
//   ignored: the main thread sends the worker signals the kernel discards
//          at send time without a tracer: SIGUSR2 (set to SIG_IGN), and
//          SIGCHLD, SIGURG, SIGWINCH (ignored by default); once none is
//          pending any more, the worker leaves strict mode; exit 0.
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
  const int tid = static_cast<int>(syscall(SYS_gettid));
  dptest::EnterStrictOrDie();
  g_worker_tid = tid;
  // A SIGUSR1 handled in this thread (the deliver action) ends it too.
  while (!g_stop.load() && !g_main_handled) {
  }
  dp_exit_strict();
  if (g_main_handled) {
    printf("worker handled SIGUSR1\n");
    fflush(stdout);
  }
  return nullptr;
}

void OnUsr1(int) { g_main_handled = 1; }

// The signals pending for thread `tid` itself (SigPnd of its status).
uint64_t PendingSignals(int tid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
  FILE* status = fopen(path, "r");
  if (status == nullptr) return 0;
  char line[256];
  unsigned long long pending = 0;
  while (fgets(line, sizeof(line), status) != nullptr) {
    if (sscanf(line, "SigPnd: %llx", &pending) == 1) break;
  }
  fclose(status);
  return pending;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "child";
  signal(SIGUSR1, OnUsr1);
  // The sender is forked before the worker exists: a fork after it went
  // strict would make its stack copy-on-write, and its next write a fault.
  int to_sender[2];
  if (pipe(to_sender) != 0) return 10;
  const pid_t pid = getpid();
  pid_t sender = -1;
  if (strcmp(mode, "child") == 0) {
    sender = fork();
    if (sender == 0) {
      printf("sender_pid=%d\n", getpid());
      fflush(stdout);
      int tid = 0;
      if (read(to_sender[0], &tid, sizeof(tid)) != sizeof(tid)) _exit(1);
      syscall(SYS_tgkill, pid, tid, SIGUSR1);
      _exit(0);
    }
  }
  pthread_t worker = dptest::StartThread(Worker);
  while (g_worker_tid.load() == 0) {
  }
  const int tid = g_worker_tid.load();
  if (strcmp(mode, "child") == 0) {
    if (write(to_sender[1], &tid, sizeof(tid)) != sizeof(tid)) return 11;
    waitpid(sender, nullptr, 0);
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
  } else if (strcmp(mode, "ignored") == 0) {
    signal(SIGUSR2, SIG_IGN);
    const int kSignals[] = {SIGUSR2, SIGCHLD, SIGURG, SIGWINCH};
    uint64_t sent = 0;
    for (int signo : kSignals) {
      syscall(SYS_tgkill, pid, tid, signo);
      sent |= uint64_t{1} << (signo - 1);
    }
    // Dequeued while the worker is still strict (it cannot run a single
    // instruction with a signal pending): then it may stop.
    while (PendingSignals(tid) & sent) {
    }
    printf("sent 4 ignored signals\n");
    fflush(stdout);
    g_stop = true;
    pthread_join(worker, nullptr);
    return 0;
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
