# bash completion for dpsupervise(1): options, their values (actions,
# formats, modes, files, process ids) and, after the options, the program.
#
# Self-contained: it needs no bash-completion helper. It reads the line up to
# the cursor itself, since bash splits words at '=' and ':' too
# (COMP_WORDBREAKS), and offers each candidate as the rest of the word after
# the last such break, which is the part bash replaces.

# Every option, as --help lists them. Those in _dpsupervise_value_options take
# a value, given as --name=VALUE or as the next word.
_dpsupervise_options="--policy= --on-violation= --action= --format= --backtrace-depth= --registers=
  --output= --log-fd= --report-limit= --strict= --mechanism= --preflight= --noise= --summary
  --error-exitcode= --quiet --check-policy --strict-thread= --strict-cpus= --strict-after=
  --strict-for= --pid= --enter-at= --enter-at-every --leave-at= --kill-after= --help --version
  -P -o -p -q -h"
_dpsupervise_value_options=" --policy --on-violation --action --format --backtrace-depth --registers
  --output --log-fd --report-limit --strict --mechanism --preflight --noise --error-exitcode
  --strict-thread --strict-cpus --strict-after --strict-for --pid --enter-at --leave-at
  --kill-after
  -P -o -p "

# The actions of --on-violation (supervisor/policy/action.cc). "signal" and "errno"
# take their argument after ':' in one word (a blank would need quoting).
_dpsupervise_actions="kill kill-all log stop gdb deliver signal: errno:"
# The kinds --action takes before its '=' (supervisor/model/violation.cc).
_dpsupervise_kinds="syscall page_fault trap signal ipi irq timer softirq preemption migration"
# The errno values most used with the errno action; any name from EPERM to
# EHWPOISON, or a number, is accepted too.
_dpsupervise_errnos="EPERM ENOENT EINTR EIO EBADF EAGAIN ENOMEM EACCES EFAULT EBUSY
  EEXIST EINVAL ENOSPC ENOSYS ENOTSUP ETIMEDOUT"

# Candidates for the value of option $1, whose text so far is $2.
_dpsupervise_values() {
  local option=$1 value=$2
  case $option in
    --on-violation)
      case $value in
        signal:*) compgen -P signal: -A signal -- "${value#signal:}" ;;
        errno:*) compgen -P errno: -W "$_dpsupervise_errnos" -- "${value#errno:}" ;;
        *) compgen -W "$_dpsupervise_actions" -- "$value" ;;
      esac
      ;;
    --action)
      case $value in
        *=*) _dpsupervise_values --on-violation "${value#*=}" | sed "s/^/${value%%=*}=/" ;;
        *) compgen -S = -W "$_dpsupervise_kinds" -- "$value" ;;
      esac
      ;;
    --format) compgen -W "text line json" -- "$value" ;;
    --registers) compgen -W "yes no" -- "$value" ;;
    --mechanism) compgen -W "auto seccomp dispatch" -- "$value" ;;
    --strict) compgen -W "prctl exec" -- "$value" ;;
    --preflight) compgen -W "off warn enforce" -- "$value" ;;
    --noise) compgen -W "off summary events" -- "$value" ;;
    --policy | -P | --output | -o) compgen -f -- "$value" ;;
    --pid | -p) compgen -W "$(ps -e -o pid= 2>/dev/null)" -- "$value" ;;
    # Patterns, durations and code locations: nothing to offer.
  esac
}

# Candidates for the word `current`, given the words before it (the first
# is the command's name).
_dpsupervise_candidates() {
  local current=$1
  shift
  local -a before=("$@")
  local i word last
  for ((i = 1; i < ${#before[@]}; i++)); do
    word=${before[i]}
    last=$((i + 1 == ${#before[@]}))
    # After "--" comes the program; after the program, its own arguments
    # (nothing offered: bash completes file names).
    if [[ $word == -- ]]; then
      ((last)) && compgen -c -- "$current"
      return
    fi
    [[ $word == -* ]] || return
    # A value option written without '=' takes the next word.
    if [[ $_dpsupervise_value_options == *" $word "* ]]; then
      if ((last)); then
        _dpsupervise_values "$word" "$current"
        return
      fi
      ((i += 1))
    fi
  done
  case $current in
    --*=*) _dpsupervise_values "${current%%=*}" "${current#*=}" | sed "s/^/${current%%=*}=/" ;;
    -*) compgen -W "$_dpsupervise_options" -- "$current" ;;
    *) compgen -c -- "$current" ;;
  esac
}

_dpsupervise() {
  local line=${COMP_LINE:0:COMP_POINT}
  local -a words
  read -ra words <<<"$line"
  # A line ending in a blank starts a new, empty word.
  [[ $line == *[[:blank:]] || -z $line ]] && words+=("")
  local current=${words[-1]}
  # Bash replaces only what follows the last '=' or ':' of the word.
  local replaced=$current
  [[ $COMP_WORDBREAKS == *=* ]] && replaced=${replaced##*=}
  [[ $COMP_WORDBREAKS == *:* ]] && replaced=${replaced##*:}
  local kept=${current%"$replaced"}
  local candidate
  COMPREPLY=()
  while IFS= read -r candidate; do
    [[ -n $candidate ]] && COMPREPLY+=("${candidate#"$kept"}")
  done < <(_dpsupervise_candidates "$current" "${words[@]:0:${#words[@]}-1}")
  # No space after a word that still needs its value ("--format=",
  # "signal:"), so the value can be typed or completed next.
  if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *[=:] ]]; then
    compopt -o nospace 2>/dev/null
  fi
}

# -o default: where nothing is offered (the program's own arguments), bash
# completes file names.
complete -o default -F _dpsupervise dpsupervise
