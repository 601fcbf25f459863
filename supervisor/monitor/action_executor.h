// action_executor.h: what each action does, over a Tracee. A new action is
// an ActionKind (policy/action.h), a sentence in DescribeAction and a case
// in ExecuteAction, with its test (tests/action_executor_test.cc): the
// monitor does not change.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_ACTION_EXECUTOR_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_ACTION_EXECUTOR_H_

#include <string>

#include "absl/status/status.h"
#include "supervisor/model/violation.h"
#include "supervisor/monitor/tracee.h"
#include "supervisor/policy/action.h"

namespace dpsupervise {

// The report's sentence for what `action` does to thread `tid` of process
// `tgid` ("log (the program continues)", ...).
std::string DescribeAction(const Action& action, pid_t tid, pid_t tgid);

// Carries out `action` for `violation`, seen in `tracee`, which is stopped
// for `stop_signal` (0 at a seccomp or syscall-entry stop). Afterwards the
// thread has been resumed, left to a debugger, or (kill) waits for its
// SIGKILL.
absl::Status ExecuteAction(const Action& action, const Violation& violation, int stop_signal,
                           Tracee& tracee);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_ACTION_EXECUTOR_H_
