// Noise attribution and its report lines, fed synthetic tracepoint records
// (tracing/noise_attribution.h, tracing/noise_format.h).
#include "supervisor/tracing/noise_attribution.h"

#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "supervisor/tracing/noise_format.h"

namespace dpsupervise {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr pid_t kOwnPid = 50;         // dpsupervise
constexpr pid_t kProgram = 100;       // the supervised process
constexpr pid_t kWorker = 101;        // its strict thread, on CPU 1
constexpr pid_t kSender = 102;        // another thread of it, on CPU 0
constexpr pid_t kHog = 300;           // another process
constexpr pid_t kGone = 450;          // a thread of process kGoneGroup, gone from /proc
constexpr pid_t kGoneGroup = 449;
constexpr int64_t kBegin = 1000000;   // the window
constexpr int64_t kEnd = 9000000;

NoiseAttribution::Options TestOptions() {
  NoiseAttribution::Options options;
  options.own_pid = kOwnPid;
  options.tgid_of = [](pid_t tid) -> pid_t {
    if (tid == kSender || tid == kWorker) return kProgram;
    if (tid == kGone) return 0;
    return tid;
  };
  options.comm_of = [](pid_t tid) -> std::string { return tid == kSender ? "ipi-sender" : ""; };
  return options;
}

class NoiseAttributionTest : public ::testing::Test {
 protected:
  NoiseAttributionTest() : attribution_(TestOptions()) {
    attribution_.WindowBegins(kProgram, kWorker, "worker", kBegin);
    attribution_.WindowEnds(kWorker, kEnd);
  }

  // A record on `cpu` at `time`, the current task there being `tid`.
  static TraceRecord Record(TraceEventType type, int64_t time, int cpu, pid_t tid) {
    TraceRecord record;
    record.type = type;
    record.time_ns = time;
    record.cpu = cpu;
    record.tid = tid;
    record.pid = TestOptions().tgid_of(tid);
    return record;
  }
  static TraceRecord Send(int64_t time, pid_t sender, const std::string& callback) {
    TraceRecord record = Record(TraceEventType::kIpiSend, time, 0, sender);
    record.target_cpus = {1};
    record.callsite = "membarrier_private_expedited";
    record.callback = callback;
    return record;
  }
  static TraceRecord Ipi(TraceEventType type, int64_t time, pid_t current,
                         const std::string& ipi_type) {
    TraceRecord record = Record(type, time, 1, current);
    record.ipi_type = ipi_type;
    return record;
  }
  static TraceRecord Switch(int64_t time, pid_t prev, long prev_state, pid_t next,
                            const std::string& next_comm) {
    TraceRecord record = Record(TraceEventType::kSchedSwitch, time, 1, prev);
    record.prev_tid = prev;
    record.prev_state = prev_state;
    record.next_tid = next;
    record.next_comm = next_comm;
    return record;
  }

  // Feeds `records` in order; every noise event they complete.
  std::vector<NoiseEvent> FeedAll(const std::vector<TraceRecord>& records) {
    std::vector<NoiseEvent> events;
    for (const TraceRecord& record : records) {
      for (NoiseEvent& event : attribution_.Feed(record)) events.push_back(std::move(event));
    }
    return events;
  }

