import NICCore

/// An IPv6 address (RFC 4291), held as two 64-bit halves whose big-endian
/// bytes are the address in wire order, so it never allocates.
public struct IPv6Address: Hashable, Sendable {
    /// Bytes 0-7 in wire order (the routing prefix of a /64).
    public var high: UInt64
    /// Bytes 8-15 in wire order (the interface identifier of a /64).
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From eight 16-bit groups, as the address is written: `IPv6Address(0xFE80, 0, 0, 0, 0x5054, 0xFF, 0xFE12, 0x3456)`.
    public init(_ g0: UInt16, _ g1: UInt16, _ g2: UInt16, _ g3: UInt16,
                _ g4: UInt16, _ g5: UInt16, _ g6: UInt16, _ g7: UInt16) {
        high = UInt64(g0) << 48 | UInt64(g1) << 32 | UInt64(g2) << 16 | UInt64(g3)
        low = UInt64(g4) << 48 | UInt64(g5) << 32 | UInt64(g6) << 16 | UInt64(g7)
    }

    /// Reads sixteen bytes in wire order.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        high = h
        low = l
    }

    /// `::`, the unspecified address (RFC 4291 §2.5.2): the source of a
    /// host that has no address yet.
    public static let unspecified = IPv6Address(high: 0, low: 0)
    /// `ff02::1`, the link-local all-nodes multicast group (RFC 4291 §2.7.1).
    public static let allNodes = IPv6Address(0xFF02, 0, 0, 0, 0, 0, 0, 1)
    /// `ff02::2`, the link-local all-routers multicast group (RFC 4291 §2.7.1).
    public static let allRouters = IPv6Address(0xFF02, 0, 0, 0, 0, 0, 0, 2)

    /// The link-local address `fe80::/64` with the modified EUI-64
    /// interface identifier of `mac` (RFC 4291 §2.5.1 and appendix A): the
    /// OUI, then ff:fe, then the rest, with the universal/local bit (bit 1
    /// of the first byte) inverted. 52:54:00:12:34:56 gives
    /// fe80::5054:ff:fe12:3456.
    public static func linkLocal(modifiedEUI64 mac: MACAddress) -> IPv6Address {
        let m = mac.rawValue
        let oui = (m >> 24) & 0xFF_FFFF
        let nic = m & 0xFF_FFFF
        let identifier = (oui << 40 | 0xFF_FE << 24 | nic) ^ (0x02 << 56)
        return IPv6Address(high: 0xFE80_0000_0000_0000, low: identifier)
    }

    /// Byte `i` (0...15) in wire order.
    public subscript(i: Int) -> UInt8 {
        let half = i & 15 < 8 ? high : low
        return UInt8(truncatingIfNeeded: half >> UInt64(8 * (7 - (i & 7))))
    }

    /// 16-bit group `i` (0...7) in wire order.
    public func group(_ i: Int) -> UInt16 {
        let half = i & 7 < 4 ? high : low
        return UInt16(truncatingIfNeeded: half >> UInt64(16 * (3 - (i & 3))))
    }

    public var bytes: [UInt8] { (0..<16).map { self[$0] } }

    public var isUnspecified: Bool { self == .unspecified }
    /// `ff00::/8` (RFC 4291 §2.7).
    public var isMulticast: Bool { high >> 56 == 0xFF }
    /// `fe80::/10` (RFC 4291 §2.5.6).
    public var isLinkLocal: Bool { high >> 54 == 0xFE80 >> 6 }

    /// The Ethernet group address a multicast address maps to (RFC 2464
    /// §7): 33:33 followed by the address's last four bytes.
    public var multicastMAC: MACAddress {
        MACAddress(rawValue: 0x3333_0000_0000 | (low & 0xFFFF_FFFF))
    }

    /// Writes the sixteen bytes at `p`.
    public func store(to p: UnsafeMutableRawPointer) {
        for i in 0..<8 {
            p.storeBytes(of: UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * i)), toByteOffset: i, as: UInt8.self)
            p.storeBytes(of: UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * i)), toByteOffset: 8 + i, as: UInt8.self)
        }
    }
}

extension IPv6Address: CustomStringConvertible {
    /// The text form of RFC 5952: lower-case hex groups without leading
    /// zeros, the longest run of two or more zero groups (the first if
    /// tied) shortened to `::`.
    public var description: String {
        var bestStart = -1, bestLength = 1
        var i = 0
        while i < 8 {
            guard group(i) == 0 else { i += 1; continue }
            var j = i
            while j < 8, group(j) == 0 { j += 1 }
            if j - i > bestLength { bestStart = i; bestLength = j - i }
            i = j
        }
        func hex(_ range: Range<Int>) -> String {
            range.map { String(group($0), radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}

extension UnsafeRawBufferPointer {
    /// The IPv6 address in the sixteen bytes at `i` (`::` when they lie outside).
    func ipv6(_ i: Int) -> IPv6Address {
        guard i >= 0, i + 16 <= count else { return .unspecified }
        var h: UInt64 = 0, l: UInt64 = 0
        for k in 0..<8 {
            h = h << 8 | UInt64(self[i + k])
            l = l << 8 | UInt64(self[i + 8 + k])
        }
        return IPv6Address(high: h, low: l)
    }
}

extension UnsafeMutableRawBufferPointer {
    func put(_ a: IPv6Address, at i: Int) {
        guard i >= 0, i + 16 <= count, let base = baseAddress else { return }
        a.store(to: base + i)
    }
}
