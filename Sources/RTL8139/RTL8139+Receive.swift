import NICCore

/// Receive: the address filter (RCR), then either the classic ring at
/// RBSTART or, with CPCR.RxEnable, the C+ descriptor ring.
///
/// Frames from the backend carry no FCS and may be shorter than the
/// Ethernet minimum (a host stack pads in its NIC, not in the frame it
/// hands over). The receiver pads them to 60 bytes, as the sending MAC
/// would have on a wire, and appends the FCS it computes, so the guest
/// sees exactly what a real 8139 stores.
extension RTL8139 {
    /// Frames longer than 4 KiB (FCS included) carry LONG status and are
    /// stored only when RCR.AER accepts error packets.
    static let longFrameLimit = 4096
    static let minimumFrame = 60

    // MARK: FrameReceiver

    public func receive(frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        guard clockRunning, receiverEnabled else { return .noRoom }
        guard frame.count >= 14, frame.count + 4 <= rxStage.capacity else { return .filtered }
        guard var status = classify(frame) else { return .filtered }
        let length = max(frame.count, RTL8139.minimumFrame) + 4
        if length > RTL8139.longFrameLimit {
            guard rcr & ReceiveConfigBits.aer != 0, !cPlusReceive else {
                tally.rxErrors &+= 1
                return .filtered
            }
            status |= ReceiveStatusBits.long
        } else {
            status |= ReceiveStatusBits.rok
        }
        if cPlusReceive {
            return receiveCPlus(frame, status: status)
        }
        stage(frame)
        return receiveClassic(status: status)
    }

    public func linkStateDidChange(up: Bool) {
        setLink(up: up)
    }

    // MARK: Address filter

    /// The classification bits (BAR, PAM, MAR) for an accepted frame, or
    /// nil when RCR rejects it. AAP accepts everything; AB broadcasts; AM
    /// multicasts whose hash bit is set in MAR; APM frames to IDR.
    func classify(_ frame: UnsafeRawBufferPointer) -> UInt16? {
        guard let start = frame.baseAddress, frame.count >= 6 else { return nil }
        let destination = MACAddress(loadingFrom: start)
        let promiscuous = rcr & ReceiveConfigBits.aap != 0
        if destination.isBroadcast {
            guard promiscuous || rcr & ReceiveConfigBits.ab != 0 else { return nil }
            return ReceiveStatusBits.bar
        }
        if destination.isMulticast {
            let hashed = rcr & ReceiveConfigBits.am != 0 && MulticastHash.matches(destination, mar: mar)
            guard promiscuous || hashed else { return nil }
            return ReceiveStatusBits.mar
        }
        if destination == stationAddress {
            guard promiscuous || rcr & ReceiveConfigBits.apm != 0 else { return nil }
            return ReceiveStatusBits.pam
        }
        return promiscuous ? 0 : nil
    }

    func countAccepted(_ status: UInt16) {
        tally.rxOK &+= 1
        if status & ReceiveStatusBits.pam != 0 { tally.rxPhysical &+= 1 }
        if status & ReceiveStatusBits.bar != 0 { tally.rxBroadcast &+= 1 }
        if status & ReceiveStatusBits.mar != 0 { tally.rxMulticast &+= 1 }
    }

    /// Copies `frame` into the staging buffer, pads it to 60 bytes and
    /// appends the FCS (least significant byte first).
    func stage(_ frame: UnsafeRawBufferPointer) {
        rxStage.assign(frame)
        rxStage.pad(to: RTL8139.minimumFrame)
        appendFCS()
    }

    func appendFCS() {
        let fcs = EthernetFCS.compute(rxStage.bytes)
        withUnsafeBytes(of: fcs.littleEndian) { _ = rxStage.append($0) }
    }

    // MARK: Classic ring

    /// RBLEN: 8K, 16K, 32K or 64K.
    var receiveRingSize: UInt32 { 8192 << ((rcr & ReceiveConfigBits.rblenMask) >> ReceiveConfigBits.rblenShift) }

    /// BUFE: nothing between CAPR+16 and CBR.
    var receiveRingEmpty: Bool {
        let size = receiveRingSize
        return readPointer % size == writePointer % size
    }

