// symbol_lookup.h: where a function named on the command line lives in a
// running process (for --enter-at and --leave-at breakpoints).
#ifndef DPSUPERVISE_SUPERVISOR_SYMBOLS_SYMBOL_LOOKUP_H_
#define DPSUPERVISE_SUPERVISOR_SYMBOLS_SYMBOL_LOOKUP_H_

#include <stdint.h>
#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace dpsupervise {

// A code location as the user wrote it: "SYMBOL", "LIB:SYMBOL" or "0xADDR".
struct CodeLocation {
  std::string text;     // as given, for messages
  std::string library;  // "LIB" of LIB:SYMBOL: matched against module file names
  std::string symbol;   // empty for an address
  uint64_t address = 0;
};

// Parses the command-line form. InvalidArgument on an empty or malformed one.
absl::StatusOr<CodeLocation> ParseCodeLocation(const std::string& text);

// Looks `location` up in the loaded modules of `pid` (.symtab and .dynsym,
// through elfutils). A plain SYMBOL is searched in the main executable;
// LIB:SYMBOL in the first module whose file name starts with LIB.
// Symbols match by their ELF name or by their demangled name without the
// parameter list ("ns::Poll" for "_ZN2ns4PollEv"). NotFound when the
// library is not loaded (yet); InvalidArgument when the module is there but
// has no such symbol.
absl::StatusOr<uint64_t> ResolveCodeLocation(pid_t pid, const CodeLocation& location);

// Checks a plain SYMBOL against an executable file before launching it, so
// that a typo fails at once (exit 2) instead of never triggering.
absl::Status CheckSymbolInFile(const std::string& path, const CodeLocation& location);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_SYMBOLS_SYMBOL_LOOKUP_H_
