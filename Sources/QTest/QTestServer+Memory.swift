import Board
import NICCore

/// The CPU's view of the physical address space, as qtest's memory
/// commands see it: device registers mapped on the MMIO bus take
/// precedence, RAM answers below its size, and anything else is an
/// unclaimed cycle (reads all-ones, writes dropped).
extension QTestServer {
    func readScalar(_ address: UInt64, _ width: AccessWidth) -> UInt64 {
        let n = width.rawValue
        if !touchesMMIO(address, n), board.memory.contains(address: address, length: n) {
            return (try? ramRead(address, width)) ?? width.mask
        }
        if board.mmio.mapping(containing: address) != nil {
            return board.mmio.read(address, width: width)
        }
        var v = width.mask
        for i in 0..<min(n, room(above: address)) {
            v &= ~(UInt64(0xFF) << (8 * UInt64(i)))
            v |= UInt64(readByte(address + UInt64(i))) << (8 * UInt64(i))
        }
        return v
    }

    func writeScalar(_ address: UInt64, _ width: AccessWidth, _ value: UInt64) {
        let n = width.rawValue
        if !touchesMMIO(address, n), board.memory.contains(address: address, length: n) {
            var v = value.littleEndian
            withUnsafeBytes(of: &v) { p in
                _ = try? board.memory.write(at: address, from: UnsafeRawBufferPointer(rebasing: p[0..<n]))
            }
            return
        }
        if board.mmio.mapping(containing: address) != nil {
            board.mmio.write(address, width: width, value: value)
            return
        }
        for i in 0..<min(n, room(above: address)) {
            writeByte(address + UInt64(i), UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))))
        }
    }

    func readBytes(_ address: UInt64, _ count: Int) -> [UInt8] {
        if !touchesMMIO(address, count), let bytes = try? board.memory.readBytes(at: address, count: count) {
            return bytes
        }
        // Bytes past the top of the address space are unclaimed (all-ones).
        var out = [UInt8](repeating: 0xFF, count: count)
        for i in 0..<min(count, room(above: address)) { out[i] = readByte(address + UInt64(i)) }
        return out
    }

    func writeBytes(_ address: UInt64, _ bytes: [UInt8]) {
        if !touchesMMIO(address, bytes.count), (try? board.memory.write(at: address, bytes: bytes)) != nil {
            return
        }
        for (i, b) in bytes.prefix(room(above: address)).enumerated() { writeByte(address + UInt64(i), b) }
    }

    func fill(_ address: UInt64, _ count: Int, _ pattern: UInt8) {
        if !touchesMMIO(address, count), (try? board.memory.fill(at: address, count: count, with: pattern)) != nil {
            return
        }
        for i in 0..<min(count, room(above: address)) { writeByte(address + UInt64(i), pattern) }
    }

    /// How many bytes from `address` fit below 2^64 (capped at Int.max).
    private func room(above address: UInt64) -> Int {
        let left = UInt64.max - address
        return left >= UInt64(Int.max) ? Int.max : Int(left) + 1
    }

    private func readByte(_ address: UInt64) -> UInt8 {
        if board.mmio.mapping(containing: address) == nil, let b = try? board.memory.readU8(address) { return b }
        return UInt8(truncatingIfNeeded: board.mmio.read(address, width: .byte))
    }

    private func writeByte(_ address: UInt64, _ value: UInt8) {
        if board.mmio.mapping(containing: address) == nil, (try? board.memory.writeU8(address, value)) != nil { return }
        board.mmio.write(address, width: .byte, value: UInt64(value))
    }

    private func ramRead(_ address: UInt64, _ width: AccessWidth) throws(DMAError) -> UInt64 {
        switch width {
        case .byte: UInt64(try board.memory.readU8(address))
        case .word: UInt64(try board.memory.readU16(address))
        case .dword: UInt64(try board.memory.readU32(address))
        case .qword: try board.memory.readU64(address)
        }
    }

    /// True when some MMIO mapping overlaps `[address, address + count)`.
    private func touchesMMIO(_ address: UInt64, _ count: Int) -> Bool {
        let (end, overflow) = address.addingReportingOverflow(UInt64(max(count, 0)))
        let last = overflow ? UInt64.max : end
        for m in board.mmio.mappings where m.base < last && address < m.end { return true }
        return false
    }
}
