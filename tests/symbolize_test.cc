// Tests of supervisor/symbolize on live, ptrace-stopped runs of
// testdata/symbolize_target. The target prints the source line of each call
// on its way to the stop, so expected lines are never hard-coded here.
#include "supervisor/symbols/symbolize.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "supervisor/report/report.h"
#include "supervisor/symbols/symbol_lookup.h"
#include "tests/test_files.h"

namespace dpsupervise {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

double NowSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

std::string TargetPath() {
  const char* srcdir = getenv("TEST_SRCDIR");
  return std::string(srcdir != nullptr ? srcdir : ".") + "/dpsupervise/testdata/symbolize_target";
}

std::string PluginPath() {
  const char* srcdir = getenv("TEST_SRCDIR");
  return std::string(srcdir != nullptr ? srcdir : ".") + "/dpsupervise/testdata/libdp_plugin.so";
}

std::string Basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// A traced run of symbolize_target, held in the stop it puts itself in. All
// its threads are traced (PTRACE_O_TRACECLONE), as under dpsupervise, but
// only `tid` is stopped.
class StoppedTarget {
 public:
  // Runs the target with `arg` (may be empty) until a thread stops with
  // `stop_signal`. Fails the current test (and returns null) otherwise.
  // `path`: the target's executable, or a copy of it.
  static std::unique_ptr<StoppedTarget> Start(const std::string& arg, int stop_signal,
                                              const std::string& path = TargetPath()) {
    std::unique_ptr<StoppedTarget> t(new StoppedTarget);
    if (!t->Run(arg, stop_signal, path)) return nullptr;
    return t;
  }

  ~StoppedTarget() {
    if (out_fd_ >= 0) close(out_fd_);
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    // Reap the leader and every traced thread.
    int status;
    while (waitpid(-1, &status, __WALL) > 0 || errno == EINTR) {
    }
  }

  // Resumes the stopped thread and holds the next one that stops with
  // `stop_signal`, as Start does.
  bool ContinueToNextStop(int stop_signal) {
    ptrace(PTRACE_CONT, tid_, nullptr, nullptr);
    return WaitForStop(stop_signal);
  }

  pid_t pid() const { return pid_; }
  pid_t tid() const { return tid_; }
  const user_regs_struct& regs() const { return regs_; }
  // A "name=value" line the target printed before stopping; -1 if absent.
  long Value(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? -1 : it->second;
  }
  std::string ExePath() const {
    char buf[4096];
    ssize_t n = readlink(("/proc/" + std::to_string(pid_) + "/exe").c_str(), buf, sizeof(buf));
    return n > 0 ? std::string(buf, n) : "";
  }
  uint64_t ReadU64(uint64_t addr) const {
    uint64_t value = 0;
    iovec local = {&value, sizeof(value)};
    iovec remote = {reinterpret_cast<void*>(addr), sizeof(value)};
    process_vm_readv(pid_, &local, 1, &remote, 1, 0);
    return value;
  }

 private:
  StoppedTarget() = default;

  bool Run(const std::string& arg, int stop_signal, const std::string& path) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2";
      return false;
    }
    std::vector<char*> argv = {const_cast<char*>(path.c_str())};
    if (!arg.empty()) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
      raise(SIGSTOP);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    out_fd_ = out[0];
    int status;
    if (waitpid(pid_, &status, 0) != pid_ || !WIFSTOPPED(status)) {
      ADD_FAILURE() << "child did not stop before exec";
      return false;
    }
    ptrace(PTRACE_SETOPTIONS, pid_, nullptr,
           PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
    ptrace(PTRACE_CONT, pid_, nullptr, nullptr);
    return WaitForStop(stop_signal);
  }

