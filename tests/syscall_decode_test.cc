#include "supervisor/syscalls/syscall_decode.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "supervisor/syscalls/syscall_flags.h"
#include "supervisor/syscalls/syscall_names.h"

namespace dpsupervise {
namespace {

constexpr uint64_t kNrRead = 0;
constexpr uint64_t kNrWrite = 1;
constexpr uint64_t kNrClose = 3;
constexpr uint64_t kNrLseek = 8;
constexpr uint64_t kNrMmap = 9;
constexpr uint64_t kNrRtSigaction = 13;
constexpr uint64_t kNrGetpid = 39;
constexpr uint64_t kNrKill = 62;
constexpr uint64_t kNrMkdir = 83;
constexpr uint64_t kNrOpenat = 257;
constexpr uint64_t kNrTgkill = 234;

// Highest number the consistency tests probe; past the end of the table on
// purpose, so numbers libseccomp may learn later are covered too.
constexpr uint64_t kProbeLimit = 470;

// A sparse fake of tracee memory: reads succeed only inside added regions and
// stop at a region's end, like a read that runs into an unmapped page.
class FakeMemory {
 public:
  void Add(uint64_t addr, std::string bytes) { regions_[addr] = std::move(bytes); }

  MemoryReader Reader() const {
    return [this](uint64_t addr, size_t max) -> std::optional<std::string> {
      for (const auto& [start, bytes] : regions_) {
        if (addr >= start && addr < start + bytes.size()) return bytes.substr(addr - start, max);
      }
      return std::nullopt;
    };
  }

