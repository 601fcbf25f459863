#include "supervisor/policy_compile_check.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "supervisor/send_signal.h"

namespace dpsupervise {
namespace policy {
namespace {

std::string LibseccompVersion() {
  const scmp_version* v = seccomp_version();
  return v == nullptr ? "" : absl::StrCat(v->major, ".", v->minor, ".", v->micro);
}

struct CompileVerdict {
  enum Kind { kCompiled, kRefused, kHangs, kCrashed } kind = kCompiled;
  size_t index = 0;  // the syscall refused, hanging or crashing
  int error = 0;     // kRefused: libseccomp's errno; kCrashed: the signal
  // Every rule was added: it hung or crashed generating the whole filter,
  // and `index` is only the last syscall with rules.
  bool in_export = false;
};

// What the child writes: the syscall it starts on, or a phase, and an errno.
struct CompileProgress {
  int32_t index;
  int32_t error;
};
constexpr int32_t kExporting = -1;
constexpr int32_t kExported = -2;

// Gives one syscall's rules to libseccomp: 0, or its negative errno.
int AddRules(scmp_filter_ctx ctx, const PendingSyscall& syscall) {
  for (const SyscallRule& rule : syscall.rules) {
    const int rc =
        seccomp_rule_add_array(ctx, rule.action, rule.nr,
                               static_cast<unsigned>(rule.conditions.size()), rule.conditions.data());
    if (rc < 0) return rc;
  }
  return 0;
}

bool AnyConditions(const std::vector<PendingSyscall>& pending) {
  for (const PendingSyscall& syscall : pending) {
    for (const SyscallRule& rule : syscall.rules) {
      if (!rule.conditions.empty()) return true;
    }
  }
  return false;
}

// Rules without conditions never make libseccomp hang: no child needed.
CompileVerdict CompileInProcess(const std::vector<PendingSyscall>& pending) {
  CompileVerdict verdict;
  std::unique_ptr<void, void (*)(void*)> ctx(seccomp_init(SCMP_ACT_TRACE(2)), seccomp_release);
  for (size_t i = 0; i < pending.size(); ++i) {
    const int rc = AddRules(ctx.get(), pending[i]);
    if (rc < 0) return {CompileVerdict::kRefused, i, -rc};
  }
  return verdict;
}

[[noreturn]] void CompileInChild(const std::vector<PendingSyscall>& pending, int out) {
  auto say = [out](int32_t index, int32_t error) {
    const CompileProgress progress{index, error};
    if (write(out, &progress, sizeof(progress)) != sizeof(progress)) _exit(1);
  };
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRACE(2));
  for (size_t i = 0; i < pending.size(); ++i) {
    say(static_cast<int32_t>(i), 0);
    const int rc = AddRules(ctx, pending[i]);
    if (rc < 0) {
      say(static_cast<int32_t>(i), -rc);
      _exit(0);
    }
  }
  say(kExporting, 0);
  const int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  // Its result is not sent: an export that fails is BuildStrictFilter's to
  // report, with the filter's size, when the policy is used.
  seccomp_export_bpf(ctx, null_fd);
  say(kExported, 0);
  _exit(0);
}

absl::StatusOr<CompileVerdict> CompileWithTimeLimit(const std::vector<PendingSyscall>& pending) {
  if (!AnyConditions(pending)) return CompileInProcess(pending);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("cannot check the policy: pipe2: ", strerror(errno)));
  }
  const pid_t child = fork();
  if (child < 0) {
    const int error = errno;
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(absl::StrCat("cannot check the policy: fork: ", strerror(error)));
  }
  if (child == 0) {
    close(fds[0]);
    CompileInChild(pending, fds[1]);
  }
  close(fds[1]);
  size_t total_rules = 0;
  for (const PendingSyscall& p : pending) total_rules += p.rules.size();
  CompileVerdict verdict;
  CompileProgress last{kExported - 1, 0};
  for (;;) {
    // Exporting the whole filter may take longer than one syscall's rules.
    const int limit_ms = kCompileLimitMs + (last.index == kExporting ? static_cast<int>(total_rules) : 0);
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = poll(&pfd, 1, limit_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      verdict.kind = CompileVerdict::kHangs;
      verdict.in_export = last.index < 0;
      verdict.index = last.index >= 0 ? static_cast<size_t>(last.index) : pending.size() - 1;
      break;
    }
    CompileProgress progress;
    if (ready < 0 || read(fds[0], &progress, sizeof(progress)) != sizeof(progress)) {
      // The child died without finishing: libseccomp crashed (or was killed).
      verdict.kind = CompileVerdict::kCrashed;
      verdict.in_export = last.index < 0;
      verdict.index = last.index >= 0 ? static_cast<size_t>(last.index) : pending.size() - 1;
      break;
    }
    last = progress;
    if (progress.index >= 0 && progress.error != 0) {
      verdict.kind = CompileVerdict::kRefused;
      verdict.index = static_cast<size_t>(progress.index);
      verdict.error = progress.error;
      break;
    }
    if (progress.index == kExported) break;
  }
  close(fds[0]);
  if (verdict.kind != CompileVerdict::kCrashed) SignalProcess(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  if (verdict.kind == CompileVerdict::kCrashed) {
    verdict.error = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  return verdict;
}
}  // namespace

PendingSyscall::PendingSyscall(std::string name, std::vector<SyscallRule> rules,
                               absl::string_view file, const LogicalLine& line, size_t pos)
    : name(std::move(name)), rules(std::move(rules)), file(file), line(line), pos(pos) {
  // The segments view the file's contents: keep copies and point the views
  // at them in Error().
  for (const Segment& segment : line.segments) physical.emplace_back(segment.physical);
}

absl::Status PendingSyscall::Error(absl::string_view what) const {
  LogicalLine owned = line;
  for (size_t i = 0; i < owned.segments.size(); ++i) owned.segments[i].physical = physical[i];
  return ErrorAt(file, owned, pos, what);
}

absl::Status CheckCompiles(const std::vector<PendingSyscall>& pending) {
  if (pending.empty()) return absl::OkStatus();
  auto verdict = CompileWithTimeLimit(pending);
  if (!verdict.ok()) return verdict.status();
  const PendingSyscall& culprit = pending[verdict->index];
  const std::string version = LibseccompVersion();
  if (verdict->in_export) {
    // Not seen so far (the known hang is in adding a rule): no one line
    // to blame, so the last rule is pointed at and the message says so.
    return culprit.Error(absl::StrCat(
        "found rules that libseccomp ", version, " accepted one by one but cannot turn into "
        "a filter together (it ", verdict->kind == CompileVerdict::kHangs ? "never returns" : "crashes",
        "; this is the last syscall with rules), expected fewer or simpler conditional rules"));
  }
  switch (verdict->kind) {
    case CompileVerdict::kCompiled:
      return absl::OkStatus();
    case CompileVerdict::kRefused:
      return culprit.Error(absl::StrCat("found a rule for '", culprit.name,
                                        "' that libseccomp rejects (", strerror(verdict->error),
                                        "), expected one it accepts"));
    case CompileVerdict::kHangs:
      return culprit.Error(absl::StrCat(
          "found conditions for '", culprit.name, "' that libseccomp ", version,
          " cannot compile (it never returns), expected a simpler expression (e.g. the "
          "shared comparison factored out, or fewer 64-bit constants)"));
    case CompileVerdict::kCrashed:
      return culprit.Error(absl::StrCat("found conditions for '", culprit.name,
                                        "' on which libseccomp ", version, " crashes (",
                                        strsignal(verdict->error),
                                        "), expected a simpler expression"));
  }
  return absl::OkStatus();
}

}  // namespace policy
}  // namespace dpsupervise
