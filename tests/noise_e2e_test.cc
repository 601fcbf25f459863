// End-to-end tests of --noise: the real binary follows the kernel's
// tracepoints while testdata/noise_sources's worker is strict on CPU 1 and
// others interrupt it on purpose (an IPI sender thread, a competing
// process, a violation dpsupervise stops the worker for). Needs root
// outside Bazel's sandbox and 2 CPUs (tagged no-sandbox); skipped otherwise.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/json_records.h"
#include "tests/run_util.h"

namespace dptest {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// What noise_sources prints once its worker was interrupted.
struct Identities {
  int worker = 0;
  int sender = 0;
  int hog = 0;
};

Identities ParseIdentities(const std::string& out) {
  Identities ids;
  const size_t at = out.find("worker=");
  if (at != std::string::npos) {
    sscanf(out.c_str() + at, "worker=%d sender=%d hog=%d", &ids.worker, &ids.sender, &ids.hog);
  }
  return ids;
}

std::vector<std::string> FrameFunctions(const Json& backtrace) {
  std::vector<std::string> functions;
  for (const Json& frame : backtrace) functions.push_back(frame["function"]);
  return functions;
}

class NoiseE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "tracing the kernel needs root";
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs 2 CPUs";
  }
  // Runs dpsupervise on noise_sources; `supervisor_pid` gets its pid.
  static RunResult RunNoiseSources(const std::vector<std::string>& options,
                                   pid_t* supervisor_pid = nullptr,
                                   const std::string& mode = "") {
    std::vector<std::string> args = {"--preflight=off", "--on-violation=log"};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("--");
    args.push_back(TestProgram("noise_sources"));
    if (!mode.empty()) args.push_back(mode);
    RunOptions run_options;
    run_options.on_start = [supervisor_pid](pid_t pid) {
      if (supervisor_pid != nullptr) *supervisor_pid = pid;
    };
    return RunSupervised(args, run_options);
  }
};

