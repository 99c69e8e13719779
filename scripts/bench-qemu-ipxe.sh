#!/usr/bin/env bash
# Reference figure for the TFTP benchmark: QEMU (SeaBIOS + the iPXE ROM
# from ipxe-qemu, rtl8139) PXE-boots Debian's pxelinux from dnsmasq in a
# network namespace and loads a kernel of SIZE bytes (default 64 MiB).
# Prints the kernel transfer's duration and throughput, measured from a
# header-only capture on the server's interface. Needs root.
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
bash "$here/dnsmasq-pxe.sh" "$srv" srv0 "$tree" full > "$tree/dnsmasq.log" 2>&1 &
ip netns exec "$srv" tcpdump -q -n -s 64 -i srv0 -w "$tree/tftp.pcap" udp > /dev/null 2>&1 &
sleep 1
ip netns exec "$cli" timeout 300 qemu-system-x86_64 -nodefaults -display none -machine pc,accel=tcg -m 256 -serial null \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no -device rtl8139,netdev=n0,mac=52:54:00:12:34:56 -boot n &
qemu=$!
for _ in $(seq 1 300); do
    grep -q "sent $tree/vmlinuz" "$tree/dnsmasq.log" 2>/dev/null && break
    sleep 1
done
kill "$qemu" 2>/dev/null || true
wait "$qemu" 2>/dev/null || true
sleep 1
grep -q "sent $tree/vmlinuz" "$tree/dnsmasq.log" || { echo "the kernel was not sent"; tail "$tree/dnsmasq.log"; exit 1; }
# From the last read request for vmlinuz to the last packet of the capture
# before dnsmasq reported it sent.
tshark -r "$tree/tftp.pcap" -Y 'tftp.source_file == "vmlinuz"' -T fields -e frame.time_epoch > "$tree/rrq.txt" 2>/dev/null
tshark -r "$tree/tftp.pcap" -Y 'tftp.opcode == 1' -T fields -e frame.time_epoch > "$tree/rrqs.txt" 2>/dev/null
tshark -r "$tree/tftp.pcap" -T fields -e frame.time_epoch -e udp.length > "$tree/all.txt" 2>/dev/null
python3 - "$tree" "$size" <<'PY'
import sys
tree, size = sys.argv[1], int(sys.argv[2])
start = float(open(f"{tree}/rrq.txt").read().split()[-1])
later = [float(t) for t in open(f"{tree}/rrqs.txt").read().split() if float(t) > start]
stop = min(later) if later else float("inf")
times = [float(l.split()[0]) for l in open(f"{tree}/all.txt") if l.strip()]
# The transfer ends at its last packet (the final ACK), before the next request.
end = max(t for t in times if start <= t < stop)
d = end - start
print(f"QEMU+iPXE (rtl8139) from dnsmasq: {size} bytes in {d:.3f} s = {size / d / 1e6:.1f} MB/s")
PY
