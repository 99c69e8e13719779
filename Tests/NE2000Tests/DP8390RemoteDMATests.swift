import NICCore
import XCTest

@testable import NE2000

final class DP8390RemoteDMATests: XCTestCase {
    /// DP8390D 9.0: bytes written through the data port land at RSAR and
    /// onwards and read back the same way.
    func testRemoteWriteThenReadRoundTrips() {
        let card = Card()
        let bytes: [UInt8] = (0..<100).map { UInt8($0 * 3 & 0xFF) }
        card.remoteWriteBytes(bytes, address: 0x4000)
        XCTAssertEqual(card.remoteReadBytes(address: 0x4000, count: 100), bytes)
    }

    /// ISR.RDC is set when the byte count reaches 0, not before (iPXE
    /// spins on it after every remote write).
    func testRemoteDMACompleteSetWhenCountReachesZero() {
        let card = Card()
        card.outb(Port.dcr, 0x49)
        card.outb(Port.isr, 0xFF)
        card.startRemote(0x12, address: 0x4000, count: 6)
        card.outw(Port.data, 0x1111)
        card.outw(Port.data, 0x2222)
        XCTAssertEqual(card.inb(Port.isr) & 0x40, 0)
        card.outw(Port.data, 0x3333)
        XCTAssertEqual(card.inb(Port.isr) & 0x40, 0x40)
    }

    /// A remote DMA of zero bytes is complete as soon as it starts (iPXE
    /// issues one for an empty payload and then waits for RDC).
    func testZeroLengthRemoteDMACompletesAtOnce() {
        let card = Card()
        card.outb(Port.isr, 0xFF)
        card.startRemote(0x12, address: 0x4000, count: 0)
        XCTAssertEqual(card.inb(Port.isr) & 0x40, 0x40)
    }

    /// CRDA wraps from PSTOP to PSTART, so a frame that wrapped round the
    /// ring reads out in one remote read (Linux ne2k-pci relies on it).
    func testRemoteReadWrapsFromPageStopToPageStart() {
        let card = Card()
        card.open(pstart: 0x46, pstop: 0x80)
        card.remoteWriteBytes([1, 2], address: 0x7FFE)
        card.remoteWriteBytes([3, 4], address: 0x4600)
        XCTAssertEqual(card.remoteReadBytes(address: 0x7FFE, count: 4), [1, 2, 3, 4])
    }

    /// DCR.BOS swaps the bytes within each word.
    func testByteOrderSelectSwapsWordBytes() {
        let card = Card()
        card.remoteWriteBytes([0x12, 0x34], address: 0x4000)
        card.outb(Port.dcr, 0x4B)
        card.startRemote(0x0A, address: 0x4000, count: 2)
        XCTAssertEqual(card.inw(Port.data), 0x1234)
        card.outb(Port.dcr, 0x49)
        card.startRemote(0x0A, address: 0x4000, count: 2)
        XCTAssertEqual(card.inw(Port.data), 0x3412)
    }

    /// In byte mode a 16-bit access moves one byte.
    func testByteModeWordAccessMovesOneByte() {
        let card = Card()
        card.remoteWriteBytes([0xAB, 0xCD], address: 0x4000)
        card.outb(Port.dcr, 0x48)
        card.startRemote(0x0A, address: 0x4000, count: 2)
        XCTAssertEqual(card.inw(Port.data), 0x00AB)
        XCTAssertEqual(card.inb(0x08), 0x01, "CRDA0 moved by one")
    }

    /// DP8390D "Send Packet Command": the remote DMA starts at BNRY with the
    /// count from that packet's header, and when the count runs out BNRY
    /// moves to the header's next-packet pointer.
    func testSendPacketReadsPacketAtBoundaryAndAdvancesIt() {
        let card = Card()
        card.open()
        card.outb(Port.bnry, 0x46)  // send-packet drivers keep BNRY on the next packet
        let frame = makeFrame(length: 300)
        XCTAssertEqual(card.offer(frame), .delivered)
        card.outb(Port.dcr, 0x48)
        card.outb(Port.rbcr1, 0x0F)
        card.outb(Port.cr, 0x1A)
        let header = (0..<4).map { _ in card.inb(Port.data) }
        XCTAssertEqual(header[1], 0x48, "next page")
        let body = (0..<300).map { _ in card.inb(Port.data) }
        XCTAssertEqual(body, frame)
        XCTAssertEqual(card.inb(Port.bnry), 0x48)
        XCTAssertEqual(card.inb(Port.isr) & 0x40, 0x40)
    }

    /// Every access width, at random addresses near PSTOP, the end of
    /// packet memory and the PROM, with random counts: the bytes, CRDA and
    /// RDC match a byte-at-a-time walk of the local address space with the
    /// PSTOP-to-PSTART wrap.
    func testDataPortMatchesByteWalkAtEveryWidth() {
        let card = Card()
        for i in 0..<DP8390.memorySize { card.nic.ram[i] = UInt8(truncatingIfNeeded: i &* 7 &+ i >> 8) }
        var rng = SeededRandom(seed: 29)
        let widths: [(AccessWidth, UInt8, Int)] = [(.dword, 0x49, 4), (.word, 0x49, 2), (.byte, 0x49, 2), (.word, 0x48, 1), (.byte, 0x48, 1)]
        for _ in 0..<2_000 {
            let r = rng.next()
            let (width, dcr, unit) = widths[Int(r % 5)]
            let pstop = UInt8(0x50 + (r >> 8) % 0x71)  // 0x50...0xC0
            let pstart: UInt8 = 0x46
            let anchors: [Int] = [Int(pstop) << 8, 0xC000, 0x0020, 0x0000]
            let start = UInt16(truncatingIfNeeded: anchors[Int((r >> 16) % 4)] - Int((r >> 24) % 9))
            let count = UInt16((r >> 32) % 12)
            card.outb(Port.pstart, pstart)
            card.outb(Port.pstop, pstop)
            card.outb(Port.dcr, dcr)
            card.outb(Port.isr, 0x40)
            card.startRemote(0x0A, address: start, count: count)
            var expected: [UInt8] = []
            var address = start
            for _ in 0..<(3 * unit) {
                expected.append(card.nic.peek(address))
                address &+= 1
                if address == UInt16(pstop) << 8 { address = UInt16(pstart) << 8 }
            }
            var got: [UInt8] = []
            for _ in 0..<3 {
                let v = card.nic.portRead(offset: Port.data, width: width)
                for b in 0..<unit { got.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * b))) }
            }
            let seen = width == .byte && unit == 2 ? stride(from: 0, to: got.count, by: 2).map { got[$0] } : got
            let want = width == .byte && unit == 2 ? stride(from: 0, to: expected.count, by: 2).map { expected[$0] } : expected
            XCTAssertEqual(seen, want, "start \(start) pstop \(pstop) width \(width) dcr \(dcr)")
            XCTAssertEqual(UInt16(card.inb(0x08)) | UInt16(card.inb(0x09)) << 8, address, "CRDA")
            let complete = count > 0 && Int(count) <= 3 * unit
            XCTAssertEqual(card.inb(Port.isr) & 0x40 != 0, complete || count == 0, "RDC, count \(count)")
        }
    }
}
