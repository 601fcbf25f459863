// The real test: DPDK's testpmd (Debian's dpdk-dev), with null devices,
// made strict from outside. See docs/howto-dpdk.md.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_util.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kTestpmd[] = "/usr/bin/dpdk-testpmd";

std::vector<std::string> TestpmdArgs(const std::vector<std::string>& app_args) {
  // Null devices need no hardware and no hugepages.
  // stdbuf -oL: testpmd's stdout is a pipe here; its "Press enter to exit"
  // would sit in the stdio buffer. --no-shconf: no runtime config files.
  std::vector<std::string> args = {"/usr/bin/stdbuf", "-oL", kTestpmd, "--no-huge",        "-m",
                                   "1024",         "--no-pci",         "--no-shconf",
                                   "--vdev=net_null0", "--vdev=net_null1", "-l",
                                   "0-1",          "--",               "--total-num-mbufs=4096",
                                   "--nb-cores=1"};
  args.insert(args.end(), app_args.begin(), app_args.end());
  return args;
}

std::vector<std::string> Supervised(const std::vector<std::string>& options,
                                    const std::vector<std::string>& app_args) {
  std::vector<std::string> argv = {Runfile("supervisor/dpsupervise")};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  std::vector<std::string> testpmd = TestpmdArgs(app_args);
  argv.insert(argv.end(), testpmd.begin(), testpmd.end());
  return argv;
}

class Testpmd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kTestpmd, X_OK) != 0) {
      GTEST_SKIP() << kTestpmd << " is missing: install Debian's dpdk-dev (tools/bazel does)";
    }
  }
};

// io forwarding with -a: the worker, made strict once its set-up is done,
// forwards for seconds with no kernel entry at all; --strict-for ends the
// window before shutdown (where it blocks in read() by design).
TEST_F(Testpmd, IoForwardingWorkerRunsStrictWithZeroViolations) {
  Background bg(Supervised({"--preflight=off", "--format=json", "--strict-thread=rte-worker-*",
                            "--strict-after=5s", "--strict-for=3s"},
                           {"-a"}),
                /*pipe_stdin=*/true);
  ASSERT_TRUE(bg.WaitForStdout("Press enter to exit", 60)) << bg.out() << bg.err();
  ASSERT_TRUE(bg.WaitForStderr("strict mode left after --strict-for", 60)) << bg.err();
  bg.WriteStdin("\n");
  RunResult r = bg.Wait(60);
  EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Bye..."));
  EXPECT_EQ(CountReports(r.err), 0) << r.err;
  const Json* summary = nullptr;
  std::vector<Json> lines;
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '{') lines.push_back(Json::parse(line));
  }
  for (const Json& j : lines) {
    if (j["type"] == "summary") summary = &j;
  }
  ASSERT_NE(summary, nullptr) << r.err;
  EXPECT_EQ((*summary)["total_violations"], 0);
  ASSERT_EQ((*summary)["threads"].size(), 1u) << summary->dump();
  const Json& worker = (*summary)["threads"][0];
  EXPECT_THAT(worker["thread"].get<std::string>(), HasSubstr("rte-worker-"));
  EXPECT_GT(worker["strict_seconds"].get<double>(), 2.5);
  EXPECT_EQ(worker["minor_faults"], 0) << worker.dump();
  EXPECT_TRUE(worker["involuntary_context_switches"].is_number()) << worker.dump();
  EXPECT_TRUE(worker["interrupts"].is_object());
}

// Interactive rxonly + verbose: the worker prints every packet while
// strict; under log each write is reported with its tid and a backtrace
// through libc's printf, and testpmd still quits cleanly.
TEST_F(Testpmd, VerboseRxonlyWritesAreReportedThroughPrintf) {
  Background bg(Supervised({"--preflight=off", "--on-violation=log",
                            "--strict-thread=rte-worker-*"},
                           {"-i"}),
                /*pipe_stdin=*/true);
  bg.WriteStdin("set fwd rxonly\nset verbose 1\nstart\n");
  ASSERT_TRUE(bg.WaitForStderr("strict mode violated by syscall write(1, ", 60)) << bg.err();
  ASSERT_TRUE(bg.WaitForStderr("printf", 30)) << bg.err();
  bg.WriteStdin("stop\nquit\n");
  bg.CloseStdin();
  RunResult r = bg.Wait(120);
  EXPECT_EQ(r.exit_status, 0) << r.err.substr(0, 4000);
  EXPECT_THAT(r.out, HasSubstr("Bye..."));
  // Every report blames the worker, by name and tid.
  std::istringstream in(r.err);
  int writes = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find("strict mode violated") == std::string::npos) continue;
    EXPECT_THAT(line, HasSubstr("rte-worker-")) << line;
    if (line.find("syscall write(1, ") != std::string::npos) ++writes;
  }
  EXPECT_GT(writes, 0);
  EXPECT_THAT(r.err, ::testing::ContainsRegex("in __printf_chk|in printf|in __vfprintf_internal"));
}

// Attach to a running testpmd, make its worker strict, detach on SIGINT:
// it keeps forwarding and quits cleanly.
TEST_F(Testpmd, AttachMakeStrictDetachLeavesItForwarding) {
  Background testpmd(TestpmdArgs({"-a"}), /*pipe_stdin=*/true);
  ASSERT_TRUE(testpmd.WaitForStdout("Press enter to exit", 60)) << testpmd.out();
  Background supervisor({Runfile("supervisor/dpsupervise"), "--preflight=off", "--summary",
                         "--strict-thread=rte-worker-*", "--strict-after=2s", "-p",
                         std::to_string(testpmd.pid())});
  ASSERT_TRUE(supervisor.WaitForStderr("strict mode entered (attached", 60)) << supervisor.err();
  // Two more seconds strict, then detach.
  ASSERT_FALSE(supervisor.WaitForStderr("strict mode violated", 2)) << supervisor.err();
  kill(supervisor.pid(), SIGINT);
  RunResult detached = supervisor.Wait(60);
  EXPECT_EQ(detached.exit_status, 0) << detached.err;
  EXPECT_THAT(detached.err, HasSubstr("detached from process"));
  EXPECT_EQ(CountReports(detached.err), 0) << detached.err;
  testpmd.WriteStdin("\n");
  RunResult r = testpmd.Wait(60);
  EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Bye..."));
  // It forwarded all along: the port statistics are not empty.
  EXPECT_THAT(r.out, ::testing::ContainsRegex("RX-packets: [1-9][0-9]*"));
}

}  // namespace
}  // namespace dptest
