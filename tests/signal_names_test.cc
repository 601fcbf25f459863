// Tests of supervisor/syscalls/signal_names: every signal 1..64 named and
// read back, the real-time naming, aliases and what is not a signal.
#include "supervisor/syscalls/signal_names.h"

#include <signal.h>
#include <string.h>

#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace dpsupervise {
namespace {

// What SignalName must say for `signo` in 1..64, spelled out independently
// of the table: glibc's abbreviations for the classic signals (SIGIO where
// glibc says POLL), the program's SIGRTMIN+n for the real-time ones.
std::string ExpectedName(int signo) {
  if (signo == SIGIO) return "SIGIO";
  if (signo < 32) return absl::StrCat("SIG", sigabbrev_np(signo));
  if (signo < 34) return absl::StrCat("SIG", signo);
  if (signo == 34) return "SIGRTMIN";
  return absl::StrCat("SIGRTMIN+", signo - 34);
}

TEST(SignalNamesTest, EverySignalHasItsName) {
  for (int signo = 1; signo <= kMaxSignal; ++signo) {
    EXPECT_EQ(SignalName(signo), ExpectedName(signo)) << signo;
  }
}

TEST(SignalNamesTest, EveryNameReadsBackToItsSignal) {
  std::set<std::string> seen;
  for (int signo = 1; signo <= kMaxSignal; ++signo) {
    const std::string name = SignalName(signo);
    EXPECT_TRUE(seen.insert(name).second) << name << " names two signals";
    EXPECT_EQ(SignalNumber(name), signo) << name;
    EXPECT_EQ(SignalNumber(absl::AsciiStrToLower(name)), signo) << name;
    EXPECT_EQ(SignalNumber(name.substr(3)), signo) << name << " without SIG";
    EXPECT_EQ(SignalNumber(absl::StrCat(signo)), signo);
    EXPECT_EQ(SignalNumber(absl::StrCat("SIG", signo)), signo);
  }
}

// The fixed table is the C library's numbering of the build's libc too: a
// policy's SIGRTMIN+n is what the program's SIGRTMIN+n is.
TEST(SignalNamesTest, RealTimeRangeIsTheCLibrarys) {
  EXPECT_EQ(SIGRTMIN, kSigRtMin);
  EXPECT_EQ(SIGRTMAX, kMaxSignal);
  EXPECT_EQ(SignalNumber("SIGRTMAX"), 64);
  EXPECT_EQ(SignalNumber("SIGRTMAX-30"), 34);
  EXPECT_EQ(SignalNumber("rtmin+30"), 64);
}

TEST(SignalNamesTest, AliasesReadAsTheirSignal) {
  EXPECT_EQ(SignalNumber("SIGIOT"), SIGABRT);
  EXPECT_EQ(SignalNumber("POLL"), SIGIO);
  EXPECT_EQ(SignalNumber("sigcld"), SIGCHLD);
}

TEST(SignalNamesTest, NonSignalsAreNumbersOrUnknown) {
  for (int signo : {0, -3, 65, 1000}) EXPECT_EQ(SignalName(signo), absl::StrCat(signo));
  for (const char* name : {"", "SIG", "0", "65", "SIG65", "-1", "+1", "SIGRTMIN+31", "SIGRTMIN-1",
                           "SIGRTMAX+1", "SIGRTMAX-31", "RTMIN+", "SIGNOPE", "SIGUSR1 "}) {
    EXPECT_EQ(SignalNumber(name), -1) << "'" << name << "'";
  }
}

}  // namespace
}  // namespace dpsupervise
