// The user-space BPF interpreter must judge every syscall exactly as the
// kernel runs the same program: compare it with the kernel on a sample of
// syscalls and arguments, using compiled policies.
#include "supervisor/seccomp/bpf_interpreter.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <sys/syscall.h>

#include "supervisor/seccomp/filter.h"

namespace dpsupervise {
namespace {

seccomp_data Data(int nr, uint64_t a0 = 0, uint32_t arch = AUDIT_ARCH_X86_64) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = arch;
  d.args[0] = a0;
  return d;
}

TEST(BpfInterpreter, StrictFilterVerdicts) {
  std::vector<SyscallRule> rules;
  rules.push_back({SYS_write, SCMP_ACT_ALLOW, {SCMP_A0(SCMP_CMP_EQ, 1)}});
  rules.push_back({SYS_sched_yield, SCMP_ACT_ERRNO(EPERM), {}});
  auto strict = BuildStrictFilter(rules);
  ASSERT_TRUE(strict.ok());
  auto verdict = [&](const seccomp_data& d) { return *RunSeccompFilter(*strict, d); };
  const uint32_t violation = SCMP_ACT_TRACE(static_cast<uint16_t>(TraceCookie::kViolation));
  EXPECT_EQ(verdict(Data(SYS_getpid)), violation);
  EXPECT_EQ(verdict(Data(SYS_write, 1)), SCMP_ACT_ALLOW);
  EXPECT_EQ(verdict(Data(SYS_write, 2)), violation);
  EXPECT_EQ(verdict(Data(SYS_sched_yield)), SCMP_ACT_ERRNO(EPERM));
  EXPECT_EQ(verdict(Data(SYS_exit_group)), SCMP_ACT_ALLOW);
  EXPECT_EQ(verdict(Data(SYS_prctl)), SCMP_ACT_ALLOW);
  EXPECT_EQ(verdict(Data(20, 0, AUDIT_ARCH_I386)),
            SCMP_ACT_TRACE(static_cast<uint16_t>(TraceCookie::kForeignArch)));
  EXPECT_EQ(verdict(Data(0x40000000 | SYS_getpid)),
            SCMP_ACT_TRACE(static_cast<uint16_t>(TraceCookie::kForeignArch)));
}

TEST(BpfInterpreter, BaseFilterVerdicts) {
  auto base = BuildBaseFilter();
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(*RunSeccompFilter(*base, Data(SYS_getpid)), SCMP_ACT_ALLOW);
  EXPECT_EQ(*RunSeccompFilter(*base, Data(SYS_clone3)),
            SCMP_ACT_TRACE(static_cast<uint16_t>(TraceCookie::kClone3)));
}

TEST(BpfInterpreter, RejectsMalformedPrograms) {
  BpfProgram bad;
  bad.instructions.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 1000));
  EXPECT_FALSE(RunSeccompFilter(bad, Data(0)).ok());
  BpfProgram no_return;
  no_return.instructions.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0));
  EXPECT_FALSE(RunSeccompFilter(no_return, Data(0)).ok());
}

}  // namespace
}  // namespace dpsupervise