TEST_F(NoiseE2eTest, EventsNameTheIpiSenderThePreemptingProcessAndDpsupervise) {
  pid_t supervisor = 0;
  RunResult r = RunNoiseSources({"--noise=events", "--format=json"}, &supervisor);
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  const Identities ids = ParseIdentities(r.out);
  ASSERT_NE(ids.worker, 0) << Describe(r);
  std::vector<Json> noise = JsonRecords(r.err, "noise");
  ASSERT_FALSE(noise.empty()) << Describe(r);
  bool ipi_from_sender = false, preempted_by_hog = false, hog_named = false;
  bool stopped_by_us = false, work_named = false, tick = false, hog_timer = false;
  for (const Json& event : noise) {
    EXPECT_EQ(event["tid"], ids.worker) << event;
    EXPECT_EQ(event["cpu"], 1) << event;
    EXPECT_GE(event["duration_ns"].get<long long>(), 0) << event;
    const std::string kind = event["kind"];
    // The sender's membarrier calls (it may send reschedule IPIs too).
    if (kind == "ipi" && event.contains("sender") && event["sender"]["tid"] == ids.sender &&
        event["ipi_type"] == "call_function_single") {
      EXPECT_EQ(event["sender"]["comm"], "ipi-sender") << event;
      EXPECT_EQ(event["sender"]["pid"], event["pid"]) << event;
      EXPECT_EQ(event["sender"]["cpu"], 0) << event;
      EXPECT_THAT(event["sender"]["callsite"].get<std::string>(), HasSubstr("membarrier"));
      // Its user-space backtrace at the send: unwound through libc's
      // syscall() (no frame pointer) from the stack copied at the send,
      // then, beyond the copy, SendFromBigFrame's caller from the kernel's
      // frame-pointer callchain.
      ASSERT_TRUE(event["sender"].contains("backtrace")) << event;
      EXPECT_TRUE(event["sender"]["backtrace_error"].is_null()) << event;
      const std::vector<std::string> functions = FrameFunctions(event["sender"]["backtrace"]);
      EXPECT_THAT(functions, Contains(HasSubstr("SendMembarrierIpi()"))) << event;
      EXPECT_THAT(functions, Contains(HasSubstr("SendFromBigFrame()"))) << event;
      EXPECT_THAT(functions, Contains(HasSubstr("Sender(void*)"))) << event;
      ipi_from_sender = true;
    }
    if (kind == "timer") {
      // The scheduler tick; and the hrtimer of the hog's nanosleep, armed
      // on CPU 1, expiring there while the worker spins.
      const std::string functions = event["timer_function"];
      tick |= functions.find("tick_nohz_handler") != std::string::npos;
      hog_timer |= functions.find("hrtimer_wakeup") != std::string::npos;
      EXPECT_LT(event["duration_ns"].get<long long>(), 5000000) << event;
    }
    if (kind == "preemption") {
      if (event["by"]["pid"] == ids.hog) {
        // Named "exe" until its prctl(PR_SET_NAME), just after its exec.
        hog_named |= event["by"]["comm"] == "cpu-hog";
        EXPECT_FALSE(event["by_dpsupervise"].get<bool>()) << event;
        preempted_by_hog = true;
      }
      // The sender's writes to /proc/sys/vm/stat_refresh: a kworker ran
      // refresh_vm_stats on the worker's CPU.
      for (const Json& function : event["work"]) {
        work_named |= function == "refresh_vm_stats";
      }
      if (event["by_dpsupervise"].get<bool>()) {
        EXPECT_EQ(event["cause"], "preemption by dpsupervise") << event;
        stopped_by_us = true;
      }
      // dpsupervise's own threads are never blamed on anyone else (another
      // dpsupervise, of a test run in parallel, is someone else).
      if (event["by"]["pid"] == supervisor) {
        EXPECT_TRUE(event["by_dpsupervise"].get<bool>()) << event;
      }
    }
  }
  EXPECT_TRUE(ipi_from_sender) << r.err;
  EXPECT_TRUE(preempted_by_hog) << r.err;
  EXPECT_TRUE(hog_named) << r.err;
  EXPECT_TRUE(stopped_by_us) << r.err;
  EXPECT_TRUE(work_named) << r.err;
  EXPECT_TRUE(tick) << r.err;
  EXPECT_TRUE(hog_timer) << r.err;
  std::vector<Json> summaries = JsonRecords(r.err, "noise_summary");
  ASSERT_EQ(summaries.size(), 1u) << r.err;
  EXPECT_EQ(summaries[0]["tid"], ids.worker);
  EXPECT_GE(summaries[0]["by_kind"]["ipi"]["count"].get<long long>(), 1);
  EXPECT_GE(summaries[0]["by_kind"]["preemption"]["count"].get<long long>(), 2);
  EXPECT_FALSE(summaries[0]["top_causes"].empty());
  EXPECT_GE(summaries[0]["by_kind"]["preemption"]["p99_ns"].get<long long>(), 0);
  ASSERT_FALSE(summaries[0]["longest"].empty()) << summaries[0];
  EXPECT_EQ(summaries[0]["longest"][0]["tid"], ids.worker);
  long long histogram_total = 0;
  for (const Json& bucket : summaries[0]["histogram"]) {
    histogram_total += bucket["count"].get<long long>();
  }
  EXPECT_GE(histogram_total, 3) << summaries[0];
  EXPECT_TRUE(summaries[0].contains("lost_records"));
  // Interrupts and switches followed on the worker's CPU only.
  EXPECT_EQ(summaries[0]["cpus_followed"], Json::array({1})) << summaries[0];
  // The worker is pinned to CPU 1: its steal time is that CPU's.
  ASSERT_TRUE(summaries[0]["steal_ns"].is_object()) << summaries[0];
  EXPECT_TRUE(summaries[0]["steal_ns"].contains("1")) << summaries[0];
}

