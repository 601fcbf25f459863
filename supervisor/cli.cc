#include "supervisor/cli.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>
#include <vector>

#include "absl/flags/marshalling.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "supervisor/noise/preflight.h"
#include "supervisor/policy/edit_distance.h"

namespace dpsupervise {
namespace {

// The options as written: what the scan of argv collects before any value is
// converted. A value option not given is empty (the scan refuses an empty
// value), so "empty" means "not given" below.
struct GivenOptions {
  bool help = false;
  bool version = false;
  bool summary = false;
  bool check_policy = false;
  bool enter_at_every = false;
  bool quiet = false;
  std::vector<std::string> policies;
  std::vector<std::string> strict_threads;
  std::string strict_cpus;
  std::vector<std::string> enter_at;
  std::vector<std::string> leave_at;
  std::string on_violation;
  std::vector<std::string> actions;
  std::string format;
  std::string output;
  std::string strict;
  std::string preflight;
  std::string mechanism;
  std::string noise;
  std::string strict_after;
  std::string strict_for;
  std::string pid;
  std::string kill_after;
  std::string error_exitcode;
  std::string report_limit;
  std::string backtrace_depth;
  std::string registers;
  std::string log_fd;
};

// One option: its spellings, its --help line, and where the scan keeps it.
// Exactly one of `on`, `text` and `list` is set.
struct OptionSpec {
  const char* name;        // as written after "--"
  const char* short_name;  // as written after "-"; nullptr: none
  const char* value_name;  // in --help and messages; nullptr: a switch
  const char* help;
  bool GivenOptions::*on;                        // a switch: --name or --name=BOOL
  std::string GivenOptions::*text;               // a value: the last one given wins
  std::vector<std::string> GivenOptions::*list;  // a repeatable value, kept in order
  const char* empty_value_message;               // list: the misuse of an empty value
};

constexpr OptionSpec Switch(const char* name, const char* short_name, bool GivenOptions::*on,
                            const char* help) {
  return {name, short_name, nullptr, help, on, nullptr, nullptr, nullptr};
}

constexpr OptionSpec Value(const char* name, const char* short_name, const char* value_name,
                           std::string GivenOptions::*text, const char* help) {
  return {name, short_name, value_name, help, nullptr, text, nullptr, nullptr};
}

constexpr OptionSpec List(const char* name, const char* short_name, const char* value_name,
                          std::vector<std::string> GivenOptions::*list,
                          const char* empty_value_message, const char* help) {
  return {name, short_name, value_name, help, nullptr, nullptr, list, empty_value_message};
}

// Every option, in --help order.
constexpr OptionSpec kOptions[] = {
    List("policy", "P", "FILE", &GivenOptions::policies, "option -P needs a file name",
         "policy FILE: what strict threads may still do, and the action per violation kind "
         "(-P; repeatable, later files override earlier directives)"),
    Value("on-violation", nullptr, "ACTION", &GivenOptions::on_violation,
          "ACTION for violations the policy gives no action: kill (default: the violating "
          "process; log with -p), kill-all, signal SIG, stop, gdb, log, deliver, errno E"),
    List("action", nullptr, "KIND=ACTION", &GivenOptions::actions,
         "option --action needs KIND=ACTION",
         "ACTION for violations of KIND, over the policy's (repeatable; e.g. syscall=log, "
         "ipi=signal:SIGUSR1): syscall, page_fault, trap, signal, or an interruption kind "
         "(ipi, irq, timer, softirq, preemption, migration: traced with --noise, acted on only "
         "when named)"),
    Value("format", nullptr, "FORMAT", &GivenOptions::format,
          "report format: text, line (one line per violation) or json (JSON lines)"),
    Value("backtrace-depth", nullptr, "N", &GivenOptions::backtrace_depth,
          "at most N frames (1 or more) in each report's backtrace"),
    Value("registers", nullptr, "yes|no", &GivenOptions::registers,
          "the registers in text and line reports (default: yes in text, no in line)"),
    Value("output", "o", "FILE", &GivenOptions::output,
          "write reports to FILE instead of standard error (-o; appended to, after truncation)"),
    Value("log-fd", nullptr, "N", &GivenOptions::log_fd,
          "write reports to the inherited file descriptor N instead of standard error"),
    Value("report-limit", nullptr, "N[/INTERVAL]", &GivenOptions::report_limit,
          "of identical violations (thread, kind, syscall or pc), report the first N whole, "
          "then one line per INTERVAL saying how many more (default 5/1s; off: every one); "
          "all are acted on and counted"),
    Value("strict", nullptr, "MODE", &GivenOptions::strict,
          "prctl: threads become strict with PR_SET_DATAPLANE; exec: the whole program is strict "
          "from its first instruction after exec"),
    Value("mechanism", nullptr, "HOW", &GivenOptions::mechanism,
          "how threads are made strict: auto (default), seccomp (an injected filter) or "
          "dispatch (syscall user dispatch, Linux 6.4+: free after leaving)"),
    Value("preflight", nullptr, "MODE", &GivenOptions::preflight,
          "checks at strict entry: off, warn (default) or enforce (a failed check refuses entry)"),
    Switch("summary", nullptr, &GivenOptions::summary,
           "print the end-of-run summary of every strict thread"),
    Value("error-exitcode", nullptr, "N", &GivenOptions::error_exitcode,
          "exit with N (1 to 255) instead of the program's status when any violation "
          "happened, even when the kill action ended the program"),
    Switch("quiet", "q", &GivenOptions::quiet,
           "no end-of-run verdict line (\"N violations in T of S strict threads\") in text"),
    Value("noise", nullptr, "MODE", &GivenOptions::noise,
          "trace what interrupts strict threads (needs root or CAP_PERFMON): off, summary "
          "(time stolen by kind and cause; the default where tracing is allowed), events (also "
          "one record per interruption)"),
    Switch("check-policy", nullptr, &GivenOptions::check_policy,
           "validate the -P files, print the compiled rules and the BPF size, and exit"),
    List("strict-thread", nullptr, "GLOB", &GivenOptions::strict_threads,
         "option --strict-thread needs a pattern",
         "make threads whose name matches GLOB strict, from outside (repeatable)"),
    Value("strict-cpus", nullptr, "LIST", &GivenOptions::strict_cpus,
          "make threads pinned to a single CPU of LIST strict, from outside (e.g. 1-3,5, the "
          "syntax of DPDK's lcore lists)"),
    Value("strict-after", nullptr, "DURATION", &GivenOptions::strict_after,
          "with --strict-thread or --strict-cpus: how long the thread must have matched first "
          "(e.g. 2s, 500ms)"),
    Value("strict-for", nullptr, "DURATION", &GivenOptions::strict_for,
          "with --strict-thread or --strict-cpus: leave strict mode after this long (0s: stay "
          "strict)"),
    Value("pid", "p", "PID", &GivenOptions::pid,
          "attach to the running process PID instead of launching one (-p); SIGINT, SIGTERM "
          "or SIGHUP detach and leave it running as before"),
    List("enter-at", nullptr, "LOCATION", &GivenOptions::enter_at,
         "option --enter-at needs a location",
         "make the first thread that executes LOCATION strict there: SYMBOL, LIB:SYMBOL or "
         "0xADDR (repeatable; a software breakpoint)"),
    Switch("enter-at-every", nullptr, &GivenOptions::enter_at_every,
           "with --enter-at: every thread that gets there, not only the first"),
    List("leave-at", nullptr, "LOCATION", &GivenOptions::leave_at,
         "option --leave-at needs a location",
         "a strict thread that executes LOCATION leaves strict mode there (repeatable)"),
    Value("kill-after", nullptr, "DURATION", &GivenOptions::kill_after,
          "after a first SIGINT or SIGTERM (forwarded to the program), exit at the latest this "
          "long later, killing the program (default 10s; 500ms or plain seconds work too); a "
          "second such signal exits at once"),
    Switch("help", "h", &GivenOptions::help, "print this help and exit"),
    Switch("version", nullptr, &GivenOptions::version, "print the version and exit"),
};

absl::Status Usage(absl::string_view message) {
  return absl::InvalidArgumentError(std::string(message));
}

// `message` with its control characters escaped (\n, \x01): a misuse stays
// one line when it quotes a value that has them.
std::string OneLine(absl::string_view message) {
  std::string line;
  for (const char c : message) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      line += absl::CHexEscape(absl::string_view(&c, 1));
    } else {
      line += c;
    }
  }
  return line;
}

