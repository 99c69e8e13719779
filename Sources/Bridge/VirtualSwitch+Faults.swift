import NICCore

/// The fault pipeline of a switch port, in the order a frame meets it:
/// link, loss, duplication, corruption (the FCS is computed before the bit
/// flips and checked by the receiving side), delay, reordering, delivery.
extension SwitchPort {
    /// A frame leaves the switch through this port.
    func egress(_ frame: UnsafeRawBufferPointer) {
        guard isLinkUp else {
            counters.droppedLinkDown += 1
            return
        }
        let f = faults
        // A device that answers from inside a delivery is served directly:
        // the staging buffer and held slots are in use.
        if f.isClean || isDelivering {
            deliver(frame)
            return
        }
        if f.lossRate > 0, random.nextUnit() < f.lossRate {
            counters.lost += 1
            return
        }
        var copies = 1
        if f.duplicationRate > 0, random.nextUnit() < f.duplicationRate {
            counters.duplicated += 1
            copies = 2
        }
        for _ in 0..<copies { shape(frame, faults: f) }
    }

    /// Copies the frame into the staging buffer (with an FCS and maybe a
    /// flipped bit when corruption is on) and sends it down the line.
    private func shape(_ frame: UnsafeRawBufferPointer, faults f: FaultProfile) {
        var hasFCS = false
        if f.corruptionRate > 0 {
            guard frame.count + 4 <= staging.capacity else {
                counters.delayOverflow += 1
                return
            }
            staging.assign(frame)
            appendFCS()
            hasFCS = true
            if random.nextUnit() < f.corruptionRate {
                let bit = Int(random.next() % UInt64(staging.count * 8))
                staging[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
                counters.corrupted += 1
            }
        } else {
            guard frame.count <= staging.capacity else {
                counters.delayOverflow += 1
                return
            }
            staging.assign(frame)
        }
        if f.delay > 0 || f.jitter > 0 {
            enqueueDelayed(staging.bytes, hasFCS: hasFCS, faults: f)
        } else {
            reorderOrDeliver(staging.bytes, hasFCS: hasFCS, faults: f)
        }
    }

    /// Appends the Ethernet FCS, least significant byte first as on the wire.
    private func appendFCS() {
        let fcs = EthernetFCS.compute(staging.bytes)
        withUnsafeBytes(of: fcs.littleEndian) { _ = staging.append($0) }
    }

    // MARK: Delay

    private func enqueueDelayed(_ frame: UnsafeRawBufferPointer, hasFCS: Bool, faults f: FaultProfile) {
        var wait = f.delay
        if f.jitter > 0 { wait &+= random.next() % (f.jitter &+ 1) }
        let (due, overflow) = owner.clock.now.addingReportingOverflow(wait)
        // A wire is a queue: a frame never overtakes the one ahead of it.
        let deadline = max(overflow ? .max : due, delayLine.backDeadline ?? 0)
        guard delayLine.push(frame, deadline: deadline, hasFCS: hasFCS) else {
            counters.delayOverflow += 1
            return
        }
        if delayLine.count == 1 {
            delayTimer = owner.clock.schedule(at: deadline, delayLineDue)
        }
    }

    /// Timer: releases every delayed frame that is due, then waits for the next.
    func releaseDueDelayedFrames() {
        delayTimer = nil
        let now = owner.clock.now
        var budget = delayLine.capacity
        while budget > 0, let due = delayLine.frontDeadline, due <= now {
            budget -= 1
            delayLine.withFrame(at: 0) { bytes, hasFCS in
                reorderOrDeliver(bytes, hasFCS: hasFCS, faults: faults)
            }
            delayLine.pop()
        }
        if let next = delayLine.frontDeadline {
            delayTimer = owner.clock.schedule(at: next, delayLineDue)
        }
    }

    // MARK: Reordering

    private func reorderOrDeliver(_ frame: UnsafeRawBufferPointer, hasFCS: Bool, faults f: FaultProfile) {
        guard f.reorderWindow > 1 else {
            checkAndDeliver(frame, hasFCS: hasFCS)
            return
        }
        guard reorderWindow.push(frame, deadline: 0, hasFCS: hasFCS) else {
            checkAndDeliver(frame, hasFCS: hasFCS)
            return
        }
        if reorderWindow.count >= f.reorderWindow {
            releaseReorderWindow()
        } else if reorderWindow.count == 1 {
            let (due, overflow) = owner.clock.now.addingReportingOverflow(f.reorderHold)
            reorderDeadline = overflow ? .max : due
            if reorderTimer == nil { reorderTimer = owner.clock.schedule(at: reorderDeadline ?? due, reorderWindowDue) }
        }
    }

    /// Timer: releases the window if its hold time is up, or waits for the
    /// deadline of the window that started after the timer was set.
    func reorderTimerFired() {
        reorderTimer = nil
        guard let deadline = reorderDeadline else { return }
        if deadline <= owner.clock.now {
            releaseReorderWindow()
        } else {
            reorderTimer = owner.clock.schedule(at: deadline, reorderWindowDue)
        }
    }

    /// Releases the reorder window in a seeded random order (Fisher-Yates).
    func releaseReorderWindow() {
        reorderDeadline = nil
        let n = reorderWindow.count
        guard n > 0 else { return }
        for i in 0..<n { reorderOrder[i] = i }
        var i = n - 1
        while i > 0 {
            let j = Int(random.next() % UInt64(i + 1))
            reorderOrder.swapAt(i, j)
            i -= 1
        }
        if n > 1 { counters.reorderWindows += 1 }
        for k in 0..<n {
            reorderWindow.withFrame(at: reorderOrder[k]) { bytes, hasFCS in
                checkAndDeliver(bytes, hasFCS: hasFCS)
            }
        }
        reorderWindow.removeAll()
    }

    // MARK: Receiving side

    /// The receiving MAC checks the FCS of a frame that carries one, drops
    /// it when wrong (counted as an FCS error) and strips it when right.
    private func checkAndDeliver(_ frame: UnsafeRawBufferPointer, hasFCS: Bool) {
        guard hasFCS else {
            deliver(frame)
            return
        }
        guard EthernetFCS.isValid(frame) else {
            counters.fcsErrors += 1
            owner.tap?.switchPort(index, droppedBadFCS: UnsafeRawBufferPointer(rebasing: frame[..<(frame.count - 4)]), at: owner.clock.now)
            return
        }
        deliver(UnsafeRawBufferPointer(rebasing: frame[..<(frame.count - 4)]))
    }

    /// Sends on whatever the delay line and reorder window hold, at once
    /// (used when the faults change).
    func releaseHeldFrames() {
        if let t = delayTimer {
            owner.clock.cancel(t)
            delayTimer = nil
        }
        var budget = delayLine.capacity
        while budget > 0, !delayLine.isEmpty {
            budget -= 1
            delayLine.withFrame(at: 0) { bytes, hasFCS in checkAndDeliver(bytes, hasFCS: hasFCS) }
            delayLine.pop()
        }
        releaseReorderWindow()
    }
}
