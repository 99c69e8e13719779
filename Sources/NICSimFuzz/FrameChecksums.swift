import NICCore
import Wire

/// Repairs the checksums of a mutated frame so a fuzzer's changes reach
/// the parsers behind them (a random 16-bit checksum is right once in
/// 65536 tries). Only fields that lie wholly inside the frame are touched;
/// the lengths the frame claims are left as they are.
enum FrameChecksums {
    /// Fixes the IPv4 header checksum and the UDP checksum (when present)
    /// of an Ethernet/IPv4 frame, or the ICMPv6 checksum of an
    /// Ethernet/IPv6 frame.
    static func fix(_ frame: UnsafeMutableRawBufferPointer) {
        let e = EthernetHeader.size
        guard frame.count >= e + 20 else { return }
        let etherType = UInt16(frame[12]) << 8 | UInt16(frame[13])
        switch etherType {
        case EtherType.ipv4.rawValue:
            let ihl = Int(frame[e] & 0x0F) * 4
            guard ihl >= 20, e + ihl <= frame.count else { return }
            put16(0, frame, e + 10)
            put16(InternetChecksum.compute(UnsafeRawBufferPointer(rebasing: frame[e..<(e + ihl)])), frame, e + 10)
            guard frame[e + 9] == IPProtocol.udp.rawValue else { return }
            let total = Int(get16(frame, e + 2))
            let udp = e + ihl
            guard udp + UDPHeader.size <= frame.count else { return }
            let length = Int(get16(frame, udp + 4))
            guard length >= UDPHeader.size, udp + length <= frame.count, ihl + length <= total else { return }
            put16(0, frame, udp + 6)
            let source = IPv4Address(rawValue: get32(frame, e + 12))
            let destination = IPv4Address(rawValue: get32(frame, e + 16))
            let sum = UDPHeader.checksum(UnsafeRawBufferPointer(rebasing: frame[udp..<(udp + length)]), source: source, destination: destination)
            put16(sum == 0 ? 0xFFFF : sum, frame, udp + 6)
        case EtherType.ipv6.rawValue:
            let header = e + 40
            guard frame.count >= header + 4, frame[e + 6] == IPProtocol.icmpv6.rawValue else { return }
            let length = Int(get16(frame, e + 4))
            guard header + length <= frame.count, length >= 4 else { return }
            guard let source = IPv6Address(bytes: frame[(e + 8)..<(e + 24)]),
                  let destination = IPv6Address(bytes: frame[(e + 24)..<(e + 40)]) else { return }
            ICMPv6Header.fillChecksum(UnsafeMutableRawBufferPointer(rebasing: frame[header..<(header + length)]),
                                      source: source, destination: destination)
        default:
            return
        }
    }

    static func fix(_ frame: inout [UInt8]) {
        frame.withUnsafeMutableBytes { fix($0) }
    }

    private static func get16(_ p: UnsafeMutableRawBufferPointer, _ i: Int) -> UInt16 {
        UInt16(p[i]) << 8 | UInt16(p[i + 1])
    }

    private static func get32(_ p: UnsafeMutableRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(get16(p, i)) << 16 | UInt32(get16(p, i + 2))
    }

    private static func put16(_ v: UInt16, _ p: UnsafeMutableRawBufferPointer, _ i: Int) {
        p[i] = UInt8(v >> 8)
        p[i + 1] = UInt8(truncatingIfNeeded: v)
    }
}
