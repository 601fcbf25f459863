#include "supervisor/policy/policy_constants.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "lib/dataplane.h"
#include "supervisor/policy/action.h"
#include "supervisor/policy/edit_distance.h"
#include "supervisor/syscalls/signal_names.h"
#include "supervisor/syscalls/syscall_flags.h"

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

// The names of the families the reports render (open and mmap flags,
// clocks, futex ops, socket, prctl, sched and ioctl names, ...) come from
// syscall_flags.h, so that every name a report prints is a name a policy
// may use; this table holds the rest.
constexpr NamedConstant kConstants[] = {
    DP_CONSTANT(AT_FDCWD), DP_CONSTANT(AT_SYMLINK_NOFOLLOW), DP_CONSTANT(AT_REMOVEDIR),
    DP_CONSTANT(AT_SYMLINK_FOLLOW), DP_CONSTANT(AT_NO_AUTOMOUNT), DP_CONSTANT(AT_EMPTY_PATH),
    DP_CONSTANT(R_OK), DP_CONSTANT(W_OK), DP_CONSTANT(X_OK), DP_CONSTANT(F_OK),
    DP_CONSTANT(SEEK_SET), DP_CONSTANT(SEEK_CUR), DP_CONSTANT(SEEK_END), DP_CONSTANT(SEEK_DATA),
    DP_CONSTANT(SEEK_HOLE),
    // fcntl(2) arguments.
    DP_CONSTANT(F_SEAL_SEAL), DP_CONSTANT(F_SEAL_SHRINK), DP_CONSTANT(F_SEAL_GROW),
    DP_CONSTANT(F_SEAL_WRITE),
    // mlockall(2), msync(2), mremap(2).
    DP_CONSTANT(MCL_CURRENT), DP_CONSTANT(MCL_FUTURE), DP_CONSTANT(MCL_ONFAULT),
    DP_CONSTANT(MS_ASYNC), DP_CONSTANT(MS_SYNC), DP_CONSTANT(MS_INVALIDATE),
    DP_CONSTANT(MREMAP_MAYMOVE), DP_CONSTANT(MREMAP_FIXED),
    // Timer fds.
    DP_CONSTANT(TFD_CLOEXEC), DP_CONSTANT(TFD_NONBLOCK), DP_CONSTANT(TFD_TIMER_ABSTIME),
    // Socket options and protocols.
    DP_CONSTANT(SOL_SOCKET), DP_CONSTANT(SO_REUSEADDR), DP_CONSTANT(SO_REUSEPORT),
    DP_CONSTANT(SO_KEEPALIVE), DP_CONSTANT(SO_RCVBUF), DP_CONSTANT(SO_SNDBUF),
    DP_CONSTANT(SO_ERROR), DP_CONSTANT(SO_TYPE),
    DP_CONSTANT(IPPROTO_IP), DP_CONSTANT(IPPROTO_ICMP), DP_CONSTANT(IPPROTO_TCP),
    DP_CONSTANT(IPPROTO_UDP), DP_CONSTANT(IPPROTO_IPV6),
    // Event, poll and random fds.
    DP_CONSTANT(EFD_CLOEXEC), DP_CONSTANT(EFD_NONBLOCK), DP_CONSTANT(EFD_SEMAPHORE),
    DP_CONSTANT(EPOLL_CLOEXEC),
    DP_CONSTANT(GRND_NONBLOCK), DP_CONSTANT(GRND_RANDOM), DP_CONSTANT(MFD_CLOEXEC),
    DP_CONSTANT(MFD_ALLOW_SEALING), DP_CONSTANT(MFD_HUGETLB),
    // futex(2): the flag and mask bits of an op (the ops are shared).
    DP_CONSTANT(FUTEX_PRIVATE_FLAG), DP_CONSTANT(FUTEX_CMD_MASK),
    DP_CONSTANT(FUTEX_BITSET_MATCH_ANY),
    // membarrier(2): the dataplane's way to order memory without a lock.
    DP_CONSTANT(MEMBARRIER_CMD_QUERY), DP_CONSTANT(MEMBARRIER_CMD_GLOBAL),
    DP_CONSTANT(MEMBARRIER_CMD_GLOBAL_EXPEDITED),
    DP_CONSTANT(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED),
    DP_CONSTANT(MEMBARRIER_CMD_PRIVATE_EXPEDITED),
    DP_CONSTANT(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED),
    // The flags of prctl(PR_SET_DATAPLANE) (lib/dataplane.h).
    DP_CONSTANT(PR_DATAPLANE_QUIESCE), DP_CONSTANT(PR_DATAPLANE_STRICT),
    // clone(2), wait(2), sched_setscheduler(2).
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
    DP_CONSTANT(SCHED_RESET_ON_FORK),
};

#undef DP_CONSTANT

// ---------------------------------------------------------------------------
// "Did you mean" suggestions for misspelt syscall and constant names.

}  // namespace

// A named constant's value: the tables, then errno names (E*, action.cc) and
// signal names (SIG*, signal_names.h), which have tables of their own.
std::optional<uint64_t> ConstantValue(absl::string_view name) {
  for (const NamedConstant& constant : kConstants) {
    if (name == constant.name) return constant.value;
  }
  for (const NamedValue& constant : SymbolicConstants()) {
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
    for (const NamedValue& constant : SymbolicConstants()) list->push_back(constant.name);
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
