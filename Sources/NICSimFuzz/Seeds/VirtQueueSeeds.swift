import VirtioNet

/// Seeds for the virtqueue walker: rings laid out as a virtio driver lays
/// them out (descriptor table at 0x1000, driver area at 0x2000, device
/// area at 0x3000), and the device's calls on them.
enum VirtQueueSeeds {
    typealias Op = VirtQueueFuzz.Op

    struct Stream {
        var w = FuzzInputWriter()
        init(flags: UInt8, size: UInt16) {
            w.u8(flags)
            w.u16(size &- 1)
        }
        mutating func op(_ op: Op) { w.u8(op.rawValue) }
        mutating func memory(_ address: UInt16, _ bytes: [UInt8]) {
            op(.memoryWrite)
            w.u16(address)
            w.u16(UInt16(bytes.count))
            w.append(bytes)
        }
        /// A split or packed descriptor: address, length, then next (split) or id (packed), flags.
        mutating func descriptor(table: UInt16 = 0x1000, _ slot: Int, address: UInt64, length: UInt32, flags: UInt16, nextOrID: UInt16 = 0, packed: Bool = false) {
            var d = FuzzInputWriter()
            d.u64(address)
            d.u32(length)
            if packed { d.u16(nextOrID); d.u16(flags) } else { d.u16(flags); d.u16(nextOrID) }
            memory(table + UInt16(16 * slot), d.bytes)
        }
        mutating func words(_ address: UInt16, _ values: [UInt16]) {
            var d = FuzzInputWriter()
            for v in values { d.u16(v) }
            memory(address, d.bytes)
        }
        mutating func copy(readable: Bool, offset: UInt16, count: UInt16, value: UInt8 = 0x5A) {
            op(readable ? .copyReadable : .copyToWritable)
            w.u16(offset)
            w.u16(count)
            if !readable { w.u8(value) }
        }
        mutating func used(_ length: UInt32) {
            op(.addUsed)
            w.u32(length)
        }
    }

    static let next = VirtQueue.DescriptorFlag.next, write = VirtQueue.DescriptorFlag.write
    static let indirect = VirtQueue.DescriptorFlag.indirect
    static let avail = VirtQueue.packedAvail, usedBit = VirtQueue.packedUsed

    static func split() -> [(String, [UInt8])] {
        var a = Stream(flags: 0, size: 8)
        a.descriptor(0, address: 0x8000, length: 64, flags: next, nextOrID: 1)
        a.descriptor(1, address: 0x9000, length: 1500, flags: write)
        a.descriptor(2, address: 0xA000, length: 100, flags: 0)
        a.words(0x2000, [0, 2, 0, 2])
        a.op(.hasAvailable)
        a.op(.pop)
        a.copy(readable: true, offset: 0, count: 64)
        a.copy(readable: false, offset: 0, count: 100)
        a.used(100)
        a.op(.pop)
        a.copy(readable: true, offset: 10, count: 90)
        a.used(0)
        a.op(.publishUsed)
        a.op(.hasAvailable)

        var b = Stream(flags: 3, size: 16)
        b.descriptor(0, address: 0x4000, length: 48, flags: indirect)
        b.descriptor(table: 0x4000, 0, address: 0x8000, length: 14, flags: next, nextOrID: 1)
        b.descriptor(table: 0x4000, 1, address: 0x8100, length: 200, flags: next, nextOrID: 2)
        b.descriptor(table: 0x4000, 2, address: 0x9000, length: 1000, flags: write)
        b.words(0x2000, [0, 1, 0])
        b.op(.checkpoint)
        b.op(.pop)
        b.op(.rewind)
        b.op(.pop)
        b.copy(readable: true, offset: 0, count: 214)
        b.copy(readable: false, offset: 0, count: 600, value: 1)
        b.used(600)
        b.op(.publishUsed)
        b.op(.updateAvailableEvent)
        b.words(0x2000, [0, 2, 0, 0])
        b.op(.pop)
        b.used(0)
        b.op(.publishUsed)
        b.op(.requestNotification)

        // The legacy layout: descriptors at PFN 4 (0x4000), driver area right
        // after them, device area at the next 4 KiB boundary.
        var c = Stream(flags: 2, size: 8)
        c.op(.legacyPFN)
        c.w.u16(4)
        c.descriptor(table: 0x4000, 0, address: 0x8000, length: 60, flags: 0)
        c.descriptor(table: 0x4000, 1, address: 0x8800, length: 1514, flags: write)
        c.words(0x5000, [0, 2, 0, 1])
        c.op(.pop)
        c.used(60)
        c.op(.dropPendingUsed)
        c.used(60)
        c.op(.publishUsed)
        c.op(.pop)
        c.copy(readable: false, offset: 0, count: 1514)
        c.used(1514)
        c.op(.publishUsed)
        c.op(.updateAvailableEvent)
        return [("split-two-chains", a.w.bytes), ("split-indirect-rewind", b.w.bytes), ("split-legacy-layout", c.w.bytes)]
    }

    static func packed() -> [(String, [UInt8])] {
        var a = Stream(flags: 0, size: 4)
        a.descriptor(0, address: 0x8000, length: 64, flags: avail | next, nextOrID: 7, packed: true)
        a.descriptor(1, address: 0x9000, length: 1500, flags: avail | write, nextOrID: 7, packed: true)
        a.descriptor(2, address: 0xA000, length: 100, flags: avail, nextOrID: 9, packed: true)
        a.op(.hasAvailable)
        a.op(.pop)
        a.copy(readable: true, offset: 0, count: 64)
        a.copy(readable: false, offset: 0, count: 100)
        a.used(100)
        a.op(.pop)
        a.used(0)
        a.op(.publishUsed)
        a.op(.hasAvailable)

        var b = Stream(flags: 1, size: 8)
        b.descriptor(0, address: 0x4000, length: 32, flags: avail | indirect, nextOrID: 3, packed: true)
        b.descriptor(table: 0x4000, 0, address: 0x8000, length: 20, flags: 0, packed: true)
        b.descriptor(table: 0x4000, 1, address: 0x9000, length: 500, flags: write, packed: true)
        b.op(.checkpoint)
        b.op(.pop)
        b.op(.rewind)
        b.op(.pop)
        b.copy(readable: true, offset: 0, count: 20)
        b.copy(readable: false, offset: 0, count: 500, value: 2)
        b.used(500)
        b.op(.publishUsed)

        // Two slots, used twice: the second round has the wrap counters flipped;
        // the driver asks for an interrupt at slot 1 of the second round.
        var c = Stream(flags: 2, size: 2)
        c.descriptor(0, address: 0x8000, length: 10, flags: avail, nextOrID: 1, packed: true)
        c.descriptor(1, address: 0x8100, length: 10, flags: avail | write, nextOrID: 2, packed: true)
        c.words(0x2000, [0x0001, 2])
        c.op(.pop)
        c.op(.pop)
        c.used(0)
        c.used(10)
        c.op(.publishUsed)
        c.descriptor(0, address: 0x8000, length: 10, flags: usedBit, nextOrID: 3, packed: true)
        c.descriptor(1, address: 0x8100, length: 10, flags: usedBit | write, nextOrID: 4, packed: true)
        c.op(.hasAvailable)
        c.op(.pop)
        c.op(.pop)
        c.used(0)
        c.used(10)
        c.op(.publishUsed)
        return [("packed-two-lists", a.w.bytes), ("packed-indirect-rewind", b.w.bytes), ("packed-wrap", c.w.bytes)]
    }
}
