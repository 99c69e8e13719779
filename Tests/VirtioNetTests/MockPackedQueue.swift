import NICCore
import VirtioNet

/// The driver side of a packed virtqueue (virtio 1.x 2.8), in test code, at
/// the same addresses as a `MockVirtQueue`: the ring at `base`, the driver
/// event suppression structure where the split ring's available ring would
/// be, the device one where its used ring would be.
final class MockPackedQueue {
    let memory: FlatMemory
    let size: UInt16
    let ring: UInt64
    let driverEvent: UInt64
    let deviceEvent: UInt64
    private var next: UInt16 = 0
    private var wrap = true
    private var usedNext: UInt16 = 0
    private var usedWrap = true
    private var slotsByID: [UInt16: Int] = [:]

    static let next: UInt16 = 1
    static let write: UInt16 = 2
    static let indirect: UInt16 = 4
    static let avail: UInt16 = 1 << 7
    static let used: UInt16 = 1 << 15

    init(_ split: MockVirtQueue) {
        memory = split.memory
        size = split.size
        ring = split.descriptors
        driverEvent = split.available
        deviceEvent = split.used
    }

    func writeDescriptor(slot: UInt16, address: UInt64, length: UInt32, id: UInt16, flags: UInt16, table: UInt64? = nil) {
        let at = (table ?? ring) + 16 * UInt64(slot)
        try? memory.writeU64(at, address)
        try? memory.writeU32(at + 8, length)
        try? memory.writeU16(at + 12, id)
        try? memory.writeU16(at + 14, flags)
    }

    /// Makes a list available: `(address, length, writable)` elements in
    /// consecutive slots, the ID in the last, the first one's flags last.
    func add(_ elements: [(UInt64, UInt32, Bool)], id: UInt16, extraFlags: UInt16 = 0) {
        let first = next
        var firstFlags: UInt16 = 0
        for (i, e) in elements.enumerated() {
            var flags = (wrap ? Self.avail : Self.used) | (e.2 ? Self.write : 0) | extraFlags
            if i < elements.count - 1 { flags |= Self.next }
            if next == first && i == 0 {
                firstFlags = flags
                writeDescriptor(slot: next, address: e.0, length: e.1, id: id, flags: 0xFFFF & ~(Self.avail | Self.used) & (wrap ? Self.used : Self.avail))
            } else {
                writeDescriptor(slot: next, address: e.0, length: e.1, id: id, flags: flags)
            }
            next += 1
            if next >= size {
                next = 0
                wrap.toggle()
            }
        }
        slotsByID[id] = elements.count
        try? memory.writeU16(ring + 16 * UInt64(first) + 14, firstFlags)
    }

    /// The next used descriptor (id, length, flags), if the device wrote one.
    func takeUsed() -> (id: UInt16, length: UInt32, flags: UInt16)? {
        let at = ring + 16 * UInt64(usedNext)
        guard let flags = try? memory.readU16(at + 14), (flags & Self.used != 0) == usedWrap,
              (flags & Self.avail != 0) == usedWrap,
              let id = try? memory.readU16(at + 12), let length = try? memory.readU32(at + 8)
        else { return nil }
        let skip = slotsByID[id] ?? 1
        usedNext += UInt16(skip)
        if usedNext >= size {
            usedNext -= size
            usedWrap.toggle()
        }
        return (id, length, flags)
    }

    /// Driver event suppression: flags ENABLE 0 / DISABLE 1 / DESC 2.
    func setDriverEvent(flags: UInt16, offset: UInt16 = 0, wrap: Bool = true) {
        try? memory.writeU16(driverEvent, offset | (wrap ? 0x8000 : 0))
        try? memory.writeU16(driverEvent + 2, flags)
    }
}