 private:
  std::map<uint64_t, std::string> regions_;
};

std::string Call(uint64_t nr, const std::array<uint64_t, 6>& args, const FakeMemory& memory) {
  const SyscallSignature* sig = FindX86_64Signature(nr);
  std::string name = sig != nullptr ? sig->name : UnknownSyscallName(nr);
  return FormatSyscallCall(name, DecodeSyscallArgs(nr, args, memory.Reader()));
}

std::string Call(uint64_t nr, const std::array<uint64_t, 6>& args) {
  return Call(nr, args, FakeMemory());
}

TEST(SyscallDecodeTest, WriteShowsBufferContents) {
  FakeMemory memory;
  memory.Add(0x1000, "hello\n");
  EXPECT_EQ(Call(kNrWrite, {1, 0x1000, 6, 0, 0, 0}, memory), R"(write(1, "hello\n", 6))");
}

TEST(SyscallDecodeTest, WriteArgumentsCarryNamesKindsAndRawValues) {
  FakeMemory memory;
  memory.Add(0x1000, "hi");
  std::vector<DecodedArg> args =
      DecodeSyscallArgs(kNrWrite, {2, 0x1000, 2, 0xdead, 0xbeef, 0}, memory.Reader());
  ASSERT_EQ(args.size(), 3u);  // registers past the arity are not shown
  EXPECT_EQ(args[0].name, "fd");
  EXPECT_EQ(args[0].kind, "fd");
  EXPECT_EQ(args[1].name, "buf");
  EXPECT_EQ(args[1].kind, "buffer");
  EXPECT_EQ(args[1].raw, 0x1000u);
  EXPECT_EQ(args[1].text, R"("hi")");
  EXPECT_EQ(args[2].name, "count");
  EXPECT_EQ(args[2].kind, "uint");
}

TEST(SyscallDecodeTest, LongBufferIsTruncatedAfter32Bytes) {
  FakeMemory memory;
  memory.Add(0x1000, std::string(100, 'a'));
  EXPECT_EQ(Call(kNrWrite, {1, 0x1000, 100, 0, 0, 0}, memory),
            "write(1, \"" + std::string(32, 'a') + "\"..., 100)");
}

TEST(SyscallDecodeTest, BufferOf32BytesIsShownWhole) {
  FakeMemory memory;
  memory.Add(0x1000, std::string(32, 'b'));
  EXPECT_EQ(Call(kNrWrite, {1, 0x1000, 32, 0, 0, 0}, memory),
            "write(1, \"" + std::string(32, 'b') + "\", 32)");
}

TEST(SyscallDecodeTest, PartiallyReadableBufferShowsWhatWasReadAndEllipsis) {
  FakeMemory memory;
  memory.Add(0x1000, "abc");  // the rest of the 10 bytes is unmapped
  EXPECT_EQ(Call(kNrWrite, {1, 0x1000, 10, 0, 0, 0}, memory), R"(write(1, "abc"..., 10))");
}

TEST(SyscallDecodeTest, ZeroLengthBufferIsEmptyString) {
  FakeMemory memory;
  memory.Add(0x1000, "unused");
  EXPECT_EQ(Call(kNrWrite, {1, 0x1000, 0, 0, 0, 0}, memory), R"(write(1, "", 0))");
}

TEST(SyscallDecodeTest, UnreadablePointerFallsBackToHex) {
  EXPECT_EQ(Call(kNrWrite, {1, 0x7ffd1234, 5, 0, 0, 0}), "write(1, 0x7ffd1234, 5)");
  EXPECT_EQ(Call(kNrOpenat, {3, 0xdead0000, 0, 0, 0, 0}), "openat(3, 0xdead0000, O_RDONLY)");
}

TEST(SyscallDecodeTest, MissingReaderFallsBackToHex) {
  std::vector<DecodedArg> args = DecodeSyscallArgs(kNrWrite, {1, 0x1000, 4, 0, 0, 0}, nullptr);
  EXPECT_EQ(FormatSyscallCall("write", args), "write(1, 0x1000, 4)");
}

TEST(SyscallDecodeTest, OpenatRendersAtFdcwdPathFlagsAndMode) {
  FakeMemory memory;
  memory.Add(0x2000, std::string("/etc/passwd\0garbage", 19));
  const uint64_t at_fdcwd = static_cast<uint64_t>(-100);
  // Without O_CREAT or O_TMPFILE the kernel ignores the mode: strace leaves
  // it out, and so does the decoder.
  EXPECT_EQ(Call(kNrOpenat, {at_fdcwd, 0x2000, 0x80000, 0, 0, 0}, memory),
            R"(openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC))");
  // glibc may pass AT_FDCWD zero-extended; the kernel reads it as an int.
  EXPECT_EQ(Call(kNrOpenat, {0xffffff9c, 0x2000, 0x241, 0644, 0, 0}, memory),
            R"(openat(AT_FDCWD, "/etc/passwd", O_WRONLY|O_CREAT|O_TRUNC, 0644))");
}

TEST(SyscallDecodeTest, LongStringIsTruncatedAfter64Bytes) {
  FakeMemory memory;
  memory.Add(0x2000, std::string(100, 'p') + '\0');
  EXPECT_EQ(Call(kNrMkdir, {0x2000, 0755, 0, 0, 0, 0}, memory),
            "mkdir(\"" + std::string(64, 'p') + "\"..., 0755)");
}

TEST(SyscallDecodeTest, StringOfExactly64BytesIsNotMarkedTruncated) {
  FakeMemory memory;
  memory.Add(0x2000, std::string(64, 'q') + '\0');
  EXPECT_EQ(Call(kNrMkdir, {0x2000, 0700, 0, 0, 0, 0}, memory),
            "mkdir(\"" + std::string(64, 'q') + "\", 0700)");
}

TEST(SyscallDecodeTest, UnterminatedStringInReadableMemoryIsMarkedTruncated) {
  FakeMemory memory;
  memory.Add(0x2000, "/tm");  // memory ends before the NUL
  EXPECT_EQ(Call(kNrMkdir, {0x2000, 0, 0, 0, 0, 0}, memory), R"(mkdir("/tm"..., 000))");
}

TEST(SyscallDecodeTest, GetpidHasNoArguments) {
  EXPECT_EQ(Call(kNrGetpid, {1, 2, 3, 4, 5, 6}), "getpid()");
  EXPECT_TRUE(DecodeSyscallArgs(kNrGetpid, {}, nullptr).empty());
}

TEST(SyscallDecodeTest, KillRendersSignalByName) {
  EXPECT_EQ(Call(kNrKill, {1234, 15, 0, 0, 0, 0}), "kill(1234, SIGTERM)");
  EXPECT_EQ(Call(kNrKill, {1, 0, 0, 0, 0, 0}), "kill(1, 0)");  // existence probe
  EXPECT_EQ(Call(kNrKill, {static_cast<uint64_t>(-1), 9, 0, 0, 0, 0}), "kill(-1, SIGKILL)");
  EXPECT_EQ(Call(kNrTgkill, {10, 11, 6, 0, 0, 0}), "tgkill(10, 11, SIGABRT)");
  EXPECT_EQ(Call(kNrRtSigaction, {2, 0x3000, 0, 8, 0, 0}), "rt_sigaction(SIGINT, 0x3000, NULL, 8)");
}

// Real-time signals are named as the program numbers them (signal_names.h):
// the kernel's 32 and 33 are glibc's own, its SIGRTMIN is 34.
TEST(SyscallDecodeTest, KillRendersRealTimeSignalsAsTheProgramNamesThem) {
  EXPECT_EQ(Call(kNrKill, {1234, 34, 0, 0, 0, 0}), "kill(1234, SIGRTMIN)");
  EXPECT_EQ(Call(kNrKill, {1234, 36, 0, 0, 0, 0}), "kill(1234, SIGRTMIN+2)");
  EXPECT_EQ(Call(kNrKill, {1234, 32, 0, 0, 0, 0}), "kill(1234, SIG32)");
  EXPECT_EQ(Call(kNrKill, {1234, 65, 0, 0, 0, 0}), "kill(1234, 65)");
}

TEST(SyscallDecodeTest, NullPointersRenderAsNull) {
  EXPECT_EQ(Call(kNrWrite, {1, 0, 0, 0, 0, 0}), "write(1, NULL, 0)");
  EXPECT_EQ(Call(35, {0, 0, 0, 0, 0, 0}), "nanosleep(NULL, NULL)");
  EXPECT_EQ(Call(kNrOpenat, {3, 0, 0, 0, 0, 0}), "openat(3, NULL, O_RDONLY)");
}

TEST(SyscallDecodeTest, UnknownSyscallShowsSixHexArgs) {
  std::vector<DecodedArg> args =
      DecodeSyscallArgs(999, {0, 1, 0xff, 0x7ffd0000, static_cast<uint64_t>(-1), 42}, nullptr);
  ASSERT_EQ(args.size(), 6u);
  for (size_t i = 0; i < args.size(); ++i) {
    EXPECT_EQ(args[i].name, "arg" + std::to_string(i));
    EXPECT_EQ(args[i].kind, "hex");
  }
  EXPECT_EQ(FormatSyscallCall("syscall_0x3e7", args),
            "syscall_0x3e7(0, 0x1, 0xff, 0x7ffd0000, 0xffffffffffffffff, 0x2a)");
  EXPECT_EQ(FindX86_64Signature(999), nullptr);
  EXPECT_EQ(FindX86_64Signature(400), nullptr);  // inside the 337..423 hole
  EXPECT_EQ(FindX86_64Signature(UINT64_MAX), nullptr);
}

// As do_syscall_64() dispatches: x32 only for __X32_SYSCALL_BIT plus a
// number within the x32 table; -1 (no syscall) and every other number with
// the bit are x86-64 numbers the kernel answers with ENOSYS.
TEST(SyscallAbiTest, ClassifiesAsTheKernelDispatches) {
  EXPECT_EQ(ClassifyAbi(AUDIT_ARCH_X86_64, kNrGetpid), SyscallAbi::kX86_64);
  EXPECT_EQ(ClassifyAbi(AUDIT_ARCH_X86_64, 0x40000000 | kNrGetpid), SyscallAbi::kX32);
  EXPECT_EQ(ClassifyAbi(AUDIT_ARCH_X86_64, 0x40000000 + 512), SyscallAbi::kX32);  // rt_sigaction
  EXPECT_EQ(ClassifyAbi(AUDIT_ARCH_X86_64, 0x40000000 + 547), SyscallAbi::kX32);  // pwritev2
  EXPECT_EQ(ClassifyAbi(AUDIT_ARCH_X86_64, 0x40000000 + 548), SyscallAbi::kX86_64);
  EXPECT_EQ(ClassifyAbi(AUDIT_ARCH_X86_64, UINT64_MAX), SyscallAbi::kX86_64);  // syscall(-1)
  EXPECT_EQ(ClassifyAbi(AUDIT_ARCH_X86_64, 0xffffffff), SyscallAbi::kX86_64);
  EXPECT_EQ(ClassifyAbi(AUDIT_ARCH_X86_64, 0x7fffffff), SyscallAbi::kX86_64);
  EXPECT_EQ(ClassifyAbi(AUDIT_ARCH_I386, 20), SyscallAbi::kI386);
  EXPECT_EQ(ClassifyAbi(0, 20), SyscallAbi::kUnknown);
}

// strace's spelling for numbers no table names: syscall_0x<hex>.
TEST(SyscallAbiTest, UnknownNumbersAreNamedInHexAsStraceDoes) {
  EXPECT_EQ(SyscallName(SyscallAbi::kX86_64, UINT64_MAX), "syscall_0xffffffffffffffff");
  EXPECT_EQ(SyscallName(SyscallAbi::kX86_64, 999), "syscall_0x3e7");
  EXPECT_EQ(SyscallName(SyscallAbi::kX86_64, 0x40000000 + 548), "syscall_0x40000224");
  EXPECT_EQ(SyscallName(SyscallAbi::kUnknown, 1), "syscall_0x1");
  EXPECT_EQ(SyscallName(SyscallAbi::kX86_64, kNrGetpid), "getpid");
  EXPECT_EQ(SyscallName(SyscallAbi::kX32, 0x40000000 | kNrGetpid), "getpid");
  EXPECT_EQ(SyscallName(SyscallAbi::kI386, 20), "getpid");
}

// Foreign calls show as many raw arguments as the call takes.
TEST(ForeignArgsTest, CountsFollowTheCall) {
  const bool kX86_32 = true, kX32 = false;
  EXPECT_EQ(ForeignArgCount(kX86_32, "getpid"), 0);
  EXPECT_EQ(ForeignArgCount(kX86_32, "write"), 3);
  EXPECT_EQ(ForeignArgCount(kX86_32, "openat"), 4);
  // A 64-bit value in two registers, or one pointer to an argument block.
  EXPECT_EQ(ForeignArgCount(kX86_32, "pread64"), 5);
  EXPECT_EQ(ForeignArgCount(kX32, "pread64"), 4);
  EXPECT_EQ(ForeignArgCount(kX86_32, "fallocate"), 6);
  EXPECT_EQ(ForeignArgCount(kX86_32, "mmap"), 1);
  EXPECT_EQ(ForeignArgCount(kX32, "mmap"), 6);
  EXPECT_EQ(ForeignArgCount(kX86_32, "select"), 1);
  // Only in the x86-32 table.
  EXPECT_EQ(ForeignArgCount(kX86_32, "mmap2"), 6);
  EXPECT_EQ(ForeignArgCount(kX86_32, "_llseek"), 5);
  EXPECT_EQ(ForeignArgCount(kX86_32, "socketcall"), 2);
  EXPECT_EQ(ForeignArgCount(kX86_32, "sigreturn"), 0);
  EXPECT_EQ(ForeignArgCount(kX86_32, "chown32"), 3);
  EXPECT_EQ(ForeignArgCount(kX86_32, "getuid32"), 0);
  EXPECT_EQ(ForeignArgCount(kX86_32, "clock_gettime64"), 2);
  EXPECT_EQ(ForeignArgCount(kX86_32, "clock_nanosleep_time64"), 4);
  EXPECT_EQ(ForeignArgCount(kX86_32, "futex_time64"), 6);
  EXPECT_EQ(ForeignArgCount(kX32, "rt_sigaction"), 4);
  // Never implemented, or no table's name: unknown.
  EXPECT_EQ(ForeignArgCount(kX86_32, "break"), -1);
  EXPECT_EQ(ForeignArgCount(kX32, "syscall_0x40000224"), -1);
}

// Every name of libseccomp's x86-32 and x32 tables gets a count, except the
// calls the kernel never implemented there.
TEST(ForeignArgsTest, EveryForeignTableNameHasACount) {
  const std::set<std::string> never_implemented = {"break", "stty",  "gtty",   "ftime",
                                                   "prof",  "lock",  "mpx",    "ulimit",
                                                   "profil", "idle", "bdflush"};
  for (uint32_t arch : {SCMP_ARCH_X86, SCMP_ARCH_X32}) {
    for (int nr = 0; nr < 600; ++nr) {
      const int number = arch == SCMP_ARCH_X32 ? (0x40000000 | nr) : nr;
      char* name = seccomp_syscall_resolve_num_arch(arch, number);
      if (name == nullptr) continue;
      const std::string text(name);
      free(name);
      if (never_implemented.count(text) != 0) continue;
      const int count = ForeignArgCount(arch == SCMP_ARCH_X86, text);
      EXPECT_GE(count, 0) << text << " (" << (arch == SCMP_ARCH_X86 ? "x86-32" : "x32") << ")";
      EXPECT_LE(count, 6) << text;
    }
  }
}

TEST(ForeignArgsTest, RawArgsAreAsManyAsCounted) {
  const std::array<uint64_t, 6> regs = {3, 0, 0x10, 4, 5, 6};
  std::vector<DecodedArg> args = DecodeRawArgs(regs, 3);
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[2].name, "arg2");
  EXPECT_EQ(args[2].kind, "hex");
  EXPECT_EQ(args[2].raw, 0x10u);
  EXPECT_EQ(FormatSyscallCall("write", args), "write(0x3, 0, 0x10)");
  EXPECT_TRUE(DecodeRawArgs(regs, 0).empty());
  EXPECT_EQ(DecodeRawArgs(regs, -1).size(), 6u);
}

TEST(SyscallDecodeTest, EscapeBytesHandlesQuotesBackslashAndNonPrintables) {
  EXPECT_EQ(EscapeBytes("plain text"), "plain text");
  EXPECT_EQ(EscapeBytes("say \"hi\"\n"), R"(say \"hi\"\n)");
  EXPECT_EQ(EscapeBytes("C:\\dir\ttab\r"), R"(C:\\dir\ttab\r)");
  EXPECT_EQ(EscapeBytes(std::string("\0\x01\x7f\xff", 4)), R"(\x00\x01\x7f\xff)");
  EXPECT_EQ(EscapeBytes("\v\f"), R"(\v\f)");
}

TEST(SyscallDecodeTest, EscapingAppliesInsideRenderedBuffers) {
  FakeMemory memory;
  memory.Add(0x1000, std::string("a\"b\\c\0\x1b", 7));
  EXPECT_EQ(Call(kNrWrite, {2, 0x1000, 7, 0, 0, 0}, memory), R"(write(2, "a\"b\\c\x00\x1b", 7))");
}

