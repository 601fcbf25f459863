// entry_probe: strict-mode entry and exit as the program sees them, with
// every sample printed (testdata/entry_latency.cc prints medians only).
//
//   entry_probe --cpu=N --rounds=R
//
// Measures, with clock_gettime (vDSO):
//   native_getppid_ns  getppid() before any strict entry (base filter only)
//   first_entry_ns     the first prctl(PR_SET_DATAPLANE, STRICT): the
//                      supervisor injects the strict filter
//   reentry_ns         later entries (filter already in place)
//   leave_ns           prctl(PR_SET_DATAPLANE, 0), after 1 ms strict
//   slow_syscall_ns    getppid() after leaving: under the seccomp mechanism
//                      the strict filter stays and traps, the supervisor lets
//                      it through (ptrace round trip); under dispatch, native
//   left_getppid_ns    getppid() in a loop once the last window is over
// Exits 3 when unsupervised, after printing native_getppid_ns (no filter).
#include <sys/mman.h>
#include <sys/syscall.h>

#include <vector>

#include "testdata/strict_test_util.h"
#include "tools/bench/workload_util.h"

namespace {

constexpr int64_t kWindowNs = 1000000;

}  // namespace

int main(int argc, char** argv) {
  const long cpu = dpbench::FlagLong(argc, argv, "cpu", -1);
  const long rounds = dpbench::FlagLong(argc, argv, "rounds", 100);
  dpbench::PinSelf(cpu);
  if (mlockall(MCL_CURRENT) != 0) perror("mlockall (continuing)");
  std::vector<int64_t> native, reentry, leave, slow;
  native.reserve(rounds);
  reentry.reserve(rounds);
  leave.reserve(rounds);
  slow.reserve(rounds);
  for (long i = 0; i < rounds; ++i) {
    const int64_t t0 = dpbench::NowNs();
    dptest::RawSyscall0(SYS_getppid);
    native.push_back(dpbench::NowNs() - t0);
  }

  int64_t t0 = dpbench::NowNs();
  if (!dpbench::TryEnterStrict()) {
    // Unsupervised: the native getppid cost, the bench's reference.
    printf("strict 0\n");
    dpbench::PrintSamples("native_getppid_ns", native);
    return 3;
  }
  const int64_t first_entry = dpbench::NowNs() - t0;
  dp_exit_strict();
  for (long i = 0; i < rounds; ++i) {
    t0 = dpbench::NowNs();
    dp_enter_strict(0);
    const int64_t t1 = dpbench::NowNs();
    // A strict window of 1 ms, as a dataplane's are (much) longer: the
    // supervisor reads the window's entry counters once the thread runs
    // again, and an immediate leave would wait for that too.
    while (dpbench::NowNs() - t1 < kWindowNs) {
    }
    const int64_t t1_leave = dpbench::NowNs();
    dp_exit_strict();
    const int64_t t2 = dpbench::NowNs();
    dptest::RawSyscall0(SYS_getppid);
    const int64_t t3 = dpbench::NowNs();
    reentry.push_back(t1 - t0);
    leave.push_back(t2 - t1_leave);
    slow.push_back(t3 - t2);
  }
  // Steady state after leaving, timed as the native loop was.
  std::vector<int64_t> left;
  left.reserve(rounds);
  for (long i = 0; i < rounds; ++i) {
    t0 = dpbench::NowNs();
    dptest::RawSyscall0(SYS_getppid);
    left.push_back(dpbench::NowNs() - t0);
  }
  printf("strict 1\n");
  printf("first_entry_ns %lld\n", static_cast<long long>(first_entry));
  dpbench::PrintSamples("native_getppid_ns", native);
  dpbench::PrintSamples("reentry_ns", reentry);
  dpbench::PrintSamples("leave_ns", leave);
  dpbench::PrintSamples("slow_syscall_ns", slow);
  dpbench::PrintSamples("left_getppid_ns", left);
  return 0;
}
