// Measures strict-mode entry as the program sees it: the first entry (the
// supervisor injects the strict filter) and re-entries (filter already in
// place), and the leave-then-syscall slow path. Prints one line of
// "name=nanoseconds" pairs (medians over the rounds given as argv[1]).
#include <time.h>

#include <algorithm>
#include <vector>

#include "testdata/strict_test_util.h"

namespace {

long long NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no kernel entry
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long Median(std::vector<long long> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? atoi(argv[1]) : 200;
  dptest::LockAndPrefault();
  long long t0 = NowNs();
  dptest::EnterStrictOrDie();
  const long long first_entry = NowNs() - t0;
  dp_exit_strict();
  std::vector<long long> reentry, leave, slow_syscall;
  for (int i = 0; i < rounds; ++i) {
    t0 = NowNs();
    dptest::EnterStrictOrDie();
    long long t1 = NowNs();
    dp_exit_strict();
    long long t2 = NowNs();
    dptest::RawSyscall0(SYS_getppid);  // filter still in place: slow path
    long long t3 = NowNs();
    reentry.push_back(t1 - t0);
    leave.push_back(t2 - t1);
    slow_syscall.push_back(t3 - t2);
  }
  printf("first_entry_ns=%lld reentry_ns=%lld leave_ns=%lld slow_path_syscall_ns=%lld\n",
         first_entry, Median(reentry), Median(leave), Median(slow_syscall));
  return 0;
}
