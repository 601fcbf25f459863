// Smoke test of the benchmark harness: runs `bench --quick --json=FILE` and
// checks that it printed every row and wrote valid JSON with every row.
// It asserts nothing about timings: only that the harness works. Rows that
// need strace may be skipped (with a note) where strace cannot run.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tools/bench/bench_util.h"

namespace {

std::vector<std::string> ExpectedRows() {
  std::vector<std::string> ids = {"compute.ratio", "compute.native_ms", "compute.supervised_ms"};
  for (const char* call : {"getppid", "write"}) {
    for (const char* mode :
         {"native", "seccomp_floor", "dpsupervise", "strace", "strace_seccomp"}) {
      const std::string base = std::string("syscall.") + call + "." + mode;
      ids.push_back(base + "_ns");
      if (std::string(mode) != "native") ids.push_back(base + "_ratio");
    }
  }
  for (const char* id :
       {"violation.detect_us", "violation.report_us", "violation.report_symbolize_us",
        "violation.first_report_ms", "entry.first_us", "entry.first_preflight_us",
        "entry.reentry_us", "entry.leave_us", "entry.slow_syscall_us",
        "entry.dispatch.first_us", "entry.dispatch.first_preflight_us",
        "entry.dispatch.reentry_us", "entry.dispatch.leave_us", "entry.dispatch.after_leave_ns",
        "entry.after_leave_vs_native.seccomp_x", "entry.after_leave_vs_filter.seccomp_x",
        "entry.after_leave_vs_native.dispatch_x", "entry.after_leave_vs_filter.dispatch_x",
        "startup.native_ms", "startup.version_ms", "startup.dpsupervise_ms", "startup.traced_ms",
        "startup.overhead_ms", "startup.tracing_ms"}) {
    ids.push_back(id);
  }
  for (const char* prefix : {"scale.", "scale_saturated."}) {
    for (const char* id : {"events_per_s", "violations_per_s", "creations_per_s", "lost",
                           "misattributed", "unexpected", "max_wait_ms"}) {
      ids.push_back(std::string(prefix) + id);
    }
  }
  ids.push_back("scale.entry_ms");
  for (const char* id :
       {"noise.interruption_ratio", "noise.interruption_untraced_ns",
        "noise.interruption_traced_ns", "noise.cpu_per_event_us", "noise.record_latency_ms",
        "noise.records_per_s", "noise.sends_per_s", "noise.lost_records",
        "noise.lost_records_summary", "noise.action_to_stop_ms", "noise.action_to_report_ms",
        "oslat.max_gap_us",
        "oslat.longest_noise_us", "oslat.longest_merged_us", "oslat.unattributed_us",
        "oslat.steal_ms"}) {
    ids.push_back(id);
  }
  return ids;
}

int failures = 0;

void Fail(const std::string& what) {
  fprintf(stderr, "FAIL: %s\n", what.c_str());
  ++failures;
}

}  // namespace

int main() {
  const std::string bench = dpbench::Runfile("tools/bench/bench");
  if (bench.empty()) {
    fprintf(stderr, "FAIL: tools/bench/bench not found in the runfiles\n");
    return 1;
  }
  const char* tmp = getenv("TEST_TMPDIR");
  const std::string json_path = std::string(tmp != nullptr ? tmp : "/tmp") + "/bench.json";
  unlink(json_path.c_str());

  dpbench::RunResult r = dpbench::Run({{bench, "--quick", "--json=" + json_path}, -1, 240});
  printf("%s", r.out.c_str());  // the table, for the test log
  fprintf(stderr, "%s", r.err.c_str());
  printf("bench --quick took %.1f s, exit status %d\n", static_cast<double>(r.wall_ns) / 1e9,
         r.exit_code);
  if (r.timed_out) Fail("bench --quick timed out");
  if (r.exit_code != 0) Fail("bench --quick exit status " + std::to_string(r.exit_code));

  std::ifstream in(json_path);
  if (!in) {
    Fail("no JSON written to " + json_path);
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    Fail("the JSON output does not parse");
    return 1;
  }
  for (const char* key : {"date", "machine", "pinning", "rows", "warnings"}) {
    if (!j.contains(key)) Fail(std::string("JSON has no \"") + key + "\"");
  }
  if (!j.contains("rows") || !j["rows"].is_array()) return 1;

  std::set<std::string> seen;
  for (const auto& row : j["rows"]) {
    const std::string id = row.value("id", "");
    if (!seen.insert(id).second) Fail("row " + id + " appears twice in the JSON");
  }
  const std::vector<std::string> expected = ExpectedRows();
  const std::set<std::string> expected_set(expected.begin(), expected.end());
  for (const std::string& id : seen) {
    if (!expected_set.count(id)) Fail("unexpected row " + id + " (update this test's list)");
  }
  for (const std::string& id : expected) {
    const nlohmann::json* row = nullptr;
    for (const auto& candidate : j["rows"]) {
      if (candidate.value("id", "") == id) row = &candidate;
    }
    if (row == nullptr) {
      Fail("row " + id + " missing from the JSON");
      continue;
    }
    const std::string status = row->value("status", "");
    // strace, kernel tracing (root, tracefs) and oslat may be missing here.
    const bool may_skip = id.find("strace") != std::string::npos || id.rfind("noise.", 0) == 0 ||
                          id.rfind("oslat.", 0) == 0;
    if (status == "skipped" && may_skip) {
      printf("note: %s skipped: %s\n", id.c_str(), row->value("note", "").c_str());
    } else if (status != "ok") {
      Fail("row " + id + " has status '" + status + "': " + row->value("note", ""));
    } else {
      for (const char* field : {"median", "p25", "p75", "min", "max"}) {
        if (!row->contains(field) || !(*row)[field].is_number()) {
          Fail("row " + id + " has no numeric " + field);
        }
      }
      if (row->value("n", 0) < 1) Fail("row " + id + " has no samples");
    }
    // The table line starts with the id.
    if (r.out.find("\n" + id + " ") == std::string::npos)
      Fail("row " + id + " missing from the table");
  }
  if (failures == 0) printf("PASS: %zu rows in the table and the JSON\n", expected.size());
  return failures == 0 ? 0 : 1;
}
