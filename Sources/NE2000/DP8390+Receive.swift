import NICCore

/// The receiver: address filtering and the receive buffer ring (DP8390D
/// section 7.0 "Packet Reception").
///
/// The ring is the pages from PSTART up to PSTOP. Each frame goes in at page
/// CURR behind a 4-byte header (receive status, next-packet page, byte
/// count including the header), wrapping from PSTOP to PSTART, and CURR
/// moves past it. The host frees pages by moving BNRY. A frame that would
/// run into BNRY is not stored: ISR.OVW is set and the frame is missed.
extension DP8390 {
    /// A frame offered by the wire.
    func receiveFromWire(_ frame: UnsafeRawBufferPointer) -> ReceiveOutcome {
        // A stopped NIC takes nothing, and in loopback the receiver hears
        // only its own transmitter: the wire keeps the frame (or drops it,
        // by its backpressure policy).
        guard isStarted, loopbackMode == 0 else { return .noRoom }
        let outcome = store(frame, fromWire: true)
        if outcome != .noRoom { refusedFrameWaiting = false }
        return outcome
    }

    /// Filters `input` and puts it in the ring.
    func store(_ input: UnsafeRawBufferPointer, fromWire: Bool) -> ReceiveOutcome {
        guard input.count <= DP8390.maximumFrame else {
            // Longer than any Ethernet frame: never stored, whatever the ring.
            oversizedFrames += 1
            return .filtered
        }
        var frame = input
        if frame.count < DP8390.minimumFrame {
            runtBuffer.assign(input)
            runtBuffer.pad(to: DP8390.minimumFrame)
            frame = runtBuffer.bytes
        }
        guard let base = frame.baseAddress else { return .filtered }

        let isGroup = base.load(as: UInt8.self) & 0x01 != 0
        guard passesAddressFilter(base, isGroup: isGroup) else { return .filtered }

        if receiveConfig & ReceiveConfig.monitor != 0 {
            // Monitor mode: checked and counted, never buffered.
            receiveStatus = ReceiveStatus.receiverDisabled | (isGroup ? ReceiveStatus.multicast : 0)
            countMissedPacket()
            return .accepted
        }

        let start = Int(pageStart), stop = Int(pageStop)
        let current = Int(currentPage), bound = Int(boundary)
        guard start < stop, pagesInMemory(first: start, pages: stop - start),
              (start..<stop).contains(current), (start..<stop).contains(bound)
        else {
            // Not a ring: nowhere to put the frame.
            return missed(fromWire: fromWire)
        }
        let ringPages = stop - start
        let total = frame.count + 4
        let pages = (total + 255) >> 8
        guard pages < ringPages else {
            // Could never fit this ring: dropped rather than held forever.
            oversizedFrames += 1
            _ = missed(fromWire: false)
            return .filtered
        }
        // Pages free between CURR and BNRY. CURR never catches up with BNRY,
        // so CURR == BNRY always means an empty ring.
        let free = current < bound ? bound - current : ringPages - (current - bound)
        guard pages < free else {
            // DP8390D "ISR": an overflow sets OVW, and RST until the host
            // removes a packet (moves BNRY) or restarts the NIC.
            raise(Interrupt.overwrite | Interrupt.reset)
            return missed(fromWire: fromWire)
        }

        var next = current + pages
        if next >= stop { next -= ringPages }
        receiveStatus = ReceiveStatus.packetReceived | (isGroup ? ReceiveStatus.multicast : 0)
        let headerAddress = current << 8
        let h = headerAddress - DP8390.memoryStart
        ram[h] = receiveStatus
        ram[h + 1] = UInt8(truncatingIfNeeded: next)
        ram[h + 2] = UInt8(truncatingIfNeeded: total)
        ram[h + 3] = UInt8(truncatingIfNeeded: total >> 8)

        // The body, wrapping once at PSTOP at most.
        var address = headerAddress + 4
        var offset = 0
        let ringEnd = stop << 8
        for _ in 0..<3 where offset < frame.count {
            let n = min(ringEnd - address, frame.count - offset)
            copyIn(to: address, from: base + offset, count: n)
            offset += n
            address += n
            if address >= ringEnd { address = start << 8 }
        }
        currentLocalAddress = UInt16(truncatingIfNeeded: address)
        currentPage = UInt8(truncatingIfNeeded: next)
        raise(Interrupt.packetReceived)
        return .accepted
    }

    /// RCR against the destination address: PAR for unicast (PRO takes
    /// every unicast), AB for broadcast, AM with the MAR hash for multicast.
    private func passesAddressFilter(_ base: UnsafeRawPointer, isGroup: Bool) -> Bool {
        let destination = MACAddress(loadingFrom: base)
        if !isGroup {
            return receiveConfig & ReceiveConfig.promiscuous != 0 || destination.rawValue == physicalAddress
        }
        if destination.isBroadcast {
            return receiveConfig & ReceiveConfig.acceptBroadcast != 0
        }
        return receiveConfig & ReceiveConfig.acceptMulticast != 0
            && MulticastHash.matches(destination, mar: multicastFilter)
    }

    /// A frame with no room: CNTR2 counts it as missed, whether the wire
    /// then drops it or holds it by its backpressure policy. A held frame
    /// comes back at the head of the wire's queue until it fits; it is
    /// counted on its first refusal only.
    private func missed(fromWire: Bool) -> ReceiveOutcome {
        if fromWire && portHoldsFrames {
            if !refusedFrameWaiting { countMissedPacket() }
            refusedFrameWaiting = true
        } else {
            countMissedPacket()
        }
        return .noRoom
    }

    private var portHoldsFrames: Bool {
        if case .hold(let capacity) = port.policy { return capacity > 0 }
        return false
    }
}

extension DP8390: StationFilterSource {
    /// PAR0-5 and RCR.PRO (promiscuous physical).
    public var stationFilter: StationFilter {
        StationFilter(address: MACAddress(rawValue: physicalAddress), promiscuous: receiveConfig & ReceiveConfig.promiscuous != 0)
    }
}
