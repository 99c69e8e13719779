import NICCore
import Wire

/// IPv6 router discovery, when `configuration.ipv6Prefix` is set: a Router
/// Solicitation (ICMPv6 type 133 to ff02::2) gets a Router Advertisement
/// (type 134) to all nodes, from the server's link-local address, with its
/// link-layer address and the prefix for stateless autoconfiguration
/// (RFC 4861 §4.1-4.2, §6.2.6; RFC 4862). Neither Managed nor Other is set
/// and the router lifetime is 0 (not a default router): the client only
/// learns that no DHCPv6 will follow, which is what ends iPXE's wait.
extension BootServer {
    /// 33:33:00:00:00:02, the Ethernet group of ff02::2 (RFC 2464 §7).
    static let allRoutersMAC = MACAddress(0x33, 0x33, 0x00, 0x00, 0x00, 0x02)
    /// 33:33:00:00:00:01, the Ethernet group of ff02::1.
    static let allNodesMAC = MACAddress(0x33, 0x33, 0x00, 0x00, 0x00, 0x01)

    private static let ipv6HeaderSize = 40
    private static let icmpv6 = UInt8(58)
    private static let routerSolicitation = UInt8(133)
    private static let routerAdvertisement = UInt8(134)
    /// RA header (16) + source link-layer address option (8) + prefix
    /// information option (32).
    private static let advertisementSize = 56

    func receiveIPv6(_ frame: UnsafeRawBufferPointer) {
        let ip = EthernetHeader.size
        let icmp = ip + Self.ipv6HeaderSize
        // Version 6, ICMPv6 with no extension headers, hop limit 255 and
        // code 0 (RFC 4861 §6.1.1), at least the 8-byte RS header.
        guard frame.count >= icmp + 8, frame[ip] >> 4 == 6, frame[ip + 6] == Self.icmpv6, frame[ip + 7] == 255,
              frame[icmp] == Self.routerSolicitation, frame[icmp + 1] == 0,
              let prefix = configuration.ipv6Prefix, prefix.count >= 8 else {
            counters.framesIgnored += 1
            return
        }
        let payloadLength = Int(frame[ip + 4]) << 8 | Int(frame[ip + 5])
        guard payloadLength >= 8, icmp + payloadLength <= frame.count else {
            counters.malformed += 1
            return
        }
        sendRouterAdvertisement(prefix: prefix)
    }

    private func sendRouterAdvertisement(prefix: [UInt8]) {
        let out = transmitBuffer.baseAddress
        let total = EthernetHeader.size + Self.ipv6HeaderSize + Self.advertisementSize
        guard transmitBuffer.capacity >= total else { return }
        out.initializeMemory(as: UInt8.self, repeating: 0, count: total)
        do {
            try EthernetHeader(destination: Self.allNodesMAC, source: configuration.mac, etherType: .ipv6)
                .write(to: UnsafeMutableRawBufferPointer(start: out, count: EthernetHeader.size))
        } catch { return }
        let ip = out + EthernetHeader.size
        ip.storeBytes(of: 0x60, as: UInt8.self)  // version 6, traffic class 0, flow label 0
        ip.storeBytes(of: UInt16(Self.advertisementSize).bigEndian, toByteOffset: 4, as: UInt16.self)
        ip.storeBytes(of: Self.icmpv6, toByteOffset: 6, as: UInt8.self)
        ip.storeBytes(of: 255, toByteOffset: 7, as: UInt8.self)  // hop limit 255 (RFC 4861 §6.1.2)
        // Source: fe80::/64 with the modified EUI-64 of our MAC (RFC 4291 §2.5.1).
        let mac = configuration.mac
        ip.storeBytes(of: 0xFE, toByteOffset: 8, as: UInt8.self)
        ip.storeBytes(of: 0x80, toByteOffset: 9, as: UInt8.self)
        ip.storeBytes(of: mac[0] ^ 0x02, toByteOffset: 16, as: UInt8.self)
        ip.storeBytes(of: mac[1], toByteOffset: 17, as: UInt8.self)
        ip.storeBytes(of: mac[2], toByteOffset: 18, as: UInt8.self)
        ip.storeBytes(of: 0xFF, toByteOffset: 19, as: UInt8.self)
        ip.storeBytes(of: 0xFE, toByteOffset: 20, as: UInt8.self)
        ip.storeBytes(of: mac[3], toByteOffset: 21, as: UInt8.self)
        ip.storeBytes(of: mac[4], toByteOffset: 22, as: UInt8.self)
        ip.storeBytes(of: mac[5], toByteOffset: 23, as: UInt8.self)
        // Destination: ff02::1, all nodes.
        ip.storeBytes(of: 0xFF, toByteOffset: 24, as: UInt8.self)
        ip.storeBytes(of: 0x02, toByteOffset: 25, as: UInt8.self)
        ip.storeBytes(of: 0x01, toByteOffset: 39, as: UInt8.self)

        let ra = ip + Self.ipv6HeaderSize
        ra.storeBytes(of: Self.routerAdvertisement, as: UInt8.self)
        ra.storeBytes(of: 64, toByteOffset: 4, as: UInt8.self)  // Cur Hop Limit; M = O = 0, router lifetime,
                                                                // reachable time and retrans timer 0
        // Source Link-Layer Address option: type 1, length 1 (8 bytes).
        ra.storeBytes(of: 1, toByteOffset: 16, as: UInt8.self)
        ra.storeBytes(of: 1, toByteOffset: 17, as: UInt8.self)
        mac.store(to: ra + 18)
        // Prefix Information option: type 3, length 4 (32 bytes), /64,
        // on-link (L) and autonomous (A), valid and preferred lifetimes.
        let pio = ra + 24
        pio.storeBytes(of: 3, as: UInt8.self)
        pio.storeBytes(of: 4, toByteOffset: 1, as: UInt8.self)
        pio.storeBytes(of: 64, toByteOffset: 2, as: UInt8.self)
        pio.storeBytes(of: 0xC0, toByteOffset: 3, as: UInt8.self)
        pio.storeBytes(of: UInt32(86_400).bigEndian, toByteOffset: 4, as: UInt32.self)
        pio.storeBytes(of: UInt32(14_400).bigEndian, toByteOffset: 8, as: UInt32.self)
        for i in 0..<8 { pio.storeBytes(of: prefix[i], toByteOffset: 16 + i, as: UInt8.self) }

        // ICMPv6 checksum over the pseudo-header (RFC 8200 §8.1): source,
        // destination, upper-layer length, next header; then the message.
        var sum = InternetChecksum()
        sum.add(UnsafeRawBufferPointer(start: ip + 8, count: 32))
        sum.add(word: 0)
        sum.add(word: UInt16(Self.advertisementSize))
        sum.add(word: UInt16(Self.icmpv6))
        sum.add(UnsafeRawBufferPointer(start: ra, count: Self.advertisementSize))
        ra.storeBytes(of: sum.value.bigEndian, toByteOffset: 2, as: UInt16.self)

        transmitBuffer.setCount(total)
        counters.routerAdvertisements += 1
        port.transmit(transmitBuffer.bytes)
    }
}
