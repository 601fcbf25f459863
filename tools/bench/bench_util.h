// bench_util.h: what the benchmark driver needs besides the benchmarks
// themselves: running programs (pinned, with output captured and stderr
// lines timestamped on arrival), finding runfiles, and summary statistics.
#ifndef DPSUPERVISE_TOOLS_BENCH_BENCH_UTIL_H_
#define DPSUPERVISE_TOOLS_BENCH_BENCH_UTIL_H_

#include <stdint.h>
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace dpbench {

int64_t MonotonicNs();
int64_t RealtimeNs();

// One line a child wrote on stderr, with CLOCK_REALTIME taken right after
// the read() that returned it.
struct StampedLine {
  int64_t arrival_ns = 0;
  std::string text;
};

struct RunResult {
  int exit_code = -1;  // exit status, or 128+signal; -1 when it could not start
  bool timed_out = false;
  std::string out;
  std::vector<StampedLine> err_lines;
  std::string err;  // all of stderr
  int64_t wall_ns = 0;
};

struct RunSpec {
  std::vector<std::string> argv;  // argv[0] is a path, or a name looked up in PATH
  int cpu = -1;                   // CPU affinity of the child (inherited by what it starts)
  int timeout_seconds = 120;      // then the child's process group is killed
};

// Runs a program to completion, capturing stdout and stderr (stdin is
// /dev/null).
RunResult Run(const RunSpec& spec);

// Runs a program with stdin, stdout and stderr on /dev/null and returns the
// wall time from just before fork() to waitpid()'s return, or -1 when it
// failed (exit status other than 0).
int64_t TimeRun(const std::vector<std::string>& argv, int cpu);

// Absolute path of a file of this workspace's runfiles (`path` relative to
// the workspace root), or "" when not found. Looks in $TEST_SRCDIR,
// $RUNFILES_DIR, <this executable>.runfiles and the working directory.
std::string Runfile(const std::string& path);

// Absolute path of `name` in $PATH, or "".
std::string FindInPath(const std::string& name);

// Pins the calling thread; no-op for cpu < 0. Returns false on failure.
bool PinThisThread(int cpu);

// CPUs the process may run on.
std::vector<int> AllowedCpus();

struct Stats {
  int n = 0;
  double median = 0, p25 = 0, p75 = 0, min = 0, max = 0, mean = 0;
};
Stats Summarize(std::vector<double> values);

// "key v0 v1 ..." lines of a workload's stdout, by key.
std::map<std::string, std::vector<double>> ParseKeyedLines(const std::string& out);

// First line of /proc/cpuinfo's "model name", uname -r, etc.
std::string CpuModel();
std::string KernelRelease();
std::string LoadAverage();  // "/proc/loadavg" first three fields
double LoadAverage1();

}  // namespace dpbench

#endif  // DPSUPERVISE_TOOLS_BENCH_BENCH_UTIL_H_
