#!/usr/bin/env bash
# The main job `make run` runs: the best end-to-end demonstration nicsim has.
# A simulated PC with each NIC model PXE-boots from the embedded BootServer
# on a virtual switch. nicsim's PXE ROM runs on the x86 machine: DHCP and
# TFTP in the ROM, then Debian's real pxelinux.0 over nicsim's PXE API
# loads the test kernel and initrd by the Linux boot protocol, and the
# kernel prints what it was handed. Then the built-in (Swift) pxelinux
# reports every file it fetched, and a boot through a faulty switch.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(swift build --show-bin-path)/nicsim"
for model in rtl8139 ne2000 virtio-net; do
    echo "== nicsim boot --model $model"
    "$bin" boot --model "$model" --dir fixtures/tftpboot
    echo
done
echo "== the built-in pxelinux: every file it fetched, hashed"
"$bin" boot --model rtl8139 --nbp builtin --dir fixtures/tftpboot
echo
echo "== the same with 5% loss, 5% duplication and reordering on the switch"
"$bin" boot --model rtl8139 --nbp builtin --dir fixtures/tftpboot --loss 0.05 --duplication 0.05 --reorder 4 --seed 7
