import NICCore

/// An IPv4 address, held as the 32-bit number whose big-endian bytes are
/// the address in wire order (so 192.168.0.1 is 0xC0A8_0001).
public struct IPv4Address: Hashable, Sendable, Comparable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text (`10.0.2.15`); nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), let b = UInt8(p) else { return nil }
            v = v << 8 | UInt32(b)
        }
        rawValue = v
    }

    /// Reads four bytes in wire order.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 4 else { return nil }
        var v: UInt32 = 0
        for b in bytes { v = v << 8 | UInt32(b) }
        rawValue = v
    }

    public static let any = IPv4Address(rawValue: 0)
    public static let broadcast = IPv4Address(rawValue: 0xFFFF_FFFF)

    /// Byte `i` (0...3) in wire order.
    public subscript(i: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: rawValue >> UInt32(8 * (3 - (i & 3))))
    }

    public var bytes: [UInt8] { [self[0], self[1], self[2], self[3]] }

    public var isAny: Bool { rawValue == 0 }
    public var isBroadcast: Bool { rawValue == 0xFFFF_FFFF }
    /// 224.0.0.0/4.
    public var isMulticast: Bool { rawValue >> 28 == 0xE }

    /// True when `other` is in the same subnet under `mask`.
    public func isSameSubnet(as other: IPv4Address, mask: IPv4Address) -> Bool {
        rawValue & mask.rawValue == other.rawValue & mask.rawValue
    }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.rawValue < b.rawValue }
}

extension IPv4Address: CustomStringConvertible, LosslessStringConvertible {
    public var description: String { "\(self[0]).\(self[1]).\(self[2]).\(self[3])" }
}

extension IPv4Address: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let a = IPv4Address(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IPv4 address: \(text)"))
        }
        self = a
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension UnsafeRawBufferPointer {
    func ipv4(_ i: Int) -> IPv4Address { IPv4Address(rawValue: be32(at: i)) }
}

extension UnsafeMutableRawBufferPointer {
    func put(_ a: IPv4Address, at i: Int) { setBE32(a.rawValue, at: i) }
}
