// dpsupervise: runs a program under dataplane strict-mode supervision.
// This file only parses flags and wires the components together.
#include <stdio.h>

#include <memory>
#include <string>
#include <vector>

#include "supervisor/cli.h"
#include "supervisor/exit_codes.h"
#include "supervisor/filter.h"
#include "supervisor/launcher.h"
#include "supervisor/monitor.h"
#include "supervisor/report.h"

namespace dpsupervise {
namespace {

int Fail(const absl::Status& status) {
  fprintf(stderr, "dpsupervise: %s\n", std::string(status.message()).c_str());
  return ExitCodeFor(status);
}

int Main(int argc, char** argv) {
  auto options = ParseCommandLine(std::vector<std::string>(argv, argv + argc));
  if (!options.ok()) return Fail(options.status());
  if (options->help) {
    fputs(UsageText().c_str(), stdout);
    return 0;
  }
  if (options->version) {
    fputs(VersionText().c_str(), stdout);
    return 0;
  }

  std::unique_ptr<ReportWriter> reports = std::make_unique<ReportWriter>();
  if (!options->output.empty()) {
    auto file = ReportWriter::OpenFile(options->output);
    if (!file.ok()) return Fail(file.status());
    reports = std::move(*file);
  }
  auto base_filter = BuildBaseFilter();
  if (!base_filter.ok()) return Fail(base_filter.status());
  auto strict_filter = BuildStrictFilter({});
  if (!strict_filter.ok()) return Fail(strict_filter.status());
  auto path = ResolveProgram(options->program[0]);
  if (!path.ok()) return Fail(path.status());

  LaunchRequest request;
  request.path = *path;
  request.argv = options->program;
  request.base_filter = &*base_filter;
  auto launched = Launch(request);
  if (!launched.ok()) return Fail(launched.status());

  MonitorOptions monitor_options;
  monitor_options.program_pid = launched->pid;
  monitor_options.setup_error_fd = launched->setup_error_fd;
  monitor_options.program_name = options->program[0];
  monitor_options.strict_filter = &*strict_filter;
  monitor_options.reports = reports.get();
  Monitor monitor(monitor_options);
  auto exit_status = monitor.Run();
  if (!exit_status.ok()) return Fail(exit_status.status());
  return *exit_status;
}

}  // namespace
}  // namespace dpsupervise

int main(int argc, char** argv) { return dpsupervise::Main(argc, argv); }
