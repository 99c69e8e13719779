#!/usr/bin/env bash
# make install: the nicsim executable, libnicsim.so and libnicsim.a with
# include/nicsim.h, nicsim.pc and nicsim-static.pc, and the default TFTP
# tree under share/nicsim/.
#   scripts/install.sh PREFIX [CONFIG]     (CONFIG: release (default) or debug)
set -euo pipefail
prefix=${1:?usage: install.sh PREFIX [release|debug]}
config=${2:-release}
swift=${SWIFT:-swift}
version=0.1.0
cd "$(dirname "$0")/.."

case "$prefix" in /*) ;; *) prefix="$PWD/$prefix" ;; esac
"$swift" build -c "$config" --product nicsim
"$swift" build -c "$config" --product NICSimABI
"$swift" build -c "$config" --product NICSimABIStatic
bin=$("$swift" build -c "$config" --show-bin-path)
# The Swift runtime libnicsim.so needs (its RUNPATH names it too).
runtime=$(dirname "$(readlink -f "$(command -v "$swift")")")/../lib/swift/linux
runtime=$(cd "$runtime" && pwd)

install -d "$prefix/bin" "$prefix/lib/pkgconfig" "$prefix/include" "$prefix/share/nicsim"
install -m 755 "$bin/nicsim" "$prefix/bin/nicsim"
# libnicsim.so.VERSION, with the SONAME link (libnicsim.so.0) and the
# development link (libnicsim.so) beside it.
rm -f "$prefix/lib/libnicsim.so" "$prefix/lib/libnicsim.so.0"
install -m 755 "$bin/libNICSimABI.so" "$prefix/lib/libnicsim.so.$version"
ln -s "libnicsim.so.$version" "$prefix/lib/libnicsim.so.0"
ln -s libnicsim.so.0 "$prefix/lib/libnicsim.so"
install -m 644 "$bin/libNICSimABIStatic.a" "$prefix/lib/libnicsim.a"
install -m 644 Sources/CNICSim/include/nicsim.h "$prefix/include/nicsim.h"
sed -e "s|@PREFIX@|$prefix|" -e "s|@SWIFT_RUNTIME@|$runtime|" -e "s|@VERSION@|$version|" \
    scripts/nicsim.pc.in > "$prefix/lib/pkgconfig/nicsim.pc"
# A debug build's objects also need the -Onone support library.
onone=""
[ "$config" = debug ] && onone="-lswiftSwiftOnoneSupport"
sed -e "s|@PREFIX@|$prefix|" -e "s|@SWIFT_RUNTIME@|$runtime|" -e "s|@VERSION@|$version|" -e "s|@ONONE@|$onone|" \
    scripts/nicsim-static.pc.in > "$prefix/lib/pkgconfig/nicsim-static.pc"
rm -rf "$prefix/share/nicsim/tftpboot"
cp -R fixtures/tftpboot "$prefix/share/nicsim/tftpboot"
echo "installed nicsim $version ($config) in $prefix"
