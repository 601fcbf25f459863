// Unit tests of the command line (supervisor/cli.h): every flag in its long
// (--name=value, --name value) and short (-P f, -o f) forms, -P order, "--"
// and a program without it, and every misuse as a one-line
// InvalidArgumentError naming the problem. tests/cli_e2e_test.cc checks the
// same misuses on the real binary (exit status 2, one line on stderr).
#include "supervisor/cli.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace dpsupervise {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

class CliTest : public ::testing::Test {
 protected:
  // Parses "dpsupervise ARGS..."; the test fails on an error.
  Options Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "dpsupervise");
    auto options = ParseCommandLine(args);
    EXPECT_TRUE(options.ok()) << options.status();
    return options.ok() ? *options : Options{};
  }

  // The message of the misuse "dpsupervise ARGS...", checked to be a one-line
  // InvalidArgumentError.
  std::string Misuse(std::vector<std::string> args) {
    args.insert(args.begin(), "dpsupervise");
    auto options = ParseCommandLine(args);
    if (options.ok()) {
      ADD_FAILURE() << "accepted";
      return "";
    }
    EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument) << options.status();
    const std::string message(options.status().message());
    EXPECT_THAT(message, Not(HasSubstr("\n")));
    EXPECT_FALSE(message.empty());
    return message;
  }
};

TEST_F(CliTest, Defaults) {
  Options o = Parse({"--", "/bin/true"});
  EXPECT_FALSE(o.help);
  EXPECT_FALSE(o.version);
  EXPECT_THAT(o.policies, IsEmpty());
  EXPECT_FALSE(o.on_violation.has_value());
  EXPECT_EQ(o.format, ReportFormat::kText);
  EXPECT_EQ(o.output, "");
  EXPECT_EQ(o.strict, StrictMode::kPrctl);
  EXPECT_FALSE(o.preflight.has_value());
  EXPECT_FALSE(o.summary);
  EXPECT_FALSE(o.check_policy);
  EXPECT_THAT(o.strict_threads, IsEmpty());
  EXPECT_EQ(o.attach_pid, 0);
  EXPECT_THAT(o.enter_at, IsEmpty());
  EXPECT_FALSE(o.enter_at_every);
  EXPECT_THAT(o.leave_at, IsEmpty());
  EXPECT_DOUBLE_EQ(o.kill_after_seconds, 10);
  EXPECT_THAT(o.program, ElementsAre("/bin/true"));
}

TEST_F(CliTest, KillAfterAsDurationOrSeconds) {
  EXPECT_DOUBLE_EQ(Parse({"--kill-after=2s", "--", "p"}).kill_after_seconds, 2);
  EXPECT_DOUBLE_EQ(Parse({"--kill-after", "500ms", "--", "p"}).kill_after_seconds, 0.5);
  EXPECT_DOUBLE_EQ(Parse({"--kill-after=3", "--", "p"}).kill_after_seconds, 3);
  EXPECT_DOUBLE_EQ(Parse({"--kill-after=0.25", "-p", "7", "--strict-thread=w"}).kill_after_seconds,
                   0.25);
  for (const char* bad : {"0", "0s", "-1", "-2s", "soon", "inf", "nan"}) {
    EXPECT_EQ(Misuse({std::string("--kill-after=") + bad, "--", "p"}),
              std::string("invalid value '") + bad +
                  "' for --kill-after: expected a positive duration such as 10s, 500ms or 2 "
                  "(seconds)");
  }
  EXPECT_EQ(Misuse({"--kill-after=", "--", "p"}), "option --kill-after needs a value (DURATION)");
  EXPECT_THAT(UsageText(), HasSubstr("--kill-after=DURATION"));
}

TEST_F(CliTest, PolicyInEveryForm) {
  EXPECT_THAT(Parse({"--policy=a.policy", "--", "p"}).policies, ElementsAre("a.policy"));
  EXPECT_THAT(Parse({"--policy", "a.policy", "--", "p"}).policies, ElementsAre("a.policy"));
  EXPECT_THAT(Parse({"-P", "a.policy", "--", "p"}).policies, ElementsAre("a.policy"));
  EXPECT_THAT(Parse({"-P=a.policy", "--", "p"}).policies, ElementsAre("a.policy"));
  // A value may itself start with '-' or contain '='.
  EXPECT_THAT(Parse({"-P", "-odd=name", "--", "p"}).policies, ElementsAre("-odd=name"));
}

