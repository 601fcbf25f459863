// Kills itself with the signal number given as argv[1] (default SIGTERM).
#include <signal.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  int sig = argc > 1 ? atoi(argv[1]) : SIGTERM;
  signal(sig, SIG_DFL);
  raise(sig);
  return 1;
}
