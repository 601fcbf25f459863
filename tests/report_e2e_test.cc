// End-to-end tests of what the user reads: the oops-style text report with a
// symbolized backtrace, JSON lines, the summary with noise counters, and the
// preflight findings on this machine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/json_records.h"
#include "tests/run_util.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

int ViolationLine() {
  std::ifstream source(Runfile("testdata/report_target.cc"));
  std::string line;
  for (int n = 1; std::getline(source, line); ++n) {
    if (line.find("// VIOLATION_LINE") != std::string::npos) return n;
  }
  return -1;
}

// The "    #N  ..." lines of the first report's backtrace, in order.
std::vector<std::string> BacktraceLines(const std::string& err) {
  std::vector<std::string> frames;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("    #", 0) != 0) continue;
    if (line.rfind("    #0 ", 0) == 0 && !frames.empty()) break;
    frames.push_back(line);
  }
  return frames;
}


TEST(TextReport, NamesFunctionAndSourceLineOfTheViolation) {
  RunResult r = RunSupervised({"--", TestProgram("report_target"), "violate"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  const std::string line = std::to_string(ViolationLine());
  ASSERT_NE(line, "-1");
  EXPECT_THAT(r.err, HasSubstr("strict mode violated by syscall getpid()"));
  const std::vector<std::string> frames = BacktraceLines(r.err);
  ASSERT_GE(frames.size(), 4u) << r.err;
  // Frame #0 is the raw syscall helper (an out-of-line function in this
  // -O0 build; "[inlined]" frames appear in optimized builds, see
  // symbolize_test); the caller's frame names the marked statement, as gdb
  // would.
  EXPECT_THAT(frames[0], HasSubstr("RawSyscall0"));
  EXPECT_THAT(frames[0], HasSubstr("strict_test_util.h:"));
  EXPECT_THAT(frames[1], HasSubstr("InnerFunction"));
  EXPECT_THAT(frames[1], HasSubstr("testdata/report_target.cc:" + line));
  EXPECT_THAT(frames[2], HasSubstr("OuterFunction"));
  EXPECT_THAT(frames[3], HasSubstr("Worker"));
  EXPECT_THAT(r.err, ::testing::ContainsRegex("pc: +0x[0-9a-f]+ in [^\n]*RawSyscall0"));
  EXPECT_THAT(r.err, HasSubstr("start_thread"));
  for (const char* reg : {"RIP:", "RSP:", "RAX:", "RBX:", "RCX:", "RDX:", "RSI:", "RDI:", "RBP:",
                          "R08:", "R09:", "R10:", "R11:", "R12:", "R13:", "R14:", "R15:",
                          "ORIG_RAX:", "EFLAGS:", "FS_BASE:"}) {
    EXPECT_THAT(r.err, HasSubstr(reg));
  }
}

TEST(JsonReport, EveryLineParsesAndHasTheDocumentedFields) {
  RunResult r = RunSupervised({"--format=json", "--", TestProgram("report_target"), "violate"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  std::vector<Json> lines;
  ASSERT_NO_THROW(lines = JsonLines(r.err)) << r.err;
  const Json* violation = nullptr;
  const Json* summary = nullptr;
  for (const Json& j : lines) {
    ASSERT_TRUE(j.contains("type")) << j.dump();
    if (j["type"] == "violation") violation = &j;
    if (j["type"] == "summary") summary = &j;
    if (j["type"] == "message") {
      EXPECT_TRUE(j["text"].is_string());
    }
  }
  // Nothing else than JSON lines on the report stream.
  std::istringstream err_lines(r.err);
  for (std::string line; std::getline(err_lines, line);) {
    EXPECT_TRUE(line.empty() || line[0] == '{') << line;
  }
  ASSERT_NE(violation, nullptr) << r.err;
  const Json& v = *violation;
  EXPECT_EQ(v["kind"], "syscall");
  EXPECT_EQ(v["tid"], FindLabeledNumber(r.out, "worker_tid"));
  EXPECT_TRUE(v["pid"].is_number_integer());
  EXPECT_TRUE(v["thread"].is_string());
  EXPECT_TRUE(v["cpu"].is_number_integer());
  EXPECT_EQ(v["syscall"]["name"], "getpid");
  EXPECT_EQ(v["syscall"]["nr"], 39);
  EXPECT_EQ(v["syscall"]["abi"], "x86-64");
  EXPECT_EQ(v["registers"]["orig_rax"], "0x27");
  EXPECT_EQ(v["action"], "kill");
  ASSERT_TRUE(v["backtrace"].is_array());
  ASSERT_GE(v["backtrace"].size(), 3u);
  EXPECT_THAT(v["backtrace"][0]["function"].get<std::string>(), HasSubstr("RawSyscall0"));
  EXPECT_THAT(v["backtrace"][1]["function"].get<std::string>(), HasSubstr("InnerFunction"));
  EXPECT_EQ(v["backtrace"][1]["line"], ViolationLine());
  EXPECT_EQ(v["pc"], v["backtrace"][0]["pc"]);
  // The summary is always part of JSON output.
  ASSERT_NE(summary, nullptr) << r.err;
  EXPECT_EQ((*summary)["exit_status"], 137);
  EXPECT_EQ((*summary)["total_violations"], 1);
}

// ---------------------------------------------------------------------------
// Decoding like strace: testdata/decode_calls makes the same raw calls once
// under strace and once strict under dpsupervise; every argument the
// decoder renders by name must read as strace renders it.

constexpr char kStrace[] = "/usr/bin/strace";
// decode_calls's syscalls, and getppid, its markers.
constexpr char kDecodeCalls[] =
    "getppid,mmap,mprotect,madvise,open,openat,fcntl,ioctl,clock_gettime,clock_getres,"
    "clock_nanosleep,futex,epoll_ctl,poll,rt_sigprocmask,rt_sigaction,sched_setscheduler,"
    "sched_get_priority_max,socket,socketpair,sendto,recvfrom";

struct TracedCall {
  std::string name;
  std::vector<std::string> args;  // as written between the parentheses
};

// "mmap(NULL, 4096, PROT_READ|0x100, _IOC(_IOC_NONE, 0x56, 0, 0)) = -1 ..."
// -> mmap and its arguments: split at the commas outside quotes, brackets,
// braces and parentheses.
TracedCall ParseTracedCall(const std::string& call) {
  TracedCall parsed;
  const size_t open = call.find('(');
  parsed.name = call.substr(0, open);
  int depth = 0;
  bool quoted = false;
  std::string arg;
  for (size_t i = open + 1; i < call.size(); ++i) {
    const char c = call[i];
    if (quoted) {
      arg += c;
      if (c == '\\' && i + 1 < call.size()) arg += call[++i];
      if (c == '"') quoted = false;
      continue;
    }
    if (depth == 0 && (c == ')' || c == ',')) {
      if (!arg.empty()) parsed.args.push_back(arg);
      arg.clear();
      if (c == ')') break;
      if (i + 1 < call.size() && call[i + 1] == ' ') ++i;
      continue;
    }
    if (c == '"') quoted = true;
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
    arg += c;
  }
  return parsed;
}

// The calls thread `tid` made between its two getppid() markers, from
// strace -f -o output ("<tid> call(args) = result" lines).
std::vector<TracedCall> StraceCallsBetweenMarkers(const std::string& trace, long tid) {
  std::vector<TracedCall> calls;
  std::istringstream lines(trace);
  const std::string prefix = std::to_string(tid) + " ";
  constexpr char kUnfinished[] = " <unfinished ...>";
  bool inside = false;
  std::string unfinished;  // a call another thread's line cut in two
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    // strace pads the pid column: "21    mmap(...".
    const size_t start = line.find_first_not_of(' ', prefix.size());
    if (start == std::string::npos) continue;
    std::string text = line.substr(start);
    // On a loaded machine another thread's line can come in between:
    // "mmap(NULL, 8192 <unfinished ...>" ... "<... mmap resumed>, PROT_READ, ...) = ...".
    if (text.size() > strlen(kUnfinished) &&
        text.compare(text.size() - strlen(kUnfinished), std::string::npos, kUnfinished) == 0) {
      unfinished = text.substr(0, text.size() - strlen(kUnfinished));
      continue;
    }
    if (text.rfind("<... ", 0) == 0) {
      const size_t resumed = text.find(" resumed>");
      if (resumed == std::string::npos) continue;
      text = unfinished + text.substr(resumed + strlen(" resumed>"));
      unfinished.clear();
    }
    TracedCall call = ParseTracedCall(text);
    if (call.name == "getppid") {
      if (inside) break;
      inside = true;
    } else if (inside) {
      calls.push_back(std::move(call));
    }
  }
  return calls;
}

// The syscall records of thread `tid` before its getppid() marker.
std::vector<Json> DecodedCallsBeforeMarker(const std::string& err, long tid) {
  std::vector<Json> calls;
  for (Json& v : JsonViolations(err)) {
    if (v["kind"] != "syscall" || v["tid"] != tid) continue;
    if (v["syscall"]["name"] == "getppid") break;
    calls.push_back(std::move(v["syscall"]));
  }
  return calls;
}

TEST(JsonReport, FlagAndEnumerationArgumentsReadAsStraceRendersThem) {
  ASSERT_EQ(access(kStrace, X_OK), 0)
      << kStrace << " is missing: this test compares with strace's output; install the Debian "
      << "package strace (tools/bazel installs it)";
  const std::string trace_file = ::testing::TempDir() + "/decode_calls.strace";
  RunResult traced = dptest::Run({kStrace, "-f", "-qq", "-e", "signal=none", "-e",
                          std::string("trace=") + kDecodeCalls, "-o", trace_file,
                          TestProgram("decode_calls"), "plain"});
  ASSERT_EQ(traced.exit_status, 0) << Describe(traced);
  std::ifstream trace_stream(trace_file);
  const std::string trace((std::istreambuf_iterator<char>(trace_stream)),
                          std::istreambuf_iterator<char>());
  const std::vector<TracedCall> expected =
      StraceCallsBetweenMarkers(trace, FindLabeledNumber(traced.out, "worker_tid"));

  RunResult r = RunSupervised({"--preflight=off", "--on-violation=log", "--report-limit=off",
                               "--format=json", "--", TestProgram("decode_calls"), "strict"});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  const std::vector<Json> decoded =
      DecodedCallsBeforeMarker(r.err, FindLabeledNumber(r.out, "worker_tid"));

  std::string decoded_calls;
  for (const Json& call : decoded) decoded_calls += call["call"].get<std::string>() + "\n";
  ASSERT_EQ(decoded.size(), expected.size())
      << "strace saw:\n" << trace << "\ndpsupervise decoded:\n" << decoded_calls;
  int compared = 0;
  for (size_t c = 0; c < decoded.size(); ++c) {
    const Json& call = decoded[c];
    ASSERT_EQ(call["name"], expected[c].name) << "call " << c;
    for (size_t i = 0; i < call["args"].size(); ++i) {
      const Json& arg = call["args"][i];
      const std::string kind = arg["kind"];
      if (kind != "enum" && kind != "flags" && kind != "signal" && kind != "struct") continue;
      ASSERT_LT(i, expected[c].args.size()) << call["call"];
      EXPECT_EQ(arg["text"], expected[c].args[i])
          << "argument " << arg["name"] << " of dpsupervise's " << call["call"].get<std::string>();
      ++compared;
    }
  }
  // decode_calls's symbolic arguments, so that the test cannot pass by
  // comparing nothing.
  EXPECT_EQ(compared, 74);
}

// A library mapped after the first report (dlopen) is symbolized in the
// next one: the supervisor notices the new file mapping.
TEST(JsonReport, LibraryLoadedAfterTheFirstReportIsSymbolized) {
  RunResult r = RunSupervised({"--preflight=off", "--on-violation=log", "--format=json", "--",
                               TestProgram("dlopen_violate"), TestProgram("libdp_plugin.so")});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  std::vector<Json> violations;
  std::istringstream lines(r.err);
  for (std::string line; std::getline(lines, line);) {
    Json j = Json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == "violation") violations.push_back(j);
  }
  ASSERT_EQ(violations.size(), 2u) << r.err;
  EXPECT_EQ(violations[0]["syscall"]["name"], "getpid");
  EXPECT_THAT(violations[0]["backtrace"][1]["function"].get<std::string>(),
              HasSubstr("BeforeTheLibrary"));
  const Json& second = violations[1];
  EXPECT_EQ(second["syscall"]["name"], "getppid");
  ASSERT_TRUE(second["backtrace"].is_array());
  ASSERT_GE(second["backtrace"].size(), 2u) << second.dump();
  EXPECT_EQ(second["backtrace"][0]["function"], "PluginViolate") << second.dump();
  EXPECT_THAT(second["backtrace"][0]["module"].get<std::string>(), HasSubstr("libdp_plugin.so"));
  EXPECT_THAT(second["backtrace"][1]["function"].get<std::string>(), HasSubstr("Worker"));
}

TEST(Summary, CountersMoveWhenTheProgramProvokesThem) {
  RunResult r = RunSupervised({"--format=json", "--on-violation=log", "--preflight=off", "--",
                               TestProgram("report_target"), "noise"});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  const Json* summary = nullptr;
  std::vector<Json> lines = JsonLines(r.err);
  for (const Json& j : lines) {
    if (j["type"] == "summary") summary = &j;
  }
  ASSERT_NE(summary, nullptr) << r.err;
  ASSERT_EQ((*summary)["threads"].size(), 1u) << summary->dump();
  const Json& t = (*summary)["threads"][0];
  EXPECT_EQ(t["tid"], FindLabeledNumber(r.out, "worker_tid"));
  EXPECT_EQ(t["violations"]["syscall"], 50);
  // The 50 come from one line of code: one call site, counted whole.
  ASSERT_EQ((*summary)["call_sites"].size(), 1u) << summary->dump();
  const Json& site = (*summary)["call_sites"][0];
  EXPECT_EQ(site["kind"], "syscall");
  EXPECT_EQ(site["count"], 50);
  EXPECT_THAT(site["site"].get<std::string>(), HasSubstr(" at ")) << site.dump();
  EXPECT_EQ(t["strict_entries"], 1);
  EXPECT_GT(t["strict_seconds"].get<double>(), 0.0);
  // Each logged violation is a ptrace stop: the thread blocks (voluntary).
  EXPECT_GE(t["voluntary_context_switches"].get<long>(), 50) << t.dump();
  EXPECT_EQ(t["cpu"], 1);
  // membarrier from CPU 0 sends function-call IPIs to the thread's CPU.
  ASSERT_TRUE(t["interrupts"].contains("CAL")) << t.dump();
  EXPECT_GT(t["interrupts"]["CAL"].get<long>(), 0);
  // Linux has had the steal column since 2.6.11: the thread's CPU is measured.
  ASSERT_TRUE(t["steal_ns"].is_object()) << t.dump();
  EXPECT_GE(t["steal_ns"]["1"].get<long long>(), 0) << t.dump();
}

TEST(Summary, TextSummaryOnRequest) {
  RunResult r = RunSupervised({"--summary", "--on-violation=log", "--preflight=off", "--",
                               TestProgram("report_target"), "noise"});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("dpsupervise: summary: 50 violations, exit status 0"));
  EXPECT_THAT(r.err, HasSubstr("context switches:"));
  EXPECT_THAT(r.err, HasSubstr("CAL"));
}

// The verdict of a run, and --error-exitcode.
TEST(Verdict, ErrorExitcodeWhenViolationsWereOnlyLogged) {
  RunResult r = RunSupervised({"--format=json", "--on-violation=log", "--preflight=off",
                               "--error-exitcode=9", "--", TestProgram("report_target"), "noise"});
  ASSERT_EQ(r.exit_status, 9) << Describe(r);
  const std::vector<Json> verdicts = JsonRecords(r.err, "verdict");
  ASSERT_EQ(verdicts.size(), 1u) << r.err;
  EXPECT_EQ(verdicts[0]["violations"], 50);
  EXPECT_EQ(verdicts[0]["strict_threads"], 1);
  EXPECT_EQ(verdicts[0]["violating_threads"], 1);
  EXPECT_EQ(verdicts[0]["program_status"], 0);
  EXPECT_EQ(verdicts[0]["exit_status"], 9);
  EXPECT_EQ(JsonLines(r.err).back()["type"], "verdict");
  EXPECT_EQ(JsonRecords(r.err, "summary").at(0)["exit_status"], 9);
}

TEST(Verdict, ErrorExitcodeWinsOverTheKillActionsStatus) {
  RunResult r = RunSupervised(
      {"--preflight=off", "--error-exitcode=9", "--", TestProgram("report_target"), "violate"});
  EXPECT_EQ(r.exit_status, 9) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("\ndpsupervise: 1 violation in 1 strict thread\n"));
}

