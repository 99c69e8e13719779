import NICCore

/// Packed virtqueues (virtio 1.x section 2.8), negotiated with
/// VIRTIO_F_RING_PACKED: one ring of 16-byte descriptors (addr le64, len
/// le32, id le16, flags le16) that the driver makes available and the
/// device marks used in place, plus two event suppression structures
/// (desc le16: offset 15 bits and wrap 1 bit; flags le16: ENABLE 0,
/// DISABLE 1, DESC 2).
///
/// A descriptor is available when its AVAIL bit equals the device's wrap
/// counter and its USED bit does not; used when both equal the counter.
/// A list is consecutive descriptors linked by NEXT, its buffer ID in the
/// last one; the device writes one used descriptor for it at the list's
/// first slot and skips the rest. The same validation as the split ring
/// applies: lists bounded by the ring size, indirect tables by size,
/// every buffer inside RAM.
extension VirtQueue {
    /// VIRTQ_DESC_F_AVAIL.
    public static let packedAvail: UInt16 = 1 << 7
    /// VIRTQ_DESC_F_USED.
    public static let packedUsed: UInt16 = 1 << 15
    /// RING_EVENT_FLAGS_ENABLE / DISABLE / DESC.
    public enum RingEventFlags {
        public static let enable: UInt16 = 0
        public static let disable: UInt16 = 1
        public static let desc: UInt16 = 2
    }

    private func packedDescriptor(_ table: UInt64, _ slot: Int, _ memory: GuestMemory) throws(VirtQueueError)
        -> (address: UInt64, length: UInt32, id: UInt16, flags: UInt16) {
        var raw: (UInt64, UInt64) = (0, 0)
        let at = table &+ 16 * UInt64(slot)
        try dma { () throws(DMAError) in
            try withUnsafeMutableBytes(of: &raw) { (p) throws(DMAError) in try memory.read(at: at, into: p) }
        }
        let tail = UInt64(littleEndian: raw.1)
        return (UInt64(littleEndian: raw.0), UInt32(truncatingIfNeeded: tail),
                UInt16(truncatingIfNeeded: tail >> 32), UInt16(truncatingIfNeeded: tail >> 48))
    }

    private func isAvailable(_ flags: UInt16, wrap: Bool) -> Bool {
        (flags & VirtQueue.packedAvail != 0) == wrap && (flags & VirtQueue.packedUsed != 0) != wrap
    }

    func packedIsAvailable(at slot: UInt16, _ memory: GuestMemory) throws(VirtQueueError) -> Bool {
        let d = try packedDescriptor(descriptorTable, Int(slot), memory)
        return isAvailable(d.flags, wrap: packedAvailableWrap)
    }

    /// Takes the next available list: its buffer ID is the chain's head.
    func packedPop(_ memory: GuestMemory) throws(VirtQueueError) -> DescriptorChain? {
        var slot = packedNextAvailable
        var wrap = packedAvailableWrap
        let first = try packedDescriptor(descriptorTable, Int(slot), memory)
        guard isAvailable(first.flags, wrap: wrap) else { return nil }
        var chain = DescriptorChain(head: 0, count: 0, readableCount: 0, readableBytes: 0, writableBytes: 0, ringSlots: 0)
        var d = first
        while true {
            chain.ringSlots += 1
            if d.flags & DescriptorFlag.indirect != 0 {
                guard indirectAllowed else { throw .indirectNotNegotiated }
                guard chain.ringSlots == 1, d.flags & DescriptorFlag.next == 0 else { throw .indirectInChain }
                try walkPackedIndirect(address: d.address, length: d.length, into: &chain, memory)
            } else {
                guard memory.contains(address: d.address, length: Int(d.length)) else {
                    throw .outsideRAM(address: d.address, length: UInt64(d.length))
                }
                try append(address: d.address, length: d.length, writable: d.flags & DescriptorFlag.write != 0, to: &chain)
            }
            chain.head = d.id
            slot += 1
            if slot >= size {
                slot = 0
                wrap.toggle()
            }
            guard d.flags & DescriptorFlag.next != 0 else { break }
            // A list can't be longer than the ring (2.8.5).
            guard chain.ringSlots < Int(size) else { throw .chainTooLong(limit: Int(size)) }
            d = try packedDescriptor(descriptorTable, Int(slot), memory)
            guard isAvailable(d.flags, wrap: wrap) else { throw .chainNotAvailable(slot: slot) }
        }
        packedNextAvailable = slot
        packedAvailableWrap = wrap
        return chain
    }