// The option spelt `written` ("format" of --format, "P" of -P); nullptr when
// there is none. Long names take no single dash, short ones no double dash.
const OptionSpec* FindOption(absl::string_view written, bool long_form) {
  for (const OptionSpec& spec : kOptions) {
    const char* name = long_form ? spec.name : spec.short_name;
    if (name != nullptr && written == name) return &spec;
  }
  return nullptr;
}

// --name alone is true; --name=VALUE takes Abseil's boolean spellings (true,
// false, yes, no, 1, 0, t, f, y, n, in any case).
absl::Status SetSwitch(const OptionSpec& spec, absl::string_view value, GivenOptions* given) {
  bool on = false;
  std::string error;
  if (!absl::ParseFlag(value, &on, &error)) {
    return Usage(absl::StrCat("invalid value '", absl::CHexEscape(value), "' for --", spec.name,
                              ": expected true or false"));
  }
  given->*spec.on = on;
  return absl::OkStatus();
}


// The misuse of an unknown option `arg`, with the long option it most
// likely meant ("--sumary": did you mean --summary?) when one is close.
absl::Status UnknownOption(const std::string& arg, absl::string_view name) {
  const OptionSpec* closest = nullptr;
  size_t best = 0;
  for (const OptionSpec& spec : kOptions) {
    const size_t distance = EditDistance(name, spec.name);
    if (closest == nullptr || distance < best) {
      closest = &spec;
      best = distance;
    }
  }
  // Two typos, or a third of a long name: more is another word.
  const size_t close_enough = std::max<size_t>(2, name.size() / 3);
  std::string message = absl::StrCat("unknown option '", absl::CHexEscape(arg), "'");
  if (closest != nullptr && name.size() > 1 && best <= close_enough) {
    absl::StrAppend(&message, " (did you mean --", closest->name, "?)");
  } else {
    message += " (see --help)";
  }
  return Usage(message);
}