  // Lets every traced thread run until one stops with `stop_signal` (for
  // SIGSTOP: the leader), then holds that one.
  bool WaitForStop(int stop_signal) {
    int status;
    const double deadline = NowSeconds() + 20;
    for (;;) {
      if (NowSeconds() > deadline) {
        ADD_FAILURE() << "timed out waiting for the target to stop";
        return false;
      }
      pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);
      if (tid == 0) {
        usleep(1000);
        continue;
      }
      if (tid < 0) {
        ADD_FAILURE() << "waitpid: " << strerror(errno);
        return false;
      }
      if (!WIFSTOPPED(status)) {
        if (tid == pid_) {
          ADD_FAILURE() << "target ended before stopping, status " << status;
          pid_ = 0;
          return false;
        }
        continue;
      }
      const int sig = WSTOPSIG(status);
      if (status >> 16 != 0) {
        // exec or clone event stop.
        ptrace(PTRACE_CONT, tid, nullptr, nullptr);
      } else if (sig == stop_signal && (sig != SIGSTOP || tid == pid_)) {
        tid_ = tid;
        break;
      } else {
        // New threads start with a SIGSTOP of their own: swallow it; pass
        // anything else on.
        ptrace(PTRACE_CONT, tid, nullptr, reinterpret_cast<void*>(sig == SIGSTOP ? 0L : sig));
      }
    }
    if (ptrace(PTRACE_GETREGS, tid_, nullptr, &regs_) != 0) {
      ADD_FAILURE() << "PTRACE_GETREGS: " << strerror(errno);
      return false;
    }
    ReadOutput();
    return true;
  }

  // Everything was printed and flushed before the stop.
  void ReadOutput() {
    fcntl(out_fd_, F_SETFL, O_NONBLOCK);
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = read(out_fd_, buf, sizeof(buf))) > 0) text.append(buf, n);
    for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
      std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
      long value;
      if (absl::SimpleAtoi(kv.second, &value)) values_[kv.first] = value;
    }
  }

  pid_t pid_ = 0;
  pid_t tid_ = 0;
  int out_fd_ = -1;
  user_regs_struct regs_{};
  std::map<std::string, long> values_;
};

std::unique_ptr<Symbolizer> MakeSymbolizer(pid_t pid) {
  absl::StatusOr<std::unique_ptr<Symbolizer>> s = Symbolizer::Create(pid);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

std::string Describe(const std::vector<Frame>& frames) {
  std::string text;
  for (size_t i = 0; i < frames.size(); ++i) {
    text += "#" + std::to_string(i) + " " + FormatFrameLocation(frames[i]) + " [" +
            frames[i].module + "]\n";
  }
  return text;
}

// Index of the first frame named `function`, or -1.
int FindFrame(const std::vector<Frame>& frames, const std::string& function) {
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].function == function) return i;
  }
  return -1;
}

// Checks that `frames` holds, consecutively from Inner() outwards, the
// target's calls `functions` at the printed `line_names`, in `exe`.
void ExpectCallChain(const std::vector<Frame>& frames, const StoppedTarget& target,
                     const std::vector<std::string>& functions,
                     const std::vector<std::string>& line_names) {
  SCOPED_TRACE(Describe(frames));
  const int first = FindFrame(frames, functions[0]);
  ASSERT_GE(first, 0) << functions[0] << " missing";
  ASSERT_LE(first + functions.size(), frames.size()) << functions.back() << " missing";
  const std::string exe = target.ExePath();
  for (size_t i = 0; i < functions.size(); ++i) {
    const Frame& f = frames[first + i];
    EXPECT_EQ(f.function, functions[i]);
    EXPECT_EQ(Basename(f.file), "symbolize_target.cc") << f.function;
    EXPECT_EQ(f.line, target.Value(line_names[i])) << f.function;
    EXPECT_EQ(f.module, exe) << f.function;
    EXPECT_GT(f.offset, 0u) << f.function;
  }
}

bool IsLibc(const std::string& module) { return absl::StartsWith(Basename(module), "libc.so"); }

TEST(SymbolizeTest, SymbolizesStoppedPcInLibc) {
  auto target = StoppedTarget::Start("", SIGSTOP);
  ASSERT_NE(target, nullptr);
  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  Frame f = symbolizer->Symbolize(target->regs().rip);
  EXPECT_EQ(f.pc, target->regs().rip);
  // Stopped on return from the kill syscall, inside libc's kill().
  EXPECT_EQ(f.function, "kill");
  EXPECT_TRUE(IsLibc(f.module)) << f.module;
  EXPECT_THAT(FormatFrameLocation(f), StartsWith("in kill+0x"));
  // libc's lines are not looked up by default (SymbolizerOptions).
  EXPECT_THAT(FormatFrameLocation(f), HasSubstr("libc.so"));
  EXPECT_EQ(f.file, "");
}

