/// The width of one register access.
public enum AccessWidth: Int, Sendable, CaseIterable {
    case byte = 1
    case word = 2
    case dword = 4
    case qword = 8

    /// All-ones in this width: what an unclaimed read returns.
    @inlinable
    public var mask: UInt64 {
        self == .qword ? ~0 : (UInt64(1) << UInt64(rawValue * 8)) - 1
    }

    public init?(bytes: Int) {
        self.init(rawValue: bytes)
    }
}

/// A window of device registers in I/O or memory space.
///
/// Contract (the buses in Board enforce it, and devices may rely on it):
/// - A block sees only accesses that lie wholly inside `[0, size)`.
///   An access that starts outside, or that straddles the end, is answered
///   by the bus as an unclaimed cycle: reads return all-ones of the access
///   width, writes are dropped.
/// - Accesses may be unaligned; each block decides what an unaligned access
///   to its registers does, as its datasheet says (many split it into bytes,
///   see `splitRead`/`splitWrite`).
/// - The value of a read is in the low `width` bytes; the rest is zero.
/// - Nothing a guest writes may trap or loop without bound.
public protocol RegisterBlock: AnyObject {
    /// Size of the window in bytes.
    var size: UInt64 { get }
    func read(offset: UInt64, width: AccessWidth) -> UInt64
    func write(offset: UInt64, width: AccessWidth, value: UInt64)
}

extension RegisterBlock {
    /// Composes a wide read from little-endian byte reads of `byteRead`.
    /// For devices whose registers are byte-wide.
    @inlinable
    public func splitRead(offset: UInt64, width: AccessWidth, _ byteRead: (UInt64) -> UInt8) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<UInt64(width.rawValue) {
            v |= UInt64(byteRead(offset &+ i)) << (8 * i)
        }
        return v
    }

    /// Splits a wide write into little-endian byte writes.
    @inlinable
    public func splitWrite(offset: UInt64, width: AccessWidth, value: UInt64, _ byteWrite: (UInt64, UInt8) -> Void) {
        for i in 0..<UInt64(width.rawValue) {
            byteWrite(offset &+ i, UInt8(truncatingIfNeeded: value >> (8 * i)))
        }
    }
}
