// attach.h: takes an already running process under supervision (-p PID).
#ifndef DPSUPERVISE_SUPERVISOR_ATTACH_H_
#define DPSUPERVISE_SUPERVISOR_ATTACH_H_

#include <sys/types.h>

#include <vector>

#include "absl/status/statusor.h"

namespace dpsupervise {

// Seizes every thread of `pid` (PTRACE_SEIZE, so nothing stops), scanning
// /proc/PID/task until a pass finds no new thread: threads created during
// the attach are caught either by that scan or, once their creator is
// seized, by PTRACE_O_TRACECLONE. No PTRACE_O_EXITKILL: if dpsupervise dies,
// the program goes on. Returns the seized tids. Errors name the thread and
// errno (EPERM: not permitted, or already traced by someone else).
absl::StatusOr<std::vector<pid_t>> AttachToProcess(pid_t pid);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_ATTACH_H_
