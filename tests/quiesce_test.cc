// Tests of the user-space quiesce: dp_wait_quiet (lib/) and the supervisor's
// kernel-work flush.
#include <errno.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "lib/dataplane.h"
#include "supervisor/noise/quiesce_flush.h"
#include "tests/test_files.h"

namespace dpsupervise {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr unsigned long long kMs = 1000000ull;

double NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

TEST(WaitQuietTest, RejectsBadArguments) {
  errno = 0;
  EXPECT_EQ(dp_wait_quiet(0, 1 * kMs, 2 * kMs), -1);
  EXPECT_EQ(errno, EINVAL);
  errno = 0;
  EXPECT_EQ(dp_wait_quiet(1000, 3 * kMs, 2 * kMs), -1);  // window > timeout
  EXPECT_EQ(errno, EINVAL);
}

TEST(WaitQuietTest, EmptyWindowReturnsAtOnce) {
  // Also the documented way to calibrate before entering strict mode.
  EXPECT_EQ(dp_wait_quiet(1, 0, 0), 0);
  // 0, not ETIMEDOUT: an empty window is quiet at once, whatever the
  // threshold. (No bound on the time taken: a loaded machine may preempt.)
  errno = 0;
  EXPECT_EQ(dp_wait_quiet(1, 0, 10 * kMs), 0) << strerror(errno);
}

TEST(WaitQuietTest, GenerousThresholdReturnsAfterTheWindow) {
  dp_wait_quiet(1, 0, 0);  // calibrate outside the timed part
  const double start = NowMs();
  // 20 ms rather than a tighter threshold: on a loaded 2-CPU machine a
  // spinning thread is routinely preempted for a few time slices (measured
  // here with 5 busy loops: gaps of 5-10 ms), and then it is right not to
  // call the CPU quiet. The timeout is long so that a loaded machine (CI
  // compiles while tests run) still offers one quiet window before it.
  ASSERT_EQ(dp_wait_quiet(20 * kMs, 10 * kMs, 60000 * kMs), 0) << strerror(errno);
  const double elapsed = NowMs() - start;
  // At least the window (less the calibration's error).
  EXPECT_GE(elapsed, 9.5);
}

TEST(WaitQuietTest, ImpossibleThresholdTimesOut) {
  dp_wait_quiet(1, 0, 0);
  const double start = NowMs();
  errno = 0;
  // Two TSC reads are always more than 1 ns apart: every read is a "gap".
  EXPECT_EQ(dp_wait_quiet(1, 1 * kMs, 50 * kMs), -1);
  EXPECT_EQ(errno, ETIMEDOUT);
  const double elapsed = NowMs() - start;
  EXPECT_GE(elapsed, 49.0);
}

TEST(WaitQuietTest, HugeTimeoutDoesNotWrap) {
  // ns -> ticks must saturate, not overflow into a tiny timeout.
  EXPECT_EQ(dp_wait_quiet(20 * kMs, 1 * kMs, ~0ull), 0) << strerror(errno);
}

std::string CurrentClocksource() {
  std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string name;
  in >> name;
  return name;
}

// Loads a seccomp filter that allows write and exit and kills the process on
// any other syscall. (SECCOMP_MODE_STRICT would do, but on x86 it also
// disables rdtsc, to close a timing channel.)
bool AllowOnlyWriteAndExit() {
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof(code) / sizeof(code[0])), code};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

// Runs dp_wait_quiet in a child where any syscall but write and exit is
// SIGSYS: the loop must make none. With `calibrate_first` false the first
// call (the calibration) runs inside too, which holds only when clock_gettime
// is a vDSO call. Returns the byte the child reported ('0' quiet, 'T' timed
// out), 'S' if it could not install the filter, or 'K' if it was killed.
char RunWithoutSyscalls(bool calibrate_first, unsigned long long threshold_ns,
                        unsigned long long window_ns, unsigned long long timeout_ns) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (calibrate_first) dp_wait_quiet(1, 0, 0);
    char result = 'S';
    if (AllowOnlyWriteAndExit()) {
      const int rc = dp_wait_quiet(threshold_ns, window_ns, timeout_ns);
      result = rc == 0 ? '0' : (errno == ETIMEDOUT ? 'T' : 'E');
    }
    syscall(SYS_write, fds[1], &result, 1);
    syscall(SYS_exit, 0);  // exit_group is not allowed by the filter
  }
  close(fds[1]);
  char result = 'K';
  if (read(fds[0], &result, 1) != 1) result = 'K';
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) result = 'K';
  return result;
}

