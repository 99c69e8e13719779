import NICCore
import XCTest

@testable import NE2000

final class DP8390ReceiveTests: XCTestCase {
    /// DP8390D 7.0: a frame goes in at CURR behind a 4-byte header (RSR,
    /// next page, byte count including the header); CURR moves to the next
    /// page; ISR.PRX and RSR.PRX report it.
    func testFrameStoredAtCurrentPageWithHeader() {
        let card = Card()
        card.open()
        let frame = makeFrame(length: 600)
        XCTAssertEqual(card.offer(frame), .delivered)
        let header = card.remoteReadBytes(address: 0x4600, count: 4)
        XCTAssertEqual(header, [0x01, 0x49, UInt8(604 & 0xFF), UInt8(604 >> 8)])
        XCTAssertEqual(card.remoteReadBytes(address: 0x4604, count: 600), frame)
        XCTAssertEqual(card.curr, 0x49)
        XCTAssertEqual(card.inb(Port.isr) & 0x01, 0x01)
        XCTAssertEqual(card.inb(Port.rsr), 0x01)
    }

    /// A frame that reaches PSTOP continues at PSTART; the header's next
    /// page and CURR wrap too.
    func testReceiveWrapsAtPageStop() {
        let card = Card()
        card.open(pstart: 0x46, pstop: 0x50)
        // Move CURR near the end by receiving and freeing frames.
        for seed in 0..<4 {
            XCTAssertEqual(card.offer(makeFrame(length: 500, seed: UInt8(seed))), .delivered)
            XCTAssertNotNil(card.takeFrame(pstart: 0x46, pstop: 0x50))
        }
        XCTAssertEqual(card.curr, 0x4E)
        let frame = makeFrame(length: 1000, seed: 9)
        XCTAssertEqual(card.offer(frame), .delivered)
        XCTAssertEqual(card.curr, 0x46 + (0x4E + 4 - 0x50))
        let taken = card.takeFrame(pstart: 0x46, pstop: 0x50)
        XCTAssertEqual(taken?.frame, frame)
        XCTAssertEqual(taken?.next, 0x48)
    }

    /// Frames shorter than 60 bytes are padded with zeros to 60.
    func testRuntFramePaddedToSixtyBytes() {
        let card = Card()
        card.open()
        let runt = Array(makeFrame(length: 42))
        card.offer(runt)
        let taken = card.takeFrame()
        XCTAssertEqual(taken?.frame.count, 60)
        XCTAssertEqual(Array(taken?.frame[0..<42] ?? []), runt)
        XCTAssertEqual(Array(taken?.frame[42..<60] ?? []), [UInt8](repeating: 0, count: 18))
    }

    /// A stopped NIC takes nothing: the wire holds the frame.
    func testStoppedReceiverRefusesFrames() {
        let card = Card()
        card.open()
        card.outb(Port.cr, 0x21)
        XCTAssertEqual(card.offer(makeFrame()), .queued)
        XCTAssertEqual(card.nic.port.pendingFrames, 1)
        card.outb(Port.cr, 0x22)
        XCTAssertEqual(card.nic.port.pump(), 1)
        XCTAssertNotNil(card.takeFrame())
    }

    /// In loopback the receiver hears only its own transmitter.
    func testLoopbackReceiverIgnoresWire() {
        let card = Card()
        card.open(tcr: 0x02)
        XCTAssertEqual(card.offer(makeFrame()), .queued)
        XCTAssertNil(card.takeFrame())
    }

    /// Multicast and broadcast frames set RSR.PHY (0x20) in the header.
    func testMulticastSetsPhysicalBitInStatus() {
        let card = Card()
        card.open(rcr: 0x04)
        card.offer(makeFrame(to: .broadcast))
        XCTAssertEqual(card.takeFrame()?.status, 0x21)
    }
}
