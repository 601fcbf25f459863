// symbol_lookup.h: where a function named on the command line lives in a
// running process (for --enter-at and --leave-at breakpoints), for a caller
// that keeps no Symbolizer of the process. One that asks repeatedly (a
// location pending until its library is loaded) should keep a Symbolizer
// and call Symbolizer::ResolveCodeLocation instead: the session, its module
// list and the loaded symbol tables are then kept between lookups.
#ifndef DPSUPERVISE_SUPERVISOR_SYMBOLS_SYMBOL_LOOKUP_H_
#define DPSUPERVISE_SUPERVISOR_SYMBOLS_SYMBOL_LOOKUP_H_

#include <stdint.h>
#include <sys/types.h>

#include "absl/status/statusor.h"
#include "supervisor/symbols/code_location.h"

namespace dpsupervise {

// Symbolizer::ResolveCodeLocation of a Symbolizer made for this one lookup:
// NotFound when the library is not loaded (yet), InvalidArgument when the
// module has no such function, Internal when the process's modules cannot
// be read.
absl::StatusOr<uint64_t> ResolveCodeLocation(pid_t pid, const CodeLocation& location);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_SYMBOLS_SYMBOL_LOOKUP_H_
