import NICCore

/// One buffer of a descriptor chain after validation.
public struct VirtQueueSegment: Sendable, Equatable {
    public var address: UInt64
    public var length: Int
    /// VIRTQ_DESC_F_WRITE: the device writes this buffer.
    public var isWritable: Bool
}

/// A validated descriptor chain popped from the available ring. Its
/// segments live in the queue's scratch storage until the next pop.
public struct DescriptorChain: Sendable, Equatable {
    /// The head index, returned in the used ring.
    public var head: UInt16
    /// Number of segments (device-readable ones first).
    public var count: Int
    /// Number of device-readable segments.
    public var readableCount: Int
    public var readableBytes: Int
    public var writableBytes: Int
    /// Ring entries the chain took (packed rings; 1 for split rings).
    public var ringSlots: Int = 1
}

/// A split virtqueue (virtio 1.x section 2.7): descriptor table, available
/// ring written by the driver, used ring written by the device.
///
/// Layouts, all little endian:
/// - descriptor (16 bytes): addr le64, len le32, flags le16, next le16;
/// - available ring: flags le16, idx le16, ring[size] le16, used_event le16;
/// - used ring: flags le16, idx le16, ring[size] of (id le32, len le32),
///   avail_event le16.
///
/// Nothing read from the guest is trusted: every index is range-checked,
/// chains are bounded by their table size, indirect tables by the scratch
/// capacity, and every buffer must lie in RAM. Ring addresses are the
/// guest's to choose, so address arithmetic wraps (`&+`) and the memory's
/// range check refuses the result. Segments go into storage allocated
/// once, so popping a chain allocates nothing.
public final class VirtQueue {
    /// Flag bits of a descriptor (virtq_desc.flags).
    public enum DescriptorFlag {
        /// VIRTQ_DESC_F_NEXT: `next` continues the chain.
        public static let next: UInt16 = 1
        /// VIRTQ_DESC_F_WRITE: device-writable buffer.
        public static let write: UInt16 = 2
        /// VIRTQ_DESC_F_INDIRECT: the buffer is a table of descriptors.
        public static let indirect: UInt16 = 4
    }

    /// VIRTQ_AVAIL_F_NO_INTERRUPT in the available ring's flags.
    public static let availNoInterrupt: UInt16 = 1
    /// VIRTQ_USED_F_NO_NOTIFY in the used ring's flags.
    public static let usedNoNotify: UInt16 = 1
    /// The "no MSI-X vector" value of the vector registers.
    public static let noVector: UInt16 = 0xFFFF
    /// Most segments one chain may have, and the largest indirect table.
    public static let maxSegments = 1024

    public let index: Int
    /// The largest size the device supports (Queue Size read at reset).
    public let maxSize: UInt16
    /// The size in use (legacy: always `maxSize`).
    @exclusivity(unchecked)
    public var size: UInt16
    /// queue_enable (modern) or a nonzero PFN (legacy).
    @exclusivity(unchecked)
    public var isEnabled = false
    /// Guest-physical address of the descriptor table.
    @exclusivity(unchecked)
    public var descriptorTable: UInt64 = 0
    /// Guest-physical address of the available ring (the driver area).
    @exclusivity(unchecked)
    public var availableRing: UInt64 = 0
    /// Guest-physical address of the used ring (the device area).
    @exclusivity(unchecked)
    public var usedRing: UInt64 = 0
    /// MSI-X vector for this queue's interrupts.
    @exclusivity(unchecked)
    public var msixVector: UInt16 = VirtQueue.noVector
    /// The legacy Queue Address register (page frame number), as written.
    @exclusivity(unchecked)
    public var legacyPFN: UInt32 = 0

