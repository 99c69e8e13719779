import NICCore

/// C+ mode: 16-byte descriptors in guest memory instead of the classic
/// ring and slots. CPCR turns the C+ transmitter and receiver on; TNPDS
/// and THPDS hold the normal- and high-priority transmit rings, RDSAR the
/// receive ring; TPPoll tells the chip a transmit ring has work.
///
/// A descriptor is dword0 (OWN, EOR, FS, LS, command or status, size),
/// dword1 (VLAN), dwords 2-3 (buffer address). The chip walks a ring until
/// a descriptor it does not own, wrapping at EOR or after 64 descriptors,
/// so a ring without EOR, or one that points at itself, stays bounded.
extension RTL8139 {
    struct Descriptor {
        var command: UInt32
        var vlan: UInt32
        var buffer: UInt64
    }

    func readDescriptor(at address: UInt64) throws(DMAError) -> Descriptor {
        var raw: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
        try withUnsafeMutableBytes(of: &raw) { (p) throws(DMAError) in try dma.read(at: address, into: p) }
        return Descriptor(command: UInt32(littleEndian: raw.0), vlan: UInt32(littleEndian: raw.1),
                          buffer: UInt64(UInt32(littleEndian: raw.2)) | UInt64(UInt32(littleEndian: raw.3)) << 32)
    }

    /// Writes back dword0 and dword1 (status and VLAN); the buffer address stays.
    func writeDescriptorStatus(at address: UInt64, command: UInt32, vlan: UInt32) throws(DMAError) {
        var raw: (UInt32, UInt32) = (command.littleEndian, vlan.littleEndian)
        try withUnsafeBytes(of: &raw) { (p) throws(DMAError) in try dma.write(at: address, from: p) }
    }

    var normalTransmitRing: UInt64 { UInt64(tsad[0]) | UInt64(tsad[1]) << 32 }
    var highTransmitRing: UInt64 { UInt64(tsad[2]) | UInt64(tsad[3]) << 32 }

    // MARK: Registers

    /// CPCR: enabling a side restarts its ring at descriptor 0.
    func writeCPlusCommand(_ value: UInt16) {
        let old = cpcr
        let w = CPlusCommandBits.writable
        cpcr = (cpcr & ~w) | (value & w)
        if old & CPlusCommandBits.txEnable == 0, cPlusTransmit {
            cPlusTxIndex = 0
            cPlusHighTxIndex = 0
            txAssembly.setCount(0)
        }
        if old & CPlusCommandBits.rxEnable == 0, cPlusReceive {
            cPlusRxIndex = 0
        }
    }

    /// TPPoll: HPQ and NPQ start the high- and normal-priority rings (high
    /// first); FSWInt raises the software interrupt. A poll that arrives
    /// while the chip is already walking a ring (a host that reacts to a
    /// sent frame by queueing the next one at once) is remembered and
    /// served when the current walk ends, never nested.
    func writeTransmitPoll(_ value: UInt8) {
        if value & TransmitPollBits.fswInt != 0 { raise(InterruptBits.swInt) }
        guard transmitterEnabled, cPlusTransmit, clockRunning else { return }
        pendingPoll |= value & (TransmitPollBits.hpq | TransmitPollBits.npq)
        guard !servicingTransmit else { return }
        servicingTransmit = true
        defer { servicingTransmit = false }
        // Each round visits at most 64 descriptors per ring; a few rounds
        // cover polls made during the walk without letting a host loop us.
        for _ in 0..<4 where pendingPoll != 0 {
            let poll = pendingPoll
            pendingPoll = 0
            if poll & TransmitPollBits.hpq != 0 { serviceCPlusRing(high: true) }
            if poll & TransmitPollBits.npq != 0 { serviceCPlusRing(high: false) }
        }
    }

    // MARK: Transmit

