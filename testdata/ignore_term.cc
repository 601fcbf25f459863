// ignore_term: a program that will not be asked to stop. SIGINT, SIGTERM,
// SIGHUP and SIGQUIT are caught, each one announced on stdout ("ignoring
// SIGTERM") and otherwise ignored. Prints "ready pid=P" and waits forever.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <initializer_list>

namespace {

void Announce(int signal) {
  char message[64];
  const int n = snprintf(message, sizeof(message), "ignoring SIG%s\n", sigabbrev_np(signal));
  (void)!write(STDOUT_FILENO, message, n);
}

}  // namespace

int main() {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = Announce;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaction(signal, &action, nullptr);
  printf("ready pid=%d\n", getpid());
  fflush(stdout);
  for (;;) pause();
}
