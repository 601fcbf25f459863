// trace_record.h: one kernel tracepoint hit, decoded from its perf sample
// into the few fields noise attribution needs. The session (tracepoint_session.h)
// fills these from the kernel; tests build them by hand.
#ifndef DPSUPERVISE_SUPERVISOR_TRACING_TRACE_RECORD_H_
#define DPSUPERVISE_SUPERVISOR_TRACING_TRACE_RECORD_H_

#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dpsupervise {

enum class TraceEventType {
  kSchedSwitch,         // sched:sched_switch
  kSchedMigrate,        // sched:sched_migrate_task
  kIpiSend,             // ipi:ipi_send_cpu and ipi:ipi_send_cpumask
  kIpiEntry,            // irq_vectors:{call_function,call_function_single,reschedule,irq_work}_entry
  kIpiExit,             // ... _exit
  kTimerEntry,          // irq_vectors:local_timer_entry
  kTimerExit,           // irq_vectors:local_timer_exit
  kHrtimerExpireEntry,  // timer:hrtimer_expire_entry
  kIrqEntry,            // irq:irq_handler_entry
  kIrqExit,             // irq:irq_handler_exit
  kSoftirqEntry,        // irq:softirq_entry
  kSoftirqExit,         // irq:softirq_exit
  kNmiHandler,          // nmi:nmi_handler (one per handler run, at its end)
  kOtherVectorEntry,    // irq_vectors:{thermal_apic,x86_platform_ipi,...}_entry
  kOtherVectorExit,     // ... _exit
  kHrtimerStart,        // timer:hrtimer_start (armed by the current task)
  kWorkStart,           // workqueue:workqueue_execute_start (a kworker runs an item)
  kTaskName,            // a task's new name (PERF_RECORD_COMM: PR_SET_NAME, exec)
};

// A task's user-space state as the kernel copied it at a tracepoint hit
// (PERF_SAMPLE_REGS_USER, PERF_SAMPLE_STACK_USER): enough to unwind its
// user stack later, after the task has moved on.
struct UserStackSample {
  user_regs_struct regs{};     // rip, rsp, rbp, rax..r15; the rest 0
  std::vector<uint8_t> stack;  // the stack from regs.rsp up, as far as copied
  // The kernel's frame-pointer walk of the live user stack at the same
  // moment (PERF_SAMPLE_CALLCHAIN): the pc, then return addresses. Goes
  // beyond the copy, but skips a caller whenever code keeps no frame
  // pointer.
  std::vector<uint64_t> callchain;
};

struct TraceRecord {
  TraceEventType type = TraceEventType::kSchedSwitch;
  // Same clock as a violation's time_ns (CLOCK_REALTIME).
  int64_t time_ns = 0;
  // The CPU the record was written on, and the task current there: for an
  // interrupt entry, the task it interrupted; for a send, the sender.
  int cpu = -1;
  pid_t pid = 0;
  pid_t tid = 0;
  // Written in hard or soft interrupt or NMI context (common_flags): the
  // current task did not cause it.
  bool in_interrupt = false;

  // kSchedSwitch: the task leaving the CPU and the one coming in.
  pid_t prev_tid = 0;
  std::string prev_comm;
  long prev_state = 0;  // raw prev_state; see kPreemptedState below
  pid_t next_tid = 0;
  std::string next_comm;
  // kTaskName: the task (pid, tid) is named so from time_ns on.
  std::string comm;

  // kSchedMigrate: the task moved and its CPUs.
  pid_t migrated_tid = 0;
  int orig_cpu = -1;
  int dest_cpu = -1;

  // kIpiSend: the CPUs the IPI goes to, the kernel function that sent it
  // and the function it asks them to run (empty: a reschedule).
  std::vector<int> target_cpus;
  std::string callsite;
  std::string callback;

  // kIpiEntry/kIpiExit: "call_function", "call_function_single",
  // "reschedule", "irq_work".
  std::string ipi_type;

  // kHrtimerExpireEntry: the timer's function; kNmiHandler: the handler;
  // kWorkStart: the work item's function.
  std::string function;

  // kIrqEntry/kIrqExit: the irq number; its name on entry.
  int irq = -1;
  std::string irq_name;

  // kSoftirqEntry/kSoftirqExit: the vector number (0 HI .. 9 RCU).
  int softirq_vector = -1;

  // kNmiHandler: how long the handler (`function`) ran, ending at time_ns.
  int64_t nmi_duration_ns = 0;
  // kOtherVectorEntry/kOtherVectorExit: the irq_vectors vector's name
  // ("thermal_apic", "x86_platform_ipi", "error_apic", "spurious_apic", ...).
  std::string vector;

  // kHrtimerStart/kHrtimerExpireEntry: the hrtimer's address, which ties
  // an expiry to the task that armed it.
  uint64_t hrtimer = 0;
  // kIpiSend by a user task (not in interrupt context, not a kernel
  // thread): the sender's user registers and stack top at the send. Shared:
  // it travels on to the noise event the IPI causes.
  std::shared_ptr<const UserStackSample> user_stack;
};

// prev_state of sched_switch (include/trace/events/sched.h): the low byte
// holds why the task stopped running (S, D, T, t, X, Z, P, I); none set: it
// was still runnable, preempted (in the kernel: 0x100, "R+"; at the return
// to user space, through schedule(): plain 0, "R"). Stopped by ptrace or a
// job-control stop: __TASK_TRACED, __TASK_STOPPED.
inline constexpr long kNotRunnableStates = 0xff;
inline constexpr long kTracedState = 0x08;
inline constexpr long kStoppedState = 0x04;

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_TRACING_TRACE_RECORD_H_
