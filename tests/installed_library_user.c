/*
 * A C program built by tests/packaging_test.sh against the installed tree,
 * with `pkg-config --cflags --libs dataplane` only: it enters strict mode
 * through libdataplane.so and then calls getppid, a violation that the
 * installed dpsupervise must report.
 */
#include <dataplane.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/* A raw syscall: no C library wrapper in between, so the report names the
 * exact call. */
static long raw_syscall0(long nr) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
  return ret;
}

int main(void) {
  /* Everything mapped is faulted in now, so that strict code takes no page
   * fault (a violation of its own) before the getppid. */
  if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    fprintf(stderr, "mlockall: %s\n", strerror(errno));
    return 90;
  }
  if (!dp_supervised()) {
    fprintf(stderr, "not supervised: run me under dpsupervise\n");
    return 3;
  }
  printf("supervised; entering strict mode\n");
  fflush(stdout);
  if (dp_enter_strict(0) != 0) {
    fprintf(stderr, "dp_enter_strict: %s\n", strerror(errno));
    return 4;
  }
  raw_syscall0(SYS_getppid); /* the violation: dpsupervise kills us here */
  dp_exit_strict();
  printf("survived a violation\n");
  return 0;
}
