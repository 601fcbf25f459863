// workload_util.h: helpers shared by the benchmark workloads in tools/bench.
//
// The workloads are small programs that the driver (bench.cc) runs natively,
// under dpsupervise and under strace. They measure time inside the program,
// with clock_gettime through the vDSO (no kernel entry while the clocksource
// is the TSC), and print results on stdout as "key value value ..." lines
// once they are out of strict mode.
#ifndef DPSUPERVISE_TOOLS_BENCH_WORKLOAD_UTIL_H_
#define DPSUPERVISE_TOOLS_BENCH_WORKLOAD_UTIL_H_

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <string>
#include <vector>

#include "lib/dataplane.h"

namespace dpbench {

inline int64_t NowNs(clockid_t clock = CLOCK_MONOTONIC) {
  timespec ts;
  clock_gettime(clock, &ts);  // vDSO
  return static_cast<int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// Spins, without entering the kernel, for `ns` nanoseconds.
inline void SpinNs(int64_t ns) {
  const int64_t until = NowNs() + ns;
  while (NowNs() < until) __builtin_ia32_pause();
}

// "--name=value" flags: the value of `name`, or `fallback`.
inline long FlagLong(int argc, char** argv, const char* name, long fallback) {
  const size_t len = strlen(name);
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "--", 2) == 0 && strncmp(argv[i] + 2, name, len) == 0 &&
        argv[i][2 + len] == '=') {
      return strtol(argv[i] + 3 + len, nullptr, 10);
    }
  }
  return fallback;
}

// Pins the calling thread to `cpu` (no-op when cpu < 0). Exits 6 on failure:
// a benchmark that silently ran unpinned would mislead.
inline void PinSelf(long cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<int>(cpu), &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    fprintf(stderr, "sched_setaffinity(cpu %ld): %s\n", cpu, strerror(errno));
    exit(6);
  }
}

// Enters strict mode. Returns true when the thread is strict, false when
// not supervised (EINVAL): the caller then runs the same code, unconfined,
// for comparison. Exits 4 on any other error.
inline bool TryEnterStrict() {
  if (dp_enter_strict(0) == 0) return true;
  if (errno == EINVAL) return false;
  fprintf(stderr, "dp_enter_strict: %s\n", strerror(errno));
  exit(4);
}

// Prints "key v0 v1 ..." on stdout.
inline void PrintSamples(const char* key, const std::vector<int64_t>& values) {
  printf("%s", key);
  for (int64_t v : values) printf(" %lld", static_cast<long long>(v));
  printf("\n");
}

inline void PrintDoubles(const char* key, const std::vector<double>& values) {
  printf("%s", key);
  for (double v : values) printf(" %.2f", v);
  printf("\n");
}

}  // namespace dpbench

#endif  // DPSUPERVISE_TOOLS_BENCH_WORKLOAD_UTIL_H_
