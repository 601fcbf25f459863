#include "supervisor/noise/noise.h"

#include <unistd.h>

#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "supervisor/os/procfs.h"

namespace dpsupervise {
namespace {

absl::StatusOr<long long> NamedCounter(absl::string_view text, absl::string_view name,
                                       char separator) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, name)) continue;
    line = absl::StripLeadingAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, absl::string_view(&separator, 1))) continue;  // longer name
    long long value;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &value)) {
      return absl::InvalidArgumentError(absl::StrCat("bad value for ", name));
    }
    return value;
  }
  return absl::NotFoundError(absl::StrCat("no ", name));
}

// The fields of a stat file from field 3 (state) on: comm (field 2) may
// contain spaces and parentheses, so they are counted from the last ')'.
absl::StatusOr<std::vector<absl::string_view>> StatFieldsFromState(absl::string_view stat_text) {
  const size_t close = stat_text.rfind(')');
  if (close == absl::string_view::npos) return absl::InvalidArgumentError("malformed stat");
  return std::vector<absl::string_view>(
      absl::StrSplit(stat_text.substr(close + 1), absl::ByAnyChar(" \n"), absl::SkipEmpty()));
}

// Adds after-before to *total, treating -1 as "unknown".
void AddDelta(long long before, long long after, long long* total) {
  if (before < 0 || after < 0) return;
  if (*total < 0) *total = 0;
  // Counters only grow; a smaller value means a different task (tid reuse):
  // count nothing rather than something negative.
  if (after > before) *total += after - before;
}

void ReadSteal(const std::string& proc_root, NoiseSnapshot* snapshot) {
  auto text = ReadProcFile(proc_root + "/stat");
  if (!text.ok()) return;
  auto ticks = ParseStealTicks(*text);
  if (!ticks.ok()) return;
  const long ticks_per_second = sysconf(_SC_CLK_TCK);  // USER_HZ, 100 on Linux
  if (ticks_per_second <= 0) return;
  for (const auto& [cpu, n] : *ticks) {
    snapshot->steal_ns_by_cpu[cpu] = static_cast<int64_t>(n) * (1000000000 / ticks_per_second);
  }
}

}  // namespace

absl::StatusOr<std::map<std::string, long long>> ParseInterrupts(absl::string_view text, int cpu) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n', absl::SkipWhitespace());
  if (lines.empty()) return absl::InvalidArgumentError("empty /proc/interrupts");
  // Header: "           CPU0       CPU1". Offline CPUs are left out, so the
  // column of CPU n is found by name, not by n.
  int column = -1;
  int columns = 0;
  for (absl::string_view name : absl::StrSplit(lines[0], ' ', absl::SkipEmpty())) {
    int n;
    if (!absl::ConsumePrefix(&name, "CPU") || !absl::SimpleAtoi(name, &n)) {
      return absl::InvalidArgumentError("bad /proc/interrupts header");
    }
    if (n == cpu) column = columns;
    ++columns;
  }
  if (column < 0) {
    return absl::NotFoundError(absl::StrCat("CPU ", cpu, " has no column in /proc/interrupts"));
  }
  std::map<std::string, long long> counts;
  for (size_t i = 1; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    const std::string label(absl::StripAsciiWhitespace(line.substr(0, colon)));
    std::vector<absl::string_view> fields =
        absl::StrSplit(line.substr(colon + 1), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    // A per-CPU line starts with one count per column; ERR and MIS carry a
    // single system-wide total and must not be attributed to CPU 0.
    if (static_cast<int>(fields.size()) < columns) continue;
    bool per_cpu = true;
    long long value = 0;
    for (int c = 0; c < columns && per_cpu; ++c) {
      long long v;
      per_cpu = absl::SimpleAtoi(fields[c], &v);
      if (c == column) value = v;
    }
    if (per_cpu) counts[label] = value;
  }
  return counts;
}

absl::Status ParseStatusCounters(absl::string_view status_text, NoiseSnapshot* snapshot) {
  auto voluntary = NamedCounter(status_text, "voluntary_ctxt_switches", ':');
  if (!voluntary.ok()) return voluntary.status();
  auto involuntary = NamedCounter(status_text, "nonvoluntary_ctxt_switches", ':');
  if (!involuntary.ok()) return involuntary.status();
  snapshot->voluntary_ctxt = *voluntary;
  snapshot->involuntary_ctxt = *involuntary;
  return absl::OkStatus();
}

absl::Status ParseStatFaults(absl::string_view stat_text, NoiseSnapshot* snapshot) {
  auto split = StatFieldsFromState(stat_text);
  if (!split.ok()) return split.status();
  const std::vector<absl::string_view>& fields = *split;  // fields[0] is field 3
  long long minflt, majflt;
  if (fields.size() <= 12 - 3 || !absl::SimpleAtoi(fields[10 - 3], &minflt) ||
      !absl::SimpleAtoi(fields[12 - 3], &majflt)) {
    return absl::InvalidArgumentError("malformed stat");
  }
  snapshot->minor_faults = minflt;
  snapshot->major_faults = majflt;
  return absl::OkStatus();
}

