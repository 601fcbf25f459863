#include "supervisor/policy/policy_compile_check.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>

#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "supervisor/os/send_signal.h"

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
  CompiledFilter filter;  // kCompiled
};

// What the child writes: the syscall it starts on, or a phase, and an errno.
// After kExported come the results (SendResult): the program, then the
// pseudo-code when asked for.
struct CompileProgress {
  int32_t index;
  int32_t error;
};
constexpr int32_t kExporting = -1;
constexpr int32_t kExported = -2;

// Gives one syscall's rules to libseccomp: 0, or its negative errno.
int AddRules(StrictFilterBuilder& builder, const PendingSyscall& syscall) {
  for (const SyscallRule& rule : syscall.rules) {
    const int rc = builder.AddRule(rule);
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

CompiledFilter ExportFilter(StrictFilterBuilder& builder, FilterOutput output) {
  CompiledFilter filter;
  filter.program = builder.Export();
  if (output == FilterOutput::kProgramAndPseudoCode) filter.pseudo_code = builder.Describe();
  return filter;
}

// Rules without conditions never make libseccomp hang: no child needed.
absl::StatusOr<CompileVerdict> CompileInProcess(const std::vector<PendingSyscall>& pending,
                                                FilterOutput output) {
  auto builder = StrictFilterBuilder::Create();
  if (!builder.ok()) return builder.status();
  for (size_t i = 0; i < pending.size(); ++i) {
    const int rc = AddRules(*builder, pending[i]);
    if (rc < 0) {
      CompileVerdict refused;
      refused.kind = CompileVerdict::kRefused;
      refused.index = i;
      refused.error = -rc;
      return refused;
    }
  }
  CompileVerdict verdict;
  verdict.filter = ExportFilter(*builder, output);
  return verdict;
}

bool WriteAll(int fd, const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = write(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool ReadAll(int fd, void* data, size_t size) {
  char* bytes = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = read(fd, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// One result on the pipe: its status code and the length of what follows,
// then the bytes (the value when OK, else the error message).
struct ResultHeader {
  int32_t code;
  uint32_t size;
};

bool SendResult(int out, const absl::Status& status, absl::string_view value) {
  const absl::string_view bytes = status.ok() ? value : status.message();
  const ResultHeader header{static_cast<int32_t>(status.code()),
                            static_cast<uint32_t>(bytes.size())};
  return WriteAll(out, &header, sizeof(header)) && WriteAll(out, bytes.data(), bytes.size());
}

absl::string_view ProgramBytes(const BpfProgram& program) {
  return absl::string_view(reinterpret_cast<const char*>(program.instructions.data()),
                           program.instructions.size() * sizeof(sock_filter));
}

// The bytes of one result, or its error; nullopt when the child did not
// hand it over whole.
std::optional<absl::StatusOr<std::string>> ReceiveResult(int in) {
  ResultHeader header;
  if (!ReadAll(in, &header, sizeof(header))) return std::nullopt;
  std::string bytes(header.size, '\0');
  if (!ReadAll(in, bytes.data(), bytes.size())) return std::nullopt;
  const auto code = static_cast<absl::StatusCode>(header.code);
  if (code != absl::StatusCode::kOk) return absl::StatusOr<std::string>(absl::Status(code, bytes));
  return absl::StatusOr<std::string>(std::move(bytes));
}

// The results the child sends after kExported.
absl::StatusOr<CompiledFilter> ReceiveFilter(int in, FilterOutput output) {
  const absl::Status cut_short = absl::InternalError(
      "cannot check the policy: the libseccomp child exited before handing back the filter");
  CompiledFilter filter;
  auto program = ReceiveResult(in);
  if (!program) return cut_short;
  if (!program->ok()) {
    filter.program = program->status();
  } else if ((*program)->size() % sizeof(sock_filter) != 0) {
    return absl::InternalError("cannot check the policy: the libseccomp child sent a malformed "
                               "BPF program");
  } else {
    BpfProgram bpf;
    bpf.instructions.resize((*program)->size() / sizeof(sock_filter));
    memcpy(bpf.instructions.data(), (*program)->data(), (*program)->size());
    filter.program = std::move(bpf);
  }
  if (output == FilterOutput::kProgramAndPseudoCode) {
    auto pseudo_code = ReceiveResult(in);
    if (!pseudo_code) return cut_short;
    filter.pseudo_code = *std::move(pseudo_code);
  }
  return filter;
}

[[noreturn]] void CompileInChild(const std::vector<PendingSyscall>& pending, FilterOutput output,
                                 int out) {
  auto say = [out](int32_t index, int32_t error) {
    const CompileProgress progress{index, error};
    if (!WriteAll(out, &progress, sizeof(progress))) _exit(1);
  };
  auto builder = StrictFilterBuilder::Create();
  if (!builder.ok()) _exit(1);  // seen as a crash before the first syscall
  for (size_t i = 0; i < pending.size(); ++i) {
    say(static_cast<int32_t>(i), 0);
    const int rc = AddRules(*builder, pending[i]);
    if (rc < 0) {
      say(static_cast<int32_t>(i), -rc);
      _exit(0);
    }
  }
  say(kExporting, 0);
  // An export that fails (a filter longer than the kernel accepts) is handed
  // back as it is: BuildStrictFilter's error, for when the filter is used.
  const CompiledFilter filter = ExportFilter(*builder, output);
  say(kExported, 0);
  const bool sent =
      SendResult(out, filter.program.status(),
                 filter.program.ok() ? ProgramBytes(*filter.program) : absl::string_view()) &&
      (output != FilterOutput::kProgramAndPseudoCode ||
       SendResult(out, filter.pseudo_code.status(),
                  filter.pseudo_code.ok() ? *filter.pseudo_code : absl::string_view()));
  _exit(sent ? 0 : 1);
}

// Waits for the child's progress until it has exported the filter, or
// refuses a rule, or stalls, or dies.
CompileVerdict WatchChild(int in, const std::vector<PendingSyscall>& pending) {
  size_t total_rules = 0;
  for (const PendingSyscall& p : pending) total_rules += p.rules.size();
  CompileVerdict verdict;
  CompileProgress last{kExported - 1, 0};
  for (;;) {
    // Exporting the whole filter may take longer than one syscall's rules.
    const int limit_ms =
        kCompileLimitMs + (last.index == kExporting ? static_cast<int>(total_rules) : 0);
    pollfd pfd{in, POLLIN, 0};
    const int ready = poll(&pfd, 1, limit_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      verdict.kind = CompileVerdict::kHangs;
      verdict.in_export = last.index < 0;
      verdict.index = last.index >= 0 ? static_cast<size_t>(last.index) : pending.size() - 1;
      return verdict;
    }
    CompileProgress progress;
    if (ready < 0 || read(in, &progress, sizeof(progress)) != sizeof(progress)) {
      // The child died without finishing: libseccomp crashed (or was killed).
      verdict.kind = CompileVerdict::kCrashed;
      verdict.in_export = last.index < 0;
      verdict.index = last.index >= 0 ? static_cast<size_t>(last.index) : pending.size() - 1;
      return verdict;
    }
    last = progress;
    if (progress.index >= 0 && progress.error != 0) {
      verdict.kind = CompileVerdict::kRefused;
      verdict.index = static_cast<size_t>(progress.index);
      verdict.error = progress.error;
      return verdict;
    }
    if (progress.index == kExported) return verdict;
  }
}

absl::StatusOr<CompileVerdict> CompileWithTimeLimit(const std::vector<PendingSyscall>& pending,
                                                    FilterOutput output) {
  if (!AnyConditions(pending)) return CompileInProcess(pending, output);
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
    CompileInChild(pending, output, fds[1]);
  }
  close(fds[1]);
  CompileVerdict verdict = WatchChild(fds[0], pending);
  absl::StatusOr<CompiledFilter> filter = CompiledFilter{};
  if (verdict.kind == CompileVerdict::kCompiled) {
    filter = ReceiveFilter(fds[0], output);
    if (filter.ok()) verdict.filter = *std::move(filter);
  }
  close(fds[0]);
  if (verdict.kind != CompileVerdict::kCrashed) SignalProcess(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  if (verdict.kind == CompileVerdict::kCrashed) {
    verdict.error = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  if (!filter.ok()) return filter.status();
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

absl::StatusOr<CompiledFilter> CompileChecked(const std::vector<PendingSyscall>& pending,
                                              FilterOutput output) {
  auto verdict = CompileWithTimeLimit(pending, output);
  if (!verdict.ok()) return verdict.status();
  if (verdict->kind == CompileVerdict::kCompiled) return std::move(verdict->filter);
  const PendingSyscall& culprit = pending[verdict->index];
  const std::string version = LibseccompVersion();
  if (verdict->in_export) {
    // Not seen so far (the known hang is in adding a rule): no one line
    // to blame, so the last rule is pointed at and the message says so.
    return culprit.Error(absl::StrCat(
        "found rules that libseccomp ", version, " accepted one by one but cannot turn into "
        "a filter together (it ",
        verdict->kind == CompileVerdict::kHangs ? "never returns" : "crashes",
        "; this is the last syscall with rules), expected fewer or simpler conditional rules"));
  }
  switch (verdict->kind) {
    case CompileVerdict::kCompiled:
      break;
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
  return std::move(verdict->filter);
}

}  // namespace policy
}  // namespace dpsupervise