TEST_F(CliTest, RepeatedPoliciesKeepTheirOrder) {
  Options o = Parse({"-P", "a", "--policy=b", "-P", "c", "--policy", "d", "-P=a", "--", "p"});
  EXPECT_THAT(o.policies, ElementsAre("a", "b", "c", "d", "a"));
}

// The action's text, "" when none was given.
std::string ActionText(const Options& o) {
  return o.on_violation ? o.on_violation->ToString() : "";
}

TEST_F(CliTest, OnViolationInBothLongForms) {
  EXPECT_EQ(ActionText(Parse({"--on-violation=signal:SIGUSR1", "--", "p"})), "signal SIGUSR1");
  EXPECT_EQ(ActionText(Parse({"--on-violation", "errno EPERM", "--", "p"})), "errno EPERM");
  EXPECT_EQ(ActionText(Parse({"--on-violation=log", "p"})), "log");
}

TEST_F(CliTest, ActionPerKindIsRepeatableAndLastWins) {
  Options o = Parse({"--action=ipi=signal:SIGUSR1", "--action", "syscall=errno:EPERM",
                     "--action=preemption=log", "--action=syscall=log", "--", "p"});
  ASSERT_EQ(o.actions.size(), 3u);
  EXPECT_EQ(o.actions.at(ViolationKind::kIpi).ToString(), "signal SIGUSR1");
  EXPECT_EQ(o.actions.at(ViolationKind::kPreemption).ToString(), "log");
  EXPECT_EQ(o.actions.at(ViolationKind::kSyscall).ToString(), "log");
}

TEST_F(CliTest, ActionPerKindMisuse) {
  EXPECT_EQ(Misuse({"--action=ipi", "p"}),
            "--action: found 'ipi', expected KIND=ACTION, KIND syscall, page_fault, trap, "
            "signal, ipi, irq, timer, softirq, preemption or migration");
  EXPECT_EQ(Misuse({"--action=tick=log", "p"}),
            "--action: found 'tick', expected KIND=ACTION, KIND syscall, page_fault, trap, "
            "signal, ipi, irq, timer, softirq, preemption or migration");
  EXPECT_THAT(Misuse({"--action=ipi=sometimes", "p"}),
              HasSubstr("--action=ipi: found 'sometimes'"));
  EXPECT_EQ(Misuse({"--action=ipi=errno:EPERM", "p"}),
            "--action=ipi: 'errno EPERM' does not apply to ipi violations (errno only to "
            "syscalls, deliver only to traps and signals)");
}

TEST_F(CliTest, FormatInBothLongForms) {
  EXPECT_EQ(Parse({"--format=json", "--", "p"}).format, ReportFormat::kJson);
  EXPECT_EQ(Parse({"--format", "json", "--", "p"}).format, ReportFormat::kJson);
  EXPECT_EQ(Parse({"--format=text", "--", "p"}).format, ReportFormat::kText);
}

TEST_F(CliTest, OutputInEveryForm) {
  EXPECT_EQ(Parse({"--output=r.txt", "--", "p"}).output, "r.txt");
  EXPECT_EQ(Parse({"--output", "r.txt", "--", "p"}).output, "r.txt");
  EXPECT_EQ(Parse({"-o", "r.txt", "--", "p"}).output, "r.txt");
  EXPECT_EQ(Parse({"-o=r.txt", "--", "p"}).output, "r.txt");
}

TEST_F(CliTest, StrictAndPreflightInBothLongForms) {
  EXPECT_EQ(Parse({"--strict=exec", "--", "p"}).strict, StrictMode::kExec);
  EXPECT_EQ(Parse({"--strict", "prctl", "--", "p"}).strict, StrictMode::kPrctl);
  for (PreflightMode mode : {PreflightMode::kOff, PreflightMode::kWarn, PreflightMode::kEnforce}) {
    const std::string name = PreflightModeName(mode);
    EXPECT_EQ(Parse({"--preflight=" + name, "--", "p"}).preflight, mode);
    EXPECT_EQ(Parse({"--preflight", name, "--", "p"}).preflight, mode);
  }
}

