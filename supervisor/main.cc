// dpsupervise: runs a program under dataplane strict-mode supervision.
// This file only wires the typed Options (supervisor/cli.h) into the
// components.
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "supervisor/policy/action.h"
#include "supervisor/policy/action_table.h"
#include "supervisor/cli.h"
#include "supervisor/exit_codes.h"
#include "supervisor/seccomp/filter.h"
#include "supervisor/os/forced_exit.h"
#include "supervisor/trace/launcher.h"
#include "supervisor/monitor/monitor.h"
#include "supervisor/monitor/report_limiter.h"
#include "supervisor/monitor/noise_trace_notify.h"
#include "supervisor/monitor/report_notify.h"
#include "supervisor/os/own_stderr.h"
#include "supervisor/policy/policy.h"
#include "supervisor/report/report.h"
#include "supervisor/os/signal_forwarding.h"
#include "supervisor/trace/attach.h"
#include "supervisor/os/wakeups.h"

namespace dpsupervise {
namespace {

int Fail(const absl::Status& status) {
  fprintf(stderr, "dpsupervise: %s\n", std::string(status.message()).c_str());
  return ExitCodeFor(status);
}

// --mechanism=auto: syscall user dispatch (the monitor falls back to the
// strict filter where the kernel lacks it) unless the policy allows syscalls
// in strict mode, which the filter lets run at native speed where dispatch
// would stop each one twice; --strict=exec has no entry, its filter is
// installed before exec.
StrictMechanism ChooseStrictMechanism(Mechanism given, const Policy& policy,
                                      bool strict_from_exec) {
  switch (given) {
    case Mechanism::kSeccomp:
      return StrictMechanism::kSeccomp;
    case Mechanism::kDispatch:
      return StrictMechanism::kDispatch;
    case Mechanism::kAuto:
      break;
  }
  if (strict_from_exec || !policy.rules.empty()) return StrictMechanism::kSeccomp;
  return StrictMechanism::kAuto;
}

int CheckPolicy(const Policy& policy) {
  const auto& strict_filter = policy.strict_filter;
  if (!strict_filter.ok()) return Fail(strict_filter.status());
  const auto& pseudo_code = policy.strict_filter_pseudo_code;
  if (!pseudo_code.ok()) return Fail(pseudo_code.status());
  printf("policy OK: %zu file(s), %zu rule(s)\n", policy.files.size(), policy.rules.size());
  for (const std::string& source : policy.rule_sources) printf("  %s\n", source.c_str());
  for (const auto& [kind, action] : policy.actions) {
    printf("  @action %s %s\n", ViolationKindName(kind), action.ToString().c_str());
  }
  if (policy.default_action) printf("  @action default %s\n", policy.default_action->ToString().c_str());
  printf("strict filter: %zu BPF instructions (limit %d)\n", strict_filter->instructions.size(),
         BPF_MAXINSNS);
  printf("%s", pseudo_code->c_str());
  return 0;
}

// Where the reports go: -o FILE, --log-fd N, or standard error.
absl::StatusOr<std::unique_ptr<ReportWriter>> OpenReports(const Options& options) {
  if (!options.output.empty()) return ReportWriter::OpenFile(options.output);
  if (options.log_fd >= 0) return ReportWriter::FromDescriptor(options.log_fd);
  return std::make_unique<ReportWriter>();
}

// The JSON start record's facts.
RunStart StartOf(int argc, char** argv, pid_t program_pid, bool attached) {
  RunStart start;
  start.version = Version();
  start.command.assign(argv, argv + argc);
  start.supervisor_pid = getpid();
  start.program_pid = program_pid;
  start.attached = attached;
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  start.time_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  return start;
}

// The monitor holds a descriptor per thread (its page-fault event): the
// soft limit goes up to the hard one. Only now, once the program is
// launched: it must inherit its limits unchanged (a program that select()s
// relies on descriptors staying below 1024).
void RaiseOpenFileLimit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur >= files.rlim_max) return;
  files.rlim_cur = files.rlim_max;
  (void)setrlimit(RLIMIT_NOFILE, &files);
}

