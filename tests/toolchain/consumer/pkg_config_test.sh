#!/bin/sh
# A build without CMake against the install prefix: pkg-config for libtp's
# flags, the installed tp-link for the link, the installed tp-run to run it.
# Usage: pkg_config_test.sh PREFIX LIBDIR SOURCE WORK_DIR
set -u
prefix=$1 libdir=$2 source=$3 work=$4
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
cflags=$(pkg-config --cflags threadprocs) || fail "pkg-config --cflags"
libs=$(pkg-config --libs threadprocs) || fail "pkg-config --libs"
echo "cflags: $cflags"; echo "libs: $libs"
cc -O2 -fPIE $cflags -c "$source" -o self_report.o || fail "compile"
"$prefix/bin/tp-link" --name pc-built -- -o pc-built self_report.o $libs || fail "tp-link"
out=$("$prefix/bin/tp-run" ./pc-built) || fail "tp-run: status $?"
echo "$out"
case $out in "in a space: slot "*", name pc-built") ;; *) fail "$out" ;; esac
echo PASS
