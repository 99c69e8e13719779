#!/usr/bin/env bash
# Runs dnsmasq in the foreground inside a namespace as a PXE server for
# integration tests.
#   scripts/dnsmasq-pxe.sh NETNS IFACE TFTPDIR full   DHCP range .100-.150 + TFTP, boots pxelinux.0
#   scripts/dnsmasq-pxe.sh NETNS IFACE TFTPDIR proxy  proxyDHCP for 192.168.77.0 + TFTP
# The interface gets 192.168.77.1/24. Logs DHCP and TFTP to stderr.
set -euo pipefail
ns="${1:?NETNS}"; iface="${2:?IFACE}"; dir="${3:?TFTPDIR}"; mode="${4:-full}"
ip -n "$ns" addr replace 192.168.77.1/24 dev "$iface"
args=(--no-daemon --conf-file=/dev/null --no-resolv --no-hosts --port=0 --interface="$iface" --bind-interfaces
      --enable-tftp --tftp-root="$dir" --log-dhcp --log-facility=- --pid-file=
      --dhcp-leasefile=/dev/null)
case "$mode" in
full)  args+=(--dhcp-range=192.168.77.100,192.168.77.150,255.255.255.0,1h --dhcp-boot=pxelinux.0) ;;
proxy) args+=(--dhcp-range=192.168.77.0,proxy --pxe-service=x86PC,"nicsim",pxelinux) ;;
*) echo "mode must be full or proxy" >&2; exit 2 ;;
esac
exec ip netns exec "$ns" dnsmasq "${args[@]}"