// One argument that is an option, split getopt-style: "--name=value",
// "--name", "-x", "-x=value" and, for a short option that takes a value,
// "-xVALUE" ("-p1234", "-ofile").
struct WrittenOption {
  absl::string_view name;
  absl::string_view value;
  bool has_value = false;
  bool long_form = false;
};

WrittenOption SplitOption(absl::string_view arg) {
  WrittenOption written;
  written.long_form = absl::StartsWith(arg, "--");
  const absl::string_view body = arg.substr(written.long_form ? 2 : 1);
  size_t name_end = body.find('=');
  if (!written.long_form) {
    const OptionSpec* spec = FindOption(body.substr(0, 1), /*long_form=*/false);
    if (spec != nullptr && spec->on == nullptr && body.size() > 1 && body[1] != '=') {
      written.name = body.substr(0, 1);
      written.value = body.substr(1);
      written.has_value = true;
      return written;
    }
  }
  written.name = body.substr(0, name_end);
  if (name_end != absl::string_view::npos) {
    written.value = body.substr(name_end + 1);
    written.has_value = true;
  }
  return written;
}

// Reads argv[1..] up to "--" or the program into *given: every option's
// text, unconverted. Returns the index of the program's first argument
// (argv.size() when there is none).
absl::StatusOr<size_t> ScanOptions(const std::vector<std::string>& argv, GivenOptions* given) {
  size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--") return i + 1;
    if (arg.size() < 2 || arg[0] != '-') return i;  // PROGRAM without "--"
    const WrittenOption written = SplitOption(arg);
    const OptionSpec* spec = FindOption(written.name, written.long_form);
    if (spec == nullptr) return UnknownOption(arg, written.name);
    absl::string_view value = written.value;
    if (spec->on != nullptr) {
      absl::Status set = SetSwitch(*spec, written.has_value ? value : "true", given);
      if (!set.ok()) return set;
      continue;
    }
    if (!written.has_value) {
      if (i + 1 >= argv.size()) {
        return Usage(absl::StrCat("option '", arg, "' needs a value (", spec->value_name, ")"));
      }
      value = argv[++i];
    }
    if (value.empty()) {
      if (spec->list != nullptr) return Usage(spec->empty_value_message);
      return Usage(
          absl::StrCat("option --", spec->name, " needs a value (", spec->value_name, ")"));
    }
    if (spec->list != nullptr) {
      (given->*spec->list).emplace_back(value);
    } else {
      given->*spec->text = std::string(value);
    }
  }
  return i;
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

