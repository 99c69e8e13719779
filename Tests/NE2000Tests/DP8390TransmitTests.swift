import NICCore
import XCTest

@testable import NE2000

final class DP8390TransmitTests: XCTestCase {
    private func load(_ card: Card, _ frame: [UInt8], page: UInt8 = 0x40) {
        card.remoteWriteBytes(frame, address: UInt16(page) << 8)
        card.outb(Port.tpsr, page)
        card.outb(Port.tbcr0, UInt8(frame.count & 0xFF))
        card.outb(Port.tbcr1, UInt8(frame.count >> 8))
    }

    /// DP8390D 8.0: TXP sends TBCR bytes from page TPSR; the wire gets
    /// exactly those bytes; TSR.PTX and ISR.PTX report success and TXP
    /// reads back 0 once done (RTL8029AS: TSR bit 1 always reads 1).
    func testTransmitEmitsExactFrameAndReportsSuccess() {
        let card = Card()
        card.open()
        let frame = makeFrame(to: .broadcast, length: 1514, seed: 7)
        load(card, frame)
        card.outb(Port.cr, 0x26)
        XCTAssertEqual(card.wire.frames, [frame])
        XCTAssertEqual(card.inb(Port.tsr), 0x03)
        XCTAssertEqual(card.inb(Port.isr) & 0x0A, 0x02)
        XCTAssertEqual(card.inb(Port.cr) & 0x04, 0)
    }

    /// TXP does nothing while the NIC is stopped.
    func testTransmitIgnoredWhileStopped() {
        let card = Card()
        card.open()
        load(card, makeFrame())
        card.outb(Port.cr, 0x21)
        card.outb(Port.cr, 0x25)
        XCTAssertTrue(card.wire.frames.isEmpty)
    }

    /// TCR LB = 01 (internal loopback): the frame goes to our own receiver,
    /// not the wire.
    func testInternalLoopbackReturnsFrameToReceiverNotWire() {
        let card = Card()
        card.open(tcr: 0x02)
        let frame = makeFrame(length: 100)
        load(card, frame)
        card.outb(Port.cr, 0x26)
        XCTAssertTrue(card.wire.frames.isEmpty)
        XCTAssertEqual(card.inb(Port.isr) & 0x03, 0x03, "PTX and PRX")
        XCTAssertEqual(card.takeFrame()?.frame, frame)
    }

    /// A transmit buffer outside packet memory aborts: TSR.ABT, ISR.TXE,
    /// nothing on the wire.
    func testTransmitBufferOutsideMemoryAborts() {
        let card = Card()
        card.open()
        card.outb(Port.tpsr, 0xBF)
        card.outb(Port.tbcr0, 0x00)
        card.outb(Port.tbcr1, 0x02)  // 512 bytes from 0xBF00 runs past 0xC000
        card.outb(Port.cr, 0x26)
        XCTAssertTrue(card.wire.frames.isEmpty)
        XCTAssertEqual(card.inb(Port.tsr) & 0x08, 0x08)
        XCTAssertEqual(card.inb(Port.isr) & 0x0A, 0x08)
    }

    /// The interrupt line follows ISR & IMR: PTX unmasked raises it,
    /// acknowledging it lowers it.
    func testInterruptLineFollowsStatusAndMask() {
        let card = Card()
        card.open()
        card.outb(Port.imr, 0x02)
        load(card, makeFrame())
        XCTAssertFalse(card.interrupt.isAsserted)
        card.outb(Port.cr, 0x26)
        XCTAssertTrue(card.interrupt.isAsserted)
        card.outb(Port.isr, 0x02)
        XCTAssertFalse(card.interrupt.isAsserted)
        card.outb(Port.cr, 0x26)
        card.outb(Port.imr, 0x00)
        XCTAssertFalse(card.interrupt.isAsserted, "masking lowers the line")
    }

    /// With the link down the frame is lost but the transmission completes
    /// with TSR.CRS (carrier sense lost) beside PTX.
    func testTransmitWithoutCarrierReportsCarrierLost() {
        let card = Card()
        card.open()
        card.nic.port.setLink(up: false)
        load(card, makeFrame())
        card.outb(Port.cr, 0x26)
        XCTAssertTrue(card.wire.frames.isEmpty)
        XCTAssertEqual(card.inb(Port.tsr) & 0x11, 0x11)
        XCTAssertEqual(card.inb(Port.isr) & 0x0A, 0x02)
    }

    /// TCR LB = 11 (external loopback): the frame goes out on the wire and
    /// comes back into our receiver through the cable.
    func testExternalLoopbackSendsAndReceives() {
        let card = Card()
        card.open(tcr: 0x06)
        let frame = makeFrame(length: 80)
        load(card, frame)
        card.outb(Port.cr, 0x26)
        XCTAssertEqual(card.wire.frames, [frame])
        XCTAssertEqual(card.takeFrame()?.frame, frame)
    }
}