TEST_F(CliTest, MechanismChoices) {
  EXPECT_EQ(Parse({"--", "p"}).mechanism, Mechanism::kAuto);
  EXPECT_EQ(Parse({"--mechanism=seccomp", "--", "p"}).mechanism, Mechanism::kSeccomp);
  EXPECT_EQ(Parse({"--mechanism", "dispatch", "--", "p"}).mechanism, Mechanism::kDispatch);
  EXPECT_EQ(Parse({"--mechanism=auto", "--strict=exec", "--", "p"}).mechanism, Mechanism::kAuto);
  EXPECT_THAT(Misuse({"--mechanism=ptrace", "--", "p"}), HasSubstr("mechanism"));
  // --strict=exec has no entry for dispatch to serve.
  EXPECT_THAT(Misuse({"--mechanism=dispatch", "--strict=exec", "--", "p"}),
              HasSubstr("--mechanism=dispatch cannot apply to --strict=exec"));
}

TEST_F(CliTest, NoiseModes) {
  EXPECT_EQ(Parse({"--", "p"}).noise, NoiseMode::kDefault);  // summary where allowed
  EXPECT_EQ(Parse({"--noise=off", "--", "p"}).noise, NoiseMode::kOff);
  EXPECT_EQ(Parse({"--noise=summary", "--", "p"}).noise, NoiseMode::kSummary);
  EXPECT_EQ(Parse({"--noise", "events", "--", "p"}).noise, NoiseMode::kEvents);
  EXPECT_EQ(Misuse({"--noise=on", "--", "p"}),
            "invalid value 'on' for --noise: expected off, summary, events");
  EXPECT_THAT(UsageText(), HasSubstr("--noise=MODE"));
}

TEST_F(CliTest, BooleanFlags) {
  EXPECT_TRUE(Parse({"--summary", "--", "p"}).summary);
  EXPECT_TRUE(Parse({"--summary=true", "--", "p"}).summary);
  EXPECT_FALSE(Parse({"--summary=false", "--", "p"}).summary);
  EXPECT_TRUE(Parse({"--summary=1", "p"}).summary);
  Options check = Parse({"--check-policy", "-P", "a.policy"});
  EXPECT_TRUE(check.check_policy);
  EXPECT_THAT(check.program, IsEmpty());
  EXPECT_TRUE(Parse({"--check-policy=true", "--policy=a"}).check_policy);
}

TEST_F(CliTest, HelpAndVersionNeedNoProgram) {
  EXPECT_TRUE(Parse({"--help"}).help);
  EXPECT_TRUE(Parse({"-h"}).help);
  EXPECT_TRUE(Parse({"--version"}).version);
  // Whatever else is wrong: --help wins.
  EXPECT_TRUE(Parse({"--format=xml", "--help"}).help);
}

// The locations as given.
std::vector<std::string> Texts(const std::vector<CodeLocation>& locations) {
  std::vector<std::string> texts;
  for (const CodeLocation& location : locations) texts.push_back(location.text);
  return texts;
}

TEST_F(CliTest, StrictThreadsAndLocations) {
  Options o = Parse({"--strict-thread=worker*", "--strict-thread", "rx-?", "--strict-after=2s",
                     "--strict-for", "500ms", "--", "p"});
  EXPECT_THAT(o.strict_threads, ElementsAre("worker*", "rx-?"));
  EXPECT_DOUBLE_EQ(o.strict_after_seconds, 2);
  EXPECT_DOUBLE_EQ(o.strict_for_seconds, 0.5);
  o = Parse({"--enter-at=Poll", "--enter-at", "libc.so.6:getppid", "--enter-at-every",
             "--leave-at=0x401000", "--leave-at", "Done", "--", "p"});
  EXPECT_THAT(Texts(o.enter_at), ElementsAre("Poll", "libc.so.6:getppid"));
  EXPECT_TRUE(o.enter_at_every);
  EXPECT_THAT(Texts(o.leave_at), ElementsAre("0x401000", "Done"));
}

