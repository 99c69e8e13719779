import NICCore

/// ICMPv6 message types (RFC 4443 §2.1, RFC 4861 §4) nicsim knows by name.
public struct ICMPv6Type: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let echoRequest = ICMPv6Type(rawValue: 128)
    public static let echoReply = ICMPv6Type(rawValue: 129)
    public static let routerSolicitation = ICMPv6Type(rawValue: 133)
    public static let routerAdvertisement = ICMPv6Type(rawValue: 134)
    public static let neighborSolicitation = ICMPv6Type(rawValue: 135)
    public static let neighborAdvertisement = ICMPv6Type(rawValue: 136)
}

/// The first four bytes of every ICMPv6 message (RFC 4443 §2.1): type,
/// code and checksum. The checksum is mandatory and covers the IPv6
/// pseudo-header (RFC 8200 §8.1: source, destination, 32-bit upper-layer
/// length, three zero bytes, next header 58) and the whole message.
public struct ICMPv6Header: Hashable, Sendable {
    public static let size = 4

    public var type: ICMPv6Type
    public var code: UInt8
    /// As received.
    public var checksum: UInt16

    /// Reads the header at the start of `message` (all of the ICMPv6
    /// message, and nothing after it) and verifies the checksum under the
    /// pseudo-header of `source`/`destination`.
    public init(parsing message: UnsafeRawBufferPointer, source: IPv6Address, destination: IPv6Address) throws(WireError) {
        guard message.count >= Self.size else { throw .truncated }
        type = ICMPv6Type(rawValue: message.byte(at: 0))
        code = message.byte(at: 1)
        checksum = message.be16(at: 2)
        guard Self.checksum(message, source: source, destination: destination) == 0 else { throw .badChecksum }
    }

    /// The ones'-complement checksum of `message` (with whatever is in its
    /// checksum field) under the IPv6 pseudo-header. Over a message whose
    /// checksum field is correct it yields 0; over one whose field is 0 it
    /// yields the value to store there.
    public static func checksum(_ message: UnsafeRawBufferPointer, source: IPv6Address, destination: IPv6Address) -> UInt16 {
        var c = InternetChecksum()
        for g in 0..<8 { c.add(word: source.group(g)) }
        for g in 0..<8 { c.add(word: destination.group(g)) }
        let length = UInt32(truncatingIfNeeded: message.count)
        c.add(word: UInt16(truncatingIfNeeded: length >> 16))
        c.add(word: UInt16(truncatingIfNeeded: length))
        c.add(word: UInt16(IPProtocol.icmpv6.rawValue))
        c.add(message)
        return c.value
    }

    /// Stores the checksum of the message already written in `message`
    /// (its checksum field is cleared first).
    public static func fillChecksum(_ message: UnsafeMutableRawBufferPointer, source: IPv6Address, destination: IPv6Address) {
        guard message.count >= size else { return }
        message.setBE16(0, at: 2)
        message.setBE16(checksum(UnsafeRawBufferPointer(message), source: source, destination: destination), at: 2)
    }
}
