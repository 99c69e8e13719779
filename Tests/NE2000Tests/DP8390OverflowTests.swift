import NICCore
import XCTest

@testable import NE2000

final class DP8390OverflowTests: XCTestCase {
    /// Fills a 10-page ring with 1000-byte frames (4 pages each).
    private func fill(_ card: Card) {
        card.open(pstart: 0x46, pstop: 0x50)
        XCTAssertEqual(card.offer(makeFrame(length: 1000, seed: 1)), .delivered)
        XCTAssertEqual(card.offer(makeFrame(length: 1000, seed: 2)), .delivered)
    }

    /// A frame that would run into BNRY is not stored: ISR.OVW is set and
    /// CNTR2 counts it; with a wire that holds frames it waits, and the
    /// wire offering it again does not count it again.
    func testFullRingSetsOverwriteAndHoldsFrame() {
        let card = Card(policy: .hold(capacity: 4))
        fill(card)
        XCTAssertEqual(card.offer(makeFrame(length: 1000, seed: 3)), .queued)
        XCTAssertEqual(card.offer(makeFrame(length: 1000, seed: 4)), .queued)
        XCTAssertEqual(card.nic.port.pump(), 0)
        XCTAssertEqual(card.nic.port.pump(), 0)
        XCTAssertEqual(card.inb(Port.isr) & 0x10, 0x10)
        XCTAssertEqual(card.inb(Port.cntr2), 1)
        XCTAssertEqual(card.nic.port.pendingFrames, 2)
    }

    /// With a wire that drops, the refused frame is a missed packet: CNTR2
    /// and RSR.MPA count it.
    func testFullRingCountsMissedPacketWhenWireDrops() {
        let card = Card(policy: .drop)
        fill(card)
        XCTAssertEqual(card.offer(makeFrame(length: 1000, seed: 3)), .dropped)
        XCTAssertEqual(card.inb(Port.isr) & 0x10, 0x10)
        XCTAssertEqual(card.inb(Port.rsr) & 0x10, 0x10)
        XCTAssertEqual(card.inb(Port.cntr2), 1)
        XCTAssertEqual(card.nic.port.counters.droppedNoRoom, 1)
    }

    /// Recovery as the datasheet and Linux do it: stop, clear RBCR, restart
    /// in loopback, drain the ring, clear OVW, leave loopback. The held
    /// frame then arrives, and every frame is read in order.
    func testOverflowRecoveryDrainsRingAndResumes() {
        let card = Card(policy: .hold(capacity: 4))
        fill(card)
        card.offer(makeFrame(length: 1000, seed: 3))
        card.outb(Port.cr, 0x21)
        card.outb(Port.rbcr0, 0)
        card.outb(Port.rbcr1, 0)
        card.outb(Port.tcr, 0x02)
        card.outb(Port.cr, 0x22)
        XCTAssertEqual(card.takeFrame(pstart: 0x46, pstop: 0x50)?.frame, makeFrame(length: 1000, seed: 1))
        XCTAssertEqual(card.takeFrame(pstart: 0x46, pstop: 0x50)?.frame, makeFrame(length: 1000, seed: 2))
        XCTAssertNil(card.takeFrame(pstart: 0x46, pstop: 0x50))
        card.outb(Port.isr, 0x10)
        card.outb(Port.tcr, 0x00)
        XCTAssertEqual(card.nic.port.pump(), 1)
        XCTAssertEqual(card.takeFrame(pstart: 0x46, pstop: 0x50)?.frame, makeFrame(length: 1000, seed: 3))
        XCTAssertEqual(card.inb(Port.isr) & 0x10, 0)
    }

    /// DP8390D "ISR": RST is also set by a ring overflow and clears once
    /// the host removes a packet (moves BNRY).
    func testOverflowSetsResetStatusUntilPacketRemoved() {
        let card = Card(policy: .drop)
        fill(card)
        XCTAssertEqual(card.inb(Port.isr) & 0x80, 0)
        card.offer(makeFrame(length: 1000, seed: 3))
        XCTAssertEqual(card.inb(Port.isr) & 0x90, 0x90)
        XCTAssertNotNil(card.takeFrame(pstart: 0x46, pstop: 0x50))
        XCTAssertEqual(card.inb(Port.isr) & 0x80, 0)
        XCTAssertEqual(card.inb(Port.isr) & 0x10, 0x10, "OVW stays until acknowledged")
    }
}
