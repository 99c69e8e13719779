#ifndef NICSIM_CLINUXNET_H
#define NICSIM_CLINUXNET_H
/* The Linux interfaces the Bridge layer reaches beyond libpcap: TAP devices
 * (/dev/net/tun), packet-socket memberships, interface flags, bridge ports
 * and driver names. ioctl(2) is variadic, which Swift does not call, and
 * the kernel's structures stay in linuxnet.c; each call returns 0 or
 * -errno. Names are IFNAMSIZ (16) bytes with the terminating zero. */
#include <stdint.h>

/* TUNSETIFF with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR: attach fd (an open
 * /dev/net/tun) to the TAP `name`, created if missing. */
int nicsim_tap_set_iff(int fd, const char *name);
/* TUNSETVNETHDRSZ. */
int nicsim_tap_set_vnet_hdr_size(int fd, int size);
/* TUNSETOFFLOAD with TUN_F_CSUM only: the reader finishes checksums
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM) and takes no segmentation offload. */
int nicsim_tap_accept_checksum_offload(int fd);

/* SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP when it is down. */
int nicsim_if_bring_up(int sock, const char *name);
/* SIOCGIFMTU: the interface's MTU, or -errno. */
int nicsim_if_mtu(int sock, const char *name);
/* SIOCBRADDIF / SIOCBRDELIF: interface `ifindex` joins or leaves `bridge`. */
int nicsim_bridge_add_port(int sock, const char *bridge, int ifindex);
int nicsim_bridge_remove_port(int sock, const char *bridge, int ifindex);
/* ETHTOOL_GDRVINFO: the driver's name ("veth", "tun", "e1000e") into
 * `driver` (32 bytes, zero-terminated). */
int nicsim_if_driver_name(int sock, const char *name, char driver[32]);

/* PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP on a packet socket: the
 * kernel counts memberships and drops them when the socket closes.
 * PACKET_MR_UNICAST with a 6-byte address: it joins the interface's
 * unicast list (dev_uc_add). */
int nicsim_packet_unicast(int fd, int add, int ifindex, const uint8_t address[6]);
/* PACKET_MR_PROMISC. */
int nicsim_packet_promiscuous(int fd, int add, int ifindex);
#endif
