// Tests of the strict-entry preflight: every check against fake /sys and
// /proc trees (each way it can pass and fail), then the real checks on a
// thread of this test, whose known results on these machines (no isolated
// CPU, no nohz_full) are asserted when the machine matches.
#include "supervisor/noise/preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tests/test_files.h"

namespace dpsupervise {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr pid_t kPid = 4242;
constexpr pid_t kTid = 4243;

void MakeDirs(const std::string& path) {
  for (size_t pos = 1; (pos = path.find('/', pos)) != std::string::npos; ++pos) {
    mkdir(path.substr(0, pos).c_str(), 0755);
  }
  mkdir(path.c_str(), 0755);
}

void WriteFile(const std::string& path, const std::string& text) {
  MakeDirs(path.substr(0, path.rfind('/')));
  dptest::WriteTestFile(path, text);
}

// A fake machine. Fields hold file contents; an empty optional-like "" with
// the matching `has_` flag false means the file does not exist.
struct FakeMachine {
  std::string isolated = "2-3\n";
  bool has_nohz_full = true;
  std::string nohz_full = "2-3\n";
  std::string clocksource = "tsc\n";
  std::string available_clocksources = "tsc hpet acpi_pm \n";
  std::string thp = "always madvise [never]\n";
  std::string cpus_allowed = "2";
  long long vm_lck_kb = 10240;
  long long vm_rss_kb = 10200;
  std::string thp_enabled_line = "THP_enabled:\t1\n";
  int policy = SCHED_FIFO;
  int rt_priority = 50;
  std::string cpu_flags = "fpu vme de pse tsc";
};

// Writes `m` under a fresh directory and returns the env pointing at it.
PreflightEnv Build(const FakeMachine& m) {
  static int counter = 0;
  const std::string root = absl::StrCat(dptest::TestTmpDir(), "/preflight_fake_", getpid(), "_", counter++);
  PreflightEnv env{root + "/sys", root + "/proc"};
  const std::string cpu = env.sys_root + "/devices/system/cpu";
  WriteFile(cpu + "/isolated", m.isolated);
  if (m.has_nohz_full) WriteFile(cpu + "/nohz_full", m.nohz_full);
  MakeDirs(cpu);
  const std::string cs = env.sys_root + "/devices/system/clocksource/clocksource0";
  WriteFile(cs + "/current_clocksource", m.clocksource);
  WriteFile(cs + "/available_clocksource", m.available_clocksources);
  WriteFile(env.sys_root + "/kernel/mm/transparent_hugepage/enabled", m.thp);
  WriteFile(env.proc_root + "/cpuinfo",
            absl::StrCat("processor\t: 0\nflags\t\t: ", m.cpu_flags, "\n\nprocessor\t: 1\nflags\t\t: ",
                         m.cpu_flags, "\n"));
  const std::string status = absl::StrCat(
      "Name:\tworker\nTgid:\t", kPid, "\nPid:\t", kTid, "\nVmLck:\t   ", m.vm_lck_kb,
      " kB\nVmRSS:\t   ", m.vm_rss_kb, " kB\n", m.thp_enabled_line,
      "Cpus_allowed:\tf\nCpus_allowed_list:\t", m.cpus_allowed,
      "\nvoluntary_ctxt_switches:\t3\nnonvoluntary_ctxt_switches:\t1\n");
  WriteFile(absl::StrCat(env.proc_root, "/", kPid, "/status"), status);
  const std::string task = absl::StrCat(env.proc_root, "/", kPid, "/task/", kTid);
  WriteFile(task + "/status", status);
  // A comm with a space and a ')' to check the stat parser; fields 3..52.
  std::string stat = absl::StrCat(kTid, " (rte worker) 1) R");
  for (int field = 4; field <= 52; ++field) {
    long long value = field;
    if (field == 40) value = m.rt_priority;
    if (field == 41) value = m.policy;
    absl::StrAppend(&stat, " ", value);
  }
  WriteFile(task + "/stat", stat + "\n");
  return env;
}

std::map<std::string, PreflightFinding> ByCheck(const std::vector<PreflightFinding>& findings) {
  std::map<std::string, PreflightFinding> out;
  for (const PreflightFinding& f : findings) out[f.check] = f;
  return out;
}

TEST(CpuListTest, ParsesAndFormats) {
  EXPECT_EQ(*ParseCpuList(""), std::set<int>{});
  EXPECT_EQ(*ParseCpuList("\n"), std::set<int>{});
  EXPECT_EQ(*ParseCpuList("(null)\n"), std::set<int>{});
  EXPECT_EQ(*ParseCpuList("3\n"), std::set<int>{3});
  EXPECT_EQ(*ParseCpuList("0-2,5,7-8"), (std::set<int>{0, 1, 2, 5, 7, 8}));
  EXPECT_FALSE(ParseCpuList("a-b").ok());
  EXPECT_FALSE(ParseCpuList("3-1").ok());
  EXPECT_FALSE(ParseCpuList("0-99999999").ok());
  EXPECT_EQ(FormatCpuList({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
  EXPECT_EQ(FormatCpuList({4}), "4");
  EXPECT_EQ(FormatCpuList({}), "");
}

TEST(PreflightFakeTest, UmipIsSaidBecauseItsEmulationCannotBeSeen) {
  FakeMachine m;
  m.cpu_flags = "fpu vme umip pku";
  auto by = ByCheck(RunPreflight(kPid, kTid, Build(m)));
  EXPECT_FALSE(by["umip"].ok);
  EXPECT_THAT(by["umip"].detail, HasSubstr("emulated by the kernel"));
  EXPECT_THAT(by["umip"].advice, HasSubstr("clearcpuid=umip"));
  m.cpu_flags = "fpu vme umipx";  // a flag is a whole word
  EXPECT_TRUE(ByCheck(RunPreflight(kPid, kTid, Build(m)))["umip"].ok);
}

TEST(PreflightFakeTest, WellTunedMachinePassesEverything) {
  const std::vector<PreflightFinding> findings = RunPreflight(kPid, kTid, Build(FakeMachine()));
  ASSERT_EQ(findings.size(), 8u);
  const char* const kOrder[] = {"affinity", "isolated_cpu", "nohz_full",   "memory_locked",
                                "clocksource", "thp",       "sched_policy", "umip"};
  for (size_t i = 0; i < findings.size(); ++i) {
    EXPECT_EQ(findings[i].check, kOrder[i]);
    EXPECT_TRUE(findings[i].ok) << findings[i].check << ": " << findings[i].detail;
  }
  auto by = ByCheck(findings);
  EXPECT_EQ(by["affinity"].detail, "thread is pinned to CPU 2");
  EXPECT_EQ(by["isolated_cpu"].detail, "CPU 2 is isolated");
  EXPECT_EQ(by["nohz_full"].detail, "CPU 2 is nohz_full");
  EXPECT_THAT(by["memory_locked"].detail, HasSubstr("memory is locked"));
  EXPECT_THAT(by["sched_policy"].detail, HasSubstr("SCHED_FIFO priority 50"));
  EXPECT_THAT(FormatFindings(findings, "worker/4243"), IsEmpty());
  EXPECT_TRUE(CheckPreflight(findings, /*enforce=*/true).ok());
}

TEST(PreflightFakeTest, UntunedMachineFailsEveryCheckWithAdvice) {
  FakeMachine m;
  m.cpus_allowed = "0-1";
  m.isolated = "\n";
  m.has_nohz_full = false;
  m.vm_lck_kb = 0;
  m.clocksource = "hpet\n";
  m.thp = "[always] madvise never\n";
  m.policy = SCHED_OTHER;
  m.rt_priority = 0;
  m.cpu_flags = "fpu umip";
  const std::vector<PreflightFinding> findings = RunPreflight(kPid, kTid, Build(m));
  for (const PreflightFinding& f : findings) {
    EXPECT_FALSE(f.ok) << f.check;
    EXPECT_FALSE(f.advice.empty()) << f.check;
  }
  auto by = ByCheck(findings);
  EXPECT_EQ(by["affinity"].detail, "thread may run on CPUs 0-1");
  EXPECT_THAT(by["isolated_cpu"].detail, HasSubstr("no CPU is isolated"));
  EXPECT_THAT(by["nohz_full"].detail, StartsWith("kernel has no nohz_full support"));
  EXPECT_THAT(by["memory_locked"].detail, StartsWith("no memory is locked (VmLck 0 kB, VmRSS"));
  EXPECT_THAT(by["memory_locked"].advice, HasSubstr("mlockall(MCL_CURRENT | MCL_FUTURE)"));
  EXPECT_THAT(by["clocksource"].detail, StartsWith("clocksource is hpet"));
  EXPECT_THAT(by["clocksource"].advice, HasSubstr("echo tsc >"));
  EXPECT_THAT(by["thp"].detail, HasSubstr("'always'"));
  EXPECT_THAT(by["sched_policy"].detail, StartsWith("thread runs under SCHED_OTHER"));

  const std::string text = FormatFindings(findings, "worker/1234");
  EXPECT_THAT(text, StartsWith("dpsupervise: preflight: worker/1234: thread may run on CPUs 0-1; "
                               "pin it to one isolated CPU (sched_setaffinity or taskset)\n"));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 8);

  EXPECT_TRUE(CheckPreflight(findings, /*enforce=*/false).ok());
  const absl::Status refused = CheckPreflight(findings, /*enforce=*/true);
  // Not pinned to one isolated CPU: EINVAL, as the task-isolation patches.
  EXPECT_TRUE(absl::IsInvalidArgument(refused));
  EXPECT_EQ(PreflightRefusalErrno(refused), EINVAL);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("affinity: thread may run on CPUs 0-1"));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("sched_policy: "));
}

TEST(PreflightFakeTest, PinnedOutsideTheIsolatedAndNohzSets) {
  FakeMachine m;
  m.cpus_allowed = "1";
  m.nohz_full = "(null)\n";  // CONFIG_NO_HZ_FULL kernel booted without nohz_full=
  auto by = ByCheck(RunPreflight(kPid, kTid, Build(m)));
  EXPECT_TRUE(by["affinity"].ok);
  EXPECT_FALSE(by["isolated_cpu"].ok);
  EXPECT_EQ(by["isolated_cpu"].detail, "CPU 1 is not isolated (isolated: 2-3)");
  EXPECT_FALSE(by["nohz_full"].ok);
  EXPECT_THAT(by["nohz_full"].detail, HasSubstr("no CPU is nohz_full"));
}

TEST(PreflightFakeTest, MultipleCpusAllIsolatedStillFailsAffinityOnly) {
  FakeMachine m;
  m.cpus_allowed = "2-3";
  auto by = ByCheck(RunPreflight(kPid, kTid, Build(m)));
  EXPECT_FALSE(by["affinity"].ok);
  EXPECT_TRUE(by["isolated_cpu"].ok);
  EXPECT_EQ(by["isolated_cpu"].detail, "CPUs 2-3 are isolated");
}

TEST(PreflightFakeTest, PartiallyLockedMemory) {
  FakeMachine m;
  m.vm_lck_kb = 100;
  m.vm_rss_kb = 5000;
  auto by = ByCheck(RunPreflight(kPid, kTid, Build(m)));
  EXPECT_FALSE(by["memory_locked"].ok);
  EXPECT_THAT(by["memory_locked"].detail, StartsWith("only 100 kB of 5000 kB"));
}

TEST(PreflightFakeTest, OnlyPlacementRefusalsAreEinval) {
  // Pinned to an isolated nohz_full CPU, memory not locked: EPERM.
  FakeMachine m;
  m.vm_lck_kb = 100;
  m.vm_rss_kb = 5000;
  const absl::Status unlocked = CheckPreflight(RunPreflight(kPid, kTid, Build(m)), true);
  EXPECT_TRUE(absl::IsPermissionDenied(unlocked)) << unlocked;
  EXPECT_EQ(PreflightRefusalErrno(unlocked), EPERM);
  // The same on a CPU that is not nohz_full: EINVAL.
  m.nohz_full = "3\n";
  const absl::Status ticking = CheckPreflight(RunPreflight(kPid, kTid, Build(m)), true);
  EXPECT_TRUE(absl::IsInvalidArgument(ticking)) << ticking;
  EXPECT_EQ(PreflightRefusalErrno(ticking), EINVAL);
}

TEST(PreflightFakeTest, MlockallSlackForSpecialPages) {
  // Measured after mlockall here: VmLck 11668 kB, VmRSS 11672 kB (the vDSO).
  FakeMachine m;
  m.vm_lck_kb = 11668;
  m.vm_rss_kb = 11672;
  EXPECT_TRUE(ByCheck(RunPreflight(kPid, kTid, Build(m)))["memory_locked"].ok);
}

TEST(PreflightFakeTest, ThpSettings) {
  FakeMachine m;
  m.thp = "always [madvise] never\n";
  EXPECT_TRUE(ByCheck(RunPreflight(kPid, kTid, Build(m)))["thp"].ok);
  m.thp = "[always] madvise never\n";
  EXPECT_FALSE(ByCheck(RunPreflight(kPid, kTid, Build(m)))["thp"].ok);
  m.thp_enabled_line = "THP_enabled:\t0\n";  // prctl(PR_SET_THP_DISABLE)
  auto by = ByCheck(RunPreflight(kPid, kTid, Build(m)));
  EXPECT_TRUE(by["thp"].ok);
  EXPECT_THAT(by["thp"].detail, HasSubstr("PR_SET_THP_DISABLE"));
}

TEST(PreflightFakeTest, ClocksourceWithoutTsc) {
  FakeMachine m;
  m.clocksource = "acpi_pm\n";
  m.available_clocksources = "hpet acpi_pm\n";
  auto by = ByCheck(RunPreflight(kPid, kTid, Build(m)));
  EXPECT_FALSE(by["clocksource"].ok);
  EXPECT_THAT(by["clocksource"].advice, HasSubstr("tsc=reliable"));
  m.clocksource = "kvm-clock\n";
  EXPECT_TRUE(ByCheck(RunPreflight(kPid, kTid, Build(m)))["clocksource"].ok);
}

TEST(PreflightFakeTest, RoundRobinIsAcceptedBatchIsNot) {
  FakeMachine m;
  m.policy = SCHED_RR;
  EXPECT_TRUE(ByCheck(RunPreflight(kPid, kTid, Build(m)))["sched_policy"].ok);
  m.policy = SCHED_BATCH;
  auto by = ByCheck(RunPreflight(kPid, kTid, Build(m)));
  EXPECT_FALSE(by["sched_policy"].ok);
  EXPECT_THAT(by["sched_policy"].detail, HasSubstr("SCHED_BATCH"));
}

TEST(PreflightFakeTest, VanishedThreadFailsWithReasons) {
  const PreflightEnv env = Build(FakeMachine());
  auto by = ByCheck(RunPreflight(kPid, kTid + 100, env));
  EXPECT_FALSE(by["affinity"].ok);
  EXPECT_THAT(by["affinity"].detail, HasSubstr("cannot read the thread's CPU affinity"));
  EXPECT_FALSE(by["sched_policy"].ok);
  EXPECT_FALSE(by["isolated_cpu"].ok);
  EXPECT_THAT(by["isolated_cpu"].detail, HasSubstr("affinity unknown"));
}

// --- The real machine -------------------------------------------------------

// A thread of this test that waits on a pipe until destroyed.
class ParkedThread {
 public:
  ParkedThread() {
    EXPECT_EQ(pipe(fds_), 0);
    thread_ = std::thread([this] {
      tid_.store(static_cast<pid_t>(syscall(SYS_gettid)));
      char c;
      while (read(fds_[0], &c, 1) < 0 && errno == EINTR) {
      }
    });
    while (tid_.load() == 0) sched_yield();
  }
  ~ParkedThread() {
    close(fds_[1]);
    thread_.join();
    close(fds_[0]);
  }
  pid_t tid() const { return tid_.load(); }
  pthread_t handle() { return thread_.native_handle(); }

