#!/usr/bin/env bash
# Installs the Debian packages nicsim's build and tests need, only those
# missing, without asking anything. Run as root (CI is root), or with sudo.
set -euo pipefail

packages=(
    # Build.
    pkg-config
    # The C ABI test (Tests/CABI/emulator.c) is built with the system cc.
    gcc
    libpcap-dev
    # qtest differential runs and the QEMU guests of the bridge and
    # integration tests.
    python3
    qemu-system-x86
    seabios
    ipxe-qemu
    # UEFI guests (q35 + OVMF): PXE and HTTP Boot against nicsim serve.
    ovmf
    # ARM64 UEFI guests (virt + AAVMF): architectures 11 and 19.
    qemu-system-arm
    qemu-efi-aarch64
    # Trace cross-checks and live capture in network namespaces.
    tcpdump
    tshark
    wireshark-common
    iproute2
    ethtool
    # Integration tests: real PXE peers and boot files.
    dnsmasq
    pxelinux
    syslinux-common
    curl
    # `make fleet`: wall time and peak memory of a 1000-client fleet.
    time
    # The x86 machine: the iPXE ROMs and NBPs it runs, and its CPU.
    ipxe
    libunicorn-dev
    # The UEFI machine's other network boot programs.
    grub-efi-amd64-bin
    syslinux-efi
    shim-signed
)

missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
