// Prints "violator_pid=P violator_tid=T", enters strict mode and calls
// getpid. Used as the child of fork/vfork/clone tests and as an exec target:
// wherever it runs, dpsupervise must still be watching.
#include "testdata/strict_test_util.h"

int main() {
  dptest::LockAndPrefault();
  printf("violator_pid=%d violator_tid=%ld\n", getpid(), static_cast<long>(syscall(SYS_gettid)));
  fflush(stdout);
  dptest::EnterStrictOrDie();
  dptest::RawSyscall0(SYS_getpid);
  dp_exit_strict();
  printf("violator survived\n");
  return 0;
}