    /// Next available-ring slot the device will read.
    @exclusivity(unchecked)
    public private(set) var lastAvailableIndex: UInt16 = 0
    /// The used index the device last published.
    @exclusivity(unchecked)
    public private(set) var usedIndex: UInt16 = 0
    /// Used entries written but not yet published.
    @exclusivity(unchecked)
    public internal(set) var pendingUsed: UInt16 = 0
    /// VIRTIO_F_RING_EVENT_IDX negotiated.
    @exclusivity(unchecked)
    public var eventIndex = false
    /// VIRTIO_F_RING_INDIRECT_DESC negotiated.
    @exclusivity(unchecked)
    public var indirectAllowed = false
    /// VIRTIO_F_RING_PACKED negotiated: the descriptor area is a packed
    /// descriptor ring and the driver and device areas are event
    /// suppression structures (see `VirtQueue+Packed`).
    @exclusivity(unchecked)
    public var isPacked = false

    // Packed ring state (2.8.1): next slots and the Device Ring Wrap
    // Counters for reading available and writing used descriptors.
    @exclusivity(unchecked)
    var packedNextAvailable: UInt16 = 0
    @exclusivity(unchecked)
    var packedAvailableWrap = true
    @exclusivity(unchecked)
    var packedNextUsed: UInt16 = 0
    @exclusivity(unchecked)
    var packedUsedWrap = true
    /// Used elements waiting for `publishUsed` on a packed ring: id, length, slots.
    let packedPending: UnsafeMutablePointer<(id: UInt16, length: UInt32, slots: UInt16)>

    let segments: UnsafeMutablePointer<VirtQueueSegment>

    public init(index: Int, maxSize: UInt16) {
        self.index = index
        self.maxSize = max(maxSize, 1)
        size = self.maxSize
        segments = .allocate(capacity: VirtQueue.maxSegments)
        segments.initialize(repeating: VirtQueueSegment(address: 0, length: 0, isWritable: false), count: VirtQueue.maxSegments)
        packedPending = .allocate(capacity: Int(self.maxSize))
        packedPending.initialize(repeating: (0, 0, 0), count: Int(self.maxSize))
    }

    deinit {
        segments.deallocate()
        packedPending.deallocate()
    }

    /// Back to the reset state: disabled, full size, no vector, indices 0.
    public func reset() {
        size = maxSize
        isEnabled = false
        descriptorTable = 0
        availableRing = 0
        usedRing = 0
        msixVector = VirtQueue.noVector
        legacyPFN = 0
        lastAvailableIndex = 0
        usedIndex = 0
        pendingUsed = 0
        eventIndex = false
        indirectAllowed = false
        isPacked = false
        resetPackedState()
    }

    func resetPackedState() {
        packedNextAvailable = 0
        packedAvailableWrap = true
        packedNextUsed = 0
        packedUsedWrap = true
    }

    /// The legacy layout (virtio 0.9.5 / 1.x 4.1.5.1): descriptor table at
    /// PFN * 4096, available ring right after it, used ring at the next
    /// 4096-byte boundary.
    public func setLegacyPFN(_ pfn: UInt32) {
        legacyPFN = pfn
        guard pfn != 0 else {
            isEnabled = false
            return
        }
        size = maxSize
        descriptorTable = UInt64(pfn) << 12
        availableRing = descriptorTable + 16 * UInt64(size)
        let availEnd = availableRing + 6 + 2 * UInt64(size)
        usedRing = (availEnd + 4095) & ~4095
        lastAvailableIndex = 0
        usedIndex = 0
        pendingUsed = 0
        isEnabled = true
    }

    /// queue_enable = 1 (modern): the addresses and size written so far take
    /// effect, with both indices at 0.
    public func enable() {
        lastAvailableIndex = 0
        usedIndex = 0
        pendingUsed = 0
        resetPackedState()
        isEnabled = true
    }

    /// Bytes of the three parts for the current size.
    public var descriptorTableBytes: UInt64 { 16 * UInt64(size) }
    public var availableRingBytes: UInt64 { 6 + 2 * UInt64(size) }
    public var usedRingBytes: UInt64 { 6 + 8 * UInt64(size) }

