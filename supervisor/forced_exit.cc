#include "supervisor/forced_exit.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "supervisor/own_stderr.h"

namespace dpsupervise {
namespace {

bool g_prepared = false;
timer_t g_timer;
double g_grace_seconds = 10;
int g_message_fd = -1;  // non-blocking: the last message never blocks us
int g_signals_seen = 0;  // updated atomically: handlers may nest
int g_first_signal = 0;

// One attempt, never blocking: what cannot be written now is dropped.
void Say(const char* text) {
  if (g_message_fd < 0) return;
  WriteWithoutBlocking(g_message_fd, text, strlen(text));
}

// Composed in PrepareForcedExit: a handler must not allocate.
std::string* g_grace_text = nullptr;  // "the program did not end within --kill-after (10 s) of "
const char* g_tail = "";

[[noreturn]] void ExitNow(bool grace_expired) {
  const int first = __atomic_load_n(&g_first_signal, __ATOMIC_SEQ_CST);
  const char* name = first > 0 ? sigabbrev_np(first) : nullptr;
  Say("dpsupervise: ");
  if (grace_expired) {
    Say(g_grace_text->c_str());
    Say("SIG");
    Say(name != nullptr ? name : "?");
  } else {
    Say("a second termination signal");
  }
  Say(g_tail);
  _exit(128 + (first > 0 ? first : SIGTERM));
}

void OnGraceExpired(int) { ExitNow(/*grace_expired=*/true); }

}  // namespace

absl::Status PrepareForcedExit(double grace_seconds, ForcedExitConsequence consequence) {
  g_grace_seconds = grace_seconds;
  const bool launched = consequence == ForcedExitConsequence::kProgramKilled;
  g_grace_text = new std::string(absl::StrCat(
      launched ? "the program did not end" : "the detach did not finish",
      " within --kill-after (", grace_seconds, " s) of "));
  g_tail = launched ? ": exiting now; the program's traced tasks are killed with us\n"
                    : ": exiting now, without finishing the detach; the process is left "
                      "running, untraced\n";
  auto fd = OpenOwnStderr(/*nonblocking=*/true);
  g_message_fd = fd.ok() ? *fd : -1;  // without stderr: exit silently
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = OnGraceExpired;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGRTMIN, &action, nullptr) != 0) {
    return absl::InternalError(absl::StrCat("sigaction(SIGRTMIN): ", strerror(errno)));
  }
  sigevent event;
  memset(&event, 0, sizeof(event));
  event.sigev_notify = SIGEV_SIGNAL;
  event.sigev_signo = SIGRTMIN;
  if (timer_create(CLOCK_MONOTONIC, &event, &g_timer) != 0) {
    return absl::InternalError(absl::StrCat("timer_create: ", strerror(errno)));
  }
  g_prepared = true;
  return absl::OkStatus();
}

void NoteTerminationSignal(int signal) {
  if (!g_prepared) return;
  const int saved_errno = errno;
  if (__atomic_fetch_add(&g_signals_seen, 1, __ATOMIC_SEQ_CST) > 0) {
    ExitNow(/*grace_expired=*/false);
  }
  __atomic_store_n(&g_first_signal, signal, __ATOMIC_SEQ_CST);
  itimerspec deadline{};
  const double whole = std::floor(g_grace_seconds);
  deadline.it_value.tv_sec = static_cast<time_t>(whole);
  deadline.it_value.tv_nsec = static_cast<long>((g_grace_seconds - whole) * 1e9);
  if (deadline.it_value.tv_sec == 0 && deadline.it_value.tv_nsec == 0) deadline.it_value.tv_nsec = 1;
  // timer_settime is async-signal-safe. Should it fail, a second signal
  // still ends us.
  timer_settime(g_timer, 0, &deadline, nullptr);
  errno = saved_errno;
}

}  // namespace dpsupervise
