// ipi_load: a strict thread interrupted by IPIs at a fixed rate, for the
// --noise benchmarks (the same interrupt load with and without tracing).
//
//   ipi_load --cpu=N --sender-cpu=M --rate=R --seconds=S --gap-ns=G
//
// The worker, pinned to N, enters strict mode and spins for S seconds
// reading CLOCK_MONOTONIC (vDSO, no kernel entry); a gap above G ns between
// two reads is an interruption (as oslat counts them), and its length is
// kept. Meanwhile the sender, a non-strict thread pinned to
// M, calls membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) R times a second
// (sleeping to absolute deadlines, so it leaves its CPU to the supervisor):
// each is an IPI to the worker's CPU. Then it prints
//
//   strict 0|1
//   sends <membarrier calls made>
//   interruptions <count>
//   stolen_ns <sum of the gaps>
//   max_gap_ns <largest>
//   gap_median_ns <median gap>   (most gaps are the IPIs at 10k/s; the
//   gap_p90_ns <90th percentile>  median is not moved by the rare long
//                                 preemptions a loaded machine adds)
//   parent_cpu_ms <CPU time of the parent (dpsupervise) so far>
//
// The sender thread is named "ipi-load-send".
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>

#include "tools/bench/workload_util.h"

namespace {

struct Config {
  long cpu = -1;
  long sender_cpu = -1;
  long rate = 10000;
  long seconds = 3;
  int64_t gap_ns = 500;
};

std::atomic<bool> g_worker_strict{false};
std::atomic<bool> g_stop{false};
std::atomic<long> g_sends{0};

// The worker's own record of its interruptions.
struct Gaps {
  long long count = 0;
  int64_t stolen_ns = 0;
  int64_t max_ns = 0;
  std::vector<int64_t> kept;  // the first ones, as many as were reserved
};

int64_t Percentile(std::vector<int64_t> values, double fraction) {
  if (values.empty()) return 0;
  const size_t at = static_cast<size_t>(fraction * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + at, values.end());
  return values[at];
}

// Sends one IPI to every CPU running this process's threads (the worker).
__attribute__((noinline)) void SendIpi() {
  if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
    perror("membarrier");
    exit(5);
  }
}

void* Sender(void* arg) {
  const Config& config = *static_cast<const Config*>(arg);
  prctl(PR_SET_NAME, "ipi-load-send");
  prctl(PR_SET_TIMERSLACK, 1);  // the default 50 us would halve 10k/s
  dpbench::PinSelf(config.sender_cpu);
  const int64_t period_ns = 1000000000LL / config.rate;
  timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (!g_stop.load()) {
    SendIpi();
    g_sends.fetch_add(1);
    next.tv_nsec += period_ns;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      ++next.tv_sec;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
  }
  return nullptr;
}

// CPU time of process `pid` (utime + stime of /proc/PID/stat), in ms.
double CpuMs(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  // Fields 3.. ; utime and stime are fields 14 and 15.
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index >= 14) ticks += atof(field.c_str());
  }
  return ticks * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  config.cpu = dpbench::FlagLong(argc, argv, "cpu", -1);
  config.sender_cpu = dpbench::FlagLong(argc, argv, "sender-cpu", -1);
  config.rate = dpbench::FlagLong(argc, argv, "rate", 10000);
  config.seconds = dpbench::FlagLong(argc, argv, "seconds", 3);
  config.gap_ns = dpbench::FlagLong(argc, argv, "gap-ns", 500);
  if (config.rate < 1 || config.seconds < 1) {
    fprintf(stderr, "ipi_load: --rate and --seconds must be positive\n");
    return 2;
  }
  if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) {
    perror("membarrier register");
    return 5;
  }
  dpbench::PinSelf(config.cpu);
  pthread_t sender;
  const int created = pthread_create(&sender, nullptr, Sender, &config);
  if (created != 0) {
    fprintf(stderr, "pthread_create: %s\n", strerror(created));
    return 5;
  }
  dpbench::SpinNs(1000);  // clock read once (vvar mapped)
  fflush(stdout);

  Gaps gaps;
  // Room for every gap at 4x the IPI rate, touched now: no page fault
  // while strict.
  gaps.kept.assign(static_cast<size_t>(config.rate * config.seconds * 4 + 100000), 0);
  size_t kept = 0;
  // Everything mapped so far stays in memory (MCL_FUTURE would make the
  // memory lock limit refuse the sender's stack where it is low).
  if (mlockall(MCL_CURRENT) != 0) perror("mlockall (continuing)");
  const bool strict = dpbench::TryEnterStrict();
  const int64_t end = dpbench::NowNs() + config.seconds * 1000000000LL;
  int64_t last = dpbench::NowNs();
  while (last < end) {
    const int64_t now = dpbench::NowNs();
    const int64_t gap = now - last;
    if (gap > config.gap_ns) {
      ++gaps.count;
      gaps.stolen_ns += gap;
      if (gap > gaps.max_ns) gaps.max_ns = gap;
      if (kept < gaps.kept.size()) gaps.kept[kept++] = gap;
    }
    last = now;
  }
  if (strict) dp_exit_strict();
  g_stop = true;
  pthread_join(sender, nullptr);

  printf("strict %d\n", strict ? 1 : 0);
  printf("sends %ld\n", g_sends.load());
  printf("interruptions %lld\n", gaps.count);
  printf("stolen_ns %lld\n", static_cast<long long>(gaps.stolen_ns));
  printf("max_gap_ns %lld\n", static_cast<long long>(gaps.max_ns));
  gaps.kept.resize(kept);
  printf("gap_median_ns %lld\n", static_cast<long long>(Percentile(gaps.kept, 0.5)));
  printf("gap_p90_ns %lld\n", static_cast<long long>(Percentile(gaps.kept, 0.9)));
  printf("parent_cpu_ms %.1f\n", CpuMs(getppid()));
  return 0;
}