// The seconds of a duration in absl::ParseDuration's syntax ("2s", "500ms",
// "1h30m", "inf") or, with `plain_seconds_too`, of a plain number of seconds
// as timeout(1) takes it ("2", "0.25"); nullopt when `text` is neither.
std::optional<double> DurationSeconds(absl::string_view text, bool plain_seconds_too) {
  absl::Duration duration;
  if (absl::ParseDuration(text, &duration)) return absl::ToDoubleSeconds(duration);
  double seconds = 0;
  if (plain_seconds_too && absl::SimpleAtod(text, &seconds)) return seconds;
  return std::nullopt;
}

// --strict-after, --strict-for: a duration of zero or more.
absl::StatusOr<double> ParseTriggerDelay(absl::string_view option, absl::string_view text) {
  const std::optional<double> seconds = DurationSeconds(text, /*plain_seconds_too=*/false);
  if (!seconds || *seconds < 0) {
    return Usage(absl::StrCat("invalid value '", absl::CHexEscape(text), "' for --", option,
                              ": expected a duration such as 2s or 500ms"));
  }
  return *seconds;
}

// --kill-after: a positive, finite duration or number of seconds.
absl::StatusOr<double> ParseKillAfter(absl::string_view text) {
  const std::optional<double> seconds = DurationSeconds(text, /*plain_seconds_too=*/true);
  if (!seconds || !(*seconds > 0) || !std::isfinite(*seconds)) {
    return Usage(absl::StrCat("invalid value '", absl::CHexEscape(text),
                              "' for --kill-after: expected a positive duration such as 10s, "
                              "500ms or 2 (seconds)"));
  }
  return *seconds;
}

// The words an enum-like option takes, in the order its misuse lists them.
template <typename T>
struct Choice {
  const char* text;
  T value;
};

constexpr Choice<ReportFormat> kFormats[] = {
    {"text", ReportFormat::kText}, {"line", ReportFormat::kLine}, {"json", ReportFormat::kJson}};
constexpr Choice<bool> kYesNo[] = {{"yes", true}, {"no", false}};
constexpr Choice<StrictMode> kStrictModes[] = {{"prctl", StrictMode::kPrctl},
                                               {"exec", StrictMode::kExec}};
constexpr Choice<PreflightMode> kPreflightModes[] = {{"off", PreflightMode::kOff},
                                                     {"warn", PreflightMode::kWarn},
                                                     {"enforce", PreflightMode::kEnforce}};
constexpr Choice<NoiseMode> kNoiseModes[] = {{"off", NoiseMode::kOff},
                                             {"summary", NoiseMode::kSummary},
                                             {"events", NoiseMode::kEvents}};

template <typename T, size_t N>
absl::StatusOr<T> ParseChoice(absl::string_view option, absl::string_view text,
                              const Choice<T> (&choices)[N]) {
  std::vector<absl::string_view> words;
  for (const Choice<T>& choice : choices) {
    if (text == choice.text) return choice.value;
    words.push_back(choice.text);
  }
  return Usage(absl::StrCat("invalid value '", absl::CHexEscape(text), "' for --", option,
                            ": expected ", absl::StrJoin(words, ", ")));
}

// --strict-cpus: a kernel CPU list ("1-3,5"), not empty.
absl::StatusOr<std::set<int>> ParseStrictCpus(const std::string& text) {
  auto cpus = ParseCpuList(text);
  if (!cpus.ok() || cpus->empty() || absl::StripAsciiWhitespace(text) != text) {
    return Usage(absl::StrCat("invalid value '", OneLine(text),
                              "' for --strict-cpus: expected a CPU list such as 1-3,5"));
  }
  return *cpus;
}

