#include "supervisor/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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
#include <memory>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lib/dataplane.h"
#include "supervisor/send_signal.h"

namespace dpsupervise {
namespace {

// An include chain deeper than this is surely a mistake (cycles are caught
// separately, with the chain in the message).
constexpr size_t kMaxIncludeDepth = 16;
// One syscall line may expand into several libseccomp rules (`||`, `&`
// masks, the opposite of `EXPR; return E`); past this the policy is
// unreadable and the filter needlessly long.
constexpr size_t kMaxRulesPerSyscall = 128;
// libseccomp's compile time grows faster than linearly with the number of
// rules (measured: 1000 rules 0.16 s, 2000 0.8 s, 3000 2.6 s, 4000 6.7 s and
// over BPF_MAXINSNS anyway). Past this a policy is refused at once.
constexpr size_t kMaxRules = 1024;
constexpr uint64_t kMax = ~0ULL;

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

// A named constant's value: the table, then errno names (E*) and signal
// names (SIG*), which have tables of their own in action.cc.
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

// ---------------------------------------------------------------------------
// "Did you mean" suggestions for misspelt syscall and constant names.

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
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

// ---------------------------------------------------------------------------
// Source text. A logical line is one statement: comments removed and lines
// ending in '\' joined to the next (as minijail does). Segments map offsets
// in the logical line back to physical lines for error messages.

struct Segment {
  size_t logical_start = 0;
  int line_number = 0;
  absl::string_view physical;  // the whole physical line, for the message
};

struct LogicalLine {
  std::string text;
  std::vector<Segment> segments;
  int line_number() const { return segments.front().line_number; }
};

std::vector<LogicalLine> SplitLogicalLines(absl::string_view contents) {
  std::vector<LogicalLine> lines;
  LogicalLine current;
  int number = 0;
  for (absl::string_view physical : absl::StrSplit(contents, '\n')) {
    ++number;
    absl::ConsumeSuffix(&physical, "\r");
    absl::string_view content = physical.substr(0, physical.find('#'));
    content = absl::StripTrailingAsciiWhitespace(content);
    const bool continues = absl::ConsumeSuffix(&content, "\\");
    if (!current.segments.empty()) current.text.push_back(' ');
    current.segments.push_back({current.text.size(), number, physical});
    current.text.append(content.data(), content.size());
    if (!continues) {
      lines.push_back(std::move(current));
      current = LogicalLine();
    }
  }
  if (!current.segments.empty()) lines.push_back(std::move(current));
  return lines;
}

// How byte `i` of `text`, quoted from a policy file, is shown in a message:
// printable ASCII and tabs (so the caret lines up) as they are, every other
// byte (NUL, ESC and the other control bytes, anything not ASCII) as a
// visible \xNN, so a binary file can neither cut a message short nor send a
// terminal an escape sequence. A '\\' before an 'x' is shown as \x5c, so
// that every "\x" in a message is an escape; any other '\\' (a line
// continuation) as it is.
std::string ShownByte(absl::string_view text, size_t i) {
  const unsigned char byte = static_cast<unsigned char>(text[i]);
  const bool reads_as_escape = byte == '\\' && i + 1 < text.size() && text[i + 1] == 'x';
  if (!reads_as_escape && (byte == '\t' || (byte >= 0x20 && byte < 0x7f))) {
    return std::string(1, static_cast<char>(byte));
  }
  return absl::StrCat("\\x", absl::Hex(byte, absl::kZeroPad2));
}

std::string ShownText(absl::string_view text) {
  std::string shown;
  for (size_t i = 0; i < text.size(); ++i) shown += ShownByte(text, i);
  return shown;
}

// The caret line under ShownText(source): blanks as wide as the bytes before
// the column (tabs kept so it lines up), then '^'.
std::string Caret(absl::string_view source, size_t column) {
  std::string caret;
  for (size_t i = 0; i + 1 < column; ++i) {
    const std::string shown = i < source.size() ? ShownByte(source, i) : " ";
    caret.append(shown == "\t" ? "\t" : std::string(shown.size(), ' '));
  }
  caret.push_back('^');
  return caret;
}

// "file:line:column: error: found X, expected Y", the source line, a caret.
// Everything in it that came from the file (or its name) is shown with
// ShownText.
absl::Status ErrorAt(absl::string_view file, const LogicalLine& line, size_t pos,
                     absl::string_view what) {
  const Segment* segment = &line.segments.front();
  for (const Segment& s : line.segments) {
    if (s.logical_start <= pos) segment = &s;
  }
  const size_t column = pos - segment->logical_start + 1;
  return absl::InvalidArgumentError(absl::StrCat(
      ShownText(file), ":", segment->line_number, ":", column, ": error: ", ShownText(what), "\n",
      ShownText(segment->physical), "\n", Caret(segment->physical, column)));
}

// ---------------------------------------------------------------------------
// Tokens of one logical line.

enum class TokenKind { kEnd, kIdentifier, kNumber, kOperator, kPunctuation, kDirective, kInvalid };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  absl::string_view text;
  size_t pos = 0;

  bool Is(TokenKind k, absl::string_view t) const { return kind == k && text == t; }
  bool IsPunctuation(char c) const {
    return kind == TokenKind::kPunctuation && text.size() == 1 && text[0] == c;
  }
  // As the message says what was found: 'text', or end of line.
  std::string Found() const {
    return kind == TokenKind::kEnd ? "end of line" : absl::StrCat("'", text, "'");
  }
};

bool IsIdentifierStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsIdentifierChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }
// Runs of these form one operator token, so a typo such as '===' or '=<' is
// reported whole instead of as a valid operator followed by garbage.
bool IsOperatorChar(char c) { return strchr("=!<>&|", c) != nullptr && c != '\0'; }
bool IsPunctuationChar(char c) { return strchr(":;,{}()~[]", c) != nullptr && c != '\0'; }

size_t ScanWhile(absl::string_view text, size_t i, bool (*pred)(char)) {
  while (i < text.size() && pred(text[i])) ++i;
  return i;
}

// Identifiers may contain '-' between letters so that minijail's action
// names (kill-process) are read whole and rejected with a useful message.
size_t ScanIdentifier(absl::string_view text, size_t i) {
  for (;;) {
    i = ScanWhile(text, i, IsIdentifierChar);
    if (i + 1 < text.size() && text[i] == '-' && absl::ascii_isalpha(text[i + 1])) {
      ++i;
      continue;
    }
    return i;
  }
}

Token ScanToken(absl::string_view text, size_t start) {
  const char c = text[start];
  size_t end = start + 1;
  TokenKind kind = TokenKind::kInvalid;
  const bool negative_number =
      c == '-' && start + 1 < text.size() && absl::ascii_isdigit(text[start + 1]);
  if (IsIdentifierStart(c)) {
    kind = TokenKind::kIdentifier;
    end = ScanIdentifier(text, start);
  } else if (absl::ascii_isdigit(c) || negative_number) {
    kind = TokenKind::kNumber;
    end = ScanWhile(text, start + 1, IsIdentifierChar);
  } else if (c == '@' && start + 1 < text.size() && IsIdentifierStart(text[start + 1])) {
    kind = TokenKind::kDirective;
    end = ScanWhile(text, start + 1, IsIdentifierChar);
  } else if (IsOperatorChar(c)) {
    kind = TokenKind::kOperator;
    end = ScanWhile(text, start, IsOperatorChar);
  } else if (IsPunctuationChar(c)) {
    kind = TokenKind::kPunctuation;
  } else {
    // Keep a multi-byte UTF-8 character whole in the message.
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) ++end;
  }
  return {kind, text.substr(start, end - start), start};
}