TEST(SyscallDecodeTest, IntParametersIgnoreUpperRegisterBits) {
  EXPECT_EQ(Call(kNrClose, {0xffffffff, 0, 0, 0, 0, 0}), "close(-1)");
  EXPECT_EQ(Call(kNrClose, {0xdeadbeef00000003, 0, 0, 0, 0, 0}), "close(3)");
  EXPECT_EQ(Call(kNrKill, {0x100000007, 0x10000000f, 0, 0, 0, 0}), "kill(7, SIGTERM)");
}

TEST(SyscallDecodeTest, WideParametersUseTheWholeRegister) {
  // off_t is 64-bit and signed: a negative seek must not print as 4294967295.
  EXPECT_EQ(Call(kNrLseek, {3, static_cast<uint64_t>(-1), 2, 0, 0, 0}), "lseek(3, -1, 2)");
  EXPECT_EQ(Call(kNrRead, {0, 0x4000, 0x100000000, 0, 0, 0}), "read(0, 0x4000, 4294967296)");
}

TEST(SyscallDecodeTest, MmapLooksLikeStrace) {
  EXPECT_EQ(Call(kNrMmap, {0, 4096, 0x3, 0x22, static_cast<uint64_t>(-1), 0}),
            "mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
}

TEST(SyscallDecodeTest, OctalModesHaveLeadingZero) {
  FakeMemory memory;
  memory.Add(0x2000, std::string("d\0", 2));
  EXPECT_EQ(Call(kNrMkdir, {0x2000, 0755, 0, 0, 0, 0}, memory), R"(mkdir("d", 0755))");
  EXPECT_EQ(Call(95, {022, 0, 0, 0, 0, 0}), "umask(022)");
}

TEST(SyscallDecodeTest, CommonSyscallsHaveExpectedNamesAndArity) {
  const std::map<uint64_t, std::pair<std::string, int>> expected = {
      {0, {"read", 3}},
      {1, {"write", 3}},
      {2, {"open", 3}},
      {3, {"close", 1}},
      {7, {"poll", 3}},
      {9, {"mmap", 6}},
      {10, {"mprotect", 3}},
      {11, {"munmap", 2}},
      {12, {"brk", 1}},
      {13, {"rt_sigaction", 4}},
      {14, {"rt_sigprocmask", 4}},
      {16, {"ioctl", 3}},
      {24, {"sched_yield", 0}},
      {28, {"madvise", 3}},
      {35, {"nanosleep", 2}},
      {39, {"getpid", 0}},
      {44, {"sendto", 6}},
      {45, {"recvfrom", 6}},
      {56, {"clone", 5}},
      {59, {"execve", 3}},
      {60, {"exit", 1}},
      {62, {"kill", 2}},
      {157, {"prctl", 5}},
      {186, {"gettid", 0}},
      {202, {"futex", 6}},
      {230, {"clock_nanosleep", 4}},
      {231, {"exit_group", 1}},
      {232, {"epoll_wait", 4}},
      {234, {"tgkill", 3}},
      {257, {"openat", 4}},
      {318, {"getrandom", 3}},
      {324, {"membarrier", 3}},
      {425, {"io_uring_setup", 2}},
      {426, {"io_uring_enter", 6}},
      {435, {"clone3", 2}},
      {436, {"close_range", 3}},
      {437, {"openat2", 4}},
      {449, {"futex_waitv", 5}},
      {453, {"map_shadow_stack", 3}},
      {455, {"futex_wait", 6}},
      {457, {"statmount", 4}},
      {462, {"mseal", 3}},
      {463, {"setxattrat", 6}},
      {466, {"removexattrat", 4}},
  };
  for (const auto& [nr, name_and_arity] : expected) {
    const SyscallSignature* sig = FindX86_64Signature(nr);
    ASSERT_NE(sig, nullptr) << nr;
    EXPECT_EQ(sig->name, name_and_arity.first) << nr;
    EXPECT_EQ(sig->nargs, name_and_arity.second) << nr;
  }
}

// libseccomp's names; empty when it does not know the number.
std::string SeccompName(uint64_t nr) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, static_cast<int>(nr));
  if (name == nullptr) return "";
  std::string result(name);
  free(name);
  return result;
}

