#include "supervisor/trace/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "supervisor/trace/ptrace_util.h"
#include "supervisor/os/send_signal.h"

namespace dpsupervise {
namespace {

// What the child reports on the error pipe before dying.
enum class SetupStage : int {
  kNoNewPrivs = 1,
  kBaseFilter,
  kExecFilter,
  kOwnIds,
  kStop,
  kExec
};

struct SetupFailure {
  SetupStage stage;
  int error;
};

const char* StageName(SetupStage stage) {
  switch (stage) {
    case SetupStage::kNoNewPrivs:
      return "prctl(PR_SET_NO_NEW_PRIVS)";
    case SetupStage::kBaseFilter:
      return "seccomp(SECCOMP_SET_MODE_FILTER) of the base filter";
    case SetupStage::kExecFilter:
      return "seccomp(SECCOMP_SET_MODE_FILTER) of the strict filter";
    case SetupStage::kOwnIds:
      return "getpid() or gettid() in the launched child";
    case SetupStage::kStop:
      return "tgkill(SIGSTOP)";
    case SetupStage::kExec:
      return "execve";
  }
  return "setup";
}

absl::Status ExecError(int err, const std::string& program) {
  std::string message = absl::StrCat(program, ": ", strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  return absl::PermissionDeniedError(message);
}

// Child side: async-signal-safe only, no allocation.
[[noreturn]] void FailInChild(int fd, SetupStage stage) {
  SetupFailure failure{stage, errno};
  (void)!write(fd, &failure, sizeof(failure));
  _exit(stage == SetupStage::kExec ? (failure.error == ENOENT ? 127 : 126) : 125);
}

long InstallFilter(const BpfProgram& program) {
  sock_fprog fprog = program.AsFprog();
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, &fprog);
}

[[noreturn]] void RunChild(const LaunchRequest& request, char* const* argv, char* const* sh_argv,
                           int error_fd) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) FailInChild(error_fd, SetupStage::kNoNewPrivs);
  if (InstallFilter(*request.base_filter) != 0) FailInChild(error_fd, SetupStage::kBaseFilter);
  // Wait here until the parent has seized us: from then on every event,
  // including exec, is seen by the monitor.
  // Only this thread is ever signalled: a failed getpid() (an outer seccomp
  // filter returning an error, or 0) must not become kill(-1) or kill(0).
  const long self = syscall(SYS_getpid);
  const long thread = syscall(SYS_gettid);
  if (self <= 0 || thread <= 0) {
    if (self == 0 || thread == 0) errno = ESRCH;  // "succeeded" with no id
    FailInChild(error_fd, SetupStage::kOwnIds);
  }
  if (SignalThread(static_cast<pid_t>(self), static_cast<pid_t>(thread), SIGSTOP) != 0) {
    FailInChild(error_fd, SetupStage::kStop);
  }
  // With --strict=exec the strict filter is the last thing before exec, so
  // that execve itself is the only syscall it lets through (see monitor).
  if (request.exec_filter != nullptr && InstallFilter(*request.exec_filter) != 0) {
    FailInChild(error_fd, SetupStage::kExecFilter);
  }
  execv(request.path.c_str(), argv);
  if (errno == ENOEXEC) execv("/bin/sh", sh_argv);  // As execvp(3) does.
  FailInChild(error_fd, SetupStage::kExec);
}

}  // namespace

absl::StatusOr<std::string> ResolveProgram(const std::string& name) {
  if (name.empty()) return absl::NotFoundError("empty program name");
  auto check = [](const std::string& path) -> int {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) return errno;
    if (S_ISDIR(st.st_mode)) return EISDIR;
    if (!S_ISREG(st.st_mode) || access(path.c_str(), X_OK) != 0) return EACCES;
    return 0;
  };
  if (name.find('/') != std::string::npos) {
    int err = check(name);
    if (err == 0) return name;
    return ExecError(err == ENOTDIR ? ENOENT : err, name);
  }
  const char* path_env = getenv("PATH");
  // glibc's execvp default search path when PATH is unset.
  std::string search = path_env != nullptr ? path_env : "/bin:/usr/bin";
  int denied = 0;
  for (absl::string_view dir : absl::StrSplit(search, ':')) {
    // An empty entry means the current directory, as for execvp.
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    int err = check(candidate);
    if (err == 0) return candidate;
    if (err == EACCES || err == EISDIR) denied = err;
  }
  if (denied != 0) {
    return absl::PermissionDeniedError(absl::StrCat(name, ": ", strerror(denied)));
  }
  return absl::NotFoundError(absl::StrCat(name, ": command not found in PATH"));
}

absl::StatusOr<LaunchedProgram> Launch(const LaunchRequest& request) {
  if (request.base_filter == nullptr || request.argv.empty()) {
    return absl::InvalidArgumentError("Launch: no filter or no argv");
  }
  // Everything the child touches is built now.
  std::vector<char*> argv;
  for (const std::string& arg : request.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> sh_argv = {const_cast<char*>("sh"), const_cast<char*>(request.path.c_str())};
  sh_argv.insert(sh_argv.end(), argv.begin() + 1, argv.end());

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", strerror(errno)));
  }
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", strerror(err)));
  }
  if (pid == 0) {
    close(pipe_fds[0]);
    RunChild(request, argv.data(), sh_argv.data(), pipe_fds[1]);
  }
  close(pipe_fds[1]);
  LaunchedProgram launched{pid, pipe_fds[0]};

  auto fail = [&](absl::Status status) -> absl::Status {
    SignalProcess(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(launched.setup_error_fd);
    return status;
  };
  int status = 0;
  while (waitpid(pid, &status, WUNTRACED) < 0) {
    if (errno != EINTR) return fail(absl::InternalError(absl::StrCat("waitpid: ", strerror(errno))));
  }
  if (!WIFSTOPPED(status)) {
    // The child failed before its handshake stop.
    absl::Status error = ReadSetupError(launched.setup_error_fd, request.argv[0]);
    close(launched.setup_error_fd);
    return error.ok() ? absl::InternalError("the child exited before the ptrace handshake") : error;
  }
  absl::Status seized = Seize(pid);
  if (!seized.ok()) return fail(seized);
  if (SignalProcess(pid, SIGCONT) != 0) {
    return fail(absl::InternalError(absl::StrCat("kill(SIGCONT): ", strerror(errno))));
  }
  return launched;
}

absl::Status ReadSetupError(int setup_error_fd, const std::string& program) {
  SetupFailure failure;
  ssize_t n;
  do {
    n = read(setup_error_fd, &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  if (n == 0) return absl::OkStatus();
  if (n != sizeof(failure)) return absl::InternalError("unreadable report from the launched child");
  if (failure.stage == SetupStage::kExec) return ExecError(failure.error, program);
  if (failure.stage == SetupStage::kOwnIds) {
    return absl::InternalError(absl::StrCat(
        "launching ", program, ": ", StageName(failure.stage), " failed: ",
        strerror(failure.error),
        "; the child needs its own ids to stop itself for the ptrace handshake (does an outer "
        "seccomp filter or sandbox deny them?)"));
  }
  return absl::InternalError(
      absl::StrCat("launching ", program, ": ", StageName(failure.stage), ": ",
                   strerror(failure.error)));
}

}  // namespace dpsupervise
