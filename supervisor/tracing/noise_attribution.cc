#include "supervisor/tracing/noise_attribution.h"

#include <algorithm>
#include <climits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dpsupervise {
namespace {

// A CPU that never takes its IPIs (offline, or its entries untraced) must
// not hold sends forever; older ones are dropped past this many.
constexpr size_t kMaxPendingSendsPerCpu = 64;

std::string CauseOf(const NoiseEvent& event) {
  switch (event.kind) {
    case NoiseKind::kTimer: {
      std::string cause =
          event.timer_function.empty() ? "timer" : absl::StrCat("timer ", event.timer_function);
      return event.by_dpsupervise ? absl::StrCat(cause, " by dpsupervise") : cause;
    }
    case NoiseKind::kIrq:
      return absl::StrCat("irq ", event.irq, " ", event.irq_name);
    case NoiseKind::kSoftirq:
      return absl::StrCat("softirq ", event.softirq);
    case NoiseKind::kIpi:
      if (!event.has_sender) return absl::StrCat("ipi ", event.ipi_type);
      if (event.by_dpsupervise) {
        return absl::StrCat("ipi ", event.ipi_type, " ", event.callsite, " by dpsupervise");
      }
      return absl::StrCat("ipi ", event.ipi_type, " ", event.callsite);
    case NoiseKind::kPreemption:
      if (event.by_dpsupervise) return "preemption by dpsupervise";
      // Not this one (another run, or any task so named): apart from its
      // own stops, which the same words would otherwise merge it with.
      if (event.by.comm == "dpsupervise") {
        return absl::StrCat("preemption by another dpsupervise (pid ", event.by.pid, ")");
      }
      if (event.work.empty()) return absl::StrCat("preemption by ", event.by.comm);
      return absl::StrCat("preemption by ", event.by.comm, "; work ",
                          absl::StrJoin(event.work, ","));
    case NoiseKind::kMigration:
      return absl::StrCat("migration ", event.from_cpu, "->", event.to_cpu);
    case NoiseKind::kNmi:
      return absl::StrCat("nmi ", event.nmi_handler);
    case NoiseKind::kOther:
      return absl::StrCat("other ", event.vector);
  }
  return "";
}

}  // namespace

const char* NoiseKindName(NoiseKind kind) {
  switch (kind) {
    case NoiseKind::kTimer:
      return "timer";
    case NoiseKind::kIrq:
      return "irq";
    case NoiseKind::kIpi:
      return "ipi";
    case NoiseKind::kSoftirq:
      return "softirq";
    case NoiseKind::kPreemption:
      return "preemption";
    case NoiseKind::kMigration:
      return "migration";
    case NoiseKind::kNmi:
      return "nmi";
    case NoiseKind::kOther:
      return "other";
  }
  return "?";
}

std::string SoftirqName(int vector) {
  // include/linux/interrupt.h, enum { HI_SOFTIRQ = 0, ... }.
  static const char* const kNames[] = {"HI",    "TIMER",   "NET_TX", "NET_RX",  "BLOCK",
                                       "IRQ_POLL", "TASKLET", "SCHED",  "HRTIMER", "RCU"};
  if (vector >= 0 && vector < static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) {
    return kNames[vector];
  }
  return absl::StrCat(vector);
}

std::vector<RankedCause> TopCauses(const NoiseThreadTally& tally, size_t limit) {
  std::vector<RankedCause> ranked;
  for (const auto& [key, stat] : tally.by_cause) ranked.push_back({key.first, key.second, stat});
  std::stable_sort(ranked.begin(), ranked.end(), [](const RankedCause& a, const RankedCause& b) {
    if (a.stat.total_ns != b.stat.total_ns) return a.stat.total_ns > b.stat.total_ns;
    return a.stat.count > b.stat.count;
  });
  if (ranked.size() > limit) ranked.resize(limit);
  return ranked;
}

void NoiseAttribution::WindowBegins(pid_t pid, pid_t tid, const std::string& thread,
                                    int64_t time_ns) {
  StrictThread& strict = strict_[tid];
  strict.pid = pid;
  strict.name = thread;
  strict.windows.push_back({time_ns, INT64_MAX});
}

void NoiseAttribution::WindowEnds(pid_t tid, int64_t time_ns) {
  auto it = strict_.find(tid);
  if (it == strict_.end() || it->second.windows.empty()) return;
  Window& last = it->second.windows.back();
  if (last.end_ns == INT64_MAX) last.end_ns = time_ns;
}

