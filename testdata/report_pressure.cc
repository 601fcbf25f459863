// report_pressure MODE N: makes violations (getpid, raw syscall, in strict
// mode) while the reports are hard to write, then prints "done" on stdout
// and exits 3. Meant for --on-violation=log.
//   fill: makes the standard error it shares with dpsupervise non-blocking
//         (O_NONBLOCK on the shared open file description), writes to it
//         until it is full (EAGAIN), prints "filled", then makes N
//         violations.
//   gone: makes one violation, prints "first", waits for a line on stdin
//         (meanwhile the reader of stderr goes away), then makes N more.
#include <fcntl.h>

#include "testdata/strict_test_util.h"

namespace {

void Violate(int count) {
  dptest::EnterStrictOrDie();
  for (int i = 0; i < count; ++i) dptest::RawSyscall0(SYS_getpid);
  dp_exit_strict();
}

void FillStderr() {
  const int flags = fcntl(STDERR_FILENO, F_GETFL);
  if (flags < 0 || fcntl(STDERR_FILENO, F_SETFL, flags | O_NONBLOCK) != 0) {
    perror("fcntl");
    exit(2);
  }
  static char chunk[4096];
  memset(chunk, 'x', sizeof(chunk));
  long total = 0;
  for (;;) {
    const ssize_t n = write(STDERR_FILENO, chunk, sizeof(chunk));
    if (n > 0) {
      total += n;
      continue;
    }
    if (n < 0 && errno == EAGAIN) break;
    perror("write");
    exit(2);
  }
  printf("filled=%ld\n", total);
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: report_pressure fill|gone N\n");
    return 2;
  }
  const int count = atoi(argv[2]);
  dptest::LockAndPrefault();
  if (strcmp(argv[1], "fill") == 0) {
    FillStderr();
    Violate(count);
  } else {
    Violate(1);
    printf("first\n");
    fflush(stdout);
    char line[16];
    if (fgets(line, sizeof(line), stdin) == nullptr) return 2;
    Violate(count);
  }
  printf("done\n");
  fflush(stdout);
  return 3;
}
