// Adversarial end-to-end tests of the core promise: no kernel entry of a
// strict thread goes unreported, and dpsupervise never harms the program
// (testdata/adversary.cc, testdata/hostile.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/run_util.h"
#include "tests/test_files.h"

namespace dptest {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

// The "type":"violation" records of a --format=json run.
std::vector<Json> Violations(const std::string& err) {
  std::vector<Json> found;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    Json record = Json::parse(line);
    if (record["type"] == "violation") found.push_back(record);
  }
  return found;
}

// The text of the "type":"message" records of a --format=json run.
std::string Messages(const std::string& err) {
  std::string text;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '{') continue;
    Json record = Json::parse(line);
    if (record["type"] == "message") text += record["text"].get<std::string>() + "\n";
  }
  return text;
}

// A policy of three rules of 100 alternatives each: a large filter.
std::string LargePolicy() {
  std::string text;
  for (const char* syscall : {"write", "read", "ioctl"}) {
    text += std::string(syscall) + ": arg0 == 1000";
    for (int i = 1; i < 100; ++i) text += " || arg0 == " + std::to_string(1000 + i);
    text += "\n";
  }
  return text;
}

// Another thread's exec while the main thread's first strict entry runs:
// the new image must never get the old image's registers (it used to die
// by SIGSEGV at an old address in about a third of the runs).
TEST(Entry, AnExecDuringTheFirstEntryLeavesTheNewImageAlone) {
  for (int run = 0; run < 30; ++run) {
    RunResult r = RunSupervised(
        {"--format=json", "--", TestProgram("adversary"), "exec-during-entry"});
    ASSERT_EQ(r.exit_status, 0) << "run " << run << ": " << Describe(r);
    ASSERT_THAT(r.out, HasSubstr("exec done")) << "run " << run << ": " << Describe(r);
    ASSERT_TRUE(Violations(r.err).empty()) << "run " << run << ": " << Describe(r);
  }
}

// A thread on a small stack of the program's own: the filter image must not
// be written below it (a large policy's filter is bigger than the room left).
TEST(Entry, NeverWritesBelowASmallStack) {
  const std::string policy = TestTmpDir() + "/large.policy";
  WriteTestFile(policy, LargePolicy());
  RunResult check = RunSupervised({"--policy=" + policy, "--check-policy"});
  ASSERT_EQ(check.exit_status, 0) << Describe(check);
  std::smatch size;
  ASSERT_TRUE(std::regex_search(check.out, size, std::regex("strict filter: ([0-9]+) BPF")));
  // The thread has 512 bytes of stack left: the image (8 bytes an instruction)
  // would not fit in it.
  ASSERT_GT(std::stoi(size[1].str()) * 8, 512) << check.out;

  RunResult r = RunSupervised({"--policy=" + policy, "--format=json", "--", TestProgram("adversary"),
                               "small-stack"});
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("entry=0 canary=intact")) << Describe(r);
}

class VdsoGone : public ::testing::TestWithParam<const char*> {};

// Entry from outside runs seccomp through a syscall instruction of the
// program's: with no usable vDSO, another one is found.
TEST_P(VdsoGone, EntryFromOutsideStillWorks) {
  RunResult r = RunSupervised({"--strict-thread=dp-worker", "--format=json", "--",
                               TestProgram("adversary"), GetParam()},
                              {.timeout_seconds = 60});
  ASSERT_FALSE(r.timed_out) << Describe(r);
  EXPECT_EQ(r.exit_status, 137) << Describe(r);
  EXPECT_THAT(r.out, HasSubstr("vdso gone"));
  std::vector<Json> violations = Violations(r.err);
  ASSERT_EQ(violations.size(), 1u) << Describe(r);
  EXPECT_EQ(violations[0]["kind"], "syscall");
  EXPECT_EQ(violations[0]["syscall"]["name"], "getpid");
  EXPECT_EQ(violations[0]["thread"], "dp-worker");
}

INSTANTIATE_TEST_SUITE_P(UnmappedOrProtNone, VdsoGone,
                         ::testing::Values("vdso-unmap", "vdso-protnone"),
                         [](const auto& info) {
                           return std::string(info.param) == "vdso-unmap" ? "Unmapped"
                                                                          : "ProtNone";
                         });

}  // namespace
}  // namespace dptest
