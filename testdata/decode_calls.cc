// decode_calls MODE: a worker makes raw syscalls whose flag and enumerated
// arguments are chosen to exercise the decoder's name tables (known names,
// combined names, zero, unknown bits and values), so that a test can compare
// dpsupervise's rendering of each with strace's (tests/report_e2e_test.cc).
// Each call is harmless: it fails (a bad fd, a NULL address, a path in a
// directory that does not exist, an invalid protocol) or changes nothing
// (a zero length, NULL sets).
//   strict: enters strict mode first, so every call is a violation
//           (run with --on-violation=log)
//   plain:  does not, for a run under strace
// The calls are framed by getppid(): one before (not strict), one after
// (strict), so the test finds them in either output. No prctl: a strict
// thread's prctl is not a violation (it is how the thread leaves strict
// mode), so it would have no report to compare; syscall_decode_test covers
// the PR_* names.
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "testdata/strict_test_util.h"

namespace {

bool g_strict = false;

// Never exists: an O_CREAT open of it fails without creating anything.
constexpr char kMissingPath[] = "/nonexistent-dpsupervise-decode/file";

void MemoryCalls() {
  syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, -1, 0);
  syscall(SYS_mmap, 0, 4096, PROT_READ | 0x100, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, -1, 0);
  syscall(SYS_mmap, 0, 4096, PROT_NONE, 0x4 | MAP_ANONYMOUS, -1, 0);
  syscall(SYS_mmap, 0, 4096, PROT_EXEC, MAP_PRIVATE | MAP_HUGETLB | (21 << 26), -1, 0);
  syscall(SYS_mmap, 0, 4096, PROT_READ, MAP_SHARED_VALIDATE | MAP_POPULATE | MAP_LOCKED, -1, 0);
  syscall(SYS_mprotect, 0, 0, PROT_READ | PROT_WRITE | PROT_EXEC);
  syscall(SYS_mprotect, 0, 0, PROT_NONE);
  syscall(SYS_madvise, 0, 0, MADV_DONTNEED);
  syscall(SYS_madvise, 0, 0, MADV_HUGEPAGE);
  syscall(SYS_madvise, 0, 0, 999);
}

void FileCalls() {
  syscall(SYS_openat, -1, kMissingPath, O_RDONLY | O_CLOEXEC);
  syscall(SYS_openat, -1, kMissingPath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  syscall(SYS_openat, -1, kMissingPath, O_RDWR | O_TMPFILE, 0600);
  syscall(SYS_openat, -1, kMissingPath, O_RDONLY | O_NONBLOCK | O_DIRECTORY | 0x40000000);
  syscall(SYS_open, kMissingPath, O_ACCMODE | O_SYNC | 0100000 /* O_LARGEFILE */);
  syscall(SYS_fcntl, -1, F_GETFL);
  syscall(SYS_fcntl, -1, F_DUPFD_CLOEXEC, 0);
  syscall(SYS_fcntl, -1, 999, 0);
  syscall(SYS_fcntl, -1, F_SETFL, O_NONBLOCK | O_APPEND);
  syscall(SYS_fcntl, -1, F_SETFD, FD_CLOEXEC);
  syscall(SYS_fcntl, -1, F_SETSIG, SIGUSR1);
  syscall(SYS_fcntl, -1, F_SETLEASE, F_WRLCK);
  syscall(SYS_ioctl, -1, TCGETS, 0);
  syscall(SYS_ioctl, -1, FIONREAD, 0);
  syscall(SYS_ioctl, -1, TIOCGWINSZ, 0);
  syscall(SYS_ioctl, -1, SIOCGIFINDEX, 0);
  syscall(SYS_ioctl, -1, 0xc0045678, 0);
}

void TimeAndSyncCalls() {
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, 0);
  syscall(SYS_clock_gettime, 99, 0);
  syscall(SYS_clock_getres, CLOCK_BOOTTIME, 0);
  syscall(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, 0, 0);
  syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, 0, 0);
  syscall(SYS_futex, 0, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
  syscall(SYS_futex, 0, FUTEX_WAKE, 0, 0, 0, 0);
  syscall(SYS_futex, 0, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, 0, 0, 0);
  syscall(SYS_futex, 0, 0x37, 0, 0, 0, 0);
  syscall(SYS_epoll_ctl, -1, EPOLL_CTL_ADD, -1, 0);
  syscall(SYS_epoll_ctl, -1, 0, -1, 0);
  // Structures read from memory: poll returns at once (timeout 0; a
  // negative fd is ignored); epoll_ctl fails on the bad fds.
  static struct pollfd fds[3] = {{0, POLLIN | POLLPRI, 0}, {-2, POLLOUT, 0}, {1, 0, 0}};
  syscall(SYS_poll, fds, 3, 0);
  static struct epoll_event event;
  event.events = EPOLLIN | EPOLLET | EPOLLRDHUP;
  event.data.u64 = 7;
  syscall(SYS_epoll_ctl, -1, EPOLL_CTL_ADD, -1, &event);
}

void SignalAndProcessCalls() {
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, 0, 0, 8);
  syscall(SYS_rt_sigprocmask, 7, 0, 0, 8);
  syscall(SYS_rt_sigaction, SIGUSR1, 0, 0, 8);
  syscall(SYS_sched_setscheduler, -1, SCHED_FIFO, 0);
  syscall(SYS_sched_setscheduler, -1, 77, 0);
  syscall(SYS_sched_get_priority_max, SCHED_RR);
}

void SocketCalls() {
  syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0xffff);
  syscall(SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 99);
  syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0xffff);
  syscall(SYS_socket, 99, 99, 0);
  syscall(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET, 99, 0);
  syscall(SYS_sendto, -1, 0, 0, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0);
  syscall(SYS_sendto, -1, 0, 0, 0x10000000, 0, 0);
  syscall(SYS_recvfrom, -1, 0, 0, MSG_PEEK | MSG_CMSG_CLOEXEC, 0, 0);
  syscall(SYS_recvfrom, -1, 0, 0, 0, 0, 0);
}

void* Worker(void*) {
  dptest::LockAndPrefault();
  dptest::AnnounceTid("worker_tid");
  syscall(SYS_getppid);  // begin marker
  if (g_strict) dptest::EnterStrictOrDie();
  MemoryCalls();
  FileCalls();
  TimeAndSyncCalls();
  SignalAndProcessCalls();
  SocketCalls();
  syscall(SYS_getppid);  // end marker
  if (g_strict) dp_exit_strict();
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || (strcmp(argv[1], "strict") != 0 && strcmp(argv[1], "plain") != 0)) {
    fprintf(stderr, "usage: decode_calls strict|plain\n");
    return 2;
  }
  g_strict = strcmp(argv[1], "strict") == 0;
  pthread_join(dptest::StartThread(Worker), nullptr);
  return 0;
}
