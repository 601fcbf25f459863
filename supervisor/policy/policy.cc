// The driver of the policy compiler: reads the files (and their @include
// files), runs each logical line through the stages in order and assembles
// the Policy:
//
//   policy_lexer.h         text -> logical lines -> tokens, error messages
//   policy_parser.h        one line -> one statement (policy_constants.h)
//   policy_lowering.h      a syscall's filter -> libseccomp rules
//                          (comparisons merged by policy_merge.h)
//   policy_compile_check.h every rule through libseccomp, guarded
//
// What depends on more than one line is checked here: duplicate syscalls,
// include cycles and depth, the policy-wide rule limit, and strict mode's
// always-allowed syscalls.
#include "supervisor/policy/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "supervisor/policy/policy_compile_check.h"
#include "supervisor/policy/policy_lexer.h"
#include "supervisor/policy/policy_lowering.h"
#include "supervisor/policy/policy_parser.h"

namespace dpsupervise {
namespace {

using policy::LineLocation;
using policy::LogicalLine;

// An include chain deeper than this is surely a mistake (cycles are caught
// separately, with the chain in the message).
constexpr size_t kMaxIncludeDepth = 16;
// libseccomp's compile time grows faster than linearly with the number of
// rules (measured: 1000 rules 0.16 s, 2000 0.8 s, 3000 2.6 s, 4000 6.7 s and
// over BPF_MAXINSNS anyway). Past this a policy is refused at once.
constexpr size_t kMaxRules = 1024;

bool AlwaysAllowedInStrictMode(int nr) {
  return nr == SCMP_SYS(prctl) || nr == SCMP_SYS(exit) || nr == SCMP_SYS(exit_group);
}

// ---------------------------------------------------------------------------
// Files.

// Policies are small text files; anything else (a FIFO, /dev/zero, a
// gigabyte) is refused rather than read forever.
constexpr off_t kMaxPolicyFileBytes = 4 << 20;

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  if (path.find('\0') != std::string::npos) {
    return absl::NotFoundError("the path contains a NUL byte");
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return absl::NotFoundError(strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::NotFoundError("not a regular file");
  }
  if (st.st_size > kMaxPolicyFileBytes) {
    close(fd);
    return absl::NotFoundError(absl::StrCat("larger than ", kMaxPolicyFileBytes, " bytes"));
  }
  std::string contents;
  char buffer[8192];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      return absl::NotFoundError(strerror(saved));
    }
    if (n == 0) break;
    contents.append(buffer, n);
  }
  close(fd);
  return contents;
}

// Lexically normalized: "a/./b/../c" is "a/c". Symbolic links are left
// alone: the path is for people to read.
std::string NormalizePath(absl::string_view path) {
  const bool absolute = absl::StartsWith(path, "/");
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == ".." && !parts.empty() && parts.back() != "..") {
      parts.pop_back();
    } else if (!(part == ".." && absolute && parts.empty())) {
      parts.push_back(part);
    }
  }
  std::string joined = absl::StrJoin(parts, "/");
  if (absolute) return absl::StrCat("/", joined);
  return joined.empty() ? "." : joined;
}

std::string ResolveInclude(const std::string& including, absl::string_view path) {
  if (absl::StartsWith(path, "/")) return NormalizePath(path);
  const size_t slash = including.rfind('/');
  if (slash == std::string::npos) return NormalizePath(path);
  return NormalizePath(absl::StrCat(including.substr(0, slash + 1), path));
}

// Identity of a file for cycles and read-once: the real path when the file
// exists, else the absolute lexical one.
std::string FileKey(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) != nullptr) return resolved;
  if (absl::StartsWith(path, "/")) return NormalizePath(path);
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return NormalizePath(path);
  return NormalizePath(absl::StrCat(cwd, "/", path));
}

std::optional<PreflightMode> PreflightModeFromName(absl::string_view name) {
  for (PreflightMode mode : {PreflightMode::kOff, PreflightMode::kWarn, PreflightMode::kEnforce}) {
    if (name == PreflightModeName(mode)) return mode;
  }
  return std::nullopt;
}

