#!/usr/bin/env bash
# Builds a PXELINUX TFTP tree for integration tests: Debian's pxelinux.0 and
# ldlinux.c32, a pxelinux.cfg/default, and a kernel and initrd of random
# bytes (sizes in bytes, defaults 1 MiB and 512 KiB + 1).
#   scripts/make-tftpboot.sh DIR [KERNEL_BYTES] [INITRD_BYTES]
set -euo pipefail
dir="${1:?usage: make-tftpboot.sh DIR [KERNEL_BYTES] [INITRD_BYTES]}"
kernel="${2:-1048576}"
initrd="${3:-524289}"
mkdir -p "$dir/pxelinux.cfg"
cp /usr/lib/PXELINUX/pxelinux.0 "$dir/"
cp /usr/lib/syslinux/modules/bios/ldlinux.c32 "$dir/"
head -c "$kernel" /dev/urandom > "$dir/vmlinuz"
head -c "$initrd" /dev/urandom > "$dir/initrd.img"
cat > "$dir/pxelinux.cfg/default" <<'CFG'
DEFAULT nicsim
PROMPT 0
TIMEOUT 1
LABEL nicsim
  KERNEL vmlinuz
  APPEND initrd=initrd.img
CFG
