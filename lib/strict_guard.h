// strict_guard.h: C++ RAII scope for dataplane strict mode.
//
//   {
//     dp::StrictGuard strict;            // prctl(PR_SET_DATAPLANE, STRICT)
//     if (!strict.ok()) { ...strict.error()... }
//     RunPollLoop();                       // no kernel entry allowed here
//   }                                      // leaves strict mode
//
// The guard never throws and never allocates: it may be used in a thread that
// is about to become strict.
#ifndef DPSUPERVISE_LIB_STRICT_GUARD_H_
#define DPSUPERVISE_LIB_STRICT_GUARD_H_

#include <errno.h>

#include "lib/dataplane.h"

namespace dp {

class StrictGuard {
 public:
  // Enters strict mode with `flags` (PR_DATAPLANE_STRICT implied).
  explicit StrictGuard(int flags = 0) : error_(0) {
    if (dp_enter_strict(flags) != 0) error_ = errno;
  }
  StrictGuard(const StrictGuard&) = delete;
  StrictGuard& operator=(const StrictGuard&) = delete;

  // Leaves strict mode, if entering succeeded.
  ~StrictGuard() {
    if (error_ == 0) dp_exit_strict();
  }

  // True when the thread is strict.
  bool ok() const { return error_ == 0; }
  // errno of the failed entry (EINVAL: not supervised), 0 on success.
  int error() const { return error_; }

 private:
  int error_;
};

}  // namespace dp

#endif  // DPSUPERVISE_LIB_STRICT_GUARD_H_
