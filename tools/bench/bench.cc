// bench: the dpsupervise benchmark harness (docs/performance.md).
//
//   tools/bazel run //tools/bench -- [--quick] [--json=FILE] [--only=GROUPS]
//
// Runs, in one process tree and one run, every figure of section 9 with the
// programs of tools/bench (natively, under dpsupervise, under strace), and
// prints a table with the median and spread (IQR, min..max) of each figure
// over repeated trials; --json=FILE also writes it as JSON. Timings are
// reported, never asserted: the exit status is 0 when every row was
// measured, 1 when some row could not be (a workload failed), 2 on a usage
// error. See docs/performance.md for what each row measures.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tools/bench/bench_util.h"

namespace dpbench {
namespace {

using Json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------
// Options

struct Options {
  bool quick = false;
  std::string json_path;
  std::set<std::string> only;  // empty: every group
  double noise_threshold = 0.10;
  int scale_seconds = 0;  // 0: the mode's default
};

const char kUsage[] =
    "Usage: bench [--quick] [--json=FILE] [--only=GROUP,...] [--noise-threshold=F]\n"
    "             [--scale-seconds=N]\n"
    "\n"
    "Measures dpsupervise against native runs and strace, in one run, and prints\n"
    "a table: median, IQR and min..max of each figure over repeated trials.\n"
    "\n"
    "  --quick               fewer trials and a 3 s scale run (under a minute)\n"
    "  --json=FILE           also write the results as JSON to FILE\n"
    "  --only=GROUPS         run only these groups: compute, syscall, violation,\n"
    "                        entry, startup, scale, noise (default: all)\n"
    "  --noise-threshold=F   flag a figure as noisy when IQR/median > F (0.10)\n"
    "  --scale-seconds=N     length of the scale run (default 10, --quick 3)\n"
    "\n"
    "Timings are reported, never asserted. Exit status: 0 every row measured,\n"
    "1 some row could not be measured, 2 usage error.\n";

const std::vector<std::string> kGroups = {"compute", "syscall", "violation", "entry",
                                          "startup", "scale",   "noise"};

bool ParseOptions(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value_of = [&arg](const std::string& name) -> std::optional<std::string> {
      if (arg.rfind(name + "=", 0) == 0) return arg.substr(name.size() + 1);
      return std::nullopt;
    };
    if (arg == "--quick") {
      options->quick = true;
    } else if (arg == "-h" || arg == "--help") {
      fputs(kUsage, stdout);
      exit(0);
    } else if (auto v = value_of("--json")) {
      options->json_path = *v;
    } else if (auto v = value_of("--only")) {
      std::stringstream list(*v);
      for (std::string g; std::getline(list, g, ',');) {
        if (std::find(kGroups.begin(), kGroups.end(), g) == kGroups.end()) {
          fprintf(stderr, "bench: unknown group '%s'\n%s", g.c_str(), kUsage);
          return false;
        }
        options->only.insert(g);
      }
    } else if (auto v = value_of("--noise-threshold")) {
      options->noise_threshold = atof(v->c_str());
    } else if (auto v = value_of("--scale-seconds")) {
      options->scale_seconds = atoi(v->c_str());
      if (options->scale_seconds < 1) {
        fprintf(stderr, "bench: --scale-seconds must be at least 1\n");
        return false;
      }
    } else {
      fprintf(stderr, "bench: unknown argument '%s'\n%s", arg.c_str(), kUsage);
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Rows

enum class Goal { kNone, kAtLeast, kAtMost, kZero };

struct Row {
  std::string id;
  std::string figure;
  std::string unit;  // "x", "ns", "us", "ms", "/s", "count"
  Stats stats;
  Goal goal = Goal::kNone;
  double goal_value = 0;
  bool check_noise = true;  // spread of repeated trials (not of a population)
  // Multiplies the noise threshold: per-event samples (every violation,
  // every re-entry) spread more than per-trial medians do.
  double noise_scale = 1.0;
  std::string status = "ok";  // ok | skipped | error
  std::string note;

  std::string GoalText() const {
    char buf[64];
    switch (goal) {
      case Goal::kNone:
        return "";
      case Goal::kAtLeast:
        snprintf(buf, sizeof(buf), ">= %g%s", goal_value, unit == "x" ? "" : (" " + unit).c_str());
        return buf;
      case Goal::kAtMost:
        snprintf(buf, sizeof(buf), "<= %g%s", goal_value, unit == "x" ? "x" : (" " + unit).c_str());
        return buf;
      case Goal::kZero:
        return "0";
    }
    return "";
  }
  std::optional<bool> GoalMet() const {
    if (status != "ok" || stats.n == 0) return std::nullopt;
    switch (goal) {
      case Goal::kNone:
        return std::nullopt;
      case Goal::kAtLeast:
        return stats.median >= goal_value;
      case Goal::kAtMost:
        return stats.median <= goal_value;
      case Goal::kZero:
        return stats.max == 0;
    }
    return std::nullopt;
  }
  bool Noisy(double threshold) const {
    return status == "ok" && check_noise && RelativeSpread() > threshold * noise_scale;
  }
  double RelativeSpread() const {
    if (stats.n < 3 || stats.median == 0) return 0;
    return (stats.p75 - stats.p25) / std::fabs(stats.median);
  }
};

class Results {
 public:
  Row& Add(const std::string& id, const std::string& figure, const std::string& unit,
           const std::vector<double>& samples) {
    Row row;
    row.id = id;
    row.figure = figure;
    row.unit = unit;
    row.stats = Summarize(samples);
    if (row.stats.n == 0) {
      row.status = "error";
      row.note = "no samples";
    }
    rows_.push_back(row);
    return rows_.back();
  }
  Row& AddFailed(const std::string& id, const std::string& figure, const std::string& unit,
                 const std::string& status, const std::string& note) {
    Row row;
    row.id = id;
    row.figure = figure;
    row.unit = unit;
    row.status = status;
    row.note = note;
    rows_.push_back(row);
    return rows_.back();
  }
  std::vector<Row>& rows() { return rows_; }
  std::vector<std::string>& warnings() { return warnings_; }

 private:
  std::vector<Row> rows_;
  std::vector<std::string> warnings_;
};

// ---------------------------------------------------------------------------
// The environment every benchmark shares

struct Env {
  Options options;
  std::string dpsupervise;
  std::map<std::string, std::string> workloads;  // name -> path
  std::string strace;                            // "" when unavailable
  std::string strace_problem;
  std::string bin_true;
  std::string version;      // dpsupervise --version
  int supervisor_cpu = -1;  // the tracer (dpsupervise, strace) and its children at start
  int workload_cpu = -1;    // the measured threads pin themselves here
  Results results;

  std::string CpuFlag() const { return "--cpu=" + std::to_string(workload_cpu); }
  std::vector<std::string> Supervised(const std::vector<std::string>& dp_options,
                                      const std::vector<std::string>& program) const {
    std::vector<std::string> argv = {dpsupervise};
    // Without a --noise of their own, the groups measure strict mode alone:
    // tracing (the default as root) is the noise group's to measure.
    const bool noise_given = std::any_of(dp_options.begin(), dp_options.end(), [](const auto& o) {
      return o.rfind("--noise=", 0) == 0;
    });
    if (!noise_given) argv.push_back("--noise=off");
    argv.insert(argv.end(), dp_options.begin(), dp_options.end());
    argv.push_back("--");
    argv.insert(argv.end(), program.begin(), program.end());
    return argv;
  }
};

// A workload's failure, for the row note: exit status and the first stderr
// line that says something.
std::string Failure(const std::string& what, const RunResult& r) {
  std::string note = what + ": ";
  if (r.exit_code < 0) return note + "could not start";
  if (r.timed_out) note += "timed out; ";
  note += "exit status " + std::to_string(r.exit_code);
  for (const StampedLine& line : r.err_lines) {
    if (line.text.find("\"type\":\"violation\"") != std::string::npos) continue;
    if (line.text.find("\"type\":\"summary\"") != std::string::npos) continue;
    if (line.text.empty()) continue;
    note += ": " + line.text.substr(0, 160);
    break;
  }
  return note;
}

// JSON objects of the given type among a run's stderr lines (JSON reports).
std::vector<std::pair<int64_t, Json>> JsonRecords(const RunResult& r, const std::string& type) {
  std::vector<std::pair<int64_t, Json>> records;
  for (const StampedLine& line : r.err_lines) {
    if (line.text.empty() || line.text[0] != '{') continue;
    Json j = Json::parse(line.text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    if (j.value("type", "") == type) records.emplace_back(line.arrival_ns, std::move(j));
  }
  return records;
}

long long HexArg(const Json& violation, size_t index) {
  try {
    const std::string hex = violation.at("syscall").at("raw_args").at(index).get<std::string>();
    return strtoll(hex.c_str(), nullptr, 16);
  } catch (const std::exception&) {
    return -1;
  }
}

double Median(std::vector<double> v) { return Summarize(std::move(v)).median; }

std::string Format(double v) {
  char buf[32];
  const double a = std::fabs(v);
  if (a == 0) {
    snprintf(buf, sizeof(buf), "0");
  } else if (a >= 1000) {
    snprintf(buf, sizeof(buf), "%.0f", v);
  } else if (a >= 100) {
    snprintf(buf, sizeof(buf), "%.1f", v);
  } else if (a >= 10) {
    snprintf(buf, sizeof(buf), "%.2f", v);
  } else {
    snprintf(buf, sizeof(buf), "%.3f", v);
  }
  return buf;
}

void Progress(const char* fmt, const std::string& what) {
  fprintf(stderr, fmt, what.c_str());
  fflush(stderr);
}

// ---------------------------------------------------------------------------
// 1. Strict thread in a kernel-free loop: supervised / unsupervised speed.

void BenchCompute(Env& env) {
  const bool quick = env.options.quick;
  const int pairs = quick ? 8 : 20;
  const std::vector<std::string> program = {env.workloads["compute_loop"], env.CpuFlag(),
                                            quick ? "--trials=5" : "--trials=7", "--iters=6000000"};
  const std::vector<std::string> dp_options = {"--preflight=off", "--on-violation=log",
                                               "--format=json", "--report-limit=off"};
  std::vector<double> native_ms, supervised_ms, ratio;
  long violations = 0;
  std::string error;
  for (int i = 0; i < pairs && error.empty(); ++i) {
    // Alternate the order so drift hits both sides alike.
    double t_native = 0, t_supervised = 0;
    for (int side = 0; side < 2; ++side) {
      const bool supervised = (side == 0) == (i % 2 == 0);
      RunResult r =
          Run({supervised ? env.Supervised(dp_options, program) : program, env.supervisor_cpu, 60});
      auto keyed = ParseKeyedLines(r.out);
      const bool strict = !keyed["strict"].empty() && keyed["strict"][0] == 1;
      if (r.exit_code != 0 || keyed["loop_ns"].empty() || strict != supervised) {
        error = Failure(supervised ? "supervised compute_loop" : "compute_loop", r);
        if (r.exit_code == 0) error += " (strict mode " + std::string(strict ? "on" : "off") + ")";
        break;
      }
      violations += static_cast<long>(JsonRecords(r, "violation").size());
      (supervised ? t_supervised : t_native) = Median(keyed["loop_ns"]) / 1e6;
    }
    if (!error.empty()) break;
    native_ms.push_back(t_native);
    supervised_ms.push_back(t_supervised);
    ratio.push_back(t_native / t_supervised);
  }
  Results& res = env.results;
  const std::string ratio_fig = "strict compute loop: supervised/unsupervised speed";
  const std::string native_fig = "compute loop trial, unsupervised (prctl EINVAL)";
  const std::string supervised_fig = "compute loop trial, strict under dpsupervise";
  if (!error.empty()) {
    res.AddFailed("compute.ratio", ratio_fig, "x", "error", error);
    res.AddFailed("compute.native_ms", native_fig, "ms", "error", error);
    res.AddFailed("compute.supervised_ms", supervised_fig, "ms", "error", error);
    return;
  }
  Row& r = res.Add("compute.ratio", ratio_fig, "x", ratio);
  r.goal = Goal::kAtLeast;
  r.goal_value = 0.99;
  r.note = std::to_string(pairs) +
           " process pairs; each: median of its trials of 6M dependent multiply-xorshift "
           "steps, timed in the thread (vDSO clock)";
  if (violations != 0) {
    r.note += "; WARNING: " + std::to_string(violations) + " violations during the loop";
  }
  res.Add("compute.native_ms", native_fig, "ms", native_ms).note =
      "median of the trials of each unsupervised process";
  res.Add("compute.supervised_ms", supervised_fig, "ms", supervised_ms).note =
      "median of the trials of each supervised process";
}

// ---------------------------------------------------------------------------
// 2. Non-strict syscall cost: native, dpsupervise, strace, strace --seccomp-bpf.

void BenchSyscalls(Env& env) {
  const bool quick = env.options.quick;
  const int rounds = quick ? 5 : 15;
  const std::vector<std::string> program = {env.workloads["syscall_cost"], env.CpuFlag(),
                                            quick ? "--trials=3" : "--trials=5",
                                            quick ? "--trial-ms=10" : "--trial-ms=20"};
  struct Mode {
    std::string id, label;
    std::vector<std::string> argv;
    std::string skip;  // reason, when not run
  };
  std::vector<std::string> floor = program;
  floor.push_back("--seccomp-allow=1");
  std::vector<Mode> modes = {
      {"native", "native", program, ""},
      {"seccomp_floor", "under a 1-instruction allow-all seccomp filter", floor, ""},
      {"dpsupervise", "under dpsupervise (non-strict thread)",
       env.Supervised({"--preflight=off"}, program), ""},
  };
  auto traced = [&](std::vector<std::string> strace_args) {
    std::vector<std::string> argv = {env.strace};
    argv.insert(argv.end(), strace_args.begin(), strace_args.end());
    argv.insert(argv.end(), program.begin(), program.end());
    return argv;
  };
  modes.push_back(
      {"strace", "under strace -f", traced({"-f", "-o", "/dev/null"}), env.strace_problem});
  modes.push_back({"strace_seccomp", "under strace -f --seccomp-bpf -e trace=quotactl",
                   traced({"-f", "--seccomp-bpf", "-e", "trace=quotactl", "-o", "/dev/null"}),
                   env.strace_problem});

  const std::vector<std::string> calls = {"getppid", "write"};
  // samples[mode][call]: ns per call of every trial; round medians for ratios.
  std::map<std::string, std::map<std::string, std::vector<double>>> samples, round_median;
  std::map<std::string, std::string> errors;
  for (int round = 0; round < rounds; ++round) {
    for (const Mode& mode : modes) {
      if (!mode.skip.empty() || errors.count(mode.id)) continue;
      RunResult r = Run({mode.argv, env.supervisor_cpu, 120});
      auto keyed = ParseKeyedLines(r.out);
      if (r.exit_code != 0 || keyed["getppid_ns"].empty() || keyed["write_ns"].empty()) {
        errors[mode.id] = Failure("syscall_cost " + mode.label, r);
        continue;
      }
      for (const std::string& call : calls) {
        const std::vector<double>& v = keyed[call + "_ns"];
        samples[mode.id][call].insert(samples[mode.id][call].end(), v.begin(), v.end());
        round_median[mode.id][call].push_back(Median(v));
      }
    }
  }
  Results& res = env.results;
  for (const std::string& call : calls) {
    const std::string what = call == "getppid" ? "getppid()" : "write(/dev/null, 8 bytes)";
    for (const Mode& mode : modes) {
      const std::string id = "syscall." + call + "." + mode.id;
      const std::string figure = what + " " + mode.label;
      if (!mode.skip.empty()) {
        res.AddFailed(id + "_ns", figure, "ns", "skipped", mode.skip);
        if (mode.id != "native")
          res.AddFailed(id + "_ratio", figure + " / native", "x", "skipped", mode.skip);
        continue;
      }
      if (errors.count(mode.id)) {
        res.AddFailed(id + "_ns", figure, "ns", "error", errors[mode.id]);
        if (mode.id != "native")
          res.AddFailed(id + "_ratio", figure + " / native", "x", "error", errors[mode.id]);
        continue;
      }
      Row& ns = res.Add(id + "_ns", figure, "ns", samples[mode.id][call]);
      ns.note = "ns per call, one sample per trial (" + std::to_string(rounds) +
                " processes, time-bounded loops of raw syscall instructions)";
      if (mode.id == "native") continue;
      if (errors.count("native")) {
        res.AddFailed(id + "_ratio", figure + " / native", "x", "error", errors["native"]);
        continue;
      }
      std::vector<double> ratio;
      const auto& num = round_median[mode.id][call];
      const auto& den = round_median["native"][call];
      for (size_t i = 0; i < std::min(num.size(), den.size()); ++i)
        ratio.push_back(num[i] / den[i]);
      Row& r = res.Add(id + "_ratio", figure + " / native", "x", ratio);
      r.note = "per round: median of its trials / native median of the same round";
      if (mode.id == "dpsupervise") {
        r.goal = Goal::kAtMost;
        r.goal_value = 1.15;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// 3. Violation to report.

void BenchViolation(Env& env) {
  const bool quick = env.options.quick;
  const int processes = quick ? 4 : 8;
  const int count = quick ? 60 : 200;
  const std::vector<std::string> program = {env.workloads["violation_latency"], env.CpuFlag(),
                                            "--count=" + std::to_string(count), "--gap-us=1000"};
  const std::vector<std::string> dp_options = {"--preflight=off", "--on-violation=log",
                                               "--format=json", "--report-limit=off"};
  std::vector<double> detect_us, report_us, first_report_ms, after_detect_us;
  std::string error;
  long missing = 0;
  for (int p = 0; p < processes && error.empty(); ++p) {
    RunResult r = Run({env.Supervised(dp_options, program), env.supervisor_cpu, 120});
    auto keyed = ParseKeyedLines(r.out);
    // Realtime nanoseconds exceed double's exact range: re-read them as integers.
    std::vector<long long> before;
    {
      std::istringstream lines(r.out);
      for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string key;
        words >> key;
        if (key != "before_ns") continue;
        for (long long v; words >> v;) before.push_back(v);
      }
    }
    if (r.exit_code != 0 || static_cast<int>(before.size()) != count) {
      error = Failure("violation_latency under dpsupervise", r);
      break;
    }
    std::vector<bool> seen(static_cast<size_t>(count), false);
    for (const auto& [arrival, v] : JsonRecords(r, "violation")) {
      const long long index = HexArg(v, 1) - 1000000;
      if (index < 0 || index >= count || seen[static_cast<size_t>(index)]) continue;
      seen[static_cast<size_t>(index)] = true;
      const long long t0 = before[static_cast<size_t>(index)];
      const long long detected = v.value("time_ns", 0LL);
      if (index == 0) {
        first_report_ms.push_back(static_cast<double>(arrival - t0) / 1e6);
        continue;
      }
      detect_us.push_back(static_cast<double>(detected - t0) / 1e3);
      report_us.push_back(static_cast<double>(arrival - t0) / 1e3);
      after_detect_us.push_back(static_cast<double>(arrival - detected) / 1e3);
    }
    for (bool s : seen) missing += s ? 0 : 1;
  }
  Results& res = env.results;
  const std::string detect_fig = "violation -> seen by supervisor (before symbolizing)";
  const std::string report_fig = "violation -> symbolized report read by harness";
  const std::string first_fig = "first violation -> report (cold symbolizer)";
  const std::string post_fig = "seen -> report read (symbolize, format, write)";
  if (!error.empty()) {
    for (const auto& [id, fig, unit] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"violation.detect_us", detect_fig, "us"},
             {"violation.report_us", report_fig, "us"},
             {"violation.report_symbolize_us", post_fig, "us"},
             {"violation.first_report_ms", first_fig, "ms"}}) {
      res.AddFailed(id, fig, unit, "error", error);
    }
    return;
  }
  const std::string common = std::to_string(processes) + " processes x " +
                             std::to_string(count - 1) + " violations, 1 ms apart";
  Row& d = res.Add("violation.detect_us", detect_fig, "us", detect_us);
  d.goal = Goal::kAtMost;
  d.goal_value = 1000;
  d.noise_scale = 2.5;
  d.note =
      "report's time_ns minus the thread's CLOCK_REALTIME just before its syscall. "
      "dpsupervise always symbolizes, so there is no unsymbolized report to time: "
      "this is the unsymbolized latency minus formatting and writing. " +
      common;
  Row& w = res.Add("violation.report_us", report_fig, "us", report_us);
  w.goal = Goal::kAtMost;
  w.goal_value = 20000;
  w.noise_scale = 2.5;
  w.note = "arrival of the JSON line on the harness's pipe minus the thread's clock. " + common +
           (missing ? "; WARNING: " + std::to_string(missing) + " reports missing" : "");
  Row& s = res.Add("violation.report_symbolize_us", post_fig, "us", after_detect_us);
  s.noise_scale = 2.5;
  s.note = "the symbolized share of report_us (libdw unwinding with a warm cache, JSON, write)";
  Row& f = res.Add("violation.first_report_ms", first_fig, "ms", first_report_ms);
  f.goal = Goal::kAtMost;
  f.goal_value = 20;
  f.note = "first violation of each process: the symbolizer loads the ELF and DWARF data";
}

// ---------------------------------------------------------------------------
// 4. Strict entry, re-entry, leave, and syscalls after leaving, for both
// strict mechanisms (--mechanism=seccomp: the injected filter; dispatch:
// syscall user dispatch, Linux 6.4).

struct EntrySamples {
  std::vector<double> first_off, first_warn, reentry, leave, after_leave;
  // Per process: median getppid in a loop after the last leave / the same
  // loop before any entry (base filter only: an almost allow-all filter),
  // and / the same loop in a native run of the probe next to it.
  std::vector<double> vs_filter, vs_native;
  std::string error;
};

EntrySamples RunEntryProbes(Env& env, const std::string& mechanism, int processes, int rounds) {
  const std::vector<std::string> program = {env.workloads["entry_probe"], env.CpuFlag(),
                                            "--rounds=" + std::to_string(rounds)};
  EntrySamples s;
  for (int p = 0; p < processes && s.error.empty(); ++p) {
    // Alternate: preflight off (entry = the mechanism + arming) and the
    // default preflight=warn (first entry also runs the environment checks).
    const bool preflight = p % 2 == 1;
    const std::vector<std::string> dp_options = {"--mechanism=" + mechanism,
                                                 preflight ? "--preflight=warn" : "--preflight=off",
                                                 "--format=json", "--report-limit=off"};
    RunResult r = Run({env.Supervised(dp_options, program), env.supervisor_cpu, 60});
    auto keyed = ParseKeyedLines(r.out);
    if (r.exit_code != 0 || keyed["first_entry_ns"].empty() ||
        keyed["native_getppid_ns"].empty() || keyed["left_getppid_ns"].empty()) {
      s.error = Failure("entry_probe under dpsupervise --mechanism=" + mechanism, r);
      break;
    }
    // The probe unsupervised (exit 3): getppid with no filter at all.
    RunResult n = Run({program, env.supervisor_cpu, 60});
    auto native = ParseKeyedLines(n.out);
    if (n.exit_code != 3 || native["native_getppid_ns"].empty()) {
      s.error = Failure("entry_probe natively", n);
      break;
    }
    (preflight ? s.first_warn : s.first_off).push_back(keyed["first_entry_ns"][0] / 1e3);
    for (double v : keyed["reentry_ns"]) s.reentry.push_back(v / 1e3);
    for (double v : keyed["leave_ns"]) s.leave.push_back(v / 1e3);
    for (double v : keyed["slow_syscall_ns"]) s.after_leave.push_back(v);
    const double after = Median(keyed["left_getppid_ns"]);
    s.vs_filter.push_back(after / Median(keyed["native_getppid_ns"]));
    s.vs_native.push_back(after / Median(native["native_getppid_ns"]));
  }
  return s;
}

void BenchEntry(Env& env) {
  const bool quick = env.options.quick;
  const int processes = quick ? 8 : 20;
  const int rounds = quick ? 50 : 200;
  const std::string spread =
      std::to_string(processes) + " processes x " + std::to_string(rounds) + " rounds";
  Results& res = env.results;
  // The seccomp rows keep the ids they had before dispatch existed.
  for (const std::string mechanism : {"seccomp", "dispatch"}) {
    const bool dispatch = mechanism == "dispatch";
    const std::string prefix = dispatch ? "entry.dispatch." : "entry.";
    const std::string how = dispatch ? " [dispatch]" : " [seccomp]";
    const std::vector<std::tuple<std::string, std::string, std::string>> rows = {
        {prefix + "first_us",
         std::string(dispatch ? "first strict entry (one ptrace request)"
                              : "first strict entry (filter injection)") +
             ", --preflight=off" + how,
         "us"},
        {prefix + "first_preflight_us", "first strict entry, default --preflight=warn" + how,
         "us"},
        {prefix + "reentry_us",
         std::string(dispatch ? "strict re-entry" : "strict re-entry (filter in place)") + how,
         "us"},
        {prefix + "leave_us", "leave strict mode (prctl flags 0)" + how, "us"},
        {dispatch ? "entry.dispatch.after_leave_ns" : "entry.slow_syscall_us",
         std::string(dispatch ? "getppid() after leaving" : "getppid() after leaving (slow path)") +
             how,
         dispatch ? "ns" : "us"},
        {"entry.after_leave_vs_native." + mechanism + "_x",
         "getppid() after leaving / native getppid" + how, "x"},
        {"entry.after_leave_vs_filter." + mechanism + "_x",
         "getppid() after leaving / getppid under the base filter only" + how, "x"}};
    EntrySamples s = RunEntryProbes(env, mechanism, processes, rounds);
    if (!s.error.empty()) {
      for (const auto& [id, fig, unit] : rows) res.AddFailed(id, fig, unit, "error", s.error);
      continue;
    }
    Row& a = res.Add(std::get<0>(rows[0]), std::get<1>(rows[0]), "us", s.first_off);
    a.goal = Goal::kAtMost;
    a.goal_value = 200;
    a.note = "one sample per process; prctl() call to return, timed in the thread";
    Row& b = res.Add(std::get<0>(rows[1]), std::get<1>(rows[1]), "us", s.first_warn);
    b.note = "one sample per process; includes the preflight checks (once per thread)";
    Row& c = res.Add(std::get<0>(rows[2]), std::get<1>(rows[2]), "us", s.reentry);
    c.goal = Goal::kAtMost;
    c.goal_value = 200;
    c.note = spread + "; every sample";
    c.noise_scale = 2.5;
    Row& d = res.Add(std::get<0>(rows[3]), std::get<1>(rows[3]), "us", s.leave);
    d.note = spread + "; every sample; after a 1 ms strict window (the entry's noise counters "
             "are read once the thread runs again, and a leave sooner than that waits for them)";
    d.noise_scale = 2.5;
    std::vector<double> after = s.after_leave;
    if (!dispatch) {
      for (double& v : after) v /= 1e3;
    }
    Row& e = res.Add(std::get<0>(rows[4]), std::get<1>(rows[4]), std::get<2>(rows[4]), after);
    e.noise_scale = 2.5;
    e.note = spread + (dispatch ? "; the first call after each leave, dispatch off again"
                                : "; the strict filter stays and traps each syscall to the "
                                  "supervisor");
    Row& f = res.Add(std::get<0>(rows[5]), std::get<1>(rows[5]), "x", s.vs_native);
    f.note = "per process: median of a getppid loop after the last leave / median of the same "
             "loop in a native run of the probe";
    if (dispatch) {
      f.goal = Goal::kAtMost;
      f.goal_value = 1.5;
    }
    Row& g = res.Add(std::get<0>(rows[6]), std::get<1>(rows[6]), "x", s.vs_filter);
    g.note = "per process: median of a getppid loop after the last leave / the same loop before "
             "the first entry, same process (the base filter: allows all but a few syscalls)";
  }
}

// ---------------------------------------------------------------------------
// 5. Startup.

void BenchStartup(Env& env) {
  const int rounds = env.options.quick ? 60 : 300;
  // Four programs per round, in rotating order: /bin/true; dpsupervise
  // --version (process start and dynamic linking of dpsupervise alone);
  // dpsupervise --noise=off -- /bin/true; dpsupervise -- /bin/true, whose
  // default traces the kernel where it may (root).
  const std::vector<std::vector<std::string>> argvs = {
      {env.bin_true},
      {env.dpsupervise, "--version"},
      {env.dpsupervise, "--noise=off", "--", env.bin_true},
      {env.dpsupervise, "--", env.bin_true}};
  constexpr int kPrograms = 4;
  std::vector<double> ms[kPrograms], overhead_ms, tracing_ms;
  std::string error;
  for (int i = 0; i < rounds && error.empty(); ++i) {
    int64_t t[kPrograms] = {0, 0, 0, 0};
    for (int k = 0; k < kPrograms; ++k) {
      const int which = (i + k) % kPrograms;
      t[which] = TimeRun(argvs[which], env.supervisor_cpu);
      if (t[which] < 0) {
        error = argvs[which].back() + " failed";
        if (which > 0) error = "dpsupervise " + error;
      }
    }
    if (!error.empty()) break;
    for (int k = 0; k < kPrograms; ++k) ms[k].push_back(static_cast<double>(t[k]) / 1e6);
    overhead_ms.push_back(static_cast<double>(t[2] - t[0]) / 1e6);
    tracing_ms.push_back(static_cast<double>(t[3] - t[2]) / 1e6);
  }
  Results& res = env.results;
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"startup.native_ms", "/bin/true, fork to wait"},
      {"startup.version_ms", "dpsupervise --version (exec and dynamic linking only)"},
      {"startup.dpsupervise_ms", "dpsupervise --noise=off -- /bin/true"},
      {"startup.traced_ms", "dpsupervise -- /bin/true (default --noise)"},
      {"startup.overhead_ms", "startup overhead (difference per round)"},
      {"startup.tracing_ms", "the default --noise's share (difference per round)"}};
  if (!error.empty()) {
    for (const auto& [id, fig] : rows) res.AddFailed(id, fig, "ms", "error", error);
    return;
  }
  const std::string note =
      std::to_string(rounds) + " rounds, order rotated; wall time from fork() to waitpid()";
  for (int k = 0; k < kPrograms; ++k) {
    res.Add(rows[k].first, rows[k].second, "ms", ms[k]).note = note;
  }
  Row& o = res.Add(rows[4].first, rows[4].second, "ms", overhead_ms);
  o.goal = Goal::kAtMost;
  o.goal_value = 5;
  o.note =
      "dpsupervise --noise=off -- /bin/true minus /bin/true, same round: loading dpsupervise, "
      "building both BPF programs, the launch handshake, tracing the exit";
  Row& n = res.Add(rows[5].first, rows[5].second, "ms", tracing_ms);
  n.note = geteuid() == 0
               ? "dpsupervise -- /bin/true minus dpsupervise --noise=off -- /bin/true: opening "
                 "the tracepoints (formats, /proc/kallsyms, 28 events per CPU, their rings)"
               : "not root: the default does not trace, so about 0";
}

// ---------------------------------------------------------------------------
// 6. Scale: 64 strict + 64 non-strict threads with churn.

// One scale run. Normally each strict thread violates again 200 ms after its
// report (at most 320 violations/s offered) and at most 200 churn threads
// start per second: below what the supervisor handles here, so every event
// should be handled as it comes. `saturated`: 10 ms and unlimited churn,
// more than one supervisor thread can handle, which measures its capacity
// and how fairly it serves the threads that wait.
void ScaleRun(Env& env, bool saturated) {
  const int seconds =
      env.options.scale_seconds > 0 ? env.options.scale_seconds : (env.options.quick ? 3 : 10);
  const int n_strict = 64, n_churn = 64;
  const int period_ms = saturated ? 10 : 200;
  const int churn_per_s = saturated ? 0 : 200;
  const std::string prefix = saturated ? "scale_saturated." : "scale.";
  const std::vector<std::string> program = {env.workloads["scale"],
                                            env.CpuFlag(),
                                            "--strict=64",
                                            "--nonstrict=64",
                                            "--seconds=" + std::to_string(seconds),
                                            "--period-ms=" + std::to_string(period_ms),
                                            "--life-ms=20",
                                            "--churn-per-s=" + std::to_string(churn_per_s)};
  const std::vector<std::string> dp_options = {"--preflight=off", "--on-violation=log",
                                               "--format=json", "--report-limit=off"};
  RunResult r = Run({env.Supervised(dp_options, program), env.supervisor_cpu, seconds + 120});
  Results& res = env.results;
  std::vector<std::tuple<std::string, std::string, std::string>> rows = {
      {"events_per_s", "events handled per second (violations + thread creations)", "/s"},
      {"violations_per_s", "violations reported per second", "/s"},
      {"creations_per_s", "non-strict thread creations per second (churn)", "/s"},
      {"lost", "violations made but not reported", "count"},
      {"misattributed", "reports naming the wrong thread, or too many", "count"},
      {"unexpected", "other reports (other kinds, unknown threads)", "count"},
      {"max_wait_ms", "longest wait of one violation for its report, per thread", "ms"}};
  if (!saturated)
    rows.push_back({"entry_ms", "strict entry time, 64 threads entering at once", "ms"});
  for (auto& row : rows) {
    std::get<0>(row) = prefix + std::get<0>(row);
    if (saturated) std::get<1>(row) = "saturated: " + std::get<1>(row);
  }
  auto keyed = ParseKeyedLines(r.out);
  std::map<long, long> tid_of, made;  // strict index -> tid, violations it made
  std::vector<double> entry_ms, max_wait_ms, mean_wait_ms;
  int all_in = -1;
  {
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::string key;
      words >> key;
      long index = 0, a = 0, strict = 0;
      long long entry = 0, max_wait = 0, sum_wait = 0;
      if (key == "strict_tid" && (words >> index >> a)) tid_of[index] = a;
      if (key == "strict_count" &&
          (words >> index >> a >> strict >> entry >> max_wait >> sum_wait)) {
        made[index] = a;
        entry_ms.push_back(static_cast<double>(entry) / 1e6);
        max_wait_ms.push_back(static_cast<double>(max_wait) / 1e6);
        if (a > 0) mean_wait_ms.push_back(static_cast<double>(sum_wait) / 1e6 / a);
      }
      if (key == "all_strict") words >> all_in;
    }
  }
  // The window's bounds are realtime nanoseconds: read them exactly.
  long long window_start = 0, window_end = 0;
  {
    const size_t at = r.out.find("window_ns ");
    if (at != std::string::npos) {
      sscanf(r.out.c_str() + at, "window_ns %lld %lld", &window_start, &window_end);
    }
  }
  if (r.exit_code != 0 || static_cast<int>(made.size()) != n_strict ||
      static_cast<int>(tid_of.size()) != n_strict || window_end <= window_start) {
    const std::string error = Failure("scale under dpsupervise", r);
    for (const auto& [id, fig, unit] : rows) res.AddFailed(id, fig, unit, "error", error);
    return;
  }
  std::map<long, long> reported;
  long misattributed = 0, unexpected = 0;
  std::vector<long> per_second(static_cast<size_t>(seconds), 0);
  std::string unexpected_example;
  for (const auto& [arrival, v] : JsonRecords(r, "violation")) {
    const std::string kind = v.value("kind", "");
    const long tid = v.value("tid", 0L);
    std::string name;
    if (kind == "syscall") name = v.at("syscall").value("name", "");
    const long long index = kind == "syscall" ? HexArg(v, 0) - 2000000 : -1;
    if (name != "poll" || index < 0 || index >= n_strict) {
      ++unexpected;
      if (unexpected_example.empty()) {
        unexpected_example = kind + " " + name + " tid " + std::to_string(tid);
      }
      continue;
    }
    if (tid != tid_of[static_cast<long>(index)]) {
      ++misattributed;
      continue;
    }
    ++reported[index];
    const long long t = v.value("time_ns", 0LL);
    if (t >= window_start && t < window_start + seconds * 1000000000LL) {
      ++per_second[static_cast<size_t>((t - window_start) / 1000000000LL)];
    }
  }
  long lost = 0, phantom = 0, total_made = 0, starved = 0;
  for (const auto& [index, n] : made) {
    const long got = reported.count(index) ? reported[index] : 0;
    if (got < n) lost += n - got;
    if (got > n) phantom += got - n;
    total_made += n;
  }
  const double fair_share = static_cast<double>(total_made) / n_strict;
  for (const auto& [index, n] : made) starved += static_cast<double>(n) < 0.1 * fair_share ? 1 : 0;
  const std::vector<double>& creation_buckets = keyed["creations"];
  const double total_creations = creation_buckets.empty() ? 0 : creation_buckets[0];
  std::vector<double> violations_per_s, creations_per_s, events_per_s;
  for (int s = 0; s < seconds; ++s) {
    const double c = static_cast<size_t>(s + 1) < creation_buckets.size()
                         ? creation_buckets[static_cast<size_t>(s + 1)]
                         : 0;
    violations_per_s.push_back(static_cast<double>(per_second[static_cast<size_t>(s)]));
    creations_per_s.push_back(c);
    events_per_s.push_back(static_cast<double>(per_second[static_cast<size_t>(s)]) + c);
  }
  const double window_s = static_cast<double>(window_end - window_start) / 1e9;
  char buf[512];
  size_t k = 0;
  Row& e = res.Add(std::get<0>(rows[k]), std::get<1>(rows[k]), "/s", events_per_s);
  ++k;
  e.noise_scale = 2.5;
  snprintf(buf, sizeof(buf),
           "one sample per second of a %d s run (window measured: %.2f s); %d strict threads, "
           "each violating again %d ms after its report (offered <= %d/s); %d churn slots of "
           "20 ms threads, replaced %s; workload on CPU %d, supervisor on CPU %d",
           seconds, window_s, n_strict, period_ms, n_strict * 1000 / period_ms, n_churn,
           churn_per_s > 0 ? ("at most " + std::to_string(churn_per_s) + "/s").c_str()
                           : "as soon as they end",
           env.workload_cpu, env.supervisor_cpu);
  e.note = buf;
  Row& vr = res.Add(std::get<0>(rows[k]), std::get<1>(rows[k]), "/s", violations_per_s);
  ++k;
  vr.noise_scale = 2.5;
  vr.note = "from the reports' time_ns, per second of the window";
  snprintf(buf, sizeof(buf), "%.0f creations in total; non-strict getppid calls: %.0f",
           total_creations,
           keyed["nonstrict_syscalls"].empty() ? 0.0 : keyed["nonstrict_syscalls"][0]);
  Row& cr = res.Add(std::get<0>(rows[k]), std::get<1>(rows[k]), "/s", creations_per_s);
  ++k;
  cr.noise_scale = 2.5;
  cr.note = buf;
  Row& l =
      res.Add(std::get<0>(rows[k]), std::get<1>(rows[k]), "count", {static_cast<double>(lost)});
  ++k;
  l.goal = Goal::kZero;
  l.check_noise = false;
  l.note = std::to_string(total_made) + " violations made (as counted by the threads), " +
           std::to_string(total_made - lost + phantom) + " reported for them";
  Row& m = res.Add(std::get<0>(rows[k]), std::get<1>(rows[k]), "count",
                   {static_cast<double>(misattributed + phantom)});
  ++k;
  m.goal = Goal::kZero;
  m.check_noise = false;
  m.note = "report's tid differs from the tid of the thread its poll() argument names: " +
           std::to_string(misattributed) +
           "; more reports than violations made: " + std::to_string(phantom);
  Row& u = res.Add(std::get<0>(rows[k]), std::get<1>(rows[k]), "count",
                   {static_cast<double>(unexpected)});
  ++k;
  u.goal = Goal::kZero;
  u.check_noise = false;
  u.note = unexpected ? "e.g. " + unexpected_example : "page faults, traps, non-strict threads";
  Row& w = res.Add(std::get<0>(rows[k]), std::get<1>(rows[k]), "ms", max_wait_ms);
  ++k;
  w.check_noise = false;
  snprintf(buf, sizeof(buf),
           "per thread: longest time one violation took beyond its %d ms poll() sleep; mean "
           "over its violations: %.2f ms (median of threads); threads served under 10%% of "
           "their fair share: %ld of %d",
           period_ms, Median(mean_wait_ms), starved, n_strict);
  w.note = buf;
  if (starved > 0) {
    env.results.warnings().push_back(
        prefix + "max_wait_ms: " + std::to_string(starved) + " of 64 strict threads got under " +
        "10% of their share of reports (a thread waited " + Format(w.stats.max) +
        " ms for one report): the supervisor serves waiting threads unfairly");
  }
  if (!saturated) {
    Row& en = res.Add(std::get<0>(rows[k]), std::get<1>(rows[k]), "ms", entry_ms);
    en.check_noise = false;
    en.note = "per thread, prctl() call to return; " + std::to_string(all_in) + " of 64 strict " +
              "when the window began";
  }
}

void BenchScale(Env& env) {
  ScaleRun(env, false);
  ScaleRun(env, true);
}

// ---------------------------------------------------------------------------
// 7. Noise tracing (--noise): what following the kernel's tracepoints costs.
// ipi_load's strict worker on the workload CPU takes 10k IPIs/s from its
// sender thread on the supervisor CPU; the same load runs with
// --noise=off and --noise=events, alternately, and each pair gives the
// ratios.

// What one ipi_load run under dpsupervise said, and the noise records.
struct IpiLoadRun {
  std::string error;
  bool untraceable = false;  // dpsupervise could not trace the kernel here
  double sends = 0;
  double interruptions = 0;
  double stolen_ns = 0;
  double max_gap_ns = 0;
  double gap_median_ns = 0;
  double supervisor_cpu_ms = 0;
  long long ipi_records = 0;
  long long lost_records = 0;
  std::vector<double> record_latency_ms;  // IPI entry -> its record read here
};

// ipi_load's command line: the worker on the workload CPU, `rate`
// membarrier IPIs a second from a thread on the supervisor CPU.
std::vector<std::string> IpiLoadArgv(Env& env, int seconds, int rate) {
  return {env.workloads["ipi_load"], env.CpuFlag(),
          "--sender-cpu=" + std::to_string(env.supervisor_cpu),
          "--rate=" + std::to_string(rate), "--seconds=" + std::to_string(seconds)};
}

IpiLoadRun RunIpiLoad(Env& env, const std::string& noise, int seconds, int rate) {
  const std::vector<std::string> program = IpiLoadArgv(env, seconds, rate);
  const std::vector<std::string> dp_options = {"--preflight=off", "--on-violation=log",
                                               "--format=json", "--noise=" + noise};
  RunResult r = Run({env.Supervised(dp_options, program), env.supervisor_cpu, 120});
  IpiLoadRun run;
  const size_t refused = r.err.find("--noise: cannot trace the kernel");
  if (refused != std::string::npos) {
    run.untraceable = true;
    run.error = r.err.substr(refused, r.err.find('\n', refused) - refused);
    return run;
  }
  auto keyed = ParseKeyedLines(r.out);
  if (r.exit_code != 0 || keyed["strict"].empty() || keyed["strict"][0] != 1 ||
      keyed["parent_cpu_ms"].empty()) {
    run.error = Failure("ipi_load under dpsupervise --noise=" + noise, r);
    return run;
  }
  run.sends = keyed["sends"][0];
  run.interruptions = keyed["interruptions"][0];
  run.stolen_ns = keyed["stolen_ns"][0];
  run.max_gap_ns = keyed["max_gap_ns"][0];
  run.gap_median_ns = keyed["gap_median_ns"][0];
  run.supervisor_cpu_ms = keyed["parent_cpu_ms"][0];
  for (const auto& [arrival, record] : JsonRecords(r, "noise")) {
    if (record.value("kind", "") != "ipi") continue;
    ++run.ipi_records;
    run.record_latency_ms.push_back(
        static_cast<double>(arrival - record.value("start_ns", 0LL)) / 1e6);
  }
  for (const auto& [arrival, summary] : JsonRecords(r, "noise_summary")) {
    run.lost_records = std::max(run.lost_records, summary.value("lost_records", 0LL));
    // --noise=summary writes no record per event: its count says.
    if (noise == "summary" && summary.contains("by_kind") && summary["by_kind"].contains("ipi")) {
      run.ipi_records += summary["by_kind"]["ipi"].value("count", 0LL);
    }
  }
  if (noise != "off" && run.ipi_records == 0) {
    run.error = "no ipi noise record under --noise=" + noise + " (" + Failure("ipi_load", r) + ")";
  }
  return run;
}

// Time from the end of an IPI to dpsupervise's action on it, with
// `--action=ipi=log` (the worker stopped, reported, resumed: a violation
// per IPI), at a rate the stops leave room for. `to_stop_ms`: to the
// violation's time_ns (the thread stopped for the action, dpsupervise's
// clock); `to_report_ms`: to the report's arrival on the harness's pipe.
struct ActionLatency {
  std::vector<double> to_stop_ms, to_report_ms;
  std::string error;
};

ActionLatency RunIpiAction(Env& env, int seconds, int rate) {
  const std::vector<std::string> program = IpiLoadArgv(env, seconds, rate);
  const std::vector<std::string> dp_options = {"--preflight=off", "--action=ipi=log",
                                               "--noise=off", "--report-limit=off",
                                               "--format=json"};
  RunResult r = Run({env.Supervised(dp_options, program), env.supervisor_cpu, 120});
  ActionLatency latency;
  for (const auto& [arrival, v] : JsonRecords(r, "violation")) {
    if (v.value("kind", "") != "ipi" || !v.contains("interruption")) continue;
    const Json& interruption = v["interruption"];
    const long long end =
        interruption.value("start_ns", 0LL) + interruption.value("duration_ns", 0LL);
    latency.to_stop_ms.push_back(static_cast<double>(v.value("time_ns", 0LL) - end) / 1e6);
    latency.to_report_ms.push_back(static_cast<double>(arrival - end) / 1e6);
  }
  if (r.exit_code != 0 || latency.to_stop_ms.empty()) {
    latency.error = "no ipi violation under --action=ipi=log (" + Failure("ipi_load", r) + ")";
  }
  return latency;
}

// Steal time of `cpu` so far (/proc/stat, its 8th counter), in ms: time
// the hypervisor ran something else on this virtual CPU, which no guest
// tracepoint sees.
double StealMs(int cpu) {
  std::ifstream in("/proc/stat");
  const std::string want = "cpu" + std::to_string(cpu);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string name;
    fields >> name;
    if (name != want) continue;
    double value = 0;
    for (int i = 1; i <= 8 && fields >> value; ++i) {
    }
    return value * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return -1;
}

// The longest stretch of back-to-back interruptions (each starting within
// 2 us of the previous one's end, oslat's loop taking about 1 us) among
// `events`, by start time: what one long gap in a busy loop can be made of.
double LongestMergedNs(std::vector<std::pair<int64_t, int64_t>> events) {
  std::sort(events.begin(), events.end());
  int64_t best = 0, begin = 0, end = -1;
  for (const auto& [start, duration] : events) {
    if (end < 0 || start > end + 2000) begin = start, end = start;
    end = std::max(end, start + duration);
    best = std::max(best, end - begin);
  }
  return static_cast<double>(best);
}

std::vector<std::string> OslatRowIds() {
  return {"oslat.max_gap_us", "oslat.longest_noise_us", "oslat.longest_merged_us",
          "oslat.unattributed_us", "oslat.steal_ms"};
}

// Cross-check on a program nobody here wrote: rt-tests' oslat measures its
// own longest gap on the workload CPU while dpsupervise makes its
// measuring thread strict from outside (--strict-cpus) and attributes
// every interruption.
void BenchOslat(Env& env, const std::string& oslat, int seconds) {
  const std::vector<std::string> ids = OslatRowIds();
  char json_path[] = "/tmp/dpbench-oslat-XXXXXX";
  const int fd = mkstemp(json_path);
  if (fd >= 0) close(fd);
  const std::vector<std::string> program = {
      oslat, "--cpu-list=" + std::to_string(env.workload_cpu),
      "--cpu-main-thread=" + std::to_string(env.supervisor_cpu), "--duration=" +
      std::to_string(seconds), "--quiet", std::string("--json=") + json_path};
  // oslat's own syscalls (thread start and end) are logged, not killed.
  const std::vector<std::string> dp_options = {
      "--preflight=off", "--on-violation=log", "--format=json", "--noise=events",
      "--strict-cpus=" + std::to_string(env.workload_cpu)};
  const double steal_before = StealMs(env.workload_cpu);
  RunResult r = Run({env.Supervised(dp_options, program), env.supervisor_cpu, 120});
  const double steal = StealMs(env.workload_cpu) - steal_before;
  std::ifstream in(json_path);
  Json result = Json::parse(in, nullptr, false);
  unlink(json_path);
  double oslat_max_us = -1;
  if (!result.is_discarded() && result.contains("thread")) {
    for (const auto& [index, thread] : result["thread"].items()) {
      oslat_max_us = std::max(oslat_max_us, thread.value("max", -1.0));
    }
  }
  const bool untraceable = r.err.find("--noise: cannot trace the kernel") != std::string::npos;
  if (r.exit_code != 0 || oslat_max_us < 0 || untraceable) {
    for (const std::string& id : ids) {
      if (untraceable) {
        env.results.AddFailed(id, "oslat cross-check", "", "skipped",
                              "dpsupervise cannot trace the kernel here");
        continue;
      }
      env.results.AddFailed(id, "oslat cross-check", "", "error",
                            Failure("oslat under dpsupervise", r));
    }
    return;
  }
  // oslat's measuring thread: the one strict longest (a preheat thread
  // runs first, briefly).
  long long measuring = 0;
  double longest_strict = -1;
  for (const auto& [arrival, summary] : JsonRecords(r, "summary")) {
    for (const Json& thread : summary.value("threads", Json::array())) {
      if (thread.value("strict_seconds", 0.0) > longest_strict) {
        longest_strict = thread.value("strict_seconds", 0.0);
        measuring = thread.value("tid", 0LL);
      }
    }
  }
  std::vector<std::pair<int64_t, int64_t>> events;
  double longest_ns = 0;
  for (const auto& [arrival, record] : JsonRecords(r, "noise")) {
    if (record.value("tid", 0LL) != measuring) continue;
    events.emplace_back(record.value("start_ns", 0LL), record.value("duration_ns", 0LL));
    longest_ns = std::max(longest_ns, static_cast<double>(events.back().second));
  }
  const double merged_us = LongestMergedNs(events) / 1e3;
  Results& res = env.results;
  Row& m = res.Add("oslat.max_gap_us", "oslat's own maximum gap on the workload CPU", "us",
                   {oslat_max_us});
  m.check_noise = false;
  m.note = "rt-tests oslat " + std::to_string(seconds) +
           " s under dpsupervise --strict-cpus --noise=events, one run";
  res.Add("oslat.longest_noise_us", "longest interruption dpsupervise attributed, same run", "us",
          {longest_ns / 1e3})
      .check_noise = false;
  Row& g = res.Add("oslat.longest_merged_us",
                   "longest run of back-to-back attributed interruptions", "us", {merged_us});
  g.check_noise = false;
  g.note = "interruptions each starting within 2 us of the previous one's end: one oslat gap";
  Row& u = res.Add("oslat.unattributed_us", "oslat max minus the longest attributed run", "us",
                   {oslat_max_us - merged_us});
  u.check_noise = false;
  u.note = "what the guest's tracepoints cannot see (steal time: the host ran something else on "
           "this vCPU) and the switch paths around a preemption";
  res.Add("oslat.steal_ms", "steal time of the workload CPU during the run", "ms", {steal})
      .check_noise = false;
}

void BenchNoise(Env& env) {
  std::vector<std::string> ids = {
      "noise.interruption_ratio", "noise.interruption_untraced_ns",
      "noise.interruption_traced_ns", "noise.cpu_per_event_us",
      "noise.record_latency_ms", "noise.records_per_s", "noise.sends_per_s",
      "noise.lost_records", "noise.lost_records_summary", "noise.action_to_stop_ms",
      "noise.action_to_report_ms"};
  if (geteuid() != 0 || env.supervisor_cpu < 0) {
    for (const std::string& id : OslatRowIds()) ids.push_back(id);
    for (const std::string& id : ids) {
      env.results.AddFailed(id, "noise tracing", "", "skipped",
                            geteuid() != 0 ? "tracing the kernel needs root"
                                           : "needs 2 CPUs (sender and strict worker)");
    }
    return;
  }
  const bool quick = env.options.quick;
  const int trials = quick ? 1 : 3;
  const int seconds = quick ? 1 : 3;
  constexpr int kRate = 10000;
  // The harness reads 10k records/s: on the supervisor's CPU, not the
  // strict worker's.
  PinThisThread(env.supervisor_cpu);
  std::vector<double> ratio, untraced_ns, traced_ns, cpu_per_event_us, latency_ms,
      records_per_s, sends_per_s, lost, lost_summary;
  std::string error;
  bool untraceable = false;
  for (int trial = 0; trial < trials && error.empty(); ++trial) {
    IpiLoadRun off = RunIpiLoad(env, "off", seconds, kRate);
    IpiLoadRun on = RunIpiLoad(env, "events", seconds, kRate);
    IpiLoadRun summary = RunIpiLoad(env, "summary", seconds, kRate);
    error = !off.error.empty() ? off.error : !on.error.empty() ? on.error : summary.error;
    untraceable = on.untraceable;
    if (untraceable) error = on.error;  // the reason to skip, whatever else failed
    if (!error.empty() || off.gap_median_ns == 0 || on.gap_median_ns == 0) break;
    untraced_ns.push_back(off.gap_median_ns);
    traced_ns.push_back(on.gap_median_ns);
    ratio.push_back(on.gap_median_ns / off.gap_median_ns);
    cpu_per_event_us.push_back((on.supervisor_cpu_ms - off.supervisor_cpu_ms) * 1000.0 /
                               static_cast<double>(on.ipi_records));
    latency_ms.insert(latency_ms.end(), on.record_latency_ms.begin(), on.record_latency_ms.end());
    records_per_s.push_back(static_cast<double>(on.ipi_records) / seconds);
    sends_per_s.push_back(on.sends / seconds);
    lost.push_back(static_cast<double>(on.lost_records));
    lost_summary.push_back(static_cast<double>(summary.lost_records));
  }
  constexpr int kActionRate = 100;
  ActionLatency action;
  if (error.empty()) action = RunIpiAction(env, seconds, kActionRate);
  if (error.empty()) error = action.error;
  PinThisThread(env.workload_cpu);
  Results& res = env.results;
  if (!error.empty() || ratio.empty()) {
    if (error.empty()) error = "ipi_load saw no interruption";
    if (untraceable) {
      for (const std::string& id : OslatRowIds()) ids.push_back(id);
    }
    for (const std::string& id : ids) {
      res.AddFailed(id, "noise tracing", "", untraceable ? "skipped" : "error", error);
    }
    return;
  }
  const std::string load = "10k membarrier IPIs/s from a thread on the supervisor CPU to the "
                           "strict worker, " + std::to_string(seconds) + " s per run";
  Row& q = res.Add("noise.interruption_ratio", "interruption length, --noise=events / off", "x",
                   ratio);
  q.note = "median gap the strict worker saw in its clock reads (gaps > 500 ns, as oslat counts "
           "them; most are the IPIs), the same IPI load traced and untraced, runs paired. " + load;
  res.Add("noise.interruption_untraced_ns", "median interruption, --noise=off", "ns", untraced_ns);
  res.Add("noise.interruption_traced_ns", "median interruption, --noise=events", "ns", traced_ns);
  Row& c = res.Add("noise.cpu_per_event_us", "supervisor CPU time per noise event", "us",
                   cpu_per_event_us);
  c.note = "dpsupervise's utime+stime with --noise=events minus with --noise=off, per ipi record "
           "(drain, decode, attribute, unwind and symbolize the sender, format, write); "
           "10 ms clock ticks";
  Row& l = res.Add("noise.record_latency_ms", "IPI -> its noise record read by the harness", "ms",
                   latency_ms);
  l.noise_scale = 5;  // uniform over a drain period by design
  l.note = "record's start_ns to its arrival on the harness's pipe: the 20 ms drain tick and the "
           "2 ms settle dominate (to an action: noise.action_to_*)";
  Row& e = res.Add("noise.records_per_s", "ipi noise records written per second", "/s",
                   records_per_s);
  e.note = "IPIs that reached the worker: membarrier interrupts only the CPUs where the process "
           "runs at that moment, so sends made while the worker was preempted interrupt nobody";
  res.Add("noise.sends_per_s", "membarrier calls made per second (the offered load)", "/s",
          sends_per_s);
  Row& z = res.Add("noise.lost_records", "trace records lost at 10k IPIs/s, --noise=events",
                   "count", lost);
  z.goal = Goal::kZero;
  z.check_noise = false;
  z.note = "each record written (JSON, ~1.5 KB with the sender's backtrace: 15 MB/s) to the "
           "harness's pipe; sender, dpsupervise and harness share the supervisor CPU, and while "
           "a write waits for the harness nothing drains the 1 MiB rings";
  Row& zs = res.Add("noise.lost_records_summary", "trace records lost at 10k IPIs/s, --noise=summary",
                    "count", lost_summary);
  zs.goal = Goal::kZero;
  zs.check_noise = false;
  zs.note = "the default mode: the same load, nothing written per event, senders not unwound";
  const std::string action_load = std::to_string(kActionRate) + " membarrier IPIs/s, " +
                                  std::to_string(seconds) + " s, --action=ipi=log";
  Row& as = res.Add("noise.action_to_stop_ms", "end of an IPI -> the thread stopped for its action",
                    "ms", action.to_stop_ms);
  as.noise_scale = 5;  // uniform over a drain period by design
  as.note = "the violation's time_ns minus the interruption's end: the 5 ms tick of a run with "
            "interruption actions, the 2 ms settle and the PTRACE_INTERRUPT. " + action_load;
  Row& ar = res.Add("noise.action_to_report_ms", "end of an IPI -> its violation report read",
                    "ms", action.to_report_ms);
  ar.noise_scale = 5;
  ar.note = "arrival of the JSON violation on the harness's pipe minus the interruption's end";
  const std::string oslat = FindInPath("oslat");
  if (oslat.empty()) {
    for (const std::string& id : OslatRowIds()) {
      res.AddFailed(id, "oslat cross-check", "", "skipped", "rt-tests' oslat is not installed");
    }
  } else {
    BenchOslat(env, oslat, quick ? 2 : 10);
  }
}

// ---------------------------------------------------------------------------
// Output

void PrintTable(Env& env, FILE* out) {
  fprintf(out, "\n%-36s %-9s %-10s %-21s %-21s %4s  %-14s %s\n", "id", "unit", "median",
          "IQR (p25..p75)", "min..max", "n", "goal", "");
  fprintf(out, "%s\n", std::string(140, '-').c_str());
  for (const Row& row : env.results.rows()) {
    if (row.status != "ok") {
      fprintf(out, "%-36s %-9s %-10s %s\n", row.id.c_str(), row.unit.c_str(),
              row.status == "skipped" ? "SKIPPED" : "ERROR", row.note.c_str());
      continue;
    }
    const Stats& s = row.stats;
    const std::string iqr = Format(s.p25) + ".." + Format(s.p75);
    const std::string range = Format(s.min) + ".." + Format(s.max);
    std::string goal = row.GoalText();
    if (auto met = row.GoalMet()) goal += *met ? " ok" : " MISSED";
    const bool noisy = row.Noisy(env.options.noise_threshold);
    fprintf(out, "%-36s %-9s %-10s %-21s %-21s %4d  %-14s %s\n", row.id.c_str(), row.unit.c_str(),
            Format(s.median).c_str(), iqr.c_str(), range.c_str(), s.n, goal.c_str(),
            noisy ? "NOISY" : "");
  }
  fprintf(out, "\nFigures:\n");
  for (const Row& row : env.results.rows()) {
    fprintf(out, "  %-34s %s\n", row.id.c_str(), row.figure.c_str());
    if (!row.note.empty() && row.status == "ok")
      fprintf(out, "  %-34s   %s\n", "", row.note.c_str());
  }
  if (!env.results.warnings().empty()) {
    fprintf(out, "\nWarnings:\n");
    for (const std::string& w : env.results.warnings()) fprintf(out, "  - %s\n", w.c_str());
  }
}

Json ToJson(Env& env, const std::string& date, const std::string& load_before, double elapsed_s) {
  Json j;
  j["tool"] = "dpsupervise bench";
  j["date"] = date;
  j["quick"] = env.options.quick;
  j["dpsupervise_version"] = env.version;
  j["elapsed_s"] = elapsed_s;
  j["machine"] = {{"nproc", sysconf(_SC_NPROCESSORS_ONLN)},
                  {"cpu_model", CpuModel()},
                  {"kernel", KernelRelease()},
                  {"loadavg_before", load_before},
                  {"loadavg_after", LoadAverage()}};
  j["pinning"] = {{"supervisor_cpu", env.supervisor_cpu}, {"workload_cpu", env.workload_cpu}};
  j["noise_threshold"] = env.options.noise_threshold;
  Json rows = Json::array();
  for (const Row& row : env.results.rows()) {
    Json r;
    r["id"] = row.id;
    r["figure"] = row.figure;
    r["unit"] = row.unit;
    r["status"] = row.status;
    if (row.status == "ok") {
      r["median"] = row.stats.median;
      r["p25"] = row.stats.p25;
      r["p75"] = row.stats.p75;
      r["min"] = row.stats.min;
      r["max"] = row.stats.max;
      r["mean"] = row.stats.mean;
      r["n"] = row.stats.n;
      r["noisy"] = row.Noisy(env.options.noise_threshold);
    }
    const std::string goal = row.GoalText();
    r["goal"] = goal.empty() ? Json(nullptr) : Json(goal);
    const auto met = row.GoalMet();
    r["goal_met"] = met ? Json(*met) : Json(nullptr);
    r["note"] = row.note;
    rows.push_back(r);
  }
  j["rows"] = rows;
  j["warnings"] = env.results.warnings();
  return j;
}

std::string Today() {
  const time_t now = time(nullptr);
  tm t;
  gmtime_r(&now, &t);
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &t);
  return buf;
}

// ---------------------------------------------------------------------------

int Main(int argc, char** argv) {
  Env env;
  if (!ParseOptions(argc, argv, &env.options)) return 2;
  const int64_t t_start = MonotonicNs();
  const std::string date = Today();
  const std::string load_before = LoadAverage();

  env.dpsupervise = Runfile("supervisor/dpsupervise");
  for (const char* name :
       {"compute_loop", "entry_probe", "ipi_load", "scale", "syscall_cost", "violation_latency"}) {
    env.workloads[name] = Runfile(std::string("tools/bench/") + name);
    if (env.workloads[name].empty()) {
      fprintf(stderr,
              "bench: cannot find the workload %s in the runfiles (run it with "
              "`tools/bazel run //tools/bench`)\n",
              name);
      return 1;
    }
  }
  if (env.dpsupervise.empty()) {
    fprintf(stderr, "bench: cannot find supervisor/dpsupervise in the runfiles\n");
    return 1;
  }
  {
    RunResult version = Run({{env.dpsupervise, "--version"}, -1, 30});
    env.version = version.out.substr(0, version.out.find('\n'));
  }
  env.bin_true = FindInPath("true");
  if (access("/bin/true", X_OK) == 0) env.bin_true = "/bin/true";
  env.strace = FindInPath("strace");
  if (env.strace.empty()) {
    env.strace_problem = "strace is not installed (tools/bazel installs it)";
  } else {
    RunResult probe = Run({{env.strace, "-f", "--seccomp-bpf", "-e", "trace=quotactl", "-o",
                            "/dev/null", env.bin_true},
                           -1,
                           30});
    if (probe.exit_code != 0) {
      env.strace_problem = "strace cannot trace here (" + Failure("strace /bin/true", probe) + ")";
    }
  }

  // Pinning: the tracer (and the harness's reading of its output) on one
  // CPU, the measured threads on another.
  const std::vector<int> cpus = AllowedCpus();
  if (cpus.size() >= 2) {
    env.supervisor_cpu = cpus[0];
    env.workload_cpu = cpus[1];
    // The harness waits on the workload's CPU: that CPU is idle while the
    // workload is stopped in a violation, so a report is read the moment it
    // is written.
    PinThisThread(env.workload_cpu);
  } else {
    env.results.warnings().push_back(
        "only one CPU available: nothing pinned; supervisor and workload share a CPU");
  }
  const long nproc = sysconf(_SC_NPROCESSORS_ONLN);
  const double load = LoadAverage1();
  if (load > 0.5 * static_cast<double>(nproc)) {
    char buf[160];
    snprintf(buf, sizeof(buf),
             "machine busy at start: load average %s on %ld CPUs; other processes share the "
             "CPUs and inflate times and spreads",
             load_before.c_str(), nproc);
    env.results.warnings().push_back(buf);
  }

  fprintf(stderr, "bench: %s mode; supervisor CPU %d, workload CPU %d; dpsupervise %s\n",
          env.options.quick ? "quick" : "full", env.supervisor_cpu, env.workload_cpu,
          env.dpsupervise.c_str());
  const std::vector<std::pair<std::string, std::function<void(Env&)>>> groups = {
      {"compute", BenchCompute}, {"syscall", BenchSyscalls}, {"violation", BenchViolation},
      {"entry", BenchEntry},     {"startup", BenchStartup},  {"scale", BenchScale},
      {"noise", BenchNoise}};
  for (const auto& [name, run] : groups) {
    if (!env.options.only.empty() && !env.options.only.count(name)) continue;
    const int64_t t0 = MonotonicNs();
    Progress("bench: %s ...", name);
    run(env);
    fprintf(stderr, " %.1f s\n", static_cast<double>(MonotonicNs() - t0) / 1e9);
  }

  // Noise: a figure whose repeated trials spread widely is not to be trusted.
  std::vector<std::string> noisy;
  for (const Row& row : env.results.rows()) {
    if (row.Noisy(env.options.noise_threshold)) {
      noisy.push_back(row.id);
    }
  }
  if (!noisy.empty()) {
    std::string list;
    for (const std::string& id : noisy) list += (list.empty() ? "" : ", ") + id;
    char buf[96];
    snprintf(buf, sizeof(buf), "noisy machine: IQR above %.0f%% of the median for ",
             env.options.noise_threshold * 100);
    env.results.warnings().push_back(buf + list + " (load average now " + LoadAverage() + ")");
  }
  const double elapsed = static_cast<double>(MonotonicNs() - t_start) / 1e9;

  printf("dpsupervise benchmarks, %s, %s mode, %.0f s\n", date.c_str(),
         env.options.quick ? "quick" : "full", elapsed);
  printf("machine: %ld CPUs, %s, %s; load average %s at start\n", nproc, CpuModel().c_str(),
         KernelRelease().c_str(), load_before.c_str());
  printf("supervisor: %s\n", env.version.c_str());
  printf("pinning: tracer on CPU %d, measured threads on CPU %d\n", env.supervisor_cpu,
         env.workload_cpu);
  PrintTable(env, stdout);
  fflush(stdout);

  if (!env.options.json_path.empty()) {
    std::string path = env.options.json_path;
    const char* cwd = getenv("BUILD_WORKING_DIRECTORY");  // set by `bazel run`
    if (path[0] != '/' && cwd != nullptr && *cwd != '\0') path = std::string(cwd) + "/" + path;
    std::ofstream out(path);
    out << ToJson(env, date, load_before, elapsed).dump(2) << "\n";
    if (!out) {
      fprintf(stderr, "bench: cannot write %s: %s\n", path.c_str(), strerror(errno));
      return 1;
    }
    fprintf(stderr, "bench: wrote %s\n", path.c_str());
  }
  for (const Row& row : env.results.rows()) {
    if (row.status == "error") return 1;
  }
  return 0;
}

}  // namespace
}  // namespace dpbench

int main(int argc, char** argv) { return dpbench::Main(argc, argv); }