    /// The three areas must lie inside RAM before the device touches any
    /// of them (the guest chose the addresses; 2.7.2 / 2.8.10 sizes).
    func checkAreas(_ memory: GuestMemory) throws(VirtQueueError) {
        func check(_ address: UInt64, _ length: UInt64) throws(VirtQueueError) {
            guard memory.contains(address: address, length: Int(length)) else {
                throw .outsideRAM(address: address, length: length)
            }
        }
        try check(descriptorTable, descriptorTableBytes)
        try check(availableRing, isPacked ? 4 : availableRingBytes)
        try check(usedRing, isPacked ? 4 : usedRingBytes)
    }

    // MARK: Available ring

    /// True when the driver has published chains the device has not taken.
    public func hasAvailable(_ memory: GuestMemory) throws(VirtQueueError) -> Bool {
        guard isEnabled else { return false }
        try checkAreas(memory)
        if isPacked { return try packedIsAvailable(at: packedNextAvailable, memory) }
        return try publishedAvailable(memory) != lastAvailableIndex
    }

    private func publishedAvailable(_ memory: GuestMemory) throws(VirtQueueError) -> UInt16 {
        let published = try dma { () throws(DMAError) in try memory.readU16(availableRing &+ 2) }
        guard published &- lastAvailableIndex <= size else {
            throw .availableIndexJump(lastSeen: lastAvailableIndex, published: published)
        }
        return published
    }

    /// Takes the next available chain and validates it; nil when the ring is empty.
    public func pop(_ memory: GuestMemory) throws(VirtQueueError) -> DescriptorChain? {
        guard isEnabled else { return nil }
        try checkAreas(memory)
        if isPacked { return try packedPop(memory) }
        let published = try publishedAvailable(memory)
        guard published != lastAvailableIndex else { return nil }
        let slot = UInt64(lastAvailableIndex % size)
        let head = try dma { () throws(DMAError) in try memory.readU16(availableRing &+ 4 &+ 2 * slot) }
        let chain = try walk(head: head, memory)
        lastAvailableIndex &+= 1
        return chain
    }

    /// Where the device will read next, to come back to with `rewind(to:)`.
    public struct Checkpoint: Sendable, Equatable {
        var lastAvailable: UInt16
        var packedNext: UInt16
        var packedWrap: Bool
    }

    public var checkpoint: Checkpoint {
        Checkpoint(lastAvailable: lastAvailableIndex, packedNext: packedNextAvailable, packedWrap: packedAvailableWrap)
    }

    /// Gives back every chain popped since `checkpoint` (they were not used).
    public func rewind(to checkpoint: Checkpoint) {
        lastAvailableIndex = checkpoint.lastAvailable
        packedNextAvailable = checkpoint.packedNext
        packedAvailableWrap = checkpoint.packedWrap
    }

    /// Segment `i` of the chain popped last.
    public func segment(_ i: Int) -> VirtQueueSegment {
        guard i >= 0, i < VirtQueue.maxSegments else { return VirtQueueSegment(address: 0, length: 0, isWritable: false) }
        return segments[i]
    }

