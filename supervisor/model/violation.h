// violation.h: one strict-mode violation, as observed, before it is reported
// and acted on.
#ifndef DPSUPERVISE_SUPERVISOR_MODEL_VIOLATION_H_
#define DPSUPERVISE_SUPERVISOR_MODEL_VIOLATION_H_

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "supervisor/syscalls/syscall_decode.h"
#include "supervisor/syscalls/syscall_names.h"

namespace dpsupervise {

// The first four are kernel entries the thread makes. The others are
// interruptions: what the kernel does to a strict thread, seen after the
// fact in its tracepoints (--noise); they are violations only for a kind
// given an action by name (ActionTable::Acts), noise otherwise.
enum class ViolationKind {
  kSyscall,
  kPageFault,
  kTrap,
  kSignal,
  kIpi,
  kIrq,
  kTimer,
  kSoftirq,
  kPreemption,
  kMigration,
};

// Every kind, in the order reports, summaries and policies list them. A new
// kind is added to the enum and here; the build's -Werror (-Wswitch) then
// names every switch that must handle it (switches over ViolationKind have
// no `default`).
inline constexpr ViolationKind kAllViolationKinds[] = {
    ViolationKind::kSyscall, ViolationKind::kPageFault,  ViolationKind::kTrap,
    ViolationKind::kSignal,  ViolationKind::kIpi,        ViolationKind::kIrq,
    ViolationKind::kTimer,   ViolationKind::kSoftirq,    ViolationKind::kPreemption,
    ViolationKind::kMigration};

// "syscall", "page_fault", "trap", "signal", "ipi", "irq", "timer",
// "softirq", "preemption", "migration": the names policies and JSON use
// (the interruption kinds are the noise events' kind names).
const char* ViolationKindName(ViolationKind kind);

// The kind named `name` (as ViolationKindName gives it), or nullopt.
std::optional<ViolationKind> ViolationKindFromName(absl::string_view name);

// An interruption kind (ipi .. migration): seen in the kernel's
// tracepoints after the fact, not at a stop of the thread's own.
bool IsInterruptionKind(ViolationKind kind);

// The kinds' names joined with ", " and the last with " or "
// ("syscall, page_fault, ... or migration"), for messages.
std::string ViolationKindList();

struct SyscallDetails {
  SyscallAbi abi = SyscallAbi::kX86_64;
  uint64_t nr = 0;
  std::string name;
  std::array<uint64_t, 6> args{};
  // Decoded, strace-style: write(1, "hi\n", 3).
  std::string call;
  // One entry per argument: name, kind, raw value and rendered text, as the
  // decoder gives them (the report shows them as they are).
  std::vector<DecodedArg> decoded_args;
  uint64_t instruction_pointer = 0;  // just after the syscall instruction
};

// What the kernel said about a fault or a signal (from siginfo).
// Where a faulting address is (page faults, and traps at an address): the
// mapping it falls in, the data symbol it is inside, and the likely cause.
struct FaultContext {
  bool known = false;
  // "[heap]", "[stack]", "[vdso]", "[vvar]", a file's path, "anonymous",
  // or "unmapped".
  std::string mapping;
  uint64_t offset = 0;  // into the file for a file mapping, else into the mapping
  std::string symbol;   // "g_table", empty when none covers the address
  uint64_t symbol_offset = 0;
  std::string hint;     // the common cause and its fix, one sentence
};

struct SignalDetails {
  int signo = 0;
  std::string signal_name;  // "SIGSEGV"
  int si_code = 0;
  std::string si_code_name;  // "SEGV_MAPERR", "SI_USER", "TRAP_PERF", ...
  uint64_t fault_address = 0;
  bool has_fault_address = false;
  // Page faults: "read", "write", "exec" or "unknown".
  std::string access = "unknown";
  FaultContext fault_context;
  // kind == kSignal: who sent it (SI_USER, SI_TKILL, SI_QUEUE, timers).
  bool has_sender = false;
  pid_t sender_pid = 0;
  uid_t sender_uid = 0;
  // A foreign-ABI syscall that the kernel turned into a fault (int 0x80
  // without IA32 emulation): "int 0x80".
  std::string foreign_instruction;
};

// An interruption of a strict thread (kinds kIpi .. kMigration), as the
// noise tracer attributed it (its noise record, docs/report.md).
struct InterruptionDetails {
  int64_t start_ns = 0;     // when it began (the noise record's clock)
  int64_t duration_ns = 0;  // entry to exit, or time off the CPU
  // What the noise summary groups by: "ipi call_function_single
  // membarrier_private_expedited", "preemption by cpu-hog", "irq 24 virtio0".
  std::string cause;
  // The noise line's detail: "call_function_single from ipi-sender (pid 9
  // tid 10 cpu 0) by membarrier_private_expedited", "by cpu-hog (pid ..)".
  std::string detail;
  // The event's JSON noise record, one line: the violation's JSON carries
  // it whole as its "interruption" (same fields, one definition).
  std::string noise_record;
};

// One frame of a symbolized backtrace.
struct Frame {
  uint64_t pc = 0;
  std::string function;  // demangled; empty: unknown ("??" in text)
  uint64_t offset = 0;   // pc - function start
  std::string module;    // path of the ELF file, or "[vdso]"
  std::string file;      // source file, empty when no debug info
  int line = 0;          // 0: unknown
};

struct Violation {
  ViolationKind kind = ViolationKind::kSyscall;
  pid_t pid = 0;  // thread group
  pid_t tid = 0;
  std::string thread_name;
  std::string process_name;
  int cpu = -1;  // -1: unknown
  // CLOCK_REALTIME when seen, for the JSON record.
  int64_t time_ns = 0;
  user_regs_struct regs{};
  SyscallDetails syscall;  // kind == kSyscall
  SignalDetails signal;    // kinds kPageFault, kTrap, kSignal
  InterruptionDetails interruption;  // kinds kIpi .. kMigration
  // Innermost first; frames[0].pc == regs.rip. Empty when not symbolized.
  std::vector<Frame> backtrace;
  std::string backtrace_error;  // why there is no backtrace, if none
  // How it was seen, when that is unusual (a syscall through the vsyscall
  // page, page faults found after the fact); empty otherwise.
  std::string note;
  // What dpsupervise did about it: "kill", "signal SIGUSR1", "stop", "gdb",
  // "log", "errno EPERM", and a sentence for the text report.
  std::string action;
  std::string action_detail;
};

// Reports of a series of identical violations (same thread, kind and site)
// held back by the report limit (--report-limit): the violations were acted
// on and counted, only their reports were not written.
struct SuppressedReports {
  pid_t pid = 0;
  pid_t tid = 0;
  std::string thread_name;
  ViolationKind kind = ViolationKind::kSyscall;
  // What the series has in common: "getpid" (a syscall's name), "pc
  // 0x401136" (a page fault or trap), "SIGUSR1" (a signal).
  std::string site;
  long long suppressed = 0;  // reports held back since the series' last line
  long long total = 0;       // violations of the series so far
  int64_t time_ns = 0;       // CLOCK_REALTIME of the latest one
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MODEL_VIOLATION_H_
