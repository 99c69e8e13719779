#ifndef NICSIM_CLINUXNET_SHIM_H
#define NICSIM_CLINUXNET_SHIM_H
/* The Linux interfaces the Bridge layer talks to beyond libpcap: TAP
 * devices (/dev/net/tun), packet-socket memberships, interface flags,
 * bridge ports and driver names. ioctl(2) is variadic, which Swift does
 * not call, so each request has a typed wrapper here. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/if_packet.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

/* TUNSETIFF: attach fd to the TAP device `name` (created if missing) with
 * `flags`; the kernel's chosen name is written back. 0 or -errno. */
static inline int nicsim_tun_set_iff(int fd, char name[IFNAMSIZ], short flags) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    ifr.ifr_flags = flags;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) return -errno;
    memcpy(name, ifr.ifr_name, IFNAMSIZ);
    return 0;
}

/* TUNSETOFFLOAD: the offloads the reader accepts (TUN_F_*). */
static inline int nicsim_tun_set_offload(int fd, unsigned int offloads) {
    return ioctl(fd, TUNSETOFFLOAD, (unsigned long)offloads) < 0 ? -errno : 0;
}

/* TUNSETVNETHDRSZ. */
static inline int nicsim_tun_set_vnet_hdr_size(int fd, int size) {
    return ioctl(fd, TUNSETVNETHDRSZ, &size) < 0 ? -errno : 0;
}

/* SIOCGIFFLAGS on any socket: the interface's flags, or -errno. */
static inline int nicsim_get_if_flags(int sock, const char *name) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) return -errno;
    return (unsigned short)ifr.ifr_flags;
}

/* SIOCSIFFLAGS. */
static inline int nicsim_set_if_flags(int sock, const char *name, int flags) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    ifr.ifr_flags = (short)flags;
    return ioctl(sock, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

/* SIOCBRADDIF: make interface `ifindex` a port of bridge `bridge`. */
static inline int nicsim_bridge_add_port(int sock, const char *bridge, int ifindex) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, bridge, IFNAMSIZ - 1);
    ifr.ifr_ifindex = ifindex;
    return ioctl(sock, SIOCBRADDIF, &ifr) < 0 ? -errno : 0;
}

/* SIOCBRDELIF: remove interface `ifindex` from bridge `bridge`. */
static inline int nicsim_bridge_remove_port(int sock, const char *bridge, int ifindex) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strncpy(ifr.ifr_name, bridge, IFNAMSIZ - 1);
    ifr.ifr_ifindex = ifindex;
    return ioctl(sock, SIOCBRDELIF, &ifr) < 0 ? -errno : 0;
}

/* ETHTOOL_GDRVINFO: the interface's driver name ("veth", "tun", "e1000e")
 * into `driver` (32 bytes). 0 or -errno. */
static inline int nicsim_driver_name(int sock, const char *name, char driver[32]) {
    struct ethtool_drvinfo info;
    struct ifreq ifr;
    memset(&info, 0, sizeof info);
    memset(&ifr, 0, sizeof ifr);
    info.cmd = ETHTOOL_GDRVINFO;
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    ifr.ifr_data = (void *)&info;
    if (ioctl(sock, SIOCETHTOOL, &ifr) < 0) return -errno;
    memcpy(driver, info.driver, 32);
    driver[31] = 0;
    return 0;
}

/* PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP on a packet socket:
 * `type` is PACKET_MR_UNICAST (with a 6-byte address), PACKET_MR_PROMISC
 * or PACKET_MR_ALLMULTI. The kernel counts memberships and drops them
 * when the socket closes. */
static inline int nicsim_packet_membership(int fd, int add, int ifindex, unsigned short type, const unsigned char *address) {
    struct packet_mreq mreq;
    memset(&mreq, 0, sizeof mreq);
    mreq.mr_ifindex = ifindex;
    mreq.mr_type = type;
    if (address) {
        mreq.mr_alen = 6;
        memcpy(mreq.mr_address, address, 6);
    }
    int option = add ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP;
    return setsockopt(fd, SOL_PACKET, option, &mreq, sizeof mreq) < 0 ? -errno : 0;
}
#endif
