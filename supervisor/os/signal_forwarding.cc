#include "supervisor/os/signal_forwarding.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "supervisor/os/forced_exit.h"
#include "supervisor/os/send_signal.h"

namespace dpsupervise {
namespace {

volatile pid_t g_program = 0;

void Forward(int signal, siginfo_t* info, void*) {
  const int saved_errno = errno;
  const pid_t program = g_program;
  // From the terminal to the foreground group: the program has it too,
  // unless it moved to a process group of its own.
  const bool from_terminal = info != nullptr && info->si_code == SI_KERNEL;
  if (program > 0 && (!from_terminal || getpgid(program) != getpgrp())) SignalProcess(program, signal);
  // A request to end: the first is the program's to handle; a second, or a
  // program that outlives the grace period, ends us (forced_exit.h). SIGHUP
  // and SIGQUIT are only passed on: SIGHUP often asks for a reload.
  if (signal == SIGINT || signal == SIGTERM) NoteTerminationSignal(signal);
  errno = saved_errno;
}

}  // namespace

absl::Status ForwardSignalsTo(pid_t program) {
  g_program = program;
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_sigaction = Forward;
  // SA_RESTART: the monitor's waitpid just goes on.
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
    if (sigaction(signal, &action, nullptr) != 0) {
      return absl::InternalError(
          absl::StrCat("sigaction(", strsignal(signal), "): ", strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace dpsupervise
