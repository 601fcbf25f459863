// bpf_program.h: a classic-BPF seccomp program held in supervisor memory.
#ifndef DPSUPERVISE_SUPERVISOR_SECCOMP_BPF_PROGRAM_H_
#define DPSUPERVISE_SUPERVISOR_SECCOMP_BPF_PROGRAM_H_

#include <linux/filter.h>

#include <vector>

namespace dpsupervise {

struct BpfProgram {
  std::vector<sock_filter> instructions;

  // A sock_fprog pointing into `instructions`; valid while this object lives
  // and is not modified. Usable for seccomp(2) in a forked child.
  sock_fprog AsFprog() const {
    sock_fprog prog;
    prog.len = static_cast<unsigned short>(instructions.size());
    prog.filter = const_cast<sock_filter*>(instructions.data());
    return prog;
  }
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_SECCOMP_BPF_PROGRAM_H_
