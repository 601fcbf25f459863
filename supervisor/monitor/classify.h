// classify.h: turns what the kernel reported about a stopped strict thread
// (a seccomp stop, or a signal-delivery-stop with its siginfo) into a
// Violation record with every detail the report needs.
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_CLASSIFY_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_CLASSIFY_H_

#include <signal.h>
#include <sys/types.h>
#include <sys/user.h>
#include <linux/seccomp.h>

#include <string>

#include <vector>

#include "supervisor/model/violation.h"
#include "supervisor/os/procfs.h"

namespace dpsupervise {

// A violation of `kind` by `tid` of `pid`, with names, CPU and time filled.
Violation NewViolation(ViolationKind kind, pid_t pid, pid_t tid, const user_regs_struct& regs);

// Fills the syscall details of a thread stopped at syscall `data` (a
// seccomp, syscall-entry or syscall user dispatch stop): ABI, number, name,
// arguments decoded strace-style from its memory.
void DescribeSyscall(pid_t tid, const user_regs_struct& regs, const seccomp_data& data,
                     SyscallDetails* details);

// What a signal-delivery-stop of a strict thread means: our page-fault
// SIGTRAP, a synchronous fault or trap of the thread itself, or a signal
// sent to it.
ViolationKind ClassifySignal(const siginfo_t& info);

// Fills signal name, code, fault address and sender from `info`, and, for
// a SIGSEGV at an `int 0x80` instruction (a 32-bit syscall on a kernel
// without IA32 emulation), names that instruction.
void DescribeSignal(pid_t tid, const siginfo_t& info, const user_regs_struct& regs,
                    SignalDetails* details);

// Where `address` is among `maps` and what most likely made touching it a
// page fault (`access`: "read", "write", "exec" or "unknown"); `symbol` is
// what the process's symbols say of the address (its function field names
// a data symbol, if any covers it).
FaultContext DescribeFaultAddress(uint64_t address, const std::string& access,
                                  const std::vector<MemoryMapping>& maps, const Frame& symbol);

// "SEGV_MAPERR", "SI_USER", "TRAP_PERF", ... or the number.
std::string SiCodeName(int signo, int code);

// SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS.
bool IsTrapSignal(int signo);

// A SIGSEGV or SIGBUS the kernel raised at the end of a page fault (bad
// address, protection, pkey, past the end of a file), as opposed to one
// from a general protection fault or an alignment check.
bool EndsAPageFault(const siginfo_t& info);

// The legacy vsyscall page (0xffffffffff600000): a call there faults and the
// kernel emulates the syscall, so its pc cannot be rewound.
inline bool InVsyscallPage(uint64_t address) {
  return address >= 0xffffffffff600000ULL && address < 0xffffffffff601000ULL;
}

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_CLASSIFY_H_
