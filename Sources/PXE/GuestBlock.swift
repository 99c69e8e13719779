import UNDI
import NICCore

/// A parameter block (or any structure) in guest memory, read and written
/// field by field at byte offsets, little-endian as on x86. A field outside
/// guest RAM throws `failure` instead of touching anything.
struct GuestBlock {
    let memory: GuestMemory
    let base: UInt64
    let failure: PXEStatus

    init(_ memory: GuestMemory, at base: UInt64, failure: PXEStatus = .failure) {
        self.memory = memory
        self.base = base
        self.failure = failure
    }

    func u8(_ o: Int) throws(PXEStatus) -> UInt8 {
        do throws(DMAError) { return try memory.readU8(base + UInt64(o)) } catch { throw failure }
    }

    func u16(_ o: Int) throws(PXEStatus) -> UInt16 {
        do throws(DMAError) { return try memory.readU16(base + UInt64(o)) } catch { throw failure }
    }

    func u32(_ o: Int) throws(PXEStatus) -> UInt32 {
        do throws(DMAError) { return try memory.readU32(base + UInt64(o)) } catch { throw failure }
    }

    /// A SEGOFF16 field.
    func address(_ o: Int) throws(PXEStatus) -> RealModeAddress {
        RealModeAddress(packed: try u32(o))
    }

    /// An IP4_t field: the address in network byte order in memory.
    func ip(_ o: Int) throws(PXEStatus) -> UInt32 {
        UInt32(bigEndian: try u32(o))
    }

    /// Six bytes in wire order as a MAC address (no array: the frame path).
    func mac(_ o: Int) throws(PXEStatus) -> MACAddress {
        var raw: UInt64 = 0
        do throws(DMAError) {
            try withUnsafeMutableBytes(of: &raw) { (p) throws(DMAError) in
                try memory.read(at: base + UInt64(o), into: UnsafeMutableRawBufferPointer(rebasing: p[0..<6]))
            }
        } catch {
            throw failure
        }
        // Memory order is wire order: byte i of the address is byte i of `raw`.
        let le = UInt64(littleEndian: raw)
        var v: UInt64 = 0
        for i in 0..<6 { v = v << 8 | (le >> UInt64(8 * i)) & 0xFF }
        return MACAddress(rawValue: v)
    }

    func bytes(_ o: Int, _ count: Int) throws(PXEStatus) -> [UInt8] {
        do throws(DMAError) { return try memory.readBytes(at: base + UInt64(o), count: count) } catch { throw failure }
    }

    /// A NUL-terminated string in a fixed-size field.
    func string(_ o: Int, maxLength: Int) throws(PXEStatus) -> String {
        let raw = try bytes(o, maxLength)
        return String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }

    func set8(_ o: Int, _ v: UInt8) throws(PXEStatus) {
        do throws(DMAError) { try memory.writeU8(base + UInt64(o), v) } catch { throw failure }
    }

    func set16(_ o: Int, _ v: UInt16) throws(PXEStatus) {
        do throws(DMAError) { try memory.writeU16(base + UInt64(o), v) } catch { throw failure }
    }

    func set32(_ o: Int, _ v: UInt32) throws(PXEStatus) {
        do throws(DMAError) { try memory.writeU32(base + UInt64(o), v) } catch { throw failure }
    }

    func setAddress(_ o: Int, _ a: RealModeAddress) throws(PXEStatus) {
        try set32(o, a.packed)
    }

    func setIP(_ o: Int, _ v: UInt32) throws(PXEStatus) {
        try set32(o, v.bigEndian)
    }

    func setBytes(_ o: Int, _ b: [UInt8]) throws(PXEStatus) {
        do throws(DMAError) { try memory.write(at: base + UInt64(o), bytes: b) } catch { throw failure }
    }

    /// Writes `b` into a field of `size` bytes, zero-filling the rest.
    func setField(_ o: Int, size: Int, _ b: [UInt8]) throws(PXEStatus) {
        var v = Array(b.prefix(size))
        v += [UInt8](repeating: 0, count: size - v.count)
        try setBytes(o, v)
    }

    func fill(_ o: Int, count: Int, with value: UInt8 = 0) throws(PXEStatus) {
        do throws(DMAError) { try memory.fill(at: base + UInt64(o), count: count, with: value) } catch { throw failure }
    }

    /// Copies raw bytes in (the frame path: no array).
    func write(_ o: Int, from p: UnsafeRawBufferPointer) throws(PXEStatus) {
        do throws(DMAError) { try memory.write(at: base + UInt64(o), from: p) } catch { throw failure }
    }

    /// Copies raw bytes out (the frame path: no array).
    func read(_ o: Int, into p: UnsafeMutableRawBufferPointer) throws(PXEStatus) {
        do throws(DMAError) { try memory.read(at: base + UInt64(o), into: p) } catch { throw failure }
    }
}
