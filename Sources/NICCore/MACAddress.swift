/// A 48-bit IEEE 802 MAC address.
public struct MACAddress: Hashable, Sendable, Comparable {
    /// The six bytes in wire order, packed big-endian into the low 48 bits.
    public let rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue & 0xFFFF_FFFF_FFFF
    }

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        self.init(bytes: (b0, b1, b2, b3, b4, b5))
    }

    public init(bytes b: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) {
        var v = UInt64(b.0) << 40 | UInt64(b.1) << 32 | UInt64(b.2) << 24
        v |= UInt64(b.3) << 16 | UInt64(b.4) << 8 | UInt64(b.5)
        rawValue = v
    }

    /// Reads six bytes in wire order. Nil unless exactly six are given.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 6 else { return nil }
        var v: UInt64 = 0
        for b in bytes { v = v << 8 | UInt64(b) }
        rawValue = v
    }

    /// Reads six bytes from memory in wire order.
    public init(loadingFrom p: UnsafeRawPointer) {
        var v: UInt64 = 0
        for i in 0..<6 { v = v << 8 | UInt64(p.load(fromByteOffset: i, as: UInt8.self)) }
        rawValue = v
    }

    /// Parses `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (hex, either case).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let fields = parts.count == 6 ? parts : text.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 6 else { return nil }
        var v: UInt64 = 0
        for f in fields {
            guard f.count == 2, let b = UInt8(f, radix: 16) else { return nil }
            v = v << 8 | UInt64(b)
        }
        rawValue = v
    }

    public static let broadcast = MACAddress(rawValue: 0xFFFF_FFFF_FFFF)
    public static let zero = MACAddress(rawValue: 0)

    /// Byte `i` (0...5) in wire order.
    public subscript(i: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: rawValue >> UInt64(8 * (5 - i)))
    }

    public var bytes: [UInt8] { (0..<6).map { self[$0] } }

    /// Writes the six bytes in wire order.
    public func store(to p: UnsafeMutableRawPointer) {
        for i in 0..<6 { p.storeBytes(of: self[i], toByteOffset: i, as: UInt8.self) }
    }

    public var isBroadcast: Bool { self == .broadcast }
    /// Group bit (I/G) set: multicast or broadcast.
    public var isMulticast: Bool { self[0] & 0x01 != 0 }
    public var isLocallyAdministered: Bool { self[0] & 0x02 != 0 }

    /// A unicast, locally administered address drawn from `seed`: the
    /// default when the user gives none, stable for a given seed.
    public static func locallyAdministered(seed: UInt64) -> MACAddress {
        var rng = SeededRandom(seed: seed)
        let r = rng.next()
        let first = (UInt8(truncatingIfNeeded: r >> 40) & 0xFC) | 0x02
        return MACAddress(rawValue: UInt64(first) << 40 | (r & 0xFF_FFFF_FFFF))
    }

    public static func < (a: MACAddress, b: MACAddress) -> Bool { a.rawValue < b.rawValue }
}

extension MACAddress: CustomStringConvertible, LosslessStringConvertible {
    /// Lower-case, colon-separated.
    public var description: String {
        let hex = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(17)
        for i in 0..<6 {
            if i > 0 { s.append(":") }
            s.append(hex[Int(self[i] >> 4)])
            s.append(hex[Int(self[i] & 0xF)])
        }
        return s
    }
}