// Attaches to -p PID, or launches the program (stopped before its exec);
// fills the program's part of `monitor_options`.
absl::Status StartProgram(const Options& options, const BpfProgram& base_filter,
                          const BpfProgram& strict_filter, MonitorOptions* monitor_options) {
  if (options.attach_pid != 0) {
    auto tids = AttachToProcess(options.attach_pid);
    if (!tids.ok()) return tids.status();
    // An attached program has no EXITKILL: a forced exit leaves it running.
    absl::Status bounded =
        PrepareForcedExit(options.kill_after_seconds, ForcedExitConsequence::kProgramLeftRunning);
    if (!bounded.ok()) return bounded;
    absl::Status detach = DetachOnTerminationSignals();
    if (!detach.ok()) return detach;
    monitor_options->attach = true;
    monitor_options->program_pid = options.attach_pid;
    monitor_options->attached_tids = *tids;
    monitor_options->program_name = absl::StrCat("process ", options.attach_pid);
    return absl::OkStatus();
  }
  auto path = ResolveProgram(options.program[0]);
  if (!path.ok()) return path.status();
  // A misspelt --enter-at fails now rather than never triggering.
  for (const CodeLocation& location : options.enter_at) {
    absl::Status found = CheckSymbolInFile(*path, location);
    if (!found.ok()) return found;
  }
  LaunchRequest request;
  request.path = *path;
  request.argv = options.program;
  request.base_filter = &base_filter;
  request.exec_filter = options.strict == StrictMode::kExec ? &strict_filter : nullptr;
  auto launched = Launch(request);
  if (!launched.ok()) return launched.status();
  absl::Status bounded =
      PrepareForcedExit(options.kill_after_seconds, ForcedExitConsequence::kProgramKilled);
  if (!bounded.ok()) return bounded;
  absl::Status forwarding = ForwardSignalsTo(launched->pid);
  if (!forwarding.ok()) return forwarding;
  monitor_options->program_pid = launched->pid;
  monitor_options->setup_error_fd = launched->setup_error_fd;
  monitor_options->program_name = options.program[0];
  return absl::OkStatus();
}

// --enter-at, --leave-at, --strict-thread, --strict-cpus and their delays;
// starts the ticker that polls them (and, in attach mode, for a detach).
absl::Status SetTriggers(const Options& options, MonitorOptions* monitor_options) {
  monitor_options->enter_at = options.enter_at;
  monitor_options->leave_at = options.leave_at;
  monitor_options->enter_at_every = options.enter_at_every;
  monitor_options->triggers.thread_globs = options.strict_threads;
  monitor_options->triggers.cpus = options.strict_cpus;
  monitor_options->triggers.after_seconds = options.strict_after_seconds;
  monitor_options->triggers.for_seconds = options.strict_for_seconds;
  if (monitor_options->triggers.any() || monitor_options->attach) return StartTicker(20);
  return absl::OkStatus();
}

// --noise: the kernel's tracepoints (null when off), or, when they cannot be
// followed, one line saying why and *counters_instead: today's /proc
// counters in the summary.
// Ticks while interruptions are acted on: each waits up to a tick, plus
// the 2 ms the tracer lets records settle, before it is read.
constexpr int kInterruptionTickMs = 5;

// An interruption kind given an action needs the tracepoints, whatever
// --noise says (off: they are followed for the actions, nothing else is
// written); when they cannot be followed that is a usage error: the action
// would silently never happen.
absl::StatusOr<std::unique_ptr<NoiseTraceNotify>> StartNoiseTracing(const Options& options,
                                                                      const ActionTable& actions,
                                                                      ReportWriter* reports,
                                                                      bool* counters_instead) {
  *counters_instead = false;
  std::set<ViolationKind> act_on;
  for (const auto& [kind, action] : actions.per_kind) {
    if (IsInterruptionKind(kind)) act_on.insert(kind);
  }
  if (options.noise == NoiseMode::kOff && act_on.empty()) return nullptr;
  // No --noise: the summary where tracing is allowed. Where it is not,
  // not tracing is the default's own meaning, not a failure to report.
  const bool by_default = options.noise == NoiseMode::kDefault;
  auto started =
      NoiseTraceNotify::Start(reports, options.format, options.noise == NoiseMode::kEvents);
  if (!started.ok() && !act_on.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "an action is given for ", ViolationKindName(*act_on.begin()),
        " interruptions, but the kernel's tracepoints cannot be followed (",
        started.status().message(), "): run as root or with CAP_PERFMON, or drop the action"));
  }
  if (started.ok()) {
    (*started)->ActOn(act_on);
    (*started)->SetWriting(options.noise != NoiseMode::kOff, options.noise == NoiseMode::kEvents);
    (*started)->SayWhenOnStrictCpus(!by_default);
  }
  if (!started.ok() && by_default) return nullptr;
  if (!started.ok()) {
    *counters_instead = true;
    const std::string line = absl::StrCat("dpsupervise: --noise: cannot trace the kernel (",
                                          started.status().message(),
                                          "); the summary shows /proc noise counters instead\n");
    reports->Write(options.format == ReportFormat::kJson ? FormatJsonMessage(line) : line);
    return nullptr;
  }
  // The buffers are drained on ticks; an action waits for the tick that
  // reads its interruption, so it ticks faster then.
  absl::Status ticking = StartTicker(act_on.empty() ? 20 : kInterruptionTickMs);
  if (!ticking.ok()) return ticking;
  return std::move(*started);
}

