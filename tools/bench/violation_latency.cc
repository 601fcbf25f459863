// violation_latency: a strict thread that violates strict mode N times, for
// dpsupervise --on-violation=log --format=json.
//
//   violation_latency --cpu=N --count=C --gap-us=G
//
// Each violation is getpriority(PRIO_PROCESS, 1000000 + i), made with a raw
// `syscall` instruction right after reading CLOCK_REALTIME (vDSO); the
// second argument identifies it in the JSON report (raw_args[1]), and
// fails harmlessly (ESRCH) when the syscall is let through. Violations are
// G microseconds apart (spinning, no kernel entry), so that each report is
// written and read on its own. After leaving strict mode it prints:
//
//   strict 0|1
//   before_ns <CLOCK_REALTIME before violation 0> <... 1> ...
//
// Exits 3 when unsupervised (nothing to measure).
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <vector>

#include "tools/bench/workload_util.h"

namespace {

constexpr long kIdBase = 1000000;

inline long Raw2(long nr, long a0, long a1) {
  long ret;
  asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1) : "rcx", "r11", "memory");
  return ret;
}

}  // namespace

int main(int argc, char** argv) {
  const long cpu = dpbench::FlagLong(argc, argv, "cpu", -1);
  const long count = dpbench::FlagLong(argc, argv, "count", 100);
  const int64_t gap_ns = dpbench::FlagLong(argc, argv, "gap-us", 1000) * 1000;
  dpbench::PinSelf(cpu);
  if (mlockall(MCL_CURRENT) != 0) perror("mlockall (continuing)");
  std::vector<int64_t> before(static_cast<size_t>(count), 0);  // touched before strict
  dpbench::SpinNs(1000);                                       // clock read once (vvar mapped)
  dpbench::NowNs(CLOCK_REALTIME);
  fflush(stdout);

  if (!dpbench::TryEnterStrict()) {
    printf("strict 0\n");
    return 3;
  }
  for (long i = 0; i < count; ++i) {
    dpbench::SpinNs(gap_ns);
    before[static_cast<size_t>(i)] = dpbench::NowNs(CLOCK_REALTIME);
    Raw2(SYS_getpriority, PRIO_PROCESS, kIdBase + i);
  }
  dp_exit_strict();

  printf("strict 1\n");
  dpbench::PrintSamples("before_ns", before);
  return 0;
}