 private:
  int fds_[2];
  std::atomic<pid_t> tid_{0};
  std::thread thread_;
};

std::string SysFile(const std::string& path, bool* exists) {
  std::ifstream in(path);
  *exists = in.good();
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return std::string(absl::StripAsciiWhitespace(text));
}

TEST(PreflightLiveTest, UnpinnedThreadOfThisProcess) {
  ParkedThread thread;
  const std::vector<PreflightFinding> findings = RunPreflight(getpid(), thread.tid());
  ASSERT_EQ(findings.size(), 8u);
  auto by = ByCheck(findings);
  std::ifstream cpuinfo("/proc/cpuinfo");
  const std::string cpu_text((std::istreambuf_iterator<char>(cpuinfo)),
                             std::istreambuf_iterator<char>());
  EXPECT_EQ(by["umip"].ok, cpu_text.find(" umip") == std::string::npos) << by["umip"].detail;
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(thread.tid(), sizeof(set), &set), 0);
  EXPECT_EQ(by["affinity"].ok, CPU_COUNT(&set) == 1);
  // Nothing locked, default policy: known results for any plain test.
  EXPECT_FALSE(by["memory_locked"].ok);
  EXPECT_FALSE(by["sched_policy"].ok);
  EXPECT_THAT(by["sched_policy"].detail, StartsWith("thread runs under SCHED_OTHER"));
  bool exists;
  const std::string clocksource =
      SysFile("/sys/devices/system/clocksource/clocksource0/current_clocksource", &exists);
  if (clocksource == "tsc") {
    EXPECT_TRUE(by["clocksource"].ok);
  }
  const std::string label = absl::StrCat("preflight_test/", thread.tid());
  std::printf("--- preflight of an unpinned thread on this machine:\n%s",
              FormatFindings(findings, label).c_str());
}

