// Every command-line misuse on the real binary: exit status 2, nothing on
// standard output, exactly one line on standard error starting with
// "dpsupervise: ". tests/cli_test.cc checks the messages themselves.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/run_util.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Misuse {
  std::vector<std::string> args;  // after "dpsupervise"
  const char* names;              // what the message must name
};

void PrintTo(const Misuse& m, std::ostream* os) {
  *os << "dpsupervise";
  for (const std::string& a : m.args) *os << " '" << a << "'";
}

class CliMisuseE2E : public ::testing::TestWithParam<Misuse> {};

TEST_P(CliMisuseE2E, ExitsTwoWithOneLine) {
  std::vector<std::string> argv = {Runfile("supervisor/dpsupervise")};
  argv.insert(argv.end(), GetParam().args.begin(), GetParam().args.end());
  RunOptions options;
  options.timeout_seconds = 30;
  RunResult r = dptest::Run(argv, options);
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_status, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("dpsupervise: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.back(), '\n') << r.err;
  EXPECT_THAT(r.err, HasSubstr(GetParam().names));
}

const Misuse kMisuses[] = {
    {{"--bogus", "--", "/bin/true"}, "unknown option '--bogus'"},
    {{"-x", "/bin/true"}, "unknown option '-x'"},
    {{"--on_violation=kill", "--", "/bin/true"}, "unknown option"},
    {{"--format"}, "option '--format' needs a value"},
    {{"-P"}, "option '-P' needs a value"},
    {{"-o"}, "option '-o' needs a value"},
    {{"-P", "", "--", "/bin/true"}, "-P needs a file name"},
    {{"--format=xml", "--", "/bin/true"}, "invalid value 'xml' for --format"},
    {{"--strict=thread", "--", "/bin/true"}, "invalid value 'thread' for --strict"},
    {{"--preflight=on", "--", "/bin/true"}, "invalid value 'on' for --preflight"},
    {{"--summary=maybe", "--", "/bin/true"}, "invalid value 'maybe' for --summary"},
    {{"--help=2"}, "invalid value '2' for --help"},
    {{"--check-policy"}, "--check-policy needs at least one -P FILE"},
    {{"--check-policy", "-P", "x.policy", "--", "/bin/true"}, "--check-policy takes no program"},
    {{}, "no program given"},
    {{"--"}, "no program given"},
    {{"--format=json"}, "no program given"},
    {{"--enter-at-every", "--", "/bin/true"}, "--enter-at-every needs --enter-at"},
    {{"--strict-after=soon", "--strict-thread=w", "--", "/bin/true"}, "--strict-after"},
    {{"-p", "x", "--strict-thread=w"}, "invalid value 'x'"},
    {{"-p", "12", "--strict-thread=w", "--", "/bin/true"}, "-p PID takes no program"},
    // Checked after parsing, before anything is launched.
    {{"--on-violation=explode", "--", "/bin/true"}, "--on-violation: found 'explode'"},
    {{"--on-violation=signal", "--", "/bin/true"}, "--on-violation: "},
    {{"-P", "/nonexistent/x.policy", "--", "/bin/true"}, "cannot read the policy file"},
    {{"--check-policy", "-P", "/nonexistent/x.policy"}, "cannot read the policy file"},
};

INSTANTIATE_TEST_SUITE_P(Misuses, CliMisuseE2E, ::testing::ValuesIn(kMisuses));

TEST(CliE2E, HelpAndVersionExitZero) {
  RunResult help = dptest::Run({Runfile("supervisor/dpsupervise"), "--help"});
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_THAT(help.out, StartsWith("Usage: dpsupervise"));
  EXPECT_EQ(help.err, "");
  RunResult version = dptest::Run({Runfile("supervisor/dpsupervise"), "--version"});
  EXPECT_EQ(version.exit_status, 0);
  EXPECT_THAT(version.out, StartsWith("dpsupervise "));
  EXPECT_EQ(version.err, "");
}

TEST(CliE2E, CheckPolicyValidatesOnViolationToo) {
  // Fixed; the finding, kept for the record:
  [[maybe_unused]] static constexpr char kFinding[] = "known bug: supervisor/main.cc returns CheckPolicy(policy) before "
                  "ResolveActions() looks at --on-violation, so `dpsupervise --check-policy -P "
                  "FILE --on-violation=explode` says the policy is OK and exits 0.";
  RunResult r = dptest::Run({Runfile("supervisor/dpsupervise"), "--check-policy", "-P",
                             Runfile("testdata/policies/common.policy"),
                             "--on-violation=explode"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_THAT(r.err, StartsWith("dpsupervise: --on-violation: "));
}

}  // namespace
}  // namespace dptest
