#include "supervisor/cli.h"

#include <sys/types.h>

#include <cmath>
#include <map>
#include <tuple>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"

ABSL_FLAG(std::string, policy, "",
          "policy FILE: what strict threads may still do, and the action per violation kind "
          "(-P; repeatable, later files override earlier directives)");
ABSL_FLAG(std::string, on_violation, "",
          "ACTION for violations the policy gives no action: kill (default), signal SIG, stop, "
          "gdb, log, errno E");
ABSL_FLAG(std::string, format, "text", "report format: text or json (JSON lines)");
ABSL_FLAG(std::string, output, "", "write reports to FILE instead of standard error (-o)");
ABSL_FLAG(std::string, strict, "prctl",
          "prctl: threads become strict with PR_SET_DATAPLANE; exec: the whole program is strict "
          "from its first instruction after exec");
ABSL_FLAG(std::string, preflight, "",
          "checks at strict entry: off, warn (default) or enforce (a failed check refuses entry)");
ABSL_FLAG(bool, summary, false, "print the end-of-run summary of every strict thread");
ABSL_FLAG(std::string, strict_thread, "",
          "make threads whose name matches GLOB strict, from outside (repeatable)");
ABSL_FLAG(std::string, strict_after, "0s",
          "with --strict-thread: how long the name must have matched first (e.g. 2s, 500ms)");
ABSL_FLAG(std::string, strict_for, "0s",
          "with --strict-thread: leave strict mode after this long (0s: stay strict)");
ABSL_FLAG(std::string, pid, "",
          "attach to the running process PID instead of launching one (-p); SIGINT, SIGTERM "
          "or SIGHUP detach and leave it running as before");
ABSL_FLAG(std::string, enter_at, "",
          "make the first thread that executes LOCATION strict there: SYMBOL, LIB:SYMBOL or "
          "0xADDR (repeatable; a software breakpoint)");
ABSL_FLAG(bool, enter_at_every, false, "with --enter-at: every thread that gets there, not only the first");
ABSL_FLAG(std::string, leave_at, "",
          "a strict thread that executes LOCATION leaves strict mode there (repeatable)");
ABSL_FLAG(std::string, kill_after, "10s",
          "after a first SIGINT or SIGTERM (forwarded to the program), exit at the latest this "
          "long later, killing the program (default 10s; 500ms or plain seconds work too); a "
          "second such signal exits at once");
ABSL_FLAG(bool, check_policy, false,
          "validate the -P files, print the compiled rules and the BPF size, and exit");
ABSL_FLAG(bool, help, false, "print this help and exit");
ABSL_FLAG(bool, version, false, "print the version and exit");

