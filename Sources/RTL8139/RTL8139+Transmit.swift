import NICCore

/// Classic transmit: four TSD/TSAD slots served round robin. The driver
/// writes a buffer address to TSADn and then the size (with OWN clear) to
/// TSDn; the chip copies the buffer, sets OWN when the DMA is done and TOK
/// when the frame is sent, and raises TOK in ISR.
extension RTL8139 {
    func transmitStatus(_ i: Int) -> UInt32 { tsd[i & 3] }
    func transmitAddress(_ i: Int) -> UInt32 { tsad[i & 3] }
    func setTransmitAddress(_ i: Int, _ value: UInt32) { tsad[i & 3] = value }

    /// A TSD write. In C+ transmit mode TSD0/1 are DTCCR.
    func writeTransmitStatus(_ i: Int, _ value: UInt32) {
        if cPlusTransmit, i < 2 {
            writeTallyCommand(i, value)
            return
        }
        // The driver owns SIZE, OWN and ERTXTH; the status bits restart clear.
        let writable = TransmitStatusBits.sizeMask | TransmitStatusBits.own | TransmitStatusBits.earlyThresholdMask
        tsd[i & 3] = value & writable
        serviceClassicTransmit()
    }

    /// Sends every slot the driver has handed over, in round-robin order
    /// from the next slot due; stops at the first slot still owned by the
    /// host. A TSD written while a frame is going out (a host reacting at
    /// once to the sent frame) is picked up by the running loop, never by
    /// a nested one. At most eight frames per call.
    func serviceClassicTransmit() {
        guard transmitterEnabled, !cPlusTransmit, clockRunning, !servicingTransmit else { return }
        servicingTransmit = true
        defer { servicingTransmit = false }
        for _ in 0..<8 {
            let slot = nextTransmitSlot
            let status = tsd[slot]
            guard status & TransmitStatusBits.own == 0 else { return }
            nextTransmitSlot = (slot + 1) & 3
            transmitClassic(slot: slot, status: status)
        }
    }

    private func transmitClassic(slot: Int, status: UInt32) {
        let size = Int(status & TransmitStatusBits.sizeMask)
        let keep = status & TransmitStatusBits.earlyThresholdMask | UInt32(size)
        // The transmit FIFO takes at most 1792 bytes: larger sizes abort.
        guard size <= RTL8139.maxClassicFrame else {
            tsd[slot] = keep | TransmitStatusBits.own | TransmitStatusBits.tabt
            tally.txErrors &+= 1
            tally.txAborted &+= 1
            raise(InterruptBits.ter)
            return
        }
        txOut.setCount(size)
        do {
            try dma.read(at: UInt64(tsad[slot]), into: UnsafeMutableRawBufferPointer(rebasing: txOut.storage[0..<size]))
        } catch {
            reportBusError()
            tsd[slot] = keep | TransmitStatusBits.own | TransmitStatusBits.tabt
            tally.txErrors &+= 1
            tally.txAborted &+= 1
            raise(InterruptBits.ter)
            return
        }
        // Without a link the frame goes nowhere: CRS (carrier sense lost).
        let carrier = linkUp ? 0 : TransmitStatusBits.crs
        tsd[slot] = keep | TransmitStatusBits.own | TransmitStatusBits.tok | carrier
        tally.txOK &+= 1
        emit(txOut.bytes)
        raise(InterruptBits.tok)
    }

    /// TSAD (0x60): TOK, TUN, TABT and OWN of all four slots.
    var transmitSummary: UInt16 {
        var v: UInt16 = 0
        for i in 0..<4 {
            let s = tsd[i]
            if s & TransmitStatusBits.tok != 0 { v |= 1 << (12 + UInt16(i)) }
            if s & TransmitStatusBits.tun != 0 { v |= 1 << (8 + UInt16(i)) }
            if s & TransmitStatusBits.tabt != 0 { v |= 1 << (4 + UInt16(i)) }
            if s & TransmitStatusBits.own != 0 { v |= 1 << UInt16(i) }
        }
        return v
    }

    /// Puts a finished frame on the wire, or, in loopback mode, into our own
    /// receiver. The receive path never transmits, and a frame looped back
    /// while another is being looped back is dropped, so loopback cannot
    /// recurse.
    func emit(_ frame: UnsafeRawBufferPointer) {
        if loopback {
            guard !inLoopback else { return }
            inLoopback = true
            _ = receive(frame: frame)
            inLoopback = false
            return
        }
        port.transmit(frame)
    }
}
