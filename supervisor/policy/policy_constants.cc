#include "supervisor/policy/policy_constants.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/dataplane.h"
#include "supervisor/policy/action.h"
#include "supervisor/policy/edit_distance.h"
#include "supervisor/syscalls/signal_names.h"

namespace dpsupervise {
namespace policy {
namespace {

// ---------------------------------------------------------------------------
// Named constants usable as values. Taken from this machine's headers, which
// are the target's (x86-64 only), as minijail takes them from the target's.

struct NamedConstant {
  const char* name;
  uint64_t value;
};

// Negative constants (AT_FDCWD) are sign-extended to 64 bits, the way the C
// library passes an int argument in a 64-bit register.
#define DP_CONSTANT(name) {#name, static_cast<uint64_t>(static_cast<int64_t>(name))}

constexpr NamedConstant kConstants[] = {
    // open(2) flags. O_LARGEFILE is the kernel's x86-64 value: glibc defines
    // it as 0 on 64-bit targets, which would make `arg & O_LARGEFILE` never
    // true.
    DP_CONSTANT(O_RDONLY), DP_CONSTANT(O_WRONLY), DP_CONSTANT(O_RDWR), DP_CONSTANT(O_ACCMODE),
    DP_CONSTANT(O_CREAT), DP_CONSTANT(O_EXCL), DP_CONSTANT(O_NOCTTY), DP_CONSTANT(O_TRUNC),
    DP_CONSTANT(O_APPEND), DP_CONSTANT(O_NONBLOCK), DP_CONSTANT(O_NDELAY), DP_CONSTANT(O_DSYNC),
    DP_CONSTANT(O_SYNC), DP_CONSTANT(O_RSYNC), DP_CONSTANT(O_DIRECTORY), DP_CONSTANT(O_NOFOLLOW),
    DP_CONSTANT(O_CLOEXEC), DP_CONSTANT(O_ASYNC), DP_CONSTANT(O_DIRECT), DP_CONSTANT(O_NOATIME),
    DP_CONSTANT(O_PATH), DP_CONSTANT(O_TMPFILE), {"O_LARGEFILE", 0100000},
    DP_CONSTANT(AT_FDCWD), DP_CONSTANT(AT_SYMLINK_NOFOLLOW), DP_CONSTANT(AT_REMOVEDIR),
    DP_CONSTANT(AT_SYMLINK_FOLLOW), DP_CONSTANT(AT_NO_AUTOMOUNT), DP_CONSTANT(AT_EMPTY_PATH),
    DP_CONSTANT(R_OK), DP_CONSTANT(W_OK), DP_CONSTANT(X_OK), DP_CONSTANT(F_OK),
    DP_CONSTANT(SEEK_SET), DP_CONSTANT(SEEK_CUR), DP_CONSTANT(SEEK_END), DP_CONSTANT(SEEK_DATA),
    DP_CONSTANT(SEEK_HOLE),
    // fcntl(2).
    DP_CONSTANT(F_DUPFD), DP_CONSTANT(F_DUPFD_CLOEXEC), DP_CONSTANT(F_GETFD), DP_CONSTANT(F_SETFD),
    DP_CONSTANT(F_GETFL), DP_CONSTANT(F_SETFL), DP_CONSTANT(F_GETLK), DP_CONSTANT(F_SETLK),
    DP_CONSTANT(F_SETLKW), DP_CONSTANT(F_GETOWN), DP_CONSTANT(F_SETOWN), DP_CONSTANT(F_GETSIG),
    DP_CONSTANT(F_SETSIG), DP_CONSTANT(F_OFD_GETLK), DP_CONSTANT(F_OFD_SETLK),
    DP_CONSTANT(F_OFD_SETLKW), DP_CONSTANT(F_SETPIPE_SZ), DP_CONSTANT(F_GETPIPE_SZ),
    DP_CONSTANT(F_ADD_SEALS), DP_CONSTANT(F_GET_SEALS), DP_CONSTANT(F_SEAL_SEAL),
    DP_CONSTANT(F_SEAL_SHRINK), DP_CONSTANT(F_SEAL_GROW), DP_CONSTANT(F_SEAL_WRITE),
    DP_CONSTANT(FD_CLOEXEC),
    // mmap(2), mprotect(2), madvise(2), mlockall(2), msync(2), mremap(2).
    DP_CONSTANT(PROT_NONE), DP_CONSTANT(PROT_READ), DP_CONSTANT(PROT_WRITE),
    DP_CONSTANT(PROT_EXEC), DP_CONSTANT(PROT_GROWSDOWN), DP_CONSTANT(PROT_GROWSUP),
    DP_CONSTANT(MAP_SHARED), DP_CONSTANT(MAP_PRIVATE), DP_CONSTANT(MAP_SHARED_VALIDATE),
    DP_CONSTANT(MAP_FIXED), DP_CONSTANT(MAP_ANONYMOUS), DP_CONSTANT(MAP_ANON),
    DP_CONSTANT(MAP_32BIT), DP_CONSTANT(MAP_GROWSDOWN), DP_CONSTANT(MAP_DENYWRITE),
    DP_CONSTANT(MAP_EXECUTABLE), DP_CONSTANT(MAP_LOCKED), DP_CONSTANT(MAP_NORESERVE),
    DP_CONSTANT(MAP_POPULATE), DP_CONSTANT(MAP_NONBLOCK), DP_CONSTANT(MAP_STACK),
    DP_CONSTANT(MAP_HUGETLB), DP_CONSTANT(MAP_SYNC), DP_CONSTANT(MAP_FIXED_NOREPLACE),
    DP_CONSTANT(MADV_NORMAL), DP_CONSTANT(MADV_RANDOM), DP_CONSTANT(MADV_SEQUENTIAL),
    DP_CONSTANT(MADV_WILLNEED), DP_CONSTANT(MADV_DONTNEED), DP_CONSTANT(MADV_FREE),
    DP_CONSTANT(MADV_REMOVE), DP_CONSTANT(MADV_DONTFORK), DP_CONSTANT(MADV_DOFORK),
    DP_CONSTANT(MADV_MERGEABLE), DP_CONSTANT(MADV_UNMERGEABLE), DP_CONSTANT(MADV_HUGEPAGE),
    DP_CONSTANT(MADV_NOHUGEPAGE), DP_CONSTANT(MADV_DONTDUMP), DP_CONSTANT(MADV_DODUMP),
    DP_CONSTANT(MADV_WIPEONFORK), DP_CONSTANT(MADV_KEEPONFORK), DP_CONSTANT(MADV_COLD),
    DP_CONSTANT(MADV_PAGEOUT), DP_CONSTANT(MADV_HWPOISON),
#ifdef MADV_POPULATE_READ
    DP_CONSTANT(MADV_POPULATE_READ), DP_CONSTANT(MADV_POPULATE_WRITE),
#endif
    DP_CONSTANT(MCL_CURRENT), DP_CONSTANT(MCL_FUTURE), DP_CONSTANT(MCL_ONFAULT),
    DP_CONSTANT(MS_ASYNC), DP_CONSTANT(MS_SYNC), DP_CONSTANT(MS_INVALIDATE),
    DP_CONSTANT(MREMAP_MAYMOVE), DP_CONSTANT(MREMAP_FIXED),
    // Clocks and timers.
    DP_CONSTANT(CLOCK_REALTIME), DP_CONSTANT(CLOCK_MONOTONIC),
    DP_CONSTANT(CLOCK_PROCESS_CPUTIME_ID), DP_CONSTANT(CLOCK_THREAD_CPUTIME_ID),
    DP_CONSTANT(CLOCK_MONOTONIC_RAW), DP_CONSTANT(CLOCK_REALTIME_COARSE),
    DP_CONSTANT(CLOCK_MONOTONIC_COARSE), DP_CONSTANT(CLOCK_BOOTTIME),
    DP_CONSTANT(CLOCK_REALTIME_ALARM), DP_CONSTANT(CLOCK_BOOTTIME_ALARM), DP_CONSTANT(CLOCK_TAI),
    DP_CONSTANT(TIMER_ABSTIME), DP_CONSTANT(TFD_CLOEXEC), DP_CONSTANT(TFD_NONBLOCK),
    DP_CONSTANT(TFD_TIMER_ABSTIME),
    // Sockets.
    DP_CONSTANT(AF_UNSPEC), DP_CONSTANT(AF_UNIX), DP_CONSTANT(AF_LOCAL), DP_CONSTANT(AF_INET),
    DP_CONSTANT(AF_INET6), DP_CONSTANT(AF_NETLINK), DP_CONSTANT(AF_PACKET), DP_CONSTANT(AF_VSOCK),
    DP_CONSTANT(AF_XDP),
    DP_CONSTANT(SOCK_STREAM), DP_CONSTANT(SOCK_DGRAM), DP_CONSTANT(SOCK_RAW),
    DP_CONSTANT(SOCK_SEQPACKET), DP_CONSTANT(SOCK_NONBLOCK), DP_CONSTANT(SOCK_CLOEXEC),
    DP_CONSTANT(MSG_OOB), DP_CONSTANT(MSG_PEEK), DP_CONSTANT(MSG_DONTROUTE), DP_CONSTANT(MSG_CTRUNC),
    DP_CONSTANT(MSG_TRUNC), DP_CONSTANT(MSG_DONTWAIT), DP_CONSTANT(MSG_EOR),
    DP_CONSTANT(MSG_WAITALL), DP_CONSTANT(MSG_NOSIGNAL), DP_CONSTANT(MSG_MORE),
    DP_CONSTANT(MSG_CMSG_CLOEXEC),
    DP_CONSTANT(SOL_SOCKET), DP_CONSTANT(SO_REUSEADDR), DP_CONSTANT(SO_REUSEPORT),
    DP_CONSTANT(SO_KEEPALIVE), DP_CONSTANT(SO_RCVBUF), DP_CONSTANT(SO_SNDBUF),
    DP_CONSTANT(SO_ERROR), DP_CONSTANT(SO_TYPE),
    DP_CONSTANT(IPPROTO_IP), DP_CONSTANT(IPPROTO_ICMP), DP_CONSTANT(IPPROTO_TCP),
    DP_CONSTANT(IPPROTO_UDP), DP_CONSTANT(IPPROTO_IPV6),
    // Event, poll and random fds.
    DP_CONSTANT(EFD_CLOEXEC), DP_CONSTANT(EFD_NONBLOCK), DP_CONSTANT(EFD_SEMAPHORE),
    DP_CONSTANT(EPOLL_CLOEXEC), DP_CONSTANT(EPOLL_CTL_ADD), DP_CONSTANT(EPOLL_CTL_DEL),
    DP_CONSTANT(EPOLL_CTL_MOD), DP_CONSTANT(POLLIN), DP_CONSTANT(POLLPRI), DP_CONSTANT(POLLOUT),
    DP_CONSTANT(POLLERR), DP_CONSTANT(POLLHUP), DP_CONSTANT(POLLNVAL),
    DP_CONSTANT(GRND_NONBLOCK), DP_CONSTANT(GRND_RANDOM), DP_CONSTANT(MFD_CLOEXEC),
    DP_CONSTANT(MFD_ALLOW_SEALING), DP_CONSTANT(MFD_HUGETLB),
    // futex(2).
    DP_CONSTANT(FUTEX_WAIT), DP_CONSTANT(FUTEX_WAKE), DP_CONSTANT(FUTEX_FD),
    DP_CONSTANT(FUTEX_REQUEUE), DP_CONSTANT(FUTEX_CMP_REQUEUE), DP_CONSTANT(FUTEX_WAKE_OP),
    DP_CONSTANT(FUTEX_LOCK_PI), DP_CONSTANT(FUTEX_UNLOCK_PI), DP_CONSTANT(FUTEX_TRYLOCK_PI),
    DP_CONSTANT(FUTEX_WAIT_BITSET), DP_CONSTANT(FUTEX_WAKE_BITSET),
    DP_CONSTANT(FUTEX_WAIT_REQUEUE_PI), DP_CONSTANT(FUTEX_CMP_REQUEUE_PI),
#ifdef FUTEX_LOCK_PI2
    DP_CONSTANT(FUTEX_LOCK_PI2), DP_CONSTANT(FUTEX_LOCK_PI2_PRIVATE),
#endif
    DP_CONSTANT(FUTEX_PRIVATE_FLAG), DP_CONSTANT(FUTEX_CLOCK_REALTIME), DP_CONSTANT(FUTEX_CMD_MASK),
    DP_CONSTANT(FUTEX_WAIT_PRIVATE), DP_CONSTANT(FUTEX_WAKE_PRIVATE),
    DP_CONSTANT(FUTEX_REQUEUE_PRIVATE), DP_CONSTANT(FUTEX_CMP_REQUEUE_PRIVATE),
    DP_CONSTANT(FUTEX_WAKE_OP_PRIVATE), DP_CONSTANT(FUTEX_LOCK_PI_PRIVATE),
    DP_CONSTANT(FUTEX_UNLOCK_PI_PRIVATE), DP_CONSTANT(FUTEX_TRYLOCK_PI_PRIVATE),
    DP_CONSTANT(FUTEX_WAIT_BITSET_PRIVATE), DP_CONSTANT(FUTEX_WAKE_BITSET_PRIVATE),
    DP_CONSTANT(FUTEX_WAIT_REQUEUE_PI_PRIVATE), DP_CONSTANT(FUTEX_CMP_REQUEUE_PI_PRIVATE),
    DP_CONSTANT(FUTEX_BITSET_MATCH_ANY),
    // membarrier(2): the dataplane's way to order memory without a lock.
    DP_CONSTANT(MEMBARRIER_CMD_QUERY), DP_CONSTANT(MEMBARRIER_CMD_GLOBAL),
    DP_CONSTANT(MEMBARRIER_CMD_GLOBAL_EXPEDITED),
    DP_CONSTANT(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED),
    DP_CONSTANT(MEMBARRIER_CMD_PRIVATE_EXPEDITED),
    DP_CONSTANT(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED),
    // prctl(2), with the dataplane options of lib/dataplane.h.
    DP_CONSTANT(PR_SET_PDEATHSIG), DP_CONSTANT(PR_GET_PDEATHSIG), DP_CONSTANT(PR_GET_DUMPABLE),
    DP_CONSTANT(PR_SET_DUMPABLE), DP_CONSTANT(PR_GET_KEEPCAPS), DP_CONSTANT(PR_SET_KEEPCAPS),
    DP_CONSTANT(PR_GET_TIMING), DP_CONSTANT(PR_SET_TIMING), DP_CONSTANT(PR_SET_NAME),
    DP_CONSTANT(PR_GET_NAME), DP_CONSTANT(PR_GET_SECCOMP), DP_CONSTANT(PR_SET_SECCOMP),
    DP_CONSTANT(PR_CAPBSET_READ), DP_CONSTANT(PR_CAPBSET_DROP), DP_CONSTANT(PR_GET_TSC),
    DP_CONSTANT(PR_SET_TSC), DP_CONSTANT(PR_GET_SECUREBITS), DP_CONSTANT(PR_SET_SECUREBITS),
    DP_CONSTANT(PR_SET_TIMERSLACK), DP_CONSTANT(PR_GET_TIMERSLACK), DP_CONSTANT(PR_MCE_KILL),
    DP_CONSTANT(PR_MCE_KILL_GET), DP_CONSTANT(PR_SET_MM), DP_CONSTANT(PR_SET_PTRACER),
    DP_CONSTANT(PR_SET_CHILD_SUBREAPER), DP_CONSTANT(PR_GET_CHILD_SUBREAPER),
    DP_CONSTANT(PR_SET_NO_NEW_PRIVS), DP_CONSTANT(PR_GET_NO_NEW_PRIVS),
    DP_CONSTANT(PR_GET_TID_ADDRESS), DP_CONSTANT(PR_SET_THP_DISABLE),
    DP_CONSTANT(PR_GET_THP_DISABLE), DP_CONSTANT(PR_CAP_AMBIENT),
    DP_CONSTANT(PR_GET_SPECULATION_CTRL), DP_CONSTANT(PR_SET_SPECULATION_CTRL),
    DP_CONSTANT(PR_SET_VMA), DP_CONSTANT(PR_SET_DATAPLANE), DP_CONSTANT(PR_GET_DATAPLANE),
    DP_CONSTANT(PR_DATAPLANE_QUIESCE), DP_CONSTANT(PR_DATAPLANE_STRICT),
    // clone(2), wait(2), sigprocmask(2), sched_setscheduler(2).
    DP_CONSTANT(CLONE_VM), DP_CONSTANT(CLONE_FS), DP_CONSTANT(CLONE_FILES),
    DP_CONSTANT(CLONE_SIGHAND), DP_CONSTANT(CLONE_PIDFD), DP_CONSTANT(CLONE_PTRACE),
    DP_CONSTANT(CLONE_VFORK), DP_CONSTANT(CLONE_PARENT), DP_CONSTANT(CLONE_THREAD),
    DP_CONSTANT(CLONE_NEWNS), DP_CONSTANT(CLONE_SYSVSEM), DP_CONSTANT(CLONE_SETTLS),
    DP_CONSTANT(CLONE_PARENT_SETTID), DP_CONSTANT(CLONE_CHILD_CLEARTID),
    DP_CONSTANT(CLONE_DETACHED), DP_CONSTANT(CLONE_UNTRACED), DP_CONSTANT(CLONE_CHILD_SETTID),
    DP_CONSTANT(CLONE_NEWCGROUP), DP_CONSTANT(CLONE_NEWUTS), DP_CONSTANT(CLONE_NEWIPC),
    DP_CONSTANT(CLONE_NEWUSER), DP_CONSTANT(CLONE_NEWPID), DP_CONSTANT(CLONE_NEWNET),
    DP_CONSTANT(CLONE_IO),
    DP_CONSTANT(WNOHANG), DP_CONSTANT(WUNTRACED), DP_CONSTANT(WSTOPPED), DP_CONSTANT(WEXITED),
    DP_CONSTANT(WCONTINUED), DP_CONSTANT(WNOWAIT), DP_CONSTANT(__WALL), DP_CONSTANT(__WCLONE),
    DP_CONSTANT(SIG_BLOCK), DP_CONSTANT(SIG_UNBLOCK), DP_CONSTANT(SIG_SETMASK),
    DP_CONSTANT(SCHED_OTHER), DP_CONSTANT(SCHED_FIFO), DP_CONSTANT(SCHED_RR),
    DP_CONSTANT(SCHED_BATCH), DP_CONSTANT(SCHED_IDLE), DP_CONSTANT(SCHED_DEADLINE),
    DP_CONSTANT(SCHED_RESET_ON_FORK),
    // ioctl(2) requests minijail policies commonly name.
    DP_CONSTANT(TCGETS), DP_CONSTANT(TCSETS), DP_CONSTANT(TCSETSW), DP_CONSTANT(TCSETSF),
    DP_CONSTANT(TIOCGWINSZ), DP_CONSTANT(TIOCSWINSZ), DP_CONSTANT(TIOCGPGRP),
    DP_CONSTANT(TIOCSPGRP), DP_CONSTANT(FIONREAD), DP_CONSTANT(FIONBIO), DP_CONSTANT(FIOCLEX),
    DP_CONSTANT(FIONCLEX),
};

#undef DP_CONSTANT

// ---------------------------------------------------------------------------
// "Did you mean" suggestions for misspelt syscall and constant names.

}  // namespace

// A named constant's value: the table, then errno names (E*, action.cc) and
// signal names (SIG*, signal_names.h), which have tables of their own.
std::optional<uint64_t> ConstantValue(absl::string_view name) {
  for (const NamedConstant& constant : kConstants) {
    if (name == constant.name) return constant.value;
  }
  // Only the exact, upper-case spelling, as in C.
  if (name != absl::AsciiStrToUpper(name)) return std::nullopt;
  if (absl::StartsWith(name, "SIG")) {
    int signal = SignalNumber(name);
    if (signal > 0) return signal;
  } else if (absl::StartsWith(name, "E")) {
    int e = ErrnoNumber(name);
    if (e > 0) return e;
  }
  return std::nullopt;
}

// " (did you mean 'write'?)" for the closest candidate within two edits, or
// nothing.
std::string Suggestion(absl::string_view name, const std::vector<std::string>& candidates) {
  const std::string* best = nullptr;
  size_t best_distance = 3;
  for (const std::string& candidate : candidates) {
    // The distance is at least the difference in length: skip the hopeless
    // ones, so that a huge misspelt name stays cheap.
    const size_t longer = std::max(name.size(), candidate.size());
    const size_t shorter = std::min(name.size(), candidate.size());
    if (longer - shorter >= best_distance) continue;
    size_t distance = EditDistance(name, candidate);
    if (distance < best_distance && distance < candidate.size()) {
      best = &candidate;
      best_distance = distance;
    }
  }
  return best == nullptr ? "" : absl::StrCat(" (did you mean '", *best, "'?)");
}

const std::vector<std::string>& SyscallNames() {
  static const std::vector<std::string>* names = [] {
    auto* list = new std::vector<std::string>;
    for (int nr = 0; nr < 1024; ++nr) {
      char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
      if (name != nullptr) list->push_back(name);
      free(name);
    }
    return list;
  }();
  return *names;
}

const std::vector<std::string>& ConstantNames() {
  static const std::vector<std::string>* names = [] {
    auto* list = new std::vector<std::string>;
    for (const NamedConstant& constant : kConstants) list->push_back(constant.name);
    for (int s = 1; s < 32; ++s) list->push_back(SignalName(s));
    for (int e = 1; e <= 133; ++e) {
      std::string name = ErrnoName(e);
      if (name[0] == 'E') list->push_back(name);
    }
    return list;
  }();
  return *names;
}

}  // namespace policy
}  // namespace dpsupervise
