// report_target MODE: programs whose reports the report tests inspect.
//   violate: a strict worker calls getpid from InnerFunction() at the line
//            marked VIOLATION_LINE (tests read this file to find it).
//   noise:   a strict worker pinned to CPU 1 makes 50 sched_yield calls
//            (run with --on-violation=log) and then spins while the main
//            thread, on CPU 0, sends membarrier IPIs to it; the summary must
//            show the violations, context switches and CAL interrupts.
//   quiesce: enters strict mode with PR_DATAPLANE_QUIESCE and leaves.
#include <linux/membarrier.h>
#include <sched.h>
#include <time.h>

#include <atomic>

#include "testdata/strict_test_util.h"

namespace {

const char* g_mode;
std::atomic<int> g_phase{0};

void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

__attribute__((noinline)) long InnerFunction() {
  long pid = dptest::RawSyscall0(SYS_getpid);  // VIOLATION_LINE
  return pid;
}

__attribute__((noinline)) long OuterFunction() { return InnerFunction() + 1; }

void* Worker(void*) {
  dptest::LockAndPrefault();
  if (strcmp(g_mode, "violate") == 0) {
    dptest::AnnounceTid("worker_tid");
    dptest::EnterStrictOrDie();
    OuterFunction();
  } else if (strcmp(g_mode, "noise") == 0) {
    Pin(1);
    dptest::AnnounceTid("worker_tid");
    dptest::EnterStrictOrDie();
    for (int i = 0; i < 50; ++i) dptest::RawSyscall0(SYS_sched_yield);
    g_phase.store(1);
    while (g_phase.load() != 2) {
    }
  } else if (strcmp(g_mode, "quiesce") == 0) {
    dptest::EnterStrictOrDie(PR_DATAPLANE_QUIESCE);
    const int flags = dp_status();
    dp_exit_strict();
    printf("quiesce flags=%d\n", flags);
  }
  dp_exit_strict();
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  g_mode = argc > 1 ? argv[1] : "violate";
  if (strcmp(g_mode, "noise") == 0) {
    Pin(0);
    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
  }
  pthread_t worker = dptest::StartThread(Worker);
  if (strcmp(g_mode, "noise") == 0) {
    while (g_phase.load() != 1) {
    }
    // membarrier only interrupts CPUs that are running one of our threads
    // at that moment; on a loaded machine the worker is sometimes
    // preempted, so keep at it for half a second rather than a count.
    timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
      syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
      clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) <
             500000000L);
    g_phase.store(2);
  }
  pthread_join(worker, nullptr);
  return 0;
}
