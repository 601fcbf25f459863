// violation.h: one strict-mode violation, as observed, before it is reported
// and acted on.
#ifndef DPSUPERVISE_SUPERVISOR_VIOLATION_H_
#define DPSUPERVISE_SUPERVISOR_VIOLATION_H_

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include <array>
#include <string>

#include "supervisor/syscall_names.h"

namespace dpsupervise {

enum class ViolationKind { kSyscall, kPageFault, kTrap, kSignal };

// "syscall", "page_fault", "trap", "signal": the names policies and JSON use.
const char* ViolationKindName(ViolationKind kind);

struct SyscallDetails {
  SyscallAbi abi = SyscallAbi::kX86_64;
  uint64_t nr = 0;
  std::string name;
  std::array<uint64_t, 6> args{};
  std::string call;  // decoded, strace-style: "write(1, \"hi\\n\", 3)"
  uint64_t instruction_pointer = 0;  // just after the syscall instruction
};

struct Violation {
  ViolationKind kind = ViolationKind::kSyscall;
  pid_t pid = 0;  // thread group
  pid_t tid = 0;
  std::string thread_name;
  std::string process_name;
  int cpu = -1;  // -1: unknown
  user_regs_struct regs{};
  SyscallDetails syscall;  // kind == kSyscall
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_VIOLATION_H_