// Converts the options --help and --version do not wait for: -p, the
// trigger delays, --enter-at-every without --enter-at.
absl::Status ConvertEarly(const GivenOptions& given, Options* options) {
  if (!given.pid.empty()) {
    auto pid = ParsePid(given.pid);
    if (!pid.ok()) return pid.status();
    options->attach_pid = *pid;
  }
  if (!given.strict_cpus.empty()) {
    auto cpus = ParseStrictCpus(given.strict_cpus);
    if (!cpus.ok()) return cpus.status();
    options->strict_cpus = *cpus;
  }
  if (given.enter_at_every && given.enter_at.empty()) {
    return Usage("--enter-at-every needs --enter-at");
  }
  for (auto [option, text, seconds] :
       {std::make_tuple("strict-after", &given.strict_after, &options->strict_after_seconds),
        std::make_tuple("strict-for", &given.strict_for, &options->strict_for_seconds)}) {
    if (text->empty()) continue;
    auto delay = ParseTriggerDelay(option, *text);
    if (!delay.ok()) return delay.status();
    *seconds = *delay;
  }
  return absl::OkStatus();
}

// --error-exitcode: 1 to 255, as an exit status can carry (0 would hide
// the violations it is meant to show).
absl::StatusOr<int> ParseErrorExitcode(absl::string_view text) {
  int code = 0;
  const bool digits =
      !text.empty() && text.find_first_not_of("0123456789") == absl::string_view::npos;
  if (!digits || !absl::SimpleAtoi(text, &code) || code < 1 || code > 255) {
    return Usage(absl::StrCat("invalid value '", absl::CHexEscape(text),
                              "' for --error-exitcode: expected an exit status from 1 to 255"));
  }
  return code;
}

// --backtrace-depth: 1 or more frames.
absl::StatusOr<int> ParseBacktraceDepth(absl::string_view text) {
  int depth = 0;
  const bool digits =
      !text.empty() && text.find_first_not_of("0123456789") == absl::string_view::npos;
  if (!digits || !absl::SimpleAtoi(text, &depth) || depth < 1) {
    return Usage(absl::StrCat("invalid value '", absl::CHexEscape(text),
                              "' for --backtrace-depth: expected a number of frames, 1 or more"));
  }
  return depth;
}

// --log-fd: a descriptor number, and no -o too (one report stream). Whether
// it is open is checked when it is used (main.cc).
absl::StatusOr<int> ParseLogFd(absl::string_view text, const GivenOptions& given) {
  int fd = -1;
  const bool digits =
      !text.empty() && text.find_first_not_of("0123456789") == absl::string_view::npos;
  if (!digits || !absl::SimpleAtoi(text, &fd)) {
    return Usage(absl::StrCat("invalid value '", absl::CHexEscape(text),
                              "' for --log-fd: expected a file descriptor number"));
  }
  if (!given.output.empty()) return Usage("--log-fd and -o are two report streams: give one");
  return fd;
}

// Converts where the reports go, what they show and how the run ends:
// --log-fd, --error-exitcode, --report-limit, --backtrace-depth,
// --registers.
absl::Status ConvertReportOptions(const GivenOptions& given, Options* options) {
  if (!given.error_exitcode.empty()) {
    auto code = ParseErrorExitcode(given.error_exitcode);
    if (!code.ok()) return code.status();
    options->error_exitcode = *code;
  }
  if (!given.report_limit.empty()) {
    auto limit = ParseReportLimit(given.report_limit);
    if (!limit.ok()) return limit.status();
    options->report_limit = *limit;
  }
  if (!given.log_fd.empty()) {
    auto fd = ParseLogFd(given.log_fd, given);
    if (!fd.ok()) return fd.status();
    options->log_fd = *fd;
  }
  if (!given.backtrace_depth.empty()) {
    auto depth = ParseBacktraceDepth(given.backtrace_depth);
    if (!depth.ok()) return depth.status();
    options->backtrace_depth = *depth;
  }
  if (!given.registers.empty()) {
    auto registers = ParseChoice("registers", given.registers, kYesNo);
    if (!registers.ok()) return registers.status();
    options->registers = *registers;
  }
  return absl::OkStatus();
}

