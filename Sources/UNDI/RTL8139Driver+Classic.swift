import NICCore

/// The classic datapath, as 8139too and iPXE's legacy mode run it: one
/// receive ring (32K, WRAP set so a frame never splits) read from CAPR+16
/// up to CBR, and four transmit slots used in turn.
extension RTL8139Driver {
    func openClassic() {
        w32(RTL8139Reg.rbstart, UInt32(truncatingIfNeeded: rxRing))
        for i in 0..<Self.transmitSlots {
            w32(RTL8139Reg.tsad0 + 4 * i, UInt32(truncatingIfNeeded: txBuffers + UInt64(i * Self.bufferSize)))
        }
    }

    /// Retires slots whose TSD shows OWN (DMA done), counting TOK as sent.
    func reapClassic() {
        while txCompleted != txProduced {
            let status = r32(RTL8139Reg.tsd0 + 4 * (txCompleted % Self.transmitSlots))
            guard status & RTL8139Reg.tsdOWN != 0 else { return }
            if status & RTL8139Reg.tsdTOK != 0 { statistics.transmitted += 1 }
            txCompleted += 1
        }
    }

    func transmitClassic(_ frame: UnsafeRawBufferPointer) throws(DriverError) {
        reapClassic()
        guard txProduced - txCompleted < Self.transmitSlots else { throw .transmitBusy }
        let slot = txProduced % Self.transmitSlots
        let length = try stageTransmit(frame, at: txBuffers + UInt64(slot * Self.bufferSize))
        txProduced += 1
        w32(RTL8139Reg.tsd0 + 4 * slot, RTL8139Reg.tsdEarlyThreshold | UInt32(length))
        reapClassic()
    }

    /// Takes the frame at the read offset unless CR.BUFE says the ring is
    /// empty; then moves CAPR past it (offset - 16, dword aligned).
    func receiveClassic(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard r8(RTL8139Reg.cr) & RTL8139Reg.crBUFE == 0 else {
            collectMissedPackets()
            return nil
        }
        let ringSize = Self.classicRingSize
        guard let header = try? bus.memory.readU32(rxRing + UInt64(rxOffset)) else { return nil }
        let status = header & 0xFFFF
        let length = Int(header >> 16)
        guard status & RTL8139Reg.rxROK != 0, length >= 64, length <= 4096 else {
            // A bad header: resynchronise at the chip's write pointer.
            if status & RTL8139Reg.rxCRC != 0 { statistics.receiveCRCErrors += 1 }
            rxOffset = Int(r16(RTL8139Reg.cbr)) % ringSize
            w16(RTL8139Reg.capr, UInt16(truncatingIfNeeded: rxOffset &- 16))
            return nil
        }
        let ok = copyFrame(from: rxRing + UInt64(rxOffset + 4), length: length - 4, into: buffer)
        rxOffset = ((rxOffset + 4 + length + 3) & ~3) % ringSize
        w16(RTL8139Reg.capr, UInt16(truncatingIfNeeded: rxOffset &- 16))
        w16(RTL8139Reg.isr, RTL8139Reg.isrROK | RTL8139Reg.isrRXOVW | RTL8139Reg.isrFOVW)
        guard ok else { return nil }
        statistics.received += 1
        return length - 4
    }
}
