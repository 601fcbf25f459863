// Tests of the noise counters: the parsers on canned /proc text, the
// accumulation rules, and snapshots of real tasks whose counters the test
// makes move (blocking, page touching, migration, preemption, IPIs). Counts
// are asserted to increase, never to equal: the machine is shared and loaded.
#include "supervisor/noise/noise.h"
#include "supervisor/noise/own_affinity.h"

#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace dpsupervise {
namespace {

using ::testing::Contains;
using ::testing::Key;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// /proc/interrupts of a 2-vCPU VM of this kind (abridged).
constexpr char kTwoCpus[] =
    "           CPU0       CPU1       \n"
    " 24:          1          0  IO-APIC   5-edge      ACPI:Ged\n"
    " 36:          0      42308 PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0\n"
    "NMI:          0          0   Non-maskable interrupts\n"
    "LOC:      37622      37036   Local timer interrupts\n"
    "RES:       7286       7989   Rescheduling interrupts\n"
    "CAL:      34117      30181   Function call interrupts\n"
    "TLB:       4075       3818   TLB shootdowns\n"
    "ERR:          0\n"
    "MIS:          0\n"
    "PIW:          0          0   Posted-interrupt wakeup event\n";

// Four CPUs with CPU2 offline: its column is missing, so CPU3 is column 2.
constexpr char kFourCpusOneOffline[] =
    "           CPU0       CPU1       CPU3       \n"
    "  0:         45          0          0   IO-APIC   2-edge      timer\n"
    "  8:          0          1          0   IO-APIC   8-edge      rtc0\n"
    "LOC:     100000     200000     300000   Local timer interrupts\n"
    "CAL:         10         20         30   Function call interrupts\n"
    "ERR:          7\n"
    "MIS:          0\n";

TEST(ParseInterruptsTest, TwoCpus) {
  auto cpu0 = ParseInterrupts(kTwoCpus, 0);
  ASSERT_TRUE(cpu0.ok()) << cpu0.status();
  EXPECT_THAT(*cpu0, UnorderedElementsAre(Pair("24", 1), Pair("36", 0), Pair("NMI", 0),
                                          Pair("LOC", 37622), Pair("RES", 7286),
                                          Pair("CAL", 34117), Pair("TLB", 4075), Pair("PIW", 0)));
  auto cpu1 = ParseInterrupts(kTwoCpus, 1);
  ASSERT_TRUE(cpu1.ok());
  EXPECT_EQ(cpu1->at("36"), 42308);
  EXPECT_EQ(cpu1->at("LOC"), 37036);
  EXPECT_EQ(cpu1->at("CAL"), 30181);
  // System-wide totals are nobody's CPU.
  EXPECT_THAT(*cpu1, Not(Contains(Key("ERR"))));
  EXPECT_THAT(*cpu1, Not(Contains(Key("MIS"))));
  EXPECT_TRUE(absl::IsNotFound(ParseInterrupts(kTwoCpus, 2).status()));
}

TEST(ParseInterruptsTest, FourCpusFindsColumnsByName) {
  auto cpu3 = ParseInterrupts(kFourCpusOneOffline, 3);
  ASSERT_TRUE(cpu3.ok()) << cpu3.status();
  EXPECT_THAT(*cpu3, UnorderedElementsAre(Pair("0", 0), Pair("8", 0), Pair("LOC", 300000),
                                          Pair("CAL", 30)));
  auto cpu1 = ParseInterrupts(kFourCpusOneOffline, 1);
  ASSERT_TRUE(cpu1.ok());
  EXPECT_EQ(cpu1->at("8"), 1);
  EXPECT_EQ(cpu1->at("LOC"), 200000);
  EXPECT_TRUE(absl::IsNotFound(ParseInterrupts(kFourCpusOneOffline, 2).status()));
}

TEST(ParseInterruptsTest, RejectsGarbage) {
  EXPECT_FALSE(ParseInterrupts("", 0).ok());
  EXPECT_FALSE(ParseInterrupts("hello world\nLOC: 1 2\n", 0).ok());
}

TEST(ParseTaskFilesTest, StatusStatAndSched) {
  NoiseSnapshot s;
  ASSERT_TRUE(ParseStatusCounters("Name:\tx\nvoluntary_ctxt_switches:\t12\n"
                                  "nonvoluntary_ctxt_switches:\t3\n",
                                  &s)
                  .ok());
  EXPECT_EQ(s.voluntary_ctxt, 12);
  EXPECT_EQ(s.involuntary_ctxt, 3);
  EXPECT_FALSE(ParseStatusCounters("Name:\tx\n", &s).ok());

  // comm "a) (b" contains both parentheses and a space.
  ASSERT_TRUE(ParseStatFaults("77 (a) (b) S 1 77 77 0 -1 4194560 1234 0 5 0 1 2 0 0 20 0 1 0 9\n",
                              &s)
                  .ok());
  EXPECT_EQ(s.minor_faults, 1234);
  EXPECT_EQ(s.major_faults, 5);
  EXPECT_FALSE(ParseStatFaults("77 (a) S 1 2", &s).ok());

  auto migrations = ParseSchedMigrations(
      "x (77, #threads: 1)\n---\nse.exec_start   :   1.5\n"
      "se.nr_migrations                             :                   42\n"
      "nr_switches   :   9\n");
  ASSERT_TRUE(migrations.ok());
  EXPECT_EQ(*migrations, 42);
  EXPECT_FALSE(ParseSchedMigrations("nr_switches : 9\n").ok());
}

NoiseSnapshot Snap(long long vol, long long invol, long long mig, long long minflt,
                   long long majflt, int cpu, std::map<std::string, long long> irqs) {
  NoiseSnapshot s;
  s.valid = true;
  s.voluntary_ctxt = vol;
  s.involuntary_ctxt = invol;
  s.migrations = mig;
  s.minor_faults = minflt;
  s.major_faults = majflt;
  s.cpu = cpu;
  s.interrupts_on_cpu = std::move(irqs);
  return s;
}

TEST(AccumulateNoiseTest, AddsDeltasAcrossWindows) {
  ThreadSummary summary;
  AccumulateNoise(Snap(10, 1, -1, 100, 0, 1, {{"LOC", 50}, {"CAL", 7}, {"RES", 3}}),
                  Snap(15, 1, -1, 130, 0, 1, {{"LOC", 53}, {"CAL", 7}, {"RES", 4}, {"40", 2}}),
                  &summary);
  EXPECT_EQ(summary.voluntary_context_switches, 5);
  EXPECT_EQ(summary.involuntary_context_switches, 0);
  EXPECT_EQ(summary.cpu_migrations, -1);  // unknown in both: stays unmeasured
  EXPECT_EQ(summary.minor_faults, 30);
  EXPECT_EQ(summary.major_faults, 0);
  // Only nonzero deltas; an IRQ line that appeared counts from 0.
  EXPECT_THAT(summary.interrupts,
              UnorderedElementsAre(Pair("LOC", 3), Pair("RES", 1), Pair("40", 2)));

  // A second strict window adds on top.
  AccumulateNoise(Snap(20, 2, 5, 130, 1, 1, {{"LOC", 100}}),
                  Snap(21, 4, 6, 131, 1, 1, {{"LOC", 101}}), &summary);
  EXPECT_EQ(summary.voluntary_context_switches, 6);
  EXPECT_EQ(summary.involuntary_context_switches, 2);
  EXPECT_EQ(summary.cpu_migrations, 1);
  EXPECT_EQ(summary.minor_faults, 31);
  EXPECT_EQ(summary.interrupts["LOC"], 4);
}

TEST(AccumulateNoiseTest, DifferentCpusOrInvalidSnapshots) {
  ThreadSummary summary;
  AccumulateNoise(Snap(1, 1, 1, 1, 1, 0, {{"LOC", 1}}), Snap(2, 2, 2, 2, 2, 1, {{"LOC", 9}}),
                  &summary);
  EXPECT_EQ(summary.voluntary_context_switches, 1);
  EXPECT_TRUE(summary.interrupts.empty());  // columns of two CPUs: not comparable

  ThreadSummary untouched;
  NoiseSnapshot invalid;
  AccumulateNoise(invalid, Snap(2, 2, 2, 2, 2, 0, {}), &untouched);
  EXPECT_EQ(untouched.voluntary_context_switches, -1);
  EXPECT_EQ(untouched.minor_faults, -1);
}

// /proc/<pid>/task/<tid>/stat of a thread last on `processor` (field 39),
// minflt 7 (field 10), majflt 1 (field 12).
std::string TaskStat(int processor) {
  std::string stat = "101 (fake worker) R";
  for (int field = 4; field <= 52; ++field) {
    const int value = field == 10 ? 7 : field == 12 ? 1 : field == 39 ? processor : 0;
    stat += " " + std::to_string(value);
  }
  return stat + "\n";
}

// /proc/stat with steal (the 8th number) `cpu0_steal` and `cpu1_steal`.
std::string ProcStat(int cpu0_steal, int cpu1_steal) {
  return "cpu  100 0 50 900 3 0 2 " + std::to_string(cpu0_steal + cpu1_steal) +
         " 0 0\n"
         "cpu0 50 0 25 450 1 0 1 " +
         std::to_string(cpu0_steal) +
         " 0 0\n"
         "cpu1 50 0 25 450 2 0 1 " +
         std::to_string(cpu1_steal) +
         " 0 0\n"
         "intr 12345 0 0\nctxt 999\nbtime 1700000000\n";
}

// A fake proc tree under the test's temporary directory.
class FakeProc {
 public:
  FakeProc() : root_(std::string(getenv("TEST_TMPDIR")) + "/proc") {
    Write("100/task/101/status", "voluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t0\n");
    Write("interrupts", kTwoCpus);
  }
  void Write(const std::string& path, const std::string& text) {
    const std::string full = root_ + "/" + path;
    for (size_t slash = full.find('/', 1); slash != std::string::npos;
         slash = full.find('/', slash + 1)) {
      mkdir(full.substr(0, slash).c_str(), 0755);
    }
    FILE* file = fopen(full.c_str(), "w");
    ASSERT_NE(file, nullptr) << full << ": " << strerror(errno);
    fputs(text.c_str(), file);
    fclose(file);
  }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

TEST(ParseStealTest, EveryCpusStealColumn) {
  auto steal = ParseStealTicks(ProcStat(3, 42));
  ASSERT_TRUE(steal.ok()) << steal.status();
  EXPECT_THAT(*steal, UnorderedElementsAre(Pair(0, 3), Pair(1, 42)));
  // Before 2.6.11 the lines stop at softirq: no steal to report.
  EXPECT_FALSE(ParseStealTicks("cpu  1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7\n").ok());
  EXPECT_EQ(*ParseStatProcessor(TaskStat(1)), 1);
}

TEST(StealTest, TheStrictCpusStealOverTheWindowFromAFakeTree) {
  FakeProc proc;
  const int64_t tick_ns = 1000000000 / sysconf(_SC_CLK_TCK);
  proc.Write("100/task/101/stat", TaskStat(1));
  proc.Write("stat", ProcStat(5, 10));
  auto before = TakeNoiseSnapshot(100, 101, 1, proc.root());
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->ran_on_cpu, 1);
  EXPECT_EQ(before->minor_faults, 7);
  EXPECT_EQ(before->interrupts_on_cpu.at("LOC"), 37036);
  proc.Write("stat", ProcStat(9, 42));
  auto after = TakeNoiseSnapshot(100, 101, 1, proc.root());
  ASSERT_TRUE(after.ok()) << after.status();
  ThreadSummary summary;
  AccumulateNoise(*before, *after, &summary);
  // CPU 0's steal is not the thread's: it never ran there.
  EXPECT_THAT(summary.steal_ns, UnorderedElementsAre(Pair(1, 32 * tick_ns)));

