#!/usr/bin/env bash
# The main job `make run` runs: the best end-to-end demonstration nicsim has.
# A simulated PC with each NIC model PXE-boots from the embedded BootServer
# on a virtual switch: DHCP, the NBP over TFTP, then the built-in pxelinux
# fetches its config, the kernel and the initrd into guest memory.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(swift build --show-bin-path)/nicsim"
for model in rtl8139 ne2000 virtio-net; do
    echo "== nicsim boot --model $model"
    "$bin" boot --model "$model" --dir fixtures/tftpboot
    echo
done
echo "== the same boot with 5% loss, 5% duplication and reordering on the switch"
"$bin" boot --model rtl8139 --dir fixtures/tftpboot --loss 0.05 --duplication 0.05 --reorder 4 --seed 7
