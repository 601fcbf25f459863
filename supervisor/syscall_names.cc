#include "supervisor/syscall_names.h"

#include <linux/audit.h>
#include <seccomp.h>
#include <stdlib.h>

#include "absl/strings/str_cat.h"

namespace dpsupervise {
namespace {
// x32 syscalls are x86-64 entries with this bit set in the number.
constexpr uint64_t kX32SyscallBit = 0x40000000;
}  // namespace

SyscallAbi ClassifyAbi(uint32_t audit_arch, uint64_t nr) {
  if (audit_arch == AUDIT_ARCH_I386) return SyscallAbi::kI386;
  if (audit_arch == AUDIT_ARCH_X86_64) {
    return (nr & kX32SyscallBit) ? SyscallAbi::kX32 : SyscallAbi::kX86_64;
  }
  return SyscallAbi::kUnknown;
}

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
      return absl::StrCat("syscall_", nr);
  }
  char* name = nr <= 0x7fffffff ? seccomp_syscall_resolve_num_arch(token, static_cast<int>(nr))
                                : nullptr;
  if (name == nullptr && abi == SyscallAbi::kX32) {
    name = seccomp_syscall_resolve_num_arch(token, static_cast<int>(nr & ~kX32SyscallBit));
  }
  if (name == nullptr) return absl::StrCat("syscall_", nr);
  std::string result(name);
  free(name);
  return result;
}

int SyscallNumber(const std::string& name) {
  int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str());
  return nr == __NR_SCMP_ERROR ? -1 : nr;
}

}  // namespace dpsupervise