TEST(PreflightLiveTest, PinnedThreadOnThisMachineWithoutIsolation) {
  bool isolated_exists, nohz_exists;
  const std::string isolated = SysFile("/sys/devices/system/cpu/isolated", &isolated_exists);
  SysFile("/sys/devices/system/cpu/nohz_full", &nohz_exists);
  ParkedThread thread;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  if (sched_setaffinity(thread.tid(), sizeof(one), &one) != 0) {
    GTEST_SKIP() << "cannot pin a thread to CPU 0 here";
  }
  const std::vector<PreflightFinding> findings = RunPreflight(getpid(), thread.tid());
  auto by = ByCheck(findings);
  EXPECT_TRUE(by["affinity"].ok);
  EXPECT_EQ(by["affinity"].detail, "thread is pinned to CPU 0");
  // These machines isolate nothing and have no nohz_full: the known lines.
  if (isolated_exists && isolated.empty()) {
    EXPECT_FALSE(by["isolated_cpu"].ok);
    EXPECT_EQ(by["isolated_cpu"].detail,
              "no CPU is isolated (/sys/devices/system/cpu/isolated is empty)");
  }
  if (!nohz_exists) {
    EXPECT_FALSE(by["nohz_full"].ok);
    EXPECT_THAT(by["nohz_full"].detail, StartsWith("kernel has no nohz_full support"));
  }
  const std::string label = absl::StrCat("preflight_test/", thread.tid());
  const std::string text = FormatFindings(findings, label);
  EXPECT_THAT(text, HasSubstr(absl::StrCat("dpsupervise: preflight: ", label, ": ")));
  EXPECT_THAT(text, Not(HasSubstr("thread may run on")));
  std::printf("--- preflight of a thread pinned to CPU 0 on this machine:\n%s", text.c_str());
}

