#include "supervisor/symbols/symbol_lookup.h"

#include <memory>

#include "supervisor/symbols/symbolize.h"

namespace dpsupervise {

absl::StatusOr<uint64_t> ResolveCodeLocation(pid_t pid, const CodeLocation& location) {
  if (location.symbol.empty()) return location.address;
  absl::StatusOr<std::unique_ptr<Symbolizer>> symbolizer = Symbolizer::Create(pid);
  if (!symbolizer.ok()) return ModulesUnreadableError(pid, symbolizer.status());
  return (*symbolizer)->ResolveCodeLocation(location);
}

}  // namespace dpsupervise
