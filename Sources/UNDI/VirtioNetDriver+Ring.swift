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
    @exclusivity(unchecked)
    private(set) var availableIndex: UInt16 = 0
    /// Next used index the driver reads.
    @exclusivity(unchecked)
    private(set) var lastUsed: UInt16 = 0
    /// The available index at the last kick decision.
    @exclusivity(unchecked)
    private var lastKicked: UInt16 = 0
    /// VIRTIO_F_RING_EVENT_IDX in force: kicks follow avail_event and
    /// interrupts follow used_event (2.7.10).
    @exclusivity(unchecked)
    var eventIndex = false
    /// The driver wants used-buffer interrupts.
    @exclusivity(unchecked)
    private var interruptsWanted = true

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
        lastKicked = 0
        interruptsWanted = true
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
        updateUsedEvent()
    }

    /// With EVENT_IDX, asks for an interrupt at the next used element
    /// (used_event = last seen), or pushes it half the index space away.
    private func updateUsedEvent() {
        guard eventIndex else { return }
        let event = interruptsWanted ? lastUsed : lastUsed &+ 0x8000
        try? memory.writeU16(available + 4 + 2 * UInt64(size), event)
    }

    /// The next used element (id, len), if any.
    func nextUsed() -> (id: UInt16, length: UInt32)? {
        guard pendingUsed > 0 else { return nil }
        let at = used + 4 + 8 * UInt64(lastUsed % size)
        guard let id = try? memory.readU32(at), let length = try? memory.readU32(at + 4) else { return nil }
        lastUsed &+= 1
        updateUsedEvent()
        return (UInt16(truncatingIfNeeded: id), length)
    }

    /// Whether the chains published since the last decision need a kick:
    /// with EVENT_IDX, when they pass avail_event; otherwise unless the
    /// device set VIRTQ_USED_F_NO_NOTIFY.
    func shouldKick() -> Bool {
        let old = lastKicked
        let new = availableIndex
        lastKicked = new
        guard new != old else { return false }
        if eventIndex {
            let event = (try? memory.readU16(used + 4 + 8 * UInt64(size))) ?? new &- 1
            return new &- event &- 1 < new &- old
        }
        return ((try? memory.readU16(used)) ?? 0) & 1 == 0
    }

    /// VIRTQ_AVAIL_F_NO_INTERRUPT on or off (and used_event with EVENT_IDX).
    func setInterruptsSuppressed(_ suppressed: Bool) {
        interruptsWanted = !suppressed
        try? memory.writeU16(available, suppressed ? 1 : 0)
        updateUsedEvent()
    }
}
