#!/usr/bin/env bash
# Runs dnsmasq in the foreground inside a namespace as a PXE server for
# integration tests.
#   scripts/dnsmasq-pxe.sh NETNS IFACE TFTPDIR full   DHCP range .100-.150 + TFTP, boots pxelinux.0
#   scripts/dnsmasq-pxe.sh NETNS IFACE TFTPDIR proxy  proxyDHCP for 192.168.77.0 + TFTP
#   scripts/dnsmasq-pxe.sh NETNS IFACE TFTPDIR ipxe [NBP]
#       DHCP range .100-.150 + TFTP, chainloading iPXE: a client whose DHCP
#       user class (option 77) is "iPXE" gets the boot file boot.ipxe (an
#       iPXE script the caller puts in TFTPDIR); every other client gets NBP
#       (default undionly.kpxe), e.g. a PXE ROM that then loads iPXE.
#       IPv6 is switched on for IFACE (fd77::1/64) and dnsmasq sends router
#       advertisements there (ra-only, no DHCPv6): iPXE waits for one before
#       it finishes configuring (about 18 s when none comes).
#   scripts/dnsmasq-pxe.sh NETNS IFACE TFTPDIR uefi [NBP]
#       As ipxe, but the boot file is tagged by architecture: an x64 UEFI
#       client (DHCP option 93 = 7) gets NBP (default snponly.efi), a
#       client running iPXE gets boot.ipxe, a BIOS client gets none.
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
ipxe)
    nbp="${5:-undionly.kpxe}"
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$iface.disable_ipv6=0"
    ip -n "$ns" -6 addr replace fd77::1/64 dev "$iface" nodad
    args+=(--dhcp-range=192.168.77.100,192.168.77.150,255.255.255.0,1h
           --dhcp-userclass=set:ipxe,iPXE --dhcp-boot=tag:ipxe,boot.ipxe --dhcp-boot=tag:!ipxe,"$nbp"
           --enable-ra --dhcp-range=::,constructor:"$iface",ra-only)
    ;;
uefi)
    nbp="${5:-snponly.efi}"
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$iface.disable_ipv6=0"
    ip -n "$ns" -6 addr replace fd77::1/64 dev "$iface" nodad
    args+=(--dhcp-range=192.168.77.100,192.168.77.150,255.255.255.0,1h
           --dhcp-match=set:efi64,option:client-arch,7 --dhcp-userclass=set:ipxe,iPXE
           --dhcp-boot=tag:ipxe,boot.ipxe --dhcp-boot=tag:efi64,tag:!ipxe,"$nbp"
           --enable-ra --dhcp-range=::,constructor:"$iface",ra-only)
    ;;
*) echo "mode must be full, proxy, ipxe or uefi" >&2; exit 2 ;;
esac
exec ip netns exec "$ns" dnsmasq "${args[@]}"
