// dp_wait_quiet: wait, without entering the kernel, until the CPU has run
// this thread uninterrupted for a while. See lib/dataplane.h for the contract
// and docs/quiesce-and-noise.md for what it can and cannot guarantee.
//
// How it sees interruptions: a thread that only reads the time stamp counter
// in a tight loop sees consecutive reads a few dozen cycles apart. When the
// CPU is taken away (an interrupt, an NMI, preemption, a VM exit) the loop
// stops while the TSC keeps counting, so the next read is far from the last.
// That gap is the interruption, as seen from the thread.
#include <errno.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <limits>

#include "lib/dataplane.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define DP_HAVE_TSC 1
#else
#define DP_HAVE_TSC 0
#endif

namespace {

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

#if DP_HAVE_TSC

inline uint64_t Ticks() { return __rdtsc(); }

// TSC ticks per nanosecond; 0 until calibrated. Racing first calls may both
// calibrate: harmless, they store nearly the same value, and a lock would be
// a futex (a syscall) on contention.
std::atomic<double> g_ticks_per_ns{0};

// One TSC/CLOCK_MONOTONIC pair, taken so that the two reads are close: the
// clock read is bracketed by TSC reads and retried when the bracket is wide
// (the thread was interrupted in between).
void Pair(uint64_t* tsc, uint64_t* ns) {
  uint64_t best_width = std::numeric_limits<uint64_t>::max();
  for (int i = 0; i < 16; ++i) {
    const uint64_t t0 = __rdtsc();
    const uint64_t clock = MonotonicNs();
    const uint64_t t1 = __rdtsc();
    if (t1 - t0 < best_width) {
      best_width = t1 - t0;
      *tsc = t0 + (t1 - t0) / 2;
      *ns = clock;
    }
  }
}

double TicksPerNs() {
  double cached = g_ticks_per_ns.load(std::memory_order_relaxed);
  if (cached > 0) return cached;
  // CLOCK_MONOTONIC is served by the vDSO when the clocksource is tsc (or
  // another vDSO-capable one): no kernel entry. Two milliseconds bound the
  // error to well under 0.1% with reads ~50 ns apart.
  constexpr uint64_t kCalibrationNs = 2000000;
  uint64_t tsc0, ns0, tsc1, ns1;
  Pair(&tsc0, &ns0);
  do {
    Pair(&tsc1, &ns1);
  } while (ns1 - ns0 < kCalibrationNs);
  cached = static_cast<double>(tsc1 - tsc0) / static_cast<double>(ns1 - ns0);
  g_ticks_per_ns.store(cached, std::memory_order_relaxed);
  return cached;
}

#else  // !DP_HAVE_TSC: no user-readable cycle counter known here; the vDSO
       // clock is the next best thing and measures in nanoseconds already.

inline uint64_t Ticks() { return MonotonicNs(); }
double TicksPerNs() { return 1.0; }

#endif

// ns -> ticks, saturating: a "forever" timeout must not wrap to a short one.
uint64_t ToTicks(unsigned long long ns, double ticks_per_ns) {
  const long double ticks = static_cast<long double>(ns) * ticks_per_ns;
  if (ticks >= static_cast<long double>(std::numeric_limits<uint64_t>::max())) {
    return std::numeric_limits<uint64_t>::max();
  }
  return static_cast<uint64_t>(ticks);
}

}  // namespace

extern "C" int dp_wait_quiet(unsigned long long threshold_ns, unsigned long long window_ns,
                             unsigned long long timeout_ns) {
  if (threshold_ns == 0 || window_ns > timeout_ns) {
    errno = EINVAL;
    return -1;
  }
  const double ticks_per_ns = TicksPerNs();
  if (window_ns == 0) return 0;
  // A threshold below one tick would be rounded to zero and every read
  // would count as a gap; one tick is the finest gap there is.
  uint64_t threshold = ToTicks(threshold_ns, ticks_per_ns);
  if (threshold == 0) threshold = 1;
  const uint64_t window = ToTicks(window_ns, ticks_per_ns);
  const uint64_t timeout = ToTicks(timeout_ns, ticks_per_ns);

  const uint64_t start = Ticks();
  uint64_t last = start;
  uint64_t quiet_since = start;
  for (;;) {
    const uint64_t now = Ticks();
    // Unsigned: a TSC that went backwards (migration to a CPU whose TSC is
    // behind) shows as a huge gap and restarts the window, which is right,
    // since the thread just moved.
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