    /// Sends every frame the driver has handed over on one ring. Each
    /// descriptor is visited at most once per poll.
    func serviceCPlusRing(high: Bool) {
        let base = high ? highTransmitRing : normalTransmitRing
        var sent = false
        for _ in 0..<RTL8139.maxDescriptors {
            let index = high ? cPlusHighTxIndex : cPlusTxIndex
            let address = base &+ UInt64(index * 16)
            let d: Descriptor
            do {
                d = try readDescriptor(at: address)
            } catch {
                reportBusError()
                updateInterrupt()
                return
            }
            guard d.command & DescriptorBits.own != 0 else {
                if sent { raise(InterruptBits.tdu) }
                return
            }
            if d.command & DescriptorBits.fs != 0 {
                txAssembly.setCount(0)
                txAssemblyOverflow = false
                txGatherFailed = false
            }
            gather(d)
            var done = d.command & ~(DescriptorBits.own | DescriptorBits.txUnderrun | DescriptorBits.txErrorSummary)
            if d.command & DescriptorBits.ls != 0, txAssemblyOverflow || txGatherFailed {
                done |= DescriptorBits.txErrorSummary
            }
            if d.command & DescriptorBits.ls != 0, !linkUp {
                done |= DescriptorBits.txErrorSummary | DescriptorBits.txLinkFailure
            }
            do {
                try writeDescriptorStatus(at: address, command: done, vlan: d.vlan)
            } catch {
                reportBusError()
                updateInterrupt()
                return
            }
            let next = d.command & DescriptorBits.eor != 0 ? 0 : (index + 1) % RTL8139.maxDescriptors
            if high { cPlusHighTxIndex = next } else { cPlusTxIndex = next }
            if d.command & DescriptorBits.ls != 0 {
                finishCPlusFrame(d)
                sent = true
            }
        }
    }

    /// Appends one descriptor's buffer to the frame being assembled. Bytes
    /// past 64 KiB are not gathered and the frame is dropped at LS.
    private func gather(_ d: Descriptor) {
        let size = Int(d.command & DescriptorBits.txSizeMask)
        let room = txAssembly.capacity - txAssembly.count
        guard size <= room else {
            txAssemblyOverflow = true
            return
        }
        guard size > 0 else { return }
        let target = UnsafeMutableRawBufferPointer(rebasing: txAssembly.storage[txAssembly.count..<(txAssembly.count + size)])
        do {
            try dma.read(at: d.buffer, into: target)
            txAssembly.setCount(txAssembly.count + size)
        } catch {
            reportBusError()
            txGatherFailed = true
        }
    }

    private func finishCPlusFrame(_ last: Descriptor) {
        defer {
            txAssembly.setCount(0)
            txAssemblyOverflow = false
            txGatherFailed = false
        }
        guard !txAssemblyOverflow, !txGatherFailed, txAssembly.count >= 14 else {
            tally.txErrors &+= 1
            tally.txAborted &+= 1
            raise(InterruptBits.ter)
            return
        }
        let tag: UInt16? = last.vlan & DescriptorBits.tagc != 0
            ? UInt16(truncatingIfNeeded: last.vlan).byteSwapped : nil
        if transmitWithOffloads(command: last.command, vlanTag: tag), linkUp {
            tally.txOK &+= 1
            raise(InterruptBits.tok)
        } else {
            tally.txErrors &+= 1
            raise(InterruptBits.ter)
        }
    }

    // MARK: Receive

