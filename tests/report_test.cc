// Unit tests of the report formatters: the oops-style text report, the JSON
// lines and the end-of-run summary, on Violations built by hand.
#include "supervisor/report/report.h"
#include "supervisor/report/report_limit.h"

#include <stdint.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "supervisor/model/summary.h"
#include "supervisor/model/violation.h"

namespace dpsupervise {
namespace {

using ::nlohmann::json;
using ::testing::ContainsRegex;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

user_regs_struct SampleRegs() {
  user_regs_struct r{};
  r.r15 = 0x15;
  r.r14 = 0x14;
  r.r13 = 0x13;
  r.r12 = 0x12;
  r.rbp = 0x7ffc0000aa00;
  r.rbx = 0xb;
  r.r11 = 0x246;
  r.r10 = 0x10;
  r.r9 = 0x9;
  r.r8 = 0x8;
  r.rax = 0xffffffffffffffda;  // -ENOSYS at a seccomp stop
  r.rcx = 0xc;
  r.rdx = 0xd;
  r.rsi = 0x51;
  r.rdi = 0xd1;
  r.orig_rax = 39;
  r.rip = 0x555555555139;
  r.cs = 0x33;
  r.eflags = 0x246;
  r.rsp = 0x7ffc0000a9f0;
  r.ss = 0x2b;
  r.fs_base = 0x7f0000000740;
  r.gs_base = 0;
  return r;
}

std::vector<Frame> SampleBacktrace() {
  Frame inner;
  inner.pc = 0x555555555139;
  inner.function = "Inner()";
  inner.offset = 0x10;
  inner.module = "/work/bazel-bin/testdata/foo";
  inner.file = "testdata/foo.cc";
  inner.line = 12;
  Frame start;
  start.pc = 0x7ffff7829d90;
  start.function = "__libc_start_call_main";
  start.offset = 0x80;
  start.module = "/lib/x86_64-linux-gnu/libc.so.6";
  Frame unknown;
  unknown.pc = 0x7ffff7829e40;
  unknown.module = "/lib/x86_64-linux-gnu/libc.so.6";
  unknown.offset = 0x29e40;
  return {inner, start, unknown};
}

Violation BaseViolation(ViolationKind kind) {
  Violation v;
  v.kind = kind;
  v.pid = 1234;
  v.tid = 1235;
  v.thread_name = "worker";
  v.process_name = "app";
  v.cpu = 3;
  v.time_ns = 1700000000123456789LL;
  v.regs = SampleRegs();
  v.action = "kill";
  v.action_detail = "kill (SIGKILL to the whole program)";
  return v;
}

Violation SyscallViolation() {
  Violation v = BaseViolation(ViolationKind::kSyscall);
  v.syscall.abi = SyscallAbi::kX86_64;
  v.syscall.nr = 39;
  v.syscall.name = "getpid";
  v.syscall.call = "getpid()";
  v.syscall.instruction_pointer = v.regs.rip;
  v.backtrace = SampleBacktrace();
  return v;
}

Violation WriteViolation() {
  Violation v = SyscallViolation();
  v.syscall.nr = 1;
  v.syscall.name = "write";
  v.syscall.call = "write(2, \"hi\\n\", 3)";
  v.syscall.args = {2, 0x7ffc00001000, 3, 0, 0, 0};
  v.syscall.decoded_args = {{"fd", "fd", 2, "2"},
                            {"buf", "buffer", 0x7ffc00001000, "\"hi\\n\""},
                            {"count", "uint", 3, "3"}};
  v.regs.orig_rax = 1;
  return v;
}

Violation PageFaultViolation() {
  Violation v = BaseViolation(ViolationKind::kPageFault);
  v.signal.signo = 0;
  v.signal.fault_address = 0x7f0000001000;
  v.signal.has_fault_address = true;
  v.signal.access = "write";
  return v;
}

Violation TrapViolation() {
  Violation v = BaseViolation(ViolationKind::kTrap);
  v.signal.signo = 11;
  v.signal.signal_name = "SIGSEGV";
  v.signal.si_code = 1;
  v.signal.si_code_name = "SEGV_MAPERR";
  v.signal.fault_address = 0xdead0;
  v.signal.has_fault_address = true;
  v.backtrace_error = "no debug info";
  return v;
}

Violation SignalViolation() {
  Violation v = BaseViolation(ViolationKind::kSignal);
  v.signal.signo = 10;
  v.signal.signal_name = "SIGUSR1";
  v.signal.si_code = 0;
  v.signal.si_code_name = "SI_USER";
  v.signal.has_sender = true;
  v.signal.sender_pid = 4321;
  v.signal.sender_uid = 1000;
  v.action = "signal SIGUSR1";
  v.action_detail = "signal SIGUSR1 delivered to the thread";
  return v;
}

Violation IpiViolation() {
  Violation v = BaseViolation(ViolationKind::kIpi);
  v.interruption.start_ns = 1700000000120000000LL;
  v.interruption.duration_ns = 1700;
  v.interruption.cause = "ipi call_function_single membarrier_private_expedited";
  v.interruption.detail =
      "call_function_single from ipi-sender (pid 1234 tid 1236 cpu 0) by "
      "membarrier_private_expedited";
  v.interruption.noise_record =
      R"({"type":"noise","pid":1234,"tid":1235,"kind":"ipi","start_ns":1700000000120000000,)"
      R"("duration_ns":1700,"sender":{"pid":1234,"tid":1236,"comm":"ipi-sender","cpu":0}})";
  v.backtrace = SampleBacktrace();
  v.action = "signal SIGUSR1";
  v.action_detail = "signal SIGUSR1 (thread 1235 left strict mode)";
  return v;
}

json ParseLine(const std::string& line) {
  EXPECT_THAT(line, EndsWith("\n"));
  EXPECT_EQ(Count(line, "\n"), 1u) << line;
  return json::parse(line);
}

bool IsHex(const json& j) {
  if (!j.is_string()) return false;
  const std::string s = j.get<std::string>();
  return s.size() > 2 && s.compare(0, 2, "0x") == 0 &&
         s.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
}

// ---------------------------------------------------------------------------
// Text report: the first line.

TEST(TextReport, SyscallFirstLineIsExact) {
  EXPECT_EQ(FirstLine(FormatTextReport(SyscallViolation())),
            "dpsupervise: worker/1235 (cpu 3): strict mode violated by syscall getpid()");
}

TEST(TextReport, SyscallWithDecodedArgumentsFirstLine) {
  EXPECT_EQ(FirstLine(FormatTextReport(WriteViolation())),
            "dpsupervise: worker/1235 (cpu 3): strict mode violated by syscall "
            "write(2, \"hi\\n\", 3)");
}

TEST(TextReport, ForeignAbiIsNamedBeforeTheCall) {
  Violation v = SyscallViolation();
  v.syscall.abi = SyscallAbi::kI386;
  v.syscall.nr = 20;
  const std::string text = FormatTextReport(v);
  EXPECT_EQ(FirstLine(text),
            "dpsupervise: worker/1235 (cpu 3): strict mode violated by syscall [x86-32] getpid()");
  EXPECT_THAT(text, HasSubstr("\n  syscall: getpid() [x86-32 nr 20]\n"));

  v.syscall.abi = SyscallAbi::kX32;
  v.syscall.nr = 0x40000027;
  EXPECT_EQ(FirstLine(FormatTextReport(v)),
            "dpsupervise: worker/1235 (cpu 3): strict mode violated by syscall [x32] getpid()");
}

TEST(TextReport, UnknownCpuIsAQuestionMark) {
  Violation v = SyscallViolation();
  v.cpu = -1;
  const std::string text = FormatTextReport(v);
  EXPECT_EQ(FirstLine(text),
            "dpsupervise: worker/1235 (cpu ?): strict mode violated by syscall getpid()");
  EXPECT_THAT(text, HasSubstr("\n  cpu:     unknown\n"));
}

TEST(TextReport, PageFaultFirstLineAndSection) {
  const std::string text = FormatTextReport(PageFaultViolation());
  EXPECT_EQ(FirstLine(text),
            "dpsupervise: worker/1235 (cpu 3): strict mode violated by page fault at "
            "0x7f0000001000 (write)");
  EXPECT_THAT(text, HasSubstr("\n  kind:    page_fault\n"));
  EXPECT_THAT(text, HasSubstr("\n  address: 0x7f0000001000\n  access:  write\n"));
  EXPECT_THAT(text, Not(HasSubstr("  syscall: ")));
}

TEST(TextReport, TrapFirstLineWithAndWithoutAddress) {
  Violation v = TrapViolation();
  std::string text = FormatTextReport(v);
  EXPECT_EQ(FirstLine(text),
            "dpsupervise: worker/1235 (cpu 3): strict mode violated by trap SIGSEGV "
            "(SEGV_MAPERR) at 0xdead0");
  EXPECT_THAT(text, HasSubstr("\n  signal:  SIGSEGV (si_code SEGV_MAPERR)\n"));
  EXPECT_THAT(text, HasSubstr("\n  address: 0xdead0\n"));

  v.signal.has_fault_address = false;
  v.signal.si_code = 128;
  v.signal.si_code_name = "SI_KERNEL";
  text = FormatTextReport(v);
  EXPECT_EQ(FirstLine(text),
            "dpsupervise: worker/1235 (cpu 3): strict mode violated by trap SIGSEGV (SI_KERNEL)");
  EXPECT_THAT(text, Not(HasSubstr("  address: ")));
}

TEST(TextReport, TrapFromForeignInstructionSaysSo) {
  Violation v = TrapViolation();
  v.signal.has_fault_address = false;
  v.signal.si_code = 128;
  v.signal.si_code_name = "SI_KERNEL";
  v.signal.foreign_instruction = "int 0x80";
  const std::string text = FormatTextReport(v);
  EXPECT_EQ(FirstLine(text),
            "dpsupervise: worker/1235 (cpu 3): strict mode violated by trap SIGSEGV "
            "(int 0x80: 32-bit syscall, no IA32 emulation)");
  EXPECT_THAT(text, HasSubstr("\n  foreign: int 0x80: 32-bit syscall, no IA32 emulation\n"));
}

TEST(TextReport, SignalWithAndWithoutSender) {
  Violation v = SignalViolation();
  std::string text = FormatTextReport(v);
  EXPECT_EQ(FirstLine(text),
            "dpsupervise: worker/1235 (cpu 3): strict mode violated by signal SIGUSR1 from pid "
            "4321 uid 1000");
  EXPECT_THAT(text, HasSubstr("\n  signal:  SIGUSR1 (si_code SI_USER)\n"));
  EXPECT_THAT(text, HasSubstr("\n  sender:  pid 4321 uid 1000\n"));

  v.signal.signo = 14;
  v.signal.signal_name = "SIGALRM";
  v.signal.has_sender = false;
  v.signal.si_code_name = "SI_KERNEL";
  text = FormatTextReport(v);
  EXPECT_EQ(FirstLine(text),
            "dpsupervise: worker/1235 (cpu 3): strict mode violated by signal SIGALRM");
  EXPECT_THAT(text, HasSubstr("\n  sender:  unknown"));
}

// ---------------------------------------------------------------------------
// Text report: the sections.

TEST(TextReport, EverySectionIsPresentInOrder) {
  const std::string text = FormatTextReport(SyscallViolation());
  const std::vector<std::string> markers = {
      "dpsupervise: worker/1235 (cpu 3): strict mode violated by ",
      "\n  kind:    syscall\n",
      "\n  time:    ",
      "\n  thread:  1235 (worker)\n",
      "\n  process: 1234 (app)\n",
      "\n  cpu:     3\n",
      "\n  syscall: getpid() [x86-64 nr 39]\n",
      "\n  pc:      0x555555555139 ",
      "\n  registers:\n",
      "ORIG_RAX: 0000000000000027",
      "\n  backtrace:\n",
      "\n    #0  0x",
      "\n  action:  kill (SIGKILL to the whole program)\n"};
  size_t at = 0;
  for (const std::string& m : markers) {
    const size_t found = text.find(m, at);
    ASSERT_NE(found, std::string::npos) << "missing or out of order: " << m << "\n" << text;
    at = found + 1;
  }
  EXPECT_THAT(text, EndsWith("  action:  kill (SIGKILL to the whole program)\n"));
  EXPECT_EQ(Count(text, "strict mode violated"), 1u);
}

// The report times are local: the tests pin the zone to UTC.
class UtcTime : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

TEST_F(UtcTime, TextReportSaysTheTimeOfDayWithMicroseconds) {
  // 1700000000.123456789 s is 2023-11-14 22:13:20.123456789 UTC.
  EXPECT_EQ(TimeOfDay(1700000000123456789LL), "22:13:20.123456");
  EXPECT_THAT(FormatTextReport(SyscallViolation()),
              HasSubstr("\n  kind:    syscall\n  time:    22:13:20.123456\n"));
}

TEST_F(UtcTime, LineReportIsOneLineWithTheTopFrameAndTheAction) {
  TextReportOptions no_registers;
  no_registers.registers = false;
  EXPECT_EQ(FormatLineReport(SyscallViolation(), no_registers),
            "dpsupervise: 22:13:20.123456 worker/1235 syscall getpid() in Inner()+0x10 at "
            "testdata/foo.cc:12 -> kill\n");
  Violation bare = PageFaultViolation();
  bare.backtrace.clear();
  bare.action = "log";
  EXPECT_EQ(FormatLineReport(bare, no_registers),
            "dpsupervise: 22:13:20.123456 worker/1235 page fault at 0x7f0000001000 (write) at "
            "0x555555555139 -> log\n");
  TextReportOptions registers;
  const std::string with = FormatLineReport(SyscallViolation(), registers);
  EXPECT_THAT(with, HasSubstr(" -> kill\n  RIP: 0000555555555139"));
}

TEST(TextReport, RegistersOnDemand) {
  TextReportOptions no_registers;
  no_registers.registers = false;
  const std::string text = FormatTextReport(SyscallViolation(), no_registers);
  EXPECT_THAT(text, Not(HasSubstr("registers:")));
  EXPECT_THAT(text, Not(HasSubstr("RIP:")));
  EXPECT_THAT(text, HasSubstr("\n  backtrace:\n"));
}

TEST(TextReport, RegistersKeepTheirFormat) {
  const std::string text = FormatTextReport(SyscallViolation());
  EXPECT_THAT(text, HasSubstr("  RIP: 0000555555555139  RSP: 00007ffc0000a9f0  EFLAGS: 00000246\n"));
  EXPECT_THAT(text, HasSubstr("  RAX: ffffffffffffffda  RBX: 000000000000000b  RCX: 000000000000000c\n"));
  EXPECT_THAT(text, HasSubstr("  RDX: 000000000000000d  RSI: 0000000000000051  RDI: 00000000000000d1\n"));
  EXPECT_THAT(text, HasSubstr("  RBP: 00007ffc0000aa00  R08: 0000000000000008  R09: 0000000000000009\n"));
  EXPECT_THAT(text, HasSubstr("  R10: 0000000000000010  R11: 0000000000000246  R12: 0000000000000012\n"));
  EXPECT_THAT(text, HasSubstr("  R13: 0000000000000013  R14: 0000000000000014  R15: 0000000000000015\n"));
  EXPECT_THAT(text, HasSubstr("  ORIG_RAX: 0000000000000027  CS: 0033  SS: 002b\n"));
  EXPECT_THAT(text, HasSubstr("  FS_BASE: 00007f0000000740  GS_BASE: 0000000000000000\n"));
}

TEST(TextReport, BacktraceIsGdbStyle) {
  const std::string text = FormatTextReport(SyscallViolation());
  EXPECT_THAT(text, HasSubstr("\n    #0  0x0000555555555139 in Inner()+0x10 at testdata/foo.cc:12\n"));
  EXPECT_THAT(text,
              HasSubstr("\n    #1  0x00007ffff7829d90 in __libc_start_call_main+0x80 from libc.so.6\n"));
  EXPECT_THAT(text, HasSubstr("\n    #2  0x00007ffff7829e40 in ?? (libc.so.6+0x29e40)\n"));
}

TEST(TextReport, PcLineNamesFunctionAndSourceLine) {
  const std::string text = FormatTextReport(SyscallViolation());
  EXPECT_THAT(text, HasSubstr("\n  pc:      0x555555555139 in Inner()+0x10 at testdata/foo.cc:12\n"));
}

TEST(TextReport, FrameWithZeroOffsetAndNoLine) {
  Violation v = SyscallViolation();
  v.backtrace.resize(1);
  v.backtrace[0].offset = 0;
  v.backtrace[0].line = 0;
  const std::string text = FormatTextReport(v);
  EXPECT_THAT(text, HasSubstr("\n    #0  0x0000555555555139 in Inner() at testdata/foo.cc\n"));
  EXPECT_THAT(text, Not(HasSubstr("#1")));
}

TEST(FormatFrameLocation, EveryForm) {
  struct Case {
    const char* function;
    uint64_t offset;
    const char* module;
    const char* file;
    int line;
    const char* text;
  };
  const Case kCases[] = {
      {"", 0, "", "", 0, "in ??"},
      {"", 0x1234, "/lib/libfoo.so", "", 0, "in ?? (libfoo.so+0x1234)"},
      {"foo(int)", 0x1a, "/lib/libfoo.so", "", 0, "in foo(int)+0x1a from libfoo.so"},
      {"foo(int)", 0x1a, "/lib/libfoo.so", "src/foo.cc", 42, "in foo(int)+0x1a at src/foo.cc:42"},
      {"__vdso_clock_gettime", 0, "[vdso]", "", 0, "in __vdso_clock_gettime from [vdso]"},
  };
  for (const Case& c : kCases) {
    Frame f;
    f.pc = 0x1234;
    f.function = c.function;
    f.offset = c.offset;
    f.module = c.module;
    f.file = c.file;
    f.line = c.line;
    EXPECT_EQ(FormatFrameLocation(f), c.text);
  }
}

TEST(TextReport, ManyFramesStayAligned) {
  Violation v = SyscallViolation();
  v.backtrace.assign(12, v.backtrace[0]);
  const std::string text = FormatTextReport(v);
  EXPECT_THAT(text, HasSubstr("\n    #9  0x0000555555555139 in Inner()"));
  EXPECT_THAT(text, HasSubstr("\n    #11 0x0000555555555139 in Inner()"));
}

TEST(TextReport, MissingBacktraceSaysWhy) {
  const std::string text = FormatTextReport(TrapViolation());
  EXPECT_THAT(text, HasSubstr("\n  backtrace: unavailable (no debug info)\n"));
  EXPECT_THAT(text, HasSubstr("\n  pc:      0x555555555139\n"));
  EXPECT_THAT(text, Not(HasSubstr("#0")));

  Violation v = TrapViolation();
  v.backtrace_error.clear();
  EXPECT_THAT(FormatTextReport(v), HasSubstr("\n  backtrace: unavailable\n"));
}

// ---------------------------------------------------------------------------
// Text report: escaping of strings from the program.

TEST(TextReport, HostileThreadNameCannotForgeLines) {
  Violation v = SyscallViolation();
  v.thread_name = "x\n  action:  log";
  v.process_name = "p\r\x1b[2J\"q\"";
  const std::string text = FormatTextReport(v);
  EXPECT_EQ(FirstLine(text),
            "dpsupervise: x\\n  action:  log/1235 (cpu 3): strict mode violated by syscall "
            "getpid()");
  EXPECT_THAT(text, HasSubstr("\n  thread:  1235 (x\\n  action:  log)\n"));
  EXPECT_THAT(text, HasSubstr("\n  process: 1234 (p\\r\\x1b[2J\"q\")\n"));
  // Exactly one action line, the real one, and no raw control characters.
  size_t action_lines = 0;
  for (const std::string& line : Lines(text)) {
    if (line.rfind("  action:  ", 0) == 0) ++action_lines;
    for (char c : line) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << line;
  }
  EXPECT_EQ(action_lines, 1u);
}

TEST(TextReport, InvalidUtf8AndBackslashesAreEscaped) {
  Violation v = SyscallViolation();
  v.thread_name = "bad\xff\xfe\\n";
  v.process_name = "caf\xc3\xa9";  // valid UTF-8 is kept
  const std::string text = FormatTextReport(v);
  EXPECT_THAT(text, HasSubstr("\n  thread:  1235 (bad\\xff\\xfe\\\\n)\n"));
  EXPECT_THAT(text, HasSubstr("\n  process: 1234 (caf\xc3\xa9)\n"));
}

TEST(TextReport, InvisibleUnicodeFormattingIsEscaped) {
  Violation v = SyscallViolation();
  v.thread_name = "a\xe2\x80\xae" "b\xc2\x85" "c";  // RIGHT-TO-LEFT OVERRIDE, NEL (C1)
  const std::string text = FormatTextReport(v);
  EXPECT_THAT(text, HasSubstr("\n  thread:  1235 (a\\u202eb\\u0085c)\n"));
}

TEST(TextReport, HostileSourceAndModuleNamesAreEscaped) {
  Violation v = SyscallViolation();
  v.backtrace[0].file = "evil\n  action:  log.cc";
  v.backtrace[0].function = "f\tg";
  v.backtrace[2].module = "/tmp/lib\x01.so";
  const std::string text = FormatTextReport(v);
  EXPECT_THAT(text, HasSubstr("in f\\tg+0x10 at evil\\n  action:  log.cc:12\n"));
  EXPECT_THAT(text, HasSubstr("in ?? (lib\\x01.so+0x29e40)\n"));
  EXPECT_EQ(Count(text, "\n  action:  "), 1u);
}

TEST(TextReport, EmptyNamesAreShownAsQuestionMarks) {
  Violation v = SyscallViolation();
  v.thread_name.clear();
  v.process_name.clear();
  const std::string text = FormatTextReport(v);
  EXPECT_THAT(FirstLine(text), StartsWith("dpsupervise: ?/1235 (cpu 3): "));
  EXPECT_THAT(text, HasSubstr("\n  thread:  1235 (?)\n"));
}

// ---------------------------------------------------------------------------
// JSON report.

TEST(JsonReport, SyscallHasEveryDocumentedField) {
  const json j = ParseLine(FormatJsonReport(WriteViolation()));
  EXPECT_EQ(j["type"], "violation");
  EXPECT_EQ(j["time_ns"].get<int64_t>(), 1700000000123456789LL);
  EXPECT_EQ(j["kind"], "syscall");
  EXPECT_EQ(j["pid"], 1234);
  EXPECT_EQ(j["tid"], 1235);
  EXPECT_EQ(j["thread"], "worker");
  EXPECT_EQ(j["process"], "app");
  EXPECT_EQ(j["cpu"], 3);
  EXPECT_EQ(j["pc"], "0x555555555139");
  ASSERT_TRUE(j["syscall"].is_object());
  const json& s = j["syscall"];
  EXPECT_EQ(s["name"], "write");
  EXPECT_EQ(s["nr"], 1);
  EXPECT_EQ(s["abi"], "x86-64");
  EXPECT_EQ(s["call"], "write(2, \"hi\\n\", 3)");
  ASSERT_TRUE(s["args"].is_array());
  ASSERT_EQ(s["args"].size(), 3u);
  EXPECT_EQ(s["args"][1]["name"], "buf");
  EXPECT_EQ(s["args"][1]["kind"], "buffer");
  EXPECT_EQ(s["args"][1]["raw"], "0x7ffc00001000");
  EXPECT_EQ(s["args"][1]["text"], "\"hi\\n\"");
  ASSERT_TRUE(s["raw_args"].is_array());
  ASSERT_EQ(s["raw_args"].size(), 6u);
  EXPECT_EQ(s["raw_args"][0], "0x2");
  EXPECT_EQ(s["raw_args"][5], "0x0");
  EXPECT_FALSE(j.contains("fault"));
  EXPECT_FALSE(j.contains("signal"));
  EXPECT_TRUE(j["registers"].is_object());
  ASSERT_TRUE(j["backtrace"].is_array());
  EXPECT_EQ(j["backtrace"].size(), 3u);
  EXPECT_TRUE(j["backtrace_error"].is_null());
  EXPECT_EQ(j["action"], "kill");
  EXPECT_EQ(j["action_detail"], "kill (SIGKILL to the whole program)");
}

// An interruption made a violation: the headline names it with its
// attribution and duration, its section when it was, the JSON carries the
// event's noise record whole.
TEST(TextReport, InterruptionHeadlineAndSection) {
  const std::string text = FormatTextReport(IpiViolation());
  EXPECT_EQ(FirstLine(text),
            "dpsupervise: worker/1235 (cpu 3): strict mode violated by ipi call_function_single "
            "from ipi-sender (pid 1234 tid 1236 cpu 0) by membarrier_private_expedited (1.7 us)");
  EXPECT_THAT(text, HasSubstr("\n  kind:    ipi\n"));
  EXPECT_THAT(text,
              HasSubstr("\n  cause:   ipi call_function_single membarrier_private_expedited\n"));
  EXPECT_THAT(text, HasSubstr("\n  lasted:  1.7 us, from "));
  EXPECT_THAT(text, HasSubstr("\n  action:  signal SIGUSR1 (thread 1235 left strict mode)\n"));
  EXPECT_THAT(FormatLineReport(IpiViolation(), TextReportOptions{}),
              HasSubstr(" worker/1235 ipi call_function_single from ipi-sender"));
}

TEST(JsonReport, InterruptionCarriesItsNoiseRecord) {
  const json j = ParseLine(FormatJsonReport(IpiViolation()));
  EXPECT_EQ(j["kind"], "ipi");
  ASSERT_TRUE(j["interruption"].is_object()) << j;
  EXPECT_EQ(j["interruption"]["type"], "noise");
  EXPECT_EQ(j["interruption"]["duration_ns"], 1700);
  EXPECT_EQ(j["interruption"]["sender"]["tid"], 1236);
  EXPECT_FALSE(j.contains("syscall"));
  EXPECT_FALSE(j.contains("signal"));
  EXPECT_EQ(j["action"], "signal SIGUSR1");
}

TEST(JsonReport, RegistersAreAllLowerCaseHexWithFullPrecision) {
  Violation v = SyscallViolation();
  v.regs.rax = 0xffffffffffffffffULL;
  const json j = ParseLine(FormatJsonReport(v));
  const std::set<std::string> expected = {
      "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8",     "r9",
      "r10", "r11", "r12", "r13", "r14", "r15", "rip", "orig_rax", "eflags", "cs",
      "ss",  "ds",  "es",  "fs",  "gs",  "fs_base", "gs_base"};
  std::set<std::string> keys;
  for (const auto& [key, value] : j["registers"].items()) {
    keys.insert(key);
    EXPECT_TRUE(IsHex(value)) << key << " = " << value;
  }
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(j["registers"]["rax"], "0xffffffffffffffff");
  EXPECT_EQ(j["registers"]["orig_rax"], "0x27");
  EXPECT_EQ(j["registers"]["rip"], "0x555555555139");
}

TEST(JsonReport, BacktraceFramesHaveTypedFields) {
  const json j = ParseLine(FormatJsonReport(SyscallViolation()));
  const json& bt = j["backtrace"];
  ASSERT_EQ(bt.size(), 3u);
  for (const json& f : bt) {
    EXPECT_TRUE(IsHex(f["pc"]));
    EXPECT_TRUE(f["function"].is_string());
    EXPECT_TRUE(f["offset"].is_number_unsigned());
    EXPECT_TRUE(f["module"].is_string());
    EXPECT_TRUE(f["file"].is_string() || f["file"].is_null());
    EXPECT_TRUE(f["line"].is_number_integer() || f["line"].is_null());
  }
  EXPECT_EQ(bt[0]["pc"], "0x555555555139");
  EXPECT_EQ(bt[0]["function"], "Inner()");
  EXPECT_EQ(bt[0]["offset"], 0x10);
  EXPECT_EQ(bt[0]["module"], "/work/bazel-bin/testdata/foo");
  EXPECT_EQ(bt[0]["file"], "testdata/foo.cc");
  EXPECT_EQ(bt[0]["line"], 12);
  EXPECT_EQ(bt[2]["function"], "");
  EXPECT_TRUE(bt[2]["file"].is_null());
  EXPECT_TRUE(bt[2]["line"].is_null());
}

TEST(JsonReport, ForeignAbiSyscallWithUnknownCpu) {
  Violation v = SyscallViolation();
  v.syscall.abi = SyscallAbi::kI386;
  v.syscall.nr = 20;
  v.cpu = -1;
  const json j = ParseLine(FormatJsonReport(v));
  EXPECT_TRUE(j["cpu"].is_null());
  EXPECT_EQ(j["syscall"]["abi"], "x86-32");
  EXPECT_EQ(j["syscall"]["nr"], 20);
  EXPECT_TRUE(j["syscall"]["args"].is_array());
  EXPECT_TRUE(j["syscall"]["args"].empty());
}

TEST(JsonReport, PageFaultHasFaultObject) {
  const json j = ParseLine(FormatJsonReport(PageFaultViolation()));
  EXPECT_EQ(j["kind"], "page_fault");
  ASSERT_TRUE(j["fault"].is_object());
  EXPECT_EQ(j["fault"]["address"], "0x7f0000001000");
  EXPECT_EQ(j["fault"]["access"], "write");
  EXPECT_FALSE(j.contains("syscall"));
  EXPECT_FALSE(j.contains("signal"));
  EXPECT_TRUE(j["backtrace"].is_array());
  EXPECT_TRUE(j["backtrace"].empty());
}

TEST(JsonReport, TrapHasSignalObjectWithNulls) {
  const json j = ParseLine(FormatJsonReport(TrapViolation()));
  EXPECT_EQ(j["kind"], "trap");
  ASSERT_TRUE(j["signal"].is_object());
  const json& s = j["signal"];
  EXPECT_EQ(s["signo"], 11);
  EXPECT_EQ(s["name"], "SIGSEGV");
  EXPECT_EQ(s["code"], 1);
  EXPECT_EQ(s["code_name"], "SEGV_MAPERR");
  EXPECT_EQ(s["address"], "0xdead0");
  EXPECT_TRUE(s["sender_pid"].is_null());
  EXPECT_TRUE(s["sender_uid"].is_null());
  EXPECT_TRUE(s["foreign_instruction"].is_null());
  EXPECT_EQ(j["backtrace_error"], "no debug info");
  EXPECT_FALSE(j.contains("fault"));

  Violation v = TrapViolation();
  v.signal.has_fault_address = false;
  v.signal.foreign_instruction = "int 0x80";
  const json k = ParseLine(FormatJsonReport(v));
  EXPECT_TRUE(k["signal"]["address"].is_null());
  EXPECT_EQ(k["signal"]["foreign_instruction"], "int 0x80");
}

TEST(JsonReport, SignalHasSender) {
  const json j = ParseLine(FormatJsonReport(SignalViolation()));
  EXPECT_EQ(j["kind"], "signal");
  EXPECT_EQ(j["signal"]["name"], "SIGUSR1");
  EXPECT_EQ(j["signal"]["sender_pid"], 4321);
  EXPECT_EQ(j["signal"]["sender_uid"], 1000);
  EXPECT_TRUE(j["signal"]["address"].is_null());
  EXPECT_EQ(j["action"], "signal SIGUSR1");
}

TEST(JsonReport, HostileStringsStayOnOneLineAndInvalidUtf8DoesNotThrow) {
  Violation v = SyscallViolation();
  v.thread_name = "a\n\"b\"\\c";
  v.process_name = "bad\xff\xc3(";
  v.backtrace[0].file = "x\ny.cc";
  std::string line;
  ASSERT_NO_THROW(line = FormatJsonReport(v));
  const json j = ParseLine(line);
  EXPECT_EQ(j["thread"], "a\n\"b\"\\c");
  // Each invalid byte becomes U+FFFD.
  EXPECT_EQ(j["process"], "bad\xef\xbf\xbd\xef\xbf\xbd(");
  EXPECT_EQ(j["backtrace"][0]["file"], "x\ny.cc");
}

TEST(JsonReport, FieldOrderStartsWithTypeAndKind) {
  const std::string line = FormatJsonReport(SyscallViolation());
  EXPECT_THAT(line, StartsWith("{\"type\":\"violation\",\"time_ns\":1700000000123456789,"
                               "\"kind\":\"syscall\","));
}

// ---------------------------------------------------------------------------
// Summary.

RunSummary SampleSummary() {
  RunSummary s;
  s.exit_status = 137;
  s.total_violations = 3;
  ThreadSummary worker;
  worker.pid = 1234;
  worker.tid = 1235;
  worker.thread_name = "worker";
  worker.cpu = 3;
  worker.strict_seconds = 1.25;
  worker.strict_entries = 2;
  worker.violations = {{"syscall", 2}, {"page_fault", 1}};
  worker.voluntary_context_switches = 4;
  worker.involuntary_context_switches = 1;
  worker.cpu_migrations = 0;
  worker.minor_faults = 12;
  worker.major_faults = 0;
  worker.interrupts = {{"LOC", 250}, {"RES", 3}};
  worker.steal_ns = {{0, 10000000}, {3, 3200000}};
  ThreadSummary gone;
  gone.pid = 1234;
  gone.tid = 1240;
  gone.thread_name = "gone\nnow";
  gone.cpu = -1;
  gone.strict_seconds = 0.5;
  gone.strict_entries = 1;
  s.threads = {worker, gone};
  return s;
}

TEST(TextSummary, OneViolationIsSingular) {
  RunSummary s = SampleSummary();
  s.total_violations = 1;
  EXPECT_EQ(FirstLine(FormatTextSummary(s)), "dpsupervise: summary: 1 violation, exit status 137");
}

TEST(TextSummary, HeaderAndOneBlockPerThread) {
  const std::string text = FormatTextSummary(SampleSummary());
  EXPECT_EQ(FirstLine(text), "dpsupervise: summary: 3 violations, exit status 137");
  EXPECT_THAT(text, HasSubstr("\n  thread 1235 (worker), process 1234, cpu 3\n"));
  EXPECT_THAT(text, HasSubstr("\n    strict:           1.250000 s in 2 entries\n"));
  EXPECT_THAT(text,
              HasSubstr("\n    violations:       3 (syscall 2, page_fault 1, trap 0, signal 0)\n"));
  EXPECT_THAT(text, HasSubstr("\n    context switches: voluntary 4, involuntary 1\n"));
  EXPECT_THAT(text, HasSubstr("\n    cpu migrations:   0\n"));
  EXPECT_THAT(text, HasSubstr("\n    page faults:      minor 12, major 0\n"));
  EXPECT_THAT(text, HasSubstr("\n    interrupts:       LOC 250, RES 3\n"));
  EXPECT_THAT(text, HasSubstr("\n    steal:            10.0 ms on cpu 0, 3.2 ms on cpu 3\n"));
  EXPECT_EQ(Count(text, "\n  thread "), 2u);
  EXPECT_THAT(text, EndsWith("\n"));
}

TEST(TextSummary, UnmeasuredCountersAndHostileNames) {
  const std::string text = FormatTextSummary(SampleSummary());
  EXPECT_THAT(text, HasSubstr("\n  thread 1240 (gone\\nnow), process 1234, cpu unknown\n"));
  EXPECT_THAT(text, HasSubstr("\n    strict:           0.500000 s in 1 entry\n"));
  EXPECT_THAT(text, HasSubstr("\n    context switches: voluntary not measured, "
                              "involuntary not measured\n"));
  EXPECT_THAT(text, HasSubstr("\n    page faults:      minor not measured, major not measured\n"));
  EXPECT_THAT(text, HasSubstr("\n    interrupts:       none\n"));
  EXPECT_THAT(text, HasSubstr("\n    steal:            not measured\n"));
  for (const std::string& line : Lines(text)) {
    EXPECT_THAT(line, ContainsRegex("^(dpsupervise: summary|  thread |    [a-z])")) << line;
  }
}

TEST(TextSummary, NoStrictThreads) {
  RunSummary s;
  s.exit_status = 0;
  EXPECT_EQ(FormatTextSummary(s),
            "dpsupervise: summary: 0 violations, exit status 0\n"
            "  no thread entered strict mode\n");
}

TEST(TextSummary, CallSitesComeFirstMostFirst) {
  RunSummary s = SampleSummary();
  s.call_sites = {{"syscall", "getpid", "in Poll+0x10 at app.cc:12", 40},
                  {"page_fault", "", "in Touch at app.cc:30", 2},
                  {"signal", "SIGUSR1\n", "?", 1}};
  const std::string text = FormatTextSummary(s);
  EXPECT_THAT(text, HasSubstr("exit status 137\n  by call site, most first:\n"
                              "        40  syscall    getpid           in Poll+0x10 at app.cc:12\n"
                              "         2  page_fault                  in Touch at app.cc:30\n"
                              "         1  signal     SIGUSR1\\n        ?\n  thread 1235"));
}

TEST(JsonSummary, CallSites) {
  RunSummary s = SampleSummary();
  s.call_sites = {{"syscall", "getpid", "in Poll+0x10 at app.cc:12", 40}};
  const json j = ParseLine(FormatJsonSummary(s));
  EXPECT_EQ(j["call_sites"], json::array({{{"kind", "syscall"},
                                           {"call", "getpid"},
                                           {"site", "in Poll+0x10 at app.cc:12"},
                                           {"count", 40}}}));
  EXPECT_EQ(ParseLine(FormatJsonSummary(RunSummary{}))["call_sites"], json::array());
}

TEST(JsonSummary, HasEveryDocumentedFieldWithNullsForUnmeasured) {
  const json j = ParseLine(FormatJsonSummary(SampleSummary()));
  EXPECT_EQ(j["type"], "summary");
  EXPECT_EQ(j["exit_status"], 137);
  EXPECT_EQ(j["total_violations"], 3);
  ASSERT_TRUE(j["threads"].is_array());
  ASSERT_EQ(j["threads"].size(), 2u);

  const json& w = j["threads"][0];
  EXPECT_EQ(w["pid"], 1234);
  EXPECT_EQ(w["tid"], 1235);
  EXPECT_EQ(w["thread"], "worker");
  EXPECT_EQ(w["cpu"], 3);
  EXPECT_TRUE(w["strict_seconds"].is_number_float());
  EXPECT_DOUBLE_EQ(w["strict_seconds"].get<double>(), 1.25);
  EXPECT_EQ(w["strict_entries"], 2);
  EXPECT_EQ(w["violations"], json({{"syscall", 2}, {"page_fault", 1}, {"trap", 0}, {"signal", 0}}));
  EXPECT_EQ(w["voluntary_context_switches"], 4);
  EXPECT_EQ(w["involuntary_context_switches"], 1);
  EXPECT_EQ(w["cpu_migrations"], 0);
  EXPECT_EQ(w["minor_faults"], 12);
  EXPECT_EQ(w["major_faults"], 0);
  EXPECT_EQ(w["interrupts"], json({{"LOC", 250}, {"RES", 3}}));
  EXPECT_EQ(w["steal_ns"], json({{"0", 10000000}, {"3", 3200000}}));

  const json& g = j["threads"][1];
  EXPECT_EQ(g["thread"], "gone\nnow");
  EXPECT_TRUE(g["cpu"].is_null());
  for (const char* counter : {"voluntary_context_switches", "involuntary_context_switches",
                              "cpu_migrations", "minor_faults", "major_faults"}) {
    EXPECT_TRUE(g[counter].is_null()) << counter;
  }
  EXPECT_TRUE(g["interrupts"].is_object());
  EXPECT_TRUE(g["interrupts"].empty());
  EXPECT_TRUE(g["steal_ns"].is_null());
  EXPECT_EQ(g["violations"], json({{"syscall", 0}, {"page_fault", 0}, {"trap", 0}, {"signal", 0}}));
}

TEST(JsonSummary, EmptyRunAndInvalidUtf8) {
  RunSummary s;
  json j = ParseLine(FormatJsonSummary(s));
  EXPECT_EQ(j["type"], "summary");
  EXPECT_TRUE(j["threads"].is_array());
  EXPECT_TRUE(j["threads"].empty());

  ThreadSummary t;
  t.thread_name = "\xff";
  t.interrupts = {{"\xfe", 1}};
  s.threads = {t};
  std::string line;
  ASSERT_NO_THROW(line = FormatJsonSummary(s));
  j = ParseLine(line);
  EXPECT_EQ(j["threads"][0]["thread"], "\xef\xbf\xbd");
}

TEST(Verdict, CountsViolationsAndTheThreadsThatMadeThem) {
  // SampleSummary: 3 violations, all by the first of its 2 strict threads.
  const Verdict v = JudgeRun(SampleSummary(), 0, std::nullopt);
  EXPECT_EQ(v.violations, 3);
  EXPECT_EQ(v.strict_threads, 2);
  EXPECT_EQ(v.violating_threads, 1);
  EXPECT_EQ(v.exit_status, 137);
  EXPECT_EQ(FormatTextVerdict(v), "dpsupervise: 3 violations in 1 of 2 strict threads\n");
  RunSummary one;
  one.threads.resize(1);
  EXPECT_EQ(FormatTextVerdict(JudgeRun(one, 0, std::nullopt)),
            "dpsupervise: no violations in 1 strict thread\n");
  one.threads[0].violations["signal"] = 1;
  one.total_violations = 1;
  EXPECT_EQ(FormatTextVerdict(JudgeRun(one, 0, std::nullopt)),
            "dpsupervise: 1 violation in 1 strict thread\n");
}

TEST(Verdict, NoStrictThreadAndRefusedEntriesAreSaid) {
  RunSummary none;
  EXPECT_EQ(FormatTextVerdict(JudgeRun(none, 0, std::nullopt)),
            "dpsupervise: no thread entered strict mode\n");
  EXPECT_EQ(FormatTextVerdict(JudgeRun(none, 1, std::nullopt)),
            "dpsupervise: no thread entered strict mode; 1 strict entry refused\n");
  EXPECT_EQ(FormatTextVerdict(JudgeRun(none, 2, std::nullopt)),
            "dpsupervise: no thread entered strict mode; 2 strict entries refused\n");
}

TEST(Verdict, ErrorExitcodeReplacesTheStatusOnlyWhenThereWereViolations) {
  EXPECT_EQ(JudgeRun(SampleSummary(), 0, 9).exit_status, 9);
  EXPECT_EQ(JudgeRun(SampleSummary(), 0, 9).program_status, 137);
  RunSummary clean;
  clean.exit_status = 4;
  clean.threads.resize(1);
  EXPECT_EQ(JudgeRun(clean, 1, 9).exit_status, 4);
}

TEST(Verdict, JsonRecord) {
  const json j = ParseLine(FormatJsonVerdict(JudgeRun(SampleSummary(), 1, 9)));
  EXPECT_EQ(j["type"], "verdict");
  EXPECT_EQ(j["violations"], 3);
  EXPECT_EQ(j["strict_threads"], 2);
  EXPECT_EQ(j["violating_threads"], 1);
  EXPECT_EQ(j["refused_entries"], 1);
  EXPECT_EQ(j["program_status"], 137);
  EXPECT_EQ(j["exit_status"], 9);
  EXPECT_EQ(j["text"],
            "dpsupervise: 3 violations in 1 of 2 strict threads; 1 strict entry refused");
}

TEST(ReportLimit, Syntax) {
  auto limit = ParseReportLimit("5");
  ASSERT_TRUE(limit.ok()) << limit.status();
  EXPECT_TRUE(limit->enabled);
  EXPECT_EQ(limit->burst, 5);
  EXPECT_EQ(limit->interval_ns, 1000000000);
  limit = ParseReportLimit("20/500ms");
  ASSERT_TRUE(limit.ok()) << limit.status();
  EXPECT_EQ(limit->burst, 20);
  EXPECT_EQ(limit->interval_ns, 500000000);
  limit = ParseReportLimit("off");
  ASSERT_TRUE(limit.ok()) << limit.status();
  EXPECT_FALSE(limit->enabled);
  for (const char* bad : {"", "0", "-1", "x", "5/", "5/0s", "5/-1s", "5/inf", "/1s", "5/1", "on"}) {
    EXPECT_EQ(ParseReportLimit(bad).status().message(),
              std::string("invalid value '") + bad +
                  "' for --report-limit: expected N or N/INTERVAL (5, 5/1s, 20/500ms) or off")
        << bad;
  }
}

TEST(Suppressed, TextAndJson) {
  SuppressedReports s;
  s.pid = 1234;
  s.tid = 1235;
  s.thread_name = "worker";
  s.site = "getpid";
  s.suppressed = 120;
  s.total = 125;
  s.time_ns = 7;
  EXPECT_EQ(FormatTextSuppressed(s),
            "dpsupervise: worker/1235: 120 more reports of syscall getpid suppressed (125 so "
            "far, each acted on)\n");
  const json j = ParseLine(FormatJsonSuppressed(s));
  EXPECT_EQ(j["type"], "suppressed");
  EXPECT_EQ(j["kind"], "syscall");
  EXPECT_EQ(j["site"], "getpid");
  EXPECT_EQ(j["suppressed"], 120);
  EXPECT_EQ(j["total"], 125);
  EXPECT_EQ(j["tid"], 1235);
  EXPECT_EQ(j["time_ns"], 7);
}

// The samples the docs show: printed so a run of the test shows real output.
TEST(Samples, PrintTextAndJson) {
  const std::string text = FormatTextReport(SyscallViolation());
  const std::string line = FormatJsonReport(SyscallViolation());
  std::printf("%s%s%s%s", text.c_str(), line.c_str(), FormatTextSummary(SampleSummary()).c_str(),
              FormatJsonSummary(SampleSummary()).c_str());
  EXPECT_FALSE(text.empty());
}

}  // namespace
}  // namespace dpsupervise
