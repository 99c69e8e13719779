import NICCore

/// IP protocol numbers (IANA) nicsim handles.
public struct IPProtocol: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let icmp = IPProtocol(rawValue: 1)
    public static let tcp = IPProtocol(rawValue: 6)
    public static let udp = IPProtocol(rawValue: 17)
    /// ICMP for IPv6 (RFC 4443), as an IPv6 next header.
    public static let icmpv6 = IPProtocol(rawValue: 58)
}

/// The IPv4 header (RFC 791). Parsing validates version, IHL, total length
/// against the bytes present and the header checksum; options are skipped.
public struct IPv4Header: Hashable, Sendable {
    /// A header without options.
    public static let minimumSize = 20

    /// IHL times four: where the payload starts.
    public var headerLength: Int = minimumSize
    public var typeOfService: UInt8 = 0
    /// Header plus payload, in bytes.
    public var totalLength: Int
    public var identification: UInt16 = 0
    /// Bit 1 of the flags: don't fragment.
    public var dontFragment = false
    /// Bit 2 of the flags: more fragments.
    public var moreFragments = false
    /// In 8-byte units.
    public var fragmentOffset: UInt16 = 0
    public var timeToLive: UInt8 = 64
    public var proto: IPProtocol
    public var source: IPv4Address
    public var destination: IPv4Address

    public init(totalLength: Int, proto: IPProtocol, source: IPv4Address, destination: IPv4Address,
                identification: UInt16 = 0, timeToLive: UInt8 = 64, dontFragment: Bool = false) {
        self.totalLength = totalLength
        self.proto = proto
        self.source = source
        self.destination = destination
        self.identification = identification
        self.timeToLive = timeToLive
        self.dontFragment = dontFragment
    }

    /// Reads and validates the header at the start of `packet` (the bytes
    /// after the Ethernet header; trailing Ethernet padding is allowed).
    public init(parsing packet: UnsafeRawBufferPointer) throws(WireError) {
        guard packet.count >= Self.minimumSize else { throw .truncated }
        let versionIHL = packet.byte(at: 0)
        guard versionIHL >> 4 == 4 else { throw .malformed }
        let ihl = Int(versionIHL & 0x0F) * 4
        guard ihl >= Self.minimumSize else { throw .malformed }
        guard ihl <= packet.count else { throw .truncated }
        let total = Int(packet.be16(at: 2))
        guard total >= ihl else { throw .malformed }
        guard total <= packet.count else { throw .truncated }
        guard InternetChecksum.compute(packet.clamped(0..<ihl)) == 0 else { throw .badChecksum }
        headerLength = ihl
        typeOfService = packet.byte(at: 1)
        totalLength = total
        identification = packet.be16(at: 4)
        let flagsFragment = packet.be16(at: 6)
        dontFragment = flagsFragment & 0x4000 != 0
        moreFragments = flagsFragment & 0x2000 != 0
        fragmentOffset = flagsFragment & 0x1FFF
        timeToLive = packet.byte(at: 8)
        proto = IPProtocol(rawValue: packet.byte(at: 9))
        source = packet.ipv4(12)
        destination = packet.ipv4(16)
    }

    /// True for any piece of a fragmented datagram.
    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }

    /// The payload's offsets within the packet that was parsed.
    public var payloadRange: Range<Int> { headerLength..<max(headerLength, totalLength) }

    /// Writes a 20-byte header (no options) with its checksum.
    public func write(to out: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard out.count >= Self.minimumSize else { throw .noRoom }
        guard totalLength >= Self.minimumSize, totalLength <= 0xFFFF else { throw .malformed }
        out.setByte(0x45, at: 0)
        out.setByte(typeOfService, at: 1)
        out.setBE16(UInt16(totalLength), at: 2)
        out.setBE16(identification, at: 4)
        var ff = fragmentOffset & 0x1FFF
        if dontFragment { ff |= 0x4000 }
        if moreFragments { ff |= 0x2000 }
        out.setBE16(ff, at: 6)
        out.setByte(timeToLive, at: 8)
        out.setByte(proto.rawValue, at: 9)
        out.setBE16(0, at: 10)
        out.put(source, at: 12)
        out.put(destination, at: 16)
        let sum = InternetChecksum.compute(UnsafeRawBufferPointer(rebasing: out[0..<Self.minimumSize]))
        out.setBE16(sum, at: 10)
    }
}