TEST_F(NoiseE2eTest, SummaryModeWritesTheSummaryAndNoEvents) {
  RunResult r = RunNoiseSources({"--noise=summary"});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  const Identities ids = ParseIdentities(r.out);
  EXPECT_THAT(r.err, HasSubstr("noise summary (kernel tracepoints):"));
  EXPECT_THAT(r.err, HasSubstr("thread noise_sources (pid "));
  EXPECT_THAT(r.err, HasSubstr("tid " + std::to_string(ids.worker) + "): "));
  EXPECT_THAT(r.err, HasSubstr("    preemption: "));
  EXPECT_THAT(r.err, HasSubstr("    top causes:\n"));
  EXPECT_THAT(r.err, HasSubstr(", p99 "));
  EXPECT_THAT(r.err, HasSubstr("    longest:\n"));
  EXPECT_THAT(r.err, HasSubstr("    durations:\n"));
  EXPECT_THAT(r.err, HasSubstr("    steal (hypervisor, /proc/stat): "));
  EXPECT_THAT(r.err, HasSubstr("  followed: CPU 1 (interrupts, switches, work items), IPI sends "
                               "on every CPU\n"));
  EXPECT_THAT(r.err, Not(HasSubstr("\nnoise: ")));
  // Its worker is pinned to CPU 1: dpsupervise keeps to CPU 0, no warning.
  EXPECT_THAT(r.err, Not(HasSubstr("cannot keep dpsupervise's threads off")));
}

// The worker moved to CPU 0 while strict: one migration 1 -> 0, and CPU
// 0's interrupts followed from then on.
TEST_F(NoiseE2eTest, AMigrationNamesItsCpusAndFollowsTheThread) {
  RunResult r = RunNoiseSources({"--noise=events", "--format=json"}, nullptr, "migrate");
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  const Identities ids = ParseIdentities(r.out);
  ASSERT_NE(ids.worker, 0) << Describe(r);
  int migrations = 0;
  bool interrupted_on_cpu0 = false;
  for (const Json& event : JsonRecords(r.err, "noise")) {
    if (event["kind"] == "migration") {
      EXPECT_EQ(event["tid"], ids.worker) << event;
      EXPECT_EQ(event["from_cpu"], 1) << event;
      EXPECT_EQ(event["to_cpu"], 0) << event;
      EXPECT_EQ(event["cause"], "migration 1->0") << event;
      EXPECT_EQ(event["duration_ns"], 0) << event;
      ++migrations;
    } else if (event["cpu"] == 0) {
      interrupted_on_cpu0 = true;
    }
  }
  EXPECT_EQ(migrations, 1) << r.err;
  std::vector<Json> summaries = JsonRecords(r.err, "noise_summary");
  ASSERT_EQ(summaries.size(), 1u) << r.err;
  EXPECT_EQ(summaries[0]["cpus_followed"], Json::array({0, 1})) << summaries[0];
  EXPECT_EQ(summaries[0]["by_kind"]["migration"]["count"], 1) << summaries[0];
  // 20 ms on CPU 0, shared with dpsupervise and the main thread: some
  // interruption there is seen (the tick at the least).
  EXPECT_TRUE(interrupted_on_cpu0) << r.err;
}

// --action=preemption=kill: the first preemption read (the hog's, or
// another task's) kills the program.
TEST_F(NoiseE2eTest, APreemptionActionKillsTheProgram) {
  RunResult r = RunNoiseSources({"--action=preemption=kill", "--format=json"});
  EXPECT_EQ(r.exit_status, 128 + SIGKILL) << Describe(r);
  std::vector<Json> violations = JsonRecords(r.err, "violation");
  ASSERT_EQ(violations.size(), 1u) << r.err;
  EXPECT_EQ(violations[0]["kind"], "preemption") << violations[0];
  EXPECT_THAT(violations[0]["action"].get<std::string>(), HasSubstr("kill")) << violations[0];
  ASSERT_TRUE(violations[0]["interruption"].is_object()) << violations[0];
  EXPECT_EQ(violations[0]["interruption"]["kind"], "preemption") << violations[0];
  EXPECT_FALSE(violations[0]["interruption"]["by_dpsupervise"].get<bool>()) << violations[0];
  EXPECT_GT(violations[0]["interruption"]["duration_ns"].get<long long>(), 0) << violations[0];
  EXPECT_THAT(r.out, Not(HasSubstr("worker=")));  // killed before it finished
}

