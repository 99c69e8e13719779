import NICCore

/// Receive, by polling the ring as Linux's 8390 core does: the next frame
/// is in the page after BNRY; the ring is empty when that page is CURR.
/// The 4-byte header (status, next page, byte count) and then the frame
/// come out by remote-DMA read, which wraps from PSTOP to PSTART by
/// itself; BNRY then moves to the page before the next frame, freeing
/// the pages.
extension NE2000Driver {
    public func receive(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard isOpen else { return nil }
        if !recoveringFromOverflow, inb(Reg.interruptStatus) & ISR.overwrite != 0 {
            beginOverflowRecovery()
        }
        outb(Reg.command, CR.page1 | CR.noDMA | CR.start)
        let current = inb(Reg.currentPage)
        outb(Reg.command, CR.page0 | CR.noDMA | CR.start)
        var page = inb(Reg.boundary) &+ 1
        if page >= NE2000Driver.receiveStopPage || page < NE2000Driver.receiveStartPage {
            page = NE2000Driver.receiveStartPage
        }
        guard page != current else {
            if recoveringFromOverflow { endOverflowRecovery() }
            return nil
        }

        let header = remoteReadHeader(at: UInt16(page) << 8)
        let next = UInt8(truncatingIfNeeded: header >> 8)
        let count = Int(header >> 16)
        let length = count - 4
        guard (NE2000Driver.receiveStartPage..<NE2000Driver.receiveStopPage).contains(next),
              length >= 14, length <= 1518
        else {
            // A header that makes no sense: give up the ring's contents, as
            // Linux does, by moving BNRY up to CURR.
            statistics.receiveResourceErrors += 1
            setBoundary(before: current)
            outb(Reg.interruptStatus, ISR.packetReceived | ISR.remoteDMAComplete)
            return nil
        }
        let kept = min(length, buffer.count)
        remoteRead(into: buffer, count: kept, at: UInt16(page) << 8 &+ 4)
        setBoundary(before: next)
        outb(Reg.interruptStatus, ISR.packetReceived | ISR.remoteDMAComplete)
        statistics.received += 1
        return length
    }

    /// BNRY trails the next frame to read by one page.
    private func setBoundary(before page: UInt8) {
        let boundary = page == NE2000Driver.receiveStartPage ? NE2000Driver.receiveStopPage - 1 : page &- 1
        outb(Reg.boundary, boundary)
    }

    /// The 4-byte receive header at `address`, little-endian: status, next
    /// page, count low, count high.
    private func remoteReadHeader(at address: UInt16) -> UInt32 {
        startRemoteRead(count: 4, at: address)
        if wordMode {
            let low = UInt32(inw(Reg.data))
            return low | UInt32(inw(Reg.data)) << 16
        }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(inb(Reg.data)) << UInt32(8 * i) }
        return v
    }

    /// Reads `count` bytes at `address` into the start of `buffer`.
    func remoteRead(into buffer: UnsafeMutableRawBufferPointer, count: Int, at address: UInt16) {
        guard count > 0 else { return }
        let transfer = wordMode ? (count + 1) & ~1 : count
        startRemoteRead(count: transfer, at: address)
        var i = 0
        if dwordIO {
            while i + 4 <= count {
                buffer.storeBytes(of: inl(Reg.data).littleEndian, toByteOffset: i, as: UInt32.self)
                i += 4
            }
        }
        if wordMode {
            while i < count {
                let word = inw(Reg.data)
                buffer[i] = UInt8(truncatingIfNeeded: word)
                if i + 1 < count { buffer[i + 1] = UInt8(truncatingIfNeeded: word >> 8) }
                i += 2
            }
        } else {
            while i < count {
                buffer[i] = inb(Reg.data)
                i += 1
            }
        }
    }

    private func startRemoteRead(count: Int, at address: UInt16) {
        outb(Reg.remoteByteCount0, UInt8(truncatingIfNeeded: count))
        outb(Reg.remoteByteCount1, UInt8(truncatingIfNeeded: count >> 8))
        outb(Reg.remoteStartAddress0, UInt8(truncatingIfNeeded: address))
        outb(Reg.remoteStartAddress1, UInt8(truncatingIfNeeded: address >> 8))
        outb(Reg.command, CR.remoteRead | CR.start)
    }

    /// Ring overflow (ISR.OVW), the DP8390D recovery procedure (Linux's
    /// ei_rx_overrun, iPXE's eth_rx_overrun): stop, wait 1.6 ms for the NIC
    /// to go idle, clear RBCR, restart in loopback so nothing new arrives,
    /// then drain the ring through `receive` before leaving loopback.
    private func beginOverflowRecovery() {
        outb(Reg.command, CR.page0 | CR.noDMA | CR.stop)
        bus.delay(2 * VirtualClock.millisecond)
        outb(Reg.remoteByteCount0, 0)
        outb(Reg.remoteByteCount1, 0)
        outb(Reg.transmitConfiguration, TCR.internalLoopback)
        outb(Reg.command, CR.page0 | CR.noDMA | CR.start)
        statistics.receiveResourceErrors += Int(inb(Reg.tally2))
        recoveringFromOverflow = true
    }

    /// The ring is empty again: acknowledge OVW and leave loopback.
    private func endOverflowRecovery() {
        outb(Reg.interruptStatus, ISR.overwrite)
        outb(Reg.transmitConfiguration, 0)
        recoveringFromOverflow = false
    }
}
