#include "supervisor/attach.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "supervisor/procfs.h"
#include "supervisor/ptrace_util.h"

namespace dpsupervise {

absl::StatusOr<std::vector<pid_t>> AttachToProcess(pid_t pid) {
  const std::string task_dir = absl::StrCat("/proc/", pid, "/task");
  const unsigned long options = kSeizeOptions & ~static_cast<unsigned long>(PTRACE_O_EXITKILL);
  std::set<pid_t> seized;
  for (bool found_new = true; found_new;) {
    found_new = false;
    DIR* dir = opendir(task_dir.c_str());
    if (dir == nullptr) {
      if (seized.empty()) {
        return absl::NotFoundError(absl::StrCat("no process ", pid, ": ", strerror(errno)));
      }
      break;  // it exited while we attached
    }
    while (dirent* entry = readdir(dir)) {
      pid_t tid;
      if (!absl::SimpleAtoi(entry->d_name, &tid) || seized.count(tid)) continue;
      // A thread that has exited (the main thread after pthread_exit, while
      // others run on) cannot be seized and will make no kernel entry.
      if (TaskRunState(tid).value_or('?') == 'Z') continue;
      if (ptrace(PTRACE_SEIZE, tid, nullptr, options) != 0) {
        const int err = errno;
        if (err == ESRCH) continue;  // the thread exited meanwhile
        closedir(dir);
        for (pid_t done : seized) ptrace(PTRACE_DETACH, done, nullptr, nullptr);
        return absl::PermissionDeniedError(absl::StrCat(
            "ptrace(PTRACE_SEIZE, ", tid, "): ", strerror(err),
            err == EPERM ? " (already traced, e.g. by a debugger, or not permitted)" : ""));
      }
      seized.insert(tid);
      found_new = true;
    }
    closedir(dir);
  }
  return std::vector<pid_t>(seized.begin(), seized.end());
}

}  // namespace dpsupervise
