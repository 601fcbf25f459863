// Monitor: a violation, from its record to its report and its action.
#include "absl/strings/str_cat.h"
#include "supervisor/monitor/action_executor.h"
#include "supervisor/monitor/classify.h"
#include "supervisor/os/procfs.h"
#include "supervisor/monitor/monitor.h"

namespace dpsupervise {

void Monitor::Say(const std::string& text) { notify_.EventMessage(text); }

void Monitor::Symbolize(Violation* violation) {
  std::unique_ptr<Symbolizer>& symbolizer = threads_.Process(violation->pid).symbolizer;
  absl::Status ready = absl::OkStatus();
  if (symbolizer == nullptr) {
    // Through the violating thread, which is stopped and so alive: the
    // leader may have exited.
    auto created = Symbolizer::Create(violation->tid);
    if (created.ok()) {
      symbolizer = std::move(*created);
    } else {
      ready = created.status();
    }
  } else {
    // Libraries may have been loaded since the last report.
    ready = symbolizer->Refresh(violation->tid);
  }
  if (!ready.ok()) {
    violation->backtrace_error = std::string(ready.message());
    return;
  }
  auto frames = symbolizer->Backtrace(violation->tid, violation->regs);
  if (!frames.ok()) {
    violation->backtrace_error = std::string(frames.status().message());
    return;
  }
  violation->backtrace = std::move(*frames);
}

void Monitor::DescribeFault(Violation* violation) {
  SignalDetails& signal = violation->signal;
  const bool at_an_address = violation->kind == ViolationKind::kPageFault ||
                             (violation->kind == ViolationKind::kTrap && signal.has_fault_address);
  if (!at_an_address || !signal.has_fault_address) return;
  auto maps = ReadMaps(violation->tid);
  if (!maps.ok()) return;
  ProcessState* process = threads_.FindProcess(violation->pid);
  Frame symbol;
  if (process != nullptr && process->symbolizer != nullptr) {
    symbol = process->symbolizer->DataSymbol(signal.fault_address);
  }
  signal.fault_context = DescribeFaultAddress(signal.fault_address, signal.access, *maps, symbol);
}

Action Monitor::RecordViolation(ThreadState& thread, Violation* violation, long long count) {
  windows_.CountViolations(thread, violation->kind, count);
  Symbolize(violation);
  DescribeFault(violation);
  windows_.CountCallSite(*violation, count);
  const Action action = options_.actions.For(violation->kind, thread.violation_signal());
  violation->action = action.ToString();
  violation->action_detail = DescribeAction(action, thread.tid, thread.tgid);
  return action;
}

}  // namespace dpsupervise