std::vector<Token> Tokenize(absl::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  for (;;) {
    while (i < text.size() && absl::ascii_isspace(text[i])) ++i;
    if (i == text.size()) break;
    tokens.push_back(ScanToken(text, i));
    i = tokens.back().pos + tokens.back().text.size();
  }
  // The end of the line is just after its last character (a continued line
  // may end in blanks).
  const size_t end = absl::StripTrailingAsciiWhitespace(text).size();
  tokens.push_back({TokenKind::kEnd, text.substr(end, 0), end});
  return tokens;
}

// Walks the tokens of one line and builds its error messages.
class Cursor {
 public:
  Cursor(absl::string_view file, const LogicalLine& line)
      : file_(file), line_(line), tokens_(Tokenize(line.text)) {}

  const Token& Peek() const { return tokens_[index_]; }
  const Token& Next() {
    const Token& token = tokens_[index_];
    if (token.kind != TokenKind::kEnd) ++index_;
    return token;
  }
  bool AtEnd() const { return Peek().kind == TokenKind::kEnd; }
  // Parentheses open in the value being parsed.
  int depth = 0;
  const LogicalLine& line() const { return line_; }
  absl::string_view file() const { return file_; }

  // "found 'X', expected Y" about a token.
  absl::Status Error(const Token& token, absl::string_view expected) const {
    return ErrorAt(file_, line_, token.pos, absl::StrCat("found ", token.Found(), ", expected ",
                                                         expected));
  }
  // A message of any wording at an offset of the line.
  absl::Status ErrorAtPos(size_t pos, absl::string_view what) const {
    return ErrorAt(file_, line_, pos, what);
  }
  // The source text from `pos` up to the current token, trimmed.
  absl::string_view TextFrom(size_t pos) const {
    return absl::StripTrailingAsciiWhitespace(
        absl::string_view(line_.text).substr(pos, Peek().pos - pos));
  }
  absl::Status ExpectEnd(absl::string_view expected = "end of line") const {
    return AtEnd() ? absl::OkStatus() : Error(Peek(), expected);
  }

 private:
  absl::string_view file_;
  const LogicalLine& line_;
  std::vector<Token> tokens_;
  size_t index_ = 0;
};

// ---------------------------------------------------------------------------
// Numbers: decimal, 0x hexadecimal, 0 octal, optionally negative (two's
// complement in 64 bits, as minijail does on 64-bit targets).

enum class NumberError { kNone, kMalformed, kOverflow };

NumberError ParseNumber(absl::string_view text, uint64_t* value) {
  const bool negative = absl::ConsumePrefix(&text, "-");
  int base = 10;
  if (absl::ConsumePrefix(&text, "0x") || absl::ConsumePrefix(&text, "0X")) {
    base = 16;
  } else if (text.size() > 1 && text[0] == '0') {
    base = 8;
    text.remove_prefix(1);
  }
  if (text.empty()) return NumberError::kMalformed;
  unsigned __int128 magnitude = 0;
  for (char c : text) {
    int digit = absl::ascii_isdigit(c) ? c - '0'
                : absl::ascii_isxdigit(c) ? absl::ascii_tolower(c) - 'a' + 10
                                          : 99;
    if (digit >= base) return NumberError::kMalformed;
    magnitude = magnitude * base + digit;
    if (magnitude > kMax) return NumberError::kOverflow;
  }
  if (negative && magnitude > (static_cast<unsigned __int128>(1) << 63)) {
    return NumberError::kOverflow;
  }
  *value = negative ? 0 - static_cast<uint64_t>(magnitude) : static_cast<uint64_t>(magnitude);
  return NumberError::kNone;
}

// ---------------------------------------------------------------------------
// Comparisons as libseccomp takes them (one scmp_arg_cmp each), and the
// reasoning needed to put several on the same argument into one rule.

// One comparison, with where its atom starts in the line (for errors).
struct Literal {
  scmp_arg_cmp cmp;
  size_t pos = 0;
};

scmp_arg_cmp Compare(int arg, scmp_compare op, uint64_t a, uint64_t b = 0) {
  return scmp_arg_cmp{static_cast<unsigned>(arg), op, a, b};
}

bool SameCompare(const scmp_arg_cmp& a, const scmp_arg_cmp& b) {
  return a.arg == b.arg && a.op == b.op && a.datum_a == b.datum_a && a.datum_b == b.datum_b;
}

bool Holds(const scmp_arg_cmp& c, uint64_t x) {
  switch (c.op) {
    case SCMP_CMP_NE:
      return x != c.datum_a;
    case SCMP_CMP_LT:
      return x < c.datum_a;
    case SCMP_CMP_LE:
      return x <= c.datum_a;
    case SCMP_CMP_EQ:
      return x == c.datum_a;
    case SCMP_CMP_GE:
      return x >= c.datum_a;
    case SCMP_CMP_GT:
      return x > c.datum_a;
    case SCMP_CMP_MASKED_EQ:
      return (x & c.datum_a) == c.datum_b;
    default:
      return false;
  }
}

std::string FormatValue(uint64_t v) {
  return v < 4096 ? absl::StrCat(v) : absl::StrCat("0x", absl::Hex(v));
}

// "arg0 == 1", "arg1 & 0x800 == 0".
std::string FormatCompare(const scmp_arg_cmp& c) {
  const std::string arg = absl::StrCat("arg", c.arg);
  switch (c.op) {
    case SCMP_CMP_NE:
      return absl::StrCat(arg, " != ", FormatValue(c.datum_a));
    case SCMP_CMP_LT:
      return absl::StrCat(arg, " < ", FormatValue(c.datum_a));
    case SCMP_CMP_LE:
      return absl::StrCat(arg, " <= ", FormatValue(c.datum_a));
    case SCMP_CMP_EQ:
      return absl::StrCat(arg, " == ", FormatValue(c.datum_a));
    case SCMP_CMP_GE:
      return absl::StrCat(arg, " >= ", FormatValue(c.datum_a));
    case SCMP_CMP_GT:
      return absl::StrCat(arg, " > ", FormatValue(c.datum_a));
    case SCMP_CMP_MASKED_EQ:
      return absl::StrCat(arg, " & ", FormatValue(c.datum_a), " == ", FormatValue(c.datum_b));
    default:
      return arg;
  }
}

// The values an order comparison accepts, as [lo, hi]; false for the other
// operators. `empty` when it accepts nothing (arg < 0).
bool ToInterval(const scmp_arg_cmp& c, uint64_t* lo, uint64_t* hi, bool* empty) {
  *empty = false;
  switch (c.op) {
    case SCMP_CMP_EQ:
      *lo = *hi = c.datum_a;
      return true;
    case SCMP_CMP_LT:
      *empty = c.datum_a == 0;
      *lo = 0;
      *hi = c.datum_a - 1;
      return true;
    case SCMP_CMP_LE:
      *lo = 0;
      *hi = c.datum_a;
      return true;
    case SCMP_CMP_GT:
      *empty = c.datum_a == kMax;
      *lo = c.datum_a + 1;
      *hi = kMax;
      return true;
    case SCMP_CMP_GE:
      *lo = c.datum_a;
      *hi = kMax;
      return true;
    default:
      return false;
  }
}

// One comparison accepting exactly [lo, hi], if libseccomp has one.
std::optional<scmp_arg_cmp> FromInterval(unsigned arg, uint64_t lo, uint64_t hi) {
  if (lo == hi) return Compare(arg, SCMP_CMP_EQ, lo);
  if (lo == 0) return Compare(arg, SCMP_CMP_LE, hi);
  if (hi == kMax) return Compare(arg, SCMP_CMP_GE, lo);
  return std::nullopt;  // a two-sided range needs two comparisons
}

