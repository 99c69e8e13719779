/// The Internet checksum (RFC 1071): the ones'-complement of the
/// ones'-complement sum of 16-bit big-endian words.
public struct InternetChecksum: Sendable {
    private var sum: UInt64 = 0
    private var odd = false

    public init() {}

    /// Adds bytes as a continuation of what was added before (an odd
    /// length carries over into the next call).
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        let count = bytes.count
        var i = 0
        if odd {
            sum &+= UInt64(base.load(as: UInt8.self))
            odd = false
            i = 1
        }
        // Whole words eight bytes at a time (RFC 1071 section 2: the sum
        // is independent of byte order and of the width it is added in).
        // The bytes are loaded little-endian, so the folded sum comes out
        // byte-swapped; swapped back it joins the big-endian `sum`.
        if count - i >= 4 {
            var little: UInt64 = 0
            // Eight bytes per add, the carry out of bit 63 added back in
            // (end-around carry, which is what ones'-complement addition is).
            while count - i >= 8 {
                let (s, carry) = little.addingReportingOverflow(UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                little = s &+ (carry ? 1 : 0)
                i += 8
            }
            if count - i >= 4 {
                let (s, carry) = little.addingReportingOverflow(UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self))))
                little = s &+ (carry ? 1 : 0)
                i += 4
            }
            while little >> 16 != 0 { little = (little & 0xFFFF) &+ (little >> 16) }
            sum &+= UInt64(UInt16(truncatingIfNeeded: little).byteSwapped)
        }
        while i < count {
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            sum &+= odd ? UInt64(b) : UInt64(b) << 8
            odd.toggle()
            i += 1
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
