#include "supervisor/os/wakeups.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "absl/strings/str_cat.h"
#include "supervisor/os/forced_exit.h"

namespace dpsupervise {
namespace {

volatile sig_atomic_t g_tick = 0;
volatile sig_atomic_t g_detach = 0;

void OnTick(int) { g_tick = 1; }
void OnDetach(int signal) {
  g_detach = 1;
  // A detach that does not finish in time, or a second signal, ends us
  // (forced_exit.h).
  NoteTerminationSignal(signal);
}

absl::Status Install(int signal, void (*handler)(int)) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = handler;
  action.sa_flags = 0;  // no SA_RESTART: waitpid must return EINTR
  sigemptyset(&action.sa_mask);
  if (sigaction(signal, &action, nullptr) != 0) {
    return absl::InternalError(absl::StrCat("sigaction(", strsignal(signal), "): ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status StartTicker(int interval_ms) {
  // Several users may ask: the shortest interval serves them all.
  static int running_ms = 0;
  if (running_ms != 0 && running_ms <= interval_ms) return absl::OkStatus();
  running_ms = interval_ms;
  absl::Status installed = Install(SIGALRM, OnTick);
  if (!installed.ok()) return installed;
  itimerval timer{};
  timer.it_interval.tv_sec = interval_ms / 1000;
  timer.it_interval.tv_usec = (interval_ms % 1000) * 1000;
  timer.it_value = timer.it_interval;
  if (setitimer(ITIMER_REAL, &timer, nullptr) != 0) {
    return absl::InternalError(absl::StrCat("setitimer: ", strerror(errno)));
  }
  return absl::OkStatus();
}

bool ConsumeTick() {
  if (!g_tick) return false;
  g_tick = 0;
  return true;
}

absl::Status DetachOnTerminationSignals() {
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
    absl::Status installed = Install(signal, OnDetach);
    if (!installed.ok()) return installed;
  }
  return absl::OkStatus();
}

bool DetachRequested() { return g_detach != 0; }

}  // namespace dpsupervise