  NoiseAttribution attribution_;
};

TEST_F(NoiseAttributionTest, IpiNamesItsSenderAndCallsite) {
  auto events = FeedAll({Send(2000000, kSender, "ipi_mb"),
                         Ipi(TraceEventType::kIpiEntry, 2001000, kWorker, "call_function_single"),
                         Ipi(TraceEventType::kIpiExit, 2001800, kWorker, "call_function_single")});
  ASSERT_THAT(events, SizeIs(1));
  const NoiseEvent& ipi = events[0];
  EXPECT_EQ(ipi.kind, NoiseKind::kIpi);
  EXPECT_EQ(ipi.tid, kWorker);
  EXPECT_EQ(ipi.pid, kProgram);
  EXPECT_EQ(ipi.thread, "worker");
  EXPECT_EQ(ipi.cpu, 1);
  EXPECT_EQ(ipi.start_ns, 2001000);
  EXPECT_EQ(ipi.duration_ns, 800);
  EXPECT_TRUE(ipi.has_sender);
  EXPECT_FALSE(ipi.sender_in_interrupt);
  EXPECT_EQ(ipi.sender.tid, kSender);
  EXPECT_EQ(ipi.sender.pid, kProgram);
  EXPECT_EQ(ipi.sender.comm, "ipi-sender");
  EXPECT_EQ(ipi.sender.cpu, 0);
  EXPECT_EQ(ipi.callsite, "membarrier_private_expedited");
  EXPECT_EQ(ipi.callback, "ipi_mb");
  EXPECT_EQ(ipi.cause, "ipi call_function_single membarrier_private_expedited");
}

TEST_F(NoiseAttributionTest, IpiCarriesItsSendersUserStackToTheEvent) {
  TraceRecord send = Send(2000000, kSender, "ipi_mb");
  auto stack = std::make_shared<UserStackSample>();
  stack->regs.rip = 0x401000;
  send.user_stack = stack;
  auto events = FeedAll({send,
                         Ipi(TraceEventType::kIpiEntry, 2001000, kWorker, "call_function_single"),
                         Ipi(TraceEventType::kIpiExit, 2001800, kWorker, "call_function_single")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].sender_stack, stack);
}

TEST_F(NoiseAttributionTest, SendersBacktraceIsInTheJsonAndTextRecords) {
  auto events = FeedAll({Send(2000000, kSender, "ipi_mb"),
                         Ipi(TraceEventType::kIpiEntry, 2001000, kWorker, "call_function_single"),
                         Ipi(TraceEventType::kIpiExit, 2001800, kWorker, "call_function_single")});
  ASSERT_THAT(events, SizeIs(1));
  // pc, function, offset, module, file, line.
  events[0].sender_backtrace = {Frame{0x401234, "SendIpi()", 0x34, "/usr/bin/app", "app.cc", 12}};
  auto json = nlohmann::json::parse(FormatJsonNoiseEvent(events[0]));
  ASSERT_THAT(json["sender"]["backtrace"], SizeIs(1));
  EXPECT_EQ(json["sender"]["backtrace"][0]["function"], "SendIpi()");
  EXPECT_EQ(json["sender"]["backtrace"][0]["pc"], "0x401234");
  EXPECT_EQ(json["sender"]["backtrace"][0]["line"], 12);
  EXPECT_TRUE(json["sender"]["backtrace_error"].is_null());
  EXPECT_THAT(FormatTextNoiseEvent(events[0]),
              HasSubstr("by membarrier_private_expedited; sent in SendIpi()+0x34 at app.cc:12\n"));
}

TEST_F(NoiseAttributionTest, TheSendersNameIsTheOneItHadAtTheSend) {
  // Renamed before the send (PR_SET_NAME), renamed again after it: the
  // name now (comm_of, "ipi-sender") is neither.
  TraceRecord named = Record(TraceEventType::kTaskName, 1900000, 0, kSender);
  named.comm = "rx-poller";
  TraceRecord renamed = Record(TraceEventType::kTaskName, 2000500, 0, kSender);
  renamed.comm = "later-name";
  auto events = FeedAll({named, Send(2000000, kSender, "ipi_mb"), renamed,
                         Ipi(TraceEventType::kIpiEntry, 2001000, kWorker, "call_function_single"),
                         Ipi(TraceEventType::kIpiExit, 2001800, kWorker, "call_function_single")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].sender.comm, "rx-poller");
}

TEST_F(NoiseAttributionTest, IpiSentFromInterruptContextBlamesNoTask) {
  TraceRecord send = Send(2000000, kHog, "");
  send.in_interrupt = true;
  auto events = FeedAll({send, Ipi(TraceEventType::kIpiEntry, 2001000, kWorker, "reschedule"),
                         Ipi(TraceEventType::kIpiExit, 2001500, kWorker, "reschedule")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_TRUE(events[0].has_sender);
  EXPECT_TRUE(events[0].sender_in_interrupt);
  EXPECT_EQ(events[0].sender.tid, 0);
  EXPECT_EQ(events[0].sender.cpu, 0);
}

TEST_F(NoiseAttributionTest, ArrivalAtAnotherTaskStillTakesItsSend) {
  // The first IPI interrupts the idle task (the worker was not running):
  // no noise, but its send must not be blamed for the second, unsent one.
  auto events =
      FeedAll({Send(2000000, kSender, "ipi_mb"),
               Ipi(TraceEventType::kIpiEntry, 2001000, 0, "call_function_single"),
               Ipi(TraceEventType::kIpiExit, 2001500, 0, "call_function_single"),
               Ipi(TraceEventType::kIpiEntry, 3000000, kWorker, "call_function_single"),
               Ipi(TraceEventType::kIpiExit, 3000500, kWorker, "call_function_single")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_FALSE(events[0].has_sender);
  EXPECT_EQ(events[0].cause, "ipi call_function_single");
}

TEST_F(NoiseAttributionTest, AnIpiDpsuperviseSentIsLabelledSo) {
  // The kick of a PTRACE_INTERRUPT, a signal it sent: its own IPIs.
  TraceRecord send = Send(2000000, kOwnPid, "");
  send.callsite = "kick_process";
  auto events = FeedAll({send, Ipi(TraceEventType::kIpiEntry, 2001000, kWorker, "reschedule"),
                         Ipi(TraceEventType::kIpiExit, 2001500, kWorker, "reschedule")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_TRUE(events[0].by_dpsupervise);
  EXPECT_EQ(events[0].cause, "ipi reschedule kick_process by dpsupervise");
  EXPECT_THAT(FormatTextNoiseEvent(events[0]),
              HasSubstr("reschedule from dpsupervise (tid 50 cpu 0) by kick_process"));
  EXPECT_EQ(nlohmann::json::parse(FormatJsonNoiseEvent(events[0]))["by_dpsupervise"], true);
}

TEST_F(NoiseAttributionTest, AnIpiDpsuperviseHappenedToBeCurrentForIsNotItsOwn) {
  // Sent from an interrupt on dpsupervise's CPU: the kernel's, not ours.
  TraceRecord send = Send(2000000, kOwnPid, "");
  send.in_interrupt = true;
  auto events = FeedAll({send, Ipi(TraceEventType::kIpiEntry, 2001000, kWorker, "reschedule"),
                         Ipi(TraceEventType::kIpiExit, 2001500, kWorker, "reschedule")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_FALSE(events[0].by_dpsupervise);
}

TEST_F(NoiseAttributionTest, AnOlderSendThatNeverArrivedIsNotBlamed) {
  // A cross-call's send is recorded twice, or queued behind another: the
  // IPI's cause is the latest send before it.
  TraceRecord stale = Send(1500000, kHog, "flush_tlb_func");
  stale.callsite = "on_each_cpu_cond_mask";
  auto events = FeedAll({stale, Send(2000000, kSender, "ipi_mb"),
                         Ipi(TraceEventType::kIpiEntry, 2001000, kWorker, "call_function_single"),
                         Ipi(TraceEventType::kIpiExit, 2001500, kWorker, "call_function_single"),
                         Ipi(TraceEventType::kIpiEntry, 3000000, kWorker, "call_function_single"),
                         Ipi(TraceEventType::kIpiExit, 3000500, kWorker, "call_function_single")});
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].sender.tid, kSender);
  EXPECT_EQ(events[0].callsite, "membarrier_private_expedited");
  EXPECT_FALSE(events[1].has_sender);  // the stale send went with the first
}

TEST_F(NoiseAttributionTest, PreemptionSaysWhatRanInsteadAndForHowLong) {
  auto events = FeedAll({Switch(2000000, kWorker, 0, kHog, "cpu-hog"),
                         Switch(2005000, kHog, 0, kWorker, "worker")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].kind, NoiseKind::kPreemption);
  EXPECT_EQ(events[0].duration_ns, 5000);
  EXPECT_EQ(events[0].by.comm, "cpu-hog");
  EXPECT_EQ(events[0].by.tid, kHog);
  EXPECT_EQ(events[0].by.pid, kHog);
  EXPECT_FALSE(events[0].by_dpsupervise);
  EXPECT_EQ(events[0].cause, "preemption by cpu-hog");
}

TEST_F(NoiseAttributionTest, PreemptionNamesTheWorkItemsRunMeanwhile) {
  TraceRecord flush = Record(TraceEventType::kWorkStart, 2001000, 1, 400);
  flush.function = "vmstat_update";
  TraceRecord again = Record(TraceEventType::kWorkStart, 2002000, 1, 400);
  again.function = "vmstat_update";
  TraceRecord barrier = Record(TraceEventType::kWorkStart, 2003000, 1, 400);
  barrier.function = "wq_barrier_func";
  TraceRecord elsewhere = Record(TraceEventType::kWorkStart, 2003500, 0, 401);
  elsewhere.function = "not_on_this_cpu";
  auto events = FeedAll({Switch(2000000, kWorker, 0, 400, "kworker/1:2"), flush, again, barrier,
                         elsewhere, Switch(2005000, 400, 1, kWorker, "worker")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_THAT(events[0].work, ElementsAre("vmstat_update", "wq_barrier_func"));
  EXPECT_EQ(events[0].cause, "preemption by kworker/1:2; work vmstat_update,wq_barrier_func");
  auto json = nlohmann::json::parse(FormatJsonNoiseEvent(events[0]));
  EXPECT_EQ(json["work"], nlohmann::json({"vmstat_update", "wq_barrier_func"}));
  EXPECT_THAT(FormatTextNoiseEvent(events[0]),
              HasSubstr("by kworker/1:2 (pid 400 tid 400); work items run meanwhile: "
                        "vmstat_update, wq_barrier_func"));
}

TEST_F(NoiseAttributionTest, WorkOutsideAPreemptionIsNobodysNoise) {
  TraceRecord work = Record(TraceEventType::kWorkStart, 2001000, 1, 400);
  work.function = "vmstat_update";
  auto events = FeedAll({work, Switch(3000000, kWorker, 0, kHog, "cpu-hog"),
                         Switch(3005000, kHog, 0, kWorker, "worker")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_THAT(events[0].work, IsEmpty());
  EXPECT_EQ(events[0].cause, "preemption by cpu-hog");
  EXPECT_EQ(nlohmann::json::parse(FormatJsonNoiseEvent(events[0]))["work"], nlohmann::json::array());
}

TEST_F(NoiseAttributionTest, AnotherDpsuperviseIsNotMergedWithThisOnesStops) {
  auto events = FeedAll({Switch(2000000, kWorker, 0, kHog, "dpsupervise"),
                         Switch(2005000, kHog, 0, kWorker, "worker")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_FALSE(events[0].by_dpsupervise);
  EXPECT_EQ(events[0].cause, "preemption by another dpsupervise (pid 300)");
}

TEST_F(NoiseAttributionTest, ATaskGoneFromProcIsNamedByTheGroupItsSamplesShowed) {
  // Its timer sample on CPU 0 says pid 449 tid 450; /proc no longer knows it.
  TraceRecord seen = Record(TraceEventType::kHrtimerStart, 1500000, 0, kGone);
  seen.pid = kGoneGroup;
  auto events = FeedAll({seen, Switch(2000000, kWorker, 0, kGone, "gone"),
                         Switch(2005000, kGone, 0, kWorker, "worker")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].by.pid, kGoneGroup);
  EXPECT_EQ(events[0].by.tid, kGone);
}

TEST_F(NoiseAttributionTest, ATaskFirstSeenRunningIsNamedByItsGroupWhenItLeaves) {
  // Switched in with nothing known of it; its own switch out (the sample
  // is its) says its group before the preemption ends.
  TraceRecord out = Switch(2005000, kGone, 0, kWorker, "worker");
  out.pid = kGoneGroup;
  auto events = FeedAll({Switch(2000000, kWorker, 0, kGone, "gone"), out});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].by.pid, kGoneGroup);
}

TEST_F(NoiseAttributionTest, KernelPreemptionCountsToo) {
  auto events = FeedAll({Switch(2000000, kWorker, 0x100, kHog, "cpu-hog"),
                         Switch(2001000, kHog, 0, kWorker, "worker")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].kind, NoiseKind::kPreemption);
}

TEST_F(NoiseAttributionTest, PtraceStopIsBlamedOnDpsupervise) {
  auto events = FeedAll({Switch(2000000, kWorker, kTracedState, 0, "swapper/1"),
                         Switch(2300000, 0, 0, kWorker, "worker")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_TRUE(events[0].by_dpsupervise);
  EXPECT_EQ(events[0].cause, "preemption by dpsupervise");
}

TEST_F(NoiseAttributionTest, DpsupervisesOwnThreadIsBlamedOnDpsupervise) {
  auto events = FeedAll({Switch(2000000, kWorker, 0, kOwnPid, "dpsupervise"),
                         Switch(2000700, kOwnPid, 1, kWorker, "worker")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_TRUE(events[0].by_dpsupervise);
}

TEST_F(NoiseAttributionTest, TheStopThatEndsTheWindowIsNotNoise) {
  auto events = FeedAll({Switch(8900000, kWorker, kTracedState, 0, "swapper/1"),
                         Switch(9500000, 0, 0, kWorker, "worker")});
  EXPECT_THAT(events, IsEmpty());
}

TEST_F(NoiseAttributionTest, PreemptionIsCutAtTheWindowsEnd) {
  auto events = FeedAll({Switch(8900000, kWorker, 0, kHog, "cpu-hog"),
                         Switch(9500000, kHog, 0, kWorker, "worker")});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].duration_ns, 100000);
}

TEST_F(NoiseAttributionTest, BlockingOnItsOwnIsNotNoise) {
  // Sleeping (S) is a kernel entry the thread made: a violation already.
  auto events = FeedAll({Switch(2000000, kWorker, 1, kHog, "cpu-hog"),
                         Switch(2005000, kHog, 0, kWorker, "worker")});
  EXPECT_THAT(events, IsEmpty());
}

TEST_F(NoiseAttributionTest, IsStrictAtTellsTheWindow) {
  EXPECT_FALSE(attribution_.IsStrictAt(kWorker, kBegin - 1));
  EXPECT_TRUE(attribution_.IsStrictAt(kWorker, kBegin));
  EXPECT_TRUE(attribution_.IsStrictAt(kWorker, kEnd - 1));
  EXPECT_FALSE(attribution_.IsStrictAt(kWorker, kEnd + 1));
  EXPECT_FALSE(attribution_.IsStrictAt(kSender, kBegin));
}

TEST_F(NoiseAttributionTest, NothingOutsideTheWindow) {
  auto events = FeedAll({Record(TraceEventType::kTimerEntry, 500000, 1, kWorker),
                         Record(TraceEventType::kTimerExit, 501000, 1, kWorker),
                         Record(TraceEventType::kTimerEntry, 9500000, 1, kWorker),
                         Record(TraceEventType::kTimerExit, 9501000, 1, kWorker)});
  EXPECT_THAT(events, IsEmpty());
}

TEST_F(NoiseAttributionTest, TimerIrqSoftirqAndMigrationNameTheirCause) {
  TraceRecord hrtimer = Record(TraceEventType::kHrtimerExpireEntry, 2000100, 1, kWorker);
  hrtimer.function = "tick_nohz_handler";
  TraceRecord irq_entry = Record(TraceEventType::kIrqEntry, 3000000, 1, kWorker);
  irq_entry.irq = 24;
  irq_entry.irq_name = "virtio0-input.0";
  TraceRecord irq_exit = Record(TraceEventType::kIrqExit, 3002000, 1, kWorker);
  irq_exit.irq = 24;
  TraceRecord softirq_entry = Record(TraceEventType::kSoftirqEntry, 4000000, 1, kWorker);
  softirq_entry.softirq_vector = 9;
  TraceRecord softirq_exit = Record(TraceEventType::kSoftirqExit, 4003000, 1, kWorker);
  softirq_exit.softirq_vector = 9;
  TraceRecord migrate = Record(TraceEventType::kSchedMigrate, 5000000, 0, kHog);
  migrate.migrated_tid = kWorker;
  migrate.orig_cpu = 1;
  migrate.dest_cpu = 0;
  auto events = FeedAll({Record(TraceEventType::kTimerEntry, 2000000, 1, kWorker), hrtimer,
                         Record(TraceEventType::kTimerExit, 2001000, 1, kWorker), irq_entry,
                         irq_exit, softirq_entry, softirq_exit, migrate});
  ASSERT_THAT(events, SizeIs(4));
  EXPECT_EQ(events[0].cause, "timer tick_nohz_handler");
  EXPECT_EQ(events[0].duration_ns, 1000);
  EXPECT_EQ(events[1].cause, "irq 24 virtio0-input.0");
  EXPECT_EQ(events[1].duration_ns, 2000);
  EXPECT_EQ(events[2].cause, "softirq RCU");
  EXPECT_EQ(events[3].kind, NoiseKind::kMigration);
  EXPECT_EQ(events[3].cause, "migration 1->0");
  EXPECT_EQ(events[3].to_cpu, 0);
}

TEST_F(NoiseAttributionTest, NmiStartsItsDurationBeforeItsRecord) {
  // nmi_handler is written when the handler returns, with how long it ran.
  TraceRecord nmi = Record(TraceEventType::kNmiHandler, 2000500, 1, kWorker);
  nmi.function = "perf_event_nmi_handler";
  nmi.nmi_duration_ns = 500;
  TraceRecord before_window = Record(TraceEventType::kNmiHandler, kBegin + 100, 1, kWorker);
  before_window.function = "nmi_cpu_backtrace_handler";
  before_window.nmi_duration_ns = 300;  // began before the window
  TraceRecord other_task = Record(TraceEventType::kNmiHandler, 3000000, 1, kHog);
  other_task.nmi_duration_ns = 100;
  auto events = FeedAll({before_window, nmi, other_task});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].kind, NoiseKind::kNmi);
  EXPECT_EQ(events[0].start_ns, 2000000);
  EXPECT_EQ(events[0].duration_ns, 500);
  EXPECT_EQ(events[0].nmi_handler, "perf_event_nmi_handler");
  EXPECT_EQ(events[0].cause, "nmi perf_event_nmi_handler");
  auto json = nlohmann::json::parse(FormatJsonNoiseEvent(events[0]));
  EXPECT_EQ(json["kind"], "nmi");
  EXPECT_EQ(json["nmi_handler"], "perf_event_nmi_handler");
  EXPECT_THAT(FormatTextNoiseEvent(events[0]),
              HasSubstr(": nmi 500 ns, nmi perf_event_nmi_handler"));
}

TEST_F(NoiseAttributionTest, UnclassifiedVectorsAreOtherAndNameTheVector) {
  TraceRecord entry = Record(TraceEventType::kOtherVectorEntry, 2000000, 1, kWorker);
  entry.vector = "thermal_apic";
  TraceRecord exit = Record(TraceEventType::kOtherVectorExit, 2003000, 1, kWorker);
  exit.vector = "thermal_apic";
  // A platform IPI around a timer interrupt: each exit closes its own entry.
  TraceRecord platform = Record(TraceEventType::kOtherVectorEntry, 4000000, 1, kWorker);
  platform.vector = "x86_platform_ipi";
  TraceRecord platform_exit = Record(TraceEventType::kOtherVectorExit, 4005000, 1, kWorker);
  platform_exit.vector = "x86_platform_ipi";
  auto events = FeedAll({entry, exit, platform,
                         Record(TraceEventType::kTimerEntry, 4001000, 1, kWorker),
                         Record(TraceEventType::kTimerExit, 4002000, 1, kWorker), platform_exit});
  ASSERT_THAT(events, SizeIs(3));
  EXPECT_EQ(events[0].kind, NoiseKind::kOther);
  EXPECT_EQ(events[0].cause, "other thermal_apic");
  EXPECT_EQ(events[0].duration_ns, 3000);
  EXPECT_EQ(events[1].kind, NoiseKind::kTimer);
  EXPECT_EQ(events[2].cause, "other x86_platform_ipi");
  EXPECT_EQ(events[2].duration_ns, 5000);
  auto json = nlohmann::json::parse(FormatJsonNoiseEvent(events[0]));
  EXPECT_EQ(json["kind"], "other");
  EXPECT_EQ(json["vector"], "thermal_apic");
  const NoiseThreadTally& tally = attribution_.tallies().at(kWorker);
  EXPECT_EQ(tally.by_kind.at(NoiseKind::kOther).count, 2);
}

TEST_F(NoiseAttributionTest, TimersDpsuperviseArmedAreLabelledSo) {
  constexpr uint64_t kTicker = 0xffff888001234000;  // dpsupervise's it_real_fn
  constexpr uint64_t kReused = 0xffffc90000abc000;  // armed by us, then by the hog
  TraceRecord ours = Record(TraceEventType::kHrtimerStart, 1500000, 1, kOwnPid);
  ours.hrtimer = kTicker;
  TraceRecord ours_too = ours;
  ours_too.hrtimer = kReused;
  TraceRecord theirs = Record(TraceEventType::kHrtimerStart, 1600000, 0, kHog);
  theirs.hrtimer = kReused;
  TraceRecord ticker = Record(TraceEventType::kHrtimerExpireEntry, 2000100, 1, kWorker);
  ticker.function = "it_real_fn";
  ticker.hrtimer = kTicker;
  TraceRecord reused = Record(TraceEventType::kHrtimerExpireEntry, 3000100, 1, kWorker);
  reused.function = "hrtimer_wakeup";
  reused.hrtimer = kReused;
  auto events = FeedAll({ours, ours_too, theirs,
                         Record(TraceEventType::kTimerEntry, 2000000, 1, kWorker), ticker,
                         Record(TraceEventType::kTimerExit, 2001000, 1, kWorker),
                         Record(TraceEventType::kTimerEntry, 3000000, 1, kWorker), reused,
                         Record(TraceEventType::kTimerExit, 3001000, 1, kWorker)});
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_TRUE(events[0].by_dpsupervise);
  EXPECT_EQ(events[0].cause, "timer it_real_fn by dpsupervise");
  EXPECT_FALSE(events[1].by_dpsupervise);  // the latest arming was the hog's
  EXPECT_EQ(events[1].cause, "timer hrtimer_wakeup");
  auto json = nlohmann::json::parse(FormatJsonNoiseEvent(events[0]));
  EXPECT_EQ(json["by_dpsupervise"], true);
  EXPECT_EQ(json["timer_function"], "it_real_fn");
}

TEST_F(NoiseAttributionTest, ATimerArmedFromInterruptContextIsNotOurs) {
  // The task current when an interrupt re-arms a timer did not arm it.
  TraceRecord start = Record(TraceEventType::kHrtimerStart, 1500000, 1, kOwnPid);
  start.hrtimer = 0x1000;
  start.in_interrupt = true;
  TraceRecord expire = Record(TraceEventType::kHrtimerExpireEntry, 2000100, 1, kWorker);
  expire.function = "tick_nohz_handler";
  expire.hrtimer = 0x1000;
  auto events = FeedAll({start, Record(TraceEventType::kTimerEntry, 2000000, 1, kWorker), expire,
                         Record(TraceEventType::kTimerExit, 2001000, 1, kWorker)});
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_FALSE(events[0].by_dpsupervise);
}

TEST_F(NoiseAttributionTest, TalliesRankCausesByTotalTime) {
  FeedAll({Record(TraceEventType::kTimerEntry, 2000000, 1, kWorker),
           Record(TraceEventType::kTimerExit, 2001000, 1, kWorker),
           Record(TraceEventType::kTimerEntry, 3000000, 1, kWorker),
           Record(TraceEventType::kTimerExit, 3003000, 1, kWorker),
           Switch(4000000, kWorker, 0, kHog, "cpu-hog"), Switch(4010000, kHog, 0, kWorker, "w")});
  const NoiseThreadTally& tally = attribution_.tallies().at(kWorker);
  EXPECT_EQ(tally.by_kind.at(NoiseKind::kTimer).count, 2);
  EXPECT_EQ(tally.by_kind.at(NoiseKind::kTimer).total_ns, 4000);
  EXPECT_EQ(tally.by_kind.at(NoiseKind::kTimer).max_ns, 3000);
  std::vector<std::string> causes;
  for (const RankedCause& cause : TopCauses(tally, 10)) causes.push_back(cause.cause);
  EXPECT_THAT(causes, ElementsAre("preemption by cpu-hog", "timer"));
}

TEST_F(NoiseAttributionTest, JsonRecordHasTheDocumentedFields) {
  auto events = FeedAll({Send(2000000, kSender, "ipi_mb"),
                         Ipi(TraceEventType::kIpiEntry, 2001000, kWorker, "call_function_single"),
                         Ipi(TraceEventType::kIpiExit, 2001800, kWorker, "call_function_single")});
  ASSERT_THAT(events, SizeIs(1));
  auto json = nlohmann::json::parse(FormatJsonNoiseEvent(events[0]));
  EXPECT_EQ(json["type"], "noise");
  EXPECT_EQ(json["kind"], "ipi");
  EXPECT_EQ(json["tid"], kWorker);
  EXPECT_EQ(json["pid"], kProgram);
  EXPECT_EQ(json["thread"], "worker");
  EXPECT_EQ(json["cpu"], 1);
  EXPECT_EQ(json["start_ns"], 2001000);
  EXPECT_EQ(json["duration_ns"], 800);
  EXPECT_EQ(json["ipi_type"], "call_function_single");
  EXPECT_EQ(json["sender"]["comm"], "ipi-sender");
  EXPECT_EQ(json["sender"]["tid"], kSender);
  EXPECT_EQ(json["sender"]["callsite"], "membarrier_private_expedited");
  EXPECT_THAT(FormatTextNoiseEvent(events[0]),
              HasSubstr("ipi 800 ns, call_function_single from ipi-sender (pid 100 tid 102 cpu 0) "
                        "by membarrier_private_expedited"));
  EXPECT_EQ(json["by_dpsupervise"], false);
  auto summary =
      nlohmann::json::parse(FormatJsonNoiseSummary(attribution_.tallies(), 3, {}, {1, 3}));
  EXPECT_EQ(summary["type"], "noise_summary");
  EXPECT_EQ(summary["cpus_followed"], nlohmann::json({1, 3}));
  EXPECT_EQ(summary["lost_records"], 3);
  EXPECT_EQ(summary["by_kind"]["ipi"]["count"], 1);
  EXPECT_EQ(summary["top_causes"][0]["cause"],
            "ipi call_function_single membarrier_private_expedited");
}

TEST(DurationHistogramTest, P99IsNeverBelowTheExactValueAndAtMostOnePointSixPercentAbove) {
  NoiseStat stat;
  // 1 us .. 1 ms in 1 us steps: the exact nearest-rank p99 is 990 us.
  for (int64_t i = 1; i <= 1000; ++i) stat.Add(i * 1000 + 7);
  const int64_t exact = 990 * 1000 + 7;
  EXPECT_GE(stat.P99(), exact);
  EXPECT_LE(stat.P99(), exact + exact / 64);
  EXPECT_EQ(stat.count, 1000);
  EXPECT_EQ(stat.max_ns, 1000007);
}

TEST(DurationHistogramTest, SmallDurationsAreExactAndFewSamplesGiveTheMax) {
  NoiseStat stat;
  for (int64_t ns : {5, 17, 40}) stat.Add(ns);
  EXPECT_EQ(stat.P99(), 40);  // fewer than 100: the largest
  EXPECT_EQ(stat.durations.Quantile(0.5, stat.max_ns), 17);
  NoiseStat one;
  one.Add(123456789);
  EXPECT_EQ(one.P99(), 123456789);  // capped at the exact max, not its bucket's end
  EXPECT_EQ(NoiseStat().P99(), 0);
}

TEST(DurationHistogramTest, OneOutlierInAHundredIsNotTheP99) {
  NoiseStat stat;
  for (int i = 0; i < 99; ++i) stat.Add(2000);
  stat.Add(40000000);
  EXPECT_GE(stat.P99(), 2000);
  EXPECT_LE(stat.P99(), 2000 + 2000 / 64);
}

TEST(LatencyHistogramTest, BucketsOnOneTwoFiveDecades) {
  LatencyHistogram histogram;
  for (int64_t ns : std::vector<int64_t>{0, 999, 1000, 1999, 2000, 4999, 999999, 1000000,
                                         9999999, 10000000, 5000000000}) {
    histogram.Add(ns);
  }
  EXPECT_EQ(histogram.count(0), 2);   // <1us
  EXPECT_EQ(histogram.count(1), 2);   // 1-2us
  EXPECT_EQ(histogram.count(2), 2);   // 2-5us
  EXPECT_EQ(histogram.count(9), 1);   // 500us-1ms
  EXPECT_EQ(histogram.count(10), 1);  // 1-2ms
  EXPECT_EQ(histogram.count(12), 1);  // 5-10ms
  EXPECT_EQ(histogram.count(13), 2);  // >=10ms
  std::vector<std::string> labels;
  for (int i = 0; i < LatencyHistogram::kBuckets; ++i) labels.push_back(LatencyHistogram::Label(i));
  EXPECT_THAT(labels, ElementsAre("<1us", "1-2us", "2-5us", "5-10us", "10-20us", "20-50us",
                                  "50-100us", "100-200us", "200-500us", "500us-1ms", "1-2ms",
                                  "2-5ms", "5-10ms", ">=10ms"));
  EXPECT_EQ(LatencyHistogram::UpperNs(LatencyHistogram::kBuckets - 1), -1);
}

TEST(KeepLongestTest, KeepsTheLongestLongestFirstEarlierOfEqualOnesFirst) {
  struct Event {
    int64_t duration_ns;
    int id;
  };
  std::vector<Event> longest;
  int id = 0;
  for (int64_t ns : {5, 9, 1, 9, 7, 3, 8}) KeepLongest(Event{ns, id++}, 3, &longest);
  std::vector<int> ids;
  for (const Event& event : longest) ids.push_back(event.id);
  EXPECT_THAT(ids, ElementsAre(1, 3, 6));  // 9, 9, 8
}

TEST_F(NoiseAttributionTest, SummaryKeepsTheLongestWithTheirAttributionAndAHistogram) {
  TraceRecord migrate = Record(TraceEventType::kSchedMigrate, 7000000, 0, kHog);
  migrate.migrated_tid = kWorker;
  migrate.orig_cpu = 1;
  migrate.dest_cpu = 0;
  std::vector<TraceRecord> records = {Send(2000000, kSender, "ipi_mb"),
                                      Ipi(TraceEventType::kIpiEntry, 2001000, kWorker,
                                          "call_function_single"),
                                      Ipi(TraceEventType::kIpiExit, 2041000, kWorker,
                                          "call_function_single"),
                                      Switch(3000000, kWorker, 0, kHog, "cpu-hog"),
                                      Switch(3500000, kHog, 0, kWorker, "worker"),
                                      migrate};
  // Six ticks of 1..6 us: only the longest of them make the five.
  for (int i = 1; i <= 6; ++i) {
    records.push_back(Record(TraceEventType::kTimerEntry, 4000000 + i * 100000, 1, kWorker));
    records.push_back(
        Record(TraceEventType::kTimerExit, 4000000 + i * 100000 + i * 1000, 1, kWorker));
  }
  FeedAll(records);
  const NoiseThreadTally& tally = attribution_.tallies().at(kWorker);
  ASSERT_THAT(tally.longest, SizeIs(kLongestInterruptions));
  EXPECT_EQ(tally.longest[0].kind, NoiseKind::kPreemption);
  EXPECT_EQ(tally.longest[0].by.comm, "cpu-hog");
  EXPECT_EQ(tally.longest[1].kind, NoiseKind::kIpi);
  EXPECT_EQ(tally.longest[1].sender.comm, "ipi-sender");
  EXPECT_EQ(tally.longest[2].duration_ns, 6000);
  EXPECT_EQ(tally.longest[4].duration_ns, 4000);
  // The migration takes no time: neither a longest nor in the histogram.
  EXPECT_EQ(tally.latency.count(0), 0);
  EXPECT_EQ(tally.latency.count(1), 1);  // the 1 us tick
  EXPECT_EQ(tally.latency.count(2), 3);  // 2, 3, 4 us
  EXPECT_EQ(tally.latency.count(3), 2);  // 5, 6 us
  EXPECT_EQ(tally.latency.count(6), 0);
  EXPECT_EQ(tally.latency.count(5), 1);  // the 40 us IPI
  EXPECT_EQ(tally.latency.count(9), 1);  // the 500 us preemption

  const std::string text = FormatTextNoiseSummary(attribution_.tallies(), 0);
  EXPECT_THAT(text, HasSubstr("    timer: 6, 21.0 us (max 6.0 us, p99 6.0 us)\n"));
  EXPECT_THAT(text, HasSubstr("    longest:\n      500.0 us at 3000000 on cpu 1: preemption, by "
                              "cpu-hog (pid 300 tid 300)\n      40.0 us at 2001000 on cpu 1: ipi, "
                              "call_function_single from ipi-sender (pid 100 tid 102 cpu 0) by "
                              "membarrier_private_expedited\n"));
  EXPECT_THAT(text, HasSubstr("    durations:\n      1-2us      1\n      2-5us      3\n"
                              "      5-10us     2\n      10-20us    0\n      20-50us    1\n"
                              "      50-100us   0\n      100-200us  0\n      200-500us  0\n"
                              "      500us-1ms  1\n"));

  auto json = nlohmann::json::parse(FormatJsonNoiseSummary(attribution_.tallies(), 0));
  EXPECT_EQ(json["by_kind"]["timer"]["p99_ns"], 6000);
  EXPECT_EQ(json["top_causes"][0]["p99_ns"], 500000);
  ASSERT_EQ(json["longest"].size(), kLongestInterruptions);
  EXPECT_EQ(json["longest"][0]["kind"], "preemption");
  EXPECT_EQ(json["longest"][0]["by"]["comm"], "cpu-hog");
  EXPECT_EQ(json["longest"][0]["start_ns"], 3000000);
  EXPECT_EQ(json["longest"][1]["sender"]["comm"], "ipi-sender");
  EXPECT_FALSE(json["longest"][0].contains("type"));
  ASSERT_EQ(json["histogram"].size(), LatencyHistogram::kBuckets);
  EXPECT_EQ(json["histogram"][2]["label"], "2-5us");
  EXPECT_EQ(json["histogram"][2]["lower_ns"], 2000);
  EXPECT_EQ(json["histogram"][2]["upper_ns"], 5000);
  EXPECT_EQ(json["histogram"][2]["count"], 3);
  EXPECT_TRUE(json["histogram"][13]["upper_ns"].is_null());
  EXPECT_TRUE(json["steal_ns"].is_null());  // not measured
}

TEST_F(NoiseAttributionTest, SummarySaysWhichCpusWereFollowed) {
  EXPECT_THAT(FormatTextNoiseSummary(attribution_.tallies(), 0, {}, {1, 2, 3, 5}),
              HasSubstr("  followed: CPU 1-3,5 (interrupts, switches, work items), IPI sends on "
                        "every CPU\n"));
  EXPECT_THAT(FormatTextNoiseSummary(attribution_.tallies(), 0), Not(HasSubstr("followed")));
}

TEST_F(NoiseAttributionTest, SummaryShowsTheStealTimeOfTheThreadsCpus) {
  FeedAll({Record(TraceEventType::kTimerEntry, 2000000, 1, kWorker),
           Record(TraceEventType::kTimerExit, 2001000, 1, kWorker)});
  const StealByThread steal = {{kWorker, {{1, 30000000}, {0, 0}}}, {kSender, {{0, 5}}}};
  EXPECT_THAT(FormatTextNoiseSummary(attribution_.tallies(), 0, steal),
              HasSubstr("1.0 us stolen\n    steal (hypervisor, /proc/stat): 0 ns on cpu 0, "
                        "30.0 ms on cpu 1\n"));
  auto json = nlohmann::json::parse(FormatJsonNoiseSummary(attribution_.tallies(), 0, steal));
  EXPECT_EQ(json["steal_ns"], nlohmann::json({{"0", 0}, {"1", 30000000}}));
}

}  // namespace
}  // namespace dpsupervise
