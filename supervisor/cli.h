// cli.h: the command line of dpsupervise, parsed into typed Options.
//
//   dpsupervise [options] -- PROGRAM [ARGS...]
//
// One table in cli.cc lists every option with its spellings, its help line
// and the Options field it fills. Options are accepted getopt-style as
// --name=value, --name value, and the short forms -P, -o, -p, -q, -h (-P FILE,
// -PFILE, -P=FILE; switches are not bundled); -P and the other list options
// may be repeated; "--" ends the options, and so does the first argument not
// starting with '-' (the program's own arguments are never read as ours).
// Every value is converted once, here, to the type the rest of dpsupervise
// uses: main.cc only wires Options into MonitorOptions. Every misuse is an
// InvalidArgumentError of one line naming the problem (exit status 2 in
// main.cc); an unknown long option close to one of ours names it ("did you
// mean --summary?").
#ifndef DPSUPERVISE_SUPERVISOR_CLI_H_
#define DPSUPERVISE_SUPERVISOR_CLI_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "supervisor/policy/action.h"
#include "supervisor/policy/policy.h"
#include "supervisor/report/report.h"
#include "supervisor/report/report_limit.h"
#include "supervisor/symbols/symbol_lookup.h"

namespace dpsupervise {

// --strict: how threads become strict.
enum class StrictMode {
  kPrctl,  // each thread asks, with prctl(PR_SET_DATAPLANE, ...)
  kExec,   // the whole program, from its first instruction after exec
};

// --mechanism: how a thread is made strict (docs/usage.md).
enum class Mechanism { kAuto, kSeccomp, kDispatch };

// --noise: what the kernel does to strict threads, from its tracepoints.
enum class NoiseMode {
  kDefault,  // no --noise: kSummary where tracing is allowed, else kOff
  kOff,      // not traced (the /proc counters of --summary only)
  kSummary,  // time stolen by kind and cause, per strict thread, at the end
  kEvents,   // the summary and one report record per noise event
};

struct Options {
  bool help = false;
  bool version = false;
  std::vector<std::string> policies;       // -P, in order
  std::optional<Action> on_violation;      // none: the policy's default, else kill
  std::map<ViolationKind, Action> actions;  // --action=KIND=ACTION, over the policy's
  ReportFormat format = ReportFormat::kText;
  std::string output;                      // -o: report file; empty for stderr
  int log_fd = -1;                         // --log-fd: inherited descriptor; -1: none
  ReportLimit report_limit;                // --report-limit
  int backtrace_depth = 0;                 // --backtrace-depth; 0: every frame
  std::optional<bool> registers;           // --registers; none: yes but in line format
  StrictMode strict = StrictMode::kPrctl;
  Mechanism mechanism = Mechanism::kAuto;
  std::optional<PreflightMode> preflight;  // none: the policy's @preflight, else warn
  bool summary = false;
  bool quiet = false;                      // -q: no verdict line
  std::optional<int> error_exitcode;       // --error-exitcode: 1..255 when any violation
  NoiseMode noise = NoiseMode::kDefault;    // --noise
  bool check_policy = false;
  std::vector<std::string> strict_threads;  // --strict-thread GLOBs
  std::set<int> strict_cpus;                // --strict-cpus LIST
  double strict_after_seconds = 0;          // --strict-after
  double strict_for_seconds = 0;            // --strict-for (0: no limit)
  pid_t attach_pid = 0;                     // -p: 1..4194304; 0 when not given
  std::vector<CodeLocation> enter_at;       // --enter-at SYMBOL, LIB:SYMBOL, 0xADDR
  bool enter_at_every = false;              // --enter-at-every
  std::vector<CodeLocation> leave_at;       // --leave-at
  double kill_after_seconds = 10;           // --kill-after: grace after a termination signal
  std::vector<std::string> program;         // PROGRAM and its ARGS (none with -p)
};

// Parses argv (argv[0] included). InvalidArgumentError on misuse.
// --help and --version win over a bad --format, --strict, --preflight,
// --kill-after, --error-exitcode, --report-limit, --backtrace-depth,
// --registers, --on-violation, --enter-at or --leave-at value, a bad
// combination and a missing program; unknown options, missing values and
// the other bad values are still errors.
absl::StatusOr<Options> ParseCommandLine(const std::vector<std::string>& argv);

// The --help text.
std::string UsageText();

// dpsupervise's version, "0.1.0": dist/version.bzl, the one place it is
// written (supervisor/BUILD compiles it into cli.cc).
const char* Version();

// The --version text.
std::string VersionText();

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_CLI_H_
