#!/bin/sh
# CTest fixture: builds the Debian package from the (already built) tree and
# unpacks it into a scratch root, as dpkg would install it.
#   build_package.sh CPACK CPackConfig.cmake OUT_DIR  ->  OUT_DIR/netsql_*.deb, OUT_DIR/root/
set -eu
cpack=$1 config=$2 out=$3
rm -rf "$out"
mkdir -p "$out"
cd "$out"
"$cpack" -G DEB --config "$config" -B "$out" >cpack.log 2>&1 || { cat cpack.log; exit 1; }
rm -rf "$out/_CPack_Packages"
set -- "$out"/netsql_*.deb
[ -f "$1" ] || { echo "no package in $out"; cat cpack.log; exit 1; }
dpkg -x "$1" "$out/root"
echo "built $(basename "$1"): $(stat -c %s "$1") bytes"
