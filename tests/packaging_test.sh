#!/bin/bash
# Checks what a user gets from the install target and the Debian package,
# as they would use it: the man pages (lint, every --help option described),
# the installed tree and its installer's errors, libdataplane built as C99
# and C++ and used through pkg-config by a C program that the installed
# dpsupervise supervises, the bash completion, and the .deb unpacked and run.
#
# Each check prints "ok: ..." or "FAIL: ..."; the last line counts them.
set -uo pipefail

readonly RUNFILES=${TEST_SRCDIR:?run me with tools/bazel test}/dpsupervise
readonly WORK=${TEST_TMPDIR:?}
readonly PREFIX=$WORK/prefix
VERSION=$(cat "$RUNFILES/dist/version.txt")
readonly VERSION
readonly DEB=$RUNFILES/dpsupervise_${VERSION}_amd64.deb

passed=0
failed=0

pass() {
  echo "ok: $*"
  ((passed += 1))
}

fail() {
  echo "FAIL: $*"
  ((failed += 1))
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# not COMMAND...: succeeds when COMMAND fails (for check).
not() { ! "$@"; }

# quietly COMMAND...: COMMAND with its output dropped (for check).
quietly() { "$@" >/dev/null 2>&1; }

# ---- install target ---------------------------------------------------------

test_install_tree() {
  local out
  if ! out=$("$RUNFILES/install" --prefix="$PREFIX" 2>&1); then
    fail "install --prefix=$PREFIX: $out"
    return
  fi
  local file
  for file in bin/dpsupervise share/man/man1/dpsupervise.1 share/man/man3/dataplane.3 \
    include/dataplane.h lib/libdataplane.a lib/libdataplane.so.1 lib/pkgconfig/dataplane.pc \
    share/bash-completion/completions/dpsupervise share/doc/dpsupervise/usage.md; do
    check "installed $file" test -f "$PREFIX/$file"
  done
  check "lib/libdataplane.so links to libdataplane.so.1" \
    test "$(readlink "$PREFIX/lib/libdataplane.so")" = libdataplane.so.1
  check "libdataplane.so.1 has soname libdataplane.so.1" \
    grep -q 'SONAME.*\[libdataplane.so.1\]' <(readelf -d "$PREFIX/lib/libdataplane.so.1")
  check "libdataplane.so.1 needs no C++ runtime" \
    not grep -q 'libstdc++' <(readelf -d "$PREFIX/lib/libdataplane.so.1")
  check "bin/dpsupervise is stripped" not grep -q '\.symtab' <(readelf -S "$PREFIX/bin/dpsupervise")
  check "dataplane.pc names the prefix" grep -qx "prefix=$PREFIX" "$PREFIX/lib/pkgconfig/dataplane.pc"
  check "man finds the installed page" \
    test "$(MANPATH=$PREFIX/share/man man -w dpsupervise 2>/dev/null)" = "$PREFIX/share/man/man1/dpsupervise.1"
}

test_install_destdir() {
  local stage=$WORK/stage
  DESTDIR=$stage "$RUNFILES/install" --prefix=/opt/dp >/dev/null 2>&1
  check "DESTDIR: files go under \$DESTDIR/PREFIX" test -x "$stage/opt/dp/bin/dpsupervise"
  check "DESTDIR: dataplane.pc names PREFIX only" \
    grep -qx "prefix=/opt/dp" "$stage/opt/dp/lib/pkgconfig/dataplane.pc"
}

# expect_usage_error DESCRIPTION MESSAGE ARGS...: the installer exits 2 and
# says MESSAGE.
expect_usage_error() {
  local what=$1 message=$2
  shift 2
  local out status
  out=$("$RUNFILES/install" "$@" 2>&1)
  status=$?
  if [[ $status -eq 2 && $out == *"$message"* ]]; then
    pass "install $what: exit 2, '$message'"
  else
    fail "install $what: exit $status (expected 2), said: $out"
  fi
}

test_install_errors() {
  expect_usage_error "--bogus" "unknown argument '--bogus'" --bogus
  expect_usage_error "--prefix (no value)" "option '--prefix' needs a value" --prefix
  expect_usage_error "--prefix=" "--prefix needs a directory" --prefix=
  expect_usage_error "extra argument" "unknown argument 'extra'" --prefix="$WORK/x" extra
  check "install --help exits 0" quietly "$RUNFILES/install" --help
}

# ---- man pages ----------------------------------------------------------------

test_man_pages() {
  local page warnings
  for page in "$PREFIX/share/man/man1/dpsupervise.1" "$PREFIX/share/man/man3/dataplane.3"; do
    warnings=$(groff -man -ww -z "$page" 2>&1)
    if [[ -z $warnings ]]; then pass "groff -ww: $(basename "$page") is clean"; else
      fail "groff -ww: $(basename "$page"): $warnings"
    fi
  done
  local text
  text=$(groff -man -Tascii -P-cbou -rLL=200n "$PREFIX/share/man/man1/dpsupervise.1" 2>/dev/null)
  local section
  for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
    check "dpsupervise(1) has $section" grep -qx "$section" <<<"$text"
  done
  local option missing=()
  for option in $(help_options); do
    grep -qE -- "(^|[^a-z-])$option([^a-z-]|$)" <<<"$text" || missing+=("$option")
  done
  if ((${#missing[@]} == 0)); then pass "dpsupervise(1) describes every option of --help"; else
    fail "dpsupervise(1) does not describe: ${missing[*]}"
  fi
  check "--help points at the man page" grep -q 'man dpsupervise' <("$PREFIX/bin/dpsupervise" --help)
}

# The options that `dpsupervise --help` lists, long and short (-P, --policy).
help_options() {
  "$PREFIX/bin/dpsupervise" --help | sed -n '/^Options:/,/^$/p' |
    grep -oE '(^|[ ,])--?[a-zA-Z][a-z-]*' | tr -d ' ,' | sort -u
}

# ---- the library --------------------------------------------------------------

test_library_compiles() {
  local source=$RUNFILES/lib/dataplane.c
  check "dataplane.c compiles with gcc -std=c99 -Wall -Wextra -Werror -pedantic" \
    gcc -std=c99 -Wall -Wextra -Werror -pedantic -c "$source" -o "$WORK/dataplane_c.o"
  check "dataplane.c compiles as C++ (g++ -Wall -Wextra -Werror)" \
    g++ -x c++ -std=c++17 -Wall -Wextra -Werror -pedantic -c "$source" -o "$WORK/dataplane_cxx.o"
}

test_pkg_config_program() {
  export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
  check "pkg-config --modversion dataplane is $VERSION" \
    test "$(pkg-config --modversion dataplane)" = "$VERSION"
  local program=$WORK/installed_library_user
  # -z now: every symbol is bound at start-up, not by a lookup in strict mode.
  # shellcheck disable=SC2046 # pkg-config's output is words by design.
  if ! gcc -std=c99 -Wall -Wextra -Werror -pedantic -Wl,-z,now \
    "$RUNFILES/tests/installed_library_user.c" -o "$program" $(pkg-config --cflags --libs dataplane); then
    fail "a C program builds with pkg-config --cflags --libs dataplane"
    return
  fi
  pass "a C program builds with pkg-config --cflags --libs dataplane"
  check "it links libdataplane.so.1" grep -q 'NEEDED.*\[libdataplane.so.1\]' <(readelf -d "$program")
  # shellcheck disable=SC2046
  check "it links statically with libdataplane.a too" \
    gcc -std=c99 -Wl,-z,now "$RUNFILES/tests/installed_library_user.c" -o "$program.static" \
    $(pkg-config --cflags dataplane) "$PREFIX/lib/libdataplane.a"
  local records status
  records=$(LD_LIBRARY_PATH=$PREFIX/lib "$PREFIX/bin/dpsupervise" --preflight=off --format=json \
    -- "$program" 2>&1 >/dev/null)
  status=$?
  check "the installed dpsupervise kills it on its violation (exit 137, got $status)" test "$status" -eq 137
  check "and reports getppid in a JSON violation record" \
    grep -q '^{"type":"violation".*"kind":"syscall".*"name":"getppid"' <<<"$records"
}

# ---- bash completion ----------------------------------------------------------

# completions LINE: what the installed completion offers at the end of LINE,
# one per line, in a bash that has only that file sourced.
completions() {
  bash --norc --noprofile -c '
    source "$1"
    COMP_LINE=$2
    COMP_POINT=${#2}
    _dpsupervise
    printf "%s\n" "${COMPREPLY[@]}"' \
    completion "$PREFIX/share/bash-completion/completions/dpsupervise" "$1"
}

# expect_completions LINE EXPECTED...: LINE completes to exactly EXPECTED.
expect_completions() {
  local line=$1
  shift
  local got expected
  got=$(completions "$line" | sort | tr '\n' ' ')
  expected=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  if [[ $got == "$expected" ]]; then pass "completion of '$line': $got"; else
    fail "completion of '$line': got '$got', expected '$expected'"
  fi
}

test_completion() {
  expect_completions "dpsupervise --form" "--format="
  expect_completions "dpsupervise --format=" text line json
  expect_completions "dpsupervise --registers=" yes no
  expect_completions "dpsupervise --mechanism=" auto seccomp dispatch
  expect_completions "dpsupervise --format j" json
  expect_completions "dpsupervise --on-violation=" kill kill-all log stop gdb deliver signal: errno:
  expect_completions "dpsupervise --on-violation=signal:SIGUS" SIGUSR1 SIGUSR2
  expect_completions "dpsupervise --action=p" page_fault= preemption=
  expect_completions "dpsupervise --action=ipi=si" signal:
  expect_completions "dpsupervise --action=ipi=signal:SIGUS" SIGUSR1 SIGUSR2
  expect_completions "dpsupervise --on-violation errno:EPE" EPERM
  expect_completions "dpsupervise --preflight=" off warn enforce
  expect_completions "dpsupervise --strict=" prctl exec
  expect_completions "dpsupervise -- ./app --form"
  local offered option missing=()
  offered=$(completions "dpsupervise -" | sed 's/=$//')
  for option in $(help_options); do
    grep -qx -- "$option" <<<"$offered" || missing+=("$option")
  done
  if ((${#missing[@]} == 0)); then pass "completion offers every option of --help"; else
    fail "completion does not offer: ${missing[*]}"
  fi
}

# ---- Debian package -----------------------------------------------------------

# The Debian package that owns the shared library `name` as `binary` loads it.
owning_package() {
  local binary=$1 name=$2 path candidate
  path=$(ldd "$binary" | awk -v lib="$name" '$1 == lib { print $3 }')
  # usrmerge: dpkg knows each file by the path its package shipped it at.
  for candidate in "$path" "$(realpath "$path")" "/usr$path"; do
    dpkg -S "$candidate" 2>/dev/null | sed -n '1s/:.*//p' | grep . && return
  done
  echo "unknown($name)"
}

test_deb() {
  check "dpkg-deb --info reads the package" quietly dpkg-deb --info "$DEB"
  check "its Version is $VERSION" test "$(dpkg-deb -f "$DEB" Version)" = "$VERSION"
  local unpacked=$WORK/deb
  if ! dpkg-deb -x "$DEB" "$unpacked"; then
    fail "dpkg-deb -x"
    return
  fi
  local file
  for file in usr/bin/dpsupervise usr/share/man/man1/dpsupervise.1.gz usr/share/man/man3/dataplane.3.gz \
    usr/include/dataplane.h usr/lib/libdataplane.so.1 usr/lib/libdataplane.a usr/lib/pkgconfig/dataplane.pc \
    usr/share/bash-completion/completions/dpsupervise; do
    check "the package ships /$file" test -f "$unpacked/$file"
  done
  check "its dataplane.pc names /usr" grep -qx "prefix=/usr" "$unpacked/usr/lib/pkgconfig/dataplane.pc"
  local depends binary lib package missing=()
  depends=$(dpkg-deb -f "$DEB" Depends)
  for binary in "$unpacked/usr/bin/dpsupervise" "$unpacked/usr/lib/libdataplane.so.1"; do
    for lib in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      package=$(owning_package "$binary" "$lib")
      [[ ", $depends," == *", $package "* ]] || missing+=("$package (for $lib)")
    done
  done
  if ((${#missing[@]} == 0)); then pass "Depends covers every NEEDED library: $depends"; else
    fail "Depends ($depends) lacks ${missing[*]}"
  fi
  check "the unpacked dpsupervise prints version $VERSION" \
    test "$("$unpacked/usr/bin/dpsupervise" --version)" = "dpsupervise $VERSION"
  local records status
  records=$("$unpacked/usr/bin/dpsupervise" --preflight=off --format=json \
    -- "$RUNFILES/testdata/strict_violator" 2>&1 >/dev/null)
  status=$?
  check "the unpacked dpsupervise kills strict_violator (exit 137, got $status)" test "$status" -eq 137
  check "and reports its getpid in a JSON violation record" \
    grep -q '^{"type":"violation".*"kind":"syscall".*"name":"getpid"' <<<"$records"
}

test_install_tree
test_install_destdir
test_install_errors
test_man_pages
test_library_compiles
test_pkg_config_program
test_completion
test_deb

echo "$passed passed, $failed failed"
((failed == 0))
