// filtered_child.h: runs test code in a child under seccomp filters, traced
// by the test, and records every SECCOMP_RET_TRACE stop (cookie and syscall
// number). Shared by the filter and policy tests.
#ifndef DPSUPERVISE_TESTS_FILTERED_CHILD_H_
#define DPSUPERVISE_TESTS_FILTERED_CHILD_H_

#include <functional>
#include <ostream>
#include <vector>

#include "supervisor/seccomp/bpf_program.h"

namespace dpsupervise {

struct TraceStop {
  int cookie;
  long nr;
  bool operator==(const TraceStop& o) const { return cookie == o.cookie && nr == o.nr; }
};
void PrintTo(const TraceStop& s, std::ostream* os);

struct ChildRun {
  std::vector<TraceStop> stops;
  int exit_code = -1;
};

// A raw syscall, with no C library wrapper in between.
long Raw(long nr, long a0 = 0, long a1 = 0, long a2 = 0);

// Runs `body` in a child that loaded `filters`, traced with
// PTRACE_O_TRACESECCOMP; every trace stop is recorded and the syscall
// skipped with -ENOSYS, except the seccomp(2) calls that load `filters` (the
// base filter traces them): they run, unrecorded. The child's exit code is
// body's return value.
ChildRun RunFiltered(const std::vector<const BpfProgram*>& filters, std::function<int()> body);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_TESTS_FILTERED_CHILD_H_
