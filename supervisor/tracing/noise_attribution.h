// noise_attribution.h: turns the kernel's tracepoint records into noise
// events, one per interruption of a strict thread while it is strict, and
// tallies them per thread, by kind and by cause.
//
// Pure logic: no I/O but the task lookups the caller hands in, so tests
// feed it synthetic records. Records must come in time order.
#ifndef DPSUPERVISE_SUPERVISOR_TRACING_NOISE_ATTRIBUTION_H_
#define DPSUPERVISE_SUPERVISOR_TRACING_NOISE_ATTRIBUTION_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "supervisor/tracing/noise_stats.h"
#include "supervisor/model/violation.h"
#include "supervisor/tracing/trace_record.h"

namespace dpsupervise {

// kNmi: a non-maskable interrupt handler; kOther: an interrupt vector none
// of the others covers (thermal, platform IPI, APIC error, spurious).
enum class NoiseKind { kTimer, kIrq, kIpi, kSoftirq, kPreemption, kMigration, kNmi, kOther };
const char* NoiseKindName(NoiseKind kind);

struct TaskIdentity {
  pid_t pid = 0;  // 0: not known (the task was gone when it was looked up)
  pid_t tid = 0;
  std::string comm;
  int cpu = -1;
};

struct NoiseEvent {
  pid_t pid = 0;
  pid_t tid = 0;
  std::string thread;  // the strict thread's name
  int cpu = -1;
  NoiseKind kind = NoiseKind::kTimer;
  int64_t start_ns = 0;
  int64_t duration_ns = 0;
  // What the summary groups by, e.g. "irq 24 virtio0-input",
  // "softirq TIMER", "timer tick_nohz_handler", "ipi call_function_single
  // membarrier_private_expedited", "preemption by stress",
  // "preemption by dpsupervise", "migration 1->0".
  std::string cause;

  // kIpi: the IPI type ("call_function_single", "reschedule", ...), and,
  // when its send was seen, the sender and the kernel function that sent it.
  std::string ipi_type;
  bool has_sender = false;
  bool sender_in_interrupt = false;  // sent from interrupt context: no task
  TaskIdentity sender;
  std::string callsite;
  std::string callback;

  // kPreemption: what ran instead; by_dpsupervise: the thread was stopped
  // by ptrace (dpsupervise's own stop) or dpsupervise itself ran instead.
  // kTimer: by_dpsupervise: a timer dpsupervise armed expired in it (its
  // 20 ms ticker, it_real_fn, or a timeout of one of its threads). kIpi:
  // by_dpsupervise: dpsupervise sent it (the kick of its PTRACE_INTERRUPT,
  // a signal it sent, a cross-call its own syscalls made).
  TaskIdentity by;
  bool by_dpsupervise = false;
  // kPreemption: the functions of the workqueue items kworkers ran on the
  // CPU while the thread was off it (whoever `by` is: the first task to
  // run), each once, in the order first run.
  std::vector<std::string> work;

  // kIrq; kSoftirq; kTimer (the hrtimer functions that expired).
  int irq = -1;
  std::string irq_name;
  std::string softirq;
  std::string timer_function;

  // kMigration.
  int from_cpu = -1;
  int to_cpu = -1;

  // kNmi: the handler that ran; kOther: the irq_vectors vector's name.
  std::string nmi_handler;
  std::string vector;
  // kIpi sent by a user task: its user registers and stack top at the
  // send, and the backtrace the writer of the event (NoiseTraceNotify)
  // makes of them, innermost first, or why there is none.
  std::shared_ptr<const UserStackSample> sender_stack;
  std::vector<Frame> sender_backtrace;
  std::string sender_backtrace_error;
};

// The name of softirq vector `vector` ("HI", "TIMER", ... "RCU"), or its
// number as text.
std::string SoftirqName(int vector);

// How many of its longest interruptions the summary shows per thread.
inline constexpr size_t kLongestInterruptions = 5;

// One strict thread's noise, over all its windows.
struct NoiseThreadTally {
  pid_t pid = 0;
  pid_t tid = 0;
  std::string thread;
  std::map<NoiseKind, NoiseStat> by_kind;
  // Keyed by (kind, cause).
  std::map<std::pair<NoiseKind, std::string>, NoiseStat> by_cause;
  // Every interruption but migrations (which take no time).
  LatencyHistogram latency;
  // The kLongestInterruptions longest, longest first, fully attributed.
  std::vector<NoiseEvent> longest;
};

struct RankedCause {
  NoiseKind kind;
  std::string cause;
  NoiseStat stat;
};
// The causes of `tally`, largest total time first (then most frequent).
std::vector<RankedCause> TopCauses(const NoiseThreadTally& tally, size_t limit);

class NoiseAttribution {
 public:
  struct Options {
    pid_t own_pid = 0;  // dpsupervise's pid
    // A task's process id, 0 when it is gone.
    std::function<pid_t(pid_t tid)> tgid_of;
    // A task's name, "" when it is gone.
    std::function<std::string(pid_t tid)> comm_of;
  };
  explicit NoiseAttribution(Options options) : options_(std::move(options)) {}

