// A worker thread goes strict and calls getpid: a violation. Under the
// default action the whole program is killed (exit 137) and the report names
// getpid and the worker's tid.
#include <pthread.h>

#include "testdata/strict_test_util.h"

namespace {

void* Worker(void*) {
  dptest::LockAndPrefault();
  dptest::AnnounceTid("worker_tid");
  dptest::EnterStrictOrDie();
  long pid = dptest::RawSyscall0(SYS_getpid);  // the violation
  dp_exit_strict();
  printf("survived getpid=%ld\n", pid);
  fflush(stdout);
  return nullptr;
}

}  // namespace

int main() {
  pthread_t thread = dptest::StartThread(Worker);
  pthread_join(thread, nullptr);
  return 0;
}
