#include "supervisor/os/forced_exit.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "supervisor/os/own_stderr.h"

namespace dpsupervise {
namespace {

bool g_prepared = false;
timer_t g_timer;
itimerspec g_deadline{};  // the grace period, computed ahead of the handler
int g_message_fd = -1;  // non-blocking: the last message never blocks us
int g_first_signal = 0;  // set once, atomically: handlers may nest

// A bounded, allocation-free message buffer for the last words.
struct Message {
  char text[512];
  size_t size = 0;
  void Append(const char* piece) {
    for (; *piece != '\0' && size < sizeof(text); ++piece) text[size++] = *piece;
  }
};

// Composed in PrepareForcedExit: a handler must not allocate.
std::string* g_grace_text = nullptr;  // "the program did not end within --kill-after (10 s) of "
const char* g_tail = "";

[[noreturn]] void ExitNow(bool grace_expired) {
  const int first = __atomic_load_n(&g_first_signal, __ATOMIC_SEQ_CST);
  const char* name = first > 0 ? sigabbrev_np(first) : nullptr;
  Message message;
  message.Append("dpsupervise: ");
  if (grace_expired) {
    message.Append(g_grace_text->c_str());
    message.Append("SIG");
    message.Append(name != nullptr ? name : "?");
  } else {
    message.Append("a second termination signal");
  }
  message.Append(g_tail);
  // One attempt, never blocking: what cannot be written now is dropped.
  if (g_message_fd >= 0) WriteWithoutBlocking(g_message_fd, message.text, message.size);
  _exit(128 + (first > 0 ? first : SIGTERM));
}

void OnGraceExpired(int) { ExitNow(/*grace_expired=*/true); }

}  // namespace

absl::Status PrepareForcedExit(double grace_seconds, ForcedExitConsequence consequence) {
  // Longer than any run could last (and than time_t holds) is the same as
  // ~31 years.
  const double seconds = std::min(grace_seconds, 1e9);
  const double whole = std::floor(seconds);
  g_deadline.it_value.tv_sec = static_cast<time_t>(whole);
  g_deadline.it_value.tv_nsec = static_cast<long>((seconds - whole) * 1e9);
  // An all-zero it_value would disarm the timer instead of firing it.
  if (g_deadline.it_value.tv_sec == 0 && g_deadline.it_value.tv_nsec == 0) {
    g_deadline.it_value.tv_nsec = 1;
  }
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
  int none = 0;
  if (!__atomic_compare_exchange_n(&g_first_signal, &none, signal, /*weak=*/false,
                                   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    ExitNow(/*grace_expired=*/false);
  }
  // timer_settime is async-signal-safe. Should it fail, a second signal
  // still ends us.
  timer_settime(g_timer, 0, &g_deadline, nullptr);
  errno = saved_errno;
}

}  // namespace dpsupervise
