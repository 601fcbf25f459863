/*
 * dataplane.c: the strict-mode library (lib/dataplane.h), in C99 so that C
 * projects (DPDK and its meson builds) compile and link it as they are; it
 * compiles as C++ too (tests/packaging_test.sh checks both).
 *
 * dp_enter_strict, dp_exit_strict, dp_status and dp_supervised are each one
 * prctl: the only syscall a strict thread may make.
 *
 * dp_wait_quiet waits, without entering the kernel, until the CPU has run
 * this thread uninterrupted for a while. See lib/dataplane.h for the contract
 * and docs/quiesce-and-noise.md for what it can and cannot guarantee.
 * How it sees interruptions: a thread that only reads the time stamp counter
 * in a tight loop sees consecutive reads a few dozen cycles apart. When the
 * CPU is taken away (an interrupt, an NMI, preemption, a VM exit) the loop
 * stops while the TSC keeps counting, so the next read is far from the last.
 * That gap is the interruption, as seen from the thread.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c99 */
#endif

#include "dataplane.h"

#include <errno.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define DP_HAVE_TSC 1
#else
#define DP_HAVE_TSC 0
#endif

int dp_enter_strict(int flags) {
  return prctl(PR_SET_DATAPLANE, (unsigned long)(flags | PR_DATAPLANE_STRICT), 0UL, 0UL, 0UL);
}

int dp_exit_strict(void) { return prctl(PR_SET_DATAPLANE, 0UL, 0UL, 0UL, 0UL); }

int dp_status(void) { return prctl(PR_GET_DATAPLANE, 0UL, 0UL, 0UL, 0UL); }

int dp_supervised(void) {
  const int saved_errno = errno;
  const int supervised = prctl(PR_GET_DATAPLANE, 0UL, 0UL, 0UL, 0UL) >= 0;
  errno = saved_errno;
  return supervised;
}

static uint64_t monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if DP_HAVE_TSC

static inline uint64_t ticks(void) { return __rdtsc(); }

/* TSC ticks per nanosecond; 0 until calibrated. Racing first calls may both
 * calibrate: harmless, they store nearly the same value, and a lock would be
 * a futex (a syscall) on contention. The GCC/Clang __atomic builtins stand in
 * for C11 atomics, which C99 lacks, and work in C++ too. */
static double g_ticks_per_ns = 0;

/* One TSC/CLOCK_MONOTONIC pair, taken so that the two reads are close: the
 * clock read is bracketed by TSC reads and retried when the bracket is wide
 * (the thread was interrupted in between). */
static void tsc_clock_pair(uint64_t* tsc, uint64_t* ns) {
  uint64_t best_width = UINT64_MAX;
  int i;
  for (i = 0; i < 16; ++i) {
    const uint64_t t0 = __rdtsc();
    const uint64_t clock = monotonic_ns();
    const uint64_t t1 = __rdtsc();
    if (t1 - t0 < best_width) {
      best_width = t1 - t0;
      *tsc = t0 + (t1 - t0) / 2;
      *ns = clock;
    }
  }
}

static double ticks_per_ns(void) {
  /* CLOCK_MONOTONIC is served by the vDSO when the clocksource is tsc (or
   * another vDSO-capable one): no kernel entry. Two milliseconds bound the
   * error to well under 0.1% with reads ~50 ns apart. */
  const uint64_t calibration_ns = 2000000;
  uint64_t tsc0, ns0, tsc1, ns1;
  double cached;
  __atomic_load(&g_ticks_per_ns, &cached, __ATOMIC_RELAXED);
  if (cached > 0) return cached;
  tsc_clock_pair(&tsc0, &ns0);
  do {
    tsc_clock_pair(&tsc1, &ns1);
  } while (ns1 - ns0 < calibration_ns);
  cached = (double)(tsc1 - tsc0) / (double)(ns1 - ns0);
  __atomic_store(&g_ticks_per_ns, &cached, __ATOMIC_RELAXED);
  return cached;
}

#else /* !DP_HAVE_TSC: no user-readable cycle counter known here; the vDSO
       * clock is the next best thing and measures in nanoseconds already. */

static inline uint64_t ticks(void) { return monotonic_ns(); }
static double ticks_per_ns(void) { return 1.0; }

#endif

/* ns -> ticks, saturating: a "forever" timeout must not wrap to a short one. */
static uint64_t to_ticks(unsigned long long ns, double per_ns) {
  const long double scaled = (long double)ns * per_ns;
  if (scaled >= (long double)UINT64_MAX) return UINT64_MAX;
  return (uint64_t)scaled;
}

int dp_wait_quiet(unsigned long long threshold_ns, unsigned long long window_ns,
                  unsigned long long timeout_ns) {
  double per_ns;
  uint64_t threshold, window, timeout, start, last, quiet_since;
  if (threshold_ns == 0 || window_ns > timeout_ns) {
    errno = EINVAL;
    return -1;
  }
  per_ns = ticks_per_ns();
  if (window_ns == 0) return 0;
  /* A threshold below one tick would be rounded to zero and every read
   * would count as a gap; one tick is the finest gap there is. */
  threshold = to_ticks(threshold_ns, per_ns);
  if (threshold == 0) threshold = 1;
  window = to_ticks(window_ns, per_ns);
  timeout = to_ticks(timeout_ns, per_ns);

  start = ticks();
  last = start;
  quiet_since = start;
  for (;;) {
    const uint64_t now = ticks();
    /* Unsigned: a TSC that went backwards (migration to a CPU whose TSC is
     * behind) shows as a huge gap and restarts the window, which is right,
     * since the thread just moved. */
    if (now - last > threshold) {
      quiet_since = now;
    } else if (now - quiet_since >= window) {
      return 0;
    }
    if (now - start >= timeout) {
      errno = ETIMEDOUT;
      return -1;
    }
    last = now;
  }
}
