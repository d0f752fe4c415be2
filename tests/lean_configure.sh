#!/bin/sh
# The lean build (-DNETSQL_SHELL=OFF -DNETSQL_BPF=OFF -DNETSQL_NFTABLES=OFF) configures with nothing but SQLite's
# headers and fmt: pkg-config sees only sqlite3.pc, and finding nlohmann_json
# or GoogleTest is disabled, so configuring fails if anything asks for them.
# Then only the extension is a target.
#   lean_configure.sh CMAKE SOURCE_DIR OUT_DIR GENERATOR
set -eu
cmake=$1 src=$2 out=$3 generator=$4
rm -rf "$out"
mkdir -p "$out/pkgconfig"
pc=$(pkg-config --variable=pcfiledir sqlite3)/sqlite3.pc
cp "$pc" "$out/pkgconfig/"
PKG_CONFIG_LIBDIR="$out/pkgconfig" PKG_CONFIG_PATH="" "$cmake" -S "$src" -B "$out/build" -G "$generator" \
  -DNETSQL_SHELL=OFF -DNETSQL_BPF=OFF -DNETSQL_NFTABLES=OFF -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON \
  >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
# The install rules name the extension and nothing else.
grep -q 'netsql.so' "$out/build/cmake_install.cmake"
if grep -E 'bin/netsql|man1|bash-completion' "$out/build/cmake_install.cmake"; then
  echo "the lean build installs more than the extension"; exit 1
fi
rm -rf "$out"
echo "lean build configures with SQLite headers and fmt only"