// Without --noise, where tracing is allowed (root here): the summary.
TEST_F(NoiseE2eTest, TheDefaultIsTheSummary) {
  RunResult r = RunNoiseSources({"--format=json"});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_TRUE(JsonRecords(r.err, "noise").empty()) << r.err;
  std::vector<Json> summaries = JsonRecords(r.err, "noise_summary");
  ASSERT_EQ(summaries.size(), 1u) << r.err;
  EXPECT_EQ(summaries[0]["tid"], ParseIdentities(r.out).worker);
  EXPECT_GE(summaries[0]["by_kind"]["preemption"]["count"].get<long long>(), 1) << summaries[0];
}

// No thread entered strict mode: the verdict says so, no noise summary.
TEST_F(NoiseE2eTest, NoNoiseSummaryWithoutAStrictThread) {
  RunResult r = RunSupervised({"--noise=summary", "--", "/bin/true"});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("dpsupervise: no thread entered strict mode\n"));
  EXPECT_THAT(r.err, Not(HasSubstr("noise summary")));
}

TEST_F(NoiseE2eTest, WarnsOnceWhenItCannotKeepOffTheStrictCpus) {
  // strict_compute's thread may run on every CPU: dpsupervise has none left.
  RunResult r = RunSupervised(
      {"--noise=summary", "--preflight=off", "--", TestProgram("strict_compute")});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  const std::string warning =
      "dpsupervise: --noise: cannot keep dpsupervise's threads off the strict CPUs (strict "
      "threads may run on CPUs ";
  EXPECT_THAT(r.err, HasSubstr(warning));
  EXPECT_EQ(r.err.find(warning), r.err.rfind(warning)) << r.err;
  EXPECT_THAT(r.err, HasSubstr("): its own work interrupts them (labelled by_dpsupervise); pin "
                               "the strict threads to CPUs of their own (taskset, "
                               "sched_setaffinity)\n"));
}

TEST_F(NoiseE2eTest, ByDefaultThePreflightAloneSaysToPin) {
  RunResult r = RunSupervised({"--", TestProgram("strict_compute")});
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("noise summary (kernel tracepoints):"));
  EXPECT_THAT(r.err, Not(HasSubstr("cannot keep dpsupervise's threads off")));
  EXPECT_THAT(r.err, HasSubstr("; pin it to one isolated CPU"));
}

// --action=ipi=log: each IPI the sender makes is a violation of the
// worker, reported with the event's attribution and where the worker was;
// tracing for an action (--noise=off) writes no noise records or summary
// of its own.
TEST_F(NoiseE2eTest, AnIpiGivenAnActionIsAViolationNamingItsSender) {
  pid_t supervisor = 0;
  RunResult r = RunNoiseSources(
      {"--action=ipi=log", "--noise=off", "--format=json", "--report-limit=off"}, &supervisor);
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  const Identities ids = ParseIdentities(r.out);
  ASSERT_NE(ids.worker, 0) << Describe(r);
  EXPECT_TRUE(JsonRecords(r.err, "noise").empty()) << r.err;
  EXPECT_TRUE(JsonRecords(r.err, "noise_summary").empty()) << r.err;
  int from_sender = 0;
  for (const Json& v : JsonRecords(r.err, "violation")) {
    if (v["kind"] != "ipi") continue;
    EXPECT_EQ(v["tid"], ids.worker) << v;
    EXPECT_EQ(v["action"], "log") << v;
    ASSERT_TRUE(v["interruption"].is_object()) << v;
    EXPECT_EQ(v["interruption"]["kind"], "ipi") << v;
    EXPECT_LE(v["interruption"]["start_ns"].get<long long>(), v["time_ns"].get<long long>());
    // This dpsupervise's own IPIs (its interrupt's kick) are never
    // violations (another one, of a test run in parallel, is someone else).
    if (v["interruption"].contains("sender")) {
      EXPECT_NE(v["interruption"]["sender"]["pid"], supervisor) << v;
      if (v["interruption"]["sender"]["tid"] == ids.sender) ++from_sender;
    }
    // Where the worker was when stopped for the report: its spin loop.
    ASSERT_FALSE(v["backtrace"].empty()) << v;
  }
  EXPECT_GE(from_sender, 1) << r.err;
  std::vector<Json> summary = JsonRecords(r.err, "summary");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_GE(summary[0]["threads"][0]["violations"]["ipi"].get<long long>(), from_sender);
}

