// Unit tests of the policy parser (supervisor/policy/policy.h) and of actions
// (supervisor/policy/action.h): what valid policies compile to, the exact message of
// each malformed one, and a compiled policy loaded in a traced child.
#include "supervisor/policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "lib/dataplane.h"
#include "tests/filtered_child.h"
#include "supervisor/policy/action.h"
#include "supervisor/seccomp/filter.h"
#include "supervisor/syscalls/signal_names.h"
#include "tests/test_files.h"

// Comparisons and printers for libseccomp's struct (global namespace, so
// argument-dependent lookup finds them).
bool operator==(const scmp_arg_cmp& a, const scmp_arg_cmp& b) {
  return a.arg == b.arg && a.op == b.op && a.datum_a == b.datum_a && a.datum_b == b.datum_b;
}
void PrintTo(const scmp_arg_cmp& c, std::ostream* os) {
  *os << "{arg" << c.arg << " op " << c.op << " 0x" << std::hex << c.datum_a << " 0x"
      << c.datum_b << std::dec << "}";
}

namespace dpsupervise {

bool operator==(const SyscallRule& a, const SyscallRule& b) {
  return a.nr == b.nr && a.action == b.action && a.conditions == b.conditions;
}
void PrintTo(const SyscallRule& r, std::ostream* os) {
  *os << "{nr " << r.nr << " action 0x" << std::hex << r.action << std::dec << " [";
  for (const scmp_arg_cmp& c : r.conditions) ::PrintTo(c, os);
  *os << "]}";
}
void PrintTo(const Action& a, std::ostream* os) { *os << a.ToString(); }

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr uint32_t kAllow = SCMP_ACT_ALLOW;

scmp_arg_cmp C(unsigned arg, scmp_compare op, uint64_t a, uint64_t b = 0) {
  return scmp_arg_cmp{arg, op, a, b};
}

SyscallRule Rule(int nr, uint32_t action, std::vector<scmp_arg_cmp> conditions = {}) {
  return SyscallRule{nr, action, std::move(conditions)};
}

// Parses `text` as t.policy; the test fails on an error.
Policy Parse(const std::string& text) {
  auto policy = ParsePolicy(text, "t.policy");
  EXPECT_TRUE(policy.ok()) << policy.status().message();
  return policy.ok() ? *policy : Policy{};
}

// The error message of parsing `text` as t.policy ("" if it parsed).
std::string ErrorOf(const std::string& text) {
  auto policy = ParsePolicy(text, "t.policy");
  if (policy.ok()) return "";
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(policy.status().message());
}

std::string TestData(const std::string& name) {
  const char* srcdir = getenv("TEST_SRCDIR");
  return std::string(srcdir ? srcdir : ".") + "/dpsupervise/testdata/policies/" + name;
}

Action Signal(int s) {
  Action a;
  a.kind = ActionKind::kSignal;
  a.signal = s;
  return a;
}
Action Errno(int e) {
  Action a;
  a.kind = ActionKind::kErrno;
  a.errno_value = e;
  return a;
}
Action Of(ActionKind kind) {
  Action a;
  a.kind = kind;
  return a;
}

// ---------------------------------------------------------------------------
// Actions, signals and errno values.

TEST(ActionTest, ParsesEveryAction) {
  EXPECT_EQ(*ParseAction("kill"), Of(ActionKind::kKill));
  EXPECT_EQ(*ParseAction("stop"), Of(ActionKind::kStop));
  EXPECT_EQ(*ParseAction("gdb"), Of(ActionKind::kGdb));
  EXPECT_EQ(*ParseAction("  log  "), Of(ActionKind::kLog));
  EXPECT_EQ(*ParseAction("signal SIGUSR1"), Signal(SIGUSR1));
  EXPECT_EQ(*ParseAction("signal USR2"), Signal(SIGUSR2));
  EXPECT_EQ(*ParseAction("signal 10"), Signal(10));
  EXPECT_EQ(*ParseAction("signal:SIGTERM"), Signal(SIGTERM));
  EXPECT_EQ(*ParseAction("signal SIGRTMIN+2"), Signal(SIGRTMIN + 2));
  EXPECT_EQ(*ParseAction("errno EPERM"), Errno(EPERM));
  EXPECT_EQ(*ParseAction("errno 13"), Errno(EACCES));
  EXPECT_EQ(*ParseAction("errno:ENOSYS"), Errno(ENOSYS));
}

TEST(ActionTest, ToStringRoundTrips) {
  for (const char* text : {"kill", "kill-all", "deliver", "signal SIGUSR1", "stop", "gdb", "log",
                           "errno EPERM",
                           "signal SIGRTMIN+3", "errno EHWPOISON"}) {
    auto action = ParseAction(text);
    ASSERT_TRUE(action.ok()) << text << ": " << action.status();
    EXPECT_EQ(action->ToString(), text);
  }
  EXPECT_EQ(Errno(4000).ToString(), "errno 4000");
}

TEST(ActionTest, RejectsMalformedActions) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "found end of text, expected an action (kill, kill-all, signal SIG, stop, gdb, log, "
           "deliver or errno E)"},
      {"explode", "found 'explode', expected an action (kill, kill-all, signal SIG, stop, gdb, "
                  "log, deliver or errno E)"},
      {"KILL", "found 'KILL', expected an action"},
      {"kill now", "found 'now', expected end of text after 'kill'"},
      {"signal", "found end of text, expected a signal name or number after 'signal'"},
      {"signal SIGFOO", "found 'SIGFOO', expected a signal (SIGUSR1, USR1, SIGRTMIN+n or a "
                        "number 1..64)"},
      {"signal 65", "found '65', expected a signal"},
      {"signal 0", "found '0', expected a signal"},
      {"errno", "found end of text, expected an errno name or number after 'errno'"},
      {"errno EFOO", "found 'EFOO', expected an errno (EPERM .. EHWPOISON or a number 1..4095)"},
      {"errno 0", "found '0', expected an errno"},
      {"errno 4096", "found '4096', expected an errno"},
      {"errno EPERM EPERM", "found 'EPERM', expected end of text after 'errno'"},
  };
  for (const Case& c : cases) {
    auto action = ParseAction(c.text);
    ASSERT_FALSE(action.ok()) << c.text;
    EXPECT_EQ(action.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(action.status().message()), StartsWith(c.message)) << c.text;
  }
}

TEST(ActionTest, ErrorOffsetPointsAtTheProblem) {
  size_t offset = 99;
  EXPECT_FALSE(ParseAction("signal  SIGFOO", "end of line", &offset).ok());
  EXPECT_EQ(offset, 8u);
  EXPECT_FALSE(ParseAction("errno", "end of line", &offset).ok());
  EXPECT_EQ(offset, 5u);
}

