// strict_test_util.h: helpers for test programs that run strict threads.
//
// A strict thread must make no hidden kernel entry of its own: everything it
// will touch is locked and pre-faulted before it enters, output is printed
// and flushed before it enters, and the syscalls a test needs are made with a
// raw `syscall` instruction so the exact number is known.
#ifndef DPSUPERVISE_TESTDATA_STRICT_TEST_UTIL_H_
#define DPSUPERVISE_TESTDATA_STRICT_TEST_UTIL_H_

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/dataplane.h"

namespace dptest {

// Thread stacks are kept small: inside Bazel's sandbox (a user namespace)
// root has no CAP_IPC_LOCK over the 8 MiB RLIMIT_MEMLOCK, and mlockall with
// MCL_FUTURE locks every new stack whole.
constexpr size_t kTestThreadStack = 256 * 1024;

// Starts a thread with a small stack; exits 5 on failure.
inline pthread_t StartThread(void* (*fn)(void*), void* arg = nullptr,
                             size_t stack_bytes = kTestThreadStack) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes);
  pthread_t thread;
  if (pthread_create(&thread, &attr, fn, arg) != 0) {
    fprintf(stderr, "pthread_create failed\n");
    exit(5);
  }
  pthread_attr_destroy(&attr);
  return thread;
}

// Locks all current and future memory (so new thread stacks are populated)
// and touches `stack_bytes` of the calling thread's stack.
inline void LockAndPrefault(size_t stack_bytes = 64 * 1024) {
  if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    fprintf(stderr, "mlockall: %s\n", strerror(errno));
    exit(90);
  }
  volatile char* stack = static_cast<volatile char*>(__builtin_alloca(stack_bytes));
  for (size_t i = 0; i < stack_bytes; i += 4096) stack[i] = 0;
}

// Blocks SIGUSR1 and SIGUSR2 in the calling thread, for a worker of a
// program whose main thread handles them: a process-directed signal may
// otherwise be delivered to the (strict) worker, a violation of its own.
inline void LeaveUserSignalsToTheMainThread() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

// A raw syscall with no C library wrapper in between: the exact instruction a
// report should point at.
inline long RawSyscall0(long nr) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
  return ret;
}

inline long RawSyscall3(long nr, long a0, long a1, long a2) {
  long ret;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a0), "S"(a1), "d"(a2)
               : "rcx", "r11", "memory");
  return ret;
}

// Prints "<label>=<tid>" and flushes, so a test can match the report's tid.
inline void AnnounceTid(const char* label) {
  printf("%s=%ld\n", label, static_cast<long>(syscall(SYS_gettid)));
  fflush(stdout);
}

// Enters strict mode or exits with a message: 3 when not supervised.
inline void EnterStrictOrDie(int flags = 0) {
  if (dp_enter_strict(flags) != 0) {
    const int err = errno;
    fprintf(stderr, "dp_enter_strict: %s%s\n", strerror(err),
            err == EINVAL ? " (not supervised)" : "");
    exit(err == EINVAL ? 3 : 4);
  }
}

}  // namespace dptest

#endif  // DPSUPERVISE_TESTDATA_STRICT_TEST_UTIL_H_
