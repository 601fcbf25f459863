#include "supervisor/syscalls/syscall_names.h"

#include <linux/audit.h>
#include <seccomp.h>
#include <stdlib.h>

#include "absl/strings/str_cat.h"

namespace dpsupervise {
namespace {
// x32 syscalls are x86-64 entries with this bit set in the number
// (__X32_SYSCALL_BIT).
constexpr uint32_t kX32SyscallBit = 0x40000000;
// X32_NR_syscalls: the x32 table ends at 547 (pwritev2, in the 512..547
// block of x32-only entry points).
constexpr uint32_t kX32SyscallCount = 548;
}  // namespace

SyscallAbi ClassifyAbi(uint32_t audit_arch, uint64_t nr) {
  if (audit_arch == AUDIT_ARCH_I386) return SyscallAbi::kI386;
  if (audit_arch != AUDIT_ARCH_X86_64) return SyscallAbi::kUnknown;
  // As do_syscall_64() does: the number is the int in eax, and it is an x32
  // call only when, the bit taken off, it is in the x32 table's range.
  // Anything else, -1 ("no syscall") included, is an x86-64 number (the
  // kernel answers the unknown ones with ENOSYS).
  const uint32_t nr32 = static_cast<uint32_t>(nr);
  if (nr32 - kX32SyscallBit < kX32SyscallCount) return SyscallAbi::kX32;
  return SyscallAbi::kX86_64;
}

std::string UnknownSyscallName(uint64_t nr) { return absl::StrCat("syscall_0x", absl::Hex(nr)); }

const char* AbiName(SyscallAbi abi) {
  switch (abi) {
    case SyscallAbi::kX86_64:
      return "x86-64";
    case SyscallAbi::kX32:
      return "x32";
    case SyscallAbi::kI386:
      return "x86-32";
    case SyscallAbi::kUnknown:
      break;
  }
  return "unknown-abi";
}

std::string SyscallName(SyscallAbi abi, uint64_t nr) {
  uint32_t token = 0;
  switch (abi) {
    case SyscallAbi::kX86_64:
      token = SCMP_ARCH_X86_64;
      break;
    case SyscallAbi::kX32:
      token = SCMP_ARCH_X32;
      break;
    case SyscallAbi::kI386:
      token = SCMP_ARCH_X86;
      break;
    case SyscallAbi::kUnknown:
      return UnknownSyscallName(nr);
  }
  char* name = nr <= 0x7fffffff ? seccomp_syscall_resolve_num_arch(token, static_cast<int>(nr))
                                : nullptr;
  if (name == nullptr && abi == SyscallAbi::kX32) {
    name = seccomp_syscall_resolve_num_arch(token, static_cast<int>(nr & ~kX32SyscallBit));
  }
  if (name == nullptr) return UnknownSyscallName(nr);
  std::string result(name);
  free(name);
  return result;
}

}  // namespace dpsupervise
