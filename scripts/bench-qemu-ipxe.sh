#!/usr/bin/env bash
# Reference figure for the TFTP benchmark: QEMU (SeaBIOS + the iPXE ROM
# from ipxe-qemu, rtl8139, TCG) PXE-boots Debian's pxelinux from dnsmasq in
# a network namespace and loads a kernel of SIZE bytes (default 64 MiB).
# Prints how long dnsmasq took from sending the config to finishing the
# kernel (dnsmasq logs whole seconds, so the figure is +-1 s). Needs root.
#   scripts/bench-qemu-ipxe.sh [SIZE]
set -euo pipefail
size="${1:-67108864}"
here="$(cd "$(dirname "$0")" && pwd)"
name=bootserver-bench
tree="$(mktemp -d /tmp/nsim-bootserver-bench.XXXXXX)"
cleanup() {
    bash "$here/netns.sh" down "$name"
    rm -rf "$tree"
}
trap cleanup EXIT
bash "$here/make-tftpboot.sh" "$tree" "$size" 4096
bash "$here/netns.sh" up "$name"
srv="nsim-$name-srv"; cli="nsim-$name-cli"
# The guest's tap joins cli0 on a bridge in the client namespace.
ip -n "$cli" tuntap add dev tap0 mode tap
ip -n "$cli" link add br0 type bridge
ip -n "$cli" link set cli0 master br0
ip -n "$cli" link set tap0 master br0
for l in br0 tap0; do ip -n "$cli" link set "$l" up; done
(bash "$here/dnsmasq-pxe.sh" "$srv" srv0 "$tree" full > "$tree/dnsmasq.log" 2>&1 &)
sleep 1
(ip netns exec "$cli" timeout 300 qemu-system-x86_64 -nodefaults -display none -machine pc,accel=tcg -m 256 -serial null \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device rtl8139,netdev=n0,mac=52:54:00:12:34:56 -boot n \
    > /dev/null 2>&1 &)
for _ in $(seq 1 300); do
    grep -q "sent $tree/vmlinuz" "$tree/dnsmasq.log" && break
    sleep 1
done
python3 - "$tree/dnsmasq.log" "$tree" "$size" <<'PY'
import sys, re, datetime
log, tree, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
def when(pattern):
    for line in open(log):
        if pattern in line:
            return datetime.datetime.strptime(line[:15], "%b %d %H:%M:%S")
    sys.exit(f"not in the dnsmasq log: {pattern}")
d = (when(f"sent {tree}/vmlinuz") - when(f"sent {tree}/pxelinux.cfg/default")).total_seconds()
print(f"QEMU+iPXE (rtl8139, TCG) from dnsmasq: {size} bytes in about {d:.0f} s (+-1 s), about {size / max(d, 1) / 1e6:.1f} MB/s")
PY
