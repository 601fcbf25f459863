// Enters strict mode, leaves it, then makes ordinary syscalls (which now take
// the supervisor's slow path, since a seccomp filter cannot be removed).
// Enters and leaves a second time (no second filter needed), then exits 0.
#include <fcntl.h>

#include "testdata/strict_test_util.h"

int main() {
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
  return 0;
}