    /// Whether a frame refused now is lost. A port that holds frames for a
    /// retry plays the part of the chip's receive FIFO: the frame waits and
    /// is not missed (the port counts it if its own queue overflows). A
    /// port that drops, or a looped-back frame, loses it.
    var refusedFrameIsLost: Bool {
        if inLoopback { return true }
        if case .hold(let capacity) = port.policy, capacity > 0 { return false }
        return true
    }

    /// A frame that can never be stored (larger than the whole ring) is
    /// discarded at once, so it cannot block the frames queued behind it:
    /// RXOVW, MPC, and the port forgets it.
    func discardUnstorable() -> ReceiveOutcome {
        missedPackets = (missedPackets &+ 1) & 0xFF_FFFF
        tally.missed &+= 1
        tally.rxErrors &+= 1
        raise(InterruptBits.rxovw)
        return .filtered
    }

    /// Receive resources are exhausted: RXOVW (RDU in C+ mode) is raised.
    /// If the frame is lost it has overflowed the receive FIFO: FOVW, and
    /// MPC counts it (the datasheet's "packets discarded due to Rx FIFO
    /// overflow").
    func missFrame() -> ReceiveOutcome {
        var bits = InterruptBits.rxovw
        if refusedFrameIsLost {
            missedPackets = (missedPackets &+ 1) & 0xFF_FFFF
            tally.missed &+= 1
            bits |= InterruptBits.fovw
        }
        raise(bits)
        return .noRoom
    }

    /// Stores the staged frame behind a 4-byte header (status, length with
    /// FCS) at CBR, then moves CBR to the next dword boundary. A frame that
    /// does not fit before CAPR raises RXOVW (see `missFrame`).
    func receiveClassic(status: UInt16) -> ReceiveOutcome {
        let size = receiveRingSize
        let length = UInt32(rxStage.count)
        let need = (4 + length + 3) & ~3
        let write = writePointer % size
        guard need < size else { return discardUnstorable() }
        var free = (readPointer % size &+ size &- write) % size
        if free == 0 { free = size }
        guard need < free else { return missFrame() }
        let header = UInt32(status) | length << 16
        do {
            var offset = write
            try withUnsafeBytes(of: header.littleEndian) { (h) throws(DMAError) in
                offset = try ringWrite(h, at: offset, size: size)
            }
            _ = try ringWrite(rxStage.bytes, at: offset, size: size)
        } catch {
            reportBusError()
            updateInterrupt()
            return .accepted
        }
        writePointer = (write + need) % size
        if status & ReceiveStatusBits.rok != 0 {
            countAccepted(status)
            raise(InterruptBits.rok)
        } else {
            tally.rxErrors &+= 1
            raise(InterruptBits.rer)
        }
        return .accepted
    }

    /// Writes `bytes` into the ring at `offset`. With RCR.WRAP set (and a
    /// ring under 64K) the data runs on past the end into the slack the
    /// driver allocated; otherwise it wraps to the start of the ring.
    /// Returns the offset after the data, unreduced in the WRAP case.
    func ringWrite(_ bytes: UnsafeRawBufferPointer, at offset: UInt32, size: UInt32) throws(DMAError) -> UInt32 {
        let base = UInt64(rbstart)
        let count = UInt32(bytes.count)
        if rcr & ReceiveConfigBits.wrap != 0, size < 65536 {
            try dma.write(at: base + UInt64(offset), from: bytes)
            return offset + count
        }
        let first = min(count, size - offset % size)
        try dma.write(at: base + UInt64(offset % size), from: UnsafeRawBufferPointer(rebasing: bytes[0..<Int(first)]))
        if first < count {
            try dma.write(at: base, from: UnsafeRawBufferPointer(rebasing: bytes[Int(first)...]))
        }
        return (offset + count) % size
    }
}

extension RTL8139: StationFilterSource {
    /// IDR0-5 and RCR.AAP (Accept All Packets).
    public var stationFilter: StationFilter {
        StationFilter(address: stationAddress, promiscuous: rcr & ReceiveConfigBits.aap != 0)
    }
}
