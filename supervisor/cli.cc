#include "supervisor/cli.h"

#include <map>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

ABSL_FLAG(std::string, output, "", "write reports to FILE instead of standard error (-o)");
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
    {"output", "o", "FILE"},
    {"help", "h", nullptr},
    {"version", nullptr, nullptr},
};

const FlagSpec* FindSpec(absl::string_view name) {
  for (const FlagSpec& spec : kFlags) {
    if (name == spec.name || (spec.short_name != nullptr && name == spec.short_name)) return &spec;
  }
  return nullptr;
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
    return Usage(absl::StrCat("invalid value '", value, "' for --", spec.name, ": ", error));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Options> ParseCommandLine(const std::vector<std::string>& argv) {
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
    const FlagSpec* spec = FindSpec(name);
    if (spec == nullptr) return Usage(absl::StrCat("unknown option '", arg, "' (see --help)"));
    if (long_form != (name == spec->name)) {
      return Usage(absl::StrCat("unknown option '", arg, "' (see --help)"));
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
    absl::Status set = SetFlag(*spec, value);
    if (!set.ok()) return set;
  }

  Options options;
  options.help = absl::GetFlag(FLAGS_help);
  options.version = absl::GetFlag(FLAGS_version);
  options.output = absl::GetFlag(FLAGS_output);
  options.program.assign(argv.begin() + std::min(i, argv.size()), argv.end());
  if (options.help || options.version) return options;
  if (options.program.empty()) return Usage("no program given: dpsupervise [options] -- PROGRAM [ARGS]");
  return options;
}

std::string UsageText() {
  std::string text =
      "Usage: dpsupervise [options] -- PROGRAM [ARGS...]\n"
      "\n"
      "Runs PROGRAM under a ptrace + seccomp supervisor that enforces dataplane\n"
      "strict mode: a thread that calls prctl(PR_SET_DATAPLANE, PR_DATAPLANE_STRICT)\n"
      "may no longer enter the kernel; each violation is reported and acted on.\n"
      "\n"
      "Options:\n";
  for (const FlagSpec& spec : kFlags) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(spec.name);
    std::string left = spec.short_name ? absl::StrCat("  -", spec.short_name, ", --", spec.name)
                                       : absl::StrCat("      --", spec.name);
    if (spec.value_name != nullptr) absl::StrAppend(&left, "=", spec.value_name);
    left.resize(std::max<size_t>(left.size() + 2, 30), ' ');
    absl::StrAppend(&text, left, flag ? flag->Help() : "", "\n");
  }
  text +=
      "\n"
      "Exit status: the program's own, or 128+N when it was killed by signal N;\n"
      "2 usage error, 125 supervisor failure, 126 program not executable,\n"
      "127 program not found.\n";
  return text;
}

std::string VersionText() { return "dpsupervise 0.1.0\n"; }

}  // namespace dpsupervise
