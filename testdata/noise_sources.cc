// noise_sources: a strict worker spinning on CPU 1 that others interrupt on
// purpose, for the --noise end-to-end tests. Once the worker is strict:
//   - thread "ipi-sender" (on CPU 0) calls
//     membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) 50 times, from
//     SendMembarrierIpi, called through SendFromBigFrame (the sender's
//     backtrace names them, and Sender, whose frame lies beyond the
//     stack copy made at the send): each sends an IPI to CPU 1 while the
//     worker runs there;
//   - process "cpu-hog" (this program run as `noise_sources hog`), pinned
//     to CPU 1 under SCHED_FIFO, wakes 20 times and spins 2 ms: its
//     wakeups preempt the worker;
//   - the sender then writes /proc/sys/vm/stat_refresh 5 times: each runs
//     the work item refresh_vm_stats on every CPU (and waits for it), so a
//     kworker preempts the worker;
//   - the worker then calls getpid once (run by --on-violation=log): the
//     stop dpsupervise makes for it is noise dpsupervise causes;
// then the program prints "worker=TID sender=TID hog=PID", the worker
// leaves strict mode and the program exits 0. With the argument `migrate`,
// before that the main thread moves the worker to CPU 0
// (sched_setaffinity of its tid): a migration while it is strict. Needs 2 CPUs (exits 2
// otherwise) and root (SCHED_FIFO; exits 7 otherwise; stat_refresh: 8).
#include <fcntl.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include <atomic>

#include "testdata/strict_test_util.h"

namespace {

constexpr int kStrictCpu = 1;
constexpr int kOtherCpu = 0;
constexpr int kMembarrierCalls = 50;
constexpr int kStatRefreshWrites = 5;

std::atomic<bool> g_worker_strict{false};
std::atomic<bool> g_stop{false};
std::atomic<int> g_sender_tid{0};
std::atomic<int> g_worker_tid{0};
volatile unsigned long long g_sink;

void PinTo(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    fprintf(stderr, "sched_setaffinity(cpu %d): %s\n", cpu, strerror(errno));
    exit(2);
  }
}

void Spin(int rounds) {
  unsigned long long x = 1;
  for (int i = 0; i < rounds; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  g_sink = x;
}

void* Worker(void*) {
  dptest::LockAndPrefault();
  PinTo(kStrictCpu);
  g_worker_tid = static_cast<int>(syscall(SYS_gettid));
  if (dp_enter_strict(0) != 0) {
    fprintf(stderr, "dp_enter_strict: %s\n", strerror(errno));
    exit(3);
  }
  g_worker_strict = true;
  while (!g_stop.load()) Spin(1000);
  syscall(SYS_getpid);  // a violation: dpsupervise stops the worker for it
  dp_exit_strict();
  return nullptr;
}

// Its own frame (noinline) in the IPI sender's backtrace, with a libc
// frame (syscall) below it.
__attribute__((noinline)) void SendMembarrierIpi() {
  if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
    fprintf(stderr, "membarrier: %s\n", strerror(errno));
    exit(4);
  }
}

// A frame bigger than the sender's stack copy (1 KiB): its caller, Sender,
// is found only through the kernel's frame-pointer callchain.
__attribute__((noinline)) void SendFromBigFrame() {
  volatile char pad[4096];
  pad[0] = 1;
  SendMembarrierIpi();
  pad[sizeof(pad) - 1] = pad[0];
}

void* Sender(void*) {
  prctl(PR_SET_NAME, "ipi-sender");  // named before its first IPI
  PinTo(kOtherCpu);
  g_sender_tid = static_cast<int>(syscall(SYS_gettid));
  const timespec pause{0, 2 * 1000 * 1000};
  for (int i = 0; i < kMembarrierCalls; ++i) {
    SendFromBigFrame();
    nanosleep(&pause, nullptr);
  }
  for (int i = 0; i < kStatRefreshWrites; ++i) {
    int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
    if (fd < 0 || write(fd, "1\n", 2) != 2) {
      fprintf(stderr, "/proc/sys/vm/stat_refresh: %s\n", strerror(errno));
      exit(8);
    }
    close(fd);
    nanosleep(&pause, nullptr);
  }
  return nullptr;
}

// The competing process: on the worker's CPU, SCHED_FIFO, so each of its
// wakeups preempts whatever ordinary task runs there (the worker, mostly):
// 20 rounds of sleeping 5 ms and spinning 2 ms.
int Hog() {
  prctl(PR_SET_NAME, "cpu-hog");
  PinTo(kStrictCpu);
  const sched_param fifo{1};
  if (sched_setscheduler(0, SCHED_FIFO, &fifo) != 0) {
    fprintf(stderr, "sched_setscheduler(SCHED_FIFO): %s\n", strerror(errno));
    return 7;
  }
  const timespec pause{0, 5 * 1000 * 1000};
  for (int round = 0; round < 20; ++round) {
    nanosleep(&pause, nullptr);
    timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
      Spin(10000);
      clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000000000LL + (now.tv_nsec - start.tv_nsec) <
             2 * 1000 * 1000);
  }
  return 0;
}

// posix_spawn, not fork: a fork would make the strict worker's pages
// copy-on-write, and its next store a page fault.
pid_t StartHog() {
  char name[] = "noise_sources";
  char mode[] = "hog";
  char* argv[] = {name, mode, nullptr};
  pid_t pid = 0;
  int error = posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, environ);
  if (error != 0) {
    fprintf(stderr, "posix_spawn: %s\n", strerror(error));
    exit(6);
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "hog") == 0) return Hog();
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    fprintf(stderr, "needs 2 CPUs\n");
    return 2;
  }
  if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) {
    fprintf(stderr, "membarrier register: %s\n", strerror(errno));
    return 4;
  }
  pthread_t worker = dptest::StartThread(Worker);
  while (!g_worker_strict.load()) sched_yield();
  pthread_t sender = dptest::StartThread(Sender);
  pid_t hog = StartHog();
  pthread_join(sender, nullptr);
  int status = 0;
  waitpid(hog, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "cpu-hog failed\n");
    return 7;
  }
  if (argc > 1 && strcmp(argv[1], "migrate") == 0) {
    cpu_set_t other;
    CPU_ZERO(&other);
    CPU_SET(kOtherCpu, &other);
    if (sched_setaffinity(g_worker_tid.load(), sizeof(other), &other) != 0) {
      fprintf(stderr, "sched_setaffinity(worker, cpu %d): %s\n", kOtherCpu, strerror(errno));
      return 9;
    }
    const timespec settle{0, 20 * 1000 * 1000};  // the worker spins on there a while
    nanosleep(&settle, nullptr);
  }
  printf("worker=%d sender=%d hog=%d\n", g_worker_tid.load(), g_sender_tid.load(), hog);
  fflush(stdout);
  g_stop = true;
  pthread_join(worker, nullptr);
  return 0;
}
