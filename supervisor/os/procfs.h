// procfs.h: the few /proc facts the supervisor needs about a task. Each read
// is best-effort by nature (the task may exit at any moment), so each returns
// a StatusOr and callers decide what to print when it fails.
#ifndef DPSUPERVISE_SUPERVISOR_OS_PROCFS_H_
#define DPSUPERVISE_SUPERVISOR_OS_PROCFS_H_

#include <sys/types.h>

#include <stdint.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dpsupervise {

// Contents of a small procfs or sysfs file. The status keeps the errno's
// code (absl::ErrnoToStatus): NotFound when the file is absent (the kernel
// lacks the feature), PermissionDenied when it is unreadable, ...
absl::StatusOr<std::string> ReadKernelFile(const std::string& path);

// Contents of a small /proc file of a task. Every failure is NotFound, the
// code of a task that has gone, which callers treat as such.
absl::StatusOr<std::string> ReadProcFile(const std::string& path);

// /proc/<tid>/comm, without the trailing newline.
absl::StatusOr<std::string> TaskName(pid_t tid);

// "name/tid" (the seed kernel's way of naming a task in messages), with "?"
// for a name that can no longer be read.
std::string TaskLabel(pid_t tid);

// The thread-group id of `tid` (the Tgid: line of /proc/<tid>/status).
absl::StatusOr<pid_t> TaskTgid(pid_t tid);

// The fields of /proc/<tid>/stat from field 3 (state) on: element i is
// field i + 3 (proc(5) numbering). The name (field 2) is skipped whole,
// spaces and parentheses included.
absl::StatusOr<std::vector<std::string>> TaskStatFields(pid_t tid);

// The CPU `tid` last ran on (field 39 of /proc/<tid>/stat).
absl::StatusOr<int> TaskCpu(pid_t tid);

// The state letter of `tid` (field 3 of /proc/<tid>/stat): R, S, D, T, t,
// Z (a zombie: a main thread that exited while others run on), ...
absl::StatusOr<char> TaskRunState(pid_t tid);

// A numeric "Name:\tvalue" field of /proc/<tid>/status.
absl::StatusOr<long long> TaskStatusField(pid_t tid, const std::string& field);

// A signal-set field of /proc/<tid>/status (SigPnd, ShdPnd, SigBlk, SigIgn,
// SigCgt): bit N-1 for signal N.
absl::StatusOr<uint64_t> TaskSignalSet(pid_t tid, const std::string& field);

// One line of /proc/<pid>/maps. `name` is the path or pseudo-name as the
// kernel prints it (escapes and a " (deleted)" suffix left as they are).
struct MemoryMapping {
  uint64_t start = 0;
  uint64_t end = 0;
  bool readable = false;
  bool writable = false;
  bool executable = false;
  bool shared = false;
  uint64_t file_offset = 0;  // where `start` is in the file (0 for anonymous)
  std::string name;

  bool Contains(uint64_t address) const { return address >= start && address < end; }
};

// The mappings of a /proc/<pid>/maps text; malformed lines are skipped.
std::vector<MemoryMapping> ParseMaps(const std::string& text);

// The mappings of the address space `tid` lives in. Any thread id works, so
// a process whose main thread has exited (a zombie leader) is still read.
absl::StatusOr<std::vector<MemoryMapping>> ReadMaps(pid_t tid);

// Whether the process of `tid` is dumpable (PR_GET_DUMPABLE 1). The kernel
// gives the files in /proc/<tid> to root (proc(5)) when it is not, so a
// status file owned by another uid than the task's effective one tells; a
// task running as root always reads as dumpable (nothing then tells the two
// apart, nor needs to).
absl::StatusOr<bool> TaskIsDumpable(pid_t tid);

// When the kernel refused this supervisor the memory, /proc files or perf
// events of `tid` (EPERM, EACCES, EIO): the explanation if the cause is that
// the process is not dumpable, with what to do; empty otherwise.
std::string NotDumpableCause(pid_t tid);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_OS_PROCFS_H_