TEST(ActionTest, SignalNumbersAndNames) {
  EXPECT_EQ(SignalNumber("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(SignalNumber("usr1"), SIGUSR1);
  EXPECT_EQ(SignalNumber("SIGIO"), SIGIO);
  EXPECT_EQ(SignalNumber("SIGPOLL"), SIGIO);
  EXPECT_EQ(SignalNumber("IOT"), SIGABRT);
  EXPECT_EQ(SignalNumber("SIGRTMIN"), SIGRTMIN);
  EXPECT_EQ(SignalNumber("SIGRTMIN+1"), SIGRTMIN + 1);
  EXPECT_EQ(SignalNumber("RTMAX-1"), SIGRTMAX - 1);
  EXPECT_EQ(SignalNumber("64"), 64);
  EXPECT_EQ(SignalNumber("SIG33"), 33);
  EXPECT_EQ(SignalNumber("SIGRTMIN+99"), -1);
  EXPECT_EQ(SignalNumber("0"), -1);
  EXPECT_EQ(SignalNumber("65"), -1);
  EXPECT_EQ(SignalNumber("SIG"), -1);
  EXPECT_EQ(SignalNumber("SIGNOPE"), -1);
  EXPECT_EQ(SignalName(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(SignalName(SIGRTMIN), "SIGRTMIN");
  EXPECT_EQ(SignalName(SIGRTMIN + 4), "SIGRTMIN+4");
  EXPECT_EQ(SignalName(32), "SIG32");
}

TEST(ActionTest, ErrnoNumbersAndNames) {
  EXPECT_EQ(ErrnoNumber("EPERM"), EPERM);
  EXPECT_EQ(ErrnoNumber("EHWPOISON"), EHWPOISON);
  EXPECT_EQ(ErrnoNumber("EWOULDBLOCK"), EAGAIN);
  EXPECT_EQ(ErrnoNumber("ENOTSUP"), EOPNOTSUPP);
  EXPECT_EQ(ErrnoNumber("1"), 1);
  EXPECT_EQ(ErrnoNumber("4095"), 4095);
  EXPECT_EQ(ErrnoNumber("4096"), -1);
  EXPECT_EQ(ErrnoNumber("0"), -1);
  EXPECT_EQ(ErrnoNumber("-1"), -1);
  EXPECT_EQ(ErrnoNumber("EBOGUS"), -1);
  EXPECT_EQ(ErrnoName(EPERM), "EPERM");
  EXPECT_EQ(ErrnoName(ENOSYS), "ENOSYS");
  EXPECT_EQ(ErrnoName(512), "512");
}

// ---------------------------------------------------------------------------
// Valid policies: what they compile to.

TEST(PolicyTest, EmptyPolicyHasNoRules) {
  Policy p = Parse("# nothing\n\n   \n");
  EXPECT_THAT(p.rules, IsEmpty());
  EXPECT_THAT(p.files, ElementsAre("t.policy"));
  EXPECT_FALSE(p.default_action.has_value());
  EXPECT_FALSE(p.preflight.has_value());
}

TEST(PolicyTest, OneAllowsAnyUse) {
  Policy p = Parse("clock_gettime: 1\ngetcpu: allow  # comment\n");
  EXPECT_THAT(p.rules, ElementsAre(Rule(SYS_clock_gettime, kAllow), Rule(SYS_getcpu, kAllow)));
  EXPECT_THAT(p.rule_sources,
              ElementsAre("t.policy:1: clock_gettime: 1", "t.policy:2: getcpu: allow"));
}

TEST(PolicyTest, EachComparisonOperator) {
  Policy p = Parse(
      "read: arg0 == 3\n"
      "write: arg0 != 3\n"
      "lseek: arg1 < 4096\n"
      "pread64: arg3 <= 4096\n"
      "pwrite64: arg3 > 4096\n"
      "getpriority: arg1 >= 7\n");
  EXPECT_THAT(p.rules, ElementsAre(Rule(SYS_read, kAllow, {C(0, SCMP_CMP_EQ, 3)}),
                                   Rule(SYS_write, kAllow, {C(0, SCMP_CMP_NE, 3)}),
                                   Rule(SYS_lseek, kAllow, {C(1, SCMP_CMP_LT, 4096)}),
                                   Rule(SYS_pread64, kAllow, {C(3, SCMP_CMP_LE, 4096)}),
                                   Rule(SYS_pwrite64, kAllow, {C(3, SCMP_CMP_GT, 4096)}),
                                   Rule(SYS_getpriority, kAllow, {C(1, SCMP_CMP_GE, 7)})));
}

TEST(PolicyTest, MaskOperatorIsOneRulePerBit) {
  // `arg & MASK`: any bit of MASK set. libseccomp has no masked "not equal",
  // so each bit is its own rule.
  Policy p = Parse("openat: arg2 & O_NONBLOCK|O_CLOEXEC\n");
  EXPECT_THAT(p.rules,
              ElementsAre(Rule(SYS_openat, kAllow,
                               {C(2, SCMP_CMP_MASKED_EQ, O_NONBLOCK, O_NONBLOCK)}),
                          Rule(SYS_openat, kAllow,
                               {C(2, SCMP_CMP_MASKED_EQ, O_CLOEXEC, O_CLOEXEC)})));
}

TEST(PolicyTest, MaskOfHighBitsIsOneComparison) {
  Policy p = Parse("read: arg2 & ~0xff\n");
  EXPECT_THAT(p.rules, ElementsAre(Rule(SYS_read, kAllow, {C(2, SCMP_CMP_GE, 0x100)})));
}

TEST(PolicyTest, InOperatorAllowsOnlyTheListedBits) {
  Policy p = Parse("mmap: arg2 in PROT_READ|PROT_WRITE\n");
  EXPECT_THAT(p.rules, ElementsAre(Rule(SYS_mmap, kAllow,
                                        {C(2, SCMP_CMP_MASKED_EQ,
                                           ~static_cast<uint64_t>(PROT_READ | PROT_WRITE), 0)})));
}

TEST(PolicyTest, ComplementInAllowsWriteXorExec) {
  Policy p = Parse("mprotect: arg2 in ~PROT_EXEC || arg2 in ~PROT_WRITE\n");
  EXPECT_THAT(p.rules,
              ElementsAre(Rule(SYS_mprotect, kAllow, {C(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}),
                          Rule(SYS_mprotect, kAllow, {C(2, SCMP_CMP_MASKED_EQ, PROT_WRITE, 0)})));
}

TEST(PolicyTest, NumbersInEveryBase) {
  Policy p = Parse(
      "read: arg0 == 0x1F\n"
      "write: arg0 == 017\n"
      "close: arg0 == 0\n"
      "lseek: arg2 == -1\n"
      "pread64: arg3 == 18446744073709551615\n"
      "pwrite64: arg3 == -0x8000000000000000\n");
  EXPECT_THAT(p.rules, ElementsAre(Rule(SYS_read, kAllow, {C(0, SCMP_CMP_EQ, 31)}),
                                   Rule(SYS_write, kAllow, {C(0, SCMP_CMP_EQ, 15)}),
                                   Rule(SYS_close, kAllow, {C(0, SCMP_CMP_EQ, 0)}),
                                   Rule(SYS_lseek, kAllow, {C(2, SCMP_CMP_EQ, ~0ULL)}),
                                   Rule(SYS_pread64, kAllow, {C(3, SCMP_CMP_EQ, ~0ULL)}),
                                   Rule(SYS_pwrite64, kAllow, {C(3, SCMP_CMP_EQ, 1ULL << 63)})));
}

TEST(PolicyTest, NamedConstants) {
  Policy p = Parse(
      "openat: arg0 == AT_FDCWD && arg2 == O_RDONLY|O_CLOEXEC\n"
      "mmap: arg3 == (MAP_PRIVATE | MAP_ANONYMOUS)\n"
      "madvise: arg2 == MADV_DONTNEED\n"
      "clock_gettime: arg0 == CLOCK_MONOTONIC_RAW\n"
      "socket: arg0 == AF_INET6 && arg1 == SOCK_DGRAM|SOCK_NONBLOCK\n"
      "fcntl: arg1 == F_SETFL\n"
      "futex: arg1 == FUTEX_WAIT_PRIVATE\n"
      "kill: arg1 == SIGUSR1\n"
      "tgkill: arg2 == SIGRTMIN\n"
      "exit_group: arg0 == EPERM\n"
      "prctl: arg0 == PR_SET_DATAPLANE\n");
  EXPECT_THAT(
      p.rules,
      ElementsAre(
          Rule(SYS_openat, kAllow,
               {C(0, SCMP_CMP_EQ, static_cast<uint64_t>(-100)),
                C(2, SCMP_CMP_EQ, O_CLOEXEC)}),
          Rule(SYS_mmap, kAllow, {C(3, SCMP_CMP_EQ, MAP_PRIVATE | MAP_ANONYMOUS)}),
          Rule(SYS_madvise, kAllow, {C(2, SCMP_CMP_EQ, MADV_DONTNEED)}),
          Rule(SYS_clock_gettime, kAllow, {C(0, SCMP_CMP_EQ, CLOCK_MONOTONIC_RAW)}),
          Rule(SYS_socket, kAllow,
               {C(0, SCMP_CMP_EQ, AF_INET6), C(1, SCMP_CMP_EQ, SOCK_DGRAM | SOCK_NONBLOCK)}),
          Rule(SYS_fcntl, kAllow, {C(1, SCMP_CMP_EQ, F_SETFL)}),
          Rule(SYS_futex, kAllow, {C(1, SCMP_CMP_EQ, FUTEX_WAIT_PRIVATE)}),
          Rule(SYS_kill, kAllow, {C(1, SCMP_CMP_EQ, SIGUSR1)}),
          Rule(SYS_tgkill, kAllow, {C(2, SCMP_CMP_EQ, static_cast<uint64_t>(SIGRTMIN))})));
  // exit_group and prctl are always allowed: parsed, no rule.
  EXPECT_THAT(p.rule_sources, SizeIs(11));
}

// The names the reports print for flags and enumerations
// (supervisor/syscalls/syscall_flags.h) are the policy's too, including
// those the policy had no copy of before they were shared.
TEST(PolicyTest, NamesTheReportsPrintAreConstants) {
  Policy p = Parse(
      "ioctl: arg1 == SIOCGIFINDEX\n"
      "sched_setscheduler: arg1 == SCHED_FIFO\n"
      "sendto: arg3 == MSG_DONTWAIT|MSG_PROBE\n"
      "epoll_ctl: arg1 == EPOLL_CTL_MOD\n");
  EXPECT_THAT(p.rules,
              ElementsAre(Rule(SYS_ioctl, kAllow, {C(1, SCMP_CMP_EQ, SIOCGIFINDEX)}),
                          Rule(SYS_sched_setscheduler, kAllow, {C(1, SCMP_CMP_EQ, SCHED_FIFO)}),
                          Rule(SYS_sendto, kAllow, {C(3, SCMP_CMP_EQ, MSG_DONTWAIT | 0x10)}),
                          Rule(SYS_epoll_ctl, kAllow, {C(1, SCMP_CMP_EQ, EPOLL_CTL_MOD)})));
}

TEST(PolicyTest, OrOfAnds) {
  Policy p = Parse("write: arg0 == 1 && arg2 < 4096 || arg0 == 2 && arg2 < 512 || arg1 == 0\n");
  EXPECT_THAT(p.rules,
              ElementsAre(Rule(SYS_write, kAllow,
                               {C(0, SCMP_CMP_EQ, 1), C(2, SCMP_CMP_LT, 4096)}),
                          Rule(SYS_write, kAllow, {C(0, SCMP_CMP_EQ, 2), C(2, SCMP_CMP_LT, 512)}),
                          Rule(SYS_write, kAllow, {C(1, SCMP_CMP_EQ, 0)})));
  EXPECT_THAT(p.rule_sources,
              ElementsAre("t.policy:1: write: arg0 == 1 && arg2 < 4096 || arg0 == 2 && "
                          "arg2 < 512 || arg1 == 0"));
}

TEST(PolicyTest, ComparisonsOfOneArgumentThatMerge) {
  // Two masks on one argument are one MASKED_EQ; an equality decides alone.
  Policy p = Parse(
      "openat: arg2 & O_NONBLOCK && arg2 & O_CLOEXEC\n"
      "read: arg0 == 3 && arg0 < 10\n"
      "write: arg0 >= 1 && arg0 <= 1\n");
  const uint64_t both = O_NONBLOCK | O_CLOEXEC;
  EXPECT_THAT(p.rules,
              ElementsAre(Rule(SYS_openat, kAllow, {C(2, SCMP_CMP_MASKED_EQ, both, both)}),
                          Rule(SYS_read, kAllow, {C(0, SCMP_CMP_EQ, 3)}),
                          Rule(SYS_write, kAllow, {C(0, SCMP_CMP_EQ, 1)})));
}

TEST(PolicyTest, ReturnErrno) {
  Policy p = Parse("sched_yield: return EPERM\nread: return 9\n");
  EXPECT_THAT(p.rules, ElementsAre(Rule(SYS_sched_yield, SCMP_ACT_ERRNO(EPERM)),
                                   Rule(SYS_read, SCMP_ACT_ERRNO(EBADF))));
}

TEST(PolicyTest, ExpressionElseErrnoCompilesTheOpposite) {
  // libseccomp lets an unconditional rule override conditional ones, so the
  // errno side is the negated expression.
  Policy p = Parse(
      "ioctl: arg1 == TCGETS; return ENOTTY\n"
      "read: arg0 == 0 || arg2 < 16; return EBADF\n"
      "openat: arg2 & O_CREAT; return EACCES\n"
      "write: arg0 < 5 || arg0 == 5; return EIO\n");
  EXPECT_THAT(
      p.rules,
      ElementsAre(
          Rule(SYS_ioctl, kAllow, {C(1, SCMP_CMP_EQ, TCGETS)}),
          Rule(SYS_ioctl, SCMP_ACT_ERRNO(ENOTTY), {C(1, SCMP_CMP_NE, TCGETS)}),
          Rule(SYS_read, kAllow, {C(0, SCMP_CMP_EQ, 0)}),
          Rule(SYS_read, kAllow, {C(2, SCMP_CMP_LT, 16)}),
          Rule(SYS_read, SCMP_ACT_ERRNO(EBADF), {C(0, SCMP_CMP_NE, 0), C(2, SCMP_CMP_GE, 16)}),
          Rule(SYS_openat, kAllow, {C(2, SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT)}),
          Rule(SYS_openat, SCMP_ACT_ERRNO(EACCES), {C(2, SCMP_CMP_MASKED_EQ, O_CREAT, 0)}),
          Rule(SYS_write, kAllow, {C(0, SCMP_CMP_LT, 5)}),
          Rule(SYS_write, kAllow, {C(0, SCMP_CMP_EQ, 5)}),
          // Not (< 5 or == 5) is >= 5 and != 5, merged into > 5.
          Rule(SYS_write, SCMP_ACT_ERRNO(EIO), {C(0, SCMP_CMP_GE, 6)})));
}

TEST(PolicyTest, ElseOfAndIsOneRulePerNegatedAtom) {
  Policy p = Parse("lseek: arg0 == 3 && arg2 == SEEK_SET; return ESPIPE\n");
  EXPECT_THAT(p.rules, ElementsAre(Rule(SYS_lseek, kAllow,
                                        {C(0, SCMP_CMP_EQ, 3), C(2, SCMP_CMP_EQ, SEEK_SET)}),
                                   Rule(SYS_lseek, SCMP_ACT_ERRNO(ESPIPE),
                                        {C(0, SCMP_CMP_NE, 3)}),
                                   Rule(SYS_lseek, SCMP_ACT_ERRNO(ESPIPE),
                                        {C(2, SCMP_CMP_NE, SEEK_SET)})));
}

TEST(PolicyTest, SyscallListsAndNumbers) {
  Policy p = Parse("{getpid, gettid}: 1\n24: return EPERM\n");
  EXPECT_THAT(p.rules, ElementsAre(Rule(SYS_getpid, kAllow), Rule(SYS_gettid, kAllow),
                                   Rule(SYS_sched_yield, SCMP_ACT_ERRNO(EPERM))));
  EXPECT_THAT(p.rule_sources, ElementsAre("t.policy:1: getpid: 1", "t.policy:1: gettid: 1",
                                          "t.policy:2: sched_yield: return EPERM"));
}

TEST(PolicyTest, LineContinuationAndCrLf) {
  Policy p = Parse("write: arg0 == 1 || \\\r\n   arg0 == 2   # stdout, stderr\r\nread: 1\r\n");
  EXPECT_THAT(p.rules, ElementsAre(Rule(SYS_write, kAllow, {C(0, SCMP_CMP_EQ, 1)}),
                                   Rule(SYS_write, kAllow, {C(0, SCMP_CMP_EQ, 2)}),
                                   Rule(SYS_read, kAllow)));
  EXPECT_THAT(p.rule_sources, ElementsAre("t.policy:1: write: arg0 == 1 || arg0 == 2",
                                          "t.policy:3: read: 1"));
}

TEST(PolicyTest, AlwaysAllowedSyscallsAreAcceptedWithoutRules) {
  Policy p = Parse("prctl: arg0 == PR_SET_NAME\nexit: 1\nexit_group: 1\n");
  EXPECT_THAT(p.rules, IsEmpty());
  EXPECT_THAT(p.rule_sources,
              ElementsAre("t.policy:1: prctl: arg0 == PR_SET_NAME (always allowed in strict mode)",
                          "t.policy:2: exit: 1 (always allowed in strict mode)",
                          "t.policy:3: exit_group: 1 (always allowed in strict mode)"));
}

TEST(PolicyTest, ActionsAndPreflight) {
  Policy p = Parse(
      "@action syscall signal SIGUSR1\n"
      "@action page_fault log\n"
      "@action trap stop   # for gdb\n"
      "@action signal gdb\n"
      "@action default errno EPERM\n"
      "@action trap kill\n"  // a later line overrides
      "@preflight warn\n"
      "@preflight enforce\n");
  EXPECT_EQ(p.actions.at(ViolationKind::kSyscall), Signal(SIGUSR1));
  EXPECT_EQ(p.actions.at(ViolationKind::kPageFault), Of(ActionKind::kLog));
  EXPECT_EQ(p.actions.at(ViolationKind::kTrap), Of(ActionKind::kKill));
  EXPECT_EQ(p.actions.at(ViolationKind::kSignal), Of(ActionKind::kGdb));
  ASSERT_TRUE(p.default_action.has_value());
  EXPECT_EQ(*p.default_action, Errno(EPERM));
  EXPECT_EQ(p.preflight, PreflightMode::kEnforce);
  EXPECT_STREQ(PreflightModeName(PreflightMode::kWarn), "warn");
}

// ---------------------------------------------------------------------------
// Files: includes, merging, the examples in testdata/policies.

TEST(PolicyFilesTest, IncludesResolveRelativeToTheIncludingFile) {
  const std::string dir = dptest::MakeTestDir("include_relative");
  mkdir((dir + "/sub").c_str(), 0755);
  dptest::WriteTestFile(dir + "/main.policy", "read: 1\n@include sub/a.policy\n");
  dptest::WriteTestFile(dir + "/sub/a.policy", "write: 1\n@include ../b.policy\n@include ./c.policy\n");
  dptest::WriteTestFile(dir + "/b.policy", "close: 1\n");
  dptest::WriteTestFile(dir + "/sub/c.policy", "getpid: 1\n");
  auto p = LoadPolicyFiles({dir + "/main.policy"});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_THAT(p->rules, ElementsAre(Rule(SYS_read, kAllow), Rule(SYS_write, kAllow),
                                    Rule(SYS_close, kAllow), Rule(SYS_getpid, kAllow)));
  EXPECT_THAT(p->files, ElementsAre(dir + "/main.policy", dir + "/sub/a.policy",
                                    dir + "/b.policy", dir + "/sub/c.policy"));
  EXPECT_THAT(p->rule_sources[2], StartsWith(dir + "/b.policy:1: close: 1"));
}

// libseccomp 2.5.4 never returns on these rules (see docs/policy.md): the
// whole policy is compiled once in a child with a time limit, and the
// syscall it is stuck on is named with its file and line, even among
// others and in an included file.
TEST(PolicyFilesTest, RulesLibseccompHangsOnAreRefusedAtTheirLine) {
  const std::string dir = dptest::MakeTestDir("libseccomp_hang");
  dptest::WriteTestFile(dir + "/main.policy", "write: arg0 == 1\n@include inc.policy\nclose: arg0 == 3\n");
  dptest::WriteTestFile(dir + "/inc.policy",
            "getpid: 1\n# the one that hangs:\nread: arg0 < 5 && arg1 == 1 || \\\n"
            "  arg0 < 5 && arg1 == 0x100000000\nlseek: arg2 == 0\n");
  auto p = LoadPolicyFiles({dir + "/main.policy"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(p.status().message()),
              StartsWith(dir + "/inc.policy:3:1: error: found conditions for 'read' that "
                               "libseccomp "));
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("\nread: arg0 < 5 && arg1 == 1 || \\\n^"));
}

TEST(PolicyFilesTest, PoliciesOverTheTotalRuleLimitAreRefusedAtOnce) {
  // 11 syscalls x 100 alternatives: libseccomp would take seconds on it.
  std::string text;
  for (int nr = 0; nr < 11; ++nr) {
    text += std::to_string(nr) + ": arg0 == " + std::to_string(nr * 1000);
    for (int k = 1; k < 100; ++k) text += " || arg0 == " + std::to_string(nr * 1000 + k);
    text += "\n";
  }
  EXPECT_THAT(ErrorOf(text),
              StartsWith("t.policy:11:1: error: found 'mprotect' adding 100 seccomp rules to the "
                         "1000 before it, expected at most 1024 in the whole policy"));
  // 1024 rules exactly are accepted.
  text = "read: arg0 == 0";
  for (int k = 1; k < 24; ++k) text += " || arg0 == " + std::to_string(k);
  text += "\n";
  for (int nr = 1; nr <= 10; ++nr) {
    text += std::to_string(nr) + ": arg1 == 0";
    for (int k = 1; k < 100; ++k) text += " || arg1 == " + std::to_string(k);
    text += "\n";
  }
  EXPECT_EQ(Parse(text).rules.size(), 1024u);
}

TEST(PolicyFilesTest, AFileIncludedTwiceIsReadOnce) {
  const std::string dir = dptest::MakeTestDir("include_once");
  dptest::WriteTestFile(dir + "/common.policy", "getcpu: 1\n");
  dptest::WriteTestFile(dir + "/a.policy", "@include common.policy\nread: 1\n");
  dptest::WriteTestFile(dir + "/b.policy", "@include ./common.policy\nwrite: 1\n");
  auto p = LoadPolicyFiles({dir + "/a.policy", dir + "/b.policy", dir + "/a.policy"});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_THAT(p->rules, ElementsAre(Rule(SYS_getcpu, kAllow), Rule(SYS_read, kAllow),
                                    Rule(SYS_write, kAllow)));
  EXPECT_THAT(p->files, SizeIs(3));
}

TEST(PolicyFilesTest, ParsePolicyResolvesIncludesNextToItsFilename) {
  const std::string dir = dptest::MakeTestDir("parse_text");
  dptest::WriteTestFile(dir + "/inc.policy", "getcpu: 1\n");
  auto p = ParsePolicy("@include inc.policy\n", dir + "/virtual.policy");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_THAT(p->rules, ElementsAre(Rule(SYS_getcpu, kAllow)));
  EXPECT_THAT(p->files, ElementsAre(dir + "/virtual.policy", dir + "/inc.policy"));
}

TEST(PolicyFilesTest, AbsoluteIncludesCommentsAndFrequencyHints) {
  const std::string dir = dptest::MakeTestDir("include_absolute");
  dptest::WriteTestFile(dir + "/abs.policy", "getcpu: 1");  // no final newline
  Policy p = Parse("@include " + dir + "/abs.policy   # shared rules\n"
                   "@frequency ./frequencies.txt\n");  // minijail's hint: ignored
  EXPECT_THAT(p.rules, ElementsAre(Rule(SYS_getcpu, kAllow)));
}

TEST(PolicyFilesTest, IncludesNestAtMostSixteenDeep) {
  const std::string dir = dptest::MakeTestDir("include_depth");
  for (int i = 0; i < 20; ++i) {
    dptest::WriteTestFile(dir + "/" + std::to_string(i) + ".policy",
              "@include " + std::to_string(i + 1) + ".policy\n");
  }
  dptest::WriteTestFile(dir + "/20.policy", "read: 1\n");
  auto p = LoadPolicyFiles({dir + "/0.policy"});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()),
              StartsWith(dir + "/15.policy:1:10: error: found '16.policy', expected at most 16 "
                               "nested @include levels"));
  auto shallow = LoadPolicyFiles({dir + "/10.policy"});
  EXPECT_TRUE(shallow.ok()) << shallow.status().message();
}

TEST(PolicyFilesTest, LaterFilesOverrideActionsAndPreflight) {
  const std::string dir = dptest::MakeTestDir("merge");
  dptest::WriteTestFile(dir + "/first.policy",
            "read: 1\n@action syscall kill\n@action trap log\n@action default stop\n"
            "@preflight enforce\n");
  dptest::WriteTestFile(dir + "/second.policy", "write: 1\n@action syscall log\n@preflight off\n");
  auto p = LoadPolicyFiles({dir + "/first.policy", dir + "/second.policy"});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_THAT(p->rules, ElementsAre(Rule(SYS_read, kAllow), Rule(SYS_write, kAllow)));
  EXPECT_EQ(p->actions.at(ViolationKind::kSyscall), Of(ActionKind::kLog));
  EXPECT_EQ(p->actions.at(ViolationKind::kTrap), Of(ActionKind::kLog));
  EXPECT_EQ(p->default_action, Of(ActionKind::kStop));
  EXPECT_EQ(p->preflight, PreflightMode::kOff);
}

TEST(PolicyFilesTest, ASyscallInTwoFilesIsAnError) {
  const std::string dir = dptest::MakeTestDir("dup_across");
  dptest::WriteTestFile(dir + "/first.policy", "# first\nread: 1\n");
  dptest::WriteTestFile(dir + "/second.policy", "read: arg0 == 0\n");
  auto p = LoadPolicyFiles({dir + "/first.policy", dir + "/second.policy"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(std::string(p.status().message()),
            dir + "/second.policy:1:1: error: found 'read' again, expected each syscall at "
                  "most once (first rule at " + dir + "/first.policy:2)\n"
                  "read: arg0 == 0\n^");
}

TEST(PolicyFilesTest, MissingTopLevelFile) {
  auto p = LoadPolicyFiles({"/nonexistent/x.policy"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(p.status().message()),
            "/nonexistent/x.policy: error: cannot read the policy file: No such file or "
            "directory");
}

TEST(PolicyFilesTest, ExampleAllowClockAndStdout) {
  auto p = LoadPolicyFiles({TestData("allow_clock_and_stdout.policy")});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_THAT(p->files, ElementsAre(TestData("allow_clock_and_stdout.policy"),
                                    TestData("common.policy")));
  EXPECT_THAT(p->rules,
              ElementsAre(Rule(SYS_clock_gettime, kAllow),
                          Rule(SYS_clock_nanosleep, kAllow,
                               {C(0, SCMP_CMP_EQ, CLOCK_MONOTONIC), C(1, SCMP_CMP_EQ, 0)}),
                          Rule(SYS_write, kAllow, {C(0, SCMP_CMP_EQ, 1)}),
                          Rule(SYS_write, kAllow, {C(0, SCMP_CMP_EQ, 2)}),
                          Rule(SYS_sched_yield, SCMP_ACT_ERRNO(EPERM)),
                          Rule(SYS_getcpu, kAllow), Rule(SYS_gettimeofday, kAllow),
                          Rule(SYS_futex, kAllow, {C(1, SCMP_CMP_EQ, FUTEX_WAKE_PRIVATE)}),
                          Rule(SYS_futex, kAllow, {C(1, SCMP_CMP_EQ, FUTEX_WAIT_PRIVATE)})));
  EXPECT_THAT(p->rule_sources[2],
              HasSubstr("allow_clock_and_stdout.policy:7: write: arg0 == 1 || arg0 == 2"));
}

TEST(PolicyFilesTest, ExampleActions) {
  auto p = LoadPolicyFiles({TestData("actions.policy")});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_THAT(p->rules, IsEmpty());
  EXPECT_EQ(p->actions.at(ViolationKind::kSyscall), Signal(SIGUSR1));
  EXPECT_EQ(p->actions.at(ViolationKind::kPageFault), Of(ActionKind::kLog));
  EXPECT_EQ(p->actions.at(ViolationKind::kTrap), Of(ActionKind::kKill));
  EXPECT_EQ(p->actions.at(ViolationKind::kSignal), Of(ActionKind::kStop));
  EXPECT_EQ(p->default_action, Errno(EPERM));
  EXPECT_EQ(p->preflight, PreflightMode::kWarn);
}

TEST(PolicyFilesTest, ExampleMinijailStyle) {
  auto p = LoadPolicyFiles({TestData("minijail_style.policy")});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_THAT(p->files, SizeIs(2));
  EXPECT_THAT(p->rule_sources, SizeIs(3 + 11));
  EXPECT_THAT(p->rule_sources.back(), HasSubstr("exit_group: 1 (always allowed"));
}

// The malformed examples in testdata/policies, each with its message.
TEST(PolicyFilesTest, MalformedExamples) {
  struct Case {
    const char* file;
    std::string message;  // after the path of the file it is about
  };
  const Case cases[] = {
      {"bad_unknown_syscall.policy",
       "bad_unknown_syscall.policy:2:1: error: found 'wirte', expected a syscall name known to "
       "libseccomp for x86_64 (did you mean 'write'?)\nwirte: arg0 == 1\n^"},
      {"bad_operator.policy",
       "bad_operator.policy:1:13: error: found '===', expected a comparison operator (==, !=, "
       "<, <=, >, >=, & or in)\nwrite: arg0 === 1\n            ^"},
      {"bad_same_arg_twice.policy",
       "bad_same_arg_twice.policy:2:19: error: found 'arg0' compared twice in one '&&' clause "
       "(arg0 > 1 && arg0 < 5), expected each argument at most once per clause"},
      {"bad_errno_for_page_fault.policy",
       "bad_errno_for_page_fault.policy:2:20: error: found 'errno', expected an action for "
       "page_fault violations (kill, kill-all, signal SIG, stop, gdb or log)"},
      {"bad_missing_include.policy",
       "bad_missing_include.policy:2:10: error: found 'does_not_exist.policy', expected a "
       "readable policy file ("},
      {"bad_duplicate.policy",
       "bad_duplicate.policy:3:1: error: found 'getcpu' again, expected each syscall at most "
       "once (first rule at "},
      {"cycle_a.policy",
       "cycle_b.policy:3:10: error: found 'cycle_a.policy', expected a file that does not "
       "include itself (include cycle: "},
  };
  for (const Case& c : cases) {
    auto p = LoadPolicyFiles({TestData(c.file)});
    ASSERT_FALSE(p.ok()) << c.file;
    EXPECT_THAT(std::string(p.status().message()),
                StartsWith(TestData("") + c.message)) << c.file;
  }
  auto cycle = LoadPolicyFiles({TestData("cycle_a.policy")});
  EXPECT_THAT(std::string(cycle.status().message()),
              HasSubstr("(include cycle: " + TestData("cycle_a.policy") + " -> " +
                        TestData("cycle_b.policy") + " -> " + TestData("cycle_a.policy") +
                        ")\n@include cycle_a.policy\n         ^"));
  auto dup = LoadPolicyFiles({TestData("bad_duplicate.policy")});
  EXPECT_THAT(std::string(dup.status().message()),
              HasSubstr("(first rule at " + TestData("common.policy") + ":3)"));
}

// ---------------------------------------------------------------------------
// Malformed policies: each message, from its file:line:column on.

struct Malformed {
  const char* text;
  const char* message;
};

void PrintTo(const Malformed& m, std::ostream* os) { *os << m.text; }

class MalformedPolicyTest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedPolicyTest, FailsWithTheExpectedMessage) {
  const std::string message = ErrorOf(GetParam().text);
  ASSERT_FALSE(message.empty()) << "accepted: " << GetParam().text;
  EXPECT_THAT(message, StartsWith(GetParam().message)) << "policy: " << GetParam().text;
  // Every message ends with the source line and a caret line.
  const std::string caret = message.substr(message.rfind('\n') + 1);
  EXPECT_THAT(caret, ::testing::EndsWith("^")) << message;
  EXPECT_EQ(caret.find_first_not_of(" \t"), caret.size() - 1) << message;
}

const Malformed kMalformed[] = {
    // Syscall names.
    {"wirte: 1", "t.policy:1:1: error: found 'wirte', expected a syscall name known to "
                 "libseccomp for x86_64 (did you mean 'write'?)"},
    {"socketcall: 1", "t.policy:1:1: error: found 'socketcall', expected a syscall name known "
                      "to libseccomp for x86_64"},
    {"9999: 1", "t.policy:1:1: error: found '9999', expected a syscall number known on x86_64"},
    {": 1", "t.policy:1:1: error: found ':', expected a syscall name"},
    {"$write: 1", "t.policy:1:1: error: found '$', expected a syscall name"},
    {"write 1", "t.policy:1:7: error: found '1', expected ':' after the syscall name"},
    {"write", "t.policy:1:6: error: found end of line, expected ':' after the syscall name"},
    {"read[arch=x86_64]: 1", "t.policy:1:5: error: found '[', expected ':' after the syscall "
                             "name (minijail's [arch=...] metadata is not supported)"},
    {"read: 1\nwrite: 1\nread: 1", "t.policy:3:1: error: found 'read' again, expected each "
                                    "syscall at most once (first rule at t.policy:1)"},
    {"{read, read}: 1", "t.policy:1:8: error: found 'read' again, expected each syscall at "
                        "most once (first rule at t.policy:1)"},
    {"{read write}: 1", "t.policy:1:7: error: found 'write', expected ',' or '}'"},
    {"{read,}: 1", "t.policy:1:7: error: found '}', expected a syscall name"},
    // What follows the colon.
    {"write:", "t.policy:1:7: error: found end of line, expected '1', 'allow', an argument "
               "expression (such as 'arg0 == 1') or 'return ERRNO'"},
    {"write: 0", "t.policy:1:8: error: found '0', expected '1', 'allow', an argument "
                 "expression (such as 'arg0 == 1') or 'return ERRNO'; there is no '0': leave "
                 "the syscall out to make it a violation, or write 'return EPERM' to fail it"},
    {"write: 2", "t.policy:1:8: error: found '2', expected '1', 'allow'"},
    {"write: 1 1", "t.policy:1:10: error: found '1', expected end of line"},
    {"write: kill", "t.policy:1:8: error: found 'kill', expected '1', 'allow', an argument "
                    "expression (such as 'arg0 == 1') or 'return ERRNO'; per-syscall actions "
                    "are not supported"},
    {"write: kill-process", "t.policy:1:8: error: found 'kill-process', expected '1'"},
    {"write: {arg0 == 1, return EPERM}",
     "t.policy:1:8: error: found '{', expected '1', 'allow', an argument expression (such as "
     "'arg0 == 1') or 'return ERRNO'; minijail's filter lists '{...}' are not supported"},
    {"write: fd == 1", "t.policy:1:8: error: found 'fd', expected '1', 'allow'"},
    // Atoms.
    {"write: arg6 == 1", "t.policy:1:8: error: found 'arg6', expected an argument arg0..arg5"},
    {"write: arg0 === 1", "t.policy:1:13: error: found '===', expected a comparison operator "
                          "(==, !=, <, <=, >, >=, & or in)"},
    {"write: arg0 = 1", "t.policy:1:13: error: found '=', expected a comparison operator"},
    {"write: arg0 =< 1", "t.policy:1:13: error: found '=<', expected a comparison operator"},
    {"write: arg0", "t.policy:1:12: error: found end of line, expected a comparison operator"},
    {"write: arg0 1", "t.policy:1:13: error: found '1', expected a comparison operator"},
    {"write: arg0 ==", "t.policy:1:15: error: found end of line, expected a number, a named "
                       "constant or '('"},
    {"write: arg0 in", "t.policy:1:15: error: found end of line, expected a number, a named "
                       "constant or '('"},
    {"write: arg0 == O_FOO", "t.policy:1:16: error: found 'O_FOO', expected a number or a "
                             "known constant"},
    {"write: arg0 == O_RDONL", "t.policy:1:16: error: found 'O_RDONL', expected a number or a "
                               "known constant (did you mean 'O_RDONLY'?)"},
    {"write: arg0 == eperm", "t.policy:1:16: error: found 'eperm', expected a number or a "
                             "known constant"},
    {"write: arg0 == 08", "t.policy:1:16: error: found '08', expected a number (decimal, 0x "
                          "hexadecimal or 0 octal)"},
    {"write: arg0 == 0x", "t.policy:1:16: error: found '0x', expected a number"},
    {"write: arg0 == 12abc", "t.policy:1:16: error: found '12abc', expected a number"},
    {"write: arg0 == 0x10000000000000000",
     "t.policy:1:16: error: found '0x10000000000000000', expected a number that fits in 64 "
     "bits"},
    {"write: arg0 == -9223372036854775809",
     "t.policy:1:16: error: found '-9223372036854775809', expected a number that fits in 64 "
     "bits"},
    {"write: arg0 == ~~1", "t.policy:1:17: error: found '~', expected a number, a named "
                           "constant or '('"},
    {"write: arg0 == 1 |", "t.policy:1:19: error: found end of line, expected a number, a "
                           "named constant or '('"},
    {"write: arg0 == (1 | 2", "t.policy:1:22: error: found end of line, expected '|' or ')'"},
    {"write: arg0 == (1 2)", "t.policy:1:19: error: found '2', expected '|' or ')'"},
    {"write: arg0 == )", "t.policy:1:16: error: found ')', expected a number, a named "
                         "constant or '('"},
    {"write: arg0 & 0", "t.policy:1:15: error: found '0' (0), expected a non-zero mask: "
                        "'arg0 & 0' is never true"},
    {"write: arg1 & O_RDONLY", "t.policy:1:15: error: found 'O_RDONLY' (0), expected a "
                               "non-zero mask"},
    // Expressions.
    {"write: arg0 == 1 ||", "t.policy:1:20: error: found end of line, expected an argument "
                            "arg0..arg5"},
    {"write: arg0 == 1 &&", "t.policy:1:20: error: found end of line, expected an argument "
                            "arg0..arg5"},
    {"write: arg0 == 1 || || arg0 == 2", "t.policy:1:21: error: found '||', expected an "
                                         "argument arg0..arg5"},
    {"write: arg0 == 1 arg1 == 2", "t.policy:1:18: error: found 'arg1', expected '&&', '||', "
                                   "';' or end of line"},
    {"write: arg0 == 1 $", "t.policy:1:18: error: found '$', expected '&&', '||', ';' or end "
                           "of line"},
    {"write: arg0 == 1 and arg1 == 2", "t.policy:1:18: error: found 'and', expected '&&'"},
    {"read: arg0 > 1 && arg0 < 5",
     "t.policy:1:19: error: found 'arg0' compared twice in one '&&' clause (arg0 > 1 && arg0 "
     "< 5), expected each argument at most once per clause: libseccomp cannot compare an "
     "argument twice in one rule (list the allowed values with '||' instead)"},
    {"read: arg2 & 3 && arg2 != 7", "t.policy:1:19: error: found 'arg2' compared twice in one "
                                    "'&&' clause (arg2 & 1 == 1 && arg2 != 7)"},
    {"read: arg0 == 1 && arg0 == 2", "t.policy:1:20: error: found 'arg0 == 1 && arg0 == 2', "
                                     "expected a condition that can be true"},
    {"read: arg0 < 0", "t.policy:1:7: error: found 'arg0 < 0', expected a condition that can "
                       "be true"},
    {"read: arg0 & 0xffff && arg1 & 0xffff",
     "t.policy:1:7: error: found a clause that expands to more than 128 seccomp rules, "
     "expected at most 128 per syscall"},
    // Return values.
    {"read: return", "t.policy:1:13: error: found end of line, expected an errno name or "
                     "number after 'return'"},
    {"read: return EFOO", "t.policy:1:14: error: found 'EFOO', expected an errno (EPERM .. "
                          "EHWPOISON or a number 1..4095)"},
    {"read: return 0", "t.policy:1:14: error: found '0', expected an errno"},
    {"read: return 4096", "t.policy:1:14: error: found '4096', expected an errno"},
    {"read: return EPERM extra", "t.policy:1:20: error: found 'extra', expected end of line"},
    {"read: arg0 == 1;", "t.policy:1:17: error: found end of line, expected 'return ERRNO' "
                         "after ';'"},
    {"read: arg0 == 1; EBADF", "t.policy:1:18: error: found 'EBADF', expected 'return ERRNO' "
                               "after ';'"},
    {"read: arg0 == 1; return EBADF; return EIO",
     "t.policy:1:30: error: found ';', expected end of line"},
    {"read: arg0 == 1 || arg0 == 2; return EBADF",
     "t.policy:1:31: error: found 'return' after an expression whose opposite compares arg0 "
     "twice (arg0 != 1 && arg0 != 2), expected an expression whose opposite libseccomp can "
     "check"},
    {"read: arg0 in 0xffffffffffff0000 || arg1 in 0xffffffffffff0000; return EIO",
     "t.policy:1:65: error: found 'return' after an expression whose opposite expands to more "
     "than 128 seccomp rules"},
    {"prctl: return EPERM", "t.policy:1:8: error: found 'return', expected '1' or an argument "
                            "expression: prctl is always allowed in strict mode"},
    {"exit_group: arg0 == 0; return EPERM", "t.policy:1:24: error: found 'return', expected "
                                            "'1' or an argument expression: exit_group"},
    // Line continuations point at the physical line.
    {"write: arg0 == 1 || \\\n  arg7 == 2", "t.policy:2:3: error: found 'arg7', expected an "
                                           "argument arg0..arg5"},
    {"write: arg0 == 1 || \\\n", "t.policy:1:20: error: found end of line, expected an "
                                "argument"},
    // Directives.
    {"@include", "t.policy:1:9: error: found end of line, expected a file path after "
                 "'@include'"},
    {"@include nope.policy", "t.policy:1:10: error: found 'nope.policy', expected a readable "
                             "policy file (nope.policy: No such file or directory)"},
    {"@foo", "t.policy:1:1: error: found '@foo', expected a directive (@include, @action or "
             "@preflight)"},
    {"@default kill", "t.policy:1:1: error: found '@default', expected a directive (@include, "
                      "@action or @preflight) (for minijail's '@default ACTION' write "
                      "'@action syscall ACTION')"},
    {"@action", "t.policy:1:8: error: found end of line, expected a violation kind (syscall, "
                "page_fault, trap, signal, ipi, irq, timer, softirq, preemption, migration or "
                "default)"},
    {"@action pagefault log", "t.policy:1:9: error: found 'pagefault', expected a violation "
                              "kind"},
    {"@action syscall", "t.policy:1:16: error: found end of line, expected an action (kill, "
                        "kill-all, signal SIG, stop, gdb, log, deliver or errno E)"},
    {"@action syscall explode", "t.policy:1:17: error: found 'explode', expected an action"},
    {"@action syscall deliver",
     "t.policy:1:17: error: found 'deliver', expected an action for syscall violations (kill, "
     "kill-all, signal SIG, stop, gdb, log or errno E): deliver only applies to traps and "
     "signals"},
    {"@action page_fault deliver",
     "t.policy:1:20: error: found 'deliver', expected an action for page_fault violations "
     "(kill, kill-all, signal SIG, stop, gdb or log): deliver only applies to traps and "
     "signals"},
    {"@action trap errno EPERM",
     "t.policy:1:14: error: found 'errno', expected an action for trap violations (kill, "
     "kill-all, signal SIG, stop, gdb, log or deliver): errno only applies to syscalls"},
    {"@action syscall kill now", "t.policy:1:22: error: found 'now', expected end of line "
                                 "after 'kill'"},
    {"@action syscall signal", "t.policy:1:23: error: found end of line, expected a signal "
                               "name or number after 'signal'"},
    {"@action syscall signal SIGFOO", "t.policy:1:24: error: found 'SIGFOO', expected a "
                                      "signal (SIGUSR1, USR1, SIGRTMIN+n or a number 1..64)"},
    {"@action syscall errno", "t.policy:1:22: error: found end of line, expected an errno "
                              "name or number after 'errno'"},
    {"@action syscall errno EFOO", "t.policy:1:23: error: found 'EFOO', expected an errno"},
    {"@action page_fault errno EPERM",
     "t.policy:1:20: error: found 'errno', expected an action for page_fault violations (kill, "
     "kill-all, signal SIG, stop, gdb or log): errno only applies to syscalls"},
    {"@action trap errno 1", "t.policy:1:14: error: found 'errno', expected an action for trap "
                             "violations"},
    {"@action signal errno EPERM", "t.policy:1:16: error: found 'errno', expected an action "
                                   "for signal violations"},
    {"@preflight", "t.policy:1:11: error: found end of line, expected off, warn or enforce"},
    {"@preflight maybe", "t.policy:1:12: error: found 'maybe', expected off, warn or enforce"},
    {"@preflight warn now", "t.policy:1:17: error: found 'now', expected end of line"},
    // A bad line anywhere rejects everything before it too.
    {"read: 1\n@action syscall log\nwrite: arg0 === 1",
     "t.policy:3:13: error: found '==='"},
};

INSTANTIATE_TEST_SUITE_P(Messages, MalformedPolicyTest, ::testing::ValuesIn(kMalformed));

TEST(MalformedPolicyTest, AtLeastThirtyFiveCases) {
  EXPECT_GE(sizeof(kMalformed) / sizeof(kMalformed[0]), 35u);
}

TEST(MalformedPolicyTest, CaretSitsUnderTheColumn) {
  EXPECT_EQ(ErrorOf("  write: arg0 === 1"),
            "t.policy:1:15: error: found '===', expected a comparison operator (==, !=, <, <=, "
            ">, >=, & or in)\n  write: arg0 === 1\n              ^");
  // Tabs are kept so the caret lines up in a terminal.
  EXPECT_EQ(ErrorOf("\twrite:\targ0 === 1 # comment"),
            "t.policy:1:14: error: found '===', expected a comparison operator (==, !=, <, <=, "
            ">, >=, & or in)\n\twrite:\targ0 === 1 # comment\n\t      \t     ^");
  // The end of the line is just after its last character, comments excluded.
  EXPECT_EQ(ErrorOf("write: arg0 ==  # missing"),
            "t.policy:1:15: error: found end of line, expected a number, a named constant or "
            "'('\nwrite: arg0 ==  # missing\n              ^");
}

// What a message quotes from the file is shown with visible \xNN escapes: a
// NUL byte must not cut the message short where it is printed (C string),
// and no control byte (ESC: a terminal escape sequence) or byte that is not
// ASCII reaches the terminal raw. The caret stays under the escaped byte.
TEST(MalformedPolicyTest, BytesFromTheFileAreShownEscaped) {
  EXPECT_EQ(ErrorOf(std::string("write\0: 1", 9)),
            "t.policy:1:6: error: found '\\x00', expected ':' after the syscall name\n"
            "write\\x00: 1\n     ^");
  EXPECT_EQ(ErrorOf("write: arg0 == \x1b[31m1"),
            "t.policy:1:16: error: found '\\x1b', expected a number, a named constant or "
            "'('\nwrite: arg0 == \\x1b[31m1\n               ^");
  // Bytes that are not ASCII.
  EXPECT_EQ(ErrorOf("\xff\xfe: 1"),
            "t.policy:1:1: error: found '\\xff', expected a syscall name\n\\xff\\xfe: 1\n^");
  EXPECT_EQ(ErrorOf("write: arg0 == 1 \xc3\xa9"),
            "t.policy:1:18: error: found '\\xc3\\xa9', expected '&&', '||', ';' or end of line\n"
            "write: arg0 == 1 \\xc3\\xa9\n                 ^");
  // A backslash that would read as an escape is shown as one; a line
  // continuation as it is.
  EXPECT_THAT(ErrorOf("write: arg0 == \\x41"),
              ::testing::HasSubstr("\nwrite: arg0 == \\x5cx41\n"));
  EXPECT_THAT(ErrorOf("write: arg0 == 1 || \\\n"), ::testing::HasSubstr("\nwrite: arg0 == 1 || \\\n"));
  // Whatever the bytes, the message has no NUL or other control byte but
  // its newlines and tabs, and nothing outside ASCII.
  std::string all_bytes = "write: ";
  for (int byte = 0; byte < 256; ++byte) {
    if (byte != '\n') all_bytes.push_back(static_cast<char>(byte));
  }
  const std::string message = ErrorOf(all_bytes);
  ASSERT_FALSE(message.empty());
  for (unsigned char byte : message) {
    EXPECT_TRUE(byte == '\n' || byte == '\t' || (byte >= 0x20 && byte < 0x7f))
        << "byte 0x" << std::hex << int(byte) << " in " << message;
  }
}

// ---------------------------------------------------------------------------
// Compilation: every valid policy becomes a strict filter.

const char* const kValidPolicies[] = {
    "clock_gettime: 1\nwrite: arg0 == 1 || arg0 == 2\nsched_yield: return EPERM\n",
    "mmap: arg2 in ~PROT_EXEC && arg3 in MAP_PRIVATE|MAP_ANONYMOUS\n"
    "mprotect: arg2 in ~PROT_EXEC || arg2 in ~PROT_WRITE\n",
    "openat: arg2 & O_NONBLOCK|O_CLOEXEC|O_DIRECTORY\nread: arg2 & ~0xff\n",
    "ioctl: arg1 == TCGETS; return ENOTTY\n"
    "read: arg0 == 0 || arg2 < 16; return EBADF\n"
    "openat: arg2 in O_RDONLY|O_CLOEXEC|O_NONBLOCK; return EACCES\n"
    "write: arg0 < 5 || arg0 == 5; return EIO\n",
    "lseek: arg0 == 3 && arg2 == SEEK_SET; return ESPIPE\n{getpid, gettid}: 1\n",
    "openat: arg2 & O_NONBLOCK && arg2 & O_CLOEXEC\nread: arg0 == 3 && arg0 < 10\n",
    "prctl: 1\nexit: 1\nexit_group: 1\n",
};

TEST(CompileTest, EveryValidPolicyBuildsAStrictFilter) {
  for (const char* text : kValidPolicies) {
    Policy p = Parse(text);
    auto filter = BuildStrictFilter(p.rules);
    EXPECT_TRUE(filter.ok()) << text << ": " << filter.status();
  }
  for (const char* file : {"allow_clock_and_stdout.policy", "common.policy", "actions.policy",
                           "minijail_style.policy"}) {
    auto p = LoadPolicyFiles({TestData(file)});
    ASSERT_TRUE(p.ok()) << p.status().message();
    auto filter = BuildStrictFilter(p->rules);
    EXPECT_TRUE(filter.ok()) << file << ": " << filter.status();
    auto description = DescribeStrictFilter(p->rules);
    EXPECT_TRUE(description.ok()) << file << ": " << description.status();
  }
}

// The strict filter the load hands back (compiled once, in the compile
// check) is the one BuildStrictFilter builds from the rules.

bool SameProgram(const BpfProgram& a, const BpfProgram& b) {
  return a.instructions.size() == b.instructions.size() &&
         std::equal(a.instructions.begin(), a.instructions.end(), b.instructions.begin(),
                    [](const sock_filter& x, const sock_filter& y) {
                      return x.code == y.code && x.jt == y.jt && x.jf == y.jf && x.k == y.k;
                    });
}

TEST(CompiledFilterTest, TheLoadHandsBackTheStrictFilterOfItsRules) {
  // Unconditional rules are compiled in process; conditional ones in the
  // guarded child; the empty policy too has a filter.
  std::vector<std::string> texts(std::begin(kValidPolicies), std::end(kValidPolicies));
  texts.push_back("");
  texts.push_back("rt_sigprocmask: 1\nread: arg0 == 3\n");
  for (const std::string& text : texts) {
    Policy p = Parse(text);
    ASSERT_TRUE(p.strict_filter.ok()) << text << ": " << p.strict_filter.status();
    auto rebuilt = BuildStrictFilter(p.rules);
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
    EXPECT_TRUE(SameProgram(*p.strict_filter, *rebuilt)) << text;
    EXPECT_EQ(p.strict_filter_pseudo_code.status().code(), absl::StatusCode::kFailedPrecondition);
  }
  auto empty = LoadPolicyFiles({});
  ASSERT_TRUE(empty.ok()) << empty.status();
  auto rebuilt = BuildStrictFilter({});
  ASSERT_TRUE(empty->strict_filter.ok() && rebuilt.ok());
  EXPECT_TRUE(SameProgram(*empty->strict_filter, *rebuilt));
}

TEST(CompiledFilterTest, ThePseudoCodeComesBackWhenAskedFor) {
  PolicyLoadOptions options;
  options.describe_filter = true;
  for (const char* file : {"allow_clock_and_stdout.policy", "minijail_style.policy"}) {
    auto p = LoadPolicyFiles({TestData(file)}, options);
    ASSERT_TRUE(p.ok()) << p.status().message();
    auto description = DescribeStrictFilter(p->rules);
    ASSERT_TRUE(description.ok()) << description.status();
    ASSERT_TRUE(p->strict_filter_pseudo_code.ok()) << p->strict_filter_pseudo_code.status();
    EXPECT_EQ(*p->strict_filter_pseudo_code, *description) << file;
  }
}

// ---------------------------------------------------------------------------
// A compiled policy at work, in a child traced like filter_test.cc does.


TEST(CompiledPolicyTest, AllowsFailsAndTracesAsWritten) {
  Policy p = Parse(
      "getppid: 1\n"
      "sched_yield: return EPERM\n"
      "lseek: arg0 == 1000; return ESPIPE\n"
      "getpriority: arg0 & 0x6 || arg1 in 0x3\n");
  auto base = BuildBaseFilter();
  ASSERT_TRUE(base.ok()) << base.status();
  auto strict = BuildStrictFilter(p.rules);
  ASSERT_TRUE(strict.ok()) << strict.status();
  ChildRun run = RunFiltered({&*base, &*strict}, [] {
    if (Raw(SYS_getppid) <= 0) return 1;                               // allowed
    if (Raw(SYS_sched_yield) != -1 || errno != EPERM) return 2;        // return EPERM
    if (Raw(SYS_lseek, 1000, 0, SEEK_SET) != -1 || errno != EBADF) return 3;  // runs: no fd
    if (Raw(SYS_lseek, 5, 0, SEEK_SET) != -1 || errno != ESPIPE) return 4;    // else branch
    if (Raw(SYS_getpriority, PRIO_USER, 0) == -1) return 5;            // arg0 & 0x6
    if (Raw(SYS_getpriority, PRIO_PROCESS, 0) == -1) return 6;         // arg1 in 0x3
    Raw(SYS_getpriority, PRIO_PGRP, 4);  // neither: violation
    Raw(SYS_getpid);                     // no rule: violation
    return 0;
  });
  EXPECT_EQ(run.exit_code, 0);
  const int violation = static_cast<int>(TraceCookie::kViolation);
  EXPECT_THAT(run.stops, ElementsAre(TraceStop{violation, SYS_getpriority},
                                     TraceStop{violation, SYS_getpid}));
}

TEST(CompiledPolicyTest, ExampleLetsAStrictThreadPrintAndReadClocks) {
  auto p = LoadPolicyFiles({TestData("allow_clock_and_stdout.policy")});
  ASSERT_TRUE(p.ok()) << p.status().message();
  auto base = BuildBaseFilter();
  ASSERT_TRUE(base.ok()) << base.status();
  auto strict = BuildStrictFilter(p->rules);
  ASSERT_TRUE(strict.ok()) << strict.status();
  ChildRun run = RunFiltered({&*base, &*strict}, [] {
    timespec ts;
    if (Raw(SYS_clock_gettime, CLOCK_MONOTONIC, reinterpret_cast<long>(&ts)) != 0) return 1;
    if (Raw(SYS_write, 1, reinterpret_cast<long>(""), 0) != 0) return 2;
    if (Raw(SYS_sched_yield) != -1 || errno != EPERM) return 3;
    Raw(SYS_write, 3, reinterpret_cast<long>(""), 0);  // fd 3: violation
    return 0;
  });
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.stops, ElementsAre(TraceStop{static_cast<int>(TraceCookie::kViolation),
                                               SYS_write}));
}

}  // namespace
}  // namespace dpsupervise