TEST(SyscallDecodeTest, TableCoversEverySyscallLibseccompKnows) {
  // Numbers whose libseccomp name legitimately differs from the kernel's.
  // Empty today: libseccomp uses syscall_64.tbl's names verbatim.
  const std::map<uint64_t, std::string> kNameExceptions = {};
  int known = 0;
  for (uint64_t nr = 0; nr <= kProbeLimit; ++nr) {
    std::string expected = SeccompName(nr);
    if (expected.empty()) continue;
    ++known;
    const SyscallSignature* sig = FindX86_64Signature(nr);
    ASSERT_NE(sig, nullptr) << "no signature for " << nr << " (" << expected << ")";
    auto exception = kNameExceptions.find(nr);
    if (exception != kNameExceptions.end()) expected = exception->second;
    EXPECT_EQ(sig->name, expected) << nr;
  }
  EXPECT_GT(known, 360);  // libseccomp really was consulted
}

TEST(SyscallDecodeTest, TableEntriesAreWellFormed) {
  std::set<std::string> names;
  int count = 0;
  for (uint64_t nr = 0; nr < 1024; ++nr) {
    const SyscallSignature* sig = FindX86_64Signature(nr);
    if (sig == nullptr) continue;
    ++count;
    ASSERT_NE(sig->name, nullptr) << nr;
    EXPECT_TRUE(names.insert(sig->name).second) << "duplicate name " << sig->name;
    ASSERT_GE(sig->nargs, 0) << sig->name;
    ASSERT_LE(sig->nargs, 6) << sig->name;
    for (int i = 0; i < 6; ++i) {
      const ArgSpec& arg = sig->args[i];
      EXPECT_EQ(i < sig->nargs, arg.name != nullptr) << sig->name << " arg " << i;
      if (i >= sig->nargs) continue;
      EXPECT_LT(arg.length_arg, sig->nargs) << sig->name << " arg " << i;
      if (arg.kind == ArgKind::kBuffer || arg.kind == ArgKind::kPollFds) {
        EXPECT_GE(arg.length_arg, 0) << sig->name << " arg " << i;
        EXPECT_NE(arg.length_arg, i) << sig->name << " arg " << i;
      } else {
        EXPECT_EQ(arg.length_arg, -1) << sig->name << " arg " << i;
      }
    }
  }
  // 0..336 and 424..471 of Linux 7.0's syscall_64.tbl.
  EXPECT_EQ(count, 337 + 48);
}

TEST(SyscallDecodeTest, ArgKindNamesMatchTheDocumentedStrings) {
  EXPECT_STREQ(ArgKindName(ArgKind::kInt), "int");
  EXPECT_STREQ(ArgKindName(ArgKind::kUInt), "uint");
  EXPECT_STREQ(ArgKindName(ArgKind::kHex), "hex");
  EXPECT_STREQ(ArgKindName(ArgKind::kFd), "fd");
  EXPECT_STREQ(ArgKindName(ArgKind::kPointer), "pointer");
  EXPECT_STREQ(ArgKindName(ArgKind::kString), "string");
  EXPECT_STREQ(ArgKindName(ArgKind::kBuffer), "buffer");
  EXPECT_STREQ(ArgKindName(ArgKind::kSignal), "signal");
  EXPECT_STREQ(ArgKindName(ArgKind::kOctal), "octal");
  EXPECT_STREQ(ArgKindName(ArgKind::kEnum), "enum");
  EXPECT_STREQ(ArgKindName(ArgKind::kFlags), "flags");
  EXPECT_STREQ(ArgKindName(ArgKind::kPollFds), "struct");
  EXPECT_STREQ(ArgKindName(ArgKind::kEpollEvent), "struct");
}

// One symbolic argument of one call, rendered as strace 6 renders it (each
// text was checked against `strace -e trace=...` of the same raw call).
struct SymbolicCase {
  uint64_t nr;
  std::array<uint64_t, 6> args;
  size_t index;  // of the decoded argument
  const char* kind;
  const char* text;
};

// For failure messages: "nr 9 arg 3 of {0, 0x1000, ...}" rather than bytes.
void PrintTo(const SymbolicCase& c, std::ostream* os) {
  *os << "nr " << c.nr << " arg " << c.index << " of {" << std::hex;
  for (uint64_t arg : c.args) *os << "0x" << arg << ",";
  *os << std::dec << "} expecting " << c.text;
}

constexpr uint64_t kMinus1 = 0xffffffff;  // an int -1, as syscall(2) passes it

class SymbolicArgTest : public ::testing::TestWithParam<SymbolicCase> {};