namespace dpsupervise {
namespace {

// Our flags, in --help order, with their short aliases.
struct FlagSpec {
  const char* name;
  const char* short_name;  // nullptr: none
  const char* value_name;  // nullptr: boolean
};
constexpr FlagSpec kFlags[] = {
    {"policy", "P", "FILE"},
    {"on_violation", nullptr, "ACTION"},
    {"format", nullptr, "FORMAT"},
    {"output", "o", "FILE"},
    {"strict", nullptr, "MODE"},
    {"preflight", nullptr, "MODE"},
    {"summary", nullptr, nullptr},
    {"check_policy", nullptr, nullptr},
    {"strict_thread", nullptr, "GLOB"},
    {"strict_after", nullptr, "DURATION"},
    {"strict_for", nullptr, "DURATION"},
    {"pid", "p", "PID"},
    {"enter_at", nullptr, "LOCATION"},
    {"enter_at_every", nullptr, nullptr},
    {"leave_at", nullptr, "LOCATION"},
    {"kill_after", nullptr, "DURATION"},
    {"help", "h", nullptr},
    {"version", nullptr, nullptr},
};


std::string WrittenName(const FlagSpec& spec) {
  std::string name(spec.name);
  for (char& c : name) {
    if (c == '_') c = '-';
  }
  return name;
}

const FlagSpec* FindSpec(absl::string_view written, bool long_form) {
  for (const FlagSpec& spec : kFlags) {
    if (long_form && written == WrittenName(spec)) return &spec;
    if (!long_form && spec.short_name != nullptr && written == spec.short_name) return &spec;
  }
  return nullptr;
}

absl::Status CheckOneOf(absl::string_view flag, absl::string_view value,
                        std::initializer_list<absl::string_view> allowed) {
  for (absl::string_view a : allowed) {
    if (value == a) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("invalid value '", absl::CHexEscape(value),
                                                 "' for --", flag,
                                                 ": expected ", absl::StrJoin(allowed, ", ")));
}

absl::Status Usage(absl::string_view message) {
  return absl::InvalidArgumentError(std::string(message));
}

// Sets one flag from its text value, with Abseil's own parsing and errors.
absl::Status SetFlag(const FlagSpec& spec, absl::string_view value) {
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(spec.name);
  if (flag == nullptr) return absl::InternalError(absl::StrCat("flag --", spec.name, " missing"));
  std::string error;
  if (!flag->ParseFrom(value, &error)) {
    return Usage(absl::StrCat("invalid value '", absl::CHexEscape(value), "' for --",
                              WrittenName(spec), ": ", absl::CHexEscape(error)));
  }
  return absl::OkStatus();
}

// The flags are process-wide: each parse starts from their defaults, so a
// second call (tests, or a future caller) sees nothing of the first.
absl::Status ResetFlagsToDefaults() {
  for (const FlagSpec& spec : kFlags) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(spec.name);
    if (flag == nullptr) return absl::InternalError(absl::StrCat("flag --", spec.name, " missing"));
    std::string error;
    if (!flag->ParseFrom(flag->DefaultValue(), &error)) {
      return absl::InternalError(absl::StrCat("cannot reset --", spec.name, ": ", error));
    }
  }
  return absl::OkStatus();
}

// --kill-after: a duration ("10s", "500ms") or a plain number of seconds,
// as timeout(1) takes it; it must be positive.
absl::Status ParseKillAfter(absl::string_view text, double* seconds) {
  absl::Duration duration;
  double plain = 0;
  if (absl::ParseDuration(text, &duration)) {
    plain = absl::ToDoubleSeconds(duration);
  } else if (!absl::SimpleAtod(text, &plain)) {
    plain = -1;
  }
  if (!(plain > 0) || !std::isfinite(plain)) {
    return Usage(absl::StrCat("invalid value '", absl::CHexEscape(text),
                              "' for --kill-after: expected a positive duration such as 10s, "
                              "500ms or 2 (seconds)"));
  }
  *seconds = plain;
  return absl::OkStatus();
}

// The kernel's PID_MAX_LIMIT on 64-bit: no process id is larger.
constexpr long long kMaxPid = 4 * 1024 * 1024;

// A -p value: decimal digits only, 1 to kMaxPid (0, negative numbers, signs,
// blanks and anything out of range are misuse, not "no -p").
absl::StatusOr<pid_t> ParsePid(absl::string_view text) {
  long long pid = 0;
  const bool digits =
      !text.empty() && text.find_first_not_of("0123456789") == absl::string_view::npos;
  if (!digits || !absl::SimpleAtoi(text, &pid) || pid < 1 || pid > kMaxPid) {
    return Usage(absl::StrCat("invalid value '", absl::CHexEscape(text),
                              "' for --pid: expected a process id from 1 to ", kMaxPid));
  }
  return static_cast<pid_t>(pid);
}

}  // namespace

