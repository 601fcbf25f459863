// filter.h: the two seccomp programs dpsupervise uses, built with libseccomp.
//
// The *base filter* is installed on the whole program at launch. It allows
// every syscall at native cost except the few the supervisor must see: the
// dataplane prctls, clone with CLONE_UNTRACED (which would escape tracing),
// clone3 (whose flags BPF cannot read), and the installation of a seccomp
// filter (seccomp(2), prctl(PR_SET_SECCOMP)), which could hide a strict
// thread's syscalls from the strict filter.
//
// The *strict filter* is stacked on one thread when it enters strict mode. It
// allows prctl, exit, exit_group and the policy's rules, and traces everything
// else, foreign ABIs included. It relies on the base filter below it for the
// dataplane prctls: seccomp runs every stacked filter and keeps the action of
// highest precedence, so the base filter's TRACE wins over the strict filter's
// ALLOW for those two prctl options.
#ifndef DPSUPERVISE_SUPERVISOR_SECCOMP_FILTER_H_
#define DPSUPERVISE_SUPERVISOR_SECCOMP_FILTER_H_

#include <seccomp.h>
#include <stdint.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "supervisor/seccomp/bpf_program.h"

namespace dpsupervise {

// SECCOMP_RET_DATA attached to SECCOMP_RET_TRACE: why a filter of ours
// traces a syscall. The kernel reports the data of the most recently
// installed filter that returned TRACE, which may be one of the program's;
// the monitor therefore never trusts it, and runs its own programs on the
// syscall (bpf_interpreter.h) to learn which of these apply.
enum class TraceCookie : uint16_t {
  kDataplanePrctl = 1,  // PR_SET_DATAPLANE or PR_GET_DATAPLANE
  kViolation = 2,       // strict filter: a syscall the thread may not make
  kClone3 = 3,          // base filter: clone3, answered with ENOSYS
  kCloneUntraced = 4,   // base filter: clone with CLONE_UNTRACED
  kForeignArch = 5,     // strict filter: a syscall through a foreign ABI
  kFilterChange = 6,    // base filter: seccomp(2) or prctl(PR_SET_SECCOMP)
  kSignalMask = 7,      // strict filter: rt_sigprocmask the policy allows,
                        // emulated so the page-fault SIGTRAP stays unblocked
};

// The cookie of a SECCOMP_RET_TRACE `verdict` of ours; nullopt for any other
// action.
std::optional<TraceCookie> TraceCookieOf(uint32_t verdict);

// One rule the policy adds to the strict filter: when `nr` is called and all
// `conditions` hold, take `action` (SCMP_ACT_ALLOW or SCMP_ACT_ERRNO(e)).
struct SyscallRule {
  int nr = -1;
  uint32_t action = SCMP_ACT_ALLOW;
  std::vector<scmp_arg_cmp> conditions;
};

// The program every task of the supervised program runs under.
absl::StatusOr<BpfProgram> BuildBaseFilter();

// The per-thread strict-mode program, with the policy's `rules` added. A rule
// that allows rt_sigprocmask traces it instead (kSignalMask): the monitor
// runs it itself.
absl::StatusOr<BpfProgram> BuildStrictFilter(const std::vector<SyscallRule>& rules);

// Human-readable pseudo-code of the strict filter (libseccomp's PFC), for
// --check-policy.
absl::StatusOr<std::string> DescribeStrictFilter(const std::vector<SyscallRule>& rules);

// The strict filter built one rule at a time, for a caller that must watch
// libseccomp's progress rule by rule (the policy's compile check,
// policy_compile_check.h). Adding the same rules and exporting gives the
// same program as BuildStrictFilter and the same text as
// DescribeStrictFilter.
class StrictFilterBuilder {
 public:
  static absl::StatusOr<StrictFilterBuilder> Create();

  // Adds one rule as BuildStrictFilter does (prctl, exit and exit_group are
  // skipped: always allowed). 0, or libseccomp's negative errno.
  int AddRule(const SyscallRule& rule);
  // BuildStrictFilter's result for the rules added so far.
  absl::StatusOr<BpfProgram> Export();
  // DescribeStrictFilter's result for the rules added so far.
  absl::StatusOr<std::string> Describe();

 private:
  struct ContextDeleter {
    void operator()(void* ctx) const;
  };
  explicit StrictFilterBuilder(void* ctx) : ctx_(ctx) {}
  std::unique_ptr<void, ContextDeleter> ctx_;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_SECCOMP_FILTER_H_