const NoiseAttribution::StrictThread* NoiseAttribution::StrictAt(pid_t tid,
                                                                 int64_t time_ns) const {
  if (tid <= 0) return nullptr;  // the idle task
  auto it = strict_.find(tid);
  if (it == strict_.end()) return nullptr;
  for (const Window& window : it->second.windows) {
    if (time_ns >= window.begin_ns && time_ns < window.end_ns) return &it->second;
  }
  return nullptr;
}

NoiseEvent NoiseAttribution::NewEvent(const StrictThread& thread, pid_t tid, int cpu,
                                      NoiseKind kind, int64_t start_ns) const {
  NoiseEvent event;
  event.pid = thread.pid;
  event.tid = tid;
  event.thread = thread.name;
  event.cpu = cpu;
  event.kind = kind;
  event.start_ns = start_ns;
  return event;
}

void NoiseAttribution::Finish(NoiseEvent& event, int64_t end_ns, std::vector<NoiseEvent>* done) {
  event.duration_ns = std::max<int64_t>(0, end_ns - event.start_ns);
  event.cause = CauseOf(event);
  NoiseThreadTally& tally = tallies_[event.tid];
  tally.pid = event.pid;
  tally.tid = event.tid;
  tally.thread = event.thread;
  tally.by_kind[event.kind].Add(event.duration_ns);
  tally.by_cause[{event.kind, event.cause}].Add(event.duration_ns);
  if (event.kind != NoiseKind::kMigration) {
    tally.latency.Add(event.duration_ns);
    KeepLongest(event, kLongestInterruptions, &tally.longest);
  }
  done->push_back(std::move(event));
}

std::vector<NoiseEvent> NoiseAttribution::Feed(const TraceRecord& record) {
  std::vector<NoiseEvent> done;
  // Every sample names its task's thread group: remembered for tasks gone
  // from /proc by the time a record about them is read.
  if (record.tid > 0 && record.pid > 0) tgids_[record.tid] = record.pid;
  switch (record.type) {
    case TraceEventType::kSchedSwitch:
      OnSwitch(record, &done);
      break;
    case TraceEventType::kSchedMigrate:
      OnMigrate(record, &done);
      break;
    case TraceEventType::kIpiSend:
      OnSend(record);
      break;
    case TraceEventType::kIpiEntry:
      OnEntry(record, NoiseKind::kIpi, TraceEventType::kIpiExit);
      break;
    case TraceEventType::kTimerEntry:
      OnEntry(record, NoiseKind::kTimer, TraceEventType::kTimerExit);
      break;
    case TraceEventType::kIrqEntry:
      OnEntry(record, NoiseKind::kIrq, TraceEventType::kIrqExit);
      break;
    case TraceEventType::kSoftirqEntry:
      OnEntry(record, NoiseKind::kSoftirq, TraceEventType::kSoftirqExit);
      break;
    case TraceEventType::kHrtimerExpireEntry:
      OnHrtimer(record);
      break;
    case TraceEventType::kNmiHandler:
      OnNmi(record, &done);
      break;
    case TraceEventType::kHrtimerStart:
      OnHrtimerStart(record);
      break;
    case TraceEventType::kWorkStart:
      OnWorkStart(record);
      break;
    case TraceEventType::kTaskName:
      comms_[record.tid] = record.comm;
      break;
    case TraceEventType::kOtherVectorEntry:
      OnEntry(record, NoiseKind::kOther, TraceEventType::kOtherVectorExit);
      break;
    case TraceEventType::kIpiExit:
    case TraceEventType::kOtherVectorExit:
    case TraceEventType::kTimerExit:
    case TraceEventType::kIrqExit:
    case TraceEventType::kSoftirqExit:
      OnExit(record, &done);
      break;
  }
  return done;
}

pid_t NoiseAttribution::TgidOf(pid_t tid) const {
  auto seen = tgids_.find(tid);
  return seen != tgids_.end() ? seen->second : options_.tgid_of(tid);
}