TEST(SymbolizeTest, BacktraceHasCallersWithSourceLines) {
  auto target = StoppedTarget::Start("", SIGSTOP);
  ASSERT_NE(target, nullptr);
  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  absl::StatusOr<std::vector<Frame>> frames =
      symbolizer->Backtrace(target->tid(), target->regs());
  ASSERT_TRUE(frames.ok()) << frames.status();
  SCOPED_TRACE(Describe(*frames));
  ASSERT_GE(frames->size(), 5u);
  EXPECT_EQ((*frames)[0].pc, target->regs().rip);
  EXPECT_EQ((*frames)[0].function, "kill");
  EXPECT_TRUE(IsLibc((*frames)[0].module));
  EXPECT_EQ((*frames)[1].function, "Inner()");
  ExpectCallChain(*frames, *target, {"Inner()", "Middle()", "Outer()", "main"},
                  {"inner_line", "middle_line", "outer_line", "main_line"});
  // main's caller is libc's startup code.
  const int main_at = FindFrame(*frames, "main");
  ASSERT_LT(main_at + 1, static_cast<int>(frames->size()));
  EXPECT_TRUE(IsLibc((*frames)[main_at + 1].module));
  // Only CFI unwinding (libdwfl, not the frame-pointer fallback) gets through
  // libc's startup code, built without frame pointers, to _start.
  EXPECT_GT(FindFrame(*frames, "_start"), main_at);
}

// A copy of symbolize_target at `path`, executable.
void CopyTarget(const std::string& path) {
  std::ifstream in(TargetPath(), std::ios::binary);
  const std::string image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(image.empty());
  dptest::WriteTestFile(path, image);
  ASSERT_EQ(chmod(path.c_str(), 0755), 0) << strerror(errno);
}

void ExpectSymbolizedCallChain(const StoppedTarget& target) {
  auto symbolizer = MakeSymbolizer(target.pid());
  ASSERT_NE(symbolizer, nullptr);
  absl::StatusOr<std::vector<Frame>> frames = symbolizer->Backtrace(target.tid(), target.regs());
  ASSERT_TRUE(frames.ok()) << frames.status();
  ExpectCallChain(*frames, target, {"Inner()", "Middle()", "Outer()", "main"},
                  {"inner_line", "middle_line", "outer_line", "main_line"});
}

TEST(SymbolizeTest, ExecutableWithANewlineInItsPath) {
  // /proc/PID/maps shows the newline as "\012": the module's file is found
  // by the decoded path, and reported by it.
  const std::string path = dptest::MakeTestDir("newline") + "/symbolize\ntarget";
  CopyTarget(path);
  auto target = StoppedTarget::Start("", SIGSTOP, path);
  ASSERT_NE(target, nullptr);
  ASSERT_EQ(target->ExePath(), path);
  ExpectSymbolizedCallChain(*target);
}

TEST(SymbolizeTest, ExecutableDeletedAfterStart) {
  // maps says "PATH (deleted)" and PATH is gone: the file is read through
  // /proc/PID/exe.
  const std::string path = dptest::MakeTestDir("deleted") + "/symbolize_target";
  CopyTarget(path);
  auto target = StoppedTarget::Start("", SIGSTOP, path);
  ASSERT_NE(target, nullptr);
  ASSERT_EQ(unlink(path.c_str()), 0) << strerror(errno);
  ASSERT_EQ(target->ExePath(), path + " (deleted)");
  ExpectSymbolizedCallChain(*target);
}