TEST_P(SymbolicArgTest, RendersAsStraceDoes) {
  const SymbolicCase& c = GetParam();
  std::vector<DecodedArg> args = DecodeSyscallArgs(c.nr, c.args, FakeMemory().Reader());
  ASSERT_LT(c.index, args.size());
  EXPECT_EQ(args[c.index].kind, c.kind);
  EXPECT_EQ(args[c.index].raw, c.args[c.index]);
  EXPECT_EQ(args[c.index].text, c.text) << "call " << FormatSyscallCall("nr", args);
}

INSTANTIATE_TEST_SUITE_P(
    Memory, SymbolicArgTest,
    ::testing::Values(
        SymbolicCase{SYS_mmap, {0, 4096, 0, 0, kMinus1, 0}, 2, "flags", "PROT_NONE"},
        SymbolicCase{SYS_mmap, {0, 4096, 0, 0, kMinus1, 0}, 3, "flags", "MAP_FILE"},
        SymbolicCase{SYS_mmap, {0, 4096, 3, 0x22, kMinus1, 0}, 2, "flags", "PROT_READ|PROT_WRITE"},
        SymbolicCase{SYS_mmap, {0, 4096, 0x101, 3, kMinus1, 0}, 2, "flags", "PROT_READ|0x100"},
        SymbolicCase{SYS_mmap, {0, 4096, 0x101, 3, kMinus1, 0}, 3, "flags", "MAP_SHARED_VALIDATE"},
        SymbolicCase{SYS_mmap, {0, 4096, 0x1000000, 1, kMinus1, 0}, 2, "flags", "PROT_GROWSDOWN"},
        SymbolicCase{SYS_mmap, {0, 4096, 0x8, 1, kMinus1, 0}, 2, "flags", "PROT_SEM"},
        SymbolicCase{SYS_mmap, {0, 4096, 0x22, 0x80000002, kMinus1, 0}, 3, "flags",
                     "MAP_PRIVATE|32<<MAP_HUGE_SHIFT"},
        SymbolicCase{SYS_mmap, {0, 4096, 1, (21 << 26) | 0x40022, kMinus1, 0}, 3, "flags",
                     "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT"},
        SymbolicCase{SYS_mmap, {0, 4096, 1, 0x24, kMinus1, 0}, 3, "flags",
                     "0x4 /* MAP_??? */|MAP_ANONYMOUS"},
        SymbolicCase{SYS_mmap, {0, 4096, 1, 0x200002, kMinus1, 0}, 3, "flags", "MAP_PRIVATE|0x200000"},
        SymbolicCase{SYS_mmap, {0, 4096, 1, 0x80, kMinus1, 0}, 3, "flags", "MAP_FILE|0x80"},
        SymbolicCase{SYS_mmap, {0, 4096, 1, 0x4902 | 0x2000 | 0x20000, kMinus1, 0}, 3, "flags",
                     "MAP_PRIVATE|MAP_NORESERVE|MAP_GROWSDOWN|MAP_DENYWRITE|MAP_LOCKED|MAP_STACK"},
        SymbolicCase{SYS_mprotect, {0, 0, 7, 0, 0, 0}, 2, "flags",
                     "PROT_READ|PROT_WRITE|PROT_EXEC"},
        SymbolicCase{SYS_mprotect, {0, 0, 0x100, 0, 0, 0}, 2, "flags", "0x100 /* PROT_??? */"},
        SymbolicCase{SYS_madvise, {0, 0, 4, 0, 0, 0}, 2, "enum", "MADV_DONTNEED"},
        SymbolicCase{SYS_madvise, {0, 0, 0, 0, 0, 0}, 2, "enum", "MADV_NORMAL"},
        SymbolicCase{SYS_madvise, {0, 0, 14, 0, 0, 0}, 2, "enum", "MADV_HUGEPAGE"},
        SymbolicCase{SYS_madvise, {0, 0, 999, 0, 0, 0}, 2, "enum", "0x3e7 /* MADV_??? */"}));

INSTANTIATE_TEST_SUITE_P(
    Files, SymbolicArgTest,
    ::testing::Values(
        SymbolicCase{SYS_openat, {kMinus1, 0, 0, 0, 0, 0}, 2, "flags", "O_RDONLY"},
        SymbolicCase{SYS_openat, {kMinus1, 0, 0x80042, 0644, 0, 0}, 2, "flags",
                     "O_RDWR|O_CREAT|O_CLOEXEC"},
        SymbolicCase{SYS_openat, {kMinus1, 0, 0x80042, 0644, 0, 0}, 3, "octal", "0644"},
        SymbolicCase{SYS_openat, {kMinus1, 0, 0x410002, 0600, 0, 0}, 2, "flags", "O_RDWR|O_TMPFILE"},
        SymbolicCase{SYS_openat, {kMinus1, 0, 0x410002, 0600, 0, 0}, 3, "octal", "0600"},
        SymbolicCase{SYS_openat, {kMinus1, 0, 0x400000, 01, 0, 0}, 2, "flags", "O_RDONLY|__O_TMPFILE"},
        SymbolicCase{SYS_openat, {kMinus1, 0, 0x109003, 0, 0, 0}, 2, "flags",
                     "O_ACCMODE|O_SYNC|O_LARGEFILE"},
        SymbolicCase{SYS_openat, {kMinus1, 0, 0x40000000, 0, 0, 0}, 2, "flags",
                     "O_RDONLY|0x40000000"},
        SymbolicCase{SYS_openat, {kMinus1, 0, 0xb1000, 0, 0, 0}, 2, "flags",
                     "O_RDONLY|O_DSYNC|O_NOFOLLOW|O_CLOEXEC|O_DIRECTORY"},
        SymbolicCase{SYS_openat, {kMinus1, 0, 0x2000, 0, 0, 0}, 2, "flags", "O_RDONLY|FASYNC"},
        SymbolicCase{SYS_open, {0, 0x204800, 0, 0, 0, 0}, 1, "flags",
                     "O_RDONLY|O_NONBLOCK|O_DIRECT|O_PATH"},
        SymbolicCase{SYS_fcntl, {kMinus1, 3, 0, 0, 0, 0}, 1, "enum", "F_GETFL"},
        SymbolicCase{SYS_fcntl, {kMinus1, 1030, 0, 0, 0, 0}, 1, "enum", "F_DUPFD_CLOEXEC"},
        SymbolicCase{SYS_fcntl, {kMinus1, 1034, 0, 0, 0, 0}, 1, "enum", "F_GET_SEALS"},
        SymbolicCase{SYS_fcntl, {kMinus1, 999, 0, 0, 0, 0}, 1, "enum", "0x3e7 /* F_??? */"},
        // fcntl's third argument by its command (strace 6.1's rendering).
        SymbolicCase{SYS_fcntl, {kMinus1, 4, 0xc00, 0, 0, 0}, 2, "flags",
                     "O_RDONLY|O_APPEND|O_NONBLOCK"},
        SymbolicCase{SYS_fcntl, {kMinus1, 2, 1, 0, 0, 0}, 2, "flags", "FD_CLOEXEC"},
        SymbolicCase{SYS_fcntl, {kMinus1, 2, 0, 0, 0, 0}, 2, "flags", "0"},
        SymbolicCase{SYS_fcntl, {kMinus1, 0, 5, 0, 0, 0}, 2, "int", "5"},
        SymbolicCase{SYS_fcntl, {kMinus1, 8, 1234, 0, 0, 0}, 2, "int", "1234"},
        SymbolicCase{SYS_fcntl, {kMinus1, 10, 10, 0, 0, 0}, 2, "signal", "SIGUSR1"},
        SymbolicCase{SYS_fcntl, {kMinus1, 1024, 1, 0, 0, 0}, 2, "enum", "F_WRLCK"},
        SymbolicCase{SYS_fcntl, {kMinus1, 999, 7, 0, 0, 0}, 2, "hex", "0x7"},
        SymbolicCase{SYS_fcntl, {kMinus1, 6, 0x1000, 0, 0, 0}, 2, "pointer", "0x1000"},
        SymbolicCase{SYS_ioctl, {kMinus1, 0x5401, 0, 0, 0, 0}, 1, "enum", "TCGETS"},
        SymbolicCase{SYS_ioctl, {kMinus1, 0x541b, 0, 0, 0, 0}, 1, "enum", "FIONREAD"},
        SymbolicCase{SYS_ioctl, {kMinus1, 0x5421, 0, 0, 0, 0}, 1, "enum", "FIONBIO"},
        SymbolicCase{SYS_ioctl, {kMinus1, 0x5413, 0, 0, 0, 0}, 1, "enum", "TIOCGWINSZ"},
        SymbolicCase{SYS_ioctl, {kMinus1, 0x8933, 0, 0, 0, 0}, 1, "enum", "SIOCGIFINDEX"},
        SymbolicCase{SYS_ioctl, {kMinus1, 0x8946, 0, 0, 0, 0}, 1, "enum", "SIOCETHTOOL"},
        SymbolicCase{SYS_ioctl, {kMinus1, 0x12345678, 0, 0, 0, 0}, 1, "enum",
                     "_IOC(_IOC_NONE, 0x56, 0x78, 0x1234)"},
        SymbolicCase{SYS_ioctl, {kMinus1, 0xc0045678, 0, 0, 0, 0}, 1, "enum",
                     "_IOC(_IOC_READ|_IOC_WRITE, 0x56, 0x78, 0x4)"},
        SymbolicCase{SYS_ioctl, {kMinus1, 0x12340000, 0, 0, 0, 0}, 1, "enum",
                     "_IOC(_IOC_NONE, 0, 0, 0x1234)"}));