  // Thread `tid` of `pid`, named `thread`, is strict from `time_ns` until
  // the matching WindowEnds. Windows may be told before the records of
  // their time are fed.
  void WindowBegins(pid_t pid, pid_t tid, const std::string& thread, int64_t time_ns);
  void WindowEnds(pid_t tid, int64_t time_ns);

  // Whether thread `tid` was strict at `time_ns`.
  bool IsStrictAt(pid_t tid, int64_t time_ns) const { return StrictAt(tid, time_ns) != nullptr; }

  // One record; returns the noise events it completes (already tallied).
  std::vector<NoiseEvent> Feed(const TraceRecord& record);

  const std::map<pid_t, NoiseThreadTally>& tallies() const { return tallies_; }

 private:
  struct Window {
    int64_t begin_ns;
    int64_t end_ns;  // INT64_MAX while open
  };
  struct StrictThread {
    pid_t pid = 0;
    std::string name;
    std::vector<Window> windows;
  };
  // An interruption entered on a CPU, its exit not seen yet.
  struct OpenInterruption {
    TraceEventType exit_type;
    NoiseEvent event;
  };
  struct PendingSend {
    int64_t time_ns;
    bool reschedule;  // no callback: a reschedule IPI
    TaskIdentity sender;
    bool in_interrupt;
    std::string callsite;
    std::string callback;
    std::shared_ptr<const UserStackSample> user_stack;
  };

  // The strict thread `tid` if it was strict at `time_ns`, else nullptr.
  const StrictThread* StrictAt(pid_t tid, int64_t time_ns) const;
  NoiseEvent NewEvent(const StrictThread& thread, pid_t tid, int cpu, NoiseKind kind,
                      int64_t start_ns) const;
  void Finish(NoiseEvent& event, int64_t end_ns, std::vector<NoiseEvent>* done);

  void OnSwitch(const TraceRecord& record, std::vector<NoiseEvent>* done);
  void OnMigrate(const TraceRecord& record, std::vector<NoiseEvent>* done);
  void OnSend(const TraceRecord& record);
  void OnEntry(const TraceRecord& record, NoiseKind kind, TraceEventType exit_type);
  void OnExit(const TraceRecord& record, std::vector<NoiseEvent>* done);
  void OnHrtimer(const TraceRecord& record);
  void OnNmi(const TraceRecord& record, std::vector<NoiseEvent>* done);
  void OnHrtimerStart(const TraceRecord& record);
  void OnWorkStart(const TraceRecord& record);
  void AttachSender(int cpu, int64_t arrival_ns, NoiseEvent* event);
  // Thread group of `tid`: as a sample showed it, else options_.tgid_of.
  pid_t TgidOf(pid_t tid) const;

  Options options_;
  std::map<pid_t, StrictThread> strict_;
  std::map<int, std::vector<OpenInterruption>> open_;  // by CPU, innermost last
  std::map<int, std::deque<PendingSend>> sends_;        // by target CPU
  std::map<pid_t, NoiseEvent> off_cpu_;  // preempted strict threads, by tid
  std::map<pid_t, NoiseThreadTally> tallies_;
  std::map<pid_t, std::string> comms_;  // task names seen in switches and renames
  std::map<pid_t, pid_t> tgids_;        // thread groups seen in samples, by tid
  // hrtimers whose latest arming was by dpsupervise, by address.
  std::set<uint64_t> own_hrtimers_;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_TRACING_NOISE_ATTRIBUTION_H_