bool NeverHolds(const scmp_arg_cmp& c) {
  uint64_t lo, hi;
  bool empty = false;
  if (ToInterval(c, &lo, &hi, &empty)) return empty;
  return c.op == SCMP_CMP_MASKED_EQ && (c.datum_b & ~c.datum_a) != 0;
}

enum class Conjunction { kMerged, kNeverTrue, kInexpressible };

// Replaces `a` by one comparison equivalent to `a && b` (same argument) when
// libseccomp can express it.
Conjunction Merge(scmp_arg_cmp& a, const scmp_arg_cmp& b) {
  if (SameCompare(a, b)) return Conjunction::kMerged;
  if (a.op == SCMP_CMP_EQ) return Holds(b, a.datum_a) ? Conjunction::kMerged
                                                       : Conjunction::kNeverTrue;
  if (b.op == SCMP_CMP_EQ) {
    if (!Holds(a, b.datum_a)) return Conjunction::kNeverTrue;
    a = b;
    return Conjunction::kMerged;
  }
  if (a.op == SCMP_CMP_MASKED_EQ && b.op == SCMP_CMP_MASKED_EQ) {
    // Bits both masks test must agree; then one mask test covers both.
    if (((a.datum_b ^ b.datum_b) & a.datum_a & b.datum_a) != 0) return Conjunction::kNeverTrue;
    a = Compare(a.arg, SCMP_CMP_MASKED_EQ, a.datum_a | b.datum_a, a.datum_b | b.datum_b);
    return Conjunction::kMerged;
  }
  uint64_t lo1, hi1, lo2, hi2;
  bool empty1, empty2;
  const bool interval1 = ToInterval(a, &lo1, &hi1, &empty1);
  const bool interval2 = ToInterval(b, &lo2, &hi2, &empty2);
  if (interval1 && b.op == SCMP_CMP_NE) {
    // Only a bound equal to the excluded value can move.
    if (b.datum_a < lo1 || b.datum_a > hi1) return Conjunction::kMerged;
    if (lo1 == hi1) return Conjunction::kNeverTrue;
    uint64_t lo = lo1;
    uint64_t hi = hi1;
    if (b.datum_a == lo1) {
      ++lo;
    } else if (b.datum_a == hi1) {
      --hi;
    } else {
      return Conjunction::kInexpressible;
    }
    auto merged = FromInterval(a.arg, lo, hi);
    if (!merged) return Conjunction::kInexpressible;
    a = *merged;
    return Conjunction::kMerged;
  }
  if (a.op == SCMP_CMP_NE && interval2) {
    scmp_arg_cmp swapped = b;
    Conjunction result = Merge(swapped, a);
    if (result == Conjunction::kMerged) a = swapped;
    return result;
  }
  if (!interval1 || !interval2) return Conjunction::kInexpressible;
  const uint64_t lo = std::max(lo1, lo2);
  const uint64_t hi = std::min(hi1, hi2);
  if (lo > hi) return Conjunction::kNeverTrue;
  auto merged = FromInterval(a.arg, lo, hi);
  if (!merged) return Conjunction::kInexpressible;
  a = *merged;
  return Conjunction::kMerged;
}

// One libseccomp rule's conditions for a conjunction of literals, with each
// argument compared at most once. On failure, `culprits` holds the two
// comparisons that could not be merged (or the one that never holds).
struct Simplified {
  Conjunction outcome = Conjunction::kMerged;
  std::vector<Literal> literals;
  std::vector<Literal> culprits;
};

Simplified Simplify(const std::vector<Literal>& conjunction) {
  Simplified result;
  for (const Literal& literal : conjunction) {
    if (NeverHolds(literal.cmp)) {
      result.outcome = Conjunction::kNeverTrue;
      result.culprits = {literal};
      return result;
    }
    auto same_arg = std::find_if(result.literals.begin(), result.literals.end(),
                                 [&](const Literal& l) { return l.cmp.arg == literal.cmp.arg; });
    if (same_arg == result.literals.end()) {
      result.literals.push_back(literal);
      continue;
    }
    const Literal before = *same_arg;
    Conjunction merged = Merge(same_arg->cmp, literal.cmp);
    if (merged != Conjunction::kMerged) {
      result.outcome = merged;
      result.culprits = {before, literal};
      return result;
    }
  }
  std::sort(result.literals.begin(), result.literals.end(),
            [](const Literal& a, const Literal& b) { return a.cmp.arg < b.cmp.arg; });
  return result;
}

std::string FormatCulprits(const std::vector<Literal>& culprits) {
  std::vector<std::string> parts;
  for (const Literal& l : culprits) parts.push_back(FormatCompare(l.cmp));
  return absl::StrJoin(parts, " && ");
}

// "Any bit of `mask` set", as alternatives libseccomp can check: one
// MASKED_EQ per bit, except that a run of bits up to bit 63 is one `>=`
// (arg & 0xffff...ff00 != 0 is arg >= 0x100). libseccomp has no "masked
// not equal", so minijail's `&` (a JSET in BPF) needs this.
std::vector<scmp_arg_cmp> AnyBitSet(int arg, uint64_t mask) {
  std::vector<scmp_arg_cmp> alternatives;
  int top_run = 64;  // lowest bit of the run of set bits ending at bit 63
  while (top_run > 0 && (mask >> (top_run - 1) & 1)) --top_run;
  if (top_run == 0) return {Compare(arg, SCMP_CMP_NE, 0)};
  if (top_run < 64) alternatives.push_back(Compare(arg, SCMP_CMP_GE, 1ULL << top_run));
  for (int bit = 0; bit < top_run; ++bit) {
    const uint64_t b = 1ULL << bit;
    if (mask & b) alternatives.push_back(Compare(arg, SCMP_CMP_MASKED_EQ, b, b));
  }
  return alternatives;
}

// ---------------------------------------------------------------------------
// Parsed syscall lines.

// argN OP VALUE: when it holds and when it does not, each as alternatives.
struct Atom {
  int arg = 0;
  size_t pos = 0;
  std::vector<scmp_arg_cmp> when_true;
  std::vector<scmp_arg_cmp> when_false;
};
using Clause = std::vector<Atom>;      // atoms joined by &&
using Expression = std::vector<Clause>;  // clauses joined by ||

struct SyscallRef {
  int nr = -1;
  std::string name;
  size_t pos = 0;
};

enum class FilterKind { kAllow, kErrno, kExpression };

struct Filter {
  FilterKind kind = FilterKind::kAllow;
  Expression expression;
  int errno_value = 0;     // kErrno, or kExpression's "; return E" (0: none)
  size_t return_pos = 0;   // of 'return', for errors
};

constexpr char kExpectedFilter[] =
    "'1', 'allow', an argument expression (such as 'arg0 == 1') or 'return ERRNO'";
constexpr char kExpectedValue[] = "a number, a named constant or '('";
constexpr char kExpectedOperator[] =
    "a comparison operator (==, !=, <, <=, >, >=, & or in)";
constexpr char kExpectedArgument[] = "an argument arg0..arg5";

bool LooksLikeArgument(absl::string_view text) {
  return text.size() > 3 && absl::StartsWith(text, "arg") &&
         std::all_of(text.begin() + 3, text.end(), [](char c) { return absl::ascii_isdigit(c); });
}