constexpr Choice<Mechanism> kMechanisms[] = {{"auto", Mechanism::kAuto},
                                             {"seccomp", Mechanism::kSeccomp},
                                             {"dispatch", Mechanism::kDispatch}};

// Converts --format, --strict, --mechanism, --preflight and --kill-after.
absl::Status ConvertModes(const GivenOptions& given, Options* options) {
  if (!given.mechanism.empty()) {
    auto mechanism = ParseChoice("mechanism", given.mechanism, kMechanisms);
    if (!mechanism.ok()) return mechanism.status();
    options->mechanism = *mechanism;
  }
  if (!given.format.empty()) {
    auto format = ParseChoice("format", given.format, kFormats);
    if (!format.ok()) return format.status();
    options->format = *format;
  }
  if (!given.strict.empty()) {
    auto strict = ParseChoice("strict", given.strict, kStrictModes);
    if (!strict.ok()) return strict.status();
    options->strict = *strict;
  }
  if (!given.preflight.empty()) {
    auto preflight = ParseChoice("preflight", given.preflight, kPreflightModes);
    if (!preflight.ok()) return preflight.status();
    options->preflight = *preflight;
  }
  if (!given.noise.empty()) {
    auto noise = ParseChoice("noise", given.noise, kNoiseModes);
    if (!noise.ok()) return noise.status();
    options->noise = *noise;
  }
  if (!given.kill_after.empty()) {
    auto kill_after = ParseKillAfter(given.kill_after);
    if (!kill_after.ok()) return kill_after.status();
    options->kill_after_seconds = *kill_after;
  }
  return absl::OkStatus();
}

// The combinations that make no sense: --check-policy without -P or with a
// program, -p with a program, --strict=exec or no trigger, triggers' delays
// without --strict-thread, and no program at all.
absl::Status CheckCombination(const GivenOptions& given, const Options& options) {
  if (options.check_policy) {
    if (options.policies.empty()) return Usage("--check-policy needs at least one -P FILE");
    if (!options.program.empty()) return Usage("--check-policy takes no program");
    return absl::OkStatus();
  }
  if (options.strict == StrictMode::kExec && options.mechanism == Mechanism::kDispatch) {
    return Usage("--mechanism=dispatch cannot apply to --strict=exec (no thread enters)");
  }
  if (options.attach_pid != 0) {
    if (!options.program.empty()) return Usage("-p PID takes no program");
    if (options.strict == StrictMode::kExec) return Usage("--strict=exec cannot apply to -p PID");
    if (options.strict_threads.empty() && options.strict_cpus.empty() &&
        given.enter_at.empty()) {
      return Usage(
          "-p PID needs --strict-thread, --strict-cpus or --enter-at: an attached program cannot "
          "call the prctl");
    }
    return absl::OkStatus();
  }
  if ((options.strict_after_seconds > 0 || options.strict_for_seconds > 0) &&
      options.strict_threads.empty() && options.strict_cpus.empty()) {
    return Usage("--strict-after and --strict-for need --strict-thread or --strict-cpus");
  }
  if (options.program.empty()) {
    return Usage("no program given: dpsupervise [options] -- PROGRAM [ARGS]");
  }
  return absl::OkStatus();
}

// --enter-at, --leave-at: each LOCATION in CodeLocation's syntax.
absl::StatusOr<std::vector<CodeLocation>> ParseLocations(absl::string_view option,
                                                        const std::vector<std::string>& texts) {
  std::vector<CodeLocation> locations;
  for (const std::string& text : texts) {
    auto location = ParseCodeLocation(text);
    if (!location.ok()) {
      return Usage(absl::StrCat("--", option, ": ", OneLine(location.status().message())));
    }
    locations.push_back(*location);
  }
  return locations;
}

