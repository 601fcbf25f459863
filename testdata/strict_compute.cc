// A worker thread goes strict, computes with no kernel entry, leaves strict
// mode and returns; the program exits 0. Unsupervised, entry fails with
// EINVAL and the program exits 3.
#include <pthread.h>
#include <stdio.h>

#include "lib/strict_guard.h"
#include "testdata/strict_test_util.h"

namespace {

unsigned long long g_result;
int g_status_while_strict = -1;

void* Worker(void*) {
  dptest::LockAndPrefault();
  dp::StrictGuard strict;
  if (!strict.ok()) {
    fprintf(stderr, "dp_enter_strict: %s%s\n", strerror(strict.error()),
            strict.error() == EINVAL ? " (not supervised)" : "");
    exit(strict.error() == EINVAL ? 3 : 4);
  }
  g_status_while_strict = dp_status();  // prctl: allowed while strict
  unsigned long long x = 1;
  for (int i = 0; i < 50 * 1000 * 1000; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  g_result = x;
  return nullptr;  // the guard leaves strict mode first
}

}  // namespace

int main() {
  printf("supervised=%d\n", dp_supervised());
  fflush(stdout);
  pthread_t thread = dptest::StartThread(Worker);
  pthread_join(thread, nullptr);
  printf("status_while_strict=%d status_after=%d result=%llx\n", g_status_while_strict,
         dp_status(), g_result);
  return 0;
}
