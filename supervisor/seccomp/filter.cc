#include "supervisor/seccomp/filter.h"

#include <errno.h>
#include <linux/sched.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/dataplane.h"

namespace dpsupervise {
namespace {

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

uint32_t Trace(TraceCookie cookie) { return SCMP_ACT_TRACE(static_cast<uint16_t>(cookie)); }



// libseccomp reports errors as negative errno values.
absl::Status LibseccompError(int rc, absl::string_view what) {
  return absl::InternalError(absl::StrCat("libseccomp: ", what, ": ", strerror(-rc)));
}

// Traces every way of installing a seccomp filter.
absl::Status AddFilterChangeRules(void* ctx) {
  int rc = seccomp_rule_add(ctx, Trace(TraceCookie::kFilterChange), SCMP_SYS(seccomp), 0);
  if (rc < 0) return LibseccompError(rc, "adding the seccomp rule");
  rc = seccomp_rule_add(ctx, Trace(TraceCookie::kFilterChange), SCMP_SYS(prctl), 1,
                        SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffULL, PR_SET_SECCOMP));
  if (rc < 0) return LibseccompError(rc, "adding the PR_SET_SECCOMP rule");
  return absl::OkStatus();
}

absl::StatusOr<Context> NewContext(uint32_t default_action, uint32_t bad_arch_action) {
  Context ctx(seccomp_init(default_action));
  if (ctx == nullptr) return absl::InternalError("libseccomp: seccomp_init failed");
  int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, bad_arch_action);
  if (rc < 0) return LibseccompError(rc, "setting the bad-architecture action");
  // The supervisor loads the program itself (with SPEC_ALLOW); libseccomp
  // must not add NO_NEW_PRIVS or its own flags to the exported program.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  if (rc < 0) return LibseccompError(rc, "clearing the NO_NEW_PRIVS attribute");
  // Binary-tree dispatch keeps large policies cheap per syscall.
  rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc < 0) return LibseccompError(rc, "setting the optimization level");
  return ctx;
}

// Traces the two dataplane prctl options. The kernel reads prctl's option as
// an int, so only the low 32 bits are compared.
absl::Status AddDataplanePrctlRules(void* ctx) {
  for (uint64_t option : {PR_SET_DATAPLANE, PR_GET_DATAPLANE}) {
    int rc = seccomp_rule_add(ctx, Trace(TraceCookie::kDataplanePrctl), SCMP_SYS(prctl), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffULL, option));
    if (rc < 0) return LibseccompError(rc, "adding the dataplane prctl rule");
  }
  return absl::OkStatus();
}

// seccomp_export_bpf only writes to a file descriptor; a memfd brings the
// program back into memory without touching the file system.
absl::StatusOr<BpfProgram> Export(void* ctx) {
  int fd = memfd_create("dpsupervise-bpf", MFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("memfd_create: ", strerror(errno)));
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0) {
    close(fd);
    return LibseccompError(rc, "exporting the BPF program");
  }
  off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0 || size % sizeof(sock_filter) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
    close(fd);
    return absl::InternalError("libseccomp exported a malformed BPF program");
  }
  BpfProgram program;
  program.instructions.resize(size / sizeof(sock_filter));
  ssize_t got = pread(fd, program.instructions.data(), size, 0);
  int saved_errno = errno;
  close(fd);
  if (got != size) {
    return absl::InternalError(absl::StrCat("reading the exported BPF program: ",
                                            got < 0 ? strerror(saved_errno) : "short read"));
  }
  if (program.instructions.size() > BPF_MAXINSNS) {
    return absl::InvalidArgumentError(
        absl::StrCat("the filter has ", program.instructions.size(),
                     " instructions; the kernel accepts at most ", BPF_MAXINSNS));
  }
  return program;
}

