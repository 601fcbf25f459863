#!/bin/bash
# Builds the Debian package from dist/tree.tar, with no network: the tree is
# installed under /usr by dist/install.sh (DESTDIR staging), man pages are
# gzipped as Debian policy wants, Depends is computed by dpkg-shlibdeps from
# the ELF files' NEEDED entries, and dpkg-deb packs it.
#
#   make_deb.sh OUT.deb INSTALL_SH TREE_TAR VERSION SOVERSION
set -euo pipefail

die() {
  echo "make_deb.sh: $*" >&2
  exit 1
}

(($# == 5)) || die "usage: make_deb.sh OUT.deb INSTALL_SH TREE_TAR VERSION SOVERSION"
out=$(realpath -m "$1")
install_sh=$(realpath "$2")
tree=$(realpath "$3")
version=$4
soversion=$5

# The file name says amd64 (//:deb's output is named before the build runs).
arch=$(dpkg --print-architecture)
[[ $arch == amd64 ]] || die "this machine builds $arch packages; //:deb makes amd64 ones only"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# dpkg-shlibdeps wants the layout of a Debian source tree: debian/control
# (unread here) and the package's files under debian/<package>/, which it
# recognizes by their DEBIAN/ directory.
pkg="$work/debian/dpsupervise"
mkdir -p "$pkg/DEBIAN"
touch "$work/debian/control"
DESTDIR=$pkg "$install_sh" --prefix=/usr --tree="$tree" >/dev/null
gzip -9n "$pkg"/usr/share/man/man*/*

depends=$(cd "$work" &&
  dpkg-shlibdeps -O -e"debian/dpsupervise/usr/bin/dpsupervise" \
    -e"debian/dpsupervise/usr/lib/libdataplane.so.$soversion" |
  sed -n 's/^shlibs:Depends=//p')
[[ -n $depends ]] || die "dpkg-shlibdeps found no dependency (expected libc6 at least)"

cat >"$pkg/DEBIAN/control" <<CONTROL
Package: dpsupervise
Version: $version
Architecture: $arch
Maintainer: dpsupervise maintainers <maintainers@users.noreply.r-seed-2eefbb2e.example>
Installed-Size: $(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
Depends: $depends
Section: devel
Priority: optional
Description: report every kernel entry of a dataplane strict thread
 A program marks its dataplane threads strict with
 prctl(PR_SET_DATAPLANE, PR_DATAPLANE_STRICT); dpsupervise runs it under a
 ptrace + seccomp supervisor that reports every kernel entry of a strict
 thread (syscall, page fault, trap, signal) and acts on it.
 .
 Also libdataplane (C header, shared and static library, pkg-config file)
 for programs that enter strict mode.
CONTROL
# Programs linked against libdataplane.so.N depend on this package.
echo "libdataplane $soversion dpsupervise (>= $version)" >"$pkg/DEBIAN/shlibs"
# A shared library in /usr/lib: refresh the loader's cache on install.
echo "activate-noawait ldconfig" >"$pkg/DEBIAN/triggers"
chmod 0644 "$pkg/DEBIAN"/*

# SOURCE_DATE_EPOCH: every date in the package is this one (the staged
# files are dated by this build), so the same tree makes the same package.
SOURCE_DATE_EPOCH=0 dpkg-deb --root-owner-group --build "$pkg" "$out" >/dev/null