void NoiseAttribution::OnSwitch(const TraceRecord& record, std::vector<NoiseEvent>* done) {
  if (!record.prev_comm.empty()) comms_[record.prev_tid] = record.prev_comm;
  if (!record.next_comm.empty()) comms_[record.next_tid] = record.next_comm;
  // A strict thread comes back: its time off the CPU ends.
  auto back = off_cpu_.find(record.next_tid);
  if (back != off_cpu_.end()) {
    NoiseEvent event = std::move(back->second);
    off_cpu_.erase(back);
    // What ran may have shown its thread group in a sample since it was
    // switched in (/proc, read then, no longer knew it).
    if (event.by.pid == 0 && event.by.tid != 0) {
      auto seen = tgids_.find(event.by.tid);
      if (seen != tgids_.end()) event.by.pid = seen->second;
    }
    const StrictThread* still = StrictAt(record.next_tid, record.time_ns);
    // A ptrace stop the window ends in is the leave itself (or the
    // thread's end), not noise; any other time off the CPU is cut at the
    // window's end.
    if (still != nullptr || !event.by_dpsupervise) {
      int64_t end_ns = record.time_ns;
      if (still == nullptr) {
        for (const Window& window : strict_[record.next_tid].windows) {
          if (event.start_ns >= window.begin_ns && event.start_ns < window.end_ns) {
            end_ns = std::min(end_ns, window.end_ns);
          }
        }
      }
      Finish(event, end_ns, done);
    }
  }
  const StrictThread* strict = StrictAt(record.prev_tid, record.time_ns);
  if (strict == nullptr) return;
  const bool preempted = (record.prev_state & kNotRunnableStates) == 0;
  const bool stopped = (record.prev_state & (kTracedState | kStoppedState)) != 0;
  // Blocking on its own (a syscall, a page fault) is a kernel entry the
  // thread made: a violation already, not noise.
  if (!preempted && !stopped) return;
  NoiseEvent event =
      NewEvent(*strict, record.prev_tid, record.cpu, NoiseKind::kPreemption, record.time_ns);
  event.by.tid = record.next_tid;
  event.by.comm = record.next_comm;
  event.by.cpu = record.cpu;
  event.by.pid = record.next_tid == 0 ? 0 : TgidOf(record.next_tid);
  // Every ptrace stop of a traced thread is dpsupervise's doing.
  event.by_dpsupervise = stopped || (event.by.pid != 0 && event.by.pid == options_.own_pid);
  off_cpu_[record.prev_tid] = std::move(event);
}

void NoiseAttribution::OnMigrate(const TraceRecord& record, std::vector<NoiseEvent>* done) {
  const StrictThread* strict = StrictAt(record.migrated_tid, record.time_ns);
  if (strict == nullptr || record.orig_cpu == record.dest_cpu) return;
  NoiseEvent event = NewEvent(*strict, record.migrated_tid, record.orig_cpu,
                              NoiseKind::kMigration, record.time_ns);
  event.from_cpu = record.orig_cpu;
  event.to_cpu = record.dest_cpu;
  Finish(event, record.time_ns, done);
}

void NoiseAttribution::OnSend(const TraceRecord& record) {
  PendingSend send;
  send.time_ns = record.time_ns;
  send.reschedule = record.callback.empty();
  send.in_interrupt = record.in_interrupt;
  send.callsite = record.callsite;
  send.callback = record.callback;
  send.user_stack = record.user_stack;
  if (!record.in_interrupt) {
    send.sender.pid = record.pid;
    send.sender.tid = record.tid;
    // Its name at the send where a record said it (it may have exited or
    // been renamed since), else its name now.
    auto known = comms_.find(record.tid);
    send.sender.comm = known != comms_.end() ? known->second : options_.comm_of(record.tid);
  }
  send.sender.cpu = record.cpu;
  for (int target : record.target_cpus) {
    std::deque<PendingSend>& pending = sends_[target];
    pending.push_back(send);
    if (pending.size() > kMaxPendingSendsPerCpu) pending.pop_front();
  }
}