INSTANTIATE_TEST_SUITE_P(
    TimeAndSync, SymbolicArgTest,
    ::testing::Values(
        SymbolicCase{SYS_clock_gettime, {1, 0, 0, 0, 0, 0}, 0, "enum", "CLOCK_MONOTONIC"},
        SymbolicCase{SYS_clock_gettime, {11, 0, 0, 0, 0, 0}, 0, "enum", "CLOCK_TAI"},
        SymbolicCase{SYS_clock_gettime, {99, 0, 0, 0, 0, 0}, 0, "enum", "0x63 /* CLOCK_??? */"},
        SymbolicCase{SYS_clock_gettime, {0xfffffffb, 0, 0, 0, 0, 0}, 0, "enum",
                     "0xfffffffb /* CLOCK_??? */"},
        SymbolicCase{SYS_clock_getres, {4, 0, 0, 0, 0, 0}, 0, "enum", "CLOCK_MONOTONIC_RAW"},
        SymbolicCase{SYS_clock_nanosleep, {0, 1, 0, 0, 0, 0}, 0, "enum", "CLOCK_REALTIME"},
        SymbolicCase{SYS_clock_nanosleep, {0, 1, 0, 0, 0, 0}, 1, "flags", "TIMER_ABSTIME"},
        SymbolicCase{SYS_clock_nanosleep, {7, 0, 0, 0, 0, 0}, 1, "flags", "0"},
        SymbolicCase{SYS_clock_nanosleep, {7, 6, 0, 0, 0, 0}, 1, "flags", "0x6 /* TIMER_??? */"},
        SymbolicCase{SYS_clock_nanosleep, {7, kMinus1, 0, 0, 0, 0}, 1, "flags",
                     "TIMER_ABSTIME|0xfffffffe"},
        SymbolicCase{SYS_timer_create, {7, 0, 0, 0, 0, 0}, 0, "enum", "CLOCK_BOOTTIME"},
        SymbolicCase{SYS_timerfd_create, {1, 0, 0, 0, 0, 0}, 0, "enum", "CLOCK_MONOTONIC"},
        SymbolicCase{SYS_futex, {0, 128, 0, 0, 0, 0}, 1, "enum", "FUTEX_WAIT_PRIVATE"},
        SymbolicCase{SYS_futex, {0, 1, 0, 0, 0, 0}, 1, "enum", "FUTEX_WAKE"},
        SymbolicCase{SYS_futex, {0, 9 | 128 | 256, 0, 0, 0, 0}, 1, "enum",
                     "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME"},
        SymbolicCase{SYS_futex, {0, 256, 0, 0, 0, 0}, 1, "enum", "FUTEX_WAIT|FUTEX_CLOCK_REALTIME"},
        SymbolicCase{SYS_futex, {0, 13 | 128, 0, 0, 0, 0}, 1, "enum", "FUTEX_LOCK_PI2_PRIVATE"},
        SymbolicCase{SYS_futex, {0, 1 | 128 | 256, 0, 0, 0, 0}, 1, "enum", "0x181 /* FUTEX_??? */"},
        SymbolicCase{SYS_futex, {0, 0x280, 0, 0, 0, 0}, 1, "enum", "0x280 /* FUTEX_??? */"},
        SymbolicCase{SYS_futex, {0, 55, 0, 0, 0, 0}, 1, "enum", "0x37 /* FUTEX_??? */"},
        SymbolicCase{SYS_futex, {0, kMinus1, 0, 0, 0, 0}, 1, "enum", "0xffffffff /* FUTEX_??? */"}));