// --action=ipi=signal:SIGUSR1: the worker gets SIGUSR1 (it has no handler,
// so the program dies of it) at the first IPI read.
TEST_F(NoiseE2eTest, AnIpiActionSignalsTheInterruptedThread) {
  RunResult r = RunNoiseSources({"--action=ipi=signal:SIGUSR1", "--format=json"});
  EXPECT_EQ(r.exit_status, 128 + SIGUSR1) << Describe(r);
  std::vector<Json> violations = JsonRecords(r.err, "violation");
  ASSERT_FALSE(violations.empty()) << r.err;
  EXPECT_EQ(violations[0]["kind"], "ipi") << violations[0];
  EXPECT_EQ(violations[0]["action"], "signal SIGUSR1");
}

// A kind nobody can trace cannot be acted on: a usage error before the
// program starts, not an action that silently never happens.
TEST_F(NoiseE2eTest, AnActionThatNeedsTracingIsRefusedWithoutIt) {
  std::vector<std::string> argv = {"/usr/bin/setpriv", "--bounding-set=-perfmon,-sys_admin", "--",
                                   Runfile("supervisor/dpsupervise"), "--action=preemption=kill",
                                   "--", TestProgram("strict_compute")};
  RunResult r = dptest::Run(argv);
  EXPECT_EQ(r.exit_status, 2) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("dpsupervise: an action is given for preemption interruptions, "
                               "but the kernel's tracepoints cannot be followed ("));
  EXPECT_THAT(r.err, HasSubstr("run as root or with CAP_PERFMON, or drop the action"));
  EXPECT_THAT(r.out, Not(HasSubstr("supervised=")));  // the program never ran
}

// Without --noise and without the privilege: not traced, and nothing said
// (the default is the summary only where tracing is allowed).
TEST_F(NoiseE2eTest, WithoutThePrivilegeTheDefaultIsQuietlyOff) {
  std::vector<std::string> argv = {"/usr/bin/setpriv", "--bounding-set=-perfmon,-sys_admin", "--",
                                   Runfile("supervisor/dpsupervise"), "--preflight=off", "--",
                                   TestProgram("strict_compute")};
  RunResult r = dptest::Run(argv);
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.err, Not(HasSubstr("--noise")));
  EXPECT_THAT(r.err, Not(HasSubstr("noise summary")));
  EXPECT_THAT(r.err, Not(HasSubstr("context switches")));  // no counters summary either
  EXPECT_THAT(r.err, HasSubstr("dpsupervise: no violations in 1 strict thread\n"));
}

TEST_F(NoiseE2eTest, WithoutThePrivilegeSaysSoOnceAndShowsTheCounters) {
  // Root without CAP_PERFMON and CAP_SYS_ADMIN may not trace every task.
  std::vector<std::string> argv = {"/usr/bin/setpriv", "--bounding-set=-perfmon,-sys_admin", "--",
                                   Runfile("supervisor/dpsupervise"), "--noise=summary",
                                   "--preflight=off", "--", TestProgram("strict_compute")};
  RunResult r = dptest::Run(argv);
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_THAT(r.err, HasSubstr("dpsupervise: --noise: cannot trace the kernel (perf_event_open("));
  EXPECT_THAT(r.err, HasSubstr("); the summary shows /proc noise counters instead\n"));
  EXPECT_THAT(r.err, HasSubstr("context switches: voluntary"));
  EXPECT_THAT(r.err, Not(HasSubstr("noise summary")));
}

}  // namespace
}  // namespace dptest
