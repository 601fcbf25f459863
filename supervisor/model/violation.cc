#include "supervisor/model/violation.h"

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
  }
  return "unknown";
}

std::optional<ViolationKind> ViolationKindFromName(absl::string_view name) {
  for (ViolationKind kind : kAllViolationKinds) {
    if (name == ViolationKindName(kind)) return kind;
  }
  return std::nullopt;
}

}  // namespace dpsupervise
