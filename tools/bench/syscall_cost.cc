// syscall_cost: the cost of a syscall made by an ordinary (non-strict) thread.
//
//   syscall_cost --cpu=N --trials=T --trial-ms=M [--seccomp-allow=1]
//
// Pins itself to CPU N and, for each of getppid() and write(fd, buf, 8) on
// /dev/null, runs T trials of back-to-back raw `syscall` instructions for
// about M ms each (time-bounded, so the same command works natively and
// under strace, which is ~1000x slower). Prints:
//
//   getppid_ns <ns per call, one per trial> ...
//   write_ns <ns per call, one per trial> ...
//
// --seccomp-allow=1 first installs a one-instruction seccomp filter that
// allows everything (with SECCOMP_FILTER_FLAG_SPEC_ALLOW, as dpsupervise
// does): the floor that any seccomp-based supervisor pays on this kernel.
//
// It never makes quotactl: `strace --seccomp-bpf -e trace=quotactl` then
// traces nothing, and measures the cost of strace's seccomp filter alone.
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "testdata/strict_test_util.h"
#include "tools/bench/workload_util.h"

namespace {

constexpr int kBatch = 16;  // syscalls between two clock reads

template <typename F>
std::vector<double> Measure(long trials, int64_t trial_ns, F call) {
  std::vector<double> per_call;
  for (int i = 0; i < 64; ++i) call();  // warm-up
  for (long t = 0; t < trials; ++t) {
    long calls = 0;
    const int64_t t0 = dpbench::NowNs();
    int64_t now;
    do {
      for (int k = 0; k < kBatch; ++k) call();
      calls += kBatch;
      now = dpbench::NowNs();
    } while (now - t0 < trial_ns);
    per_call.push_back(static_cast<double>(now - t0) / static_cast<double>(calls));
  }
  return per_call;
}

// A filter of one instruction, SECCOMP_RET_ALLOW.
bool InstallAllowAllFilter() {
  sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  sock_fprog prog = {1, &allow};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &prog) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  const long cpu = dpbench::FlagLong(argc, argv, "cpu", -1);
  const long trials = dpbench::FlagLong(argc, argv, "trials", 5);
  const int64_t trial_ns = dpbench::FlagLong(argc, argv, "trial-ms", 20) * 1000000LL;
  dpbench::PinSelf(cpu);
  if (dpbench::FlagLong(argc, argv, "seccomp-allow", 0) != 0 && !InstallAllowAllFilter()) {
    perror("seccomp");
    return 1;
  }
  const int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    perror("open /dev/null");
    return 1;
  }
  static const char kBuf[8] = {'b', 'e', 'n', 'c', 'h', '.', '.', '\n'};
  const auto getppid_ns = Measure(trials, trial_ns, [] { dptest::RawSyscall0(SYS_getppid); });
  const auto write_ns =
      Measure(trials, trial_ns, [fd] { dptest::RawSyscall3(SYS_write, fd, reinterpret_cast<long>(kBuf), 8); });
  dpbench::PrintDoubles("getppid_ns", getppid_ns);
  dpbench::PrintDoubles("write_ns", write_ns);
  return 0;
}