  // The thread moved to CPU 0 during the next window: both CPUs count.
  proc.Write("100/task/101/stat", TaskStat(0));
  proc.Write("stat", ProcStat(11, 43));
  auto moved = TakeNoiseSnapshot(100, 101, 1, proc.root());
  ASSERT_TRUE(moved.ok()) << moved.status();
  AccumulateNoise(*after, *moved, &summary);
  EXPECT_THAT(summary.steal_ns,
              UnorderedElementsAre(Pair(0, 2 * tick_ns), Pair(1, 33 * tick_ns)));
}

TEST(StealTest, NoStealColumnIsNotMeasured) {
  FakeProc proc;
  proc.Write("100/task/101/stat", TaskStat(1));
  proc.Write("stat", "cpu  1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7\ncpu1 1 2 3 4 5 6 7\n");
  auto before = TakeNoiseSnapshot(100, 101, 1, proc.root());
  auto after = TakeNoiseSnapshot(100, 101, 1, proc.root());
  ASSERT_TRUE(before.ok() && after.ok());
  ThreadSummary summary;
  AccumulateNoise(*before, *after, &summary);
  EXPECT_TRUE(summary.steal_ns.empty());
}

TEST(OwnAffinityTest, ObserverCpusAreOursWithoutTheStrictOnes) {
  EXPECT_EQ(ObserverCpus({0, 1, 2, 3}, {1, 3}), (std::set<int>{0, 2}));
  EXPECT_TRUE(ObserverCpus({0, 1}, {0, 1}).empty());
  EXPECT_EQ(ObserverCpus({0}, {5}), (std::set<int>{0}));
}

TEST(OwnAffinityTest, RestrictOwnThreadsMovesEveryThreadOfTheProcess) {
  auto before = TaskAffinity(0);
  ASSERT_TRUE(before.ok()) << before.status();
  if (before->size() < 2) GTEST_SKIP() << "needs 2 CPUs to restrict to one";
  const int only = *before->begin();
  std::atomic<pid_t> other_tid{0};
  std::atomic<bool> done{false};
  std::thread other([&] {
    other_tid = static_cast<pid_t>(syscall(SYS_gettid));
    while (!done) usleep(1000);
  });
  while (other_tid == 0) usleep(1000);
  ASSERT_TRUE(RestrictOwnThreads({only}).ok());
  EXPECT_EQ(*TaskAffinity(0), std::set<int>{only});
  EXPECT_EQ(*TaskAffinity(other_tid), std::set<int>{only});
  done = true;
  other.join();
  ASSERT_TRUE(RestrictOwnThreads(*before).ok());  // as it was, for the other tests
  EXPECT_EQ(*TaskAffinity(0), *before);
}

TEST(TakeNoiseSnapshotTest, FailsForAMissingThread) {
  // Above the kernel's pid_max limit (4M): never a live task.
  EXPECT_FALSE(TakeNoiseSnapshot(getpid(), 5000000, -1).ok());
}

TEST(TakeNoiseSnapshotTest, ReadsThisThread) {
  const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  auto s = TakeNoiseSnapshot(getpid(), tid, 0);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->valid);
  EXPECT_GE(s->voluntary_ctxt, 0);
  EXPECT_GE(s->involuntary_ctxt, 0);
  EXPECT_GT(s->minor_faults, 0);  // it has run: at least its stack faulted in
  EXPECT_EQ(s->cpu, 0);
  EXPECT_THAT(s->interrupts_on_cpu, Contains(Key("LOC")));
  EXPECT_TRUE(s->when.tv_sec > 0 || s->when.tv_nsec > 0);
}

