// Unit tests of what each action does to the thread a violation was seen
// in, over a fake Tracee that records the calls.
#include "supervisor/monitor/action_executor.h"
#include "supervisor/monitor/classify.h"

#include <signal.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dpsupervise {
namespace {

using ::testing::ElementsAre;

class FakeTracee : public Tracee {
 public:
  pid_t tid() const override { return 11; }
  pid_t tgid() const override { return 10; }
  absl::Status Resume(int signal) override { return Call(absl::StrCat("resume ", signal)); }
  absl::Status RunSyscall(const user_regs_struct& regs) override { return Call("run syscall"); }
  absl::Status ReturnFromSyscall(const user_regs_struct& regs, long value) override {
    return Call(absl::StrCat("return ", value));
  }
  absl::Status RewindToSyscall(const user_regs_struct& regs) override { return Call("rewind"); }
  absl::Status QueueSignal(int signal) override { return Call(absl::StrCat("queue ", signal)); }
  void LeaveStrict() override { (void)Call("leave strict"); }
  absl::Status StopForDebugger(bool run_gdb, int resend_signal) override {
    return Call(absl::StrCat(run_gdb ? "gdb" : "stop", " resend ", resend_signal));
  }
  absl::Status StopForDebuggerAfterSyscall(const user_regs_struct& regs, bool run_gdb) override {
    return Call(absl::StrCat(run_gdb ? "gdb" : "stop", " after syscall"));
  }
  void KillProcess() override { (void)Call("kill process"); }
  void KillProgram() override { (void)Call("kill program"); }

  std::vector<std::string> calls;
  // A call that fails, to see that nothing follows it.
  std::string failing;