TEST_F(CliTest, LocationsAreParsedOnce) {
  // dpsupervise parses each location here, into what the breakpoints use.
  Options o = Parse({"--enter-at=libc.so.6:getppid", "--enter-at", "0x401000",
                     "--enter-at=ns::Poll", "--leave-at=Done", "--", "p"});
  ASSERT_EQ(o.enter_at.size(), 3u);
  EXPECT_EQ(o.enter_at[0].library, "libc.so.6");
  EXPECT_EQ(o.enter_at[0].symbol, "getppid");
  EXPECT_EQ(o.enter_at[1].symbol, "");
  EXPECT_EQ(o.enter_at[1].address, 0x401000u);
  EXPECT_EQ(o.enter_at[2].library, "");
  EXPECT_EQ(o.enter_at[2].symbol, "ns::Poll");
  ASSERT_EQ(o.leave_at.size(), 1u);
  EXPECT_EQ(o.leave_at[0].symbol, "Done");
  o = Parse({"-p", "7", "--enter-at=0x10", "--leave-at=lib:f"});
  EXPECT_EQ(o.enter_at.at(0).address, 0x10u);
  EXPECT_EQ(o.leave_at.at(0).library, "lib");
}

TEST_F(CliTest, AttachToAPid) {
  EXPECT_EQ(Parse({"-p", "1234", "--strict-thread=w"}).attach_pid, 1234);
  EXPECT_EQ(Parse({"--pid=1234", "--enter-at=f"}).attach_pid, 1234);
  EXPECT_EQ(Parse({"--pid", "1234", "--strict-thread", "w"}).attach_pid, 1234);
  EXPECT_THAT(Parse({"-p", "1234", "--strict-thread=w"}).program, IsEmpty());
}

TEST_F(CliTest, DoubleDashEndsOptions) {
  // Everything after the first "--" is the program's, flags and "--" included.
  Options o = Parse({"--format=json", "--", "prog", "--format=text", "--", "-P", "x"});
  EXPECT_EQ(o.format, ReportFormat::kJson);
  EXPECT_THAT(o.policies, IsEmpty());
  EXPECT_THAT(o.program, ElementsAre("prog", "--format=text", "--", "-P", "x"));
  // A program whose name starts with '-'.
  EXPECT_THAT(Parse({"--", "-weird"}).program, ElementsAre("-weird"));
  EXPECT_THAT(Parse({"--", "--"}).program, ElementsAre("--"));
}

TEST_F(CliTest, ProgramWithoutDoubleDash) {
  // The first argument not starting with '-' is the program; its own
  // arguments are never read as ours.
  Options o = Parse({"-P", "a", "prog", "-P", "b", "--summary"});
  EXPECT_THAT(o.policies, ElementsAre("a"));
  EXPECT_FALSE(o.summary);
  EXPECT_THAT(o.program, ElementsAre("prog", "-P", "b", "--summary"));
  // "-" alone is a program name (stdin-style), not an option.
  EXPECT_THAT(Parse({"-", "x"}).program, ElementsAre("-", "x"));
}

// ---------------------------------------------------------------------------
// Misuse: one line each, naming the problem.

TEST_F(CliTest, UnknownOptions) {
  EXPECT_EQ(Misuse({"--bogus", "--", "p"}), "unknown option '--bogus' (see --help)");
  EXPECT_EQ(Misuse({"-x", "p"}), "unknown option '-x' (see --help)");
  // Abseil's spelling with '_' and its --noflag negation are not ours.
  EXPECT_THAT(Misuse({"--on_violation=kill", "p"}), HasSubstr("unknown option '--on_violation"));
  EXPECT_THAT(Misuse({"--nosummary", "p"}), HasSubstr("unknown option '--nosummary'"));
  // Short names take no long form and vice versa; no bundling of switches.
  EXPECT_THAT(Misuse({"--P", "a", "p"}), HasSubstr("unknown option '--P'"));
  EXPECT_THAT(Misuse({"-hP", "p"}), HasSubstr("unknown option '-hP'"));
  EXPECT_THAT(Misuse({"-qh", "p"}), HasSubstr("unknown option '-qh'"));
  EXPECT_THAT(Misuse({"---format=json", "p"}), HasSubstr("unknown option '---format=json'"));
  // As getopt reads it: -p with the value "olicy".
  EXPECT_EQ(Misuse({"-policy", "a", "p"}),
            "invalid value 'olicy' for --pid: expected a process id from 1 to 4194304");
}

