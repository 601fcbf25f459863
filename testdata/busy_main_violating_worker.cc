// The main thread keeps making syscalls (it is not strict) while a worker
// goes strict and calls getpid. Only the worker may be blamed; the whole
// program is killed.
#include <pthread.h>
#include <atomic>

#include "testdata/strict_test_util.h"

namespace {

std::atomic<int> g_main_calls{0};

void* Worker(void*) {
  dptest::LockAndPrefault();
  // Violate only once the main thread is demonstrably busy in syscalls.
  while (g_main_calls.load() < 1000) {
  }
  dptest::AnnounceTid("worker_tid");
  dptest::EnterStrictOrDie();
  dptest::RawSyscall0(SYS_getpid);
  return nullptr;
}

}  // namespace

int main() {
  dptest::AnnounceTid("main_tid");
  dptest::StartThread(Worker);
  for (;;) {
    dptest::RawSyscall0(SYS_getppid);
    g_main_calls.fetch_add(1);
  }
}