INSTANTIATE_TEST_SUITE_P(
    SignalsAndScheduling, SymbolicArgTest,
    ::testing::Values(
        SymbolicCase{SYS_rt_sigprocmask, {0, 0, 0, 8, 0, 0}, 0, "enum", "SIG_BLOCK"},
        SymbolicCase{SYS_rt_sigprocmask, {2, 0, 0, 8, 0, 0}, 0, "enum", "SIG_SETMASK"},
        SymbolicCase{SYS_rt_sigprocmask, {7, 0, 0, 8, 0, 0}, 0, "enum", "0x7 /* SIG_??? */"},
        SymbolicCase{SYS_rt_sigaction, {10, 0, 0, 8, 0, 0}, 0, "signal", "SIGUSR1"},
        SymbolicCase{SYS_prctl, {15, 0, 0, 0, 0, 0}, 0, "enum", "PR_SET_NAME"},
        SymbolicCase{SYS_prctl, {1, 9, 0, 0, 0, 0}, 0, "enum", "PR_SET_PDEATHSIG"},
        SymbolicCase{SYS_prctl, {0x59616d61, 0, 0, 0, 0, 0}, 0, "enum", "PR_SET_PTRACER"},
        SymbolicCase{SYS_prctl, {0x44500001, 2, 0, 0, 0, 0}, 0, "enum", "PR_SET_DATAPLANE"},
        SymbolicCase{SYS_prctl, {0x12345, 0, 0, 0, 0, 0}, 0, "enum", "0x12345 /* PR_??? */"},
        SymbolicCase{SYS_sched_setscheduler, {kMinus1, 1, 0, 0, 0, 0}, 1, "enum", "SCHED_FIFO"},
        SymbolicCase{SYS_sched_setscheduler, {kMinus1, 6, 0, 0, 0, 0}, 1, "enum", "SCHED_DEADLINE"},
        SymbolicCase{SYS_sched_setscheduler, {kMinus1, 0x40000002, 0, 0, 0, 0}, 1, "enum",
                     "0x40000002 /* SCHED_??? */"},
        SymbolicCase{SYS_sched_get_priority_max, {2, 0, 0, 0, 0, 0}, 0, "enum", "SCHED_RR"},
        SymbolicCase{SYS_epoll_ctl, {kMinus1, 1, kMinus1, 0, 0, 0}, 1, "enum", "EPOLL_CTL_ADD"},
        SymbolicCase{SYS_epoll_ctl, {kMinus1, 3, kMinus1, 0, 0, 0}, 1, "enum", "EPOLL_CTL_MOD"},
        SymbolicCase{SYS_epoll_ctl, {kMinus1, 0, kMinus1, 0, 0, 0}, 1, "enum",
                     "0 /* EPOLL_CTL_??? */"}));

INSTANTIATE_TEST_SUITE_P(
    Sockets, SymbolicArgTest,
    ::testing::Values(
        SymbolicCase{SYS_socket, {2, 0x80001, 0, 0, 0, 0}, 0, "enum", "AF_INET"},
        SymbolicCase{SYS_socket, {2, 0x80001, 0, 0, 0, 0}, 1, "flags", "SOCK_STREAM|SOCK_CLOEXEC"},
        SymbolicCase{SYS_socket, {1, 0x802, 0, 0, 0, 0}, 0, "enum", "AF_UNIX"},
        SymbolicCase{SYS_socket, {1, 0x802, 0, 0, 0, 0}, 1, "flags", "SOCK_DGRAM|SOCK_NONBLOCK"},
        SymbolicCase{SYS_socket, {10, 3, 6, 0, 0, 0}, 0, "enum", "AF_INET6"},
        SymbolicCase{SYS_socket, {16, 3, 0, 0, 0, 0}, 0, "enum", "AF_NETLINK"},
        SymbolicCase{SYS_socket, {44, 3, 0, 0, 0, 0}, 0, "enum", "AF_XDP"},
        SymbolicCase{SYS_socket, {99, 99, 0, 0, 0, 0}, 0, "enum", "0x63 /* AF_??? */"},
        SymbolicCase{SYS_socket, {99, 99, 0, 0, 0, 0}, 1, "flags", "SOCK_RAW|0x60 /* SOCK_??? */"},
        SymbolicCase{SYS_socket, {2, 0, 0, 0, 0, 0}, 1, "flags", "0"},
        SymbolicCase{SYS_socket, {2, 0x80000, 0, 0, 0, 0}, 1, "flags", "SOCK_CLOEXEC"},
        SymbolicCase{SYS_socket, {2, 0x7, 0, 0, 0, 0}, 1, "flags", "0x7 /* SOCK_??? */"},
        SymbolicCase{SYS_socket, {2, 0xa, 0, 0, 0, 0}, 1, "flags", "SOCK_PACKET"},
        SymbolicCase{SYS_socketpair, {1, 5, 0, 0, 0, 0}, 1, "flags", "SOCK_SEQPACKET"},
        SymbolicCase{SYS_sendto, {kMinus1, 0, 0, 0x40, 0, 0}, 3, "flags", "MSG_DONTWAIT"},
        SymbolicCase{SYS_sendto, {kMinus1, 0, 0, 0, 0, 0}, 3, "flags", "0"},
        SymbolicCase{SYS_sendto, {kMinus1, 0, 0, 0x10004040, 0, 0}, 3, "flags",
                     "MSG_DONTWAIT|MSG_NOSIGNAL|0x10000000"},
        SymbolicCase{SYS_sendto, {kMinus1, 0, 0, 0x10000000, 0, 0}, 3, "flags",
                     "0x10000000 /* MSG_??? */"},
        SymbolicCase{SYS_recvfrom, {kMinus1, 0, 0, 0x40000002, 0, 0}, 3, "flags",
                     "MSG_PEEK|MSG_CMSG_CLOEXEC"},
        SymbolicCase{SYS_recvfrom, {kMinus1, 0, 0, 0x80000000, 0, 0}, 3, "flags",
                     "MSG_CMSG_COMPAT"},
        SymbolicCase{SYS_recvfrom, {kMinus1, 0, 0, 0x7fffffff, 0, 0}, 3, "flags",
                     "MSG_OOB|MSG_PEEK|MSG_DONTROUTE|MSG_CTRUNC|MSG_PROBE|MSG_TRUNC|MSG_DONTWAIT|"
                     "MSG_EOR|MSG_WAITALL|MSG_FIN|MSG_SYN|MSG_CONFIRM|MSG_RST|MSG_ERRQUEUE|"
                     "MSG_NOSIGNAL|MSG_MORE|MSG_WAITFORONE|MSG_SENDPAGE_NOTLAST|MSG_BATCH|"
                     "MSG_NO_SHARED_FRAGS|MSG_ZEROCOPY|MSG_FASTOPEN|MSG_CMSG_CLOEXEC|0x1bf00000"},
        SymbolicCase{SYS_sendmsg, {kMinus1, 0, 0x8000, 0, 0, 0}, 2, "flags", "MSG_MORE"},
        SymbolicCase{SYS_recvmmsg, {kMinus1, 0, 1, 0x10000, 0, 0}, 3, "flags",
                     "MSG_WAITFORONE"}));

TEST(SyscallDecodeTest, OpenModeIsShownOnlyWhenTheCallCreatesAFile) {
  EXPECT_EQ(DecodeSyscallArgs(SYS_open, {0, 0, 0644, 0, 0, 0}, nullptr).size(), 2u);
  EXPECT_EQ(DecodeSyscallArgs(SYS_open, {0, 0x40, 0644, 0, 0, 0}, nullptr).size(), 3u);
  EXPECT_EQ(DecodeSyscallArgs(SYS_openat, {0, 0, 0, 0644, 0, 0}, nullptr).size(), 3u);
  // O_DIRECTORY is half of O_TMPFILE; alone it creates nothing.
  EXPECT_EQ(DecodeSyscallArgs(SYS_openat, {0, 0, 0x10000, 0644, 0, 0}, nullptr).size(), 3u);
  EXPECT_EQ(DecodeSyscallArgs(SYS_openat, {0, 0, 0x400000, 0644, 0, 0}, nullptr).size(), 4u);
}

