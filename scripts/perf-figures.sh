#!/usr/bin/env bash
# The frame path's five headline figures, each against its baseline measured
# in the same run (docs/PERFORMANCE.md explains them):
#   1. `nicsim replay` of 2 M 64-byte frames vs `tcpdump -r` of the same file
#   2. `nicsim bench tftp`: 64 MiB over TFTP per model, as a multiple of memcpy
#   3. `nicsim bench frames`: model + driver, 64-byte frames, vs memcpy
#   4. the Machine on a busy guest: a `jmp $` NBP for 1 s of virtual time
#      (10^8 instructions at 10 ns each), and a loop calling INT 1Ah
#   5. power-on to the test kernel's first line: `nicsim boot` vs QEMU TCG +
#      SeaBIOS + iPXE + slirp TFTP on the same fixtures
# Needs python3, tcpdump and qemu-system-x86 (scripts/setup.sh installs them).
#   scripts/perf-figures.sh [NICSIM_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
bin="${1:-}"
if [ -z "$bin" ]; then
    "${SWIFT:-swift}" build -c release --product nicsim >&2
    bin="$("${SWIFT:-swift}" build -c release --show-bin-path)/nicsim"
fi
work="$(mktemp -d /tmp/nicsim-figures.XXXXXX)"
trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.3f}')" "$1" "$2"; }

echo "== 1. replay of 2,000,000 64-byte frames (RTL8139 model + driver) vs tcpdump -r"
python3 - "$work/frames.pcap" <<'PY'
import struct, sys
# 2 M frames to the model's default MAC, payload counting up, 1 us apart.
frame = bytes([0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0, 0, 0, 0, 1, 0x88, 0xB5]) + bytes(range(50))
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for chunk in range(20):
        f.write(b"".join(struct.pack("<IIII", i // 1000000, i % 1000000, 64, 64) + frame
                         for i in range(chunk * 100000, (chunk + 1) * 100000)))
PY
t0=$(now); "$bin" replay --model rtl8139 --trace "$work/frames.pcap"; t1=$(now)
tcpdump -r "$work/frames.pcap" -w /dev/null 2>/dev/null; t2=$(now)
replay=$(elapsed "$t0" "$t1"); libpcap=$(elapsed "$t1" "$t2")
echo "nicsim replay: $replay s, tcpdump -r: $libpcap s, nicsim at $(ratio "$libpcap" "$replay") x libpcap's rate"

echo
echo "== 2. 64 MiB over TFTP through model + UNDI + PXE + switch + BootServer"
for model in rtl8139 virtio-net ne2000; do
    "$bin" bench tftp --model "$model" --runs 1
done

echo
echo "== 3. model + driver, 64-byte frames"
for spec in "rtl8139 tx" "rtl8139 rx" "virtio-net rx" "virtio-net tx" "ne2000 rx" "ne2000 tx"; do
    set -- $spec
    "$bin" bench frames --model "$1" --direction "$2" --size 64 --frames 1000000 --runs 1 --json
done

echo
echo "== 4. the Machine: a jmp \$ NBP for 1 s of virtual time (10^8 instructions)"
mkdir -p "$work/spin"
printf '\xeb\xfe' > "$work/spin/pxelinux.0"
t0=$(now); "$bin" boot --model rtl8139 --dir "$work/spin" --nbp exec --timeout 1 --json > "$work/spin.json"; t1=$(now)
spin=$(elapsed "$t0" "$t1")
echo "1 s virtual in $spin s wall: $(ratio 1 "$spin") x real time, $(ratio 100 "$spin") M instructions/s"

mkdir -p "$work/bios"
printf '\xb4\x00\xcd\x1a\xeb\xfa' > "$work/bios/pxelinux.0"   # mov ah,0; int 1Ah; jmp
t0=$(now); "$bin" boot --model rtl8139 --dir "$work/bios" --nbp exec --timeout 0.25 --json > "$work/bios.json"; t1=$(now)
bios=$(elapsed "$t0" "$t1")
echo "through BIOS services (INT 1Ah in a loop): 0.25 s virtual in $bios s wall: $(ratio 0.25 "$bios") x real time"

echo
echo "== 5. power-on to the test kernel's first line: nicsim boot vs QEMU (TCG, SeaBIOS, iPXE, slirp TFTP)"
t0=$(now); "$bin" boot --model rtl8139 --dir fixtures/tftpboot --json > "$work/boot.json"; t1=$(now)
boot=$(elapsed "$t0" "$t1")
grep -q "nicsim test kernel" "$work/boot.json" || { echo "nicsim boot did not reach the test kernel" >&2; exit 1; }
# SeaBIOS mirrors INT 10h to COM1 when etc/sercon-port names it, so the
# kernel's first line shows on the serial file.
printf '\xf8\x03\x00\x00\x00\x00\x00\x00' > "$work/sercon"
t0=$(now)
qemu-system-x86_64 -nodefaults -display none -machine pc,accel=tcg -m 256 \
    -serial "file:$work/serial.txt" -fw_cfg "name=etc/sercon-port,file=$work/sercon" \
    -netdev "user,id=n0,tftp=$root/fixtures/tftpboot,bootfile=pxelinux.0" \
    -device rtl8139,netdev=n0,mac=52:54:00:12:34:56 -boot n 2>/dev/null &
qemu=$!
for _ in $(seq 1 6000); do
    grep -q "nicsim test kernel" "$work/serial.txt" 2>/dev/null && break
    sleep 0.01
done
t1=$(now)
kill "$qemu" 2>/dev/null || true
wait "$qemu" 2>/dev/null || true
grep -q "nicsim test kernel" "$work/serial.txt" || { echo "QEMU did not reach the test kernel" >&2; exit 1; }
qemu_s=$(elapsed "$t0" "$t1")
echo "nicsim boot: $boot s, QEMU: $qemu_s s, nicsim takes $(ratio "$boot" "$qemu_s") x QEMU's time"
