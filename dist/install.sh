#!/bin/bash
# Installs dpsupervise, libdataplane, the man pages and the bash completion:
#
#   tools/bazel run //:install -- [--prefix=DIR]
#
# What is installed is dist/tree.tar (dist/make_tree.sh lays it out); this
# script unpacks it under $DESTDIR$PREFIX and writes the prefix into the
# pkg-config file. Usage errors exit 2, as dpsupervise's own do.
set -euo pipefail

readonly NAME=install
readonly DEFAULT_PREFIX=/usr/local

usage() {
  cat <<EOF
Usage: tools/bazel run //:install -- [--prefix=DIR] [--tree=FILE]

Installs, under DIR (default $DEFAULT_PREFIX):
  bin/dpsupervise                              the supervisor (stripped)
  lib/libdataplane.so.1, lib/libdataplane.so   the strict-mode library, shared
  lib/libdataplane.a                           and static
  lib/pkgconfig/dataplane.pc                   pkg-config --cflags --libs dataplane
  include/dataplane.h                          its header (C99 and C++)
  share/man/man1/dpsupervise.1, share/man/man3/dataplane.3
  share/bash-completion/completions/dpsupervise
  share/doc/dpsupervise/*.md                   the long manual

Options:
  --prefix=DIR   where to install (absolute, or relative to the directory
                 tools/bazel was run from)
  --tree=FILE    the tar of the tree to install (default: the one built with
                 this installer; packagers pass their own)
  -h, --help     print this help and exit

Environment:
  DESTDIR        staging directory: files go to \$DESTDIR/DIR, while the
                 pkg-config file names DIR (for building packages)
EOF
}

die_usage() {
  echo "$NAME: $*" >&2
  echo "$NAME: see --help" >&2
  exit 2
}

# A path given by the user, made absolute: relative to where they ran
# tools/bazel (bazel run starts us in the runfiles tree, not there).
absolute() {
  local path=$1
  if [[ $path == /* ]]; then
    echo "$path"
  else
    echo "${BUILD_WORKING_DIRECTORY:-$PWD}/$path"
  fi
}

# The tree built with this installer: in its runfiles under `bazel run`, or
# beside it when it runs from another target's runfiles (a test's).
default_tree() {
  local candidate
  for candidate in "$0.runfiles/dpsupervise/dist/tree.tar" "$(dirname "$0")/dist/tree.tar"; do
    if [[ -f $candidate ]]; then
      echo "$candidate"
      return
    fi
  done
  echo "$NAME: cannot find dist/tree.tar next to $0; run it as: tools/bazel run //:install" >&2
  exit 1
}

prefix=$DEFAULT_PREFIX
tree=""
while (($#)); do
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --prefix=*) prefix=${1#*=} ;;
    --tree=*) tree=${1#*=} ;;
    --prefix | --tree)
      (($# >= 2)) || die_usage "option '$1' needs a value"
      if [[ $1 == --prefix ]]; then prefix=$2; else tree=$2; fi
      shift
      ;;
    *) die_usage "unknown argument '$1'" ;;
  esac
  shift
done

[[ -n $prefix ]] || die_usage "--prefix needs a directory, not an empty string"
prefix=$(absolute "$prefix")
if [[ -z $tree ]]; then
  tree=$(default_tree)
else
  tree=$(absolute "$tree")
  [[ -f $tree ]] || die_usage "--tree: no such file: $tree"
fi
destdir=""
if [[ -n ${DESTDIR:-} ]]; then destdir=$(absolute "$DESTDIR"); fi
root="$destdir$prefix"

# '|' is the sed separator below (the prefix is a path): refuse it rather
# than write a wrong pkg-config file.
[[ $prefix != *'|'* ]] || die_usage "--prefix must not contain '|': $prefix"

if ! mkdir -p "$root" 2>/dev/null || [[ ! -w $root ]]; then
  echo "$NAME: cannot write to $root: install as root (sudo bazel-bin/install)," \
    "or choose another --prefix" >&2
  exit 1
fi
# --no-overwrite-dir: the tree's directories must not change the mode or
# owner of existing ones (/usr/local itself, say). --touch: files are dated
# by their install, not by the tar's fixed time.
tar -xf "$tree" -C "$root" --no-same-owner --no-overwrite-dir --touch
pc="$root/lib/pkgconfig/dataplane.pc"
sed -i "s|@PREFIX@|$prefix|" "$pc"
echo "$NAME: installed dpsupervise under $root"

# The dynamic loader finds a new library in a configured directory
# (/usr/local/lib on Debian) only once ldconfig has rebuilt its cache.
if [[ -z $destdir ]]; then
  if grep -qsxF "$prefix/lib" /etc/ld.so.conf /etc/ld.so.conf.d/*.conf; then
    if [[ $(id -u) -eq 0 ]]; then
      ldconfig
    else
      echo "$NAME: run ldconfig as root, for the loader to find libdataplane.so"
    fi
  else
    echo "$NAME: $prefix/lib is not in the loader's path: programs linked with" \
      "-ldataplane need LD_LIBRARY_PATH=$prefix/lib or -Wl,-rpath,$prefix/lib"
  fi
fi
