/// A fuzzer's bytes, read front to back as little-endian numbers and runs
/// of bytes. Reading past the end yields zeros and short runs, so every
/// byte string, however short, is a valid program for a harness and no
/// harness checks lengths itself.
///
/// The bytes belong to the caller and are valid only while the harness
/// runs; runs handed out point into them.
public struct FuzzInput {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var position = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public var isAtEnd: Bool { position >= bytes.count }
    public var remaining: Int { max(0, bytes.count - position) }

    public mutating func u8() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func u16() -> UInt16 {
        UInt16(u8()) | UInt16(u8()) << 8
    }

    public mutating func u32() -> UInt32 {
        UInt32(u16()) | UInt32(u16()) << 16
    }

    public mutating func u64() -> UInt64 {
        UInt64(u32()) | UInt64(u32()) << 32
    }

    public mutating func bool() -> Bool { u8() & 1 != 0 }

    /// The next `count` bytes, or fewer at the end of the input.
    public mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let n = min(max(0, count), remaining)
        defer { position += n }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
    }

    /// The next `count` bytes as an array, zero-filled past the end of the input.
    public mutating func array(_ count: Int) -> [UInt8] {
        let run = take(count)
        var out = Array(run)
        if out.count < count { out += [UInt8](repeating: 0, count: count - out.count) }
        return out
    }

    /// Everything not read yet.
    public mutating func rest() -> UnsafeRawBufferPointer {
        take(remaining)
    }
}

/// Builds inputs in the format `FuzzInput` reads (for seeds and tests).
public struct FuzzInputWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { u8(UInt8(truncatingIfNeeded: v)); u8(UInt8(truncatingIfNeeded: v >> 8)) }
    public mutating func u32(_ v: UInt32) { u16(UInt16(truncatingIfNeeded: v)); u16(UInt16(truncatingIfNeeded: v >> 16)) }
    public mutating func u64(_ v: UInt64) { u32(UInt32(truncatingIfNeeded: v)); u32(UInt32(truncatingIfNeeded: v >> 32)) }
    public mutating func append<C: Collection>(_ run: C) where C.Element == UInt8 { bytes += run }
}
