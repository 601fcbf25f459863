// signal_names.h: the one naming of Linux signals 1..64, both ways, for
// every place dpsupervise shows or reads a signal: decoded syscall arguments
// (kill(1234, SIGTERM)), signal and trap reports, policy files and actions
// (signal SIGUSR1, arg1 == SIGRTMIN).
//
// Classic signals 1..31 have their usual names (SIGIO for 29, as strace and
// the kernel headers say it, not glibc's POLL).
//
// Real-time signals are named as a program sees them, counted from the C
// library's SIGRTMIN: glibc reserves the kernel's first two, 32 and 33, for
// its threads, so its SIGRTMIN is 34 and a program's SIGRTMIN+n is 34+n.
// 34 is "SIGRTMIN", 35..64 are "SIGRTMIN+1".."SIGRTMIN+30", and 32 and 33,
// which no program can name, are "SIG32" and "SIG33" (as gdb calls them).
// The table is fixed, not the supervisor's own SIGRTMIN, so names do not
// depend on how dpsupervise was built.
#ifndef DPSUPERVISE_SUPERVISOR_SYSCALLS_SIGNAL_NAMES_H_
#define DPSUPERVISE_SUPERVISOR_SYSCALLS_SIGNAL_NAMES_H_

#include <string>

#include "absl/strings/string_view.h"

namespace dpsupervise {

// The highest signal number on Linux (_NSIG - 1).
inline constexpr int kMaxSignal = 64;
// glibc's SIGRTMIN: the first real-time signal a program may use.
inline constexpr int kSigRtMin = 34;

// "SIGTERM" for 15, "SIGRTMIN" for 34, "SIGRTMIN+2" for 36, "SIG32" for 32;
// the decimal number for anything outside 1..64 ("0" for kill's existence
// probe, "-3", "65").
std::string SignalName(int signo);

// The number of a signal name, the inverse of SignalName and more lenient:
// case-insensitive, "SIG" optional ("SIGUSR1", "USR1", "usr1"), the
// aliases SIGIOT, SIGPOLL and SIGCLD, "SIGRTMIN+n", "SIGRTMAX" and
// "SIGRTMAX-n" (SIGRTMAX is 64), "SIG<n>" and plain decimal "<n>". -1 when
// unknown or outside 1..64.
int SignalNumber(absl::string_view name);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_SYSCALLS_SIGNAL_NAMES_H_
