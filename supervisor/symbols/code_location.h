// code_location.h: functions named on the command line (--enter-at and
// --leave-at): their parsing, and their search in the symbol tables of a
// process's modules or of an executable file. The process's libdwfl session
// is the Symbolizer's (symbolize.h: Symbolizer::ResolveCodeLocation).
#ifndef DPSUPERVISE_SUPERVISOR_SYMBOLS_CODE_LOCATION_H_
#define DPSUPERVISE_SUPERVISOR_SYMBOLS_CODE_LOCATION_H_

#include <stdint.h>
#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// libdwfl's session, declared at global scope as elfutils does.
struct Dwfl;

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

// Looks `location` up in the modules of process `pid` that `dwfl` has been
// told of (dwfl_linux_proc_report; Symbolizer::ResolveCodeLocation keeps
// them current), through their .symtab and .dynsym. An address is returned
// as it is. A plain SYMBOL is searched in the main executable
// (/proc/PID/exe); LIB:SYMBOL in the first module whose file name starts
// with LIB. Symbols match by their ELF name or by their demangled name
// without the parameter list ("ns::Poll" for "_ZN2ns4PollEv"). NotFound
// when the library is not loaded (yet); InvalidArgument when the module is
// there but has no such symbol.
absl::StatusOr<uint64_t> FindCodeLocation(Dwfl* dwfl, pid_t pid, const CodeLocation& location);

// The error of a lookup in process `pid` whose modules could not be read
// (`why`): Internal, never NotFound, which means "not loaded yet, ask again"
// and would keep a location of a process that is gone pending forever.
absl::Status ModulesUnreadableError(pid_t pid, const absl::Status& why);

// Checks a plain SYMBOL against an executable file before launching it, so
// that a typo fails at once (exit 2) instead of never triggering.
absl::Status CheckSymbolInFile(const std::string& path, const CodeLocation& location);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_SYMBOLS_CODE_LOCATION_H_