TEST(SymbolizeTest, TargetIsPieAndSymbolsAreRelocated) {
  auto target = StoppedTarget::Start("", SIGSTOP);
  ASSERT_NE(target, nullptr);
  Elf64_Ehdr header{};
  FILE* f = fopen(target->ExePath().c_str(), "rb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(fread(&header, sizeof(header), 1, f), 1u);
  fclose(f);
  EXPECT_EQ(header.e_type, ET_DYN) << "symbolize_target should be a PIE";

  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  const uint64_t inner = target->Value("inner_addr");
  Frame entry = symbolizer->Symbolize(inner);
  EXPECT_EQ(entry.function, "Inner()");
  EXPECT_EQ(entry.offset, 0u);
  EXPECT_EQ(entry.module, target->ExePath());
  EXPECT_EQ(Basename(entry.file), "symbolize_target.cc");
  Frame later = symbolizer->Symbolize(inner + 4);
  EXPECT_EQ(later.function, "Inner()");
  EXPECT_EQ(later.offset, 4u);
  EXPECT_THAT(FormatFrameLocation(later), StartsWith("in Inner()+0x4 at "));
  EXPECT_THAT(FormatFrameLocation(later), HasSubstr("symbolize_target.cc:"));
}

TEST(SymbolizeTest, UnmappedAddressIsUnknown) {
  auto target = StoppedTarget::Start("", SIGSTOP);
  ASSERT_NE(target, nullptr);
  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  for (uint64_t addr : {0x10ull, 0xdead0000ull, 0x7ffffffff000ull}) {
    Frame f = symbolizer->Symbolize(addr);
    EXPECT_EQ(f.pc, addr);
    EXPECT_EQ(f.function, "");
    EXPECT_EQ(f.module, "");
    EXPECT_EQ(FormatFrameLocation(f), "in ??");
  }
}

TEST(SymbolizeTest, VdsoIsNamedVdso) {
  auto target = StoppedTarget::Start("", SIGSTOP);
  ASSERT_NE(target, nullptr);
  uint64_t start = 0, end = 0;
  FILE* maps = fopen(("/proc/" + std::to_string(target->pid()) + "/maps").c_str(), "r");
  ASSERT_NE(maps, nullptr);
  char line[512];
  while (fgets(line, sizeof(line), maps) != nullptr) {
    if (strstr(line, "[vdso]") != nullptr) sscanf(line, "%lx-%lx", &start, &end);
  }
  fclose(maps);
  ASSERT_NE(start, 0u) << "no [vdso] mapping";
  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  // Its functions (clock_gettime & co.) sit somewhere past the ELF headers.
  std::string named;
  for (uint64_t addr = start; addr < end && named.empty(); addr += 16) {
    Frame f = symbolizer->Symbolize(addr);
    ASSERT_EQ(f.module, "[vdso]") << std::hex << addr;
    named = f.function;
  }
  EXPECT_NE(named, "") << "no vDSO symbol found";
}

TEST(SymbolizeTest, MaxFramesLimitsBacktrace) {
  auto target = StoppedTarget::Start("", SIGSTOP);
  ASSERT_NE(target, nullptr);
  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  for (int max : {1, 3}) {
    absl::StatusOr<std::vector<Frame>> frames =
        symbolizer->Backtrace(target->tid(), target->regs(), max);
    ASSERT_TRUE(frames.ok()) << frames.status();
    EXPECT_EQ(frames->size(), static_cast<size_t>(max));
  }
  absl::StatusOr<std::vector<Frame>> none = symbolizer->Backtrace(target->tid(), target->regs(), 0);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(SymbolizeTest, FramePointerFallbackFindsSameCallers) {
  auto target = StoppedTarget::Start("", SIGSTOP);
  ASSERT_NE(target, nullptr);
  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  absl::StatusOr<std::vector<Frame>> frames =
      symbolizer->FramePointerBacktrace(target->tid(), target->regs());
  ASSERT_TRUE(frames.ok()) << frames.status();
  SCOPED_TRACE(Describe(*frames));
  ASSERT_GE(frames->size(), 5u);
  EXPECT_EQ((*frames)[0].pc, target->regs().rip);
  EXPECT_EQ((*frames)[0].function, "kill");
  // libc's kill() keeps no frame: its return address comes from the stack
  // top, the rest from the rbp chain.
  EXPECT_EQ((*frames)[1].function, "Inner()");
  ExpectCallChain(*frames, *target, {"Inner()", "Middle()", "Outer()", "main"},
                  {"inner_line", "middle_line", "outer_line", "main_line"});
}

TEST(SymbolizeTest, RefreshKeepsWorking) {
  auto target = StoppedTarget::Start("", SIGSTOP);
  ASSERT_NE(target, nullptr);
  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  absl::StatusOr<std::vector<Frame>> before = symbolizer->Backtrace(target->tid(), target->regs());
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_TRUE(symbolizer->Refresh().ok());
  absl::StatusOr<std::vector<Frame>> after = symbolizer->Backtrace(target->tid(), target->regs());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(Describe(*before), Describe(*after));
}

// One session answers repeated lookups, the same each time.
TEST(ResolveCodeLocationTest, OneSessionResolvesTwice) {
  auto target = StoppedTarget::Start("", SIGSTOP);
  ASSERT_NE(target, nullptr);
  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  absl::StatusOr<CodeLocation> inner = ParseCodeLocation("Inner");
  ASSERT_TRUE(inner.ok()) << inner.status();
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<uint64_t> address = symbolizer->ResolveCodeLocation(*inner);
    ASSERT_TRUE(address.ok()) << address.status();
    EXPECT_EQ(*address, static_cast<uint64_t>(target->Value("inner_addr"))) << i;
  }
  absl::StatusOr<CodeLocation> missing = ParseCodeLocation("NoSuchFunction");
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(symbolizer->ResolveCodeLocation(*missing).status()));
  // The one-shot form gives the same answer.
  absl::StatusOr<uint64_t> one_shot = ResolveCodeLocation(target->pid(), *inner);
  ASSERT_TRUE(one_shot.ok()) << one_shot.status();
  EXPECT_EQ(*one_shot, static_cast<uint64_t>(target->Value("inner_addr")));
}

