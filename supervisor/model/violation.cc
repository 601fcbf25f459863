#include "supervisor/model/violation.h"

#include <string>

namespace dpsupervise {

const char* ViolationKindName(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::kSyscall:
      return "syscall";
    case ViolationKind::kPageFault:
      return "page_fault";
    case ViolationKind::kTrap:
      return "trap";
    case ViolationKind::kSignal:
      return "signal";
    case ViolationKind::kIpi:
      return "ipi";
    case ViolationKind::kIrq:
      return "irq";
    case ViolationKind::kTimer:
      return "timer";
    case ViolationKind::kSoftirq:
      return "softirq";
    case ViolationKind::kPreemption:
      return "preemption";
    case ViolationKind::kMigration:
      return "migration";
  }
  return "unknown";
}

bool IsInterruptionKind(ViolationKind kind) {
  switch (kind) {
    case ViolationKind::kSyscall:
    case ViolationKind::kPageFault:
    case ViolationKind::kTrap:
    case ViolationKind::kSignal:
      return false;
    case ViolationKind::kIpi:
    case ViolationKind::kIrq:
    case ViolationKind::kTimer:
    case ViolationKind::kSoftirq:
    case ViolationKind::kPreemption:
    case ViolationKind::kMigration:
      return true;
  }
  return false;
}

std::string ViolationKindList() {
  std::string list;
  const size_t count = sizeof(kAllViolationKinds) / sizeof(kAllViolationKinds[0]);
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) list += i + 1 == count ? " or " : ", ";
    list += ViolationKindName(kAllViolationKinds[i]);
  }
  return list;
}

std::optional<ViolationKind> ViolationKindFromName(absl::string_view name) {
  for (ViolationKind kind : kAllViolationKinds) {
    if (name == ViolationKindName(kind)) return kind;
  }
  return std::nullopt;
}

}  // namespace dpsupervise