 private:
  absl::Status Call(const std::string& what) {
    calls.push_back(what);
    if (what == failing) return absl::InternalError(what);
    return absl::OkStatus();
  }
};

Violation Of(ViolationKind kind, uint64_t pc = 0x401000) {
  Violation violation;
  violation.kind = kind;
  violation.regs.rip = pc;
  return violation;
}

Action Parsed(const std::string& text) {
  auto action = ParseAction(text);
  EXPECT_TRUE(action.ok()) << action.status();
  return *action;
}

constexpr uint64_t kVsyscallPc = 0xffffffffff600000ULL;

struct Case {
  std::string action;
  ViolationKind kind;
  int stop_signal;
  uint64_t pc;
  std::vector<std::string> calls;
};

class ExecuteActionTest : public ::testing::TestWithParam<Case> {};

TEST_P(ExecuteActionTest, MakesExactlyTheseCalls) {
  const Case& c = GetParam();
  FakeTracee tracee;
  ASSERT_TRUE(ExecuteAction(Parsed(c.action), Of(c.kind, c.pc), c.stop_signal, tracee).ok());
  EXPECT_EQ(tracee.calls, c.calls);
}

// Every action on every kind it applies to (the action table refuses errno
// for the other kinds).
INSTANTIATE_TEST_SUITE_P(
    EveryActionAndKind, ExecuteActionTest,
    ::testing::Values(
        Case{"kill", ViolationKind::kSyscall, 0, 0x401000, {"kill process"}},
        Case{"kill", ViolationKind::kSignal, SIGUSR1, 0x401000, {"kill process"}},
        Case{"kill-all", ViolationKind::kPageFault, SIGTRAP, 0x401000, {"kill program"}},
        Case{"kill-all", ViolationKind::kTrap, SIGSEGV, 0x401000, {"kill program"}},
        Case{"deliver", ViolationKind::kTrap, SIGSEGV, 0x401000, {"leave strict", "resume 11"}},
        Case{"deliver", ViolationKind::kSignal, SIGUSR1, 0x401000,
             {"leave strict", "resume 10"}},
        Case{"log", ViolationKind::kSyscall, 0, 0x401000, {"run syscall"}},
        Case{"log", ViolationKind::kPageFault, SIGTRAP, 0x401000, {"resume 0"}},
        Case{"log", ViolationKind::kTrap, SIGSEGV, 0x401000, {"resume 11"}},
        Case{"log", ViolationKind::kSignal, SIGUSR1, 0x401000, {"resume 10"}},
        Case{"signal SIGUSR2", ViolationKind::kSyscall, 0, 0x401000,
             {"leave strict", "rewind", "queue 12", "resume 0"}},
        Case{"signal SIGUSR2", ViolationKind::kSyscall, 0, kVsyscallPc,
             {"leave strict", "queue 12", "resume 0"}},
        Case{"signal SIGUSR2", ViolationKind::kPageFault, SIGTRAP, 0x401000,
             {"leave strict", "resume 12"}},
        Case{"signal SIGUSR2", ViolationKind::kTrap, SIGSEGV, 0x401000,
             {"leave strict", "resume 12"}},
        Case{"signal SIGUSR2", ViolationKind::kSignal, SIGUSR1, 0x401000,
             {"leave strict", "queue 12", "resume 10"}},
        Case{"errno EPERM", ViolationKind::kSyscall, 0, 0x401000, {"return -1"}},
        Case{"stop", ViolationKind::kSyscall, 0, 0x401000, {"rewind", "stop resend 0"}},
        Case{"stop", ViolationKind::kSyscall, 0, kVsyscallPc, {"stop after syscall"}},
        Case{"stop", ViolationKind::kPageFault, SIGTRAP, 0x401000, {"stop resend 0"}},
        Case{"stop", ViolationKind::kTrap, SIGSEGV, 0x401000, {"stop resend 0"}},
        Case{"stop", ViolationKind::kSignal, SIGUSR1, 0x401000, {"stop resend 10"}},
        Case{"gdb", ViolationKind::kSyscall, 0, 0x401000, {"rewind", "gdb resend 0"}},
        Case{"gdb", ViolationKind::kSyscall, 0, kVsyscallPc, {"gdb after syscall"}},
        Case{"gdb", ViolationKind::kSignal, SIGUSR1, 0x401000, {"gdb resend 10"}},
        // Interruptions: the thread sits at our PTRACE_INTERRUPT stop, with
        // no signal of its own and no syscall to rewind.
        Case{"kill", ViolationKind::kIpi, 0, 0x401000, {"kill process"}},
        Case{"kill-all", ViolationKind::kPreemption, 0, 0x401000, {"kill program"}},
        Case{"log", ViolationKind::kTimer, 0, 0x401000, {"resume 0"}},
        Case{"signal SIGUSR2", ViolationKind::kIpi, 0, 0x401000,
             {"leave strict", "queue 12", "resume 0"}},
        Case{"stop", ViolationKind::kMigration, 0, 0x401000, {"stop resend 0"}},
        Case{"gdb", ViolationKind::kIrq, 0, 0x401000, {"gdb resend 0"}}));

TEST(ExecuteAction, AFailedStepEndsTheAction) {
  FakeTracee tracee;
  tracee.failing = "rewind";
  absl::Status status =
      ExecuteAction(Parsed("signal SIGUSR2"), Of(ViolationKind::kSyscall), 0, tracee);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(tracee.calls, ElementsAre("leave strict", "rewind"));
}

TEST(ExecuteAction, EveryActionKindHasASentence) {
  EXPECT_EQ(DescribeAction(Parsed("kill"), 11, 10), "kill (SIGKILL to process 10)");
  EXPECT_EQ(DescribeAction(Parsed("kill-all"), 11, 10),
            "kill-all (SIGKILL to the whole program)");
  EXPECT_EQ(DescribeAction(Parsed("deliver"), 11, 10),
            "deliver (thread 11 left strict mode; the signal reaches the program)");
  EXPECT_EQ(DescribeAction(Parsed("log"), 11, 10), "log (the program continues)");
  EXPECT_EQ(DescribeAction(Parsed("signal SIGUSR2"), 11, 10),
            "signal SIGUSR2 (thread 11 left strict mode)");
  EXPECT_EQ(DescribeAction(Parsed("errno EPERM"), 11, 10),
            "errno EPERM (the syscall failed without running)");
  EXPECT_EQ(DescribeAction(Parsed("stop"), 11, 10),
            "stop (process 10 left stopped at the violation for a debugger: gdb -p 10)");
  EXPECT_EQ(DescribeAction(Parsed("gdb"), 11, 10),
            "gdb (process 10 left stopped at the violation for a debugger: gdb -p 10)");
}

MemoryMapping Mapping(uint64_t start, uint64_t end, const std::string& name, bool writable,
                      bool shared = false, uint64_t file_offset = 0) {
  MemoryMapping m;
  m.start = start;
  m.end = end;
  m.readable = true;
  m.writable = writable;
  m.shared = shared;
  m.file_offset = file_offset;
  m.name = name;
  return m;
}

TEST(DescribeFaultAddress, NamesTheMappingTheSymbolAndTheLikelyCause) {
  const std::vector<MemoryMapping> maps = {
      Mapping(0x400000, 0x401000, "/usr/bin/app", false, false, 0x2000),
      Mapping(0x401000, 0x402000, "/usr/bin/app", true),
      Mapping(0x402000, 0x410000, "", true),
      Mapping(0x500000, 0x600000, "[heap]", true),
      Mapping(0x7ff000, 0x800000, "[stack]", true),
      Mapping(0x900000, 0x901000, "[vvar]", false),
      Mapping(0xa00000, 0xa01000, "/dev/shm/ring", true, /*shared=*/true),
  };
  Frame symbol;
  symbol.function = "g_table";
  symbol.offset = 0x10;
  FaultContext bss = DescribeFaultAddress(0x402010, "write", maps, symbol);
  EXPECT_EQ(bss.mapping, "anonymous");
  EXPECT_EQ(bss.offset, 0x10u);
  EXPECT_EQ(bss.symbol, "g_table");
  EXPECT_EQ(bss.symbol_offset, 0x10u);
  EXPECT_THAT(bss.hint, ::testing::HasSubstr("anonymous memory"));

  FaultContext text = DescribeFaultAddress(0x400010, "read", maps, Frame{});
  EXPECT_EQ(text.mapping, "/usr/bin/app");
  EXPECT_EQ(text.offset, 0x2010u);  // into the file
  EXPECT_TRUE(text.symbol.empty());
  EXPECT_THAT(text.hint, ::testing::HasSubstr("file page"));

  EXPECT_THAT(DescribeFaultAddress(0x401008, "write", maps, Frame{}).hint,
              ::testing::HasSubstr("copy-on-write"));
  EXPECT_THAT(DescribeFaultAddress(0x500100, "write", maps, Frame{}).hint,
              ::testing::HasSubstr("heap"));
  EXPECT_THAT(DescribeFaultAddress(0x7ff100, "write", maps, Frame{}).hint,
              ::testing::HasSubstr("stack growth"));
  EXPECT_THAT(DescribeFaultAddress(0x900000, "read", maps, Frame{}).hint,
              ::testing::HasSubstr("vDSO's data page"));
  EXPECT_THAT(DescribeFaultAddress(0xa00000, "write", maps, Frame{}).hint,
              ::testing::HasSubstr("file page"));
  FaultContext nowhere = DescribeFaultAddress(0x10, "write", maps, Frame{});
  EXPECT_EQ(nowhere.mapping, "unmapped");
  EXPECT_THAT(nowhere.hint, ::testing::HasSubstr("SIGSEGV"));
}

}  // namespace
}  // namespace dpsupervise
