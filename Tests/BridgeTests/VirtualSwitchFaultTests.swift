import Bridge
import NICCore
import XCTest

final class VirtualSwitchFaultTests: XCTestCase {
    /// Station 0 sends `count` tagged frames to station 1, whose port has `faults`.
    private func run(_ faults: FaultProfile, count: Int = 1000, seed: UInt64 = 42,
                     settle: UInt64 = VirtualClock.second) -> (TestStation, SwitchPort, VirtualClock) {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, seed: seed)
        let a = TestStation(1), b = TestStation(2)
        sw.connect(device: a.port)
        let pb = sw.connect(device: b.port)
        b.send(to: .broadcast)  // learn b, so a's frames are forwarded, not flooded
        pb.faults = faults
        for i in 0..<count { a.send(to: b.mac, tag: UInt16(i)) }
        clock.advance(by: settle)
        return (b, pb, clock)
    }

    // Loss: about lossRate of the frames vanish, and each is counted.
    func testLossDropsAboutTheConfiguredShare() {
        let (b, p, _) = run(FaultProfile(lossRate: 0.2))
        XCTAssertEqual(b.received.count + p.counters.lost, 1000)
        XCTAssertGreaterThan(p.counters.lost, 150)
        XCTAssertLessThan(p.counters.lost, 250)
    }

    // Same seed, same traffic: the same frames are lost.
    func testLossIsReproducibleForASeed() {
        let first = run(FaultProfile(lossRate: 0.3), seed: 7).0.tags
        let second = run(FaultProfile(lossRate: 0.3), seed: 7).0.tags
        let other = run(FaultProfile(lossRate: 0.3), seed: 8).0.tags
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first, other)
    }

    // Duplication: a duplicated frame arrives twice, back to back.
    func testDuplicationDeliversSomeFramesTwice() {
        let (b, p, _) = run(FaultProfile(duplicationRate: 0.1))
        XCTAssertEqual(b.received.count, 1000 + p.counters.duplicated)
        XCTAssertGreaterThan(p.counters.duplicated, 50)
        let tags = b.tags
        let doubled = zip(tags, tags.dropFirst()).filter { $0 == $1 }.count
        XCTAssertEqual(doubled, p.counters.duplicated)
    }

    // Corruption: a flipped bit makes the FCS wrong (CRC-32 catches every
    // single-bit error), so the receiving port drops and counts the frame.
    func testCorruptedFramesAreDroppedOnBadFCSAndCounted() {
        let (b, p, _) = run(FaultProfile(corruptionRate: 0.25))
        XCTAssertGreaterThan(p.counters.corrupted, 150)
        XCTAssertEqual(p.counters.fcsErrors, p.counters.corrupted)
        XCTAssertEqual(b.received.count, 1000 - p.counters.fcsErrors)
        // What does arrive is intact, FCS stripped.
        for (i, f) in b.received.enumerated() where i < 20 {
            let tag = UInt16(f[14]) << 8 | UInt16(f[15])
            XCTAssertEqual(f, TestStation.frame(from: MACAddress(0x02, 0, 0, 0, 0, 1), to: b.mac, tag: tag))
        }
    }

    // Delay: nothing arrives before the delay has passed; everything arrives at it.
    func testDelayHoldsFramesForTheConfiguredTime() {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, seed: 1)
        let a = TestStation(1), b = TestStation(2)
        sw.connect(device: a.port)
        sw.connect(device: b.port, faults: FaultProfile(delay: 5 * VirtualClock.millisecond))
        a.send(to: b.mac, tag: 1)
        clock.advance(by: 4 * VirtualClock.millisecond)
        a.send(to: b.mac, tag: 2)
        clock.advance(by: 999 * VirtualClock.microsecond)
        XCTAssertEqual(b.tags, [])
        clock.advance(by: VirtualClock.microsecond)
        XCTAssertEqual(b.tags, [1])
        clock.advance(by: 4 * VirtualClock.millisecond)
        XCTAssertEqual(b.tags, [1, 2])
    }

    // Jitter varies the latency but a wire is a queue: order is kept.
    func testJitterKeepsOrder() {
        let (b, _, _) = run(FaultProfile(delay: VirtualClock.millisecond, jitter: 3 * VirtualClock.millisecond), count: 200)
        XCTAssertEqual(b.tags, (0..<200).map { UInt16($0) })
    }

    // A delay line holds a bounded number of frames; the rest are tail-dropped and counted.
    func testDelayLineOverflowIsCounted() {
        let (b, p, _) = run(FaultProfile(delay: VirtualClock.millisecond), count: 300)
        XCTAssertEqual(b.received.count, 256)
        XCTAssertEqual(p.counters.delayOverflow, 44)
    }

    // Reordering: frames come out of a window in a different order, none lost, none added.
    func testReorderWindowPermutesFrames() {
        let (b, p, _) = run(FaultProfile(reorderWindow: 8), count: 64)
        XCTAssertEqual(b.tags.sorted(), (0..<64).map { UInt16($0) })
        XCTAssertNotEqual(b.tags, (0..<64).map { UInt16($0) })
        XCTAssertEqual(p.counters.reorderWindows, 8)
        // No frame moves outside its own window.
        for (i, t) in b.tags.enumerated() { XCTAssertEqual(Int(t) / 8, i / 8) }
    }

    // Same seed, same permutation.
    func testReorderingIsReproducibleForASeed() {
        XCTAssertEqual(run(FaultProfile(reorderWindow: 5), count: 50, seed: 3).0.tags,
                       run(FaultProfile(reorderWindow: 5), count: 50, seed: 3).0.tags)
    }

    // A window that never fills is released after its hold time, so no frame waits forever.
    func testPartialReorderWindowIsReleasedAfterHold() {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, seed: 1)
        let a = TestStation(1), b = TestStation(2)
        sw.connect(device: a.port)
        sw.connect(device: b.port, faults: FaultProfile(reorderWindow: 16, reorderHold: 2 * VirtualClock.millisecond))
        for i in 0..<3 { a.send(to: b.mac, tag: UInt16(i)) }
        XCTAssertEqual(b.received.count, 0)
        clock.advance(by: 2 * VirtualClock.millisecond)
        XCTAssertEqual(b.tags.sorted(), [0, 1, 2])
    }

    // A window that starts while an earlier window's timer is pending still
    // waits its own full hold time, no more and no less.
    func testLaterWindowWaitsItsOwnHoldTime() {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, seed: 1)
        let a = TestStation(1), b = TestStation(2)
        sw.connect(device: a.port)
        sw.connect(device: b.port, faults: FaultProfile(reorderWindow: 4, reorderHold: 2 * VirtualClock.millisecond))
        for i in 0..<4 { a.send(to: b.mac, tag: UInt16(i)) }
        XCTAssertEqual(b.received.count, 4, "a full window goes at once")
        clock.advance(by: 1_500 * VirtualClock.microsecond)
        a.send(to: b.mac, tag: 9)
        clock.advance(by: 1_999 * VirtualClock.microsecond)
        XCTAssertEqual(b.received.count, 4)
        clock.advance(by: VirtualClock.microsecond)
        XCTAssertEqual(b.tags.last, 9)
    }

    // Every fault at once, twice with one seed: identical arrivals and counters.
    func testCombinedFaultsAreReproducible() {
        let faults = FaultProfile(lossRate: 0.1, duplicationRate: 0.1, corruptionRate: 0.1,
                                  delay: VirtualClock.microsecond, jitter: 5 * VirtualClock.microsecond, reorderWindow: 4)
        let (b1, p1, _) = run(faults, count: 200, seed: 99)
        let (b2, p2, _) = run(faults, count: 200, seed: 99)
        XCTAssertEqual(b1.received, b2.received)
        XCTAssertEqual(p1.counters, p2.counters)
        XCTAssertGreaterThan(p1.counters.lost, 0)
        XCTAssertGreaterThan(p1.counters.duplicated, 0)
        XCTAssertGreaterThan(p1.counters.fcsErrors, 0)
    }

    // Faults on one port don't change the random draws of another.
    func testPortsDrawIndependentRandomStreams() {
        func lossTags(alsoFaultPortA: Bool) -> [UInt16] {
            let clock = VirtualClock()
            let sw = VirtualSwitch(clock: clock, seed: 5)
            let a = TestStation(1), b = TestStation(2)
            let pa = sw.connect(device: a.port)
            sw.connect(device: b.port, faults: FaultProfile(lossRate: 0.5))
            if alsoFaultPortA { pa.faults = FaultProfile(lossRate: 0.5) }
            b.send(to: .broadcast)
            for i in 0..<100 { a.send(to: b.mac, tag: UInt16(i)) }
            return b.tags
        }
        XCTAssertEqual(lossTags(alsoFaultPortA: false), lossTags(alsoFaultPortA: true))
    }

    // Link down: the NIC sees carrier loss, frames both ways are dropped and counted,
    // and the addresses learned on that port are forgotten. Link up restores traffic.
    func testLinkDownDropsBothWaysAndLinkUpRestores() {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, seed: 1)
        let a = TestStation(1), b = TestStation(2)
        sw.connect(device: a.port)
        let pb = sw.connect(device: b.port)
        b.send(to: .broadcast)
        pb.setLink(up: false)
        XCTAssertEqual(b.linkEvents, [false])
        XCTAssertNil(sw.port(for: b.mac))
        a.send(to: b.mac)
        b.send(to: a.mac)
        XCTAssertTrue(b.received.isEmpty)
        XCTAssertTrue(a.received.filter { $0[15] == 0 && $0[0] != 0xFF }.isEmpty)
        XCTAssertEqual(pb.counters.droppedLinkDown, 1)
        XCTAssertEqual(b.port.counters.droppedLinkDown, 1, "the NIC's own transmit is refused on a dead link")
        pb.setLink(up: true)
        a.send(to: b.mac, tag: 7)
        XCTAssertEqual(b.tags, [7])
        XCTAssertEqual(b.linkEvents, [false, true])
    }

    // Link down discards frames waiting in the delay line.
    func testLinkDownDiscardsDelayedFrames() {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, seed: 1)
        let a = TestStation(1), b = TestStation(2)
        sw.connect(device: a.port)
        let pb = sw.connect(device: b.port, faults: FaultProfile(delay: VirtualClock.millisecond))
        for _ in 0..<3 { a.send(to: b.mac) }
        pb.setLink(up: false)
        pb.setLink(up: true)
        clock.advance(by: 2 * VirtualClock.millisecond)
        XCTAssertTrue(b.received.isEmpty)
        XCTAssertEqual(pb.counters.droppedLinkDown, 3)
    }

    // A scheduled flap: down at 1 ms for 2 ms, on the virtual clock; the NIC sees both edges.
    func testFlapLinkTakesThePortDownAndUpOnSchedule() {
        let clock = VirtualClock()
        let sw = VirtualSwitch(clock: clock, seed: 1)
        let a = TestStation(1), b = TestStation(2)
        sw.connect(device: a.port)
        let pb = sw.connect(device: b.port)
        pb.flapLink(after: VirtualClock.millisecond, downFor: 2 * VirtualClock.millisecond)
        clock.advance(by: VirtualClock.millisecond)
        XCTAssertFalse(pb.isLinkUp)
        a.send(to: .broadcast, tag: 1)
        clock.advance(by: 2 * VirtualClock.millisecond)
        XCTAssertTrue(pb.isLinkUp)
        a.send(to: .broadcast, tag: 2)
        XCTAssertEqual(b.tags, [2])
        XCTAssertEqual(b.linkEvents, [false, true])
    }
}
