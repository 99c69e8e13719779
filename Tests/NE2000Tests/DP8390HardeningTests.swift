import NICCore
import XCTest

@testable import NE2000

/// The QEMU NE2000 CVEs as regressions: none may trap, loop without bound,
/// or touch anything outside the card's own packet memory.
final class DP8390HardeningTests: XCTestCase {
    private func memorySnapshot(_ card: Card) -> [UInt8] {
        (0x4000..<0xC000).map { card.nic.peek(UInt16($0)) }
    }

    private func program(_ card: Card, pstart: UInt8, pstop: UInt8, curr: UInt8, bnry: UInt8) {
        card.outb(Port.pstart, pstart)
        card.outb(Port.pstop, pstop)
        card.outb(Port.bnry, bnry)
        card.page(1)
        card.outb(Port.curr, curr)
        card.page(0)
    }

    /// CVE-2015-5278: PSTART == PSTOP made the receive copy loop spin for
    /// ever. An empty ring now refuses the frame at once and stores nothing.
    func testEmptyRingDoesNotLoopForever() {
        let card = Card(policy: .drop)
        card.open()
        let before = memorySnapshot(card)
        program(card, pstart: 0x60, pstop: 0x60, curr: 0x60, bnry: 0x60)
        XCTAssertEqual(card.offer(makeFrame(length: 1514)), .dropped)
        XCTAssertEqual(memorySnapshot(card), before)
    }

    /// CVE-2016-2841: PSTOP below PSTART. The frame is refused, memory untouched.
    func testStopBelowStartIsRefused() {
        let card = Card(policy: .drop)
        card.open()
        let before = memorySnapshot(card)
        program(card, pstart: 0x80, pstop: 0x50, curr: 0x80, bnry: 0x7F)
        XCTAssertEqual(card.offer(makeFrame(length: 1514)), .dropped)
        XCTAssertEqual(memorySnapshot(card), before)
    }

    /// CVE-2015-5279: a ring or CURR outside packet memory let the receive
    /// path write past the card's buffer. Every such ring is refused.
    func testRingOutsidePacketMemoryIsRefused() {
        let cases: [(UInt8, UInt8, UInt8, UInt8)] = [
            (0x00, 0x40, 0x00, 0x3F),  // below packet memory
            (0xC0, 0xFF, 0xC0, 0xFE),  // above it
            (0x46, 0xFF, 0xFE, 0x46),  // PSTOP past the end, CURR at 0xFE
            (0x46, 0x80, 0x90, 0x46),  // CURR outside the ring
            (0x46, 0x80, 0x46, 0x20),  // BNRY outside the ring
        ]
        for (pstart, pstop, curr, bnry) in cases {
            let card = Card(policy: .drop)
            card.open()
            let before = memorySnapshot(card)
            program(card, pstart: pstart, pstop: pstop, curr: curr, bnry: bnry)
            XCTAssertEqual(card.offer(makeFrame(length: 1514)), .dropped, "ring \(pstart)-\(pstop) curr \(curr) bnry \(bnry)")
            XCTAssertEqual(memorySnapshot(card), before)
        }
    }

    /// TPSR and TBCR that point past packet memory: the transmit aborts
    /// with TXE instead of reading beyond the buffer.
    func testTransmitPastPacketMemoryAborts() {
        let card = Card()
        card.open()
        for (tpsr, count) in [(UInt8(0xFF), UInt16(0xFFFF)), (0x00, 100), (0xBF, 0x200), (0x40, 0)] {
            card.outb(Port.isr, 0xFF)
            card.outb(Port.tpsr, tpsr)
            card.outb(Port.tbcr0, UInt8(count & 0xFF))
            card.outb(Port.tbcr1, UInt8(count >> 8))
            card.outb(Port.cr, 0x26)
            XCTAssertEqual(card.inb(Port.isr) & 0x0A, 0x08, "TPSR \(tpsr) TBCR \(count)")
        }
        XCTAssertTrue(card.wire.frames.isEmpty)
    }

