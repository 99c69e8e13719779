#include "CLinuxNet.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/if_packet.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

static void set_name(struct ifreq *ifr, const char *name) {
    memset(ifr, 0, sizeof *ifr);
    strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

int nicsim_tap_set_iff(int fd, const char *name) {
    struct ifreq ifr;
    set_name(&ifr, name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    return ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
}

int nicsim_tap_set_vnet_hdr_size(int fd, int size) {
    return ioctl(fd, TUNSETVNETHDRSZ, &size) < 0 ? -errno : 0;
}

int nicsim_tap_accept_checksum_offload(int fd) {
    return ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_F_CSUM) < 0 ? -errno : 0;
}

int nicsim_if_bring_up(int sock, const char *name) {
    struct ifreq ifr;
    set_name(&ifr, name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) return -errno;
    if (ifr.ifr_flags & IFF_UP) return 0;
    ifr.ifr_flags |= IFF_UP;
    return ioctl(sock, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

int nicsim_if_mtu(int sock, const char *name) {
    struct ifreq ifr;
    set_name(&ifr, name);
    if (ioctl(sock, SIOCGIFMTU, &ifr) < 0) return -errno;
    return ifr.ifr_mtu;
}

static int bridge_port(int sock, const char *bridge, int ifindex, unsigned long request) {
    struct ifreq ifr;
    set_name(&ifr, bridge);
    ifr.ifr_ifindex = ifindex;
    return ioctl(sock, request, &ifr) < 0 ? -errno : 0;
}

int nicsim_bridge_add_port(int sock, const char *bridge, int ifindex) {
    return bridge_port(sock, bridge, ifindex, SIOCBRADDIF);
}

int nicsim_bridge_remove_port(int sock, const char *bridge, int ifindex) {
    return bridge_port(sock, bridge, ifindex, SIOCBRDELIF);
}

int nicsim_if_driver_name(int sock, const char *name, char driver[32]) {
    struct ethtool_drvinfo info;
    struct ifreq ifr;
    memset(&info, 0, sizeof info);
    set_name(&ifr, name);
    info.cmd = ETHTOOL_GDRVINFO;
    ifr.ifr_data = (void *)&info;
    if (ioctl(sock, SIOCETHTOOL, &ifr) < 0) return -errno;
    memcpy(driver, info.driver, 32);
    driver[31] = 0;
    return 0;
}

static int membership(int fd, int add, int ifindex, unsigned short type, const uint8_t *address) {
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

int nicsim_packet_unicast(int fd, int add, int ifindex, const uint8_t address[6]) {
    return membership(fd, add, ifindex, PACKET_MR_UNICAST, address);
}

int nicsim_packet_promiscuous(int fd, int add, int ifindex) {
    return membership(fd, add, ifindex, PACKET_MR_PROMISC, 0);
}