    private func walk(head: UInt16, _ memory: GuestMemory) throws(VirtQueueError) -> DescriptorChain {
        var chain = DescriptorChain(head: head, count: 0, readableCount: 0, readableBytes: 0, writableBytes: 0)
        var table = descriptorTable
        var tableSize = Int(size)
        var index = head
        var visited = 0
        var inIndirect = false
        while true {
            guard Int(index) < tableSize else { throw .descriptorIndexOutOfRange(index: index, tableSize: tableSize) }
            visited += 1
            guard visited <= tableSize else { throw .chainTooLong(limit: tableSize) }
            let at = table &+ 16 * UInt64(index)
            // One 16-byte DMA read per descriptor.
            var raw: (UInt64, UInt64) = (0, 0)
            try dma { () throws(DMAError) in
                try withUnsafeMutableBytes(of: &raw) { (p) throws(DMAError) in try memory.read(at: at, into: p) }
            }
            let address = UInt64(littleEndian: raw.0)
            let tail = UInt64(littleEndian: raw.1)
            let length = UInt32(truncatingIfNeeded: tail)
            let flags = UInt16(truncatingIfNeeded: tail >> 32)
            let next = UInt16(truncatingIfNeeded: tail >> 48)
            if flags & DescriptorFlag.indirect != 0 {
                guard indirectAllowed else { throw .indirectNotNegotiated }
                guard !inIndirect else { throw .nestedIndirect }
                guard length > 0, length % 16 == 0, Int(length / 16) <= VirtQueue.maxSegments else {
                    throw .indirectTableBadSize(length: length)
                }
                guard memory.contains(address: address, length: Int(length)) else {
                    throw .outsideRAM(address: address, length: UInt64(length))
                }
                // The table replaces the rest of the chain; NEXT on the
                // indirect descriptor itself is not followed.
                table = address
                tableSize = Int(length / 16)
                index = 0
                visited = 0
                inIndirect = true
                continue
            }
            guard memory.contains(address: address, length: Int(length)) else {
                throw .outsideRAM(address: address, length: UInt64(length))
            }
            try append(address: address, length: length, writable: flags & DescriptorFlag.write != 0, to: &chain)
            guard flags & DescriptorFlag.next != 0 else { break }
            index = next
        }
        return chain
    }

    /// Adds one validated buffer to the chain being walked.
    func append(address: UInt64, length: UInt32, writable: Bool, to chain: inout DescriptorChain) throws(VirtQueueError) {
        if !writable && chain.count > chain.readableCount {
            throw .readableAfterWritable
        }
        guard chain.count < VirtQueue.maxSegments else { throw .chainTooLong(limit: VirtQueue.maxSegments) }
        segments[chain.count] = VirtQueueSegment(address: address, length: Int(length), isWritable: writable)
        chain.count += 1
        if writable {
            chain.writableBytes += Int(length)
        } else {
            chain.readableCount += 1
            chain.readableBytes += Int(length)
        }
    }

    // MARK: Copying through a chain

    /// Copies device-readable bytes of the last popped chain, starting
    /// `offset` bytes into them, into `destination`. Returns the bytes copied.
    public func copyReadable(_ chain: DescriptorChain, from offset: Int, into destination: UnsafeMutableRawBufferPointer,
                             _ memory: GuestMemory) throws(VirtQueueError) -> Int {
        var skip = offset
        var copied = 0
        for i in 0..<min(chain.readableCount, VirtQueue.maxSegments) {
            guard copied < destination.count else { break }
            let s = segments[i]
            if skip >= s.length {
                skip -= s.length
                continue
            }
            let n = min(s.length - skip, destination.count - copied)
            let slice = UnsafeMutableRawBufferPointer(rebasing: destination[copied..<(copied + n)])
            try dma { () throws(DMAError) in try memory.read(at: s.address + UInt64(skip), into: slice) }
            copied += n
            skip = 0
        }
        return copied
    }

    /// Copies `source` into the device-writable bytes of the last popped
    /// chain, starting `offset` bytes into them. Returns the bytes copied.
    public func copyToWritable(_ chain: DescriptorChain, at offset: Int, from source: UnsafeRawBufferPointer,
                               _ memory: GuestMemory) throws(VirtQueueError) -> Int {
        var skip = offset
        var copied = 0
        var i = chain.readableCount
        while i < min(chain.count, VirtQueue.maxSegments), copied < source.count {
            let s = segments[i]
            i += 1
            if skip >= s.length {
                skip -= s.length
                continue
            }
            let n = min(s.length - skip, source.count - copied)
            let slice = UnsafeRawBufferPointer(rebasing: source[copied..<(copied + n)])
            try dma { () throws(DMAError) in try memory.write(at: s.address + UInt64(skip), from: slice) }
            copied += n
            skip = 0
        }
        return copied
    }