    /// Stores a frame in the next descriptors of the receive ring. The
    /// frame (with FCS) is scattered over as many descriptors as it needs;
    /// the chip checks first that they are all its own, so a frame is
    /// stored whole or not at all. The LS descriptor's size field holds the
    /// whole frame's length.
    func receiveCPlus(_ frame: UnsafeRawBufferPointer, status: UInt16) -> ReceiveOutcome {
        guard rdsar != 0 else { return .noRoom }
        var vlanWord: UInt32 = 0
        stageForCPlus(frame, vlanWord: &vlanWord)
        let total = rxStage.count
        // Find enough owned descriptors.
        var index = cPlusRxIndex
        var covered = 0
        var count = 0
        while covered < total {
            // Every descriptor of the ring is the chip's and the frame still
            // does not fit: it never will.
            guard count < RTL8139.maxDescriptors, count == 0 || index != cPlusRxIndex else {
                return discardUnstorable()
            }
            let d: Descriptor
            do { d = try readDescriptor(at: rdsar &+ UInt64(index * 16)) } catch {
                reportBusError()
                updateInterrupt()
                return .accepted
            }
            guard d.command & DescriptorBits.own != 0 else { return missFrame() }
            covered += Int(d.command & DescriptorBits.rxSizeMask)
            count += 1
            index = d.command & DescriptorBits.eor != 0 ? 0 : (index + 1) % RTL8139.maxDescriptors
        }
        // Store the pieces.
        var classification: UInt32 = 0
        if status & ReceiveStatusBits.bar != 0 { classification |= DescriptorBits.rxBroadcast }
        if status & ReceiveStatusBits.pam != 0 { classification |= DescriptorBits.rxPhysical }
        if status & ReceiveStatusBits.mar != 0 { classification |= DescriptorBits.rxMulticast }
        if cpcr & CPlusCommandBits.rxChecksum != 0 {
            classification |= receiveChecksumStatus(rxStage.bytes)
        }
        var offset = 0
        index = cPlusRxIndex
        for piece in 0..<count {
            let address = rdsar &+ UInt64(index * 16)
            do {
                let d = try readDescriptor(at: address)
                let capacity = Int(d.command & DescriptorBits.rxSizeMask)
                let n = min(capacity, total - offset)
                if n > 0 {
                    try dma.write(at: d.buffer, from: UnsafeRawBufferPointer(rebasing: rxStage.bytes[offset..<(offset + n)]))
                }
                offset += n
                let last = piece == count - 1
                var word = (d.command & DescriptorBits.eor) | classification
                if piece == 0 { word |= DescriptorBits.fs }
                if last {
                    word |= DescriptorBits.ls | UInt32(total) & DescriptorBits.rxSizeMask
                } else {
                    word |= UInt32(n) & DescriptorBits.rxSizeMask
                }
                try writeDescriptorStatus(at: address, command: word, vlan: vlanWord)
                index = d.command & DescriptorBits.eor != 0 ? 0 : (index + 1) % RTL8139.maxDescriptors
            } catch {
                reportBusError()
                updateInterrupt()
                cPlusRxIndex = index
                return .accepted
            }
        }
        cPlusRxIndex = index
        countAccepted(status)
        raise(InterruptBits.rok)
        return .accepted
    }

    /// Stages a frame for the C+ ring: with CPCR.RxVLAN an 802.1Q tag is
    /// removed and reported in dword1 (TAVA and the TCI, byte-swapped).
    private func stageForCPlus(_ frame: UnsafeRawBufferPointer, vlanWord: inout UInt32) {
        let tagged = frame.count >= 18 && frame[12] == 0x81 && frame[13] == 0x00
        guard cpcr & CPlusCommandBits.rxVLAN != 0, tagged else {
            stage(frame)
            return
        }
        rxStage.assign(UnsafeRawBufferPointer(rebasing: frame[0..<12]))
        rxStage.append(UnsafeRawBufferPointer(rebasing: frame[16...]))
        rxStage.pad(to: RTL8139.minimumFrame)
        appendFCS()
        vlanWord = DescriptorBits.tava | UInt32(frame[14]) | UInt32(frame[15]) << 8
    }

    // MARK: Tally counters

    /// DTCCR: writing the low dword with Cmd (bit 3) set dumps the 64-byte
    /// tally block to the 64-byte-aligned address; the chip clears Cmd when done.
    func writeTallyCommand(_ i: Int, _ value: UInt32) {
        tsd[i & 1] = value
        guard i == 0, value & 0x8 != 0 else { return }
        let address = UInt64(value & ~0x3F) | UInt64(tsd[1]) << 32
        var block = tally.dumpBlock()
        do {
            try withUnsafeBytes(of: &block) { (p) throws(DMAError) in try dma.write(at: address, from: p) }
        } catch {
            reportBusError()
            updateInterrupt()
        }
        tsd[0] &= ~0x8
    }
}
