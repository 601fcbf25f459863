#include "supervisor/monitor/classify.h"

#include <time.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "supervisor/trace/fault_detector.h"
#include "supervisor/os/procfs.h"
#include "supervisor/trace/ptrace_util.h"
#include "supervisor/syscalls/signal_names.h"
#include "supervisor/syscalls/syscall_decode.h"

#ifndef TRAP_PERF
#define TRAP_PERF 6
#endif

namespace dpsupervise {
namespace {

std::string NameOr(pid_t tid) {
  auto name = TaskName(tid);
  return name.ok() ? *name : "?";
}

// Codes the kernel uses for signals a process sent (si_pid/si_uid valid).
bool HasSender(int code) { return code == SI_USER || code == SI_TKILL || code == SI_QUEUE; }

}  // namespace

bool IsTrapSignal(int signo) {
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE ||
         signo == SIGTRAP || signo == SIGSYS;
}

Violation NewViolation(ViolationKind kind, pid_t pid, pid_t tid, const user_regs_struct& regs) {
  Violation v;
  v.kind = kind;
  v.pid = pid;
  v.tid = tid;
  v.thread_name = NameOr(tid);
  v.process_name = NameOr(pid);
  auto cpu = TaskCpu(tid);
  v.cpu = cpu.ok() ? *cpu : -1;
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  v.time_ns = now.tv_sec * 1000000000LL + now.tv_nsec;
  v.regs = regs;
  return v;
}

void DescribeSyscall(pid_t tid, const user_regs_struct& regs, const seccomp_data& data,
                     SyscallDetails* s) {
  s->instruction_pointer = regs.rip;
  // The kernel's own view: the ABI (x86-64, x32 or x86-32) and, for 32-bit
  // calls, the arguments from ebx/ecx/... rather than the 64-bit registers.
  s->abi = ClassifyAbi(data.arch, data.nr);
  s->nr = data.nr;
  for (int i = 0; i < 6; ++i) s->args[i] = data.args[i];
  s->name = SyscallName(s->abi, s->nr);
  if (s->abi == SyscallAbi::kX86_64) {
    MemoryReader reader = [tid](uint64_t addr, size_t max) -> std::optional<std::string> {
      auto bytes = ReadMemory(tid, addr, max);
      if (!bytes.ok()) return std::nullopt;
      return *bytes;
    };
    s->decoded_args = DecodeSyscallArgs(s->nr, s->args, reader);
  } else {
    // Only the native table has signatures: foreign calls show raw values,
    // as many as the call takes.
    s->decoded_args =
        DecodeRawArgs(s->args, ForeignArgCount(s->abi == SyscallAbi::kI386, s->name));
  }
  s->call = FormatSyscallCall(s->name, s->decoded_args);
}

ViolationKind ClassifySignal(const siginfo_t& info) {
  if (IsOurPageFaultTrap(info)) return ViolationKind::kPageFault;
  // A positive si_code means the kernel raised it for what the thread did
  // (a fault, a breakpoint, a seccomp trap); sent signals have codes <= 0.
  if (IsTrapSignal(info.si_signo) && info.si_code > 0) return ViolationKind::kTrap;
  return ViolationKind::kSignal;
}

namespace {

// The likely cause of a fault in `m`, and what to do about it.
std::string FaultHint(const MemoryMapping& m, const std::string& access) {
  const bool write = access == "write";
  if (m.name == "[stack]") {
    return "stack growth: a stack page touched for the first time; touch the stack the "
           "strict code needs before entering (or mlockall)";
  }
  if (m.name == "[heap]") {
    return "first touch of heap memory (allocated after mlockall(MCL_CURRENT), or never "
           "written); write it, or mlockall(MCL_CURRENT | MCL_FUTURE), before entering";
  }
  if (m.name.rfind("[vvar", 0) == 0) {
    return "the vDSO's data page on first use (clock_gettime, gettimeofday); call it once "
           "before entering";
  }
  if (m.name == "[vdso]") return "the vDSO's code on first use; call it once before entering";
  if (m.name.empty()) {
    return "first touch of anonymous memory (.bss, mmap, a thread stack); lock and pre-fault "
           "it (mlockall(MCL_CURRENT | MCL_FUTURE), then write it) before entering";
  }
  if (write && !m.shared) {
    return "copy-on-write of a private file page (.data, or any page after fork); write it "
           "before entering";
  }
  return "first access to a file page (not yet mapped in, or reclaimed); mlockall before "
         "entering keeps it";
}

}  // namespace

FaultContext DescribeFaultAddress(uint64_t address, const std::string& access,
                                  const std::vector<MemoryMapping>& maps, const Frame& symbol) {
  FaultContext context;
  context.known = true;
  const MemoryMapping* in = nullptr;
  for (const MemoryMapping& m : maps) {
    if (m.Contains(address)) in = &m;
  }
  if (in == nullptr) {
    context.mapping = "unmapped";
    context.hint = "the address is not mapped: the fault ends in SIGSEGV";
    return context;
  }
  context.mapping = in->name.empty() ? "anonymous" : in->name;
  const bool file = !in->name.empty() && in->name[0] == '/';
  context.offset = address - in->start + (file ? in->file_offset : 0);
  if (!symbol.function.empty()) {
    context.symbol = symbol.function;
    context.symbol_offset = symbol.offset;
  }
  context.hint = FaultHint(*in, access);
  return context;
}

bool EndsAPageFault(const siginfo_t& info) {
  if (info.si_signo == SIGSEGV) {
    return info.si_code == SEGV_MAPERR || info.si_code == SEGV_ACCERR ||
           info.si_code == SEGV_PKUERR;
  }
  if (info.si_signo == SIGBUS) return info.si_code == BUS_ADRERR || info.si_code == BUS_OBJERR;
  return false;
}

std::string SiCodeName(int signo, int code) {
  switch (code) {
    case SI_USER:
      return "SI_USER";
    case SI_KERNEL:
      return "SI_KERNEL";
    case SI_QUEUE:
      return "SI_QUEUE";
    case SI_TIMER:
      return "SI_TIMER";
    case SI_MESGQ:
      return "SI_MESGQ";
    case SI_ASYNCIO:
      return "SI_ASYNCIO";
    case SI_SIGIO:
      return "SI_SIGIO";
    case SI_TKILL:
      return "SI_TKILL";
  }
  struct Name {
    int signo, code;
    const char* name;
  };
  static constexpr Name kNames[] = {
      {SIGSEGV, SEGV_MAPERR, "SEGV_MAPERR"}, {SIGSEGV, SEGV_ACCERR, "SEGV_ACCERR"},
      {SIGSEGV, SEGV_BNDERR, "SEGV_BNDERR"}, {SIGSEGV, SEGV_PKUERR, "SEGV_PKUERR"},
      {SIGBUS, BUS_ADRALN, "BUS_ADRALN"},    {SIGBUS, BUS_ADRERR, "BUS_ADRERR"},
      {SIGBUS, BUS_OBJERR, "BUS_OBJERR"},    {SIGBUS, BUS_MCEERR_AR, "BUS_MCEERR_AR"},
      {SIGILL, ILL_ILLOPC, "ILL_ILLOPC"},    {SIGILL, ILL_ILLOPN, "ILL_ILLOPN"},
      {SIGILL, ILL_ILLADR, "ILL_ILLADR"},    {SIGILL, ILL_ILLTRP, "ILL_ILLTRP"},
      {SIGILL, ILL_PRVOPC, "ILL_PRVOPC"},    {SIGILL, ILL_PRVREG, "ILL_PRVREG"},
      {SIGILL, ILL_COPROC, "ILL_COPROC"},    {SIGILL, ILL_BADSTK, "ILL_BADSTK"},
      {SIGFPE, FPE_INTDIV, "FPE_INTDIV"},    {SIGFPE, FPE_INTOVF, "FPE_INTOVF"},
      {SIGFPE, FPE_FLTDIV, "FPE_FLTDIV"},    {SIGFPE, FPE_FLTOVF, "FPE_FLTOVF"},
      {SIGFPE, FPE_FLTUND, "FPE_FLTUND"},    {SIGFPE, FPE_FLTRES, "FPE_FLTRES"},
      {SIGFPE, FPE_FLTINV, "FPE_FLTINV"},    {SIGFPE, FPE_FLTSUB, "FPE_FLTSUB"},
      {SIGTRAP, TRAP_BRKPT, "TRAP_BRKPT"},   {SIGTRAP, TRAP_TRACE, "TRAP_TRACE"},
      {SIGTRAP, TRAP_BRANCH, "TRAP_BRANCH"}, {SIGTRAP, TRAP_HWBKPT, "TRAP_HWBKPT"},
      {SIGTRAP, TRAP_PERF, "TRAP_PERF"},     {SIGSYS, 1 /* SYS_SECCOMP */, "SYS_SECCOMP"},
      {SIGCHLD, CLD_EXITED, "CLD_EXITED"},   {SIGCHLD, CLD_KILLED, "CLD_KILLED"},
      {SIGCHLD, CLD_DUMPED, "CLD_DUMPED"},   {SIGCHLD, CLD_TRAPPED, "CLD_TRAPPED"},
      {SIGCHLD, CLD_STOPPED, "CLD_STOPPED"}, {SIGCHLD, CLD_CONTINUED, "CLD_CONTINUED"},
  };
  for (const Name& n : kNames) {
    if (n.signo == signo && n.code == code) return n.name;
  }
  return absl::StrCat(code);
}

void DescribeSignal(pid_t tid, const siginfo_t& info, const user_regs_struct& regs,
                    SignalDetails* d) {
  d->signo = info.si_signo;
  d->signal_name = SignalName(info.si_signo);
  d->si_code = info.si_code;
  d->si_code_name = SiCodeName(info.si_signo, info.si_code);
  if (IsTrapSignal(info.si_signo) && info.si_code > 0) {
    d->fault_address = reinterpret_cast<uint64_t>(info.si_addr);
    d->has_fault_address = info.si_code != SI_KERNEL || d->fault_address != 0;
  }
  // The page-fault event cannot tell reads from writes.
  d->access = "unknown";
  if (HasSender(info.si_code) || info.si_signo == SIGCHLD) {
    d->has_sender = true;
    d->sender_pid = info.si_pid;
    d->sender_uid = info.si_uid;
  }
  // Without IA32 emulation the kernel turns int 0x80 into a general
  // protection fault (SIGSEGV, SI_KERNEL) with the pc at the instruction.
  if (info.si_signo == SIGSEGV && info.si_code == SI_KERNEL) {
    auto bytes = ReadMemory(tid, regs.rip, 2);
    if (bytes.ok() && bytes->size() == 2 && static_cast<unsigned char>((*bytes)[0]) == 0xcd &&
        static_cast<unsigned char>((*bytes)[1]) == 0x80) {
      d->foreign_instruction = "int 0x80";
    }
  }
}

}  // namespace dpsupervise
