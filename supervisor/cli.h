// cli.h: the command line of dpsupervise, parsed into Options.
//
//   dpsupervise [options] -- PROGRAM [ARGS...]
//
// Flags are Abseil flags (defined in cli.cc), accepted as --name=value,
// --name value, and the short forms -P, -o, -h. -P may be repeated. Parsing is done here rather than by
// absl::ParseCommandLine so that every misuse gives exit status 2 and one line
// naming the problem, and so that the program's own arguments are never
// mistaken for ours.
#ifndef DPSUPERVISE_SUPERVISOR_CLI_H_
#define DPSUPERVISE_SUPERVISOR_CLI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dpsupervise {

struct Options {
  bool help = false;
  bool version = false;
  std::vector<std::string> policies;  // -P, in order
  std::string on_violation;           // empty: the policy's default, else kill
  std::string format = "text";        // text | json
  std::string output;                 // -o: report file; empty for stderr
  std::string strict = "prctl";       // prctl | exec
  std::string preflight;              // off | warn | enforce; empty: policy or warn
  bool summary = false;
  bool check_policy = false;
  std::vector<std::string> strict_threads;  // --strict-thread GLOBs
  double strict_after_seconds = 0;          // --strict-after
  double strict_for_seconds = 0;            // --strict-for (0: no limit)
  int attach_pid = 0;                       // -p: 1..4194304; 0 when not given
  std::vector<std::string> enter_at;        // --enter-at SYMBOL, LIB:SYMBOL, 0xADDR
  bool enter_at_every = false;              // --enter-at-every
  std::vector<std::string> leave_at;        // --leave-at
  double kill_after_seconds = 10;           // --kill-after: grace after a termination signal
  std::vector<std::string> program;   // PROGRAM and its ARGS (none with -p)
};

// Parses argv (argv[0] included). InvalidArgumentError on misuse.
absl::StatusOr<Options> ParseCommandLine(const std::vector<std::string>& argv);

// The --help text.
std::string UsageText();

// The --version text.
std::string VersionText();

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_CLI_H_
