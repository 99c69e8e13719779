import NICCore
import VirtioNet

/// The driver side of one split virtqueue, written by hand in test code so
/// tests can put any queue state, hostile or not, in front of the device
/// without going through our own driver. Legacy layout: descriptors at
/// `base`, available ring after them, used ring at the next 4096 bytes.
final class MockVirtQueue {
    let memory: FlatMemory
    let size: UInt16
    let base: UInt64
    var descriptors: UInt64 { base }
    let available: UInt64
    let used: UInt64
    private(set) var availableIndex: UInt16 = 0
    var lastUsed: UInt16 = 0

    static let next: UInt16 = 1
    static let write: UInt16 = 2
    static let indirect: UInt16 = 4

    init(memory: FlatMemory, base: UInt64, size: UInt16) {
        self.memory = memory
        self.base = base
        self.size = size
        available = base + 16 * UInt64(size)
        used = (available + 6 + 2 * UInt64(size) + 4095) & ~4095
    }

    /// Writes descriptor `i` of the table at `table` (the ring's own table by default).
    func setDescriptor(_ i: UInt16, address: UInt64, length: UInt32, flags: UInt16 = 0, next: UInt16 = 0, table: UInt64? = nil) {
        let at = (table ?? descriptors) + 16 * UInt64(i)
        try? memory.writeU64(at, address)
        try? memory.writeU32(at + 8, length)
        try? memory.writeU16(at + 12, flags)
        try? memory.writeU16(at + 14, next)
    }

    /// Puts `head` in the next available slot and publishes it.
    func publish(_ head: UInt16) {
        try? memory.writeU16(available + 4 + 2 * UInt64(availableIndex % size), head)
        availableIndex &+= 1
        try? memory.writeU16(available + 2, availableIndex)
    }

    /// Writes the available index directly (hostile: may jump).
    func forceAvailableIndex(_ value: UInt16) {
        availableIndex = value
        try? memory.writeU16(available + 2, value)
    }

    func setAvailableFlags(_ flags: UInt16) { try? memory.writeU16(available, flags) }
    /// used_event, at the end of the available ring (EVENT_IDX).
    func setUsedEvent(_ value: UInt16) { try? memory.writeU16(available + 4 + 2 * UInt64(size), value) }
    /// avail_event, at the end of the used ring (EVENT_IDX).
    var availableEvent: UInt16 { (try? memory.readU16(used + 4 + 8 * UInt64(size))) ?? 0xDEAD }

    var usedIndex: UInt16 { (try? memory.readU16(used + 2)) ?? 0xDEAD }
    /// Writes the used index (hostile: the used ring is the device's).
    func forceUsedIndex(_ value: UInt16) { try? memory.writeU16(used + 2, value) }

    func usedElement(_ k: UInt16) -> (id: UInt32, length: UInt32) {
        let at = used + 4 + 8 * UInt64(k % size)
        return ((try? memory.readU32(at)) ?? 0xDEAD, (try? memory.readU32(at + 4)) ?? 0xDEAD)
    }
}