TEST(SyscallDecodeTest, SymbolicArgumentsHaveAFamilyAndConditionsLookBack) {
  for (uint64_t nr = 0; nr < 1024; ++nr) {
    const SyscallSignature* sig = FindX86_64Signature(nr);
    if (sig == nullptr) continue;
    for (int i = 0; i < sig->nargs; ++i) {
      const ArgSpec& arg = sig->args[i];
      const bool symbolic = arg.kind == ArgKind::kEnum || arg.kind == ArgKind::kFlags;
      EXPECT_EQ(symbolic, arg.symbols != Symbols::kNone) << sig->name << " arg " << i;
      if (symbolic) {
        EXPECT_EQ(arg.kind == ArgKind::kFlags, IsFlagSet(arg.symbols)) << sig->name << " " << i;
      }
      EXPECT_LT(arg.shown_if_arg, i) << sig->name << " arg " << i;
    }
  }
}

TEST(SymbolicConstantsTest, NamesAreUniqueAndValuesAreTheHeaders) {
  std::map<std::string, uint64_t> values;
  for (const NamedValue& constant : SymbolicConstants()) {
    EXPECT_TRUE(values.emplace(constant.name, constant.value).second)
        << "duplicate name " << constant.name;
  }
  EXPECT_EQ(values.at("PROT_WRITE"), static_cast<uint64_t>(PROT_WRITE));
  EXPECT_EQ(values.at("MAP_ANON"), static_cast<uint64_t>(MAP_ANONYMOUS));
  EXPECT_EQ(values.at("O_NDELAY"), static_cast<uint64_t>(O_NONBLOCK));
  EXPECT_EQ(values.at("O_LARGEFILE"), 0100000u);  // the kernel's, not glibc's 0
  EXPECT_EQ(values.at("FUTEX_WAIT_PRIVATE"), static_cast<uint64_t>(FUTEX_WAIT_PRIVATE));
  EXPECT_EQ(values.at("CLOCK_MONOTONIC"), static_cast<uint64_t>(CLOCK_MONOTONIC));
  EXPECT_EQ(values.at("SIOCGIFINDEX"), static_cast<uint64_t>(SIOCGIFINDEX));
  EXPECT_EQ(values.at("PR_SET_NAME"), static_cast<uint64_t>(PR_SET_NAME));
}

TEST(SymbolicConstantsTest, AliasesNeverShowInARendering) {
  EXPECT_EQ(RenderSymbolic(Symbols::kMmapFlags, MAP_PRIVATE | MAP_ANON), "MAP_PRIVATE|MAP_ANONYMOUS");
  EXPECT_EQ(RenderSymbolic(Symbols::kOpenFlags, O_NDELAY), "O_RDONLY|O_NONBLOCK");
  EXPECT_EQ(RenderSymbolic(Symbols::kOpenFlags, O_RSYNC), "O_RDONLY|O_SYNC");
  EXPECT_EQ(RenderSymbolic(Symbols::kAddressFamily, AF_LOCAL), "AF_UNIX");
  EXPECT_EQ(RenderSymbolic(Symbols::kIoctlRequest, TIOCINQ), "FIONREAD");
}

// poll's and epoll_ctl's structures, read from the tracee as strace 6.1
// renders them.
TEST(SyscallDecodeTest, PollFdsAndEpollEventsAreReadAndNamed) {
  FakeMemory memory;
  auto pollfd = [](int32_t fd, uint16_t events) {
    std::string entry(8, '\0');
    memcpy(&entry[0], &fd, 4);
    memcpy(&entry[4], &events, 2);
    return entry;
  };
  memory.Add(0x1000, pollfd(3, 0x1) + pollfd(4, 0x2005) + pollfd(-1, 0x1) + pollfd(5, 0));
  EXPECT_EQ(Call(SYS_poll, {0x1000, 4, 0, 0, 0, 0}, memory),
            "poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT|POLLRDHUP}, {fd=-1}, "
            "{fd=5, events=0}], 4, 0)");
  EXPECT_EQ(Call(SYS_ppoll, {0x1000, 1, 0, 0, 8, 0}, memory),
            "ppoll([{fd=3, events=POLLIN}], 1, NULL, NULL, 8)");
  EXPECT_EQ(Call(SYS_poll, {0, 0, 0, 0, 0, 0}, memory), "poll(NULL, 0, 0)");
  // More entries than are readable: the address, as for any unreadable memory.
  EXPECT_EQ(Call(SYS_poll, {0x1000, 5, 0, 0, 0, 0}, memory), "poll(0x1000, 5, 0)");
  std::string many;
  for (int i = 0; i < 20; ++i) many += pollfd(i, 0x4);
  memory.Add(0x3000, many);
  const std::string shown = Call(SYS_poll, {0x3000, 20, 0, 0, 0, 0}, memory);
  EXPECT_THAT(shown, ::testing::HasSubstr("{fd=15, events=POLLOUT}, ...], 20, 0)"));
  EXPECT_EQ(shown.find("fd=16"), std::string::npos);

  auto epoll_event = [](uint32_t events, uint64_t data) {
    std::string bytes(12, '\0');
    memcpy(&bytes[0], &events, 4);
    memcpy(&bytes[4], &data, 8);
    return bytes;
  };
  memory.Add(0x2000, epoll_event(0x80000001, 3));
  memory.Add(0x2100, epoll_event(0x12345678, 0x1122334455667788ULL));
  EXPECT_EQ(Call(SYS_epoll_ctl, {kMinus1, 1, kMinus1, 0x2000, 0, 0}, memory),
            "epoll_ctl(-1, EPOLL_CTL_ADD, -1, {events=EPOLLIN|EPOLLET, data={u32=3, u64=3}})");
  EXPECT_EQ(Call(SYS_epoll_ctl, {kMinus1, 3, kMinus1, 0x2100, 0, 0}, memory),
            "epoll_ctl(-1, EPOLL_CTL_MOD, -1, {events=EPOLLERR|EPOLLHUP|EPOLLNVAL|EPOLLRDNORM|"
            "EPOLLWRBAND|EPOLLMSG|EPOLLEXCLUSIVE|0x2345000, data={u32=1432778632, "
            "u64=1234605616436508552}})");
  EXPECT_EQ(Call(SYS_epoll_ctl, {kMinus1, 2, kMinus1, 0, 0, 0}, memory),
            "epoll_ctl(-1, EPOLL_CTL_DEL, -1, NULL)");
}

}  // namespace
}  // namespace dpsupervise