// A library dlopen'ed between two lookups of one session is found by the
// second: the session re-reads the modules when a file was mapped.
TEST(ResolveCodeLocationTest, FindsALibraryLoadedSinceTheLastLookup) {
  auto target = StoppedTarget::Start("dlopen:" + PluginPath(), SIGSTOP);
  ASSERT_NE(target, nullptr);
  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  absl::StatusOr<CodeLocation> plugin = ParseCodeLocation("libdp_plugin:PluginViolate");
  ASSERT_TRUE(plugin.ok()) << plugin.status();
  absl::StatusOr<uint64_t> before = symbolizer->ResolveCodeLocation(*plugin);
  EXPECT_TRUE(absl::IsNotFound(before.status())) << before.status();

  ASSERT_TRUE(target->ContinueToNextStop(SIGSTOP));
  ASSERT_GT(target->Value("plugin_addr"), 0);
  absl::StatusOr<uint64_t> after = symbolizer->ResolveCodeLocation(*plugin);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, static_cast<uint64_t>(target->Value("plugin_addr")));
}

// A process that is gone is an error, not "not loaded yet" (NotFound would
// keep a --enter-at pending forever).
TEST(ResolveCodeLocationTest, GoneProcessIsNotNotFound) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
  absl::StatusOr<CodeLocation> inner = ParseCodeLocation("Inner");
  ASSERT_TRUE(inner.ok());
  absl::StatusOr<uint64_t> address = ResolveCodeLocation(pid, *inner);
  EXPECT_FALSE(address.ok());
  EXPECT_FALSE(absl::IsNotFound(address.status())) << address.status();
}

TEST(SymbolizeTest, OnlyTheStoppedThreadOfABusyProcess) {
  auto target = StoppedTarget::Start("threads", SIGUSR1);
  ASSERT_NE(target, nullptr);
  EXPECT_EQ(target->tid(), target->Value("worker_tid"));
  EXPECT_NE(target->tid(), target->pid());
  const uint64_t spins_addr = target->Value("spins_addr");
  const uint64_t spins_before = target->ReadU64(spins_addr);

  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  absl::StatusOr<std::vector<Frame>> frames =
      symbolizer->Backtrace(target->tid(), target->regs());
  ASSERT_TRUE(frames.ok()) << frames.status();
  SCOPED_TRACE(Describe(*frames));
  EXPECT_EQ((*frames)[0].pc, target->regs().rip);
  // tgkill through libc's syscall().
  EXPECT_EQ((*frames)[0].function, "syscall");
  EXPECT_TRUE(IsLibc((*frames)[0].module));
  EXPECT_EQ((*frames)[1].function, "Inner()");
  ExpectCallChain(*frames, *target, {"Inner()", "Middle()", "Outer()", "Worker(void*)"},
                  {"inner_line", "middle_line", "outer_line", "worker_line"});
  // Below Worker: libc's thread start, not main.
  EXPECT_GT(FindFrame(*frames, "start_thread"), FindFrame(*frames, "Worker(void*)"));
  EXPECT_EQ(FindFrame(*frames, "main"), -1);

  absl::StatusOr<std::vector<Frame>> fp_frames =
      symbolizer->FramePointerBacktrace(target->tid(), target->regs());
  ASSERT_TRUE(fp_frames.ok()) << fp_frames.status();
  ExpectCallChain(*fp_frames, *target, {"Inner()", "Middle()", "Outer()", "Worker(void*)"},
                  {"inner_line", "middle_line", "outer_line", "worker_line"});

  // The other threads kept running throughout: their counter moves while
  // the worker stays stopped (polled, with a deadline, not a fixed sleep).
  const double deadline = NowSeconds() + 20;
  while (target->ReadU64(spins_addr) == spins_before && NowSeconds() < deadline) usleep(1000);
  EXPECT_GT(target->ReadU64(spins_addr), spins_before);
}