bool IsMinijailAction(absl::string_view word) {
  for (const char* action :
       {"kill", "kill-process", "kill-thread", "trap", "trace", "log", "user-notify"}) {
    if (word == action) return true;
  }
  return false;
}

bool AlwaysAllowedInStrictMode(int nr) {
  return nr == SCMP_SYS(prctl) || nr == SCMP_SYS(exit) || nr == SCMP_SYS(exit_group);
}

absl::StatusOr<uint64_t> ParseValue(Cursor& c);

constexpr int kMaxValueNesting = 64;

absl::StatusOr<uint64_t> ParseSingleValue(Cursor& c) {
  const Token& token = c.Next();
  if (token.kind == TokenKind::kNumber) {
    uint64_t value = 0;
    switch (ParseNumber(token.text, &value)) {
      case NumberError::kNone:
        return value;
      case NumberError::kOverflow:
        return c.Error(token, "a number that fits in 64 bits");
      case NumberError::kMalformed:
        return c.Error(token, "a number (decimal, 0x hexadecimal or 0 octal)");
    }
  }
  if (token.kind == TokenKind::kIdentifier) {
    auto value = ConstantValue(token.text);
    if (value) return *value;
    return c.Error(token, absl::StrCat("a number or a known constant",
                                       Suggestion(token.text, ConstantNames())));
  }
  if (token.IsPunctuation('(')) {
    // Nesting costs stack: bound it well below what could overflow.
    if (++c.depth > kMaxValueNesting) {
      return c.Error(token, absl::StrCat("at most ", kMaxValueNesting, " nested parentheses"));
    }
    auto value = ParseValue(c);
    --c.depth;
    if (!value.ok()) return value;
    if (!c.Peek().IsPunctuation(')')) return c.Error(c.Peek(), "'|' or ')'");
    c.Next();
    return value;
  }
  return c.Error(token, kExpectedValue);
}

// term = [ '~' ] ( number | constant | '(' value ')' ). One '~' only, as in
// minijail.
absl::StatusOr<uint64_t> ParseTerm(Cursor& c) {
  const bool complement = c.Peek().IsPunctuation('~');
  if (complement) c.Next();
  auto value = ParseSingleValue(c);
  if (!value.ok()) return value;
  return complement ? ~*value : *value;
}

// value = term { '|' term }
absl::StatusOr<uint64_t> ParseValue(Cursor& c) {
  uint64_t value = 0;
  for (;;) {
    auto term = ParseTerm(c);
    if (!term.ok()) return term;
    value |= *term;
    if (!c.Peek().Is(TokenKind::kOperator, "|")) return value;
    c.Next();
  }
}

// Lowers `argN OP value` into libseccomp comparisons.
absl::Status LowerAtom(Cursor& c, absl::string_view op, uint64_t value, size_t value_pos,
                       Atom& atom) {
  const int arg = atom.arg;
  auto pair = [&](scmp_compare yes, scmp_compare no) {
    atom.when_true = {Compare(arg, yes, value)};
    atom.when_false = {Compare(arg, no, value)};
  };
  if (op == "==") pair(SCMP_CMP_EQ, SCMP_CMP_NE);
  if (op == "!=") pair(SCMP_CMP_NE, SCMP_CMP_EQ);
  if (op == "<") pair(SCMP_CMP_LT, SCMP_CMP_GE);
  if (op == "<=") pair(SCMP_CMP_LE, SCMP_CMP_GT);
  if (op == ">") pair(SCMP_CMP_GT, SCMP_CMP_LE);
  if (op == ">=") pair(SCMP_CMP_GE, SCMP_CMP_LT);
  if (op == "&") {
    if (value == 0) {
      return c.ErrorAtPos(value_pos, absl::StrCat("found '", c.TextFrom(value_pos),
                                                  "' (0), expected a non-zero mask: 'arg",
                                                  arg, " & 0' is never true"));
    }
    atom.when_true = AnyBitSet(arg, value);
    atom.when_false = {Compare(arg, SCMP_CMP_MASKED_EQ, value, 0)};
  }
  if (op == "in") {
    // Every set bit of the argument is in `value`: no bit outside it is set.
    atom.when_true = {Compare(arg, SCMP_CMP_MASKED_EQ, ~value, 0)};
    atom.when_false = AnyBitSet(arg, ~value);
  }
  return absl::OkStatus();
}

bool IsComparisonOperator(const Token& token) {
  if (token.kind == TokenKind::kIdentifier) return token.text == "in";
  if (token.kind != TokenKind::kOperator) return false;
  for (const char* op : {"==", "!=", "<", "<=", ">", ">=", "&"}) {
    if (token.text == op) return true;
  }
  return false;
}

absl::StatusOr<Atom> ParseAtom(Cursor& c) {
  const Token& arg = c.Next();
  if (arg.kind != TokenKind::kIdentifier || !LooksLikeArgument(arg.text) ||
      arg.text.size() > 4 || arg.text[3] > '5') {
    return c.Error(arg, kExpectedArgument);
  }
  Atom atom;
  atom.arg = arg.text[3] - '0';
  atom.pos = arg.pos;
  const Token& op = c.Next();
  if (!IsComparisonOperator(op)) return c.Error(op, kExpectedOperator);
  const size_t value_pos = c.Peek().pos;
  auto value = ParseValue(c);
  if (!value.ok()) return value.status();
  absl::Status lowered = LowerAtom(c, op.text, *value, value_pos, atom);
  if (!lowered.ok()) return lowered;
  return atom;
}

// expression = clause { '||' clause }, clause = atom { '&&' atom }
absl::StatusOr<Expression> ParseExpression(Cursor& c) {
  Expression expression(1);
  for (;;) {
    auto atom = ParseAtom(c);
    if (!atom.ok()) return atom.status();
    expression.back().push_back(*std::move(atom));
    if (c.Peek().Is(TokenKind::kOperator, "&&")) {
      c.Next();
    } else if (c.Peek().Is(TokenKind::kOperator, "||")) {
      c.Next();
      expression.emplace_back();
    } else {
      return expression;
    }
  }
}

// 'return' ERRNO, the 'return' already read.
absl::StatusOr<int> ParseReturnValue(Cursor& c) {
  const Token& token = c.Next();
  if (token.kind == TokenKind::kEnd) {
    return c.Error(token, "an errno name or number after 'return'");
  }
  const int e = ErrnoNumber(token.text);
  if (e < 0 || token.kind == TokenKind::kPunctuation || token.kind == TokenKind::kOperator) {
    return c.Error(token, "an errno (EPERM .. EHWPOISON or a number 1..4095)");
  }
  return e;
}

absl::StatusOr<Filter> ParseExpressionFilter(Cursor& c) {
  Filter filter;
  filter.kind = FilterKind::kExpression;
  auto expression = ParseExpression(c);
  if (!expression.ok()) return expression.status();
  filter.expression = *std::move(expression);
  if (!c.Peek().IsPunctuation(';')) {
    absl::Status end = c.ExpectEnd("'&&', '||', ';' or end of line");
    if (!end.ok()) return end;
    return filter;
  }
  c.Next();
  const Token& ret = c.Next();
  if (!ret.Is(TokenKind::kIdentifier, "return")) return c.Error(ret, "'return ERRNO' after ';'");
  filter.return_pos = ret.pos;
  auto e = ParseReturnValue(c);
  if (!e.ok()) return e.status();
  filter.errno_value = *e;
  absl::Status end = c.ExpectEnd();
  if (!end.ok()) return end;
  return filter;
}

