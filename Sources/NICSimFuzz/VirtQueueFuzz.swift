import NICCore
import VirtioNet

/// The virtqueue walker on its own (split and packed rings): the guest's
/// memory and the device's calls come from an op-coded stream, the way
/// the virtio-net device uses a queue. Descriptor table at 0x1000, driver
/// area at 0x2000, device area at 0x3000 in 64 KiB of RAM; the input
/// writes whatever it likes anywhere in it.
///
/// As the device does, the harness stops using a queue after it reported
/// an error, until the queue is set up again. Every chain the walker
/// hands out must lie inside RAM and be no longer than it promises.
enum VirtQueueFuzz {
    static let ramSize = 64 << 10
    static let maxSize: UInt16 = 256
    static let descriptorTable: UInt64 = 0x1000
    static let driverArea: UInt64 = 0x2000
    static let deviceArea: UInt64 = 0x3000
    static let maxOps = 4096

    enum Op: UInt8, CaseIterable {
        /// address u16, length u16 (at most 8 KiB), bytes.
        case memoryWrite
        /// Takes the next available chain.
        case pop
        /// length u32: returns the oldest chain taken to the driver.
        case addUsed
        /// Publishes the returned chains.
        case publishUsed
        /// offset u16, count u16: reads the last chain's readable bytes.
        case copyReadable
        /// offset u16, count u16, byte: writes into the last chain's writable bytes.
        case copyToWritable
        /// Gives back every chain taken since the last checkpoint.
        case rewind
        /// Remembers where the device will read next.
        case checkpoint
        case hasAvailable
        case updateAvailableEvent
        case requestNotification
        case dropPendingUsed
        /// flags u8 (bit 0 indirect, bit 1 event index), size u16: set up again and enable.
        case setUp
        /// pfn u16: the legacy layout (split rings only).
        case legacyPFN
    }

    static func run(packed: Bool, _ input: inout FuzzInput) {
        let memory = FlatMemory(size: ramSize)
        let queue = VirtQueue(index: 0, maxSize: maxSize)
        var scratch = [UInt8](repeating: 0, count: 64 << 10)
        var taken: [DescriptorChain] = []
        var last: DescriptorChain?
        var saved = queue.checkpoint
        var broken = false

        func setUp(flags: UInt8, size: UInt16) {
            queue.reset()
            queue.isPacked = packed
            queue.indirectAllowed = flags & 1 != 0
            queue.eventIndex = flags & 2 != 0
            queue.size = 1 + size % maxSize
            queue.descriptorTable = descriptorTable
            queue.availableRing = driverArea
            queue.usedRing = deviceArea
            queue.enable()
            taken = []
            last = nil
            saved = queue.checkpoint
            broken = false
        }

        /// Runs one device call; an error retires the queue, as the device's NEEDS_RESET does.
        func use<R>(_ body: () throws(VirtQueueError) -> R) -> R? {
            guard !broken else { return nil }
            do throws(VirtQueueError) {
                return try body()
            } catch {
                broken = true
                return nil
            }
        }

        setUp(flags: input.u8(), size: input.u16())
        var ops = 0
        while !input.isAtEnd, ops < maxOps {
            ops += 1
            guard let op = Op(rawValue: input.u8() % UInt8(Op.allCases.count)) else { continue }
            switch op {
            case .memoryWrite:
                let address = UInt64(input.u16())
                let bytes = input.take(Int(input.u16() % 8193))
                try? memory.write(at: address, from: UnsafeRawBufferPointer(rebasing: bytes[0..<min(bytes.count, ramSize - Int(address))]))
            case .pop:
                guard taken.count < Int(maxSize), let popped = use({ () throws(VirtQueueError) in try queue.pop(memory) }),
                      let chain = popped else { continue }
                check(chain, queue, memory)
                taken.append(chain)
                last = chain
            case .addUsed:
                let length = input.u32()
                guard !taken.isEmpty else { continue }
                let chain = taken.removeFirst()
                _ = use { () throws(VirtQueueError) in try queue.addUsed(chain, length: length, memory) }
            case .publishUsed:
                _ = use { () throws(VirtQueueError) in try queue.publishUsed(memory) }
            case .copyReadable:
                let offset = Int(input.u16()), count = Int(input.u16())
                guard let chain = last else { continue }
                let copied = scratch.withUnsafeMutableBytes { s in
                    use { () throws(VirtQueueError) in try queue.copyReadable(chain, from: offset, into: UnsafeMutableRawBufferPointer(rebasing: s[0..<count]), memory) }
                }
                if let copied { precondition(copied <= min(count, chain.readableBytes), "copied more than the chain holds") }
            case .copyToWritable:
                let offset = Int(input.u16()), count = Int(input.u16())
                let value = input.u8()
                guard let chain = last else { continue }
                scratch.withUnsafeMutableBytes { _ = $0.baseAddress?.initializeMemory(as: UInt8.self, repeating: value, count: count) }
                let copied = scratch.withUnsafeBytes { s in
                    use { () throws(VirtQueueError) in try queue.copyToWritable(chain, at: offset, from: UnsafeRawBufferPointer(rebasing: s[0..<count]), memory) }
                }
                if let copied { precondition(copied <= min(count, chain.writableBytes), "wrote more than the chain holds") }
            case .rewind:
                guard !broken else { continue }
                queue.rewind(to: saved)
                taken = []
                last = nil
            case .checkpoint:
                saved = queue.checkpoint
            case .hasAvailable:
                _ = use { () throws(VirtQueueError) in try queue.hasAvailable(memory) }
            case .updateAvailableEvent:
                _ = use { () throws(VirtQueueError) in try queue.updateAvailableEvent(memory) }
            case .requestNotification:
                _ = use { () throws(VirtQueueError) in try queue.requestNotification(memory) }
            case .dropPendingUsed:
                queue.dropPendingUsed()
            case .setUp:
                setUp(flags: input.u8(), size: input.u16())
            case .legacyPFN:
                let pfn = UInt32(input.u16() % 16)
                guard !packed else { continue }
                queue.reset()
                queue.eventIndex = true
                queue.setLegacyPFN(pfn)
                taken = []
                last = nil
                saved = queue.checkpoint
                broken = false
            }
        }
    }

    /// What the walker promises about a chain it hands out.
    private static func check(_ chain: DescriptorChain, _ queue: VirtQueue, _ memory: GuestMemory) {
        precondition(chain.count <= VirtQueue.maxSegments && chain.readableCount <= chain.count, "chain counts out of range")
        var readable = 0, writable = 0
        for i in 0..<chain.count {
            let s = queue.segment(i)
            precondition(memory.contains(address: s.address, length: s.length), "a segment lies outside RAM")
            precondition(s.isWritable == (i >= chain.readableCount), "readable and writable segments out of order")
            if s.isWritable { writable += s.length } else { readable += s.length }
        }
        precondition(readable == chain.readableBytes && writable == chain.writableBytes, "chain byte counts disagree with its segments")
    }
}