// The stop is in InlineStop(), inlined into InlineMiddle(), inlined into
// InlineCaller(): one physical frame, three frames in the backtrace. Inline
// frames are named like symbols: InlineStop() has a linkage name in the
// debug info, InlineMiddle(), with internal linkage, has none.
TEST(SymbolizeTest, BacktraceExpandsInlinedCalls) {
  auto target = StoppedTarget::Start("inline", SIGSTOP);
  ASSERT_NE(target, nullptr);
  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  absl::StatusOr<std::vector<Frame>> frames =
      symbolizer->Backtrace(target->tid(), target->regs());
  ASSERT_TRUE(frames.ok()) << frames.status();
  SCOPED_TRACE(Describe(*frames));
  ASSERT_GE(frames->size(), 4u);
  const uint64_t rip = target->regs().rip;
  const std::string exe = target->ExePath();
  const std::vector<std::string> functions = {
      "InlineStop() [inlined]",
      "(anonymous namespace)::InlineMiddle(char const*, unsigned long) [inlined]",
      "InlineCaller()", "main"};
  const std::vector<std::string> lines = {"inline_stop_line", "inline_middle_line",
                                          "inline_caller_line", "main_line"};
  for (size_t i = 0; i < functions.size(); ++i) {
    const Frame& f = (*frames)[i];
    EXPECT_EQ(f.function, functions[i]) << i;
    EXPECT_EQ(Basename(f.file), "symbolize_target.cc") << f.function;
    EXPECT_EQ(f.line, target->Value(lines[i])) << f.function;
    EXPECT_EQ(f.module, exe) << f.function;
  }
  // The inline frames and the function they are in share the pc.
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ((*frames)[i].pc, rip) << i;
  EXPECT_EQ((*frames)[0].offset, 0u);
  EXPECT_EQ((*frames)[1].offset, 0u);
  EXPECT_GT((*frames)[2].offset, 0u);
  EXPECT_NE((*frames)[3].pc, rip);
  EXPECT_THAT(FormatFrameLocation((*frames)[0]),
              StartsWith("in InlineStop() [inlined] at " + (*frames)[0].file + ":"));

  // Symbolize does not expand: the symbol holding the code, at the pc's line.
  Frame single = symbolizer->Symbolize(rip);
  EXPECT_EQ(single.function, "InlineCaller()");
  EXPECT_EQ(single.line, target->Value("inline_stop_line"));

  // Inline frames count against max_frames.
  for (int max : {1, 2, 3}) {
    absl::StatusOr<std::vector<Frame>> limited =
        symbolizer->Backtrace(target->tid(), target->regs(), max);
    ASSERT_TRUE(limited.ok()) << limited.status();
    ASSERT_EQ(limited->size(), static_cast<size_t>(max));
    EXPECT_EQ(Describe(*limited), Describe({frames->begin(), frames->begin() + max}));
  }

  // The frame-pointer unwinder's frames are expanded the same way.
  absl::StatusOr<std::vector<Frame>> fp_frames =
      symbolizer->FramePointerBacktrace(target->tid(), target->regs());
  ASSERT_TRUE(fp_frames.ok()) << fp_frames.status();
  ASSERT_GE(fp_frames->size(), functions.size());
  EXPECT_EQ(Describe({fp_frames->begin(), fp_frames->begin() + functions.size()}),
            Describe({frames->begin(), frames->begin() + functions.size()}));
}

