// notify.h: hooks the monitor calls as things happen (in the manner of
// sandbox2's Notify). The reports are one listener (ReportNotify); a new
// output or analysis (noise tracing, rate limiting, statistics) is another,
// without changing the monitor.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_NOTIFY_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_NOTIFY_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "supervisor/model/summary.h"
#include "supervisor/model/violation.h"

namespace dpsupervise {

class Notify {
 public:
  virtual ~Notify() = default;

  // A kernel entry of a strict thread, complete (backtrace, action and its
  // sentence), before the action is taken; the thread is stopped.
  virtual void EventViolation(const Violation& violation) {}
  // A message of dpsupervise's own ("dpsupervise: ...\n").
  virtual void EventMessage(const std::string& text) {}
  // Thread `tid` of process `tgid` became strict, or stopped being strict
  // (left, was detached, or is exiting); it is stopped.
  virtual void EventStrictEntered(pid_t tgid, pid_t tid) {}
  virtual void EventStrictLeft(pid_t tgid, pid_t tid) {}
  // Thread `tid` asked for strict mode, or a trigger would have made it
  // strict, and the entry was refused (said in an EventMessage too).
  virtual void EventStrictEntryRefused(pid_t tgid, pid_t tid) {}
  // Reports held back by a report limit (ReportLimiter, never the monitor).
  virtual void EventSuppressed(const SuppressedReports& suppressed) {}
  // A tick of the monitor's loop (when a ticker runs): periodic work such
  // as draining trace buffers, on the monitor's thread.
  virtual void EventTick() {}
  // The run is over (the program ended, or dpsupervise detached): first
  // EventFinishing to every listener (what is still pending about the run's
  // events goes out: held-back report counts), then EventFinished (the
  // end-of-run summaries, the verdict last).
  virtual void EventFinishing() {}
  virtual void EventFinished(const RunSummary& summary) {}
};

// Where the monitor learns of interruptions it must act on (the kinds a
// policy or --action names): taken on each tick, after the listeners'.
class InterruptionSource {
 public:
  virtual ~InterruptionSource() = default;
  // The interruptions attributed since the last call, as violations with
  // their kind, thread, CPU and `interruption` filled in; the monitor stops
  // the thread to add its registers and backtrace, report and act.
  virtual std::vector<Violation> TakeInterruptions() = 0;
};

// Passes every event to each of a list of listeners, in order.
class NotifyList : public Notify {
 public:
  explicit NotifyList(std::vector<Notify*> listeners) : listeners_(std::move(listeners)) {}
  void EventViolation(const Violation& violation) override {
    for (Notify* listener : listeners_) listener->EventViolation(violation);
  }
  void EventMessage(const std::string& text) override {
    for (Notify* listener : listeners_) listener->EventMessage(text);
  }
  void EventStrictEntered(pid_t tgid, pid_t tid) override {
    for (Notify* listener : listeners_) listener->EventStrictEntered(tgid, tid);
  }
  void EventStrictLeft(pid_t tgid, pid_t tid) override {
    for (Notify* listener : listeners_) listener->EventStrictLeft(tgid, tid);
  }
  void EventStrictEntryRefused(pid_t tgid, pid_t tid) override {
    for (Notify* listener : listeners_) listener->EventStrictEntryRefused(tgid, tid);
  }
  void EventSuppressed(const SuppressedReports& suppressed) override {
    for (Notify* listener : listeners_) listener->EventSuppressed(suppressed);
  }
  void EventTick() override {
    for (Notify* listener : listeners_) listener->EventTick();
  }
  void EventFinishing() override {
    for (Notify* listener : listeners_) listener->EventFinishing();
  }
  // Both passes: a list is what the monitor finishes.
  void EventFinished(const RunSummary& summary) override {
    EventFinishing();
    for (Notify* listener : listeners_) listener->EventFinished(summary);
  }

 private:
  std::vector<Notify*> listeners_;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_NOTIFY_H_
