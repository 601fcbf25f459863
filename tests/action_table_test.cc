// The order in which a violation's action is chosen (docs/policy.md):
// PR_DATAPLANE_SIG, @action KIND, --on-violation, @action default, kill.
#include "supervisor/policy/action_table.h"

#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

namespace dpsupervise {
namespace {

Action Of(ActionKind kind) {
  Action a;
  a.kind = kind;
  return a;
}
Action Signal(int s) {
  Action a = Of(ActionKind::kSignal);
  a.signal = s;
  return a;
}
Action Errno(int e) {
  Action a = Of(ActionKind::kErrno);
  a.errno_value = e;
  return a;
}

// The table for --on-violation=ON_VIOLATION ("": not given).
ActionTable Resolve(const Policy& policy, const std::string& on_violation) {
  if (on_violation.empty()) return ResolveActions(policy, std::nullopt);
  auto action = ParseAction(on_violation);
  EXPECT_TRUE(action.ok()) << action.status();
  return ResolveActions(policy, action.ok() ? std::optional<Action>(*action) : std::nullopt);
}

TEST(ActionTableTest, KillWhenNothingIsConfigured) {
  const ActionTable table = Resolve(Policy{}, "");
  for (ViolationKind kind : {ViolationKind::kSyscall, ViolationKind::kPageFault,
                             ViolationKind::kTrap, ViolationKind::kSignal}) {
    EXPECT_EQ(table.For(kind, 0), Of(ActionKind::kKill));
  }
}

TEST(ActionTableTest, FirstMatchWinsInTheDocumentedOrder) {
  Policy policy;
  policy.default_action = Of(ActionKind::kLog);
  EXPECT_EQ(Resolve(policy, "").For(ViolationKind::kTrap, 0), Of(ActionKind::kLog));
  // --on-violation overrides @action default...
  EXPECT_EQ(Resolve(policy, "stop").For(ViolationKind::kTrap, 0), Of(ActionKind::kStop));
  // ...but not @action KIND...
  policy.actions[ViolationKind::kTrap] = Signal(SIGUSR2);
  const ActionTable table = Resolve(policy, "stop");
  EXPECT_EQ(table.For(ViolationKind::kTrap, 0), Signal(SIGUSR2));
  EXPECT_EQ(table.For(ViolationKind::kSyscall, 0), Of(ActionKind::kStop));
  // ...and the thread's own PR_DATAPLANE_SIG overrides everything.
  EXPECT_EQ(table.For(ViolationKind::kTrap, SIGUSR1), Signal(SIGUSR1));
  EXPECT_EQ(table.For(ViolationKind::kSyscall, SIGRTMIN), Signal(SIGRTMIN));
}

TEST(ActionTableTest, ErrnoAppliesToSyscallsOnly) {
  Policy policy;
  policy.default_action = Errno(EPERM);
  const ActionTable table = Resolve(policy, "");
  EXPECT_EQ(table.For(ViolationKind::kSyscall, 0), Errno(EPERM));
  EXPECT_EQ(table.For(ViolationKind::kPageFault, 0), Of(ActionKind::kKill));
  EXPECT_EQ(table.For(ViolationKind::kSignal, 0), Of(ActionKind::kKill));
  const ActionTable from_flag = Resolve(Policy{}, "errno:EIO");
  EXPECT_EQ(from_flag.For(ViolationKind::kSyscall, 0), Errno(EIO));
  EXPECT_EQ(from_flag.For(ViolationKind::kTrap, 0), Of(ActionKind::kKill));
}

// A bad --on-violation is a misuse of the command line: tests/cli_test.cc.

TEST(ActionTableTest, DeliverAsTheDefaultKillsWhatHasNoSignalOfItsOwn) {
  const ActionTable table = Resolve(Policy{}, "deliver");
  EXPECT_EQ(table.For(ViolationKind::kTrap, 0), Of(ActionKind::kDeliver));
  EXPECT_EQ(table.For(ViolationKind::kSignal, 0), Of(ActionKind::kDeliver));
  EXPECT_EQ(table.For(ViolationKind::kSyscall, 0), Of(ActionKind::kKill));
  EXPECT_EQ(table.For(ViolationKind::kPageFault, 0), Of(ActionKind::kKill));
}

TEST(ActionTableTest, WhichActionsApplyToWhichKinds) {
  for (ViolationKind kind : kAllViolationKinds) {
    EXPECT_EQ(ActionAppliesTo(ActionKind::kErrno, kind), kind == ViolationKind::kSyscall);
    EXPECT_EQ(ActionAppliesTo(ActionKind::kDeliver, kind),
              kind == ViolationKind::kTrap || kind == ViolationKind::kSignal);
    for (ActionKind any : {ActionKind::kKill, ActionKind::kKillAll, ActionKind::kSignal,
                           ActionKind::kStop, ActionKind::kGdb, ActionKind::kLog}) {
      EXPECT_TRUE(ActionAppliesTo(any, kind));
    }
  }
}

// Interruptions (ipi, irq, ...) are noise unless their kind is named: the
// default action, --on-violation and PR_DATAPLANE_SIG do not make them
// violations; once named, the usual order holds for them too.
TEST(ActionTableTest, InterruptionsAreActedOnOnlyWhenNamed) {
  Policy policy;
  policy.default_action = Of(ActionKind::kLog);
  ActionTable table = Resolve(policy, "stop");
  EXPECT_FALSE(table.ActsOnInterruptions());
  for (ViolationKind kind : kAllViolationKinds) {
    EXPECT_EQ(table.Acts(kind), !IsInterruptionKind(kind)) << ViolationKindName(kind);
  }
  policy.actions[ViolationKind::kIpi] = Signal(SIGUSR2);
  table = ResolveActions(policy, std::nullopt,
                         {{ViolationKind::kPreemption, Of(ActionKind::kLog)}});
  EXPECT_TRUE(table.ActsOnInterruptions());
  EXPECT_TRUE(table.Acts(ViolationKind::kIpi));
  EXPECT_TRUE(table.Acts(ViolationKind::kPreemption));
  EXPECT_FALSE(table.Acts(ViolationKind::kTimer));
  EXPECT_EQ(table.For(ViolationKind::kIpi, 0), Signal(SIGUSR2));
  EXPECT_EQ(table.For(ViolationKind::kIpi, SIGUSR1), Signal(SIGUSR1));
  EXPECT_EQ(table.For(ViolationKind::kPreemption, 0), Of(ActionKind::kLog));
}

// --action=KIND=ACTION wins over the policy's @action KIND.
TEST(ActionTableTest, CommandLineKindActionsOverrideThePolicy) {
  Policy policy;
  policy.actions[ViolationKind::kSyscall] = Of(ActionKind::kKill);
  const ActionTable table =
      ResolveActions(policy, std::nullopt, {{ViolationKind::kSyscall, Errno(EPERM)}});
  EXPECT_EQ(table.For(ViolationKind::kSyscall, 0), Errno(EPERM));
  EXPECT_EQ(table.For(ViolationKind::kTrap, 0), Of(ActionKind::kKill));
}

}  // namespace
}  // namespace dpsupervise