TEST(WaitQuietTest, HarnessCatchesASyscall) {
  // The control for the two tests below: a syscall under the filter kills.
  const pid_t pid = fork();
  if (pid == 0) {
    if (!AllowOnlyWriteAndExit()) syscall(SYS_exit, 3);
    syscall(SYS_getppid);
    syscall(SYS_exit, 0);
  }
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) << status;
}

TEST(WaitQuietTest, LoopMakesNoSyscall) {
  // Quiet ('0') or not ('T') depends on the load; killed ('K') would mean a
  // syscall.
  EXPECT_THAT(RunWithoutSyscalls(true, 20 * kMs, 5 * kMs, 2000 * kMs), AnyOf('0', 'T'));
  EXPECT_EQ(RunWithoutSyscalls(true, 1, 1 * kMs, 20 * kMs), 'T');
}

TEST(WaitQuietTest, CalibrationMakesNoSyscallWithTscClocksource) {
  if (CurrentClocksource() != "tsc") GTEST_SKIP() << "clock_gettime is not vDSO-only here";
  EXPECT_THAT(RunWithoutSyscalls(false, 20 * kMs, 5 * kMs, 2000 * kMs), AnyOf('0', 'T'));
}

TEST(FlushKernelWorkTest, SucceedsOrIsSkippedOnThisMachine) {
  // Root outside a sandbox flushes; under Bazel's sandbox /proc is read-only
  // (EROFS) and the flush is skipped without error.
  const bool writable = access(kStatRefreshPath, W_OK) == 0;
  bool flushed = false;
  const absl::Status status = FlushKernelWork(kStatRefreshPath, &flushed);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(flushed, writable);
  EXPECT_TRUE(FlushKernelWork().ok());
}

TEST(FlushKernelWorkTest, ReadOnlyAttributeIsSkipped) {
  // sysfs refuses writes to a read-only attribute with EACCES even for root
  // (or EROFS when /sys is mounted read-only): skipped, not an error.
  const char kReadOnly[] = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size";
  if (access(kReadOnly, F_OK) != 0) GTEST_SKIP() << "no " << kReadOnly;
  bool flushed = true;
  EXPECT_TRUE(FlushKernelWork(kReadOnly, &flushed).ok());
  EXPECT_FALSE(flushed);
}

TEST(FlushKernelWorkTest, OtherFailuresNameThePathAndErrno) {
  const std::string missing = dptest::TestTmpDir() + "/no/such/stat_refresh";
  const absl::Status absent = FlushKernelWork(missing, nullptr);
  EXPECT_FALSE(absent.ok());
  EXPECT_THAT(std::string(absent.message()), HasSubstr(missing));
  EXPECT_THAT(std::string(absent.message()), HasSubstr(strerror(ENOENT)));

  const absl::Status directory = FlushKernelWork(dptest::TestTmpDir(), nullptr);
  EXPECT_FALSE(directory.ok());
  EXPECT_THAT(std::string(directory.message()), HasSubstr(dptest::TestTmpDir()));
  EXPECT_THAT(std::string(directory.message()), HasSubstr(strerror(EISDIR)));
}

TEST(FlushKernelWorkTest, WritesOne) {
  const std::string path = dptest::TestTmpDir() + "/fake_stat_refresh";
  std::ofstream(path).close();
  bool flushed = false;
  ASSERT_TRUE(FlushKernelWork(path, &flushed).ok());
  EXPECT_TRUE(flushed);
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "1");
}

TEST(QuiesceLimitationsTest, SaysWhatIsMissing) {
  const std::string text = QuiesceLimitations();
  EXPECT_THAT(text, HasSubstr("stat_refresh"));
  EXPECT_THAT(text, HasSubstr("dp_wait_quiet"));
  EXPECT_THAT(text, HasSubstr("timer tick"));
  EXPECT_THAT(text, HasSubstr("docs/quiesce-and-noise.md"));
}

}  // namespace
}  // namespace dpsupervise