    // MARK: Used ring

    /// Writes a used element `pendingUsed` places past the published index.
    /// It becomes visible to the driver at `publishUsed`.
    public func addUsed(_ chain: DescriptorChain, length: UInt32, _ memory: GuestMemory) throws(VirtQueueError) {
        if isPacked {
            guard Int(pendingUsed) < Int(maxSize) else { throw .chainTooLong(limit: Int(maxSize)) }
            packedPending[Int(pendingUsed)] = (chain.head, length, UInt16(truncatingIfNeeded: chain.ringSlots))
            pendingUsed &+= 1
            return
        }
        let head = chain.head
        let slot = UInt64((usedIndex &+ pendingUsed) % size)
        let at = usedRing &+ 4 &+ 8 * slot
        try dma { () throws(DMAError) in
            try memory.writeU32(at, UInt32(head))
            try memory.writeU32(at &+ 4, length)
        }
        pendingUsed &+= 1
    }

    /// Discards used elements written since the last publish.
    public func dropPendingUsed() {
        pendingUsed = 0
    }

    /// Publishes pending used elements by writing the used index, and says
    /// whether the driver wants an interrupt for them (VIRTQ_AVAIL_F_NO_INTERRUPT
    /// or, with EVENT_IDX, used_event: virtio 1.x 2.7.7.2 and 2.7.10).
    public func publishUsed(_ memory: GuestMemory) throws(VirtQueueError) -> Bool {
        guard pendingUsed > 0 else { return false }
        try checkAreas(memory)
        if isPacked { return try packedPublishUsed(memory) }
        let found = try dma { () throws(DMAError) in try memory.readU16(usedRing &+ 2) }
        guard found == usedIndex else { throw .usedIndexMoved(expected: usedIndex, found: found) }
        let old = usedIndex
        let new = usedIndex &+ pendingUsed
        try dma { () throws(DMAError) in try memory.writeU16(usedRing &+ 2, new) }
        usedIndex = new
        pendingUsed = 0
        if eventIndex {
            let usedEvent = try dma { () throws(DMAError) in try memory.readU16(availableRing &+ 4 &+ 2 * UInt64(size)) }
            return new &- usedEvent &- 1 < new &- old
        }
        let flags = try dma { () throws(DMAError) in try memory.readU16(availableRing) }
        return flags & VirtQueue.availNoInterrupt == 0
    }

    /// With EVENT_IDX, tells the driver which available index to kick at
    /// next (avail_event = the next slot the device will read).
    public func updateAvailableEvent(_ memory: GuestMemory) throws(VirtQueueError) {
        // A packed ring's device area stays at RING_EVENT_FLAGS_ENABLE.
        guard eventIndex, isEnabled, !isPacked else { return }
        let at = usedRing &+ 4 &+ 8 * UInt64(size)
        let value = lastAvailableIndex
        try dma { () throws(DMAError) in try memory.writeU16(at, value) }
    }

    /// With EVENT_IDX, asks for a kick as soon as the driver publishes
    /// anything new (avail_event = the index published now): what a device
    /// that ran out of buffers needs.
    public func requestNotification(_ memory: GuestMemory) throws(VirtQueueError) {
        guard eventIndex, isEnabled, !isPacked else { return }
        let published = try publishedAvailable(memory)
        let at = usedRing &+ 4 &+ 8 * UInt64(size)
        try dma { () throws(DMAError) in try memory.writeU16(at, published) }
    }

    func dma<R>(_ body: () throws(DMAError) -> R) throws(VirtQueueError) -> R {
        do {
            return try body()
        } catch {
            throw .dma(error)
        }
    }
}

// MARK: Snapshot (in this file: the ring positions are set only here)