// One --action: "KIND=ACTION", the action as --on-violation takes it.
absl::StatusOr<std::pair<ViolationKind, Action>> ParseKindAction(const std::string& text) {
  const size_t equals = text.find('=');
  const std::string kind_name = text.substr(0, equals);
  auto kind = ViolationKindFromName(kind_name);
  if (equals == std::string::npos || !kind) {
    return Usage(absl::StrCat("--action: found '", kind_name, "', expected KIND=ACTION, KIND ",
                              ViolationKindList()));
  }
  auto action = ParseAction(absl::string_view(text).substr(equals + 1));
  if (!action.ok()) {
    return Usage(absl::StrCat("--action=", kind_name, ": ", OneLine(action.status().message())));
  }
  if (!ActionAppliesTo(action->kind, *kind)) {
    return Usage(absl::StrCat("--action=", kind_name, ": '", action->ToString(),
                              "' does not apply to ", kind_name, " violations (errno only to "
                              "syscalls, deliver only to traps and signals)"));
  }
  return std::make_pair(*kind, *action);
}

// Converts --on-violation, --action, --enter-at and --leave-at, last: main.cc once
// parsed them after every other check, and their misuse keeps that place.
absl::Status ConvertActionAndLocations(const GivenOptions& given, Options* options) {
  if (!given.on_violation.empty()) {
    auto action = ParseAction(given.on_violation);
    if (!action.ok()) {
      return Usage(absl::StrCat("--on-violation: ", OneLine(action.status().message())));
    }
    options->on_violation = *action;
  }
  for (const std::string& text : given.actions) {
    auto per_kind = ParseKindAction(text);
    if (!per_kind.ok()) return per_kind.status();
    options->actions[per_kind->first] = per_kind->second;
  }
  auto enter_at = ParseLocations("enter-at", given.enter_at);
  if (!enter_at.ok()) return enter_at.status();
  options->enter_at = std::move(*enter_at);
  auto leave_at = ParseLocations("leave-at", given.leave_at);
  if (!leave_at.ok()) return leave_at.status();
  options->leave_at = std::move(*leave_at);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Options> ParseCommandLine(const std::vector<std::string>& argv) {
  GivenOptions given;
  auto program_start = ScanOptions(argv, &given);
  if (!program_start.ok()) return program_start.status();
  Options options;
  options.help = given.help;
  options.version = given.version;
  options.policies = given.policies;
  options.output = given.output;
  options.summary = given.summary;
  options.quiet = given.quiet;
  options.check_policy = given.check_policy;
  options.strict_threads = given.strict_threads;
  options.enter_at_every = given.enter_at_every;
  options.program.assign(argv.begin() + std::min(*program_start, argv.size()), argv.end());
  absl::Status converted = ConvertEarly(given, &options);
  if (!converted.ok()) return converted;
  if (options.help || options.version) return options;
  converted = ConvertModes(given, &options);
  if (!converted.ok()) return converted;
  converted = ConvertReportOptions(given, &options);
  if (!converted.ok()) return converted;
  absl::Status combination = CheckCombination(given, options);
  if (!combination.ok()) return combination;
  converted = ConvertActionAndLocations(given, &options);
  if (!converted.ok()) return converted;
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
  for (const OptionSpec& spec : kOptions) {
    std::string left = spec.short_name != nullptr
                           ? absl::StrCat("  -", spec.short_name, ", --", spec.name)
                           : absl::StrCat("      --", spec.name);
    if (spec.value_name != nullptr) absl::StrAppend(&left, "=", spec.value_name);
    left.resize(std::max<size_t>(left.size() + 2, 32), ' ');
    absl::StrAppend(&text, left, spec.help, "\n");
  }
  text +=
      "\n"
      "Exit status: the program's own, or 128+N when it was killed by signal N;\n"
      "2 usage error, 125 supervisor failure or -p PID cannot be attached to,\n"
      "126 program not executable, 127 program (or -p process) not found.\n"
      "\n"
      "The manual: man dpsupervise (and man 3 dataplane for the library).\n";
  return text;
}

const char* Version() { return DPSUPERVISE_VERSION; }

std::string VersionText() { return absl::StrCat("dpsupervise ", Version(), "\n"); }

}  // namespace dpsupervise
