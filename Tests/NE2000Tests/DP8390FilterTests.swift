import NICCore
import XCTest

@testable import NE2000

final class DP8390FilterTests: XCTestCase {
    private let other = MACAddress(0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC)
    private let group = MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0x01)

    /// Unicast frames pass when the destination equals PAR0-5. The filter
    /// is PAR, not the PROM: reprogramming PAR moves it.
    func testUnicastFiltersOnPhysicalAddressRegisters() {
        let card = Card()
        card.open(rcr: 0x00)
        XCTAssertEqual(card.offer(makeFrame(to: testMAC)), .delivered)
        XCTAssertEqual(card.offer(makeFrame(to: other)), .filtered)
        card.page(1)
        for i in 0..<6 { card.outb(UInt64(1 + i), other[i]) }
        card.page(0)
        XCTAssertEqual(card.offer(makeFrame(to: other)), .delivered)
        XCTAssertEqual(card.offer(makeFrame(to: testMAC)), .filtered, "the PROM address no longer matches")
    }

    /// RCR.AB: broadcast accepted only when set.
    func testBroadcastNeedsAcceptBroadcast() {
        let card = Card()
        card.open(rcr: 0x00)
        XCTAssertEqual(card.offer(makeFrame(to: .broadcast)), .filtered)
        card.outb(Port.rcr, 0x04)
        XCTAssertEqual(card.offer(makeFrame(to: .broadcast)), .delivered)
    }

    /// RCR.AM with MAR: a multicast passes when its hash bin is set.
    func testMulticastNeedsAcceptMulticastAndHashBit() {
        let card = Card()
        card.open(rcr: 0x08)
        XCTAssertEqual(card.offer(makeFrame(to: group)), .filtered, "bin clear")
        card.setMulticastFilter(1 << UInt64(MulticastHash.index(of: group)))
        XCTAssertEqual(card.offer(makeFrame(to: group)), .delivered)
        card.outb(Port.rcr, 0x00)
        XCTAssertEqual(card.offer(makeFrame(to: group)), .filtered, "AM clear")
    }

    /// RCR.PRO: every unicast destination passes; broadcast still needs AB.
    func testPromiscuousAcceptsEveryUnicast() {
        let card = Card()
        card.open(rcr: 0x10)
        XCTAssertEqual(card.offer(makeFrame(to: other)), .delivered)
        XCTAssertEqual(card.offer(makeFrame(to: .broadcast)), .filtered)
    }

    /// RCR.MON: matching frames are counted in CNTR2, not stored; RSR.DIS set.
    func testMonitorModeCountsWithoutStoring() {
        let card = Card()
        card.open(rcr: 0x20)
        XCTAssertEqual(card.offer(makeFrame()), .delivered)
        XCTAssertEqual(card.curr, 0x46, "nothing stored")
        XCTAssertEqual(card.inb(Port.rsr) & 0x40, 0x40)
        XCTAssertEqual(card.inb(Port.cntr2), 1)
        XCTAssertEqual(card.offer(makeFrame(to: other)), .filtered, "non-matching frames are not counted")
        XCTAssertEqual(card.inb(Port.cntr2), 0)
    }

    /// DP8390D "Tally Counters": when a counter's MSB sets (128 counts),
    /// ISR.CNT is raised; reading the counter clears it.
    func testMissedPacketCounterRaisesCounterInterrupt() {
        let card = Card()
        card.open(rcr: 0x20)
        for _ in 0..<127 { card.offer(makeFrame()) }
        XCTAssertEqual(card.inb(Port.isr) & 0x20, 0)
        card.offer(makeFrame())
        XCTAssertEqual(card.inb(Port.isr) & 0x20, 0x20)
        XCTAssertEqual(card.inb(Port.cntr2), 128)
        XCTAssertEqual(card.inb(Port.cntr2), 0)
    }
}
