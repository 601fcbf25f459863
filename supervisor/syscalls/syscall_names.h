// syscall_names.h: syscall numbers to names, per ABI, via libseccomp's tables.
#ifndef DPSUPERVISE_SUPERVISOR_SYSCALLS_SYSCALL_NAMES_H_
#define DPSUPERVISE_SUPERVISOR_SYSCALLS_SYSCALL_NAMES_H_

#include <stdint.h>

#include <string>

namespace dpsupervise {

// The ABIs a thread can enter the kernel through on x86-64.
enum class SyscallAbi { kX86_64, kX32, kI386, kUnknown };

// Classifies a syscall from the AUDIT_ARCH value and number the kernel gives,
// as the kernel dispatches it: on AUDIT_ARCH_X86_64, x32 only when the
// number (its low 32 bits) has __X32_SYSCALL_BIT and, without it, is within
// the x32 table; any other number, -1 included, is x86-64.
SyscallAbi ClassifyAbi(uint32_t audit_arch, uint64_t nr);

// "x86-64", "x32", "x86-32".
const char* AbiName(SyscallAbi abi);

// The syscall's name in `abi`'s table, or UnknownSyscallName(nr).
std::string SyscallName(SyscallAbi abi, uint64_t nr);

// strace's name for a number no table knows: "syscall_0x" and the number in
// hex, e.g. syscall_0x3e7, syscall_0xffffffffffffffff for -1.
std::string UnknownSyscallName(uint64_t nr);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_SYSCALLS_SYSCALL_NAMES_H_
