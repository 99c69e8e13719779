/// Big-endian field access on raw bytes. Every caller has already checked
/// that the range lies inside the buffer; these never read out of bounds
/// because they return 0 when it doesn't (defence in depth, not a contract).
extension UnsafeRawBufferPointer {
    @inline(__always)
    func u8(_ i: Int) -> UInt8 {
        i >= 0 && i < count ? self[i] : 0
    }

    @inline(__always)
    func u16(_ i: Int) -> UInt16 {
        guard i >= 0, i + 2 <= count else { return 0 }
        return UInt16(self[i]) << 8 | UInt16(self[i + 1])
    }

    @inline(__always)
    func u32(_ i: Int) -> UInt32 {
        guard i >= 0, i + 4 <= count else { return 0 }
        return UInt32(self[i]) << 24 | UInt32(self[i + 1]) << 16 | UInt32(self[i + 2]) << 8 | UInt32(self[i + 3])
    }

    /// The bytes in `range`, clamped to the buffer.
    @inline(__always)
    func slice(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        let lo = Swift.max(0, Swift.min(range.lowerBound, count))
        let hi = Swift.max(lo, Swift.min(range.upperBound, count))
        return UnsafeRawBufferPointer(rebasing: self[lo..<hi])
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func put8(_ v: UInt8, at i: Int) {
        if i >= 0 && i < count { self[i] = v }
    }

    @inline(__always)
    func put16(_ v: UInt16, at i: Int) {
        guard i >= 0, i + 2 <= count else { return }
        self[i] = UInt8(truncatingIfNeeded: v >> 8)
        self[i + 1] = UInt8(truncatingIfNeeded: v)
    }

    @inline(__always)
    func put32(_ v: UInt32, at i: Int) {
        guard i >= 0, i + 4 <= count else { return }
        self[i] = UInt8(truncatingIfNeeded: v >> 24)
        self[i + 1] = UInt8(truncatingIfNeeded: v >> 16)
        self[i + 2] = UInt8(truncatingIfNeeded: v >> 8)
        self[i + 3] = UInt8(truncatingIfNeeded: v)
    }
}
