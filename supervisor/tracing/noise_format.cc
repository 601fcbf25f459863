#include "supervisor/tracing/noise_format.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "supervisor/noise/preflight.h"
#include "supervisor/report/report.h"

namespace dpsupervise {
namespace {

using Json = nlohmann::ordered_json;  // "type" first, as in every report record

Json TaskJson(const TaskIdentity& task) {
  return Json{{"pid", task.pid}, {"tid", task.tid}, {"comm", task.comm}, {"cpu", task.cpu}};
}

// How many of a sender's frames a text noise line shows (JSON has them all).
constexpr size_t kTextSenderFrames = 4;

// The sender's backtrace for the JSON sender object: the frames as a
// violation's, and why there are none.
void AddSenderBacktrace(const NoiseEvent& event, Json* sender) {
  Json frames = Json::array();
  for (const Frame& frame : event.sender_backtrace) frames.push_back(FrameJson(frame));
  (*sender)["backtrace"] = std::move(frames);
  (*sender)["backtrace_error"] =
      event.sender_backtrace_error.empty() ? Json(nullptr) : Json(event.sender_backtrace_error);
}

// "; sent in f <- in g at x.cc:3 <- ..." for a text line, or "".
std::string SenderFramesText(const NoiseEvent& event) {
  if (event.sender_backtrace.empty()) return "";
  std::string text = "; sent ";
  for (size_t i = 0; i < event.sender_backtrace.size() && i < kTextSenderFrames; ++i) {
    absl::StrAppend(&text, i == 0 ? "" : " <- ", FormatFrameLocation(event.sender_backtrace[i]));
  }
  if (event.sender_backtrace.size() > kTextSenderFrames) text += " <- ...";
  return text;
}

// 1234 ns as "1.2 us", and so on: summaries are read by people.
std::string Duration(int64_t ns) {
  if (ns < 1000) return absl::StrCat(ns, " ns");
  if (ns < 1000000) return absl::StrFormat("%.1f us", ns / 1e3);
  if (ns < 1000000000) return absl::StrFormat("%.1f ms", ns / 1e6);
  return absl::StrFormat("%.2f s", ns / 1e9);
}

std::string Detail(const NoiseEvent& event) {
  switch (event.kind) {
    case NoiseKind::kIpi: {
      std::string text = event.ipi_type;
      if (!event.has_sender) return absl::StrCat(text, ", sender not seen");
      if (event.sender_in_interrupt) {
        absl::StrAppend(&text, " sent from interrupt context on cpu ", event.sender.cpu);
      } else if (event.by_dpsupervise) {
        absl::StrAppend(&text, " from dpsupervise (tid ", event.sender.tid, " cpu ",
                        event.sender.cpu, ")");
      } else {
        absl::StrAppend(&text, " from ", event.sender.comm, " (pid ", event.sender.pid, " tid ",
                        event.sender.tid, " cpu ", event.sender.cpu, ")");
      }
      return absl::StrCat(text, " by ", event.callsite, SenderFramesText(event));
    }
    case NoiseKind::kPreemption: {
      if (event.by_dpsupervise) return "by dpsupervise (its ptrace stop or its own thread)";
      std::string text =
          absl::StrCat("by ", event.by.comm, " (pid ", event.by.pid, " tid ", event.by.tid, ")");
      if (!event.work.empty()) {
        absl::StrAppend(&text, "; work items run meanwhile: ", absl::StrJoin(event.work, ", "));
      }
      return text;
    }
    case NoiseKind::kMigration:
      return absl::StrCat("cpu ", event.from_cpu, " -> ", event.to_cpu);
    case NoiseKind::kTimer:
    case NoiseKind::kIrq:
    case NoiseKind::kSoftirq:
    case NoiseKind::kNmi:
    case NoiseKind::kOther:
      return event.cause;
  }
  return "";
}

// A noise record's fields, after `j`'s (a record's type; none for each of
// a summary's longest). Built in place: at thousands of records a second,
// copying the tree showed in the supervisor's profile.
Json EventJson(const NoiseEvent& event, Json j = Json::object()) {
  j["pid"] = event.pid;
  j["tid"] = event.tid;
  j["thread"] = event.thread;
  j["cpu"] = event.cpu;
  j["kind"] = NoiseKindName(event.kind);
  j["start_ns"] = event.start_ns;
  j["duration_ns"] = event.duration_ns;
  j["cause"] = event.cause;
  switch (event.kind) {
    case NoiseKind::kIpi:
      j["ipi_type"] = event.ipi_type;
      if (event.has_sender) {
        Json sender = TaskJson(event.sender);
        sender["callsite"] = event.callsite;
        sender["callback"] = event.callback;
        sender["in_interrupt"] = event.sender_in_interrupt;
        AddSenderBacktrace(event, &sender);
        j["sender"] = std::move(sender);
      }
      j["by_dpsupervise"] = event.by_dpsupervise;
      break;
    case NoiseKind::kPreemption:
      j["by"] = TaskJson(event.by);
      j["work"] = event.work;
      j["by_dpsupervise"] = event.by_dpsupervise;
      break;
    case NoiseKind::kMigration:
      j["from_cpu"] = event.from_cpu;
      j["to_cpu"] = event.to_cpu;
      break;
    case NoiseKind::kIrq:
      j["irq"] = event.irq;
      j["irq_name"] = event.irq_name;
      break;
    case NoiseKind::kSoftirq:
      j["softirq"] = event.softirq;
      break;
    case NoiseKind::kTimer:
      j["timer_function"] = event.timer_function;
      j["by_dpsupervise"] = event.by_dpsupervise;
      break;
    case NoiseKind::kNmi:
      j["nmi_handler"] = event.nmi_handler;
      break;
    case NoiseKind::kOther:
      j["vector"] = event.vector;
      break;
  }
  return j;
}

std::string MaxAndP99(const NoiseStat& stat) {
  return absl::StrCat("max ", Duration(stat.max_ns), ", p99 ", Duration(stat.P99()));
}

Json StatJson(const NoiseStat& stat) {
  return Json{{"count", stat.count},
              {"total_ns", stat.total_ns},
              {"max_ns", stat.max_ns},
              {"p99_ns", stat.P99()}};
}

// Guest events cannot show the hypervisor's interruptions: its steal time
// is the only trace of them.
std::string TextSteal(const StealByThread& steal, pid_t tid) {
  auto it = steal.find(tid);
  if (it == steal.end() || it->second.empty()) return "";
  std::string text = "    steal (hypervisor, /proc/stat):";
  for (const auto& [cpu, ns] : it->second) {
    absl::StrAppend(&text, cpu == it->second.begin()->first ? " " : ", ", Duration(ns), " on cpu ",
                    cpu);
  }
  return text + "\n";
}

Json StealJson(const StealByThread& steal, pid_t tid) {
  auto it = steal.find(tid);
  if (it == steal.end() || it->second.empty()) return nullptr;
  Json by_cpu = Json::object();
  for (const auto& [cpu, ns] : it->second) by_cpu[std::to_string(cpu)] = ns;
  return by_cpu;
}

std::string TextLongest(const std::vector<NoiseEvent>& longest) {
  if (longest.empty()) return "";
  std::string text = "    longest:\n";
  for (const NoiseEvent& event : longest) {
    absl::StrAppend(&text, "      ", Duration(event.duration_ns), " at ", event.start_ns,
                    " on cpu ", event.cpu, ": ", NoiseKindName(event.kind), ", ", Detail(event),
                    "\n");
  }
  return text;
}

// The buckets from the first to the last that holds an interruption.
std::string TextHistogram(const LatencyHistogram& histogram) {
  int first = 0, last = LatencyHistogram::kBuckets - 1;
  while (first <= last && histogram.count(first) == 0) ++first;
  while (last >= first && histogram.count(last) == 0) --last;
  if (first > last) return "";
  std::string text = "    durations:\n";
  for (int bucket = first; bucket <= last; ++bucket) {
    absl::StrAppend(&text, absl::StrFormat("      %-10s %lld\n", LatencyHistogram::Label(bucket),
                                           histogram.count(bucket)));
  }
  return text;
}

// Every bucket, empty ones included, so consumers index them by position.
Json HistogramJson(const LatencyHistogram& histogram) {
  Json buckets = Json::array();
  for (int bucket = 0; bucket < LatencyHistogram::kBuckets; ++bucket) {
    const int64_t upper = LatencyHistogram::UpperNs(bucket);
    buckets.push_back({{"label", LatencyHistogram::Label(bucket)},
                       {"lower_ns", LatencyHistogram::LowerNs(bucket)},
                       {"upper_ns", upper < 0 ? Json(nullptr) : Json(upper)},
                       {"count", histogram.count(bucket)}});
  }
  return buckets;
}

}  // namespace

std::string NoiseEventDetail(const NoiseEvent& event) { return Detail(event); }

std::string FormatTextNoiseEvent(const NoiseEvent& event) {
  return absl::StrCat("noise: thread ", event.thread, " (pid ", event.pid, " tid ", event.tid,
                      ") cpu ", event.cpu, " at ", event.start_ns, ": ",
                      NoiseKindName(event.kind), " ", Duration(event.duration_ns), ", ",
                      Detail(event), "\n");
}

std::string FormatJsonNoiseEvent(const NoiseEvent& event) {
  return EventJson(event, Json{{"type", "noise"}}).dump() + "\n";
}

std::string FormatTextNoiseSummary(const std::map<pid_t, NoiseThreadTally>& tallies,
                                   long long lost_records, const StealByThread& steal,
                                   const std::set<int>& followed_cpus) {
  std::string text = "noise summary (kernel tracepoints):\n";
  if (!followed_cpus.empty()) {
    absl::StrAppend(&text, "  followed: CPU ", FormatCpuList(followed_cpus),
                    " (interrupts, switches, work items), IPI sends on every CPU\n");
  }
  if (tallies.empty()) absl::StrAppend(&text, "  no strict thread was interrupted\n");
  for (const auto& [tid, tally] : tallies) {
    NoiseStat all;
    for (const auto& [kind, stat] : tally.by_kind) {
      all.count += stat.count;
      all.total_ns += stat.total_ns;
    }
    absl::StrAppend(&text, "  thread ", tally.thread, " (pid ", tally.pid, " tid ", tid, "): ",
                    all.count, " interruptions, ", Duration(all.total_ns), " stolen\n");
    absl::StrAppend(&text, TextSteal(steal, tid));
    for (const auto& [kind, stat] : tally.by_kind) {
      absl::StrAppend(&text, "    ", NoiseKindName(kind), ": ", stat.count, ", ",
                      Duration(stat.total_ns), " (", MaxAndP99(stat), ")\n");
    }
    absl::StrAppend(&text, "    top causes:\n");
    for (const RankedCause& cause : TopCauses(tally, kTopCauses)) {
      absl::StrAppend(&text, "      ", Duration(cause.stat.total_ns), " in ", cause.stat.count,
                      " (", MaxAndP99(cause.stat), "): ", cause.cause, "\n");
    }
    absl::StrAppend(&text, TextLongest(tally.longest), TextHistogram(tally.latency));
  }
  if (lost_records > 0) {
    absl::StrAppend(&text, "  ", lost_records,
                    " trace records lost (ring buffer full): the figures above are low\n");
  }
  return text;
}

std::string FormatJsonNoiseSummary(const std::map<pid_t, NoiseThreadTally>& tallies,
                                   long long lost_records, const StealByThread& steal,
                                   const std::set<int>& followed_cpus) {
  std::string lines;
  for (const auto& [tid, tally] : tallies) {
    Json by_kind = Json::object();
    for (const auto& [kind, stat] : tally.by_kind) by_kind[NoiseKindName(kind)] = StatJson(stat);
    Json causes = Json::array();
    for (const RankedCause& cause : TopCauses(tally, kTopCauses)) {
      Json entry{{"kind", NoiseKindName(cause.kind)}, {"cause", cause.cause}};
      entry.update(StatJson(cause.stat));
      causes.push_back(std::move(entry));
    }
    Json longest = Json::array();
    for (const NoiseEvent& event : tally.longest) longest.push_back(EventJson(event));
    Json j{{"type", "noise_summary"},  {"pid", tally.pid},
           {"tid", tid},               {"thread", tally.thread},
           {"by_kind", by_kind},       {"top_causes", causes},
           {"longest", longest},       {"histogram", HistogramJson(tally.latency)},
           {"steal_ns", StealJson(steal, tid)}, {"lost_records", lost_records},
           {"cpus_followed", followed_cpus}};
    lines += j.dump() + "\n";
  }
  return lines;
}

}  // namespace dpsupervise