TEST_F(CliTest, DidYouMean) {
  EXPECT_EQ(Misuse({"--sumary", "p"}), "unknown option '--sumary' (did you mean --summary?)");
  EXPECT_EQ(Misuse({"--on_violation=kill", "p"}),
            "unknown option '--on_violation=kill' (did you mean --on-violation?)");
  EXPECT_EQ(Misuse({"--stict-thread", "w", "p"}),
            "unknown option '--stict-thread' (did you mean --strict-thread?)");
  EXPECT_EQ(Misuse({"--nosummary", "p"}),
            "unknown option '--nosummary' (did you mean --summary?)");
  EXPECT_EQ(Misuse({"--bogus", "p"}), "unknown option '--bogus' (see --help)");
}

TEST_F(CliTest, ShortOptionsTakeTheirValueAttachedAsGetoptDoes) {
  EXPECT_EQ(Parse({"-p1234", "--strict-thread=w"}).attach_pid, 1234);
  EXPECT_EQ(Parse({"-or.txt", "p"}).output, "r.txt");
  EXPECT_THAT(Parse({"-Pa.policy", "-P", "b.policy", "p"}).policies,
              ElementsAre("a.policy", "b.policy"));
  // -x=VALUE stays the value VALUE.
  EXPECT_EQ(Parse({"-o=r.txt", "p"}).output, "r.txt");
  EXPECT_EQ(Parse({"--output", "r.txt", "p"}).output, "r.txt");
  EXPECT_EQ(Parse({"--output=r.txt", "p"}).output, "r.txt");
}

TEST_F(CliTest, LogFd) {
  EXPECT_EQ(Parse({"--", "p"}).log_fd, -1);
  EXPECT_EQ(Parse({"--log-fd=3", "p"}).log_fd, 3);
  EXPECT_EQ(Misuse({"--log-fd=x", "p"}),
            "invalid value 'x' for --log-fd: expected a file descriptor number");
  EXPECT_EQ(Misuse({"--log-fd=3", "-o", "f", "p"}),
            "--log-fd and -o are two report streams: give one");
}

TEST_F(CliTest, MissingValues) {
  EXPECT_EQ(Misuse({"--format"}), "option '--format' needs a value (FORMAT)");
  EXPECT_EQ(Misuse({"-P"}), "option '-P' needs a value (FILE)");
  EXPECT_EQ(Misuse({"-o"}), "option '-o' needs a value (FILE)");
  EXPECT_EQ(Misuse({"--on-violation"}), "option '--on-violation' needs a value (ACTION)");
  EXPECT_EQ(Misuse({"--policy"}), "option '--policy' needs a value (FILE)");
  EXPECT_EQ(Misuse({"-p"}), "option '-p' needs a value (PID)");
  EXPECT_EQ(Misuse({"-P", "", "--", "p"}), "option -P needs a file name");
  EXPECT_EQ(Misuse({"--policy=", "--", "p"}), "option -P needs a file name");
  EXPECT_EQ(Misuse({"--strict-thread=", "--", "p"}), "option --strict-thread needs a pattern");
  EXPECT_EQ(Misuse({"--enter-at=", "--", "p"}), "option --enter-at needs a location");
}

TEST_F(CliTest, BadValues) {
  EXPECT_EQ(Misuse({"--format=xml", "--", "p"}),
            "invalid value 'xml' for --format: expected text, line, json");
  EXPECT_EQ(Misuse({"--format", "JSON", "--", "p"}),
            "invalid value 'JSON' for --format: expected text, line, json");
  EXPECT_EQ(Misuse({"--strict=thread", "--", "p"}),
            "invalid value 'thread' for --strict: expected prctl, exec");
  EXPECT_EQ(Misuse({"--preflight=on", "--", "p"}),
            "invalid value 'on' for --preflight: expected off, warn, enforce");
  EXPECT_THAT(Misuse({"--strict-after=soon", "--strict-thread=w", "--", "p"}),
              HasSubstr("invalid value 'soon' for --strict-after: expected a duration"));
  EXPECT_THAT(Misuse({"-p", "x", "--strict-thread=w"}), HasSubstr("invalid value 'x' for --pid"));
  // A process id is 1 to the kernel's PID_MAX_LIMIT, in decimal digits:
  // 0 is not "no -p", and a sign, blanks or anything out of range are misuse.
  for (const char* pid : {"0", "-5", "+5", " 5", "5 ", "1x", "0x10", "4194305",
                          "99999999999999999999"}) {
    EXPECT_EQ(Misuse({"-p", pid, "--strict-thread=w"}),
              absl::StrCat("invalid value '", absl::CHexEscape(pid),
                           "' for --pid: expected a process id from 1 to 4194304"));
  }
  EXPECT_EQ(Parse({"-p", "4194304", "--strict-thread=w"}).attach_pid, 4194304);
  EXPECT_EQ(Parse({"-p", "007", "--strict-thread=w"}).attach_pid, 7);
}

