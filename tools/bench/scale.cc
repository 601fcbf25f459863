// scale: many strict threads violating at a controlled rate while many
// ordinary threads churn, for dpsupervise --on-violation=log --format=json.
//
//   scale --cpu=N --strict=S --nonstrict=K --seconds=D --period-ms=P --life-ms=L
//         --churn-per-s=C
//
// S strict threads each violate strict mode in a loop with
// poll((void*)(2000000 + index), 0, P): the first argument (never read by
// the kernel, since nfds is 0) names the thread, so a report that carries
// another thread's tid is misattributed; the call itself, let through by
// --on-violation=log, sleeps P ms. So each strict thread offers one
// violation per P ms plus the supervisor's handling time, and spends its
// time off the CPU: on a small machine 64 spinning strict threads sharing
// one CPU would measure the scheduler, not the supervisor (real strict
// threads own their CPU). The time a violation takes beyond P ms is the
// wait for the supervisor (and the CPU).
//
// K slots hold ordinary threads that make getppid() calls (with short
// sleeps) for L ms and exit; the main thread replaces each one as it ends
// (thread churn: clone and exit events for the supervisor), at most C per
// second (0: as fast as they end and the supervisor lets them start). The
// window of D seconds begins once every strict thread is in (or after 5 s),
// the churn slots start with it (their first 64 threads are not counted as
// creations). Then every
// strict thread leaves strict mode and the program prints on stdout (each
// tid was read by its thread before it entered strict mode):
//
//   strict_tid <index> <tid>             one per strict thread
//   strict_count <index> <violations> <was strict 0|1> <entry ns>
//                <longest extra wait in one violation, ns> <total extra wait ns>
//                                        one per strict thread, at the end
//   all_strict <threads strict when the window began> <ns from go until then>
//   window_ns <start> <end>              CLOCK_REALTIME of the measured window
//   creations <total> <per-second bucket> ...
//   nonstrict_syscalls <total>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "testdata/strict_test_util.h"
#include "tools/bench/workload_util.h"

