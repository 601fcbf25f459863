// Exercises the prctl ABI's error cases under supervision: unknown flag
// bits and bad signal numbers are EINVAL; PR_GET_DATAPLANE reports 0 when
// not strict. Prints one line per check and exits 0 when all hold.
#include "testdata/strict_test_util.h"

#include <sys/prctl.h>

namespace {
int failures = 0;

void Expect(const char* what, bool ok) {
  printf("%s: %s\n", what, ok ? "ok" : "FAILED");
  if (!ok) ++failures;
}
}  // namespace

int main() {
  errno = 0;
  Expect("unknown bit EINVAL", prctl(PR_SET_DATAPLANE, 1UL << 20, 0, 0, 0) == -1 && errno == EINVAL);
  errno = 0;
  Expect("upper bits EINVAL",
         prctl(PR_SET_DATAPLANE, (1UL << 40) | PR_DATAPLANE_STRICT, 0, 0, 0) == -1 &&
             errno == EINVAL);
  errno = 0;
  Expect("signal 200 EINVAL",
         prctl(PR_SET_DATAPLANE, PR_DATAPLANE_STRICT | PR_DATAPLANE_SIG(200), 0, 0, 0) == -1 &&
             errno == EINVAL);
  Expect("get is 0", prctl(PR_GET_DATAPLANE, 0, 0, 0, 0) == 0);
  Expect("quiesce alone ok", prctl(PR_SET_DATAPLANE, PR_DATAPLANE_QUIESCE, 0, 0, 0) == 0);
  Expect("get is quiesce", prctl(PR_GET_DATAPLANE, 0, 0, 0, 0) == PR_DATAPLANE_QUIESCE);
  Expect("leave ok", prctl(PR_SET_DATAPLANE, 0, 0, 0, 0) == 0);
  return failures == 0 ? 0 : 1;
}