TEST_F(CliTest, BadActionsAndLocationsNameTheirOption) {
  EXPECT_EQ(Misuse({"--on-violation=explode", "--", "p"}),
            "--on-violation: found 'explode', expected an action (kill, kill-all, signal SIG, "
            "stop, gdb, log, deliver or errno E)");
  EXPECT_EQ(Misuse({"--on-violation", "signal", "--", "p"}),
            "--on-violation: found end of text, expected a signal name or number after 'signal'");
  // One message whatever the mode: main.cc once parsed --enter-at twice, and
  // said "invalid address '0xZZ'" when launching but "--enter-at: invalid
  // address '0xZZ'" with -p.
  EXPECT_EQ(Misuse({"--enter-at=0xZZ", "--", "p"}), "--enter-at: invalid address '0xZZ'");
  EXPECT_EQ(Misuse({"--enter-at=0xZZ", "-p", "7"}), "--enter-at: invalid address '0xZZ'");
  EXPECT_EQ(Misuse({"--enter-at", ":f", "--", "p"}), "--enter-at: ':f': empty library name");
  EXPECT_EQ(Misuse({"--leave-at=lib:", "--", "p"}), "--leave-at: 'lib:': empty symbol name");
  EXPECT_EQ(Misuse({"--leave-at=0x0", "-p", "7", "--strict-thread=w"}),
            "--leave-at: invalid address '0x0'");
  // Quoted control characters are escaped: still one line.
  EXPECT_EQ(Misuse({"--enter-at=0x\n", "--", "p"}), "--enter-at: invalid address '0x\\n'");
  EXPECT_EQ(Misuse({"--leave-at=\x01:", "--", "p"}), "--leave-at: '\\x01:': empty symbol name");
}

TEST_F(CliTest, ActionAndLocationsAreCheckedLast) {
  // In the order main.cc used to check them: after every other misuse, and
  // not at all with --help.
  EXPECT_EQ(Misuse({"--on-violation=explode", "--enter-at=0xZZ"}),
            "no program given: dpsupervise [options] -- PROGRAM [ARGS]");
  EXPECT_EQ(Misuse({"--on-violation=explode", "--format=xml", "--", "p"}),
            "invalid value 'xml' for --format: expected text, line, json");
  EXPECT_THAT(Misuse({"--enter-at=0xZZ", "--on-violation=explode", "--", "p"}),
              StartsWith("--on-violation: "));
  EXPECT_TRUE(Parse({"--on-violation=explode", "--leave-at=0x0", "--help"}).help);
}

TEST_F(CliTest, ErrorExitcodeAndQuiet) {
  Options o = Parse({"--", "p"});
  EXPECT_FALSE(o.error_exitcode.has_value());
  EXPECT_FALSE(o.quiet);
  o = Parse({"--error-exitcode=1", "-q", "--", "p"});
  EXPECT_EQ(o.error_exitcode, 1);
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(Parse({"--error-exitcode", "255", "--quiet", "p"}).error_exitcode, 255);
  for (const char* bad : {"0", "256", "-1", "+3", " 3", "x", "99999999999"}) {
    EXPECT_EQ(Misuse({std::string("--error-exitcode=") + bad, "--", "p"}),
              absl::StrCat("invalid value '", bad,
                           "' for --error-exitcode: expected an exit status from 1 to 255"));
  }
}