extension VirtQueue {
    /// A queue's state as a snapshot keeps it: its configuration, ring
    /// positions (split and packed) and used elements not yet published.
    struct SnapshotState {
        fileprivate var values: [UInt64]
        fileprivate var pending: [(id: UInt16, length: UInt32, slots: UInt16)]
    }

    private var snapshotValues: [UInt64] {
        [UInt64(size), isEnabled ? 1 : 0, descriptorTable, availableRing, usedRing, UInt64(msixVector), UInt64(legacyPFN),
         UInt64(lastAvailableIndex), UInt64(usedIndex), UInt64(pendingUsed), eventIndex ? 1 : 0, indirectAllowed ? 1 : 0,
         isPacked ? 1 : 0, UInt64(packedNextAvailable), packedAvailableWrap ? 1 : 0, UInt64(packedNextUsed), packedUsedWrap ? 1 : 0]
    }

    func save(into w: inout SnapshotWriter) {
        let prefix = "virtq\(index)."
        w.put(prefix + "state", bytes: snapshotValues.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } })
        let count = isPacked ? Int(pendingUsed) : 0
        var pending: [UInt8] = []
        for k in 0..<count {
            let e = packedPending[k]
            pending += [UInt8(truncatingIfNeeded: e.id), UInt8(truncatingIfNeeded: e.id >> 8)]
            pending += (0..<4).map { UInt8(truncatingIfNeeded: e.length >> (8 * $0)) }
            pending += [UInt8(truncatingIfNeeded: e.slots), UInt8(truncatingIfNeeded: e.slots >> 8)]
        }
        w.put(prefix + "packedPending", bytes: pending)
    }

    func read(from r: inout SnapshotReader) throws(SnapshotError) -> SnapshotState {
        let prefix = "virtq\(index)."
        let raw = try r.bytes(prefix + "state", count: 8 * snapshotValues.count)
        let v = stride(from: 0, to: raw.count, by: 8).map { at in (0..<8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(raw[at + $1]) } }
        let sixteen = [0, 5, 7, 8, 9, 13, 15]
        guard v[0] >= 1, v[0] <= UInt64(maxSize), sixteen.allSatisfy({ v[$0] <= 0xFFFF }), v[6] <= 0xFFFF_FFFF,
              [1, 10, 11, 12, 14, 16].allSatisfy({ v[$0] <= 1 }), v[9] <= UInt64(maxSize) else {
            throw SnapshotError("virtqueue \(index) state out of range")
        }
        let bytes = try r.variableBytes(prefix + "packedPending", maxCount: 8 * Int(maxSize))
        guard bytes.count == (v[12] == 1 ? 8 * Int(v[9]) : 0) else { throw SnapshotError("virtqueue \(index) pending elements inconsistent") }
        let pending = stride(from: 0, to: bytes.count, by: 8).map { at in
            (id: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8,
             length: (0..<4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[at + 2 + $1]) },
             slots: UInt16(bytes[at + 6]) | UInt16(bytes[at + 7]) << 8)
        }
        return SnapshotState(values: v, pending: pending)
    }

    func apply(_ s: SnapshotState) {
        let v = s.values
        size = UInt16(v[0]); isEnabled = v[1] == 1; descriptorTable = v[2]; availableRing = v[3]; usedRing = v[4]
        msixVector = UInt16(v[5]); legacyPFN = UInt32(v[6]); lastAvailableIndex = UInt16(v[7]); usedIndex = UInt16(v[8])
        pendingUsed = UInt16(v[9]); eventIndex = v[10] == 1; indirectAllowed = v[11] == 1; isPacked = v[12] == 1
        packedNextAvailable = UInt16(v[13]); packedAvailableWrap = v[14] == 1; packedNextUsed = UInt16(v[15]); packedUsedWrap = v[16] == 1
        for (k, e) in s.pending.enumerated() { packedPending[k] = e }
    }
}
