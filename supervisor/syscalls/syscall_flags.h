// syscall_flags.h: the names of the flags and enumerated values of the
// syscalls a dataplane makes, and their strace-style rendering.
//
// One table per family of names (PROT_*, MAP_*, O_*, CLOCK_*, FUTEX_*, ...),
// taken from this machine's headers, which are the target's (x86-64 only);
// the few names only the kernel's headers define are spelled out with their
// x86-64 values. The decoder (syscall_decode.h) renders arguments with them,
// the policy language (policy_constants.h) accepts their names as values:
// one list, so a name the reports print is a name a policy may use.
//
// Rendering follows strace 6.x, so that a report reads like `strace`:
//   flags         PROT_READ|PROT_WRITE; zero as the family's zero name
//                 (PROT_NONE) or 0; bits no name covers as a trailing |0x100,
//                 or 0x100 /* PROT_??? */ when no name matched at all
//   enumerations  CLOCK_MONOTONIC; an unnamed value as 0x63 /* CLOCK_??? */
//   open flags    the access mode first, always: O_RDONLY|O_CLOEXEC
//   mmap flags    the mapping type first: MAP_PRIVATE|MAP_ANONYMOUS, type 0
//                 as MAP_FILE, the huge page size as |21<<MAP_HUGE_SHIFT
//   socket type   the type, then SOCK_CLOEXEC/SOCK_NONBLOCK
//   futex op      FUTEX_WAIT_PRIVATE, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME
//                 (the clock flag only with the ops that take a timeout)
//   ioctl request TCGETS, FIONREAD, SIOCGIFINDEX; an unnamed request by its
//                 fields: _IOC(_IOC_READ, 0x56, 0x78, 0x4)
// Pure functions, no I/O.
#ifndef DPSUPERVISE_SUPERVISOR_SYSCALLS_SYSCALL_FLAGS_H_
#define DPSUPERVISE_SUPERVISOR_SYSCALLS_SYSCALL_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace dpsupervise {

struct NamedValue {
  const char* name;
  uint64_t value;
};

// The argument families RenderSymbolic knows.
enum class Symbols : uint8_t {
  kNone,             // not symbolic
  kMmapProt,         // PROT_*: mmap, mprotect, pkey_mprotect
  kMmapFlags,        // MAP_*: mmap
  kMadviseAdvice,    // MADV_*: madvise, process_madvise
  kOpenFlags,        // O_*: open, openat
  kClockId,          // CLOCK_*: clock_*, timer_create, timerfd_create
  kTimerFlags,       // TIMER_ABSTIME: clock_nanosleep, timer_settime
  kFutexOp,          // FUTEX_*: futex
  kSigprocmaskHow,   // SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK: rt_sigprocmask
  kIoctlRequest,     // common tty, file and socket requests: ioctl
  kFcntlCmd,         // F_*: fcntl
  kAddressFamily,    // AF_*: socket, socketpair
  kSocketType,       // SOCK_*: socket, socketpair
  kMessageFlags,     // MSG_*: sendto, recvfrom, sendmsg, recvmsg, ...
  kPrctlOption,      // PR_*: prctl, with the dataplane options
  kSchedPolicy,      // SCHED_*: sched_setscheduler, sched_get_priority_*
  kEpollCtlOp,       // EPOLL_CTL_*: epoll_ctl
  kPollEvents,       // POLL*: poll and ppoll's struct pollfd events
  kEpollEvents,      // EPOLL*: epoll_ctl's struct epoll_event events
  kFdFlags,          // FD_CLOEXEC: fcntl(F_SETFD)
  kLeaseType,        // F_RDLCK, F_WRLCK, F_UNLCK: fcntl(F_SETLEASE)
};

// Whether `symbols` renders a set of flags ("A|B") rather than one value.
constexpr bool IsFlagSet(Symbols symbols) {
  switch (symbols) {
    case Symbols::kMmapProt:
    case Symbols::kMmapFlags:
    case Symbols::kOpenFlags:
    case Symbols::kTimerFlags:
    case Symbols::kSocketType:
    case Symbols::kMessageFlags:
    case Symbols::kPollEvents:
    case Symbols::kEpollEvents:
    case Symbols::kFdFlags:
      return true;
    default:
      return false;
  }
}

// `value` rendered as strace renders that family (see the file comment).
// The caller passes only the bits the kernel reads: the low 32 for an int.
std::string RenderSymbolic(Symbols symbols, uint64_t value);

// Every name RenderSymbolic uses, with its value, plus the aliases of the
// same families it never prints (MAP_ANON, AF_LOCAL, O_NDELAY, ...) and the
// C names of futex ops with the private flag (FUTEX_WAIT_PRIVATE): the
// policy language's constants of these families. Names are unique.
const std::vector<NamedValue>& SymbolicConstants();

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_SYSCALLS_SYSCALL_FLAGS_H_
