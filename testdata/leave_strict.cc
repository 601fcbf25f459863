// Enters strict mode, leaves it, then makes ordinary syscalls (which now take
// the supervisor's slow path under the seccomp mechanism: an injected filter
// cannot be removed; under syscall user dispatch they are native again).
// Enters and leaves a second time (no second filter needed), then exits 0.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>

#include "testdata/strict_test_util.h"

namespace {
volatile sig_atomic_t g_handled = 0;
void OnUsr1(int) { g_handled = 1; }
}  // namespace

int main() {
  signal(SIGUSR1, OnUsr1);
  dptest::LockAndPrefault();
  for (int round = 1; round <= 2; ++round) {
    dptest::EnterStrictOrDie(PR_DATAPLANE_SIG(10));
    const int flags = dp_status();
    if (dp_exit_strict() != 0) return 6;
    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0 || write(fd, "x", 1) != 1) return 7;
    close(fd);
    printf("round=%d flags_while_strict=0x%x flags_after=0x%x pid_ok=%d\n", round, flags,
           dp_status(), getpid() > 0);
    fflush(stdout);
  }
  // Strict once more, then out: neither a fresh page nor a signal may be
  // reported any more.
  dptest::EnterStrictOrDie();
  dp_exit_strict();
  char* page = static_cast<char*>(
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  page[0] = 1;
  raise(SIGUSR1);
  printf("after leave: fault %s, signal %s\n", page[0] == 1 ? "ok" : "bad",
         g_handled ? "ok" : "bad");
  // What entering left behind: an injected strict filter stays for good.
  FILE* status = fopen("/proc/self/status", "r");
  char line[256];
  while (status != nullptr && fgets(line, sizeof(line), status) != nullptr) {
    if (strncmp(line, "Seccomp_filters:", 16) == 0) printf("seccomp_filters=%d\n", atoi(line + 16));
  }
  if (status != nullptr) fclose(status);
  return 0;
}