absl::StatusOr<Filter> ParseFilter(Cursor& c) {
  const Token& token = c.Peek();
  Filter filter;
  if (token.kind == TokenKind::kNumber) {
    uint64_t value = 2;
    ParseNumber(token.text, &value);
    if (value == 0) {
      return c.Error(token, absl::StrCat(kExpectedFilter,
                                         "; there is no '0': leave the syscall out to make "
                                         "it a violation, or write 'return EPERM' to fail it"));
    }
    if (value != 1) return c.Error(token, kExpectedFilter);
    c.Next();
  } else if (token.Is(TokenKind::kIdentifier, "allow")) {
    c.Next();
  } else if (token.Is(TokenKind::kIdentifier, "return")) {
    c.Next();
    filter.kind = FilterKind::kErrno;
    filter.return_pos = token.pos;
    auto e = ParseReturnValue(c);
    if (!e.ok()) return e.status();
    filter.errno_value = *e;
  } else if (token.kind == TokenKind::kIdentifier && LooksLikeArgument(token.text)) {
    return ParseExpressionFilter(c);
  } else if (token.kind == TokenKind::kIdentifier && IsMinijailAction(token.text)) {
    return c.Error(token, absl::StrCat(kExpectedFilter,
                                       "; per-syscall actions are not supported: a syscall "
                                       "without a rule is a violation, handled by "
                                       "'@action syscall'"));
  } else if (token.IsPunctuation('{')) {
    return c.Error(token, absl::StrCat(kExpectedFilter,
                                       "; minijail's filter lists '{...}' are not supported"));
  } else {
    return c.Error(token, kExpectedFilter);
  }
  absl::Status end = c.ExpectEnd();
  if (!end.ok()) return end;
  return filter;
}

absl::StatusOr<SyscallRef> ParseSyscallName(Cursor& c) {
  const Token& token = c.Next();
  SyscallRef ref;
  ref.pos = token.pos;
  if (token.kind == TokenKind::kIdentifier) {
    ref.name = std::string(token.text);
    ref.nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, ref.name.c_str());
    // Negative numbers are libseccomp's pseudo-syscalls of other arches.
    if (ref.nr < 0) {
      return c.Error(token, absl::StrCat("a syscall name known to libseccomp for x86_64",
                                         Suggestion(token.text, SyscallNames())));
    }
    return ref;
  }
  if (token.kind == TokenKind::kNumber) {
    uint64_t nr = 0;
    char* name = nullptr;
    if (ParseNumber(token.text, &nr) == NumberError::kNone && nr < 1024) {
      name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, static_cast<int>(nr));
    }
    if (name == nullptr) return c.Error(token, "a syscall number known on x86_64");
    ref.nr = static_cast<int>(nr);
    ref.name = name;
    free(name);
    return ref;
  }
  return c.Error(token, "a syscall name");
}

// syscall-name | '{' syscall-name { ',' syscall-name } '}'
absl::StatusOr<std::vector<SyscallRef>> ParseSyscallList(Cursor& c) {
  std::vector<SyscallRef> syscalls;
  if (!c.Peek().IsPunctuation('{')) {
    auto ref = ParseSyscallName(c);
    if (!ref.ok()) return ref.status();
    syscalls.push_back(*std::move(ref));
    return syscalls;
  }
  c.Next();
  for (;;) {
    auto ref = ParseSyscallName(c);
    if (!ref.ok()) return ref.status();
    syscalls.push_back(*std::move(ref));
    const Token& token = c.Next();
    if (token.IsPunctuation('}')) return syscalls;
    if (!token.IsPunctuation(',')) return c.Error(token, "',' or '}'");
  }
}

// ---------------------------------------------------------------------------
// Expansion of a parsed line into libseccomp rules.

// How many conjunctions taking one alternative from each factor make,
// saturating.
size_t CombinationCount(const std::vector<std::vector<Literal>>& factors) {
  size_t count = 1;
  for (const auto& factor : factors) {
    if (factor.empty()) return 0;
    if (count > kMaxRulesPerSyscall * 4 / factor.size() + 1) return kMaxRulesPerSyscall * 4;
    count *= factor.size();
  }
  return count;
}

// Calls `f` with every conjunction taking one alternative from each factor.
template <typename F>
absl::Status ForEachCombination(const std::vector<std::vector<Literal>>& factors, F f) {
  if (CombinationCount(factors) == 0) return absl::OkStatus();
  std::vector<size_t> index(factors.size(), 0);
  std::vector<Literal> conjunction(factors.size());
  for (;;) {
    for (size_t i = 0; i < factors.size(); ++i) conjunction[i] = factors[i][index[i]];
    absl::Status status = f(conjunction);
    if (!status.ok()) return status;
    size_t i = 0;
    while (i < factors.size() && ++index[i] == factors[i].size()) index[i++] = 0;
    if (i == factors.size()) return absl::OkStatus();
  }
}

std::vector<scmp_arg_cmp> Conditions(const std::vector<Literal>& literals) {
  std::vector<scmp_arg_cmp> conditions;
  for (const Literal& l : literals) conditions.push_back(l.cmp);
  return conditions;
}

std::vector<Literal> WithPos(const std::vector<scmp_arg_cmp>& cmps, size_t pos) {
  std::vector<Literal> literals;
  for (const scmp_arg_cmp& cmp : cmps) literals.push_back({cmp, pos});
  return literals;
}

absl::Status TooManyRules(const Cursor& c, size_t pos, absl::string_view what) {
  return c.ErrorAtPos(pos, absl::StrCat("found ", what, " to more than ",
                                        kMaxRulesPerSyscall, " seccomp rules, expected at most ",
                                        kMaxRulesPerSyscall, " per syscall"));
}