TEST_F(CliTest, ReportLimit) {
  EXPECT_TRUE(Parse({"--", "p"}).report_limit.enabled);
  EXPECT_EQ(Parse({"--", "p"}).report_limit.burst, 5);
  EXPECT_FALSE(Parse({"--report-limit=off", "p"}).report_limit.enabled);
  EXPECT_EQ(Parse({"--report-limit", "20/2s", "p"}).report_limit.interval_ns, 2000000000);
  EXPECT_THAT(Misuse({"--report-limit=0", "p"}),
              StartsWith("invalid value '0' for --report-limit: expected N or N/INTERVAL"));
}

TEST_F(CliTest, ReportShape) {
  Options o = Parse({"--", "p"});
  EXPECT_EQ(o.backtrace_depth, 0);
  EXPECT_FALSE(o.registers.has_value());
  o = Parse({"--format=line", "--backtrace-depth=3", "--registers=yes", "p"});
  EXPECT_EQ(o.format, ReportFormat::kLine);
  EXPECT_EQ(o.backtrace_depth, 3);
  EXPECT_EQ(o.registers, true);
  EXPECT_EQ(Parse({"--registers", "no", "p"}).registers, false);
  EXPECT_EQ(Misuse({"--backtrace-depth=0", "p"}),
            "invalid value '0' for --backtrace-depth: expected a number of frames, 1 or more");
  EXPECT_EQ(Misuse({"--registers=maybe", "p"}),
            "invalid value 'maybe' for --registers: expected yes, no");
  EXPECT_EQ(Misuse({"--format=xml", "p"}),
            "invalid value 'xml' for --format: expected text, line, json");
}

TEST_F(CliTest, BooleanFlagsWithBadValues) {
  // Named as typed, without the Abseil flag's own wording ("Illegal value
  // \'maybe\' specified for flag \'check_policy\'") that it once ended with.
  EXPECT_EQ(Misuse({"--check-policy=maybe", "-P", "a"}),
            "invalid value 'maybe' for --check-policy: expected true or false");
  EXPECT_EQ(Misuse({"-h=x\n"}), "invalid value 'x\\n' for --help: expected true or false");
  EXPECT_THAT(Misuse({"--summary=maybe", "--", "p"}),
              HasSubstr("invalid value 'maybe' for --summary"));
  EXPECT_THAT(Misuse({"--help=2", "--", "p"}), HasSubstr("invalid value '2' for --help"));
  EXPECT_THAT(Misuse({"--version=", "--", "p"}), HasSubstr("invalid value '' for --version"));
  EXPECT_THAT(Misuse({"-h=x"}), HasSubstr("invalid value 'x' for --help"));
}

TEST_F(CliTest, CheckPolicyMisuse) {
  EXPECT_EQ(Misuse({"--check-policy"}), "--check-policy needs at least one -P FILE");
  EXPECT_EQ(Misuse({"--check-policy", "--", "p"}), "--check-policy needs at least one -P FILE");
  EXPECT_EQ(Misuse({"--check-policy", "-P", "a.policy", "--", "p"}),
            "--check-policy takes no program");
  EXPECT_EQ(Misuse({"--check-policy", "-P", "a.policy", "p"}), "--check-policy takes no program");
}

TEST_F(CliTest, NoProgram) {
  const std::string no_program = "no program given: dpsupervise [options] -- PROGRAM [ARGS]";
  EXPECT_EQ(Misuse({}), no_program);
  EXPECT_EQ(Misuse({"--"}), no_program);
  EXPECT_EQ(Misuse({"--format=json", "-P", "a"}), no_program);
}

TEST_F(CliTest, StrictCpusTakesAKernelCpuList) {
  EXPECT_EQ(Parse({"--strict-cpus=1-3,5", "--", "p"}).strict_cpus, (std::set<int>{1, 2, 3, 5}));
  Options attached = Parse({"-p", "12", "--strict-cpus", "1", "--strict-for=2s"});
  EXPECT_EQ(attached.strict_cpus, std::set<int>{1});
  EXPECT_DOUBLE_EQ(attached.strict_for_seconds, 2);
  for (const char* bad : {"x", "3-1", "1,,2", " 1", "-"}) {
    EXPECT_EQ(Misuse({std::string("--strict-cpus=") + bad, "--", "p"}),
              std::string("invalid value '") + bad +
                  "' for --strict-cpus: expected a CPU list such as 1-3,5")
        << bad;
  }
}

