// signal_forwarding.h: what dpsupervise does when it is signalled itself.
//
// SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on to the program, and
// dpsupervise keeps supervising until the program ends, then exits with its
// status: Ctrl-C reaches the program's handler, `kill dpsupervise` asks the
// program to stop. A signal the terminal sent to the whole foreground
// process group (si_code SI_KERNEL) already reached the program, when it is
// still in dpsupervise's process group, and is not sent twice. SIGINT and
// SIGTERM also count towards the forced exit (forced_exit.h): a second one,
// or the end of the grace period after the first, ends dpsupervise for sure.
#ifndef DPSUPERVISE_SUPERVISOR_OS_SIGNAL_FORWARDING_H_
#define DPSUPERVISE_SUPERVISOR_OS_SIGNAL_FORWARDING_H_

#include <sys/types.h>

#include "absl/status/status.h"

namespace dpsupervise {

// Installs the handlers; `program` is the launched process. Fails with the
// sigaction error.
absl::Status ForwardSignalsTo(pid_t program);

}  // namespace dpsupervise

#endif  // DPSUPERVISE_SUPERVISOR_OS_SIGNAL_FORWARDING_H_
