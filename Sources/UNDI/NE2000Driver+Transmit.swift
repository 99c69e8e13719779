import NICCore

/// Transmit: the frame goes into the card's transmit buffer by remote-DMA
/// write, the driver waits for ISR.RDC (as iPXE does), then sets TPSR and
/// TBCR and issues TXP, and waits for PTX or TXE.
extension NE2000Driver {
    public func transmit(_ frame: UnsafeRawBufferPointer) throws(DriverError) {
        guard frame.count >= 14, frame.count <= maxFrameSize else { throw .badFrameLength(frame.count) }
        guard isOpen else { throw .hardware("transmit while the card is closed") }
        // TXP stays set while the previous frame is still going out.
        if inb(Reg.command) & CR.transmitPacket != 0 {
            let idle = bus.wait(timeout: 2 * VirtualClock.millisecond) { inb(Reg.command) & CR.transmitPacket == 0 }
            guard idle else { throw .transmitBusy }
        }
        // The 8390 sends what it is given: short frames are padded here.
        let length = max(frame.count, 60)
        try remoteWrite(frame, paddedTo: length, at: UInt16(NE2000Driver.transmitStartPage) << 8)

        outb(Reg.transmitPageStart, NE2000Driver.transmitStartPage)
        outb(Reg.transmitByteCount0, UInt8(truncatingIfNeeded: length))
        outb(Reg.transmitByteCount1, UInt8(truncatingIfNeeded: length >> 8))
        outb(Reg.command, CR.page0 | CR.noDMA | CR.transmitPacket | CR.start)

        guard let status = waitForStatus(ISR.packetTransmitted | ISR.transmitError, timeout: 10 * VirtualClock.millisecond) else {
            throw .timeout("transmit did not complete")
        }
        outb(Reg.interruptStatus, status & (ISR.packetTransmitted | ISR.transmitError))
        guard status & ISR.transmitError == 0 else {
            throw .hardware("transmit aborted (TSR 0x\(String(inb(Reg.transmitStatus), radix: 16)))")
        }
        statistics.transmitted += 1
    }

    /// Copies `bytes` (then zeros up to `length`) to packet memory at
    /// `address` through the data port, and waits for RDC.
    func remoteWrite(_ bytes: UnsafeRawBufferPointer, paddedTo length: Int, at address: UInt16) throws(DriverError) {
        let count = wordMode ? (length + 1) & ~1 : length
        outb(Reg.command, CR.page0 | CR.noDMA | CR.start)
        outb(Reg.interruptStatus, ISR.remoteDMAComplete)
        outb(Reg.remoteByteCount0, UInt8(truncatingIfNeeded: count))
        outb(Reg.remoteByteCount1, UInt8(truncatingIfNeeded: count >> 8))
        outb(Reg.remoteStartAddress0, UInt8(truncatingIfNeeded: address))
        outb(Reg.remoteStartAddress1, UInt8(truncatingIfNeeded: address >> 8))
        outb(Reg.command, CR.remoteWrite | CR.start)

        var i = 0
        if dwordIO {
            while i + 4 <= bytes.count {
                outl(Reg.data, UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
                i += 4
            }
        }
        @inline(__always) func byte(_ j: Int) -> UInt8 { j < bytes.count ? bytes[j] : 0 }
        if wordMode {
            while i < count {
                outw(Reg.data, UInt16(byte(i)) | UInt16(byte(i + 1)) << 8)
                i += 2
            }
        } else {
            while i < count {
                outb(Reg.data, byte(i))
                i += 1
            }
        }
        guard waitForStatus(ISR.remoteDMAComplete, timeout: 10 * VirtualClock.millisecond) != nil else {
            throw .timeout("remote DMA write did not complete")
        }
    }
}