// libseccomp's pseudo-code of `ctx`, brought back through a memfd.
absl::StatusOr<std::string> ExportPseudoCode(void* ctx) {
  int fd = memfd_create("dpsupervise-pfc", MFD_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("memfd_create: ", strerror(errno)));
  int rc = seccomp_export_pfc(ctx, fd);
  if (rc < 0) {
    close(fd);
    return LibseccompError(rc, "exporting the pseudo-code");
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  off_t offset = 0;
  while ((n = pread(fd, buf, sizeof(buf), offset)) > 0) {
    text.append(buf, n);
    offset += n;
  }
  close(fd);
  return text;
}

// The strict filter without the policy's rules.
absl::StatusOr<Context> EmptyStrictContext() {
  // A foreign ABI (x86-32 int 0x80, x32) is reported, never silently allowed.
  auto ctx = NewContext(Trace(TraceCookie::kViolation), Trace(TraceCookie::kForeignArch));
  if (!ctx.ok()) return ctx.status();
  // prctl is allowed here; the base filter below still traces the dataplane
  // options (see filter.h).
  for (int nr : {SCMP_SYS(prctl), SCMP_SYS(exit), SCMP_SYS(exit_group)}) {
    int rc = seccomp_rule_add(ctx->get(), SCMP_ACT_ALLOW, nr, 0);
    if (rc < 0) return LibseccompError(rc, "adding the always-allowed syscalls");
  }
  return ctx;
}

// One policy rule into the strict filter: 0, or libseccomp's negative errno.
int AddStrictRule(void* ctx, const SyscallRule& rule) {
  if (rule.nr == SCMP_SYS(prctl) || rule.nr == SCMP_SYS(exit) ||
      rule.nr == SCMP_SYS(exit_group)) {
    return 0;  // Always allowed in strict mode.
  }
  // rt_sigprocmask could block the page-fault SIGTRAP: the monitor runs it.
  const uint32_t action = rule.nr == SCMP_SYS(rt_sigprocmask) && rule.action == SCMP_ACT_ALLOW
                              ? Trace(TraceCookie::kSignalMask)
                              : rule.action;
  return seccomp_rule_add_array(ctx, action, rule.nr,
                                static_cast<unsigned>(rule.conditions.size()),
                                rule.conditions.data());
}

absl::StatusOr<Context> StrictContext(const std::vector<SyscallRule>& rules) {
  auto ctx = EmptyStrictContext();
  if (!ctx.ok()) return ctx.status();
  for (const SyscallRule& rule : rules) {
    const int rc = AddStrictRule(ctx->get(), rule);
    if (rc < 0) {
      char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, rule.nr);
      std::string what = absl::StrCat("adding a rule for ", name ? name : "syscall");
      free(name);
      return LibseccompError(rc, what);
    }
  }
  return ctx;
}

}  // namespace

std::optional<TraceCookie> TraceCookieOf(uint32_t verdict) {
  if ((verdict & SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_TRACE) return std::nullopt;
  return static_cast<TraceCookie>(verdict & SECCOMP_RET_DATA);
}

absl::StatusOr<BpfProgram> BuildBaseFilter() {
  // Foreign ABIs behave exactly as without dpsupervise for non-strict threads.
  auto ctx = NewContext(SCMP_ACT_ALLOW, SCMP_ACT_ALLOW);
  if (!ctx.ok()) return ctx.status();
  absl::Status status = AddDataplanePrctlRules(ctx->get());
  if (!status.ok()) return status;
  int rc = seccomp_rule_add(ctx->get(), Trace(TraceCookie::kCloneUntraced), SCMP_SYS(clone), 1,
                            SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_UNTRACED, CLONE_UNTRACED));
  if (rc < 0) return LibseccompError(rc, "adding the CLONE_UNTRACED rule");
  rc = seccomp_rule_add(ctx->get(), Trace(TraceCookie::kClone3), SCMP_SYS(clone3), 0);
  if (rc < 0) return LibseccompError(rc, "adding the clone3 rule");
  status = AddFilterChangeRules(ctx->get());
  if (!status.ok()) return status;
  return Export(ctx->get());
}

absl::StatusOr<BpfProgram> BuildStrictFilter(const std::vector<SyscallRule>& rules) {
  auto ctx = StrictContext(rules);
  if (!ctx.ok()) return ctx.status();
  return Export(ctx->get());
}

absl::StatusOr<std::string> DescribeStrictFilter(const std::vector<SyscallRule>& rules) {
  auto ctx = StrictContext(rules);
  if (!ctx.ok()) return ctx.status();
  return ExportPseudoCode(ctx->get());
}

void StrictFilterBuilder::ContextDeleter::operator()(void* ctx) const { seccomp_release(ctx); }

absl::StatusOr<StrictFilterBuilder> StrictFilterBuilder::Create() {
  auto ctx = EmptyStrictContext();
  if (!ctx.ok()) return ctx.status();
  return StrictFilterBuilder(ctx->release());
}

int StrictFilterBuilder::AddRule(const SyscallRule& rule) {
  return AddStrictRule(ctx_.get(), rule);
}

absl::StatusOr<BpfProgram> StrictFilterBuilder::Export() { return dpsupervise::Export(ctx_.get()); }

absl::StatusOr<std::string> StrictFilterBuilder::Describe() {
  return ExportPseudoCode(ctx_.get());
}

}  // namespace dpsupervise
