// prefault.h: populates a stopped process's page tables from outside, so
// that its first touches of already-mapped memory do not fault.
//
// Used by --strict=exec, where the program is strict from its first
// instruction: without it, the very first instruction fetch would be a page
// fault. Reading a page through process_vm_readv faults it in for the
// tracee (the kernel's GUP runs on the tracee's mm); writing the same bytes
// back to a writable private page breaks copy-on-write in advance.
#ifndef DPSUPERVISE_SUPERVISOR_NOISE_PREFAULT_H_
#define DPSUPERVISE_SUPERVISOR_NOISE_PREFAULT_H_

#include <sys/types.h>

#include "absl/status/status.h"

namespace dpsupervise {

// Walks /proc/<pid>/maps. `pid` must be stopped (ptrace-stopped is fine).
absl::Status PrefaultAddressSpace(pid_t pid);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_NOISE_PREFAULT_H_
