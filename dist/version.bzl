"""The release version: the one place it is written for packaging.

The Debian package's name and Version field, the pkg-config file and the
tests read it from here, and supervisor/BUILD compiles it into
dpsupervise --version.
"""

DPSUPERVISE_VERSION = "0.1.0"

# The shared library's ABI version: libdataplane.so.<this> is its soname.
# Raise it only when a change breaks programs already linked against it.
LIBDATAPLANE_SOVERSION = "1"