// The ALLOW rules: one per satisfiable combination of each clause.
absl::Status AddAllowRules(const Cursor& c, int nr, const Expression& expression,
                           std::vector<SyscallRule>& rules) {
  for (const Clause& clause : expression) {
    std::vector<std::vector<Literal>> factors;
    for (const Atom& atom : clause) factors.push_back(WithPos(atom.when_true, atom.pos));
    if (CombinationCount(factors) + rules.size() > kMaxRulesPerSyscall) {
      return TooManyRules(c, clause.front().pos, "a clause that expands");
    }
    Simplified never_true;
    bool any = false;
    absl::Status status = ForEachCombination(factors, [&](const std::vector<Literal>& conj) {
      Simplified s = Simplify(conj);
      if (s.outcome == Conjunction::kInexpressible) {
        return c.ErrorAtPos(
            s.culprits.back().pos,
            absl::StrCat("found 'arg", s.culprits.back().cmp.arg,
                         "' compared twice in one '&&' clause (", FormatCulprits(s.culprits),
                         "), expected each argument at most once per clause: libseccomp "
                         "cannot compare an argument twice in one rule (list the allowed "
                         "values with '||' instead)"));
      }
      if (s.outcome == Conjunction::kNeverTrue) {
        never_true = s;
        return absl::OkStatus();
      }
      any = true;
      rules.push_back({nr, SCMP_ACT_ALLOW, Conditions(s.literals)});
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    if (!any) {
      return c.ErrorAtPos(never_true.culprits.back().pos,
                          absl::StrCat("found '", FormatCulprits(never_true.culprits),
                                       "', expected a condition that can be true"));
    }
  }
  return absl::OkStatus();
}

// The ERRNO rules of `EXPR; return E`: libseccomp lets an unconditional rule
// replace a syscall's conditional ones, so "else" is compiled as the opposite
// of EXPR. Not (C1 || C2) is (not C1) && (not C2), and not (a && b) is
// (not a) || (not b): one factor per clause, its alternatives the negated
// atoms.
absl::Status AddElseRules(const Cursor& c, int nr, const Filter& filter,
                          std::vector<SyscallRule>& rules) {
  std::vector<std::vector<Literal>> factors;
  for (const Clause& clause : filter.expression) {
    std::vector<Literal> alternatives;
    for (const Atom& atom : clause) {
      for (const Literal& l : WithPos(atom.when_false, atom.pos)) alternatives.push_back(l);
    }
    factors.push_back(std::move(alternatives));
  }
  if (CombinationCount(factors) + rules.size() > kMaxRulesPerSyscall) {
    return TooManyRules(c, filter.return_pos, "'return' after an expression whose opposite expands");
  }
  const uint32_t action = SCMP_ACT_ERRNO(filter.errno_value);
  return ForEachCombination(factors, [&](const std::vector<Literal>& conj) {
    Simplified s = Simplify(conj);
    if (s.outcome == Conjunction::kNeverTrue) return absl::OkStatus();
    if (s.outcome == Conjunction::kInexpressible) {
      return c.ErrorAtPos(
          filter.return_pos,
          absl::StrCat("found 'return' after an expression whose opposite compares arg",
                       s.culprits.back().cmp.arg, " twice (", FormatCulprits(s.culprits),
                       "), expected an expression whose opposite libseccomp can check: it "
                       "cannot compare an argument twice in one rule"));
    }
    rules.push_back({nr, action, Conditions(s.literals)});
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<SyscallRule>> RulesFor(const Cursor& c, int nr, const Filter& filter) {
  std::vector<SyscallRule> rules;
  switch (filter.kind) {
    case FilterKind::kAllow:
      rules.push_back({nr, SCMP_ACT_ALLOW, {}});
      break;
    case FilterKind::kErrno:
      rules.push_back({nr, SCMP_ACT_ERRNO(filter.errno_value), {}});
      break;
    case FilterKind::kExpression: {
      absl::Status status = AddAllowRules(c, nr, filter.expression, rules);
      if (status.ok() && filter.errno_value != 0) status = AddElseRules(c, nr, filter, rules);
      if (!status.ok()) return status;
      break;
    }
  }
  return rules;
}

// ---------------------------------------------------------------------------
// Files.

// Policies are small text files; anything else (a FIFO, /dev/zero, a
// gigabyte) is refused rather than read forever.
constexpr off_t kMaxPolicyFileBytes = 4 << 20;

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  if (path.find('\0') != std::string::npos) {
    return absl::NotFoundError("the path contains a NUL byte");
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return absl::NotFoundError(strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::NotFoundError("not a regular file");
  }
  if (st.st_size > kMaxPolicyFileBytes) {
    close(fd);
    return absl::NotFoundError(absl::StrCat("larger than ", kMaxPolicyFileBytes, " bytes"));
  }
  std::string contents;
  char buffer[8192];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      return absl::NotFoundError(strerror(saved));
    }
    if (n == 0) break;
    contents.append(buffer, n);
  }
  close(fd);
  return contents;
}

// Lexically normalized: "a/./b/../c" is "a/c". Symbolic links are left
// alone: the path is for people to read.
std::string NormalizePath(absl::string_view path) {
  const bool absolute = absl::StartsWith(path, "/");
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == ".." && !parts.empty() && parts.back() != "..") {
      parts.pop_back();
    } else if (!(part == ".." && absolute && parts.empty())) {
      parts.push_back(part);
    }
  }
  std::string joined = absl::StrJoin(parts, "/");
  if (absolute) return absl::StrCat("/", joined);
  return joined.empty() ? "." : joined;
}

std::string ResolveInclude(const std::string& including, absl::string_view path) {
  if (absl::StartsWith(path, "/")) return NormalizePath(path);
  const size_t slash = including.rfind('/');
  if (slash == std::string::npos) return NormalizePath(path);
  return NormalizePath(absl::StrCat(including.substr(0, slash + 1), path));
}

// Identity of a file for cycles and read-once: the real path when the file
// exists, else the absolute lexical one.
std::string FileKey(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) != nullptr) return resolved;
  if (absl::StartsWith(path, "/")) return NormalizePath(path);
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return NormalizePath(path);
  return NormalizePath(absl::StrCat(cwd, "/", path));
}

std::optional<ViolationKind> ParseViolationKind(absl::string_view name) {
  for (ViolationKind kind : {ViolationKind::kSyscall, ViolationKind::kPageFault,
                             ViolationKind::kTrap, ViolationKind::kSignal}) {
    if (name == ViolationKindName(kind)) return kind;
  }
  return std::nullopt;
}

// The rest of the line after `token`, and where it starts (first non-blank).
absl::string_view RestAfter(const Cursor& c, const Token& token, size_t* pos) {
  absl::string_view text = c.line().text;
  size_t start = token.pos + token.text.size();
  while (start < text.size() && absl::ascii_isspace(text[start])) ++start;
  *pos = start;
  return text.substr(start);
}

std::string CollapseBlanks(absl::string_view text) {
  return absl::StrJoin(absl::StrSplit(text, absl::ByAnyChar(" \t"), absl::SkipEmpty()), " ");
}

std::string LibseccompVersion() {
  const scmp_version* v = seccomp_version();
  return v == nullptr ? "" : absl::StrCat(v->major, ".", v->minor, ".", v->micro);
}

// A syscall's rules, parsed but not yet given to libseccomp, and the place
// in the policy its errors point at.
struct PendingSyscall {
  PendingSyscall(std::string name, std::vector<SyscallRule> rules, absl::string_view file,
                 const LogicalLine& line, size_t pos)
      : name(std::move(name)), rules(std::move(rules)), file(file), line(line), pos(pos) {
    // The segments view the file's contents, which are gone by the time an
    // error is reported: keep copies and point the views at them in Error().
    for (const Segment& segment : line.segments) physical.emplace_back(segment.physical);
  }

  absl::Status Error(absl::string_view what) const {
    LogicalLine owned = line;
    for (size_t i = 0; i < owned.segments.size(); ++i) owned.segments[i].physical = physical[i];
    return ErrorAt(file, owned, pos, what);
  }

  std::string name;
  std::vector<SyscallRule> rules;
  std::string file;
  LogicalLine line;
  std::vector<std::string> physical;
  size_t pos = 0;
};

// libseccomp 2.5.4 never returns from seccomp_rule_add_array for some pairs
// of conditional rules (found by tests/policy_fuzz_test.cc), and a policy
// must not hang dpsupervise. So every rule is first given to libseccomp in
// one child process, which says on a pipe which syscall it starts on (and
// the error of a rule libseccomp refuses); a syscall it spends more than
// kCompileLimitMs on is the one that hangs. One child for the whole policy:
// a fork per syscall cost ~3 ms each at startup.
constexpr int kCompileLimitMs = 400;

struct CompileVerdict {
  enum Kind { kCompiled, kRefused, kHangs, kCrashed } kind = kCompiled;
  size_t index = 0;  // the syscall refused, hanging or crashing
  int error = 0;     // kRefused: libseccomp's errno; kCrashed: the signal
  // Every rule was added: it hung or crashed generating the whole filter,
  // and `index` is only the last syscall with rules.
  bool in_export = false;
};

// What the child writes: the syscall it starts on, or a phase, and an errno.
struct CompileProgress {
  int32_t index;
  int32_t error;
};
constexpr int32_t kExporting = -1;
constexpr int32_t kExported = -2;