// A child process that runs `work` when told to, reports when done, then
// waits to be released, so the test snapshots it at rest before and after.
class WorkerProcess {
 public:
  explicit WorkerProcess(std::function<void()> work) {
    EXPECT_EQ(pipe(go_), 0);
    EXPECT_EQ(pipe(done_), 0);
    pid_ = fork();
    if (pid_ == 0) {
      // Only the parent may hold the write end of `go`, or EOF never comes.
      close(go_[1]);
      close(done_[0]);
      char c;
      if (read(go_[0], &c, 1) != 1) _exit(1);
      work();
      if (write(done_[1], "d", 1) != 1) _exit(1);
      // Blocks until the parent closes its end (or dies).
      while (read(go_[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);
    }
    close(go_[0]);
    close(done_[1]);
  }
  ~WorkerProcess() {
    close(go_[1]);
    close(done_[0]);
    int status;
    waitpid(pid_, &status, 0);
  }
  pid_t pid() const { return pid_; }
  // Starts `work` and waits until it finished.
  void RunWork() {
    ASSERT_EQ(write(go_[1], "g", 1), 1);
    char c;
    ASSERT_EQ(read(done_[0], &c, 1), 1);
  }

 private:
  int go_[2], done_[2];
  pid_t pid_;
};

ThreadSummary Measure(WorkerProcess& worker) {
  ThreadSummary summary;
  auto before = TakeNoiseSnapshot(worker.pid(), worker.pid(), -1);
  EXPECT_TRUE(before.ok()) << before.status();
  worker.RunWork();
  auto after = TakeNoiseSnapshot(worker.pid(), worker.pid(), -1);
  EXPECT_TRUE(after.ok()) << after.status();
  if (before.ok() && after.ok()) AccumulateNoise(*before, *after, &summary);
  return summary;
}

TEST(LiveNoiseTest, SleepingCountsVoluntarySwitches) {
  WorkerProcess worker([] {
    // The workload, not synchronization: each nanosleep blocks the task.
    for (int i = 0; i < 50; ++i) usleep(100);
  });
  const ThreadSummary summary = Measure(worker);
  EXPECT_GT(summary.voluntary_context_switches, 0);
}

TEST(LiveNoiseTest, TouchingFreshMemoryCountsMinorFaults) {
  WorkerProcess worker([] {
    constexpr size_t kBytes = 1 << 20;
    auto* p = static_cast<volatile char*>(
        mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) _exit(2);
    for (size_t i = 0; i < kBytes; i += 4096) p[i] = 1;
  });
  const ThreadSummary summary = Measure(worker);
  EXPECT_GT(summary.minor_faults, 0);
  EXPECT_EQ(summary.major_faults, 0);
}

bool HaveTwoCpus() {
  cpu_set_t set;
  return sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_ISSET(0, &set) && CPU_ISSET(1, &set);
}

bool PinTo(pid_t tid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(tid, sizeof(set), &set) == 0;
}

TEST(LiveNoiseTest, ChangingCpusCountsMigrations) {
  if (!HaveTwoCpus()) GTEST_SKIP() << "needs CPUs 0 and 1";
  if (access("/proc/self/sched", R_OK) != 0) GTEST_SKIP() << "no /proc/<pid>/sched here";
  WorkerProcess worker([] {
    // Moving itself to the other CPU migrates the task before the call returns.
    for (int i = 0; i < 10; ++i) {
      if (!PinTo(0, i % 2)) _exit(2);
    }
  });
  const ThreadSummary summary = Measure(worker);
  EXPECT_GT(summary.cpu_migrations, 0);
}

// Forks a process that spins on `cpu` until killed.
pid_t SpinOn(int cpu) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (!PinTo(0, cpu)) _exit(2);
    for (;;) {
    }
  }
  return pid;
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);
}