class PolicyBuilder {
 public:
  absl::Status LoadTopLevel(const std::string& path) {
    auto contents = ReadWholeFile(path);
    if (!contents.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(policy::ShownText(path),
                                                     ": error: cannot read the policy file: ",
                                                     contents.status().message()));
    }
    return ParseFile(*contents, path, FileKey(path));
  }

  absl::Status ParseFile(absl::string_view contents, const std::string& display,
                         const std::string& key) {
    if (read_.count(key) != 0) return absl::OkStatus();  // read once
    read_.insert(key);
    policy_.files.push_back(display);
    stack_.push_back({key, display});
    for (const LogicalLine& line : policy::SplitLogicalLines(contents)) {
      absl::Status status = ParseLine(display, line);
      if (!status.ok()) return status;
    }
    stack_.pop_back();
    return absl::OkStatus();
  }

  // After the whole policy is read: one child for all of it (see
  // policy_compile_check.h), which hands back the strict filter.
  absl::Status CompileCheck(PolicyLoadOptions options) {
    auto compiled = policy::CompileChecked(
        pending_, options.describe_filter ? policy::FilterOutput::kProgramAndPseudoCode
                                          : policy::FilterOutput::kProgram);
    if (!compiled.ok()) return compiled.status();
    policy_.strict_filter = std::move(compiled->program);
    policy_.strict_filter_pseudo_code = std::move(compiled->pseudo_code);
    return absl::OkStatus();
  }

  Policy Finish() && { return std::move(policy_); }

 private:
  struct OpenFile {
    std::string key;
    std::string display;
  };

  absl::Status ParseLine(const std::string& file, const LogicalLine& line) {
    auto statement = policy::ParseStatement(file, line);
    if (!statement.ok()) return statement.status();
    const LineLocation at{file, &line};
    if (auto* rule = std::get_if<policy::RuleStatement>(&*statement)) return AddRule(at, *rule);
    if (auto* include = std::get_if<policy::IncludeStatement>(&*statement)) {
      return Include(at, *include);
    }
    if (auto* action = std::get_if<policy::ActionStatement>(&*statement)) {
      if (action->kind) {
        policy_.actions[*action->kind] = action->action;
      } else {
        policy_.default_action = action->action;
      }
    }
    if (auto* preflight = std::get_if<policy::PreflightStatement>(&*statement)) {
      policy_.preflight = PreflightModeFromName(preflight->mode);
    }
    return absl::OkStatus();
  }

  absl::Status Include(const LineLocation& at, const policy::IncludeStatement& include) {
    const std::string quoted = absl::StrCat("found '", include.path, "', expected ");
    const std::string resolved = ResolveInclude(stack_.back().display, include.path);
    const std::string key = FileKey(resolved);
    for (size_t i = 0; i < stack_.size(); ++i) {
      if (stack_[i].key != key) continue;
      std::vector<std::string> chain;
      for (size_t j = i; j < stack_.size(); ++j) chain.push_back(stack_[j].display);
      chain.push_back(resolved);
      return at.Error(include.pos, absl::StrCat(quoted, "a file that does not include itself "
                                                "(include cycle: ",
                                                absl::StrJoin(chain, " -> "), ")"));
    }
    if (stack_.size() >= kMaxIncludeDepth) {
      return at.Error(include.pos, absl::StrCat(quoted, "at most ", kMaxIncludeDepth,
                                                " nested @include levels"));
    }
    auto contents = ReadWholeFile(resolved);
    if (!contents.ok()) {
      return at.Error(include.pos, absl::StrCat(quoted, "a readable policy file (", resolved,
                                                ": ", contents.status().message(), ")"));
    }
    return ParseFile(*contents, resolved, key);
  }

  absl::Status AddRule(const LineLocation& at, const policy::RuleStatement& rule) {
    for (const policy::SyscallRef& ref : rule.syscalls) {
      absl::Status status = AddSyscall(at, ref, rule.filter, rule.source);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

  absl::Status AddSyscall(const LineLocation& at, const policy::SyscallRef& ref,
                          const policy::Filter& filter, const std::string& source) {
    const std::string where = absl::StrCat(at.file, ":", at.line->line_number());
    auto [first, inserted] = first_rule_.emplace(ref.nr, where);
    if (!inserted) {
      return at.Error(ref.pos, absl::StrCat("found '", ref.name,
                                            "' again, expected each syscall at most once "
                                            "(first rule at ",
                                            first->second, ")"));
    }
    if (AlwaysAllowedInStrictMode(ref.nr)) {
      if (filter.errno_value != 0) {
        return at.Error(filter.return_pos,
                        absl::StrCat("found 'return', expected '1' or an argument "
                                     "expression: ",
                                     ref.name, " is always allowed in strict mode"));
      }
      policy_.rule_sources.push_back(absl::StrCat(where, ": ", ref.name, ": ", source,
                                                  " (always allowed in strict mode)"));
      return absl::OkStatus();
    }
    auto rules = policy::LowerFilter(at, ref.nr, filter);
    if (!rules.ok()) return rules.status();
    if (policy_.rules.size() + rules->size() > kMaxRules) {
      return at.Error(ref.pos, absl::StrCat("found '", ref.name, "' adding ", rules->size(),
                                            " seccomp rules to the ", policy_.rules.size(),
                                            " before it, expected at most ", kMaxRules,
                                            " in the whole policy"));
    }
    policy_.rules.insert(policy_.rules.end(), rules->begin(), rules->end());
    pending_.emplace_back(ref.name, *std::move(rules), at.file, *at.line, ref.pos);
    policy_.rule_sources.push_back(absl::StrCat(where, ": ", ref.name, ": ", source));
    return absl::OkStatus();
  }

  Policy policy_;
  std::vector<OpenFile> stack_;
  std::set<std::string> read_;
  std::map<int, std::string> first_rule_;        // syscall number -> "file:line"
  std::vector<policy::PendingSyscall> pending_;  // every syscall with rules, in order
};

}  // namespace

const char* PreflightModeName(PreflightMode mode) {
  switch (mode) {
    case PreflightMode::kOff:
      return "off";
    case PreflightMode::kWarn:
      return "warn";
    case PreflightMode::kEnforce:
      return "enforce";
  }
  return "off";
}

absl::StatusOr<Policy> LoadPolicyFiles(const std::vector<std::string>& paths,
                                       PolicyLoadOptions options) {
  PolicyBuilder builder;
  for (const std::string& path : paths) {
    absl::Status status = builder.LoadTopLevel(path);
    if (!status.ok()) return status;
  }
  absl::Status compiled = builder.CompileCheck(options);
  if (!compiled.ok()) return compiled;
  return std::move(builder).Finish();
}

absl::StatusOr<Policy> ParsePolicy(absl::string_view text, const std::string& filename,
                                   PolicyLoadOptions options) {
  PolicyBuilder builder;
  absl::Status status = builder.ParseFile(text, filename, FileKey(filename));
  if (status.ok()) status = builder.CompileCheck(options);
  if (!status.ok()) return status;
  return std::move(builder).Finish();
}

}  // namespace dpsupervise