// Gives one syscall's rules to libseccomp: 0, or its negative errno.
int AddRules(scmp_filter_ctx ctx, const PendingSyscall& syscall) {
  for (const SyscallRule& rule : syscall.rules) {
    const int rc =
        seccomp_rule_add_array(ctx, rule.action, rule.nr,
                               static_cast<unsigned>(rule.conditions.size()), rule.conditions.data());
    if (rc < 0) return rc;
  }
  return 0;
}

bool AnyConditions(const std::vector<PendingSyscall>& pending) {
  for (const PendingSyscall& syscall : pending) {
    for (const SyscallRule& rule : syscall.rules) {
      if (!rule.conditions.empty()) return true;
    }
  }
  return false;
}

// Rules without conditions never make libseccomp hang: no child needed.
CompileVerdict CompileInProcess(const std::vector<PendingSyscall>& pending) {
  CompileVerdict verdict;
  std::unique_ptr<void, void (*)(void*)> ctx(seccomp_init(SCMP_ACT_TRACE(2)), seccomp_release);
  for (size_t i = 0; i < pending.size(); ++i) {
    const int rc = AddRules(ctx.get(), pending[i]);
    if (rc < 0) return {CompileVerdict::kRefused, i, -rc};
  }
  return verdict;
}

[[noreturn]] void CompileInChild(const std::vector<PendingSyscall>& pending, int out) {
  auto say = [out](int32_t index, int32_t error) {
    const CompileProgress progress{index, error};
    if (write(out, &progress, sizeof(progress)) != sizeof(progress)) _exit(1);
  };
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRACE(2));
  for (size_t i = 0; i < pending.size(); ++i) {
    say(static_cast<int32_t>(i), 0);
    const int rc = AddRules(ctx, pending[i]);
    if (rc < 0) {
      say(static_cast<int32_t>(i), -rc);
      _exit(0);
    }
  }
  say(kExporting, 0);
  const int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  // Its result is not sent: an export that fails is BuildStrictFilter's to
  // report, with the filter's size, when the policy is used.
  seccomp_export_bpf(ctx, null_fd);
  say(kExported, 0);
  _exit(0);
}

