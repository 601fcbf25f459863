// step_signals MODE: signals and deaths around the single-step with which
// --enter-at-every executes the instruction under its breakpoint at
// StepTarget(). Each call of StepTarget() makes the caller strict; it
// leaves strict mode right after (dp_exit_strict, an allowed prctl).
//   timer:  a 5 ms interval timer (setitimer ITIMER_REAL, SIGALRM handler)
//           runs while the only thread calls StepTarget() until it has been
//           called 1000 times and the handler has run 50 times; a SIGALRM
//           pending at the breakpoint is then dequeued during the step.
//           Prints "handler_runs=H calls=C", exits 0.
//   exit:   for --enter-at-every=SyscallHere, a breakpoint on a syscall
//           instruction: a first thread's step executes exit (the thread
//           ends inside the step); a second thread then reaches it with
//           getpid, is made strict, and violates with getppid (or prints
//           "second thread strict=0" and exits 0 if it was not made strict).
//   killed: a worker calls StepTarget() in a loop; once it has made 200
//           calls, the main thread kills the process (SIGKILL), if it can
//           while the worker is held at the breakpoint.
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>

#include <atomic>

#include "testdata/strict_test_util.h"

namespace {

std::atomic<int> g_handler_runs{0};
std::atomic<int> g_calls{0};

void OnAlarm(int) { g_handler_runs.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

extern "C" __attribute__((noinline)) int StepTarget() {
  volatile unsigned long long x = 1;
  for (int i = 0; i < 100; ++i) x = x * 3 + 1;
  return static_cast<int>(x & 1);
}

// SyscallAt(NR): the syscall NR, made by the instruction at SyscallHere,
// where a breakpoint is executed by the single-step itself.
extern "C" long SyscallAt(long nr);
asm(R"(
  .text
  .globl SyscallAt
  .type SyscallAt, @function
SyscallAt:
  mov %rdi, %rax
  .globl SyscallHere
  .type SyscallHere, @function
SyscallHere:
  syscall
  ret
)");

namespace {

void CallAndLeave() {
  StepTarget();
  dp_exit_strict();
  g_calls.fetch_add(1, std::memory_order_relaxed);
}

int RunTimer() {
  dptest::LockAndPrefault();
  struct sigaction action = {};
  action.sa_handler = OnAlarm;
  sigaction(SIGALRM, &action, nullptr);
  // The first entry injects the strict filter; later ones only flip the
  // thread's state, so the timer's signals meet nothing but the step.
  CallAndLeave();
  const itimerval every_5ms = {{0, 5000}, {0, 5000}};
  if (setitimer(ITIMER_REAL, &every_5ms, nullptr) != 0) return 8;
  while (g_calls.load() < 1000 || g_handler_runs.load() < 50) CallAndLeave();
  const itimerval off = {};
  setitimer(ITIMER_REAL, &off, nullptr);
  printf("handler_runs=%d calls=%d\n", g_handler_runs.load(), g_calls.load());
  return 0;
}

std::atomic<int> g_worker_tid{0};

void* CallForever(void*) {
  dptest::LockAndPrefault();
  g_worker_tid = static_cast<int>(syscall(SYS_gettid));
  for (;;) CallAndLeave();
  return nullptr;
}

// Whether thread `tid` is stopped with its pc at `pc` (the third field of
// /proc/self/task/TID/syscall, "-1 SP PC" for a stopped thread).
bool StoppedAt(int tid, uintptr_t pc) {
  char path[64], text[128] = {};
  snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
  FILE* f = fopen(path, "re");
  if (f == nullptr) return false;
  const bool read = fgets(text, sizeof(text), f) != nullptr;
  fclose(f);
  unsigned long long sp = 0, at = 0;
  return read && sscanf(text, "-1 %llx %llx", &sp, &at) == 2 && at == pc;
}

int RunKilled() {
  dptest::StartThread(CallForever);
  while (g_calls.load() < 200) {
  }
  // Killed while the worker is held at the int3 (its pc just past it), so
  // the supervisor is busy with that stop when the SIGKILL lands; after a
  // few thousand looks, killed anywhere.
  const uintptr_t after_int3 = reinterpret_cast<uintptr_t>(&StepTarget) + 1;
  for (int look = 0; look < 5000 && !StoppedAt(g_worker_tid.load(), after_int3); ++look) {
  }
  kill(getpid(), SIGKILL);
  return 9;  // not reached
}

void* ExitInTheStep(void*) {
  SyscallAt(SYS_exit);  // ends this thread
  return nullptr;
}

void* ViolateAfterEntry(void*) {
  dptest::LockAndPrefault();
  SyscallAt(SYS_getpid);  // executed by the step, before strict entry
  const int flags = dp_status();
  if (flags != 0) dptest::RawSyscall0(SYS_getppid);  // the violation
  printf("second thread strict=%d\n", flags);
  return nullptr;
}

int RunExitInStep() {
  pthread_join(dptest::StartThread(ExitInTheStep), nullptr);
  printf("first thread gone\n");
  fflush(stdout);
  pthread_join(dptest::StartThread(ViolateAfterEntry), nullptr);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "timer";
  if (strcmp(mode, "timer") == 0) return RunTimer();
  if (strcmp(mode, "killed") == 0) return RunKilled();
  if (strcmp(mode, "exit") == 0) return RunExitInStep();
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
