// action.h: what dpsupervise does about a violation (docs/usage.md and docs/policy.md), and the
// parsers for the words that name actions and errno values (signal names are
// supervisor/syscalls/signal_names.h, shared with the reports). The same
// syntax is used by policy files (`@action KIND ACTION`) and by
// `--on-violation=ACTION`.
#ifndef DPSUPERVISE_SUPERVISOR_POLICY_ACTION_H_
#define DPSUPERVISE_SUPERVISOR_POLICY_ACTION_H_

#include <stddef.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "supervisor/model/violation.h"

namespace dpsupervise {

enum class ActionKind {
  kKill,     // report, SIGKILL the violating process (its thread group)
  kKillAll,  // report, SIGKILL every process of the supervised program
  kSignal,  // report, leave strict mode, deliver `signal` at the violation
  kStop,    // report, leave the program group-stopped for a debugger
  kGdb,     // as kStop, then run gdb on it
  kLog,     // report and let the program continue
  kErrno,   // syscalls only: the syscall returns -errno_value without running
  kDeliver,  // traps and signals only: report, leave strict mode, and let the
             // signal through to the program unchanged
};

struct Action {
  ActionKind kind = ActionKind::kKill;
  int signal = 0;       // kind == kSignal
  int errno_value = 0;  // kind == kErrno

  // "kill", "kill-all", "signal SIGUSR1", "stop", "gdb", "log", "deliver",
  // "errno EPERM": the text ParseAction accepts back.
  std::string ToString() const;

  bool operator==(const Action& other) const;
  bool operator!=(const Action& other) const { return !(*this == other); }
};

// Whether an action of `action` can be taken on a violation of `kind`: a
// page fault, trap or signal has no return value to fake (errno); a syscall
// or page fault has no signal of the program's to deliver (deliver).
bool ActionAppliesTo(ActionKind action, ViolationKind kind);

// Parses "kill", "kill-all", "signal SIGUSR1" (also "signal USR1",
// "signal 10", "signal SIGRTMIN+2"), "stop", "gdb", "log", "deliver",
// "errno EPERM" (also "errno 1").
// The word and its argument are separated by blanks or one ':'
// ("signal:SIGUSR1" needs no quoting on a command line). Errors are
// InvalidArgumentError "found 'X', expected Y".
absl::StatusOr<Action> ParseAction(absl::string_view text);

// As above, for callers that point at the error (the policy parser):
// `*error_offset` is set to the byte offset in `text` of what was found, and
// the end of `text` is called `end_name` in the message ("end of line").
absl::StatusOr<Action> ParseAction(absl::string_view text, absl::string_view end_name,
                                   size_t* error_offset);

// The errno value of "EPERM" .. "EHWPOISON" (aliases such as EWOULDBLOCK
// included) or of a number 1..4095 (the kernel's MAX_ERRNO); -1 when unknown.
int ErrnoNumber(absl::string_view name);

// "EPERM"; the decimal number when the value has no name.
std::string ErrnoName(int e);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_POLICY_ACTION_H_