ReportOptions ReportOptionsOf(const Options& options, bool summary) {
  ReportOptions report_options;
  report_options.format = options.format;
  report_options.summary = summary;
  report_options.quiet = options.quiet;
  report_options.error_exitcode = options.error_exitcode;
  report_options.registers = options.registers.value_or(options.format != ReportFormat::kLine);
  report_options.backtrace_depth = options.backtrace_depth;
  return report_options;
}

// The action table; attaching to a running program must not kill it by
// surprise: log, unless --on-violation or the policy's `@action default`
// asks for more.
ActionTable ActionsOf(const Options& options, const Policy& policy, bool attach) {
  ActionTable actions = ResolveActions(policy, options.on_violation, options.actions);
  if (attach && !options.on_violation && !policy.default_action) {
    actions.fallback.kind = ActionKind::kLog;
  }
  return actions;
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
  // No --policy: the empty policy, whose strict filter is built all the same.
  PolicyLoadOptions load_options;
  load_options.describe_filter = options->check_policy;
  auto loaded = LoadPolicyFiles(options->policies, load_options);
  if (!loaded.ok()) return Fail(loaded.status());
  Policy policy = std::move(*loaded);
  if (options->check_policy) return CheckPolicy(policy);

  // A reader of the reports that goes away must not kill us (and with us
  // the program): its writes fail with EPIPE instead (ReportWriter).
  absl::Status sigpipe = KeepSigpipeFromKillingUs();
  if (!sigpipe.ok()) return Fail(sigpipe);
  auto reports = OpenReports(*options);
  if (!reports.ok()) return Fail(reports.status());
  auto base_filter = BuildBaseFilter();
  if (!base_filter.ok()) return Fail(base_filter.status());
  // Compiled once, by LoadPolicyFiles's guarded compile check.
  const absl::StatusOr<BpfProgram>& strict_filter = policy.strict_filter;
  if (!strict_filter.ok()) return Fail(strict_filter.status());
  MonitorOptions monitor_options;
  monitor_options.actions = ActionsOf(*options, policy, options->attach_pid != 0);
  // Before the program starts: an action that cannot be taken stops us here.
  bool noise_counters_instead = false;
  auto noise_notify = StartNoiseTracing(*options, monitor_options.actions, reports->get(),
                                        &noise_counters_instead);
  if (!noise_notify.ok()) return Fail(noise_notify.status());
  monitor_options.interruptions = noise_notify->get();
  absl::Status started = StartProgram(*options, *base_filter, *strict_filter, &monitor_options);
  if (!started.ok()) return Fail(started);
  RaiseOpenFileLimit();
  absl::Status triggers = SetTriggers(*options, &monitor_options);
  if (!triggers.ok()) return Fail(triggers);
  if (!monitor_options.attach) monitor_options.base_filter = &*base_filter;
  monitor_options.strict_filter = &*strict_filter;

  const bool summary = options->summary || noise_counters_instead;
  // The reports listen to the monitor: violations, messages, the summary
  // and the verdict, which ends the run; before them the noise tracer, whose
  // summary precedes theirs. In front of the reports, a limiter: a thread
  // violating in a loop must not flood them.
  ReportNotify report_notify(reports->get(), ReportOptionsOf(*options, summary));
  ReportLimiter report_limiter(&report_notify, options->report_limit);
  std::vector<Notify*> listeners;
  if (*noise_notify != nullptr) listeners.push_back(noise_notify->get());
  listeners.push_back(&report_limiter);
  NotifyList notify_list(listeners);
  monitor_options.notify = &notify_list;

  const bool strict_from_exec = options->strict == StrictMode::kExec;
  monitor_options.strict_from_exec = strict_from_exec;
  monitor_options.mechanism = ChooseStrictMechanism(options->mechanism, policy, strict_from_exec);
  // --preflight wins over the policy's @preflight; warn by default.
  monitor_options.preflight =
      options->preflight.value_or(policy.preflight.value_or(PreflightMode::kWarn));
  // The noise summary shows the steal time of the strict CPUs: a counter.
  monitor_options.summary =
      summary || options->format == ReportFormat::kJson || *noise_notify != nullptr;
  report_notify.Start(StartOf(argc, argv, monitor_options.program_pid, monitor_options.attach));
  Monitor monitor(monitor_options);
  if (monitor_options.attach) {
    absl::Status armed = monitor.ArmAttached();
    if (!armed.ok()) return Fail(armed);
  }
  auto exit_status = monitor.Run();
  if (!exit_status.ok()) return Fail(exit_status.status());
  return report_notify.ExitStatus(*exit_status);
}

}  // namespace
}  // namespace dpsupervise

int main(int argc, char** argv) { return dpsupervise::Main(argc, argv); }