absl::StatusOr<CompileVerdict> CompileWithTimeLimit(const std::vector<PendingSyscall>& pending) {
  if (!AnyConditions(pending)) return CompileInProcess(pending);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("cannot check the policy: pipe2: ", strerror(errno)));
  }
  const pid_t child = fork();
  if (child < 0) {
    const int error = errno;
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("cannot check the policy: fork: ", strerror(error)));
  }
  if (child == 0) {
    close(fds[0]);
    CompileInChild(pending, fds[1]);
  }
  close(fds[1]);
  size_t total_rules = 0;
  for (const PendingSyscall& p : pending) total_rules += p.rules.size();
  CompileVerdict verdict;
  CompileProgress last{kExported - 1, 0};
  for (;;) {
    // Exporting the whole filter may take longer than one syscall's rules.
    const int limit_ms = kCompileLimitMs + (last.index == kExporting ? static_cast<int>(total_rules) : 0);
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = poll(&pfd, 1, limit_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      verdict.kind = CompileVerdict::kHangs;
      verdict.in_export = last.index < 0;
      verdict.index = last.index >= 0 ? static_cast<size_t>(last.index) : pending.size() - 1;
      break;
    }
    CompileProgress progress;
    if (ready < 0 || read(fds[0], &progress, sizeof(progress)) != sizeof(progress)) {
      // The child died without finishing: libseccomp crashed (or was killed).
      verdict.kind = CompileVerdict::kCrashed;
      verdict.in_export = last.index < 0;
      verdict.index = last.index >= 0 ? static_cast<size_t>(last.index) : pending.size() - 1;
      break;
    }
    last = progress;
    if (progress.index >= 0 && progress.error != 0) {
      verdict.kind = CompileVerdict::kRefused;
      verdict.index = static_cast<size_t>(progress.index);
      verdict.error = progress.error;
      break;
    }
    if (progress.index == kExported) break;
  }
  close(fds[0]);
  if (verdict.kind != CompileVerdict::kCrashed) SignalProcess(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  if (verdict.kind == CompileVerdict::kCrashed) {
    verdict.error = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  return verdict;
}

class PolicyBuilder {
 public:
  absl::Status LoadTopLevel(const std::string& path) {
    auto contents = ReadWholeFile(path);
    if (!contents.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          ShownText(path), ": error: cannot read the policy file: ", contents.status().message()));
    }
    return ParseFile(*contents, path, FileKey(path));
  }

  absl::Status ParseFile(absl::string_view contents, const std::string& display,
                         const std::string& key) {
    if (read_.count(key) != 0) return absl::OkStatus();  // read once
    read_.insert(key);
    policy_.files.push_back(display);
    stack_.push_back({key, display});
    for (const LogicalLine& line : SplitLogicalLines(contents)) {
      absl::Status status = ParseLine(display, line);
      if (!status.ok()) return status;
    }
    stack_.pop_back();
    return absl::OkStatus();
  }

  // Gives every rule to libseccomp (in a child, with a time limit: see
  // CompileWithTimeLimit) and reports the first syscall it refuses, hangs or
  // crashes on. After the whole policy is read: one child for all of it.
  absl::Status CompileCheck() {
    if (pending_.empty()) return absl::OkStatus();
    auto verdict = CompileWithTimeLimit(pending_);
    if (!verdict.ok()) return verdict.status();
    const PendingSyscall& culprit = pending_[verdict->index];
    const std::string version = LibseccompVersion();
    if (verdict->in_export) {
      // Not seen so far (the known hang is in adding a rule): no one line
      // to blame, so the last rule is pointed at and the message says so.
      return culprit.Error(absl::StrCat(
          "found rules that libseccomp ", version, " accepted one by one but cannot turn into "
          "a filter together (it ", verdict->kind == CompileVerdict::kHangs ? "never returns" : "crashes",
          "; this is the last syscall with rules), expected fewer or simpler conditional rules"));
    }
    switch (verdict->kind) {
      case CompileVerdict::kCompiled:
        return absl::OkStatus();
      case CompileVerdict::kRefused:
        return culprit.Error(absl::StrCat("found a rule for '", culprit.name,
                                          "' that libseccomp rejects (", strerror(verdict->error),
                                          "), expected one it accepts"));
      case CompileVerdict::kHangs:
        return culprit.Error(absl::StrCat(
            "found conditions for '", culprit.name, "' that libseccomp ", version,
            " cannot compile (it never returns), expected a simpler expression (e.g. the "
            "shared comparison factored out, or fewer 64-bit constants)"));
      case CompileVerdict::kCrashed:
        return culprit.Error(absl::StrCat("found conditions for '", culprit.name,
                                          "' on which libseccomp ", version, " crashes (",
                                          strsignal(verdict->error),
                                          "), expected a simpler expression"));
    }
    return absl::OkStatus();
  }

  Policy Finish() && { return std::move(policy_); }

 private:
  struct OpenFile {
    std::string key;
    std::string display;
  };

  absl::Status ParseLine(const std::string& file, const LogicalLine& line) {
    Cursor c(file, line);
    if (c.AtEnd()) return absl::OkStatus();
    if (c.Peek().kind == TokenKind::kDirective) return ParseDirective(c);
    return ParseRule(c);
  }

  absl::Status ParseDirective(Cursor& c) {
    const Token& directive = c.Next();
    if (directive.text == "@include") return ParseInclude(c, directive);
    if (directive.text == "@action") return ParseActionDirective(c);
    if (directive.text == "@preflight") return ParsePreflight(c);
    if (directive.text == "@frequency") return absl::OkStatus();  // a minijail hint; unneeded
    std::string note;
    if (directive.text == "@default") {
      note = " (for minijail's '@default ACTION' write '@action syscall ACTION')";
    }
    return c.Error(directive,
                   absl::StrCat("a directive (@include, @action or @preflight)", note));
  }

  absl::Status ParseInclude(Cursor& c, const Token& directive) {
    size_t path_pos = 0;
    const absl::string_view path = RestAfter(c, directive, &path_pos);
    if (path.empty()) return c.Error(c.Peek(), "a file path after '@include'");
    const std::string quoted = absl::StrCat("found '", path, "', expected ");
    if (path.find('\0') != absl::string_view::npos) {
      return c.ErrorAtPos(path_pos, absl::StrCat(quoted, "a file path without NUL bytes"));
    }
    const std::string resolved = ResolveInclude(stack_.back().display, path);
    const std::string key = FileKey(resolved);
    for (size_t i = 0; i < stack_.size(); ++i) {
      if (stack_[i].key != key) continue;
      std::vector<std::string> chain;
      for (size_t j = i; j < stack_.size(); ++j) chain.push_back(stack_[j].display);
      chain.push_back(resolved);
      return c.ErrorAtPos(path_pos, absl::StrCat(quoted, "a file that does not include itself "
                                                 "(include cycle: ",
                                                 absl::StrJoin(chain, " -> "), ")"));
    }
    if (stack_.size() >= kMaxIncludeDepth) {
      return c.ErrorAtPos(path_pos, absl::StrCat(quoted, "at most ", kMaxIncludeDepth,
                                                 " nested @include levels"));
    }
    auto contents = ReadWholeFile(resolved);
    if (!contents.ok()) {
      return c.ErrorAtPos(path_pos, absl::StrCat(quoted, "a readable policy file (", resolved,
                                                 ": ", contents.status().message(), ")"));
    }
    return ParseFile(*contents, resolved, key);
  }

  absl::Status ParseActionDirective(Cursor& c) {
    const Token& kind_token = c.Next();
    std::optional<ViolationKind> kind;
    const bool is_default = kind_token.Is(TokenKind::kIdentifier, "default");
    if (kind_token.kind == TokenKind::kIdentifier) kind = ParseViolationKind(kind_token.text);
    if (!kind && !is_default) {
      return c.Error(kind_token,
                     "a violation kind (syscall, page_fault, trap, signal or default)");
    }
    size_t action_pos = 0;
    const absl::string_view text = RestAfter(c, kind_token, &action_pos);
    size_t offset = 0;
    auto action = ParseAction(text, "end of line", &offset);
    if (!action.ok()) return c.ErrorAtPos(action_pos + offset, action.status().message());
    if (action->kind == ActionKind::kErrno && kind && *kind != ViolationKind::kSyscall) {
      return c.ErrorAtPos(action_pos,
                          absl::StrCat("found 'errno', expected an action for ",
                                       ViolationKindName(*kind),
                                       " violations (kill, signal SIG, stop, gdb or log): "
                                       "errno only applies to syscalls"));
    }
    if (is_default) {
      policy_.default_action = *action;
    } else {
      policy_.actions[*kind] = *action;
    }
    return absl::OkStatus();
  }

  absl::Status ParsePreflight(Cursor& c) {
    const Token& mode = c.Next();
    if (mode.Is(TokenKind::kIdentifier, "off")) {
      policy_.preflight = PreflightMode::kOff;
    } else if (mode.Is(TokenKind::kIdentifier, "warn")) {
      policy_.preflight = PreflightMode::kWarn;
    } else if (mode.Is(TokenKind::kIdentifier, "enforce")) {
      policy_.preflight = PreflightMode::kEnforce;
    } else {
      return c.Error(mode, "off, warn or enforce");
    }
    return c.ExpectEnd();
  }

  absl::Status ParseRule(Cursor& c) {
    auto syscalls = ParseSyscallList(c);
    if (!syscalls.ok()) return syscalls.status();
    const Token& colon = c.Next();
    if (!colon.IsPunctuation(':')) {
      std::string note;
      if (colon.IsPunctuation('[')) note = " (minijail's [arch=...] metadata is not supported)";
      return c.Error(colon, absl::StrCat("':' after the syscall name", note));
    }
    const std::string source =
        CollapseBlanks(absl::string_view(c.line().text).substr(colon.pos + 1));
    auto filter = ParseFilter(c);
    if (!filter.ok()) return filter.status();
    for (const SyscallRef& ref : *syscalls) {
      absl::Status status = AddSyscall(c, ref, *filter, source);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

  absl::Status AddSyscall(const Cursor& c, const SyscallRef& ref, const Filter& filter,
                          const std::string& source) {
    const std::string where = absl::StrCat(c.file(), ":", c.line().line_number());
    auto [first, inserted] = first_rule_.emplace(ref.nr, where);
    if (!inserted) {
      return c.ErrorAtPos(ref.pos, absl::StrCat("found '", ref.name,
                                                "' again, expected each syscall at most once "
                                                "(first rule at ",
                                                first->second, ")"));
    }
    if (AlwaysAllowedInStrictMode(ref.nr)) {
      if (filter.errno_value != 0) {
        return c.ErrorAtPos(filter.return_pos,
                            absl::StrCat("found 'return', expected '1' or an argument "
                                         "expression: ",
                                         ref.name, " is always allowed in strict mode"));
      }
      policy_.rule_sources.push_back(absl::StrCat(where, ": ", ref.name, ": ", source,
                                                  " (always allowed in strict mode)"));
      return absl::OkStatus();
    }
    auto rules = RulesFor(c, ref.nr, filter);
    if (!rules.ok()) return rules.status();
    if (policy_.rules.size() + rules->size() > kMaxRules) {
      return c.ErrorAtPos(
          ref.pos, absl::StrCat("found '", ref.name, "' adding ", rules->size(),
                                " seccomp rules to the ", policy_.rules.size(),
                                " before it, expected at most ", kMaxRules,
                                " in the whole policy"));
    }
    policy_.rules.insert(policy_.rules.end(), rules->begin(), rules->end());
    pending_.emplace_back(ref.name, *std::move(rules), c.file(), c.line(), ref.pos);
    policy_.rule_sources.push_back(absl::StrCat(where, ": ", ref.name, ": ", source));
    return absl::OkStatus();
  }

  Policy policy_;
  std::vector<OpenFile> stack_;
  std::set<std::string> read_;
  std::map<int, std::string> first_rule_;  // syscall number -> "file:line"
  std::vector<PendingSyscall> pending_;  // every syscall with rules, in order
};

}  // namespace

const char* PreflightModeName(PreflightMode mode) {
  switch (mode) {
    case PreflightMode::kOff:
      return "off";
    case PreflightMode::kWarn:
      return "warn";
    case PreflightMode::kEnforce:
      return "enforce";
  }
  return "off";
}

absl::StatusOr<Policy> LoadPolicyFiles(const std::vector<std::string>& paths) {
  PolicyBuilder builder;
  for (const std::string& path : paths) {
    absl::Status status = builder.LoadTopLevel(path);
    if (!status.ok()) return status;
  }
  absl::Status compiled = builder.CompileCheck();
  if (!compiled.ok()) return compiled;
  return std::move(builder).Finish();
}

absl::StatusOr<Policy> ParsePolicy(absl::string_view text, const std::string& filename) {
  PolicyBuilder builder;
  absl::Status status = builder.ParseFile(text, filename, FileKey(filename));
  if (status.ok()) status = builder.CompileCheck();
  if (!status.ok()) return status;
  return std::move(builder).Finish();
}

}  // namespace dpsupervise
