#include "supervisor/syscalls/signal_names.h"

#include <signal.h>

#include <iterator>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace dpsupervise {
namespace {

// Classic signals by number, without "SIG" (so that lookups of "USR1" and
// "SIGUSR1" need one table); index 0 unused. x86-64 numbering
// (asm/signal.h), which is what a tracee passes in registers.
constexpr const char* kClassicNames[] = {
    nullptr, "HUP",  "INT",  "QUIT", "ILL",    "TRAP", "ABRT",  "BUS",  "FPE",  "KILL", "USR1",
    "SEGV",  "USR2", "PIPE", "ALRM", "TERM",   "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN",
    "TTOU",  "URG",  "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO",   "PWR",  "SYS",
};
constexpr int kLastClassic = static_cast<int>(std::size(kClassicNames)) - 1;
static_assert(kLastClassic == 31, "the classic signals are 1..31");

struct Alias {
  const char* name;
  int signo;
};
constexpr Alias kAliases[] = {{"IOT", SIGIOT}, {"POLL", SIGPOLL}, {"CLD", SIGCHLD}};

// A decimal number in [lo, hi] with no sign or blanks, or -1.
int BoundedDecimal(absl::string_view text, int lo, int hi) {
  int value = 0;
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text[0])) ||
      !absl::SimpleAtoi(text, &value) || value < lo || value > hi) {
    return -1;
  }
  return value;
}

// "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n" (upper case, "SIG" removed).
int RealTimeNumber(absl::string_view name) {
  int base = 0;
  absl::string_view sign;
  if (absl::ConsumePrefix(&name, "RTMIN")) {
    base = kSigRtMin;
    sign = "+";
  } else if (absl::ConsumePrefix(&name, "RTMAX")) {
    base = kMaxSignal;
    sign = "-";
  } else {
    return -1;
  }
  if (name.empty()) return base;
  if (!absl::ConsumePrefix(&name, sign)) return -1;
  const int offset = BoundedDecimal(name, 0, kMaxSignal - kSigRtMin);
  if (offset < 0) return -1;
  return sign == "+" ? base + offset : base - offset;
}

int ClassicNumber(absl::string_view name) {
  for (int signo = 1; signo <= kLastClassic; ++signo) {
    if (name == kClassicNames[signo]) return signo;
  }
  for (const Alias& alias : kAliases) {
    if (name == alias.name) return alias.signo;
  }
  return -1;
}

}  // namespace

std::string SignalName(int signo) {
  if (signo >= 1 && signo <= kLastClassic) return absl::StrCat("SIG", kClassicNames[signo]);
  if (signo == kSigRtMin) return "SIGRTMIN";
  if (signo > kSigRtMin && signo <= kMaxSignal) return absl::StrCat("SIGRTMIN+", signo - kSigRtMin);
  if (signo > kLastClassic && signo < kSigRtMin) return absl::StrCat("SIG", signo);
  return absl::StrCat(signo);
}

int SignalNumber(absl::string_view name) {
  const std::string upper = absl::AsciiStrToUpper(name);
  absl::string_view rest = upper;
  absl::ConsumePrefix(&rest, "SIG");
  if (rest.empty()) return -1;
  if (absl::ascii_isdigit(static_cast<unsigned char>(rest[0]))) {
    return BoundedDecimal(rest, 1, kMaxSignal);
  }
  const int classic = ClassicNumber(rest);
  return classic > 0 ? classic : RealTimeNumber(rest);
}

}  // namespace dpsupervise