    /// struct pvirtq_indirect_descriptor_table: len / 16 consecutive
    /// descriptors; WRITE is the only flag that counts, IDs are ignored.
    private func walkPackedIndirect(address: UInt64, length: UInt32, into chain: inout DescriptorChain,
                                    _ memory: GuestMemory) throws(VirtQueueError) {
        guard length > 0, length % 16 == 0, Int(length / 16) <= VirtQueue.maxSegments else {
            throw .indirectTableBadSize(length: length)
        }
        guard memory.contains(address: address, length: Int(length)) else {
            throw .outsideRAM(address: address, length: UInt64(length))
        }
        for i in 0..<Int(length / 16) {
            let e = try packedDescriptor(address, i, memory)
            guard memory.contains(address: e.address, length: Int(e.length)) else {
                throw .outsideRAM(address: e.address, length: UInt64(e.length))
            }
            try append(address: e.address, length: e.length, writable: e.flags & DescriptorFlag.write != 0, to: &chain)
        }
    }

    /// Writes the pending used descriptors, the first one last (2.8.10:
    /// the driver never sees part of a multi-buffer request), and says
    /// whether the driver event suppression structure asks for an interrupt.
    func packedPublishUsed(_ memory: GuestMemory) throws(VirtQueueError) -> Bool {
        let count = Int(pendingUsed)
        let oldSlot = packedNextUsed
        let oldWrap = packedUsedWrap
        var firstFlagsAt: UInt64 = 0
        var firstFlags: UInt16 = 0
        for k in 0..<count {
            let e = packedPending[k]
            let at = descriptorTable &+ 16 * UInt64(packedNextUsed)
            var flags: UInt16 = packedUsedWrap ? VirtQueue.packedAvail | VirtQueue.packedUsed : 0
            if e.length > 0 { flags |= DescriptorFlag.write }
            try dma { () throws(DMAError) in
                try memory.writeU32(at &+ 8, e.length)
                try memory.writeU16(at &+ 12, e.id)
            }
            if k == 0 {
                firstFlagsAt = at &+ 14
                firstFlags = flags
            } else {
                try dma { () throws(DMAError) in try memory.writeU16(at &+ 14, flags) }
            }
            let next = Int(packedNextUsed) + Int(max(e.slots, 1))
            if next >= Int(size) {
                packedNextUsed = UInt16(next - Int(size))
                packedUsedWrap.toggle()
            } else {
                packedNextUsed = UInt16(next)
            }
        }
        try dma { () throws(DMAError) in try memory.writeU16(firstFlagsAt, firstFlags) }
        pendingUsed = 0
        return try packedDriverWantsInterrupt(from: (oldSlot, oldWrap), memory)
    }

    /// The driver event suppression structure: ENABLE, DISABLE, or (with
    /// EVENT_IDX) DESC, which asks for an interrupt once the device writes
    /// the used descriptor at desc_event_off in the round desc_event_wrap.
    private func packedDriverWantsInterrupt(from old: (slot: UInt16, wrap: Bool), _ memory: GuestMemory) throws(VirtQueueError) -> Bool {
        let (event, flags) = try dma { () throws(DMAError) in
            (try memory.readU16(availableRing), try memory.readU16(availableRing &+ 2))
        }
        switch flags & 3 {
        case RingEventFlags.enable: return true
        case RingEventFlags.desc where eventIndex:
            // Positions on a circle of two rounds: slot + size for wrap 0.
            let ring = 2 * Int(size)
            func position(_ slot: UInt16, _ wrap: Bool) -> Int { Int(slot) + (wrap ? 0 : Int(size)) }
            let from = position(old.slot, old.wrap)
            let to = position(packedNextUsed, packedUsedWrap)
            let target = position(event & 0x7FFF, event & 0x8000 != 0)
            let written = (to - from + ring) % ring
            return (target - from + ring) % ring < written
        default: return false
        }
    }
}