void NoiseAttribution::AttachSender(int cpu, int64_t arrival_ns, NoiseEvent* event) {
  // The latest send of the arrival's class before it is its cause: an IPI
  // arrives microseconds after its send. Every older one of that class is
  // dropped with it: served by the same IPI (the kernel sends one for a
  // queue of calls), a second record of the same send (ipi_send_cpumask
  // and ipi_send_cpu both fire for one cross-call), or one whose IPI was
  // never needed. An arrival takes its send whoever it interrupts, so a
  // send is never blamed for a later IPI.
  const bool reschedule = event->ipi_type == "reschedule";
  std::deque<PendingSend>& pending = sends_[cpu];
  const PendingSend* latest = nullptr;
  for (const PendingSend& send : pending) {
    if (send.time_ns > arrival_ns) break;
    if (send.reschedule == reschedule) latest = &send;
  }
  if (latest == nullptr) return;
  event->has_sender = true;
  event->sender_in_interrupt = latest->in_interrupt;
  event->sender = latest->sender;
  event->by_dpsupervise = !latest->in_interrupt && latest->sender.pid != 0 &&
                          latest->sender.pid == options_.own_pid;
  event->callsite = latest->callsite;
  event->callback = latest->callback;
  event->sender_stack = latest->user_stack;
  pending.erase(std::remove_if(pending.begin(), pending.end(),
                               [&](const PendingSend& send) {
                                 return send.time_ns <= arrival_ns && send.reschedule == reschedule;
                               }),
                pending.end());
}

void NoiseAttribution::OnEntry(const TraceRecord& record, NoiseKind kind,
                               TraceEventType exit_type) {
  const StrictThread* strict = StrictAt(record.tid, record.time_ns);
  NoiseEvent event;
  if (strict != nullptr) event = NewEvent(*strict, record.tid, record.cpu, kind, record.time_ns);
  event.ipi_type = record.ipi_type;
  if (kind == NoiseKind::kIpi) AttachSender(record.cpu, record.time_ns, &event);
  if (strict == nullptr) return;
  event.irq = record.irq;
  event.irq_name = record.irq_name;
  if (kind == NoiseKind::kSoftirq) event.softirq = SoftirqName(record.softirq_vector);
  event.vector = record.vector;
  open_[record.cpu].push_back({exit_type, std::move(event)});
}

void NoiseAttribution::OnHrtimer(const TraceRecord& record) {
  auto it = open_.find(record.cpu);
  if (it == open_.end() || it->second.empty()) return;
  NoiseEvent& innermost = it->second.back().event;
  if (innermost.kind != NoiseKind::kTimer) return;
  if (!innermost.timer_function.empty()) innermost.timer_function += ",";
  innermost.timer_function += record.function;
  if (own_hrtimers_.count(record.hrtimer) != 0) innermost.by_dpsupervise = true;
}

void NoiseAttribution::OnHrtimerStart(const TraceRecord& record) {
  // The address is the timer's until it is armed again (possibly by someone
  // else, after its memory was reused): the latest arming decides. One
  // armed in interrupt context was not armed by the task current there.
  if (!record.in_interrupt && record.pid != 0 && record.pid == options_.own_pid) {
    own_hrtimers_.insert(record.hrtimer);
  } else {
    own_hrtimers_.erase(record.hrtimer);
  }
}

void NoiseAttribution::OnWorkStart(const TraceRecord& record) {
  // A kworker runs on the CPU, so a strict thread of that CPU is off it:
  // preempted (or in a violation, or outside its windows).
  for (auto& [tid, event] : off_cpu_) {
    if (event.cpu != record.cpu || event.by_dpsupervise) continue;
    if (std::find(event.work.begin(), event.work.end(), record.function) == event.work.end()) {
      event.work.push_back(record.function);
    }
  }
}

void NoiseAttribution::OnNmi(const TraceRecord& record, std::vector<NoiseEvent>* done) {
  // Written when the handler returns: the interruption began that long ago.
  const int64_t start_ns = record.time_ns - record.nmi_duration_ns;
  const StrictThread* strict = StrictAt(record.tid, start_ns);
  if (strict == nullptr) return;
  NoiseEvent event = NewEvent(*strict, record.tid, record.cpu, NoiseKind::kNmi, start_ns);
  event.nmi_handler = record.function;
  Finish(event, record.time_ns, done);
}

void NoiseAttribution::OnExit(const TraceRecord& record, std::vector<NoiseEvent>* done) {
  auto it = open_.find(record.cpu);
  if (it == open_.end()) return;
  std::vector<OpenInterruption>& stack = it->second;
  for (size_t i = stack.size(); i-- > 0;) {
    if (stack[i].exit_type != record.type) continue;
    // Entries above it whose exits were lost (ring buffer overflow) end
    // here too rather than swallow every later exit.
    for (size_t j = stack.size(); j-- > i;) Finish(stack[j].event, record.time_ns, done);
    stack.resize(i);
    return;
  }
}

}  // namespace dpsupervise
