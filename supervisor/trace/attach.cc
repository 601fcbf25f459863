#include "supervisor/trace/attach.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "supervisor/os/procfs.h"
#include "supervisor/trace/ptrace_util.h"

namespace dpsupervise {
namespace {

// include/linux/sched.h: the task is a kernel thread.
constexpr unsigned long kPfKthread = 0x00200000;

std::string ProcessLabel(pid_t pid) {
  auto name = TaskName(pid);
  return name.ok() ? absl::StrCat("process ", pid, " (", *name, ")")
                   : absl::StrCat("process ", pid);
}

absl::Status CannotAttach(pid_t pid, absl::string_view why) {
  return absl::FailedPreconditionError(
      absl::StrCat("cannot attach to ", ProcessLabel(pid), ": ", why));
}

// The process tracing `pid`, from TracerPid in /proc/PID/status; 0 if none.
pid_t TracerOf(pid_t pid) {
  auto tracer = TaskStatusField(pid, "TracerPid");
  return tracer.ok() ? static_cast<pid_t>(*tracer) : 0;
}

absl::Status AlreadyTraced(pid_t pid, pid_t tracer) {
  return CannotAttach(pid, absl::StrCat("it is already traced by ", ProcessLabel(tracer),
                                        " (a debugger, strace or another dpsupervise): a "
                                        "process has one tracer at a time; detach it first"));
}

// The values of a "Uid:", "Gid:" or "CapPrm:" line of /proc/PID/status (at
// most three: real, effective, saved).
std::vector<std::string> StatusIds(pid_t pid, absl::string_view field) {
  auto status = ReadProcFile(absl::StrCat("/proc/", pid, "/status"));
  if (!status.ok()) return {};
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    if (!absl::ConsumePrefix(&line, field)) continue;
    std::vector<std::string> ids = absl::StrSplit(line, '\t', absl::SkipEmpty());
    if (ids.size() >= 3) ids.resize(3);
    return ids;
  }
  return {};
}

// Why the kernel refused PTRACE_SEIZE of `pid` with EPERM, the likeliest
// cause first, each with what to do.
std::string NotPermittedCause(pid_t pid) {
  const std::string not_dumpable = NotDumpableCause(pid);
  if (!not_dumpable.empty()) return not_dumpable;
  const std::string our_uid = absl::StrCat(getuid());
  const std::vector<std::string> uids = StatusIds(pid, "Uid:");
  for (const std::string& uid : uids) {
    if (uid == our_uid) continue;
    return absl::StrCat("it runs as uid ", uids[0], " (real, effective, saved: ",
                        absl::StrJoin(uids, ", "), "), dpsupervise as uid ", our_uid,
                        ": tracing another user's process needs CAP_SYS_PTRACE (run dpsupervise "
                        "as root, or as that user)");
  }
  const std::vector<std::string> its_caps = StatusIds(pid, "CapPrm:");
  const std::vector<std::string> our_caps = StatusIds(getpid(), "CapPrm:");
  uint64_t its = 0, ours = 0;
  if (!its_caps.empty() && !our_caps.empty() && absl::SimpleHexAtoi(its_caps[0], &its) &&
      absl::SimpleHexAtoi(our_caps[0], &ours) && (its & ~ours) != 0) {
    return absl::StrCat("it holds capabilities dpsupervise lacks (permitted set 0x", its_caps[0],
                        ", dpsupervise's 0x", our_caps[0],
                        "): the kernel lets only a tracer with CAP_SYS_PTRACE over it attach "
                        "(or a security module forbids it): run dpsupervise with every "
                        "capability the process has");
  }
  auto scope = ReadKernelFile("/proc/sys/kernel/yama/ptrace_scope");
  const std::string yama(scope.ok() ? absl::StripAsciiWhitespace(*scope) : "");
  if (yama == "1") {
    return "kernel.yama.ptrace_scope is 1: without CAP_SYS_PTRACE only descendants of "
           "dpsupervise (or processes that allowed it with prctl(PR_SET_PTRACER)) may be traced "
           "(run dpsupervise as root, or set the sysctl to 0)";
  }
  if (yama == "2") {
    return "kernel.yama.ptrace_scope is 2: only a process with CAP_SYS_PTRACE may attach "
           "(run dpsupervise as root)";
  }
  if (yama == "3") return "kernel.yama.ptrace_scope is 3: no process may attach to another";
  return "not permitted (no CAP_SYS_PTRACE over it, or a security module such as SELinux or "
         "AppArmor forbids it)";
}

// Whether a thread of `pid` still runs: a main thread that ended with
// pthread_exit is a zombie while the others run on.
bool HasLiveThread(pid_t pid) {
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/task").c_str());
  if (dir == nullptr) return false;
  bool live = false;
  while (dirent* entry = readdir(dir)) {
    pid_t tid;
    if (!absl::SimpleAtoi(entry->d_name, &tid)) continue;
    const char state = TaskRunState(tid).value_or('Z');
    live = live || (state != 'Z' && state != 'X');
  }
  closedir(dir);
  return live;
}

}  // namespace

absl::Status CheckAttachable(pid_t pid) {
  auto tgid = TaskTgid(pid);
  if (!tgid.ok()) return absl::NotFoundError(absl::StrCat("no process ", pid));
  if (*tgid == getpid()) return CannotAttach(pid, "it is this dpsupervise itself");
  auto fields = TaskStatFields(pid);
  if (!fields.ok()) return absl::NotFoundError(absl::StrCat("no process ", pid));
  // Fields 3 (state) and 9 (flags).
  unsigned long flags = 0;
  if (fields->size() > 9 - 3 && absl::SimpleAtoi((*fields)[9 - 3], &flags) &&
      (flags & kPfKthread) != 0) {
    return CannotAttach(pid, "it is a kernel thread, and kernel threads cannot be traced");
  }
  const std::string state = fields->empty() ? "" : (*fields)[0];
  if ((state == "Z" || state == "X") && !HasLiveThread(pid)) {
    return CannotAttach(pid, "it is a zombie (it has exited and waits for its parent to reap "
                             "it): there is nothing left to trace");
  }
  const pid_t tracer = TracerOf(pid);
  if (tracer != 0) return AlreadyTraced(pid, tracer);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<pid_t>> AttachToProcess(pid_t pid) {
  absl::Status attachable = CheckAttachable(pid);
  if (!attachable.ok()) return attachable;
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
        if (err != EPERM) {
          return absl::InternalError(
              absl::StrCat("ptrace(PTRACE_SEIZE, ", tid, "): ", strerror(err)));
        }
        // Traced by someone else since the check, or the kernel's refusal.
        const pid_t tracer = TracerOf(tid);
        if (tracer != 0) return AlreadyTraced(pid, tracer);
        return CannotAttach(pid, absl::StrCat("ptrace(PTRACE_SEIZE, ", tid, "): ", strerror(err),
                                              ": ", NotPermittedCause(tid)));
      }
      seized.insert(tid);
      found_new = true;
    }
    closedir(dir);
  }
  return std::vector<pid_t>(seized.begin(), seized.end());
}

}  // namespace dpsupervise