// Defined by the AddressSanitizer runtime when it is linked in. Asked at run
// time: under --config=asan this file itself is compiled without the
// sanitizer (.bazelrc), so __SANITIZE_ADDRESS__ does not tell.
extern "C" void __asan_init() __attribute__((weak));

// Run by //tests:preflight_privileged_test, outside Bazel's sandbox.
TEST(PreflightPrivilegedTest, MlockallIsSeen) {
  if (__asan_init != nullptr) {
    // ASan's mlockall is a no-op, and a real one would try to populate and
    // lock terabytes of shadow memory (root has CAP_IPC_LOCK outside Bazel).
    GTEST_SKIP() << "not under AddressSanitizer";
  }
  // A child, so this test's own memory stays unlocked. Where RLIMIT_MEMLOCK
  // is below the process's virtual size (Bazel's sandbox: 8 MiB), skip.
  int ready[2], release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Only the parent may hold the write end of `release`, or EOF never comes.
    close(release[1]);
    close(ready[0]);
    const char ok = mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 'y' : 'n';
    if (write(ready[1], &ok, 1) != 1) _exit(1);
    char c;
    while (read(release[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  close(ready[1]);
  close(release[0]);
  char locked = 0;
  ASSERT_EQ(read(ready[0], &locked, 1), 1);
  PreflightFinding finding;
  if (locked == 'y') finding = ByCheck(RunPreflight(child, child))["memory_locked"];
  close(release[1]);
  close(ready[0]);
  int status;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  if (locked != 'y') GTEST_SKIP() << "mlockall not permitted here (RLIMIT_MEMLOCK)";
  EXPECT_TRUE(finding.ok) << finding.detail;
  EXPECT_THAT(finding.detail, StartsWith("memory is locked (VmLck "));
}

TEST(PreflightPrivilegedTest, RealtimePolicyIsSeen) {
  ParkedThread thread;  // blocked, so SCHED_FIFO cannot starve anything
  sched_param param{};
  param.sched_priority = 1;
  if (pthread_setschedparam(thread.handle(), SCHED_FIFO, &param) != 0) {
    GTEST_SKIP() << "no permission for SCHED_FIFO here";
  }
  auto by = ByCheck(RunPreflight(getpid(), thread.tid()));
  EXPECT_TRUE(by["sched_policy"].ok);
  EXPECT_EQ(by["sched_policy"].detail, "thread runs under SCHED_FIFO priority 1");
}

}  // namespace
}  // namespace dpsupervise
