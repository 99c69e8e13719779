import NICCore

/// The 8-byte UDP header (RFC 768), with the checksum over the IPv4
/// pseudo-header (source, destination, zero, protocol 17, UDP length).
public struct UDPHeader: Hashable, Sendable {
    public static let size = 8

    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Header plus payload, in bytes.
    public var length: Int
    /// As received; 0 means the sender computed none.
    public var checksum: UInt16 = 0

    public init(sourcePort: UInt16, destinationPort: UInt16, length: Int) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.length = length
    }

    /// Reads the header at the start of `datagram` (the IPv4 payload) and
    /// checks the length field against it. When a checksum is present it is
    /// verified over the pseudo-header of `source`/`destination`.
    public init(parsing datagram: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address) throws(WireError) {
        guard datagram.count >= Self.size else { throw .truncated }
        sourcePort = datagram.be16(at: 0)
        destinationPort = datagram.be16(at: 2)
        length = Int(datagram.be16(at: 4))
        checksum = datagram.be16(at: 6)
        guard length >= Self.size else { throw .malformed }
        guard length <= datagram.count else { throw .truncated }
        if checksum != 0 {
            let sum = Self.checksum(datagram.clamped(0..<length), source: source, destination: destination, includesChecksumField: true)
            guard sum == 0 else { throw .badChecksum }
        }
    }

    /// The payload's offsets within the datagram that was parsed.
    public var payloadRange: Range<Int> { Self.size..<max(Self.size, length) }

    /// The ones'-complement checksum of `datagram` (header with whatever is
    /// in its checksum field, plus payload) under the pseudo-header. Over a
    /// datagram whose checksum field is correct it yields 0.
    public static func checksum(_ datagram: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address,
                                includesChecksumField: Bool = false) -> UInt16 {
        var c = InternetChecksum()
        c.add(word: UInt16(truncatingIfNeeded: source.rawValue >> 16))
        c.add(word: UInt16(truncatingIfNeeded: source.rawValue))
        c.add(word: UInt16(truncatingIfNeeded: destination.rawValue >> 16))
        c.add(word: UInt16(truncatingIfNeeded: destination.rawValue))
        c.add(word: UInt16(IPProtocol.udp.rawValue))
        c.add(word: UInt16(truncatingIfNeeded: datagram.count))
        c.add(datagram)
        return c.value
    }

    /// Writes the header over `datagram`'s first 8 bytes, where the payload
    /// already follows, and fills in the checksum (0 is sent as 0xFFFF).
    public func write(to datagram: UnsafeMutableRawBufferPointer, source: IPv4Address, destination: IPv4Address,
                      computeChecksum: Bool = true) throws(WireError) {
        guard datagram.count >= Self.size, length >= Self.size, length <= datagram.count, length <= 0xFFFF else { throw .noRoom }
        datagram.setBE16(sourcePort, at: 0)
        datagram.setBE16(destinationPort, at: 2)
        datagram.setBE16(UInt16(length), at: 4)
        datagram.setBE16(0, at: 6)
        guard computeChecksum else { return }
        let sum = Self.checksum(UnsafeRawBufferPointer(rebasing: datagram[0..<length]), source: source, destination: destination)
        datagram.setBE16(sum == 0 ? 0xFFFF : sum, at: 6)
    }
}