absl::StatusOr<int> ParseStatProcessor(absl::string_view stat_text) {
  auto fields = StatFieldsFromState(stat_text);
  if (!fields.ok()) return fields.status();
  int processor;
  if (fields->size() <= 39 - 3 || !absl::SimpleAtoi((*fields)[39 - 3], &processor)) {
    return absl::InvalidArgumentError("stat has no processor field");
  }
  return processor;
}

absl::StatusOr<std::map<int, long long>> ParseStealTicks(absl::string_view proc_stat_text) {
  std::map<int, long long> steal;
  for (absl::string_view line : absl::StrSplit(proc_stat_text, '\n')) {
    // "cpu3 user nice system idle iowait irq softirq steal guest guest_nice";
    // the "cpu " line is the sum of all.
    if (!absl::ConsumePrefix(&line, "cpu") || line.empty() || !absl::ascii_isdigit(line[0])) {
      continue;
    }
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    int cpu;
    long long ticks;
    if (fields.size() < 9 || !absl::SimpleAtoi(fields[0], &cpu) ||
        !absl::SimpleAtoi(fields[8], &ticks)) {
      continue;
    }
    steal[cpu] = ticks;
  }
  if (steal.empty()) return absl::NotFoundError("no steal column in /proc/stat");
  return steal;
}

absl::StatusOr<long long> ParseSchedMigrations(absl::string_view sched_text) {
  return NamedCounter(sched_text, "se.nr_migrations", ':');
}

absl::StatusOr<NoiseSnapshot> TakeNoiseSnapshot(pid_t pid, pid_t tid, int cpu,
                                                const std::string& proc_root) {
  NoiseSnapshot snapshot;
  const std::string dir = absl::StrCat(proc_root, "/", pid, "/task/", tid);
  auto status = ReadProcFile(dir + "/status");
  if (!status.ok()) return status.status();
  if (absl::Status s = ParseStatusCounters(*status, &snapshot); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(dir, "/status: ", s.message()));
  }
  auto stat = ReadProcFile(dir + "/stat");
  if (!stat.ok()) return stat.status();
  if (absl::Status s = ParseStatFaults(*stat, &snapshot); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(dir, "/stat: ", s.message()));
  }
  if (auto processor = ParseStatProcessor(*stat); processor.ok()) snapshot.ran_on_cpu = *processor;
  if (auto sched = ReadProcFile(dir + "/sched"); sched.ok()) {
    if (auto migrations = ParseSchedMigrations(*sched); migrations.ok()) {
      snapshot.migrations = *migrations;
    }
  }
  if (cpu >= 0) {
    if (auto text = ReadProcFile(proc_root + "/interrupts"); text.ok()) {
      if (auto counts = ParseInterrupts(*text, cpu); counts.ok()) {
        snapshot.cpu = cpu;
        snapshot.interrupts_on_cpu = *std::move(counts);
      }
    }
  }
  ReadSteal(proc_root, &snapshot);
  clock_gettime(CLOCK_MONOTONIC, &snapshot.when);
  snapshot.valid = true;
  return snapshot;
}

void AccumulateNoise(const NoiseSnapshot& before, const NoiseSnapshot& after,
                     ThreadSummary* summary) {
  if (!before.valid || !after.valid) return;
  AddDelta(before.voluntary_ctxt, after.voluntary_ctxt, &summary->voluntary_context_switches);
  AddDelta(before.involuntary_ctxt, after.involuntary_ctxt,
           &summary->involuntary_context_switches);
  AddDelta(before.migrations, after.migrations, &summary->cpu_migrations);
  AddDelta(before.minor_faults, after.minor_faults, &summary->minor_faults);
  AddDelta(before.major_faults, after.major_faults, &summary->major_faults);
  // A thread that moved during the window ran on both CPUs.
  for (int cpu : std::set<int>{before.ran_on_cpu, after.ran_on_cpu}) {
    auto from = before.steal_ns_by_cpu.find(cpu);
    auto to = after.steal_ns_by_cpu.find(cpu);
    if (from == before.steal_ns_by_cpu.end() || to == after.steal_ns_by_cpu.end()) continue;
    int64_t& total = summary->steal_ns[cpu];  // created at 0: measured
    if (to->second > from->second) total += to->second - from->second;
  }
  // Columns of two different CPUs cannot be subtracted.
  if (before.cpu < 0 || before.cpu != after.cpu) return;
  for (const auto& [label, count] : after.interrupts_on_cpu) {
    auto it = before.interrupts_on_cpu.find(label);
    const long long delta = count - (it == before.interrupts_on_cpu.end() ? 0 : it->second);
    if (delta > 0) summary->interrupts[label] += delta;
  }
}

}  // namespace dpsupervise