absl::StatusOr<Options> ParseCommandLine(const std::vector<std::string>& argv) {
  absl::Status reset = ResetFlagsToDefaults();
  if (!reset.ok()) return reset;
  std::vector<std::string> policies;
  std::vector<std::string> strict_threads;
  std::vector<std::string> enter_at, leave_at;
  size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;  // PROGRAM without "--"
    absl::string_view body = absl::StripPrefix(absl::StripPrefix(arg, "-"), "-");
    const bool long_form = absl::StartsWith(arg, "--");
    absl::string_view name = body.substr(0, body.find('='));
    const bool has_value = body.find('=') != absl::string_view::npos;
    absl::string_view value = has_value ? body.substr(body.find('=') + 1) : "";
    const FlagSpec* spec = FindSpec(name, long_form);
    if (spec == nullptr) {
      return Usage(absl::StrCat("unknown option '", absl::CHexEscape(arg), "' (see --help)"));
    }
    if (spec->value_name == nullptr) {
      absl::Status set = SetFlag(*spec, has_value ? value : "true");
      if (!set.ok()) return set;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argv.size()) {
        return Usage(absl::StrCat("option '", arg, "' needs a value (", spec->value_name, ")"));
      }
      value = argv[++i];
    }
    if (std::string(spec->name) == "policy") {
      if (value.empty()) return Usage("option -P needs a file name");
      policies.emplace_back(value);
      continue;
    }
    if (std::string(spec->name) == "enter_at" || std::string(spec->name) == "leave_at") {
      if (value.empty()) return Usage(absl::StrCat("option --", WrittenName(*spec), " needs a location"));
      (std::string(spec->name) == "enter_at" ? enter_at : leave_at).emplace_back(value);
      continue;
    }
    if (std::string(spec->name) == "strict_thread") {
      if (value.empty()) return Usage("option --strict-thread needs a pattern");
      strict_threads.emplace_back(value);
      continue;
    }
    if (value.empty() && spec->value_name != nullptr) {
      return Usage(absl::StrCat("option --", WrittenName(*spec), " needs a value (",
                                spec->value_name, ")"));
    }
    absl::Status set = SetFlag(*spec, value);
    if (!set.ok()) return set;
  }

  Options options;
  options.help = absl::GetFlag(FLAGS_help);
  options.version = absl::GetFlag(FLAGS_version);
  options.output = absl::GetFlag(FLAGS_output);
  options.policies = policies;
  options.on_violation = absl::GetFlag(FLAGS_on_violation);
  options.format = absl::GetFlag(FLAGS_format);
  options.strict = absl::GetFlag(FLAGS_strict);
  options.preflight = absl::GetFlag(FLAGS_preflight);
  options.summary = absl::GetFlag(FLAGS_summary);
  options.check_policy = absl::GetFlag(FLAGS_check_policy);
  options.strict_threads = strict_threads;
  const std::string pid_text = absl::GetFlag(FLAGS_pid);
  if (!pid_text.empty()) {
    auto pid = ParsePid(pid_text);
    if (!pid.ok()) return pid.status();
    options.attach_pid = *pid;
  }
  options.enter_at = enter_at;
  options.leave_at = leave_at;
  options.enter_at_every = absl::GetFlag(FLAGS_enter_at_every);
  if (options.enter_at_every && options.enter_at.empty()) {
    return Usage("--enter-at-every needs --enter-at");
  }
  for (auto [flag, text, out] :
       {std::make_tuple("strict-after", absl::GetFlag(FLAGS_strict_after),
                        &options.strict_after_seconds),
        std::make_tuple("strict-for", absl::GetFlag(FLAGS_strict_for),
                        &options.strict_for_seconds)}) {
    absl::Duration duration;
    if (!absl::ParseDuration(text, &duration) || duration < absl::ZeroDuration()) {
      return Usage(absl::StrCat("invalid value '", absl::CHexEscape(text), "' for --", flag,
                                ": expected a duration such as 2s or 500ms"));
    }
    *out = absl::ToDoubleSeconds(duration);
  }
  options.program.assign(argv.begin() + std::min(i, argv.size()), argv.end());
  if (options.help || options.version) return options;
  absl::Status valid = CheckOneOf("format", options.format, {"text", "json"});
  if (valid.ok()) valid = CheckOneOf("strict", options.strict, {"prctl", "exec"});
  if (valid.ok() && !options.preflight.empty()) {
    valid = CheckOneOf("preflight", options.preflight, {"off", "warn", "enforce"});
  }
  if (valid.ok()) valid = ParseKillAfter(absl::GetFlag(FLAGS_kill_after), &options.kill_after_seconds);
  if (!valid.ok()) return valid;
  if (options.check_policy) {
    if (options.policies.empty()) return Usage("--check-policy needs at least one -P FILE");
    if (!options.program.empty()) return Usage("--check-policy takes no program");
    return options;
  }
  if (options.attach_pid != 0) {
    if (!options.program.empty()) return Usage("-p PID takes no program");
    if (options.strict == "exec") return Usage("--strict=exec cannot apply to -p PID");
    if (options.strict_threads.empty() && options.enter_at.empty()) {
      return Usage(
          "-p PID needs --strict-thread or --enter-at: an attached program cannot call the prctl");
    }
    return options;
  }
  if ((options.strict_after_seconds > 0 || options.strict_for_seconds > 0) &&
      options.strict_threads.empty()) {
    return Usage("--strict-after and --strict-for need --strict-thread");
  }
  if (options.program.empty()) return Usage("no program given: dpsupervise [options] -- PROGRAM [ARGS]");
  return options;
}

std::string UsageText() {
  std::string text =
      "Usage: dpsupervise [options] -- PROGRAM [ARGS...]\n"
      "       dpsupervise [options] --strict-thread=GLOB -p PID\n"
      "\n"
      "Runs PROGRAM under a ptrace + seccomp supervisor that enforces dataplane\n"
      "strict mode: a thread that calls prctl(PR_SET_DATAPLANE, PR_DATAPLANE_STRICT)\n"
      "may no longer enter the kernel; each violation is reported and acted on.\n"
      "\n"
      "Options:\n";
  for (const FlagSpec& spec : kFlags) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(spec.name);
    std::string left = spec.short_name
                           ? absl::StrCat("  -", spec.short_name, ", --", WrittenName(spec))
                           : absl::StrCat("      --", WrittenName(spec));
    if (spec.value_name != nullptr) absl::StrAppend(&left, "=", spec.value_name);
    left.resize(std::max<size_t>(left.size() + 2, 32), ' ');
    absl::StrAppend(&text, left, flag ? flag->Help() : "", "\n");
  }
  text +=
      "\n"
      "Exit status: the program's own, or 128+N when it was killed by signal N;\n"
      "2 usage error, 125 supervisor failure or -p PID cannot be attached to,\n"
      "126 program not executable, 127 program (or -p process) not found.\n";
  return text;
}

std::string VersionText() { return "dpsupervise 0.1.0\n"; }

}  // namespace dpsupervise
