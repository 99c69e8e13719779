/// Seeds for the offload target: what a default veth hands a capture.
/// A DHCP offer over IPv4 with its UDP checksum left partial, a TCP
/// super-frame of 4000 bytes (the sender's segmentation offload) with an
/// MTU of 1500, and an IPv6 UDP frame behind an 802.1Q tag with virtio-net
/// NEEDS_CSUM offsets.
enum OffloadSeeds {
    static func seeds() -> [(String, [UInt8])] {
        let mac: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01]
        func header(flags: UInt8, mtu: UInt16, start: UInt16, offset: UInt16) -> [UInt8] {
            var w = FuzzInputWriter()
            w.u8(flags)
            w.u16(mtu - 68)
            w.u16(start)
            w.u16(offset)
            return w.bytes
        }
        func ipv4(proto: UInt8, l4: [UInt8]) -> [UInt8] {
            let total = 20 + l4.count
            return mac + [0x08, 0x00, 0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, 0x40, 0, 64, proto, 0, 0,
                          192, 168, 77, 1, 192, 168, 77, 111] + l4
        }
        let payload = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let udp: [UInt8] = [0, 67, 0, 68, UInt8((8 + payload.count) >> 8), UInt8((8 + payload.count) & 0xFF), 0, 0] + payload
        let offer = header(flags: 1, mtu: 1500, start: 34, offset: 6) + ipv4(proto: 17, l4: udp)

        let data = (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let tcp: [UInt8] = [0x1F, 0x90, 0xC0, 0x01, 0, 0, 0x10, 0, 0, 0, 0, 1, 0x50, 0x18, 0x01, 0x00, 0, 0, 0, 0] + data
        let superFrame = header(flags: 1, mtu: 1500, start: 34, offset: 16) + ipv4(proto: 6, l4: tcp)

        let v6payload = Array("nicsim".utf8)
        let v6udp: [UInt8] = [0x02, 0x23, 0x02, 0x22, 0, UInt8(8 + v6payload.count), 0, 0] + v6payload
        let v6: [UInt8] = mac + [0x81, 0x00, 0x00, 0x05, 0x86, 0xDD, 0x60, 0, 0, 0, 0, UInt8(v6udp.count), 17, 64]
            + [0xFD, 0x77] + Array(repeating: 0, count: 13) + [1] + [0xFE, 0x80] + Array(repeating: 0, count: 13) + [0x42] + v6udp
        let tagged = header(flags: 1, mtu: 1280, start: 58, offset: 6) + v6
        return [("dhcp-offer-partial", offer), ("tcp-super-frame", superFrame), ("ipv6-udp-vlan", tagged)]
    }
}
