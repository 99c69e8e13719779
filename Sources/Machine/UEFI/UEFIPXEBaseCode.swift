import PXE

/// EFI_PXE_BASE_CODE_PROTOCOL (UEFI 2.7 section 24.3) as a boot program
/// finds it on its device handle after a network boot: Started, with the
/// firmware's DHCP packets cached in the mode structure (StationIp,
/// SubnetMask, DhcpDiscover, DhcpAck, ProxyOffer), which is what boot
/// loaders such as GRUB read to configure their own network stack. The
/// functions that would send packets themselves (Dhcp, Discover, Mtftp,
/// UdpWrite/UdpRead, Arp) answer EFI_UNSUPPORTED.
extension UEFIMachine {
    static let pxeBaseCodeGUID = EFIGUID(0x03C4_E603, 0xAC28, 0x11D3, [0x9A, 0x2D, 0x00, 0x90, 0x27, 0x3F, 0xC1, 0x4D])

    /// Offsets in EFI_PXE_BASE_CODE_MODE.
    enum PXEMode {
        static let started: UInt64 = 0
        static let autoArp: UInt64 = 6
        static let dhcpDiscoverValid: UInt64 = 8
        static let dhcpAckReceived: UInt64 = 9
        static let proxyOfferReceived: UInt64 = 10
        static let ttl: UInt64 = 17
        static let stationIp: UInt64 = 20
        static let subnetMask: UInt64 = 36
        /// EFI_PXE_BASE_CODE_PACKET is 1472 bytes.
        static let packetSize = 1472
        static let dhcpDiscover: UInt64 = 52
        static let dhcpAck: UInt64 = 52 + 1472
        static let proxyOffer: UInt64 = 52 + 2 * 1472
        static let size = 16384
    }

    /// Installs the PXE Base Code protocol on `handle` with the cached
    /// packets of `baseCode`'s boot and its lease.
    func installPXEBaseCode(on handle: UInt64, baseCode: PXEBaseCode, lease: DHCPResult) {
        let mode = firmwareAllocate(PXEMode.size, align: 8)
        w8(mode + PXEMode.started, 1)
        w8(mode + PXEMode.autoArp, 1)
        w8(mode + PXEMode.ttl, 64)
        try? memory.write(at: mode + PXEMode.stationIp, bytes: lease.address.bytes)
        try? memory.write(at: mode + PXEMode.subnetMask, bytes: lease.subnetMask.bytes)
        let packets: [(CachedPacketType, UInt64, UInt64)] = [(.dhcpDiscover, PXEMode.dhcpDiscover, PXEMode.dhcpDiscoverValid),
                                                             (.dhcpAck, PXEMode.dhcpAck, PXEMode.dhcpAckReceived)]
        for (type, offset, flag) in packets {
            let (bytes, length) = baseCode.bootPlayer(type)
            guard length > 0 else { continue }
            try? memory.write(at: mode + offset, bytes: Array(bytes.prefix(min(length, PXEMode.packetSize))))
            w8(mode + flag, 1)
        }
        let p = firmwareAllocate(112)
        w64(p, 0x0001_0000)
        let names = ["Start", "Stop", "Dhcp", "Discover", "Mtftp", "UdpWrite", "UdpRead", "SetIpFilter", "Arp",
                     "SetParameters", "SetStationIp", "SetPackets"]
        for (i, name) in names.enumerated() {
            w64(p + 8 + UInt64(i) * 8, stub("PxeBc.\(name)") { m in
                switch name {
                case "Start": return .done(EFIStatus.alreadyStarted)
                case "SetIpFilter", "SetParameters": return .done(EFIStatus.success)
                default:
                    m.note("PxeBc.\(name): unsupported")
                    return .done(EFIStatus.unsupported)
                }
            })
        }
        w64(p + 104, mode)
        addProtocol(handle, Self.pxeBaseCodeGUID, p)
    }
}
