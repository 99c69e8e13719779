/// A real-mode far pointer, SEGOFF16: offset first, then segment, as PXE
/// 2.1 stores it in parameter blocks and structures. The byte it points at
/// is segment * 16 + offset.
public struct RealModeAddress: Hashable, Sendable, CustomStringConvertible {
    public var segment: UInt16
    public var offset: UInt16

    public init(segment: UInt16, offset: UInt16) {
        self.segment = segment
        self.offset = offset
    }

    public static let null = RealModeAddress(segment: 0, offset: 0)

    /// The linear (physical) address, up to 0x10FFEF.
    public var linear: UInt64 { UInt64(segment) << 4 + UInt64(offset) }

    public var isNull: Bool { segment == 0 && offset == 0 }

    /// The same segment, `delta` bytes on (wrapping inside the segment as
    /// real mode does).
    public func advanced(by delta: Int) -> RealModeAddress {
        RealModeAddress(segment: segment, offset: offset &+ UInt16(truncatingIfNeeded: delta))
    }

    /// As stored in memory: offset in the low word, segment in the high word.
    public var packed: UInt32 { UInt32(segment) << 16 | UInt32(offset) }

    public init(packed: UInt32) {
        self.init(segment: UInt16(truncatingIfNeeded: packed >> 16), offset: UInt16(truncatingIfNeeded: packed))
    }

    public var description: String {
        func hex(_ v: UInt16) -> String {
            let s = String(v, radix: 16, uppercase: true)
            return String(repeating: "0", count: 4 - s.count) + s
        }
        return "\(hex(segment)):\(hex(offset))"
    }
}
