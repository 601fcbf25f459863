// bpf_interpreter.h: runs a seccomp classic-BPF program in user space.
//
// In attach mode no filter may be left in the program, so the strict
// thread's syscalls are stopped with PTRACE_SYSCALL instead and judged here
// by the very program that launch mode would have installed: one policy,
// one meaning, whichever mechanism enforces it.
#ifndef DPSUPERVISE_SUPERVISOR_SECCOMP_BPF_INTERPRETER_H_
#define DPSUPERVISE_SUPERVISOR_SECCOMP_BPF_INTERPRETER_H_

#include <linux/seccomp.h>
#include <stdint.h>

#include "absl/status/statusor.h"
#include "supervisor/seccomp/bpf_program.h"

namespace dpsupervise {

// The SECCOMP_RET_* value `program` returns for `data`, or an error for an
// instruction seccomp would have rejected (out-of-range load or jump).
absl::StatusOr<uint32_t> RunSeccompFilter(const BpfProgram& program, const seccomp_data& data);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_SECCOMP_BPF_INTERPRETER_H_
