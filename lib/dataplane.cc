#include "lib/dataplane.h"

#include <errno.h>
#include <sys/prctl.h>

// Every entry point is one prctl: the only syscall a strict thread may make.

extern "C" int dp_enter_strict(int flags) {
  return prctl(PR_SET_DATAPLANE, static_cast<unsigned long>(flags | PR_DATAPLANE_STRICT), 0, 0, 0);
}

extern "C" int dp_exit_strict(void) { return prctl(PR_SET_DATAPLANE, 0UL, 0, 0, 0); }

extern "C" int dp_status(void) { return prctl(PR_GET_DATAPLANE, 0, 0, 0, 0); }

extern "C" int dp_supervised(void) {
  const int saved_errno = errno;
  const int supervised = prctl(PR_GET_DATAPLANE, 0, 0, 0, 0) >= 0;
  errno = saved_errno;
  return supervised;
}
