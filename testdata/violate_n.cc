// violate_n [N [SIG]]: a worker thread enters strict mode (with
// PR_DATAPLANE_SIG(SIG) when SIG is given), then makes N violations of its
// own: getpid with a raw syscall, printing each result after leaving strict
// mode. A SIGUSR1 handler (installed before entry) writes a message and
// exits 3. Then it writes "hello" to stdout with a raw write(1, ...) and
// sched_yield()s while strict (allowed or failed by policies), and exits 0.
#include <signal.h>

#include "testdata/strict_test_util.h"

namespace {

int g_count = 1;
int g_signal = 0;
long g_results[64];
long g_write_result;
long g_yield_result;

void OnUsr1(int) {
  // Outside strict mode now: syscalls are fine.
  static const char kMessage[] = "handler: SIGUSR1 caught, exiting 3\n";
  (void)!write(1, kMessage, sizeof(kMessage) - 1);
  _exit(3);
}

__attribute__((noinline)) long ViolatingCall() { return dptest::RawSyscall0(SYS_getpid); }

void* Worker(void*) {
  dptest::LockAndPrefault();
  dptest::AnnounceTid("worker_tid");
  dptest::EnterStrictOrDie(g_signal ? PR_DATAPLANE_SIG(g_signal) : 0);
  for (int i = 0; i < g_count; ++i) g_results[i] = ViolatingCall();
  g_write_result = dptest::RawSyscall3(SYS_write, 1, reinterpret_cast<long>("hello\n"), 6);
  g_yield_result = dptest::RawSyscall0(SYS_sched_yield);
  dp_exit_strict();
  for (int i = 0; i < g_count; ++i) printf("result[%d]=%ld\n", i, g_results[i]);
  printf("write=%ld sched_yield=%ld\n", g_write_result, g_yield_result);
  fflush(stdout);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  g_count = argc > 1 ? atoi(argv[1]) : 1;
  if (g_count > 64) g_count = 64;
  g_signal = argc > 2 ? atoi(argv[2]) : 0;
  signal(SIGUSR1, OnUsr1);
  pthread_join(dptest::StartThread(Worker), nullptr);
  printf("done\n");
  return 0;
}
