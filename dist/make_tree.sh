#!/bin/bash
# Lays out everything an install contains, relative to the prefix, and packs
# it into one tar: the single definition of the installed tree, which
# dist/install.sh unpacks under --prefix and dist/make_deb.sh under /usr.
# The pkg-config file keeps @PREFIX@ for the installer to fill in.
#
#   make_tree.sh OUT.tar --version=V --soversion=N --strip=STRIP \
#     --binary=F --shared=F --static=F --header=F --pc=F --completion=F \
#     --man=F... --doc=F...
set -euo pipefail

die() {
  echo "make_tree.sh: $*" >&2
  exit 2
}

out=$1
shift
mans=()
docs=()
for arg in "$@"; do
  case $arg in
    --version=*) version=${arg#*=} ;;
    --soversion=*) soversion=${arg#*=} ;;
    --strip=*) strip=${arg#*=} ;;
    --binary=*) binary=${arg#*=} ;;
    --shared=*) shared=${arg#*=} ;;
    --static=*) static=${arg#*=} ;;
    --header=*) header=${arg#*=} ;;
    --pc=*) pc=${arg#*=} ;;
    --completion=*) completion=${arg#*=} ;;
    --man=*) mans+=("${arg#*=}") ;;
    --doc=*) docs+=("${arg#*=}") ;;
    *) die "unknown argument '$arg'" ;;
  esac
done

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT

# The binary and the shared library lose their symbols and debug info (the
# sources are not shipped to read them with); the archive keeps its symbols,
# which linking needs, and loses only debug info.
install -D -m 0755 "$binary" "$tree/bin/dpsupervise"
"$strip" --strip-all "$tree/bin/dpsupervise"
install -D -m 0644 "$shared" "$tree/lib/libdataplane.so.$soversion"
"$strip" --strip-unneeded "$tree/lib/libdataplane.so.$soversion"
ln -s "libdataplane.so.$soversion" "$tree/lib/libdataplane.so"
install -D -m 0644 "$static" "$tree/lib/libdataplane.a"
"$strip" --strip-debug "$tree/lib/libdataplane.a"
install -D -m 0644 "$header" "$tree/include/dataplane.h"
install -d "$tree/lib/pkgconfig"
sed "s/@VERSION@/$version/" "$pc" >"$tree/lib/pkgconfig/dataplane.pc"
install -D -m 0644 "$completion" "$tree/share/bash-completion/completions/dpsupervise"
for page in "${mans[@]}"; do
  section=${page##*.}
  install -D -m 0644 "$page" "$tree/share/man/man$section/$(basename "$page")"
done
for doc in "${docs[@]}"; do
  install -D -m 0644 "$doc" "$tree/share/doc/dpsupervise/$(basename "$doc")"
done
chmod 0644 "$tree/lib/pkgconfig/dataplane.pc"
# Directories as an installed system has them, whatever the umask here.
find "$tree" -type d -exec chmod 0755 {} +

# Same input, same tar: sorted, owned by root, one fixed time.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
  -C "$tree" -cf "$out" .
