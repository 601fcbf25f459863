// attach.h: takes an already running process under supervision (-p PID).
#ifndef DPSUPERVISE_SUPERVISOR_TRACE_ATTACH_H_
#define DPSUPERVISE_SUPERVISOR_TRACE_ATTACH_H_

#include <sys/types.h>

#include <vector>

#include "absl/status/statusor.h"

namespace dpsupervise {

// Whether `pid` can be attached to, judged from /proc before trying, so
// that each refusal names its true cause: NotFound when there is no such
// process; FailedPrecondition when it is this dpsupervise itself, a kernel
// thread (PF_KTHREAD), a zombie, or already traced (TracerPid, named).
absl::Status CheckAttachable(pid_t pid);

// Seizes every thread of `pid` (PTRACE_SEIZE, so nothing stops), scanning
// /proc/PID/task until a pass finds no new thread: threads created during
// the attach are caught either by that scan or, once their creator is
// seized, by PTRACE_O_TRACECLONE. No PTRACE_O_EXITKILL: if dpsupervise dies,
// the program goes on. Returns the seized tids. Errors: those of
// CheckAttachable, and FailedPrecondition when the kernel refuses (EPERM),
// naming why (a tracer that came first, a non-dumpable process, another
// user's process, Yama's ptrace_scope) and what to do.
absl::StatusOr<std::vector<pid_t>> AttachToProcess(pid_t pid);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_TRACE_ATTACH_H_