TEST_F(CliTest, OptionCombinationMisuse) {
  EXPECT_EQ(Misuse({"--enter-at-every", "--", "p"}), "--enter-at-every needs --enter-at");
  EXPECT_EQ(Misuse({"--strict-after=1s", "--", "p"}),
            "--strict-after and --strict-for need --strict-thread or --strict-cpus");
  EXPECT_EQ(Misuse({"-p", "12", "--strict-thread=w", "--", "p"}), "-p PID takes no program");
  EXPECT_EQ(Misuse({"-p", "12", "--strict=exec", "--strict-thread=w"}),
            "--strict=exec cannot apply to -p PID");
  EXPECT_THAT(Misuse({"-p", "12"}),
              HasSubstr("-p PID needs --strict-thread, --strict-cpus or --enter-at"));
}

// Known problems in supervisor/cli.cc, skipped until fixed.

TEST_F(CliTest, MessagesSpellFlagsAsTyped) {
  // Fixed; the finding, kept for the record:
  [[maybe_unused]] static constexpr char kFinding[] = "known bug: supervisor/cli.cc SetFlag() names the flag by its Abseil name "
                  "(spec.name, with '_'): '--check-policy=maybe' gives \"invalid value 'maybe' "
                  "for --check_policy: ...\", an option that does not exist; it should use "
                  "WrittenName(spec) as the other messages do.";
  EXPECT_THAT(Misuse({"--check-policy=maybe", "-P", "a"}),
              HasSubstr("invalid value 'maybe' for --check-policy"));
  EXPECT_THAT(Misuse({"--enter-at-every=maybe", "--enter-at=f", "p"}),
              HasSubstr("for --enter-at-every"));
}

TEST_F(CliTest, MisuseWithANewlineStaysOneLine) {
  // Fixed; the finding, kept for the record:
  [[maybe_unused]] static constexpr char kFinding[] = "known bug (found by //tests:policy_fuzz_test CliFuzzTest): supervisor/cli.cc "
                  "echoes the offending text verbatim (SetFlag, CheckOneOf, the unknown-option "
                  "and duration messages), so `dpsupervise --format=$'x\\ny' -- p` prints a "
                  "two-line message; control characters should be escaped (absl::CHexEscape).";
  EXPECT_THAT(Misuse({"--format=x\ny", "--", "p"}), HasSubstr("for --format"));
  EXPECT_THAT(Misuse({"--bogus\n", "--", "p"}), HasSubstr("unknown option"));
  EXPECT_THAT(Misuse({"-p", "1\n2", "--strict-thread=w"}), HasSubstr("for --pid"));
}

TEST(CliStateTest, ParsesDoNotLeakIntoEachOther) {
  // Fixed (the parser keeps no state between calls); the finding, kept for
  // the record:
  [[maybe_unused]] static constexpr char kFinding[] =
      "known bug: supervisor/cli.cc ParseCommandLine stores the scalar options in global "
      "Abseil flags and never resets them, so a second call sees the first one's --format, "
      "--summary, --help, ... (dpsupervise parses once, so only callers such as tests are "
      "affected).";
  auto first = ParseCommandLine({"dpsupervise", "--format=json", "--summary",
                                 "--enter-at-every", "--enter-at=f", "--", "p"});
  ASSERT_TRUE(first.ok()) << first.status();
  auto attach = ParseCommandLine({"dpsupervise", "-p", "7", "--strict-thread=w"});
  ASSERT_TRUE(attach.ok()) << attach.status();
  ASSERT_TRUE(ParseCommandLine({"dpsupervise", "--kill-after=1s", "--", "p"}).ok());
  auto second = ParseCommandLine({"dpsupervise", "--", "p"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->format, ReportFormat::kText);
  EXPECT_FALSE(second->summary);
  EXPECT_EQ(second->attach_pid, 0);
  EXPECT_FALSE(second->enter_at_every);
  EXPECT_DOUBLE_EQ(second->kill_after_seconds, 10);
  EXPECT_TRUE(second->strict_threads.empty());
  // A failed parse leaves nothing behind either.
  EXPECT_FALSE(ParseCommandLine({"dpsupervise", "--format=json", "--bogus", "--", "p"}).ok());
  auto third = ParseCommandLine({"dpsupervise", "--", "p"});
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->format, ReportFormat::kText);
}

}  // namespace
}  // namespace dpsupervise
