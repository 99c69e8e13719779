import NICCore
import XCTest

@testable import RTL8139

final class RTL8139TransmitTests: XCTestCase {
    typealias R = RTL8139Register

    func load(_ rig: Rig, _ frame: [UInt8], at address: UInt64) {
        try? rig.memory.write(at: address, bytes: frame)
    }

    /// Writing TSD with OWN clear sends the TSAD buffer; the chip then sets
    /// OWN and TOK and raises ISR.TOK.
    func testClassicTransmitSetsOWNAndTOK() {
        let rig = Rig()
        rig.w8(R.cr, CommandBits.te)
        let frame = makeFrame(to: .broadcast, length: 80)
        load(rig, frame, at: 0x4000)
        rig.w32(R.tsad0, 0x4000)
        rig.w32(R.tsd0, 80 | 8 << 16)
        XCTAssertEqual(rig.sent, [frame])
        let status = rig.r32(R.tsd0)
        XCTAssertEqual(status & (TransmitStatusBits.own | TransmitStatusBits.tok), TransmitStatusBits.own | TransmitStatusBits.tok)
        XCTAssertEqual(status & TransmitStatusBits.sizeMask, 80)
        XCTAssertEqual(status & TransmitStatusBits.earlyThresholdMask, 8 << 16)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.tok, InterruptBits.tok)
    }

    /// The four slots are used round robin: a slot written out of turn waits
    /// until the slots before it have been sent.
    func testSlotsAreServedRoundRobin() {
        let rig = Rig()
        rig.w8(R.cr, CommandBits.te)
        for i in 0..<4 {
            load(rig, makeFrame(length: 60, seed: UInt8(i)), at: 0x4000 + UInt64(i) * 0x800)
            rig.w32(R.tsad0 + 4 * i, 0x4000 + UInt32(i) * 0x800)
        }
        rig.w32(R.tsd0 + 4, 60)           // slot 1 first: not its turn
        XCTAssertTrue(rig.sent.isEmpty)
        rig.w32(R.tsd0, 60)               // slot 0, then the waiting slot 1
        XCTAssertEqual(rig.sent.map { $0[14] }, [makeFrame(length: 60, seed: 0)[14], makeFrame(length: 60, seed: 1)[14]])
        rig.w32(R.tsd0 + 8, 60)
        rig.w32(R.tsd0 + 12, 60)
        rig.w32(R.tsd0, 60)
        XCTAssertEqual(rig.sent.count, 5)
    }

    /// TSAD (0x60) summarises TOK and OWN of all four slots.
    func testTSADSummaryRegister() {
        let rig = Rig()
        XCTAssertEqual(rig.r16(R.tsadSummary), 0x000F, "all slots host-owned after reset")
        rig.w8(R.cr, CommandBits.te)
        load(rig, makeFrame(length: 60), at: 0x4000)
        rig.w32(R.tsad0, 0x4000)
        rig.w32(R.tsd0, 60)
        XCTAssertEqual(rig.r16(R.tsadSummary), 0x100F)
    }

    /// Nothing is sent while CR.TE is clear; enabling TE sends what is waiting.
    func testTransmitterWaitsForTE() {
        let rig = Rig()
        load(rig, makeFrame(length: 60), at: 0x4000)
        rig.w32(R.tsad0, 0x4000)
        rig.w32(R.tsd0, 60)
        XCTAssertTrue(rig.sent.isEmpty)
        rig.w8(R.cr, CommandBits.te)
        XCTAssertEqual(rig.sent.count, 1)
    }

    /// TCR loopback (LBK=11) returns transmitted frames to our own receiver,
    /// not the wire.
    func testLoopbackDeliversToOwnReceiver() throws {
        let rig = Rig()
        rig.startClassicReceiver()
        rig.w32(R.tcr, TransmitConfigBits.loopbackMask)
        let frame = makeFrame(length: 70)
        load(rig, frame, at: 0x4000)
        rig.w32(R.tsad0, 0x4000)
        rig.w32(R.tsd0, 70)
        XCTAssertTrue(rig.sent.isEmpty)
        XCTAssertEqual(Array(try rig.memory.readBytes(at: 0x1_0004, count: 70)), frame)
        XCTAssertEqual(rig.r16(R.isr) & (InterruptBits.rok | InterruptBits.tok), InterruptBits.rok | InterruptBits.tok)
    }

    /// Link down: the backend reports it, BMSR link status and MSR.LINKB
    /// follow, and ISR.PUN/LinkChg is raised.
    func testLinkChangeUpdatesBMSRAndMSR() {
        let rig = Rig()
        XCTAssertEqual(rig.r16(R.bmsr) & 0x0004, 0x0004)
        XCTAssertEqual(rig.r8(R.msr) & 0x04, 0)
        rig.nic.port.setLink(up: false)
        XCTAssertEqual(rig.r16(R.bmsr) & 0x0004, 0)
        XCTAssertEqual(rig.r8(R.msr) & 0x04, 0x04)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.punLinkChg, InterruptBits.punLinkChg)
        rig.w16(R.isr, 0xFFFF)
        rig.nic.port.setLink(up: true)
        XCTAssertEqual(rig.r16(R.bmsr) & 0x0004, 0x0004)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.punLinkChg, InterruptBits.punLinkChg)
    }

    /// RTL8139C(+) datasheet, MSR bit 6 RXFCE (read only): Rx flow control,
    /// from auto-negotiation. Both sides advertise PAUSE (ANAR and ANLPAR
    /// bit 10) and settle on full duplex, so after reset it reads 1; TXFCE
    /// (bit 7) waits for the driver; Aux_Status (bit 4) is 0, this board
    /// has no auxiliary power. MSR reads 40h.
    func testMSRAfterResetShowsNegotiatedRxFlowControl() {
        let rig = Rig()
        XCTAssertEqual(rig.r8(R.msr), 0x40)
    }

    /// MSR bit 7 TXFCE is read/write; the other bits are status and
    /// ignore writes.
    func testMSRTxFlowControlEnableIsWritable() {
        let rig = Rig()
        rig.w8(R.msr, 0x80)
        XCTAssertEqual(rig.r8(R.msr), 0xC0)
        rig.w8(R.msr, 0x7F)
        XCTAssertEqual(rig.r8(R.msr), 0x40)
    }

    /// RXFCE needs PAUSE from both sides of the negotiation and a link: an
    /// ANAR without PAUSE, or no link partner, clears it.
    func testMSRRxFlowControlNeedsPauseOnBothSides() {
        let rig = Rig()
        rig.w16(R.anar, 0x01E1)
        XCTAssertEqual(rig.r8(R.msr) & 0x40, 0)
        rig.w16(R.anar, 0x05E1)
        XCTAssertEqual(rig.r8(R.msr) & 0x40, 0x40)
        rig.nic.port.setLink(up: false)
        XCTAssertEqual(rig.r8(R.msr) & 0x40, 0)
    }

    /// MSR.SPEED_10 follows BMCR: set when auto-negotiation is off and the
    /// speed bit selects 10 Mbps.
    func testMSRSpeedFollowsBMCR() {
        let rig = Rig()
        XCTAssertEqual(rig.r8(R.msr) & 0x08, 0)
        rig.w16(R.bmcr, 0x0100)         // AN off, 10 Mbps, full duplex
        XCTAssertEqual(rig.r8(R.msr) & 0x08, 0x08)
        rig.w16(R.bmcr, 0x2100)         // AN off, 100 Mbps
        XCTAssertEqual(rig.r8(R.msr) & 0x08, 0)
    }

    /// Without a link a classic transmission completes with CRS (carrier
    /// sense lost) and nothing reaches the wire.
    func testClassicTransmitWithoutLinkSetsCRS() {
        let rig = Rig()
        rig.nic.port.setLink(up: false)
        rig.w8(R.cr, CommandBits.te)
        try? rig.memory.write(at: 0x4000, bytes: makeFrame(length: 60))
        rig.w32(R.tsad0, 0x4000)
        rig.w32(R.tsd0, 60)
        XCTAssertTrue(rig.sent.isEmpty)
        XCTAssertEqual(rig.r32(R.tsd0) & TransmitStatusBits.crs, TransmitStatusBits.crs)
    }

    /// PHY registers: reset values of BMCR/ANAR/ANER, BMCR reset self-clears,
    /// and ANLPAR reports the partner while the link is up.
    func testPHYRegisterDefaults() {
        let rig = Rig()
        XCTAssertEqual(rig.r16(R.bmcr), 0x3100)
        XCTAssertEqual(rig.r16(R.anar), 0x05E1)
        XCTAssertEqual(rig.r16(R.aner), 0x0001)
        XCTAssertEqual(rig.r16(R.anlpar), 0x45E1)
        rig.w16(R.bmcr, 0x8000 | 0x0200)
        XCTAssertEqual(rig.r16(R.bmcr), 0x3100)
        XCTAssertEqual(rig.r16(R.cscr) & 0x0400, 0x0400)
    }

    /// TCTR counts at 33 MHz on the virtual clock and restarts on any write.
    func testTCTRCountsAt33MHzAndResetsOnWrite() {
        let rig = Rig()
        rig.clock.advance(by: VirtualClock.millisecond)
        XCTAssertEqual(rig.r32(R.tctr), 33_000)
        rig.w32(R.tctr, 0xFFFF)
        XCTAssertEqual(rig.r32(R.tctr), 0)
        rig.clock.advance(by: 1_000)
        XCTAssertEqual(rig.r32(R.tctr), 33)
    }

    /// TCTR is 32 bits: after it wraps, the TimerInt match comes round
    /// again, 2^32 ticks (about 130 s at 33 MHz) later.
    func testTimerIntMatchesAgainAfterWrap() {
        let rig = Rig()
        rig.w32(R.timerInt, 33_000)
        rig.clock.advance(by: VirtualClock.millisecond)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.timeOut, InterruptBits.timeOut)
        rig.w16(R.isr, InterruptBits.timeOut)
        let wrap = (UInt64(1) << 32) * 1_000 / 33     // ns per 2^32 ticks, rounded down
        rig.clock.advance(by: wrap - 1_000)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.timeOut, 0)
        rig.clock.advance(by: 2_000)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.timeOut, InterruptBits.timeOut)
        XCTAssertLessThan(rig.r32(R.tctr), 33_000 + 100)
    }

    /// When TCTR reaches TimerInt, ISR.TimeOut is set (not before).
    func testTimerIntRaisesTimeOut() {
        let rig = Rig()
        rig.w32(R.timerInt, 33_000)     // 1 ms
        rig.clock.advance(by: 999_000)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.timeOut, 0)
        rig.clock.advance(by: 1_000)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.timeOut, InterruptBits.timeOut)
        rig.w16(R.isr, InterruptBits.timeOut)
        rig.w32(R.timerInt, 0)
        rig.w32(R.tctr, 0)
        rig.clock.advance(by: VirtualClock.second)
        XCTAssertEqual(rig.r16(R.isr) & InterruptBits.timeOut, 0, "TimerInt 0 disables the timer")
    }
}