TEST(Verdict, NoViolationKeepsTheProgramsStatus) {
  RunResult r = RunSupervised(
      {"--preflight=off", "--error-exitcode=9", "--", TestProgram("report_target"), "quiesce"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_EQ(r.err, "dpsupervise: no violations in 1 strict thread\n");
}

TEST(Verdict, AStrictThreadGlobThatMatchedNothingIsSaid) {
  RunResult r = RunSupervised({"--strict-thread=no-such-thread", "--", "/bin/true"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_EQ(r.err, "dpsupervise: no thread entered strict mode\n");
  r = RunSupervised({"-q", "--strict-thread=no-such-thread", "--", "/bin/true"});
  EXPECT_EQ(r.err, "") << Describe(r);
}

// --report-limit: a series of identical violations is reported 5 times
// whole, the rest is counted; every one is acted on.
TEST(ReportLimit, IdenticalViolationsAreCountedNotReportedAndAllActedOn) {
  RunResult r = RunSupervised({"--format=json", "--on-violation=errno EPERM", "--preflight=off",
                               "--", TestProgram("violate_n"), "20"});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  // Each of the 20 getpid calls got the action's EPERM.
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(r.out, HasSubstr("result[" + std::to_string(i) + "]=-1\n")) << i;
  }
  int getpid_reports = 0;
  for (const Json& v : JsonViolations(r.err)) getpid_reports += v["syscall"]["name"] == "getpid";
  EXPECT_EQ(getpid_reports, 5) << r.err;
  long long suppressed = 0;
  for (const Json& s : JsonRecords(r.err, "suppressed")) {
    EXPECT_EQ(s["site"], "getpid") << s.dump();
    suppressed += s["suppressed"].get<long long>();
    EXPECT_LE(s["total"].get<long long>(), 20);
  }
  EXPECT_EQ(suppressed, 15) << r.err;
  // getpid 20 times, then write and sched_yield: all counted.
  EXPECT_EQ(JsonRecords(r.err, "verdict").at(0)["violations"], 22);
}

TEST(ReportLimit, OffReportsEveryViolation) {
  RunResult r = RunSupervised({"--format=json", "--on-violation=log", "--preflight=off",
                               "--report-limit=off", "--", TestProgram("violate_n"), "20"});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_EQ(JsonViolations(r.err).size(), 22u) << r.err;
  EXPECT_TRUE(JsonRecords(r.err, "suppressed").empty());
}

TEST(LineFormat, OneLinePerViolationWithTimeTopFrameAndAction) {
  RunResult r = RunSupervised(
      {"--format=line", "--preflight=off", "--", TestProgram("report_target"), "violate"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.err, ::testing::ContainsRegex(
                         "dpsupervise: [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} [^ ]+/[0-9]+ "
                         "syscall getpid\\(\\) in [^\n]*RawSyscall0[^\n]* -> kill\n"));
  EXPECT_THAT(r.err, Not(HasSubstr("RIP:")));
  EXPECT_THAT(r.err, Not(HasSubstr("backtrace")));
}

TEST(TextReport, BacktraceDepthAndNoRegisters) {
  RunResult r = RunSupervised({"--backtrace-depth=1", "--registers=no", "--preflight=off", "--",
                               TestProgram("report_target"), "violate"});
  ASSERT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_EQ(BacktraceLines(r.err).size(), 1u) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("RIP:")));
  EXPECT_THAT(r.err,
              ::testing::ContainsRegex("\n  time:    [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}\n"));
}

TEST(Preflight, WarnsAboutThisMachine) {
  RunResult r = RunSupervised({"--", TestProgram("report_target"), "quiesce"});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  // No isolated CPU and no nohz_full here (the CI machines isolate no CPU).
  EXPECT_THAT(r.err, HasSubstr("dpsupervise: preflight: "));
  EXPECT_THAT(r.err, HasSubstr("no CPU is isolated"));
  EXPECT_THAT(r.err, HasSubstr("nohz_full"));
  EXPECT_THAT(r.out, HasSubstr("quiesce flags=3"));
}

TEST(Preflight, EnforceRefusesAThreadNotOnAnIsolatedCpuWithEinval) {
  // No CPU is isolated here: the affinity and isolation checks fail, and
  // the entry fails with EINVAL, as under the task-isolation patches.
  RunResult r =
      RunSupervised({"--preflight=enforce", "--", TestProgram("report_target"), "violate"});
  EXPECT_EQ(r.exit_status, 3) << Describe(r);  // EnterStrictOrDie: EINVAL
  EXPECT_THAT(r.err, HasSubstr("strict entry refused (--preflight=enforce)"));
  EXPECT_THAT(r.err, HasSubstr("dp_enter_strict: Invalid argument"));
  EXPECT_THAT(r.err,
              HasSubstr("dpsupervise: no thread entered strict mode; 1 strict entry refused\n"));
}

TEST(Preflight, OffSaysNothing) {
  RunResult r =
      RunSupervised({"-q", "--preflight=off", "--", TestProgram("report_target"), "quiesce"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace dptest
