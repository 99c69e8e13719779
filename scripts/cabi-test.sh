#!/usr/bin/env bash
# The C ABI as an emulator sees it: install into a scratch prefix, build
# Tests/CABI/emulator.c with the system cc against the installed header and
# `pkg-config --cflags --libs nicsim` (then nicsim-static), run both; then
# Tests/CABI/qtest.c, which runs every fixtures/qtest script through the C
# ABI and compares its transcript with NAME.out. Fails loudly; never skips.
#   scripts/cabi-test.sh [CONFIG]          (debug (default) or release)
set -euo pipefail
config=${1:-debug}
cd "$(dirname "$0")/.."
command -v cc >/dev/null || { echo "cabi-test: no C compiler (cc); install build-essential" >&2; exit 1; }
command -v pkg-config >/dev/null || { echo "cabi-test: no pkg-config; install pkg-config" >&2; exit 1; }
prefix=$(mktemp -d /tmp/nicsim-cabi.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
bash scripts/install.sh "$prefix" "$config" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc -std=c99 -Wall -Wextra -Werror -pedantic Tests/CABI/emulator.c $(pkg-config --cflags --libs nicsim) -o "$prefix/emulator"
"$prefix/emulator"
# The library carries its SONAME, and programs record it (not the dev link).
command -v readelf >/dev/null || { echo "cabi-test: no readelf; install binutils" >&2; exit 1; }
readelf -d "$prefix/lib/libnicsim.so" | grep -q 'Library soname: \[libnicsim.so.0\]' \
    || { echo "cabi-test: libnicsim.so has no SONAME libnicsim.so.0" >&2; exit 1; }
readelf -d "$prefix/emulator" | grep -q 'Shared library: \[libnicsim.so.0\]' \
    || { echo "cabi-test: the emulator does not record libnicsim.so.0 as NEEDED" >&2; exit 1; }
echo "cabi-test: SONAME libnicsim.so.0"
# The same program linked against the static archive.
cc -std=c99 -Wall -Wextra -Werror -pedantic Tests/CABI/emulator.c $(pkg-config --cflags --libs nicsim-static) -o "$prefix/emulator-static"
"$prefix/emulator-static" | sed 's/^/static: /'
# Every fixtures/qtest suite through the C ABI, on a pc-like board written in C.
cc -std=c99 -Wall -Wextra -Werror -pedantic Tests/CABI/qtest.c $(pkg-config --cflags --libs nicsim) -o "$prefix/qtest"
"$prefix/qtest" fixtures/qtest/*/*.qtest
