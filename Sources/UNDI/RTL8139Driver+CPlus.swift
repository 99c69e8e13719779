import NICCore

/// The C+ datapath, as 8139cp and iPXE run it: 16 transmit and 16 receive
/// descriptors of 16 bytes (EOR on the last), one 1536-byte buffer each;
/// TPPoll.NPQ after queueing a frame.
extension RTL8139Driver {
    func openCPlus() throws(DriverError) {
        w16(RTL8139Reg.cpcr, RTL8139Reg.cpcrMULRW | RTL8139Reg.cpcrRxEnable | RTL8139Reg.cpcrTxEnable)
        do {
            try bus.memory.fill(at: txDescriptors, count: 16 * Self.descriptorCount, with: 0)
            for i in 0..<Self.descriptorCount { try armReceive(i) }
        } catch {
            throw .dma("C+ descriptor rings unreachable")
        }
        w32(RTL8139Reg.tnpds + 4, UInt32(truncatingIfNeeded: txDescriptors >> 32))
        w32(RTL8139Reg.tnpds, UInt32(truncatingIfNeeded: txDescriptors))
        w32(RTL8139Reg.rdsar + 4, UInt32(truncatingIfNeeded: rxDescriptors >> 32))
        w32(RTL8139Reg.rdsar, UInt32(truncatingIfNeeded: rxDescriptors))
    }

    private func endOfRing(_ i: Int) -> UInt32 { i == Self.descriptorCount - 1 ? RTL8139Reg.descEOR : 0 }

    /// Hands receive descriptor `i` (back) to the chip.
    func armReceive(_ i: Int) throws(DMAError) {
        let d = rxDescriptors + UInt64(16 * i)
        try bus.memory.writeU64(d + 8, rxBuffers + UInt64(i * Self.bufferSize))
        try bus.memory.writeU32(d + 4, 0)
        try bus.memory.writeU32(d, RTL8139Reg.descOWN | endOfRing(i) | UInt32(Self.bufferSize))
    }

    /// Retires transmit descriptors the chip has handed back.
    func reapCPlus() {
        while txCompleted != txProduced {
            let d = txDescriptors + UInt64(16 * (txCompleted % Self.descriptorCount))
            guard let command = try? bus.memory.readU32(d), command & RTL8139Reg.descOWN == 0 else { return }
            statistics.transmitted += 1
            txCompleted += 1
        }
    }

    func transmitCPlus(_ frame: UnsafeRawBufferPointer) throws(DriverError) {
        reapCPlus()
        guard txProduced - txCompleted < Self.descriptorCount else { throw .transmitBusy }
        let i = txProduced % Self.descriptorCount
        let buffer = txBuffers + UInt64(i * Self.bufferSize)
        let length = try stageTransmit(frame, at: buffer)
        let d = txDescriptors + UInt64(16 * i)
        do {
            try bus.memory.writeU64(d + 8, buffer)
            try bus.memory.writeU32(d + 4, 0)
            try bus.memory.writeU32(d, RTL8139Reg.descOWN | RTL8139Reg.descFS | RTL8139Reg.descLS | endOfRing(i) | UInt32(length))
        } catch {
            throw .dma("C+ transmit descriptor unreachable")
        }
        txProduced += 1
        w8(RTL8139Reg.tppoll, RTL8139Reg.tppollNPQ)
        reapCPlus()
    }

    /// Takes the next filled receive descriptor, if the chip has returned
    /// one. A frame spread over several descriptors (larger than our
    /// buffers) is dropped whole.
    func receiveCPlus(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        for _ in 0..<Self.descriptorCount {
            let i = rxNext % Self.descriptorCount
            let d = rxDescriptors + UInt64(16 * i)
            guard let status = try? bus.memory.readU32(d), status & RTL8139Reg.descOWN == 0 else {
                collectMissedPackets()
                return nil
            }
            rxNext += 1
            let whole = status & (RTL8139Reg.descFS | RTL8139Reg.descLS) == RTL8139Reg.descFS | RTL8139Reg.descLS
            let length = Int(status & RTL8139Reg.descRxSizeMask)
            let ok = whole && length >= 4
                && copyFrame(from: rxBuffers + UInt64(i * Self.bufferSize), length: length - 4, into: buffer)
            try? armReceive(i)
            w16(RTL8139Reg.isr, RTL8139Reg.isrROK | RTL8139Reg.isrRXOVW)
            if ok {
                statistics.received += 1
                return length - 4
            }
            statistics.receiveResourceErrors += status & RTL8139Reg.descLS != 0 ? 1 : 0
        }
        return nil
    }
}
