#include "supervisor/syscalls/syscall_flags.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include <cinttypes>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "lib/dataplane.h"

namespace dpsupervise {
namespace {

// A name with its value from the headers. Every table below is in the order
// strace prints the names (its xlat files' order, mostly by value): a
// combined name (O_SYNC, O_TMPFILE, MAP_SHARED_VALIDATE's bits) comes before
// its parts, an alias (MAP_ANON, O_NDELAY) after the name strace prints, so
// that the first name whose bits are all set wins and an alias never shows.
#define DP_NAMED(name) \
  NamedValue { #name, static_cast<uint64_t>(name) }

struct Table {
  const NamedValue* entries;
  size_t size;
  const NamedValue* begin() const { return entries; }
  const NamedValue* end() const { return entries + size; }
};

template <size_t N>
constexpr Table TableOf(const NamedValue (&entries)[N]) {
  return {entries, N};
}

constexpr NamedValue kMmapProt[] = {
    DP_NAMED(PROT_NONE),
    DP_NAMED(PROT_READ),
    DP_NAMED(PROT_WRITE),
    DP_NAMED(PROT_EXEC),
    {"PROT_SEM", 0x8},  // the kernel's; glibc does not define it
    DP_NAMED(PROT_GROWSDOWN),
    DP_NAMED(PROT_GROWSUP),
};

// The mapping type: the low four bits (MAP_TYPE), one value, not flags.
constexpr uint64_t kMapTypeMask = 0xf;
constexpr NamedValue kMmapType[] = {
    DP_NAMED(MAP_FILE),  // 0, which strace prints for "no type"
    DP_NAMED(MAP_SHARED),
    DP_NAMED(MAP_PRIVATE),
    DP_NAMED(MAP_SHARED_VALIDATE),
};
constexpr NamedValue kMmapFlags[] = {
    DP_NAMED(MAP_FIXED),     DP_NAMED(MAP_ANONYMOUS),       DP_NAMED(MAP_32BIT),
    DP_NAMED(MAP_NORESERVE), DP_NAMED(MAP_POPULATE),        DP_NAMED(MAP_NONBLOCK),
    DP_NAMED(MAP_GROWSDOWN), DP_NAMED(MAP_DENYWRITE),       DP_NAMED(MAP_EXECUTABLE),
    DP_NAMED(MAP_LOCKED),    DP_NAMED(MAP_STACK),           DP_NAMED(MAP_HUGETLB),
    DP_NAMED(MAP_SYNC),      DP_NAMED(MAP_FIXED_NOREPLACE), DP_NAMED(MAP_ANON),
};
// The huge page size (log2) of a MAP_HUGETLB mapping: six bits at 26.
constexpr int kMapHugeShift = 26;
constexpr uint64_t kMapHugeMask = 0x3f;

constexpr NamedValue kMadviseAdvice[] = {
    DP_NAMED(MADV_NORMAL),
    DP_NAMED(MADV_RANDOM),
    DP_NAMED(MADV_SEQUENTIAL),
    DP_NAMED(MADV_WILLNEED),
    DP_NAMED(MADV_DONTNEED),
    DP_NAMED(MADV_FREE),
    DP_NAMED(MADV_REMOVE),
    DP_NAMED(MADV_DONTFORK),
    DP_NAMED(MADV_DOFORK),
    DP_NAMED(MADV_MERGEABLE),
    DP_NAMED(MADV_UNMERGEABLE),
    DP_NAMED(MADV_HUGEPAGE),
    DP_NAMED(MADV_NOHUGEPAGE),
    DP_NAMED(MADV_DONTDUMP),
    DP_NAMED(MADV_DODUMP),
    DP_NAMED(MADV_WIPEONFORK),
    DP_NAMED(MADV_KEEPONFORK),
    DP_NAMED(MADV_COLD),
    DP_NAMED(MADV_PAGEOUT),
    // The kernel's numbers, for C libraries older than the advice.
    {"MADV_POPULATE_READ", 22},
    {"MADV_POPULATE_WRITE", 23},
    {"MADV_DONTNEED_LOCKED", 24},
    {"MADV_COLLAPSE", 25},
    DP_NAMED(MADV_HWPOISON),
    {"MADV_SOFT_OFFLINE", 101},
};

// The access mode: the low two bits (O_ACCMODE), one value, always printed.
constexpr uint64_t kOpenAccessMask = O_ACCMODE;
constexpr NamedValue kOpenAccess[] = {
    DP_NAMED(O_RDONLY),
    DP_NAMED(O_WRONLY),
    DP_NAMED(O_RDWR),
    DP_NAMED(O_ACCMODE),
};
// The kernel's single bits behind O_SYNC and O_TMPFILE (glibc's __O_TMPFILE
// includes O_DIRECTORY), which strace names when set alone.
constexpr uint64_t kKernelOSync = 04000000;
constexpr uint64_t kKernelOTmpfile = 020000000;
constexpr NamedValue kOpenFlags[] = {
    DP_NAMED(O_CREAT),
    DP_NAMED(O_EXCL),
    DP_NAMED(O_NOCTTY),
    DP_NAMED(O_TRUNC),
    DP_NAMED(O_APPEND),
    DP_NAMED(O_NONBLOCK),
    DP_NAMED(O_SYNC),
    {"__O_SYNC", kKernelOSync},
    DP_NAMED(O_DSYNC),
    DP_NAMED(O_DIRECT),
    // The kernel's x86-64 value: glibc defines O_LARGEFILE as 0 on 64-bit
    // targets, which would make a policy's `arg & O_LARGEFILE` never true.
    {"O_LARGEFILE", 0100000},
    DP_NAMED(O_NOFOLLOW),
    DP_NAMED(O_NOATIME),
    DP_NAMED(O_CLOEXEC),
    DP_NAMED(O_PATH),
    DP_NAMED(O_TMPFILE),
    {"__O_TMPFILE", kKernelOTmpfile},
    DP_NAMED(O_DIRECTORY),
    DP_NAMED(FASYNC),
    DP_NAMED(O_ASYNC),
    DP_NAMED(O_NDELAY),
    DP_NAMED(O_RSYNC),
};

constexpr NamedValue kClockIds[] = {
    DP_NAMED(CLOCK_REALTIME),
    DP_NAMED(CLOCK_MONOTONIC),
    DP_NAMED(CLOCK_PROCESS_CPUTIME_ID),
    DP_NAMED(CLOCK_THREAD_CPUTIME_ID),
    DP_NAMED(CLOCK_MONOTONIC_RAW),
    DP_NAMED(CLOCK_REALTIME_COARSE),
    DP_NAMED(CLOCK_MONOTONIC_COARSE),
    DP_NAMED(CLOCK_BOOTTIME),
    DP_NAMED(CLOCK_REALTIME_ALARM),
    DP_NAMED(CLOCK_BOOTTIME_ALARM),
    {"CLOCK_SGI_CYCLE", 10},  // retired, still named by the kernel's headers
    DP_NAMED(CLOCK_TAI),
};

constexpr NamedValue kTimerFlags[] = {
    DP_NAMED(TIMER_ABSTIME),
};

// futex ops are one value: the command with its private flag. The clock
// flag is rendered apart (RenderFutexOp).
constexpr NamedValue kFutexOps[] = {
    DP_NAMED(FUTEX_WAIT),
    DP_NAMED(FUTEX_WAKE),
    DP_NAMED(FUTEX_FD),
    DP_NAMED(FUTEX_REQUEUE),
    DP_NAMED(FUTEX_CMP_REQUEUE),
    DP_NAMED(FUTEX_WAKE_OP),
    DP_NAMED(FUTEX_LOCK_PI),
    DP_NAMED(FUTEX_UNLOCK_PI),
    DP_NAMED(FUTEX_TRYLOCK_PI),
    DP_NAMED(FUTEX_WAIT_BITSET),
    DP_NAMED(FUTEX_WAKE_BITSET),
    DP_NAMED(FUTEX_WAIT_REQUEUE_PI),
    DP_NAMED(FUTEX_CMP_REQUEUE_PI),
    {"FUTEX_LOCK_PI2", 13},
    DP_NAMED(FUTEX_WAIT_PRIVATE),
    DP_NAMED(FUTEX_WAKE_PRIVATE),
    DP_NAMED(FUTEX_REQUEUE_PRIVATE),
    DP_NAMED(FUTEX_CMP_REQUEUE_PRIVATE),
    DP_NAMED(FUTEX_WAKE_OP_PRIVATE),
    DP_NAMED(FUTEX_LOCK_PI_PRIVATE),
    DP_NAMED(FUTEX_UNLOCK_PI_PRIVATE),
    DP_NAMED(FUTEX_TRYLOCK_PI_PRIVATE),
    DP_NAMED(FUTEX_WAIT_BITSET_PRIVATE),
    DP_NAMED(FUTEX_WAKE_BITSET_PRIVATE),
    DP_NAMED(FUTEX_WAIT_REQUEUE_PI_PRIVATE),
    DP_NAMED(FUTEX_CMP_REQUEUE_PI_PRIVATE),
    {"FUTEX_LOCK_PI2_PRIVATE", 13 | FUTEX_PRIVATE_FLAG},
};
constexpr NamedValue kFutexClockFlag[] = {
    DP_NAMED(FUTEX_CLOCK_REALTIME),
};

constexpr NamedValue kSigprocmaskHow[] = {
    DP_NAMED(SIG_BLOCK),
    DP_NAMED(SIG_UNBLOCK),
    DP_NAMED(SIG_SETMASK),
};

// The tty, file and socket requests a dataplane (or its C library) makes.
// TCSETS* share their numbers with OSS sound requests strace also names
// ("SNDCTL_TMR_START or TCSETS"); the tty name is the one meant here.
constexpr NamedValue kIoctlRequests[] = {
    DP_NAMED(TCGETS),       DP_NAMED(TCSETS),        DP_NAMED(TCSETSW),
    DP_NAMED(TCSETSF),      DP_NAMED(TIOCSCTTY),     DP_NAMED(TIOCGPGRP),
    DP_NAMED(TIOCSPGRP),    DP_NAMED(TIOCOUTQ),      DP_NAMED(TIOCGWINSZ),
    DP_NAMED(TIOCSWINSZ),   DP_NAMED(FIONREAD),      DP_NAMED(FIONBIO),
    DP_NAMED(TIOCNOTTY),    DP_NAMED(FIONCLEX),      DP_NAMED(FIOCLEX),
    DP_NAMED(FIOASYNC),     DP_NAMED(TIOCGPTN),      DP_NAMED(SIOCADDRT),
    DP_NAMED(SIOCDELRT),    DP_NAMED(SIOCGIFNAME),   DP_NAMED(SIOCGIFCONF),
    DP_NAMED(SIOCGIFFLAGS), DP_NAMED(SIOCSIFFLAGS),  DP_NAMED(SIOCGIFADDR),
    DP_NAMED(SIOCGIFMTU),   DP_NAMED(SIOCSIFMTU),    DP_NAMED(SIOCGIFHWADDR),
    DP_NAMED(SIOCGIFINDEX), DP_NAMED(SIOCETHTOOL),   DP_NAMED(SIOCATMARK),
    DP_NAMED(TIOCINQ),
};

// F_GETLK64 and friends are left out: on x86-64 the C names equal F_GETLK
// (5, 6, 7), while the kernel's 32-bit-only numbers (12, 13, 14) would make
// a policy's F_GETLK64 mean something else than in C.
constexpr NamedValue kFcntlCommands[] = {
    DP_NAMED(F_DUPFD),        DP_NAMED(F_GETFD),         DP_NAMED(F_SETFD),
    DP_NAMED(F_GETFL),        DP_NAMED(F_SETFL),         DP_NAMED(F_GETLK),
    DP_NAMED(F_SETLK),        DP_NAMED(F_SETLKW),        DP_NAMED(F_SETOWN),
    DP_NAMED(F_GETOWN),       DP_NAMED(F_SETSIG),        DP_NAMED(F_GETSIG),
    DP_NAMED(F_SETOWN_EX),    DP_NAMED(F_GETOWN_EX),     {"F_GETOWNER_UIDS", 17},
    DP_NAMED(F_OFD_GETLK),    DP_NAMED(F_OFD_SETLK),     DP_NAMED(F_OFD_SETLKW),
    DP_NAMED(F_SETLEASE),     DP_NAMED(F_GETLEASE),      DP_NAMED(F_NOTIFY),
    {"F_CANCELLK", 1029},     DP_NAMED(F_DUPFD_CLOEXEC), DP_NAMED(F_SETPIPE_SZ),
    DP_NAMED(F_GETPIPE_SZ),   DP_NAMED(F_ADD_SEALS),     DP_NAMED(F_GET_SEALS),
};

constexpr NamedValue kAddressFamilies[] = {
    DP_NAMED(AF_UNSPEC),    DP_NAMED(AF_UNIX),      DP_NAMED(AF_INET),
    DP_NAMED(AF_AX25),      DP_NAMED(AF_IPX),       DP_NAMED(AF_APPLETALK),
    DP_NAMED(AF_NETROM),    DP_NAMED(AF_BRIDGE),    DP_NAMED(AF_ATMPVC),
    DP_NAMED(AF_X25),       DP_NAMED(AF_INET6),     DP_NAMED(AF_ROSE),
    DP_NAMED(AF_DECnet),    DP_NAMED(AF_NETBEUI),   DP_NAMED(AF_SECURITY),
    DP_NAMED(AF_KEY),       DP_NAMED(AF_NETLINK),   DP_NAMED(AF_PACKET),
    DP_NAMED(AF_ASH),       DP_NAMED(AF_ECONET),    DP_NAMED(AF_ATMSVC),
    DP_NAMED(AF_RDS),       DP_NAMED(AF_SNA),       DP_NAMED(AF_IRDA),
    DP_NAMED(AF_PPPOX),     DP_NAMED(AF_WANPIPE),   DP_NAMED(AF_LLC),
    DP_NAMED(AF_IB),        DP_NAMED(AF_MPLS),      DP_NAMED(AF_CAN),
    DP_NAMED(AF_TIPC),      DP_NAMED(AF_BLUETOOTH), DP_NAMED(AF_IUCV),
    DP_NAMED(AF_RXRPC),     DP_NAMED(AF_ISDN),      DP_NAMED(AF_PHONET),
    DP_NAMED(AF_IEEE802154), DP_NAMED(AF_CAIF),     DP_NAMED(AF_ALG),
    DP_NAMED(AF_NFC),       DP_NAMED(AF_VSOCK),     DP_NAMED(AF_KCM),
    DP_NAMED(AF_QIPCRTR),   DP_NAMED(AF_SMC),       DP_NAMED(AF_XDP),
    DP_NAMED(AF_MCTP),      DP_NAMED(AF_LOCAL),     DP_NAMED(AF_FILE),
    DP_NAMED(AF_ROUTE),
};

// The socket type: the low four bits, one value; then two flags.
constexpr uint64_t kSocketTypeMask = 0xf;
constexpr NamedValue kSocketTypes[] = {
    DP_NAMED(SOCK_STREAM), DP_NAMED(SOCK_DGRAM),     DP_NAMED(SOCK_RAW),
    DP_NAMED(SOCK_RDM),    DP_NAMED(SOCK_SEQPACKET), DP_NAMED(SOCK_DCCP),
    DP_NAMED(SOCK_PACKET),
};
constexpr NamedValue kSocketTypeFlags[] = {
    DP_NAMED(SOCK_CLOEXEC),
    DP_NAMED(SOCK_NONBLOCK),
};

constexpr NamedValue kMessageFlags[] = {
    DP_NAMED(MSG_OOB),
    DP_NAMED(MSG_PEEK),
    DP_NAMED(MSG_DONTROUTE),
    DP_NAMED(MSG_CTRUNC),
    {"MSG_PROBE", 0x10},  // the kernel's name (glibc's MSG_PROXY)
    DP_NAMED(MSG_TRUNC),
    DP_NAMED(MSG_DONTWAIT),
    DP_NAMED(MSG_EOR),
    DP_NAMED(MSG_WAITALL),
    DP_NAMED(MSG_FIN),
    DP_NAMED(MSG_SYN),
    DP_NAMED(MSG_CONFIRM),
    DP_NAMED(MSG_RST),
    DP_NAMED(MSG_ERRQUEUE),
    DP_NAMED(MSG_NOSIGNAL),
    DP_NAMED(MSG_MORE),
    DP_NAMED(MSG_WAITFORONE),
    {"MSG_SENDPAGE_NOTLAST", 0x20000},  // kernel-internal, as strace names them
    DP_NAMED(MSG_BATCH),
    {"MSG_NO_SHARED_FRAGS", 0x80000},
    DP_NAMED(MSG_ZEROCOPY),
    DP_NAMED(MSG_FASTOPEN),
    DP_NAMED(MSG_CMSG_CLOEXEC),
    {"MSG_CMSG_COMPAT", 0x80000000},
};

constexpr NamedValue kPrctlOptions[] = {
    DP_NAMED(PR_SET_PDEATHSIG),
    DP_NAMED(PR_GET_PDEATHSIG),
    DP_NAMED(PR_GET_DUMPABLE),
    DP_NAMED(PR_SET_DUMPABLE),
    DP_NAMED(PR_GET_UNALIGN),
    DP_NAMED(PR_SET_UNALIGN),
    DP_NAMED(PR_GET_KEEPCAPS),
    DP_NAMED(PR_SET_KEEPCAPS),
    DP_NAMED(PR_GET_FPEMU),
    DP_NAMED(PR_SET_FPEMU),
    DP_NAMED(PR_GET_FPEXC),
    DP_NAMED(PR_SET_FPEXC),
    DP_NAMED(PR_GET_TIMING),
    DP_NAMED(PR_SET_TIMING),
    DP_NAMED(PR_SET_NAME),
    DP_NAMED(PR_GET_NAME),
    DP_NAMED(PR_GET_ENDIAN),
    DP_NAMED(PR_SET_ENDIAN),
    DP_NAMED(PR_GET_SECCOMP),
    DP_NAMED(PR_SET_SECCOMP),
    DP_NAMED(PR_CAPBSET_READ),
    DP_NAMED(PR_CAPBSET_DROP),
    DP_NAMED(PR_GET_TSC),
    DP_NAMED(PR_SET_TSC),
    DP_NAMED(PR_GET_SECUREBITS),
    DP_NAMED(PR_SET_SECUREBITS),
    DP_NAMED(PR_SET_TIMERSLACK),
    DP_NAMED(PR_GET_TIMERSLACK),
    DP_NAMED(PR_TASK_PERF_EVENTS_DISABLE),
    DP_NAMED(PR_TASK_PERF_EVENTS_ENABLE),
    DP_NAMED(PR_MCE_KILL),
    DP_NAMED(PR_MCE_KILL_GET),
    DP_NAMED(PR_SET_MM),
    DP_NAMED(PR_SET_PTRACER),
    DP_NAMED(PR_SET_CHILD_SUBREAPER),
    DP_NAMED(PR_GET_CHILD_SUBREAPER),
    DP_NAMED(PR_SET_NO_NEW_PRIVS),
    DP_NAMED(PR_GET_NO_NEW_PRIVS),
    DP_NAMED(PR_GET_TID_ADDRESS),
    DP_NAMED(PR_SET_THP_DISABLE),
    DP_NAMED(PR_GET_THP_DISABLE),
    DP_NAMED(PR_MPX_ENABLE_MANAGEMENT),
    DP_NAMED(PR_MPX_DISABLE_MANAGEMENT),
    DP_NAMED(PR_SET_FP_MODE),
    DP_NAMED(PR_GET_FP_MODE),
    DP_NAMED(PR_CAP_AMBIENT),
    DP_NAMED(PR_SVE_SET_VL),
    DP_NAMED(PR_SVE_GET_VL),
    DP_NAMED(PR_GET_SPECULATION_CTRL),
    DP_NAMED(PR_SET_SPECULATION_CTRL),
    DP_NAMED(PR_PAC_RESET_KEYS),
    DP_NAMED(PR_SET_TAGGED_ADDR_CTRL),
    DP_NAMED(PR_GET_TAGGED_ADDR_CTRL),
    DP_NAMED(PR_SET_IO_FLUSHER),
    DP_NAMED(PR_GET_IO_FLUSHER),
    DP_NAMED(PR_SET_SYSCALL_USER_DISPATCH),
    DP_NAMED(PR_PAC_SET_ENABLED_KEYS),
    DP_NAMED(PR_PAC_GET_ENABLED_KEYS),
    DP_NAMED(PR_SCHED_CORE),
    DP_NAMED(PR_SME_SET_VL),
    DP_NAMED(PR_SME_GET_VL),
    DP_NAMED(PR_SET_VMA),
    // lib/dataplane.h: what a dataplane calls to enter and leave strict mode.
    DP_NAMED(PR_SET_DATAPLANE),
    DP_NAMED(PR_GET_DATAPLANE),
};

constexpr NamedValue kSchedPolicies[] = {
    DP_NAMED(SCHED_OTHER),
    DP_NAMED(SCHED_FIFO),
    DP_NAMED(SCHED_RR),
    DP_NAMED(SCHED_BATCH),
    {"SCHED_ISO", 4},  // reserved by the kernel, never implemented
    DP_NAMED(SCHED_IDLE),
    DP_NAMED(SCHED_DEADLINE),
};

constexpr NamedValue kEpollCtlOps[] = {
    DP_NAMED(EPOLL_CTL_ADD),
    DP_NAMED(EPOLL_CTL_DEL),
    DP_NAMED(EPOLL_CTL_MOD),
};

// struct pollfd's events; POLLREMOVE is only in the kernel's headers.
constexpr NamedValue kPollEvents[] = {
    DP_NAMED(POLLIN),     DP_NAMED(POLLPRI),    DP_NAMED(POLLOUT),  DP_NAMED(POLLERR),
    DP_NAMED(POLLHUP),    DP_NAMED(POLLNVAL),   DP_NAMED(POLLRDNORM), DP_NAMED(POLLRDBAND),
    DP_NAMED(POLLWRNORM), DP_NAMED(POLLWRBAND), DP_NAMED(POLLMSG),  {"POLLREMOVE", 0x1000},
    DP_NAMED(POLLRDHUP),
};

constexpr NamedValue kEpollEvents[] = {
    DP_NAMED(EPOLLIN),        DP_NAMED(EPOLLPRI),    DP_NAMED(EPOLLOUT),
    DP_NAMED(EPOLLERR),       DP_NAMED(EPOLLHUP),    {"EPOLLNVAL", 0x20},
    DP_NAMED(EPOLLRDNORM),    DP_NAMED(EPOLLRDBAND), DP_NAMED(EPOLLWRNORM),
    DP_NAMED(EPOLLWRBAND),    DP_NAMED(EPOLLMSG),    DP_NAMED(EPOLLRDHUP),
    DP_NAMED(EPOLLEXCLUSIVE), DP_NAMED(EPOLLWAKEUP), DP_NAMED(EPOLLONESHOT),
    DP_NAMED(EPOLLET),
};

constexpr NamedValue kFdFlags[] = {DP_NAMED(FD_CLOEXEC)};

constexpr NamedValue kLeaseTypes[] = {DP_NAMED(F_RDLCK), DP_NAMED(F_WRLCK), DP_NAMED(F_UNLCK)};

#undef DP_NAMED

// Every table, for SymbolicConstants.
constexpr Table kAllTables[] = {
    TableOf(kMmapProt),       TableOf(kMmapType),       TableOf(kMmapFlags),
    TableOf(kMadviseAdvice),  TableOf(kOpenAccess),     TableOf(kOpenFlags),
    TableOf(kClockIds),       TableOf(kTimerFlags),     TableOf(kFutexOps),
    TableOf(kFutexClockFlag), TableOf(kSigprocmaskHow), TableOf(kIoctlRequests),
    TableOf(kFcntlCommands),  TableOf(kAddressFamilies), TableOf(kSocketTypes),
    TableOf(kSocketTypeFlags), TableOf(kMessageFlags),  TableOf(kPrctlOptions),
    TableOf(kSchedPolicies),  TableOf(kEpollCtlOps),   TableOf(kPollEvents),
    TableOf(kEpollEvents),    TableOf(kFdFlags),       TableOf(kLeaseTypes),
};

std::string Hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%#" PRIx64, value);  // 0 prints as "0"
  return buf;
}

// strace's rendering of a value no name covers: "0x63 /* CLOCK_??? */".
std::string Unknown(uint64_t value, const char* prefix) {
  return Hex(value) + " /* " + prefix + "??? */";
}

const char* NameOf(Table table, uint64_t value) {
  for (const NamedValue& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return nullptr;
}

std::string RenderEnum(Table table, const char* prefix, uint64_t value) {
  const char* name = NameOf(table, value);
  return name != nullptr ? name : Unknown(value, prefix);
}

void Append(std::string& out, const std::string& part) {
  if (!out.empty()) out += '|';
  out += part;
}

// How the bits no flag names show when no flag matched either: strace
// annotates them for plain flag words (0x100 /* PROT_??? */) and socket
// types, not after an open access mode or a mapping type.
enum class Leftover { kAnnotated, kPlain };

// Appends the names of the flags set in `bits` to `out`, then the bits left
// over. Nonzero `bits` only.
void AppendFlags(std::string& out, Table flags, const char* prefix, Leftover style, uint64_t bits) {
  bool matched = false;
  for (const NamedValue& flag : flags) {
    if (flag.value != 0 && (bits & flag.value) == flag.value) {
      Append(out, flag.name);
      bits &= ~flag.value;
      matched = true;
    }
  }
  if (bits == 0) return;
  Append(out, !matched && style == Leftover::kAnnotated ? Unknown(bits, prefix) : Hex(bits));
}

// A plain flag word: "PROT_READ|PROT_WRITE", zero as the table's zero name
// or "0".
std::string RenderFlags(Table flags, const char* prefix, uint64_t value) {
  if (value == 0) {
    const char* zero = NameOf(flags, 0);
    return zero != nullptr ? zero : "0";
  }
  std::string out;
  AppendFlags(out, flags, prefix, Leftover::kAnnotated, value);
  return out;
}

// As RenderFlags, with leftover bits as a bare |0x2345000 even when no name
// matched (strace's rendering inside structures and of fcntl's flags).
std::string RenderPlainFlags(Table flags, const char* prefix, uint64_t value) {
  if (value == 0) return "0";
  std::string out;
  AppendFlags(out, flags, prefix, Leftover::kPlain, value);
  return out;
}

std::string RenderOpenFlags(uint64_t value) {
  std::string out = RenderEnum(TableOf(kOpenAccess), "O_", value & kOpenAccessMask);
  const uint64_t flags = value & ~kOpenAccessMask;
  if (flags != 0) AppendFlags(out, TableOf(kOpenFlags), "O_", Leftover::kPlain, flags);
  return out;
}

std::string RenderMmapFlags(uint64_t value) {
  std::string out = RenderEnum(TableOf(kMmapType), "MAP_", value & kMapTypeMask);
  const uint64_t huge_bits = kMapHugeMask << kMapHugeShift;
  const uint64_t flags = value & ~kMapTypeMask & ~huge_bits;
  if (flags != 0) AppendFlags(out, TableOf(kMmapFlags), "MAP_", Leftover::kPlain, flags);
  const uint64_t huge = (value & huge_bits) >> kMapHugeShift;
  if (huge != 0) Append(out, std::to_string(huge) + "<<MAP_HUGE_SHIFT");
  return out;
}

// "SOCK_STREAM|SOCK_CLOEXEC"; a type of 0 shows only when nothing else does.
std::string RenderSocketType(uint64_t value) {
  const uint64_t type = value & kSocketTypeMask;
  const uint64_t flags = value & ~kSocketTypeMask;
  if (value == 0) return "0";
  std::string out = type != 0 ? RenderEnum(TableOf(kSocketTypes), "SOCK_", type) : "";
  if (flags != 0) AppendFlags(out, TableOf(kSocketTypeFlags), "SOCK_", Leftover::kAnnotated, flags);
  return out;
}

// The op with its private flag by name; FUTEX_CLOCK_REALTIME appended for
// the ops that take an absolute timeout, where the kernel accepts it. Any
// other combination is unknown as a whole, as strace shows it.
std::string RenderFutexOp(uint64_t value) {
  const uint64_t op = value & ~static_cast<uint64_t>(FUTEX_CLOCK_REALTIME);
  const char* name = NameOf(TableOf(kFutexOps), op);
  if (name == nullptr) return Unknown(value, "FUTEX_");
  if (op == value) return name;
  const uint64_t command = op & ~static_cast<uint64_t>(FUTEX_PRIVATE_FLAG);
  if (command != FUTEX_WAIT && command != FUTEX_WAIT_BITSET && command != FUTEX_WAIT_REQUEUE_PI) {
    return Unknown(value, "FUTEX_");
  }
  return std::string(name) + "|FUTEX_CLOCK_REALTIME";
}

// A request no table names, by the fields of its number:
// "_IOC(_IOC_READ|_IOC_WRITE, 0x56, 0x78, 0x4)" (direction, type, number,
// argument size), as strace writes it.
std::string RenderIoctlRequest(uint64_t value) {
  const char* name = NameOf(TableOf(kIoctlRequests), value);
  if (name != nullptr) return name;
  const uint64_t direction = (value >> _IOC_DIRSHIFT) & _IOC_DIRMASK;
  std::string direction_text;
  if (direction == _IOC_NONE) direction_text = "_IOC_NONE";
  if (direction & _IOC_READ) Append(direction_text, "_IOC_READ");
  if (direction & _IOC_WRITE) Append(direction_text, "_IOC_WRITE");
  return "_IOC(" + direction_text + ", " + Hex((value >> _IOC_TYPESHIFT) & _IOC_TYPEMASK) + ", " +
         Hex((value >> _IOC_NRSHIFT) & _IOC_NRMASK) + ", " +
         Hex((value >> _IOC_SIZESHIFT) & _IOC_SIZEMASK) + ")";
}

}  // namespace

std::string RenderSymbolic(Symbols symbols, uint64_t value) {
  switch (symbols) {
    case Symbols::kNone:
      break;
    case Symbols::kMmapProt:
      return RenderFlags(TableOf(kMmapProt), "PROT_", value);
    case Symbols::kMmapFlags:
      return RenderMmapFlags(value);
    case Symbols::kMadviseAdvice:
      return RenderEnum(TableOf(kMadviseAdvice), "MADV_", value);
    case Symbols::kOpenFlags:
      return RenderOpenFlags(value);
    case Symbols::kClockId:
      return RenderEnum(TableOf(kClockIds), "CLOCK_", value);
    case Symbols::kTimerFlags:
      return RenderFlags(TableOf(kTimerFlags), "TIMER_", value);
    case Symbols::kFutexOp:
      return RenderFutexOp(value);
    case Symbols::kSigprocmaskHow:
      return RenderEnum(TableOf(kSigprocmaskHow), "SIG_", value);
    case Symbols::kIoctlRequest:
      return RenderIoctlRequest(value);
    case Symbols::kFcntlCmd:
      return RenderEnum(TableOf(kFcntlCommands), "F_", value);
    case Symbols::kAddressFamily:
      return RenderEnum(TableOf(kAddressFamilies), "AF_", value);
    case Symbols::kSocketType:
      return RenderSocketType(value);
    case Symbols::kMessageFlags:
      return RenderFlags(TableOf(kMessageFlags), "MSG_", value);
    case Symbols::kPrctlOption:
      return RenderEnum(TableOf(kPrctlOptions), "PR_", value);
    case Symbols::kSchedPolicy:
      return RenderEnum(TableOf(kSchedPolicies), "SCHED_", value);
    case Symbols::kEpollCtlOp:
      return RenderEnum(TableOf(kEpollCtlOps), "EPOLL_CTL_", value);
    case Symbols::kPollEvents:
      return RenderPlainFlags(TableOf(kPollEvents), "POLL", value);
    case Symbols::kEpollEvents:
      return RenderPlainFlags(TableOf(kEpollEvents), "EPOLL", value);
    case Symbols::kFdFlags:
      return RenderPlainFlags(TableOf(kFdFlags), "FD_", value);
    case Symbols::kLeaseType:
      return RenderEnum(TableOf(kLeaseTypes), "F_", value);
  }
  return Hex(value);
}

const std::vector<NamedValue>& SymbolicConstants() {
  static const std::vector<NamedValue>* constants = [] {
    auto* list = new std::vector<NamedValue>;
    for (const Table& table : kAllTables) list->insert(list->end(), table.begin(), table.end());
    return list;
  }();
  return *constants;
}

}  // namespace dpsupervise
