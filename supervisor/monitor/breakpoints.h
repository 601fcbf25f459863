// breakpoints.h: the software breakpoints (int3) of --enter-at and
// --leave-at in the supervised process, and the locations not resolved yet
// (their library is not loaded). The bytes are read and written through
// /proc/TID/mem; stepping a thread over one is the monitor's
// (breakpoint_stops.cc).
#ifndef DPSUPERVISE_SUPERVISOR_MONITOR_BREAKPOINTS_H_
#define DPSUPERVISE_SUPERVISOR_MONITOR_BREAKPOINTS_H_

#include <stdint.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "supervisor/symbols/symbol_lookup.h"

namespace dpsupervise {

class Breakpoints {
 public:
  enum class Role {
    kEnter,       // --enter-at: the thread that gets there becomes strict
    kLeave,       // --leave-at: it stops being strict
    kEntryPoint,  // the program's entry: resolve locations in libraries
  };
  struct Breakpoint {
    uint64_t address = 0;
    uint8_t original = 0;
    Role role = Role::kEnter;
    std::string label;  // the location as the user wrote it
  };

  // Finds a location's address in process `pid` (any live thread of it):
  // NotFound while its library is not loaded.
  using Resolver = std::function<absl::StatusOr<uint64_t>(pid_t pid, const CodeLocation&)>;

  // `resolve` defaults to a one-shot lookup (symbol_lookup.h); the monitor
  // gives the process's own symbol session.
  Breakpoints(const std::vector<CodeLocation>& enter_at,
              const std::vector<CodeLocation>& leave_at, Resolver resolve = ResolveCodeLocation);

  bool empty() const { return inserted_.empty(); }
  bool has_pending() const { return !pending_.empty(); }
  // The breakpoint at `address`, or null.
  const Breakpoint* At(uint64_t address) const;

  // Inserts the breakpoints of every pending location that resolves in
  // process `pid` (any live thread of it); the others stay pending.
  absl::Status ArmPending(pid_t pid);
  // At the program's exec: as ArmPending, plus a breakpoint at its entry
  // point when locations are left, where the dynamic loader has mapped the
  // libraries they may be in.
  absl::Status ArmAtExec(pid_t pid);
  // Gives up on the pending locations (they could not be resolved).
  void DropPending() { pending_.clear(); }

  absl::Status Insert(pid_t pid, uint64_t address, Role role, const std::string& label);
  // Best effort: a process that has gone needs no cleaning.
  void Remove(pid_t pid, uint64_t address);
  void RemoveRole(pid_t pid, Role role);
  void RemoveAll(pid_t pid);
  // Restores the original bytes in a forked copy of the address space; the
  // table still describes the process the breakpoints were set in.
  void RemoveFromCopy(pid_t pid) const;

  // Takes the int3 of `breakpoint` out (to execute the original
  // instruction) and puts it back. NotFound when the process has gone.
  static absl::Status Lift(pid_t pid, const Breakpoint& breakpoint);
  static absl::Status Restore(pid_t pid, const Breakpoint& breakpoint);

 private:
  struct PendingLocation {
    CodeLocation location;
    Role role;
  };
  Resolver resolve_;
  std::map<uint64_t, Breakpoint> inserted_;
  std::vector<PendingLocation> pending_;
};

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_MONITOR_BREAKPOINTS_H_
