// Makes itself non-dumpable (prctl(PR_SET_DUMPABLE, 0), as programs holding
// secrets do), prints "nondumpable_tid=T", enters strict mode and calls
// open() on a path with a raw syscall. Run under an unprivileged
// dpsupervise, whose process_vm_readv and perf_event_open on such a program
// fail with EPERM/EACCES while ptrace's own word-wise access still works.
#include <fcntl.h>
#include <sys/prctl.h>

#include "testdata/strict_test_util.h"

// Static, so the string is mapped and prefaulted before strict entry.
static const char kProbePath[] = "/dpsupervise-nondumpable-probe";

int main() {
  dptest::LockAndPrefault();
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    fprintf(stderr, "prctl(PR_SET_DUMPABLE, 0): %s\n", strerror(errno));
    return 6;
  }
  dptest::AnnounceTid("nondumpable_tid");
  dptest::EnterStrictOrDie();
  dptest::RawSyscall3(SYS_open, reinterpret_cast<long>(kProbePath), O_RDONLY, 0);
  dp_exit_strict();
  printf("nondumpable survived\n");
  return 0;
}
