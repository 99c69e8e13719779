#!/usr/bin/env bash
# Installs the Debian packages nicsim's build and tests need, only those
# missing, without asking anything. Run as root (CI is root), or with sudo.
set -euo pipefail

packages=(
    pkg-config
    libpcap-dev
    # Integration tests (Tests/nicsimTests): real peers and boot files.
    qemu-system-x86
    ipxe-qemu
    pxelinux
    syslinux-common
    dnsmasq
    iproute2
    ethtool
    curl
    python3
    # Bridge tests: cross-checks, live capture in namespaces, a QEMU guest.
    tcpdump
    tshark
    wireshark-common
    seabios
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
