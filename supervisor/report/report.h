// report.h: turns a Violation into what the user reads, and writes it out.
#ifndef DPSUPERVISE_SUPERVISOR_REPORT_REPORT_H_
#define DPSUPERVISE_SUPERVISOR_REPORT_REPORT_H_

#include <stdint.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "supervisor/model/summary.h"
#include "supervisor/model/violation.h"

namespace dpsupervise {

// --format: the text reports below, one line per violation, or JSON lines.
enum class ReportFormat { kText, kLine, kJson };

// What the text and line reports show beyond their fixed parts.
struct TextReportOptions {
  bool registers = true;  // the registers block (--registers)
};

// The time of day of `time_ns` (CLOCK_REALTIME, nanoseconds since the epoch)
// in local time with microseconds, as strace -tt writes it: "17:35:13.123456".
std::string TimeOfDay(int64_t time_ns);

// The oops-style text report, several lines, ending with "\n". The first line
// says it all, in the seed kernel's style: "dpsupervise: worker/1235 (cpu 3):
// strict mode violated by syscall getpid()". Then kind, thread, process, CPU,
// the syscall / fault / signal details, pc, registers, backtrace, and last the
// action taken (violation.action_detail). Strings that come from the program
// (thread and process names, function, module and file names) have control
// characters, invalid UTF-8 and backslashes escaped, so no line can be forged.
// docs/report.md describes the format.
std::string FormatTextReport(const Violation& violation, const TextReportOptions& options = {});

// The same violation on ONE line (--format=line), for logs that must stay
// readable under load: time of day, thread, kind and what it did, the
// innermost frame (function and file:line when known, else the pc), and the
// action. With options.registers the register lines follow, indented.
//   dpsupervise: 17:35:13.123456 worker/1235 syscall getpid() in
//   Inner()+0x10 at foo.cc:12 -> kill
// (one line in the output).
std::string FormatLineReport(const Violation& violation, const TextReportOptions& options);

// The same violation as ONE line of JSON followed by "\n" ("type":
// "violation"). Field names are stable and documented in docs/report.md;
// addresses and registers are hex strings; invalid UTF-8 becomes U+FFFD.
std::string FormatJsonReport(const Violation& violation);

// Where one backtrace frame is, gdb-like and without the pc, as text reports
// show it: "in Inner()+0x1c at testdata/foo.cc:12", "in __libc_start_main+0x80
// from libc.so.6", "in ?? (libc.so.6+0x29d90)", "in ??" when nothing is known.
// Offsets of 0 and lines of 0 are left out; module names are shortened to
// their file name; names are escaped like the rest of the report. The one
// formatter of a Frame: logs and tests use it too.
std::string FormatFrameLocation(const Frame& frame);

// One backtrace frame as a JSON object, as a violation's "backtrace" array
// holds it (pc, function, offset, module, file, line: docs/report.md).
// Noise records give IPI senders' backtraces in the same shape.
nlohmann::ordered_json FrameJson(const Frame& frame);

// The end-of-run summary as a human-readable table: a header line
// "dpsupervise: summary: N violations, exit status S" and a block per thread.
std::string FormatTextSummary(const RunSummary& summary);

// The end-of-run summary as ONE line of JSON followed by "\n" ("type":
// "summary"); counters not measured (-1) are null.
std::string FormatJsonSummary(const RunSummary& summary);

// The end of a run in one sentence, for people and CI: written on the
// report stream after every run, summary or not.
struct Verdict {
  long long violations = 0;   // every violation, reported or rate limited
  int strict_threads = 0;     // threads that were ever strict
  int violating_threads = 0;  // of those, the ones with a violation
  int refused_entries = 0;    // strict entries refused (--preflight=enforce, ...)
  int program_status = 0;     // the program's exit status (0 after a detach)
  int exit_status = 0;        // what dpsupervise exits with
};

// The verdict on `summary`. With `error_exitcode` (--error-exitcode=N),
// any violation makes the exit status N, whatever the program's status
// (a program killed by the kill action included).
Verdict JudgeRun(const RunSummary& summary, int refused_entries,
                 std::optional<int> error_exitcode);

// One line: "dpsupervise: 3 violations in 1 of 2 strict threads" ("in 2
// strict threads" when each of them violated), or
// "dpsupervise: no thread entered strict mode" when none did; a refused
// entry adds "; 1 strict entry refused".
std::string FormatTextVerdict(const Verdict& verdict);

// The verdict as ONE line of JSON ("type": "verdict"), with the text above.
std::string FormatJsonVerdict(const Verdict& verdict);

// Reports held back by --report-limit, one line: "dpsupervise: worker/1235:
// 120 more reports of syscall getpid suppressed (125 so far, each acted on)".
std::string FormatTextSuppressed(const SuppressedReports& suppressed);

// The same as ONE line of JSON ("type": "suppressed").
std::string FormatJsonSuppressed(const SuppressedReports& suppressed);

// The JSON schema's version, in the start record: bumped only when a field
// changes meaning, type or name, or disappears (docs/report.md, Stability).
inline constexpr int kJsonSchemaVersion = 1;

// What the start record says about the run.
struct RunStart {
  std::string version;               // dpsupervise's, "0.1.0"
  std::vector<std::string> command;  // dpsupervise's argv, as given
  pid_t supervisor_pid = 0;          // dpsupervise's own pid
  pid_t program_pid = 0;             // the program launched or attached to
  bool attached = false;             // -p
  int64_t time_ns = 0;               // CLOCK_REALTIME at the start
};

// The first JSON line of a run: {"type":"start","schema_version":1,...}.
std::string FormatJsonStart(const RunStart& start);

// A message of dpsupervise's own (preflight findings, warnings, how to
// debug a stopped process) as JSON lines: one {"type":"message","text":...}
// object per line of `text`, so that --format=json output stays JSON lines.
std::string FormatJsonMessage(const std::string& text);

// Where reports go: stderr or a file (-o). Each report is written whole with
// write(2) before the action runs, so nothing is lost when the program is
// killed or the supervisor is signalled.
//
// Where the reports go never harms the program: standard error is written
// through an open file description of our own when it can be reopened (a
// pipe, a FIFO, a terminal: own_stderr.h), so a program that makes its
// stderr non-blocking does not make our writes fail; a shared one that
// returns EAGAIN is waited for with poll. When reports can no longer be
// written at all (EPIPE: the reader went away, EIO, ENOSPC, ...), the
// writer says so once (on standard error, when the reports went to a file)
// and drops every later report; supervision goes on and the exit status
// stays the program's.
class ReportWriter {
 public:
  // Writes to standard error (see above).
  ReportWriter();
  ReportWriter(const ReportWriter&) = delete;
  ReportWriter& operator=(const ReportWriter&) = delete;
  ~ReportWriter();

  // Opens `path` for the reports (created or truncated), in append mode so
  // that a log rotation that truncates the file (copytruncate) leaves no
  // hole. Fails (FailedPreconditionError: dpsupervise's exit status 125)
  // with the path and errno.
  static absl::StatusOr<std::unique_ptr<ReportWriter>> OpenFile(const std::string& path);

  // Writes the reports to descriptor `fd`, inherited from whoever started
  // dpsupervise (--log-fd); it must be open for writing, else
  // InvalidArgumentError naming it. The writer uses a close-on-exec
  // duplicate of it.
  static absl::StatusOr<std::unique_ptr<ReportWriter>> FromDescriptor(int fd);

  // Writes `text` whole, blocking until it is written, or until writing
  // fails for good (then see above). Never fails the caller.
  void Write(const std::string& text);

  // True once reports can no longer be written.
  bool broken() const { return fd_ < 0; }

 private:
  ReportWriter(int fd, std::string file) : fd_(fd), file_(std::move(file)) {}
  void GiveUp(int error);
  int fd_;            // -1 once broken
  std::string file_;  // -o FILE or "descriptor N"; empty for standard error
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_REPORT_REPORT_H_
