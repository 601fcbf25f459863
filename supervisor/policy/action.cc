#include "supervisor/policy/action.h"

#include <signal.h>
#include <string.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "supervisor/syscalls/signal_names.h"

namespace dpsupervise {
namespace {

// The kernel's highest errno (MAX_ERRNO): SECCOMP_RET_ERRNO and the syscall
// return convention cannot carry more.
constexpr int kMaxErrno = 4095;
struct Alias {
  const char* name;
  int value;
};
constexpr Alias kErrnoAliases[] = {
    {"EWOULDBLOCK", EWOULDBLOCK}, {"EDEADLOCK", EDEADLOCK}, {"ENOTSUP", ENOTSUP}};
// EHWPOISON, the last named errno on Linux.
constexpr int kLastNamedErrno = 133;

// A decimal number in [lo, hi], or -1.
int SmallNumber(absl::string_view text, int lo, int hi) {
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text[0]))) return -1;
  int value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < lo || value > hi) return -1;
  return value;
}

// One blank-separated word of an action, with its offset in the text.
struct Word {
  absl::string_view text;
  size_t offset = 0;
};

// Splits an action into words. The first word may carry its argument after a
// ':' ("signal:SIGUSR1").
std::vector<Word> SplitWords(absl::string_view text) {
  std::vector<Word> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size()) break;
    size_t start = i;
    while (i < text.size() && !absl::ascii_isspace(static_cast<unsigned char>(text[i])) &&
           !(words.empty() && text[i] == ':')) {
      ++i;
    }
    words.push_back({text.substr(start, i - start), start});
    if (words.size() == 1 && i < text.size() && text[i] == ':') ++i;
  }
  return words;
}

constexpr char kExpectedAction[] =
    "an action (kill, kill-all, signal SIG, stop, gdb, log, deliver or errno E)";

class ActionParser {
 public:
  ActionParser(absl::string_view text, absl::string_view end_name, size_t* error_offset)
      : text_(text), end_name_(end_name), error_offset_(error_offset), words_(SplitWords(text)) {}

  absl::StatusOr<Action> Parse() {
    if (words_.empty()) return Error(0, kExpectedAction);
    const absl::string_view keyword = words_[0].text;
    Action action;
    size_t used = 1;
    if (keyword == "kill") {
      action.kind = ActionKind::kKill;
    } else if (keyword == "kill-all") {
      action.kind = ActionKind::kKillAll;
    } else if (keyword == "deliver") {
      action.kind = ActionKind::kDeliver;
    } else if (keyword == "stop") {
      action.kind = ActionKind::kStop;
    } else if (keyword == "gdb") {
      action.kind = ActionKind::kGdb;
    } else if (keyword == "log") {
      action.kind = ActionKind::kLog;
    } else if (keyword == "signal") {
      action.kind = ActionKind::kSignal;
      if (words_.size() < 2) return Error(1, "a signal name or number after 'signal'");
      action.signal = SignalNumber(words_[1].text);
      if (action.signal < 0) {
        return Error(1, "a signal (SIGUSR1, USR1, SIGRTMIN+n or a number 1..64)");
      }
      used = 2;
    } else if (keyword == "errno") {
      action.kind = ActionKind::kErrno;
      if (words_.size() < 2) return Error(1, "an errno name or number after 'errno'");
      action.errno_value = ErrnoNumber(words_[1].text);
      if (action.errno_value < 0) {
        return Error(1, "an errno (EPERM .. EHWPOISON or a number 1..4095)");
      }
      used = 2;
    } else {
      return Error(0, kExpectedAction);
    }
    if (words_.size() > used) {
      return Error(used, absl::StrCat(end_name_, " after '", keyword, "'"));
    }
    return action;
  }

 private:
  // "found 'X', expected Y" about words_[index], or about the end of the text
  // when there is no such word.
  absl::Status Error(size_t index, absl::string_view expected) const {
    std::string found;
    size_t offset = text_.size();
    if (index < words_.size()) {
      found = absl::StrCat("'", words_[index].text, "'");
      offset = words_[index].offset;
    } else {
      found = std::string(end_name_);
    }
    if (error_offset_ != nullptr) *error_offset_ = offset;
    return absl::InvalidArgumentError(absl::StrCat("found ", found, ", expected ", expected));
  }

  absl::string_view text_;
  absl::string_view end_name_;
  size_t* error_offset_;
  std::vector<Word> words_;
};

}  // namespace

std::string Action::ToString() const {
  switch (kind) {
    case ActionKind::kKill:
      return "kill";
    case ActionKind::kKillAll:
      return "kill-all";
    case ActionKind::kDeliver:
      return "deliver";
    case ActionKind::kSignal:
      return absl::StrCat("signal ", SignalName(signal));
    case ActionKind::kStop:
      return "stop";
    case ActionKind::kGdb:
      return "gdb";
    case ActionKind::kLog:
      return "log";
    case ActionKind::kErrno:
      return absl::StrCat("errno ", ErrnoName(errno_value));
  }
  return "kill";
}

bool Action::operator==(const Action& other) const {
  if (kind != other.kind) return false;
  if (kind == ActionKind::kSignal) return signal == other.signal;
  if (kind == ActionKind::kErrno) return errno_value == other.errno_value;
  return true;
}

bool ActionAppliesTo(ActionKind action, ViolationKind kind) {
  switch (action) {
    case ActionKind::kErrno:
      return kind == ViolationKind::kSyscall;
    case ActionKind::kDeliver:
      return kind == ViolationKind::kTrap || kind == ViolationKind::kSignal;
    case ActionKind::kKill:
    case ActionKind::kKillAll:
    case ActionKind::kSignal:
    case ActionKind::kStop:
    case ActionKind::kGdb:
    case ActionKind::kLog:
      return true;
  }
  return true;
}

absl::StatusOr<Action> ParseAction(absl::string_view text) {
  return ParseAction(text, "end of text", nullptr);
}

absl::StatusOr<Action> ParseAction(absl::string_view text, absl::string_view end_name,
                                   size_t* error_offset) {
  return ActionParser(text, end_name, error_offset).Parse();
}

int ErrnoNumber(absl::string_view name) {
  if (name.empty()) return -1;
  if (absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) {
    return SmallNumber(name, 1, kMaxErrno);
  }
  const std::string upper = absl::AsciiStrToUpper(name);
  for (int e = 1; e <= kLastNamedErrno; ++e) {
    const char* known = strerrorname_np(e);
    if (known != nullptr && upper == known) return e;
  }
  for (const Alias& alias : kErrnoAliases) {
    if (upper == alias.name) return alias.value;
  }
  return -1;
}

std::string ErrnoName(int e) {
  const char* name = e > 0 && e <= kLastNamedErrno ? strerrorname_np(e) : nullptr;
  return name != nullptr ? std::string(name) : absl::StrCat(e);
}

}  // namespace dpsupervise
