import Board
import NICCore

/// The driver's side of one split virtqueue, in DMA memory laid out the
/// legacy way (descriptors, available ring, used ring at the next 4096
/// bytes), which modern devices accept too.
final class VirtioDriverRing {
    let index: UInt16
    let size: UInt16
    let base: UInt64
    var descriptors: UInt64 { base }
    let available: UInt64
    let used: UInt64
    private let memory: GuestMemory
    /// Next available index the driver publishes.
    private(set) var availableIndex: UInt16 = 0
    /// Next used index the driver reads.
    private(set) var lastUsed: UInt16 = 0

    static let next: UInt16 = 1
    static let write: UInt16 = 2

    /// Bytes a ring of `size` takes in the legacy layout.
    static func bytes(size: UInt16) -> Int {
        let availEnd = 16 * Int(size) + 6 + 2 * Int(size)
        return ((availEnd + 4095) & ~4095) + 6 + 8 * Int(size)
    }

    init(index: UInt16, size: UInt16, base: UInt64, memory: GuestMemory) {
        self.index = index
        self.size = size
        self.base = base
        self.memory = memory
        available = base + 16 * UInt64(size)
        used = (available + 6 + 2 * UInt64(size) + 4095) & ~4095
    }

    /// Clears the ring for a fresh start (after a device reset).
    func reset() throws(DriverError) {
        availableIndex = 0
        lastUsed = 0
        do {
            try memory.fill(at: base, count: VirtioDriverRing.bytes(size: size), with: 0)
        } catch {
            throw .dma("virtqueue \(index): \(error)")
        }
    }

    func setDescriptor(_ i: UInt16, address: UInt64, length: UInt32, flags: UInt16, next: UInt16 = 0) {
        let at = descriptors + 16 * UInt64(i)
        try? memory.writeU64(at, address)
        try? memory.writeU32(at + 8, length)
        try? memory.writeU16(at + 12, flags)
        try? memory.writeU16(at + 14, next)
    }

    func setDescriptorLength(_ i: UInt16, _ length: UInt32) {
        try? memory.writeU32(descriptors + 16 * UInt64(i) + 8, length)
    }

    /// Puts chain `head` in the available ring and publishes it.
    func publish(_ head: UInt16) {
        try? memory.writeU16(available + 4 + 2 * UInt64(availableIndex % size), head)
        availableIndex &+= 1
        try? memory.writeU16(available + 2, availableIndex)
    }

    /// Used entries the device has published that the driver has not read.
    var pendingUsed: UInt16 {
        let published = (try? memory.readU16(used + 2)) ?? lastUsed
        return published &- lastUsed
    }

    /// Used element `k` places past the next one to read, without consuming it.
    func peekUsed(_ k: UInt16) -> (id: UInt16, length: UInt32)? {
        guard k < pendingUsed else { return nil }
        let at = used + 4 + 8 * UInt64((lastUsed &+ k) % size)
        guard let id = try? memory.readU32(at), let length = try? memory.readU32(at + 4) else { return nil }
        return (UInt16(truncatingIfNeeded: id), length)
    }

    /// Marks `count` used elements as read.
    func consumeUsed(_ count: UInt16) {
        lastUsed &+= min(count, pendingUsed)
    }

    /// The next used element (id, len), if any.
    func nextUsed() -> (id: UInt16, length: UInt32)? {
        guard pendingUsed > 0 else { return nil }
        let at = used + 4 + 8 * UInt64(lastUsed % size)
        guard let id = try? memory.readU32(at), let length = try? memory.readU32(at + 4) else { return nil }
        lastUsed &+= 1
        return (UInt16(truncatingIfNeeded: id), length)
    }

    /// VIRTQ_USED_F_NO_NOTIFY: the device asks not to be kicked.
    var deviceWantsKick: Bool {
        ((try? memory.readU16(used)) ?? 0) & 1 == 0
    }

    /// VIRTQ_AVAIL_F_NO_INTERRUPT on or off.
    func setInterruptsSuppressed(_ suppressed: Bool) {
        try? memory.writeU16(available, suppressed ? 1 : 0)
    }
}
