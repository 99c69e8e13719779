import NICCore

/// The byte order of a trace file's header fields (pcap and pcapng files
/// are written in the writer's native order; readers detect it from the
/// magic number).
public enum ByteOrder: Sendable, Equatable {
    case littleEndian
    case bigEndian

    public static var host: ByteOrder {
        UInt16(1).littleEndian == 1 ? .littleEndian : .bigEndian
    }

    @inline(__always)
    func u16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        let v = p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
        return self == .littleEndian ? UInt16(littleEndian: v) : UInt16(bigEndian: v)
    }

    @inline(__always)
    func u32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        let v = p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return self == .littleEndian ? UInt32(littleEndian: v) : UInt32(bigEndian: v)
    }

    @inline(__always)
    func u64(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        let v = p.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        return self == .littleEndian ? UInt64(littleEndian: v) : UInt64(bigEndian: v)
    }

    @inline(__always)
    func store(_ v: UInt16, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: self == .littleEndian ? v.littleEndian : v.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inline(__always)
    func store(_ v: UInt32, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: self == .littleEndian ? v.littleEndian : v.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always)
    func store(_ v: UInt64, _ p: UnsafeMutableRawPointer, _ offset: Int) {
        p.storeBytes(of: self == .littleEndian ? v.littleEndian : v.bigEndian, toByteOffset: offset, as: UInt64.self)
    }

    // The same reads from a buffer the readers got from TraceInput, through
    // NICCore's byte view (a field outside the buffer reads as 0); callers
    // have checked the lengths.

    @inline(__always)
    func u16(_ b: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        self == .littleEndian ? b.le16(at: offset) : b.be16(at: offset)
    }

    @inline(__always)
    func u32(_ b: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        self == .littleEndian ? b.le32(at: offset) : b.be32(at: offset)
    }

    @inline(__always)
    func u64(_ b: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        self == .littleEndian ? b.le64(at: offset) : b.be64(at: offset)
    }
}
