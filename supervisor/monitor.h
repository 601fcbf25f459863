// monitor.h: the ptrace event loop. It owns the per-thread state, reacts to
// every stop of every traced task, and returns the program's exit status once
// all of them are gone.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_H_

#include <sys/types.h>
#include <sys/user.h>

#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "supervisor/bpf_program.h"
#include "supervisor/report.h"
#include "supervisor/thread_state.h"
#include "supervisor/violation.h"

namespace dpsupervise {

struct MonitorOptions {
  pid_t program_pid = -1;      // seized by Launch, not yet exec'd
  int setup_error_fd = -1;     // LaunchedProgram::setup_error_fd; the monitor closes it
  std::string program_name;    // argv[0], for messages
  const BpfProgram* strict_filter = nullptr;
  ReportWriter* reports = nullptr;
};

class Monitor {
 public:
  explicit Monitor(const MonitorOptions& options);
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Runs until no traced task is left. Returns the status dpsupervise should
  // exit with: the program's exit code, or 128+signal when it was killed.
  // Errors: the program could not be executed (NotFound: 127,
  // PermissionDenied: 126) or the supervisor failed (Internal: 125; the
  // program has been killed then).
  absl::StatusOr<int> Run();

 private:
  absl::Status HandleWaitStatus(pid_t tid, int status);
  void HandleExit(pid_t tid, int status);
  absl::Status HandleSeccompStop(ThreadState& thread);
  absl::Status HandleDataplanePrctl(ThreadState& thread, const user_regs_struct& regs);
  absl::Status HandleNewTask(ThreadState& parent, int event);
  absl::Status HandleExec(ThreadState& thread);
  absl::Status HandleEventStop(ThreadState& thread, int signal);
  absl::Status HandleSyscallViolation(ThreadState& thread, const user_regs_struct& regs);

  // Makes `thread` strict; returns the value its prctl should return.
  absl::StatusOr<long> EnterStrict(ThreadState& thread, const user_regs_struct& regs,
                                   uint32_t flags, bool* injected);
  // Skips the syscall `tid` is stopped at, making it return `value`.
  absl::Status ReturnFromSyscall(pid_t tid, user_regs_struct regs, long value);
  Violation DescribeSyscallViolation(const ThreadState& thread, const user_regs_struct& regs);
  // SIGKILLs every process of the program.
  void KillProgram();

  ThreadState& Track(pid_t tid);

  MonitorOptions options_;
  std::unordered_map<pid_t, ThreadState> threads_;
  bool program_execed_ = false;
  bool program_exited_ = false;
  int program_wait_status_ = 0;
  bool killing_ = false;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_H_
