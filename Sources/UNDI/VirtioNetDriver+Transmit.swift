import Board
import NICCore

/// Transmitting: half the ring's descriptors pair up into slots, a
/// header descriptor (always zero: no offloads) chained to the frame.
extension VirtioNetDriver {
    static let minimumFrame = 60

    func prepareTransmitSlots(_ tx: VirtioDriverRing) {
        txFreeSlots.removeAll(keepingCapacity: true)
        try? bus.memory.fill(at: txHeaders, count: txSlotCount * 16, with: 0)
        for s in 0..<UInt16(txSlotCount) {
            tx.setDescriptor(2 * s, address: txHeaders + 16 * UInt64(s), length: UInt32(headerLength),
                             flags: VirtioDriverRing.next, next: 2 * s + 1)
            tx.setDescriptor(2 * s + 1, address: txBuffer(Int(s)), length: 0, flags: 0)
        }
        for s in (0..<UInt16(txSlotCount)).reversed() { txFreeSlots.append(s) }
        for s in 0..<txInFlight.count { txInFlight[s] = false }
    }

    func txBuffer(_ s: Int) -> UInt64 { txBuffers + UInt64(s * Self.frameBufferSize) }

    /// Takes back the slots the device has finished with.
    func reclaimTransmitSlots() {
        guard let tx else { return }
        var budget = Int(tx.size)
        while budget > 0, let used = tx.nextUsed() {
            budget -= 1
            let slot = used.id / 2
            if used.id % 2 == 0, Int(slot) < txInFlight.count, txInFlight[Int(slot)] {
                txInFlight[Int(slot)] = false
                txFreeSlots.append(slot)
            }
        }
    }

    public func transmit(_ frame: UnsafeRawBufferPointer) throws(DriverError) {
        guard isOpen, let tx, let transport else { throw .hardware("virtio-net is not open") }
        guard frame.count >= 14, frame.count <= Self.frameBufferSize else { throw .badFrameLength(frame.count) }
        reclaimTransmitSlots()
        guard let slot = txFreeSlots.popLast() else { throw .transmitBusy }
        let address = txBuffer(Int(slot))
        do {
            try bus.memory.write(at: address, from: frame)
            if frame.count < Self.minimumFrame {
                try bus.memory.fill(at: address + UInt64(frame.count), count: Self.minimumFrame - frame.count, with: 0)
            }
        } catch {
            txFreeSlots.append(slot)
            throw .dma("virtio-net transmit buffer: \(error)")
        }
        txInFlight[Int(slot)] = true
        tx.setDescriptorLength(2 * slot + 1, UInt32(max(frame.count, Self.minimumFrame)))
        tx.publish(2 * slot)
        if tx.shouldKick() { transport.notify(Self.transmitQueue) }
        statistics.transmitted += 1
    }
}
