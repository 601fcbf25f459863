// pidns_sibling_check COMMAND [ARGS...]: run as process 1 of a new pid
// namespace (unshare --pid --fork --kill-child --mount-proc). Starts a
// sibling process that only sleeps, then COMMAND, and waits (up to 60 s)
// until COMMAND exits or the sibling is stopped. Prints
//   command exit=N        (or "command exit=none" when it did not end)
//   sibling state=C       (the state letter of /proc/PID/stat: S, T, ...)
// and exits 0; leaving process 1 ends everything else in the namespace.
// Process 1 is never reached by kill(-1, ...), so it always gets to report.
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace {

// The state letter of `pid`, '?' when unreadable.
char StateOf(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  FILE* f = fopen(path, "r");
  if (f == nullptr) return '?';
  char line[512] = {};
  const bool read = fgets(line, sizeof(line), f) != nullptr;
  fclose(f);
  // "pid (comm) S ...": the comm may hold spaces and parentheses.
  const char* close = read ? strrchr(line, ')') : nullptr;
  return close != nullptr && close[1] == ' ' ? close[2] : '?';
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: pidns_sibling_check COMMAND [ARGS...]\n");
    return 2;
  }
  const pid_t sibling = fork();
  if (sibling == 0) {
    for (;;) pause();
  }
  const pid_t command = fork();
  if (command == 0) {
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    _exit(127);
  }
  if (sibling < 0 || command < 0) {
    perror("fork");
    return 2;
  }
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 6000 && !exited; ++i) {
    if (waitpid(command, &status, WNOHANG) == command) {
      exited = true;
      break;
    }
    const char state = StateOf(sibling);
    if (state == 'T' || state == 't') break;
    timespec ten_ms{0, 10 * 1000 * 1000};
    nanosleep(&ten_ms, nullptr);
  }
  if (!exited) {
    printf("command exit=none\n");
  } else if (WIFEXITED(status)) {
    printf("command exit=%d\n", WEXITSTATUS(status));
  } else {
    printf("command exit=%d\n", 128 + WTERMSIG(status));
  }
  printf("sibling state=%c\n", StateOf(sibling));
  fflush(stdout);
  return 0;
}
