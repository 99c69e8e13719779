/// Fixed-width fields in bytes: network (big-endian) order for frames and
/// wire formats, little-endian for PCI, virtio, PXE and ROM structures.
/// This is nicsim's one implementation of them, with one bounds rule:
///
/// - a read whose field does not lie wholly inside the bytes returns 0;
/// - a write whose field does not lie wholly inside is not made, and
///   returns false.
///
/// Callers that parse guest, peer or file data check lengths first and
/// report a typed error; the rule is the defence behind that check, so a
/// missed check reads zeros instead of trapping or reading past the end.
/// Offsets are checked without overflow (`offset <= count - width`).
extension UnsafeRawBufferPointer {
    /// True when `length` bytes at `offset` lie inside the buffer.
    @inlinable @inline(__always)
    public func holds(_ offset: Int, _ length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= count &- length
    }

    @inlinable @inline(__always)
    public func byte(at offset: Int) -> UInt8 {
        holds(offset, 1) ? load(fromByteOffset: offset, as: UInt8.self) : 0
    }

    @inlinable @inline(__always)
    public func be16(at offset: Int) -> UInt16 {
        holds(offset, 2) ? UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)) : 0
    }

    @inlinable @inline(__always)
    public func be32(at offset: Int) -> UInt32 {
        holds(offset, 4) ? UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)) : 0
    }

    @inlinable @inline(__always)
    public func be64(at offset: Int) -> UInt64 {
        holds(offset, 8) ? UInt64(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self)) : 0
    }

    @inlinable @inline(__always)
    public func le16(at offset: Int) -> UInt16 {
        holds(offset, 2) ? UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)) : 0
    }

    @inlinable @inline(__always)
    public func le32(at offset: Int) -> UInt32 {
        holds(offset, 4) ? UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)) : 0
    }

    @inlinable @inline(__always)
    public func le64(at offset: Int) -> UInt64 {
        holds(offset, 8) ? UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self)) : 0
    }

    /// The bytes in `range`, clamped to the buffer (empty when it lies outside).
    @inlinable @inline(__always)
    public func clamped(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        let lo = Swift.max(0, Swift.min(range.lowerBound, count))
        let hi = Swift.max(lo, Swift.min(range.upperBound, count))
        return UnsafeRawBufferPointer(rebasing: self[lo..<hi])
    }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable @inline(__always)
    public func holds(_ offset: Int, _ length: Int) -> Bool {
        UnsafeRawBufferPointer(self).holds(offset, length)
    }

    @inlinable @inline(__always)
    public func byte(at offset: Int) -> UInt8 { UnsafeRawBufferPointer(self).byte(at: offset) }
    @inlinable @inline(__always)
    public func be16(at offset: Int) -> UInt16 { UnsafeRawBufferPointer(self).be16(at: offset) }
    @inlinable @inline(__always)
    public func be32(at offset: Int) -> UInt32 { UnsafeRawBufferPointer(self).be32(at: offset) }
    @inlinable @inline(__always)
    public func le16(at offset: Int) -> UInt16 { UnsafeRawBufferPointer(self).le16(at: offset) }
    @inlinable @inline(__always)
    public func le32(at offset: Int) -> UInt32 { UnsafeRawBufferPointer(self).le32(at: offset) }
    @inlinable @inline(__always)
    public func le64(at offset: Int) -> UInt64 { UnsafeRawBufferPointer(self).le64(at: offset) }

    @inlinable @inline(__always) @discardableResult
    public func setByte(_ value: UInt8, at offset: Int) -> Bool {
        guard holds(offset, 1) else { return false }
        storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
        return true
    }

    @inlinable @inline(__always) @discardableResult
    public func setBE16(_ value: UInt16, at offset: Int) -> Bool {
        guard holds(offset, 2) else { return false }
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
        return true
    }

    @inlinable @inline(__always) @discardableResult
    public func setBE32(_ value: UInt32, at offset: Int) -> Bool {
        guard holds(offset, 4) else { return false }
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
        return true
    }

    @inlinable @inline(__always) @discardableResult
    public func setLE16(_ value: UInt16, at offset: Int) -> Bool {
        guard holds(offset, 2) else { return false }
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
        return true
    }

    @inlinable @inline(__always) @discardableResult
    public func setLE32(_ value: UInt32, at offset: Int) -> Bool {
        guard holds(offset, 4) else { return false }
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
        return true
    }

    @inlinable @inline(__always) @discardableResult
    public func setLE64(_ value: UInt64, at offset: Int) -> Bool {
        guard holds(offset, 8) else { return false }
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
        return true
    }
}

/// The same fields in a byte array, with the same rule.
extension Array where Element == UInt8 {
    @inlinable
    public func holds(_ offset: Int, _ length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= count &- length
    }

    @inlinable
    public func byte(at offset: Int) -> UInt8 { holds(offset, 1) ? self[offset] : 0 }
    @inlinable
    public func be16(at offset: Int) -> UInt16 { withUnsafeBytes { $0.be16(at: offset) } }
    @inlinable
    public func be32(at offset: Int) -> UInt32 { withUnsafeBytes { $0.be32(at: offset) } }
    @inlinable
    public func le16(at offset: Int) -> UInt16 { withUnsafeBytes { $0.le16(at: offset) } }
    @inlinable
    public func le32(at offset: Int) -> UInt32 { withUnsafeBytes { $0.le32(at: offset) } }
    @inlinable
    public func le64(at offset: Int) -> UInt64 { withUnsafeBytes { $0.le64(at: offset) } }

    @inlinable @discardableResult
    public mutating func setBE16(_ value: UInt16, at offset: Int) -> Bool { withUnsafeMutableBytes { $0.setBE16(value, at: offset) } }
    @inlinable @discardableResult
    public mutating func setBE32(_ value: UInt32, at offset: Int) -> Bool { withUnsafeMutableBytes { $0.setBE32(value, at: offset) } }
    @inlinable @discardableResult
    public mutating func setLE16(_ value: UInt16, at offset: Int) -> Bool { withUnsafeMutableBytes { $0.setLE16(value, at: offset) } }
    @inlinable @discardableResult
    public mutating func setLE32(_ value: UInt32, at offset: Int) -> Bool { withUnsafeMutableBytes { $0.setLE32(value, at: offset) } }
    @inlinable @discardableResult
    public mutating func setLE64(_ value: UInt64, at offset: Int) -> Bool { withUnsafeMutableBytes { $0.setLE64(value, at: offset) } }
}