    /// CVE-2015-8743: a 32-bit remote DMA at the very end of packet memory
    /// read and wrote past the buffer. Bytes beyond memory read as 0xFF and
    /// writes there go nowhere.
    func testDwordRemoteDMAAtEndOfMemoryStaysInside() {
        let card = Card()
        card.remoteWriteBytes([0x11, 0x22], address: 0xBFFE)
        card.outb(Port.dcr, 0x49)
        card.startRemote(0x0A, address: 0xBFFE, count: 4)
        XCTAssertEqual(card.inl(Port.data), 0xFFFF_2211)
        card.startRemote(0x12, address: 0xBFFE, count: 4)
        card.outl(Port.data, 0xDDCC_BBAA)
        XCTAssertEqual(card.nic.peek(0xBFFE), 0xAA)
        XCTAssertEqual(card.nic.peek(0xBFFF), 0xBB)
        XCTAssertEqual(card.nic.peek(0xC000), 0xFF)
        // And at the top of the 16-bit address space, wrapping into the PROM.
        card.startRemote(0x0A, address: 0xFFFE, count: 4)
        XCTAssertEqual(card.inl(Port.data), UInt32(testMAC[0]) * 0x0101_0000 | 0xFFFF)
    }

    /// CVE-2018-10839: a frame from the host side longer than any Ethernet
    /// frame overflowed the receive buffer. It is refused whole.
    func testOversizedHostFrameIsRefused() {
        let card = Card()
        card.open()
        let before = memorySnapshot(card)
        for size in [1519, 4096, 9216, 65_536] {
            let frame = makeFrame(length: size)
            XCTAssertEqual(card.offer(frame), .filtered, "size \(size)")
        }
        XCTAssertEqual(card.nic.oversizedFrames, 4)
        XCTAssertEqual(memorySnapshot(card), before)
        XCTAssertEqual(card.curr, 0x46)
    }

    /// A frame that can never fit the programmed ring is dropped, not held
    /// at the head of the wire's queue for ever.
    func testFrameLargerThanRingIsNotHeldForever() {
        let card = Card(policy: .hold(capacity: 4))
        card.open(pstart: 0x46, pstop: 0x48)
        XCTAssertEqual(card.offer(makeFrame(length: 1514)), .filtered)
        XCTAssertEqual(card.nic.port.pendingFrames, 0)
    }

    /// Every value in every register of every page, each followed by a
    /// frame, a transmit and a data-port access: nothing traps, and packet
    /// memory outside the ring is never written by the receiver.
    func testEveryRegisterValueOnEveryPage() {
        let card = Card(policy: .drop)
        let frame = makeFrame(length: 1514)
        for page in 0..<4 {
            for offset in 1..<16 {
                for value in 0...255 {
                    card.open()
                    card.outb(Port.cr, UInt8(page) << 6 | 0x22)
                    card.outb(UInt64(offset), UInt8(value))
                    card.outb(Port.cr, 0x22)
                    card.offer(frame)
                    card.outb(Port.cr, 0x26)
                    _ = card.inl(Port.data)
                    card.outl(Port.data, 0xFFFF_FFFF)
                }
            }
        }
        XCTAssertLessThanOrEqual(card.nic.port.counters.transmittedFrames, 4 * 15 * 256)
    }

    /// Random port traffic (every offset, width and value, seeded) mixed
    /// with random frames: the model stays within its buffers and answers.
    func testRandomPortTrafficNeverTraps() {
        var rng = SeededRandom(seed: 0x8390)
        let card = Card(policy: .hold(capacity: 8))
        var frame = [UInt8](repeating: 0, count: 1600)
        for _ in 0..<200_000 {
            let r = rng.next()
            let offset = (r >> 8) & 0x1F
            let width: AccessWidth = [.byte, .word, .dword][Int((r >> 16) % 3)]
            switch r & 7 {
            case 0, 1, 2:
                card.nic.portWrite(offset: offset, width: width, value: r >> 24)
            case 3, 4:
                _ = card.nic.portRead(offset: offset, width: width)
            case 5:
                let length = Int((r >> 24) % 1600)
                for i in 0..<min(length, 16) { frame[i] = UInt8(truncatingIfNeeded: r >> UInt64(i % 8 * 8)) }
                frame.withUnsafeBytes { _ = card.nic.port.offer(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
            case 6:
                card.nic.port.pump()
            default:
                card.outb(Port.cr, UInt8(truncatingIfNeeded: r >> 32) & 0xFE | 0x02)
            }
        }
        XCTAssertLessThanOrEqual(card.nic.port.pendingFrames, 8)
    }
}