namespace {

constexpr long kIdBase = 2000000;
constexpr size_t kStack = 64 * 1024;
constexpr int64_t kEntryTimeoutNs = 5000000000LL;

struct alignas(64) StrictThread {
  long index = 0;
  long tid = 0;
  long violations = 0;
  int strict = 0;
  int64_t entry_ns = 0;     // time blocked in the entry prctl
  int64_t max_wait_ns = 0;  // longest time blocked in one violation
  int64_t sum_wait_ns = 0;
};

struct alignas(64) ChurnSlot {
  std::atomic<bool> done{false};
  pthread_t thread{};
};

std::atomic<int> g_strict_in{0};
std::atomic<bool> g_stop{false};
std::atomic<long> g_nonstrict_syscalls{0};
long g_period_ms = 0;
int64_t g_life_ns = 0;

void* Strict(void* arg) {
  StrictThread* self = static_cast<StrictThread*>(arg);
  volatile char stack[16 * 1024];  // pre-fault this thread's stack
  for (size_t i = 0; i < sizeof(stack); i += 1024) stack[i] = 0;
  self->tid = syscall(SYS_gettid);
  const int64_t t_enter = dpbench::NowNs();
  self->strict = dpbench::TryEnterStrict() ? 1 : 0;
  self->entry_ns = dpbench::NowNs() - t_enter;
  g_strict_in.fetch_add(1);
  // Violations start at once: each sleeps in poll(), so the strict threads
  // do not take the CPU from those still entering. Violations made before
  // the window are checked (tid, count) but not counted in the rates.
  while (!g_stop.load(std::memory_order_relaxed)) {
    const int64_t t0 = dpbench::NowNs();
    dptest::RawSyscall3(SYS_poll, kIdBase + self->index, 0, g_period_ms);
    const int64_t wait = dpbench::NowNs() - t0 - g_period_ms * 1000000LL;
    ++self->violations;
    self->sum_wait_ns += wait;
    if (wait > self->max_wait_ns) self->max_wait_ns = wait;
  }
  if (self->strict) dp_exit_strict();
  return nullptr;
}

void* Churn(void* arg) {
  ChurnSlot* slot = static_cast<ChurnSlot*>(arg);
  const int64_t until = dpbench::NowNs() + g_life_ns;
  long calls = 0;
  const timespec nap = {0, 200 * 1000};
  while (dpbench::NowNs() < until && !g_stop.load(std::memory_order_relaxed)) {
    getppid();
    ++calls;
    nanosleep(&nap, nullptr);
  }
  g_nonstrict_syscalls.fetch_add(calls);
  slot->done.store(true);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  const long cpu = dpbench::FlagLong(argc, argv, "cpu", -1);
  const long n_strict = dpbench::FlagLong(argc, argv, "strict", 64);
  const long n_churn = dpbench::FlagLong(argc, argv, "nonstrict", 64);
  const long seconds = dpbench::FlagLong(argc, argv, "seconds", 3);
  g_period_ms = dpbench::FlagLong(argc, argv, "period-ms", 100);
  g_life_ns = dpbench::FlagLong(argc, argv, "life-ms", 20) * 1000000LL;
  const long churn_per_s = dpbench::FlagLong(argc, argv, "churn-per-s", 0);
  dpbench::PinSelf(cpu);  // every thread inherits the affinity
  if (mlockall(MCL_CURRENT) != 0) perror("mlockall (continuing)");

  // The window starts once every strict thread is in, or after a timeout:
  // a supervisor that starves some entries must not hang the benchmark.
  std::unique_ptr<StrictThread[]> strict(new StrictThread[n_strict]);
  std::vector<pthread_t> strict_threads;
  const int64_t go = dpbench::NowNs();
  for (long i = 0; i < n_strict; ++i) {
    strict[i].index = i;
    strict_threads.push_back(dptest::StartThread(Strict, &strict[i], kStack));
  }
  while (g_strict_in.load() < n_strict && dpbench::NowNs() - go < kEntryTimeoutNs) usleep(1000);
  const int64_t all_in_ns = dpbench::NowNs() - go;
  const int in_at_start = g_strict_in.load();
  for (long i = 0; i < n_strict; ++i) printf("strict_tid %ld %ld\n", i, strict[i].tid);
  fflush(stdout);

  std::unique_ptr<ChurnSlot[]> slots(new ChurnSlot[n_churn]);
  for (long i = 0; i < n_churn; ++i)
    slots[i].thread = dptest::StartThread(Churn, &slots[i], kStack);
  const int64_t start = dpbench::NowNs(CLOCK_REALTIME);
  const int64_t end = start + seconds * 1000000000LL;
  std::vector<long> buckets(static_cast<size_t>(seconds) + 1, 0);
  long creations = 0;
  const timespec tick = {0, 1000 * 1000};
  for (int64_t now = start; now < end; now = dpbench::NowNs(CLOCK_REALTIME)) {
    // Creations allowed so far at the controlled rate (unlimited when 0).
    const long allowed = churn_per_s > 0 ? (now - start) * churn_per_s / 1000000000LL + 1 : -1;
    for (long i = 0; i < n_churn; ++i) {
      if (allowed >= 0 && creations >= allowed) break;
      if (!slots[i].done.load()) continue;
      pthread_join(slots[i].thread, nullptr);
      slots[i].done.store(false);
      slots[i].thread = dptest::StartThread(Churn, &slots[i], kStack);
      ++creations;
      const size_t bucket =
          static_cast<size_t>((dpbench::NowNs(CLOCK_REALTIME) - start) / 1000000000LL);
      ++buckets[std::min(bucket, buckets.size() - 1)];
    }
    nanosleep(&tick, nullptr);
  }
  const int64_t stop = dpbench::NowNs(CLOCK_REALTIME);
  g_stop.store(true);
  for (pthread_t t : strict_threads) pthread_join(t, nullptr);
  for (long i = 0; i < n_churn; ++i) pthread_join(slots[i].thread, nullptr);

  for (long i = 0; i < n_strict; ++i) {
    printf("strict_count %ld %ld %d %lld %lld %lld\n", i, strict[i].violations, strict[i].strict,
           static_cast<long long>(strict[i].entry_ns),
           static_cast<long long>(strict[i].max_wait_ns),
           static_cast<long long>(strict[i].sum_wait_ns));
  }
  printf("all_strict %d %lld\n", in_at_start, static_cast<long long>(all_in_ns));
  printf("window_ns %lld %lld\n", static_cast<long long>(start), static_cast<long long>(stop));
  printf("creations %ld", creations);
  for (size_t b = 0; b + 1 < buckets.size(); ++b) printf(" %ld", buckets[b]);
  printf("\n");
  printf("nonstrict_syscalls %ld\n", g_nonstrict_syscalls.load());
  return 0;
}