// A caller frame (a return address, looked up at pc - 1) in inlined code.
TEST(SymbolizeTest, BacktraceExpandsInlinedCallsInCallers) {
  auto target = StoppedTarget::Start("inline_call", SIGSTOP);
  ASSERT_NE(target, nullptr);
  auto symbolizer = MakeSymbolizer(target->pid());
  ASSERT_NE(symbolizer, nullptr);
  absl::StatusOr<std::vector<Frame>> frames =
      symbolizer->Backtrace(target->tid(), target->regs());
  ASSERT_TRUE(frames.ok()) << frames.status();
  SCOPED_TRACE(Describe(*frames));
  ASSERT_GE(frames->size(), 5u);
  EXPECT_EQ((*frames)[0].pc, target->regs().rip);
  EXPECT_EQ((*frames)[0].function, "kill");
  EXPECT_TRUE(IsLibc((*frames)[0].module));
  const std::vector<std::string> functions = {
      "InlineStop() [inlined]",
      "(anonymous namespace)::InlineMiddle(char const*, unsigned long) [inlined]",
      "InlineCaller()", "main"};
  const std::vector<std::string> lines = {"inline_stop_line", "inline_middle_line",
                                          "inline_caller_line", "main_line"};
  for (size_t i = 0; i < functions.size(); ++i) {
    const Frame& f = (*frames)[1 + i];
    EXPECT_EQ(f.function, functions[i]) << i;
    EXPECT_EQ(Basename(f.file), "symbolize_target.cc") << f.function;
    EXPECT_EQ(f.line, target->Value(lines[i])) << f.function;
  }
  // All three hold the return address into InlineCaller().
  EXPECT_EQ((*frames)[1].pc, (*frames)[3].pc);
  EXPECT_EQ((*frames)[2].pc, (*frames)[3].pc);
  EXPECT_EQ(symbolizer->Symbolize((*frames)[3].pc - 1).function, "InlineCaller()");
}

// With and without inline frames to expand.
TEST(SymbolizeTest, CreateAndBacktraceAreFast) {
  for (const std::string mode : {"", "inline"}) {
    SCOPED_TRACE("mode " + mode);
    auto target = StoppedTarget::Start(mode, SIGSTOP);
    ASSERT_NE(target, nullptr);
    std::vector<double> ms;
    for (int i = 0; i < 5; ++i) {
      const double start = NowSeconds();
      auto symbolizer = MakeSymbolizer(target->pid());
      ASSERT_NE(symbolizer, nullptr);
      absl::StatusOr<std::vector<Frame>> frames =
          symbolizer->Backtrace(target->tid(), target->regs());
      ASSERT_TRUE(frames.ok()) << frames.status();
      ms.push_back((NowSeconds() - start) * 1000);
      ASSERT_NE(FindFrame(*frames, "main"), -1);
    }
    double best = ms[0];
    for (double m : ms) best = std::min(best, m);
    const std::string name = mode.empty() ? "plain" : mode;
    printf("Create+Backtrace (%s): first %.2f ms, best of %zu %.2f ms\n", name.c_str(), ms[0],
           ms.size(), best);
    RecordProperty("create_backtrace_" + name + "_first_us", static_cast<int>(ms[0] * 1000));
    RecordProperty("create_backtrace_" + name + "_best_us", static_cast<int>(best * 1000));
    // The budget is 20 ms; the best of several runs keeps a loaded machine
    // from failing this.
    EXPECT_LT(best, 20.0);
  }
}

TEST(SymbolizeTest, SeparateDebugLinesOption) {
  auto target = StoppedTarget::Start("", SIGSTOP);
  ASSERT_NE(target, nullptr);
  SymbolizerOptions options;
  options.separate_debug_lines = true;
  const double start = NowSeconds();
  absl::StatusOr<std::unique_ptr<Symbolizer>> symbolizer =
      Symbolizer::Create(target->pid(), options);
  ASSERT_TRUE(symbolizer.ok()) << symbolizer.status();
  absl::StatusOr<std::vector<Frame>> frames =
      (*symbolizer)->Backtrace(target->tid(), target->regs());
  ASSERT_TRUE(frames.ok()) << frames.status();
  printf("with separate_debug_lines: Create+Backtrace %.2f ms, libc frame: %s\n",
         (NowSeconds() - start) * 1000, FormatFrameLocation((*frames)[0]).c_str());
  // Whether libc's lines show depends on libc6-dbg being installed; the
  // application's frames must be unaffected.
  EXPECT_EQ((*frames)[0].function, "kill");
  ExpectCallChain(*frames, *target, {"Inner()", "Middle()", "Outer()", "main"},
                  {"inner_line", "middle_line", "outer_line", "main_line"});
}

TEST(SymbolizeTest, CreateFailsForMissingProcess) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
  EXPECT_FALSE(Symbolizer::Create(pid).ok());
}

}  // namespace
}  // namespace dpsupervise
