/// The Internet checksum (RFC 1071): the ones'-complement of the
/// ones'-complement sum of 16-bit big-endian words.
public struct InternetChecksum: Sendable {
    private var sum: UInt64 = 0
    private var odd = false

    public init() {}

    /// Adds bytes as a continuation of what was added before (an odd
    /// length carries over into the next call).
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for b in bytes {
            sum &+= odd ? UInt64(b) : UInt64(b) << 8
            odd.toggle()
        }
    }

    public mutating func add<C: Collection>(bytes: C) where C.Element == UInt8 {
        for b in bytes {
            sum &+= odd ? UInt64(b) : UInt64(b) << 8
            odd.toggle()
        }
    }

    /// Adds one 16-bit word (at an even position).
    public mutating func add(word: UInt16) {
        sum &+= UInt64(word)
    }

    /// The folded ones'-complement sum, not yet complemented.
    public var foldedSum: UInt16 {
        var s = sum
        while s >> 16 != 0 { s = (s & 0xFFFF) + (s >> 16) }
        return UInt16(s)
    }

    /// The checksum to put in a header (0 complemented is 0xFFFF).
    public var value: UInt16 { ~foldedSum }

    /// Checksum of one buffer.
    public static func compute(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var c = InternetChecksum()
        c.add(bytes)
        return c.value
    }
}