TEST(LiveNoiseTest, SharingACpuCountsInvoluntarySwitches) {
  if (!HaveTwoCpus()) GTEST_SKIP() << "needs CPUs 0 and 1";
  const pid_t a = SpinOn(1);
  const pid_t b = SpinOn(1);
  auto before = TakeNoiseSnapshot(a, a, 1);
  ASSERT_TRUE(before.ok()) << before.status();
  // Poll (not sleep) until the scheduler has preempted `a` for `b`: on the
  // order of a time slice (a few ms); the deadline only bounds a broken run.
  ThreadSummary summary;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (summary.involuntary_context_switches <= 0 &&
         std::chrono::steady_clock::now() < deadline) {
    sched_yield();
    auto after = TakeNoiseSnapshot(a, a, 1);
    ASSERT_TRUE(after.ok()) << after.status();
    summary = ThreadSummary();
    AccumulateNoise(*before, *after, &summary);
  }
  KillAndReap(a);
  KillAndReap(b);
  EXPECT_GT(summary.involuntary_context_switches, 0);
}

TEST(LiveNoiseTest, MembarrierIpisShowAsCalOnTheSpinnersCpu) {
  if (!HaveTwoCpus()) GTEST_SKIP() << "needs CPUs 0 and 1";
  if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) {
    GTEST_SKIP() << "no private expedited membarrier: " << strerror(errno);
  }
  cpu_set_t original;
  ASSERT_EQ(sched_getaffinity(0, sizeof(original), &original), 0);

  // The spinner is a thread of this process on CPU 1: a private expedited
  // membarrier IPIs exactly the CPUs running threads of this mm.
  std::atomic<pid_t> spinner_tid{0};
  std::atomic<bool> running{false}, stop{false};
  std::thread spinner([&] {
    const pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
    if (PinTo(0, 1)) running.store(true);
    spinner_tid.store(tid);
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  while (spinner_tid.load() == 0) sched_yield();
  ASSERT_TRUE(running.load()) << "cannot pin a thread to CPU 1";
  ASSERT_TRUE(PinTo(0, 0));  // the membarrier caller on the other CPU

  // A membarrier only IPIs CPUs that run a thread of this process at that
  // moment; on a loaded machine the spinner may be preempted for a while, so
  // keep issuing them until its CPU took one (the deadline bounds a broken
  // run, it is not a wait).
  auto before = TakeNoiseSnapshot(getpid(), spinner_tid.load(), 1);
  absl::StatusOr<NoiseSnapshot> after = before;
  ThreadSummary summary;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (before.ok() && after.ok() && summary.interrupts["CAL"] <= 0 &&
         std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 200; ++i) {
      if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) break;
    }
    after = TakeNoiseSnapshot(getpid(), spinner_tid.load(), 1);
    summary = ThreadSummary();
    if (after.ok()) AccumulateNoise(*before, *after, &summary);
  }
  stop.store(true);
  spinner.join();
  sched_setaffinity(0, sizeof(original), &original);

  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(after.ok()) << after.status();
  ASSERT_EQ(before->cpu, 1);
  EXPECT_GT(summary.interrupts["CAL"], 0) << "CAL before " << before->interrupts_on_cpu["CAL"]
                                          << ", after " << after->interrupts_on_cpu["CAL"];
  // The spinner never blocked while measured.
  EXPECT_EQ(summary.voluntary_context_switches, 0);
}

}  // namespace
}  // namespace dpsupervise
