import NICCore

/// The fixed 40-byte IPv6 header (RFC 8200 §3): version 6, traffic
/// class, flow label, payload length, next header, hop limit, source and
/// destination. Parsing checks the version and the payload length against
/// the bytes present (trailing Ethernet padding is allowed); extension
/// headers are left to the caller, which sees them as `nextHeader`.
public struct IPv6Header: Hashable, Sendable {
    public static let size = 40

    public var trafficClass: UInt8 = 0
    /// 20 bits.
    public var flowLabel: UInt32 = 0
    /// The bytes after this header (extension headers plus upper layer).
    public var payloadLength: Int
    /// The type of the header that follows, in IPv4 protocol numbers.
    public var nextHeader: IPProtocol
    public var hopLimit: UInt8
    public var source: IPv6Address
    public var destination: IPv6Address

    public init(payloadLength: Int, nextHeader: IPProtocol, hopLimit: UInt8,
                source: IPv6Address, destination: IPv6Address) {
        self.payloadLength = payloadLength
        self.nextHeader = nextHeader
        self.hopLimit = hopLimit
        self.source = source
        self.destination = destination
    }

    /// Reads and validates the header at the start of `packet` (the bytes
    /// after the Ethernet header).
    public init(parsing packet: UnsafeRawBufferPointer) throws(WireError) {
        guard packet.count >= Self.size else { throw .truncated }
        let word = packet.be32(at: 0)
        guard word >> 28 == 6 else { throw .malformed }
        let length = Int(packet.be16(at: 4))
        // A zero payload length with a hop-by-hop header is a jumbogram
        // (RFC 2675); no Ethernet frame carries one, so it is only ever 0 bytes.
        guard Self.size + length <= packet.count else { throw .truncated }
        trafficClass = UInt8(truncatingIfNeeded: word >> 20)
        flowLabel = word & 0xF_FFFF
        payloadLength = length
        nextHeader = IPProtocol(rawValue: packet.byte(at: 6))
        hopLimit = packet.byte(at: 7)
        source = packet.ipv6(8)
        destination = packet.ipv6(24)
    }

    /// The payload's offsets within the packet that was parsed.
    public var payloadRange: Range<Int> { Self.size..<(Self.size + max(0, payloadLength)) }

    /// Writes the 40-byte header.
    public func write(to out: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard out.count >= Self.size else { throw .noRoom }
        guard payloadLength >= 0, payloadLength <= 0xFFFF else { throw .malformed }
        out.setBE32(6 << 28 | UInt32(trafficClass) << 20 | flowLabel & 0xF_FFFF, at: 0)
        out.setBE16(UInt16(payloadLength), at: 4)
        out.setByte(nextHeader.rawValue, at: 6)
        out.setByte(hopLimit, at: 7)
        out.put(source, at: 8)
        out.put(destination, at: 24)
    }
}
