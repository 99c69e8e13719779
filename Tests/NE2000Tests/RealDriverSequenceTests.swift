import NICCore
import XCTest

@testable import NE2000

/// The register sequences real drivers run, replayed against the model:
/// iPXE's ns8390 (NE probe, reset, PIO transmit, poll) and Linux's
/// ne2k-pci probe. These are the drivers nicsim's NE2000 must satisfy.
final class RealDriverSequenceTests: XCTestCase {
    /// iPXE's eth_pio_write: clear RDC, program count and address, remote
    /// write, words out, then spin until ISR.RDC. The spin has no bound in
    /// iPXE, so RDC must come; here the spin is bounded to prove it does.
    private func ipxePIOWrite(_ card: Card, _ bytes: [UInt8], to address: UInt16, wide: Bool) -> Bool {
        card.outb(Port.cr, 0x22)           // RD2 | STA
        card.outb(Port.isr, 0x40)          // clear RDC
        card.outb(Port.rbcr0, UInt8(bytes.count & 0xFF))
        card.outb(Port.rbcr1, UInt8(bytes.count >> 8))
        card.outb(Port.rsar0, UInt8(address & 0xFF))
        card.outb(Port.rsar1, UInt8(address >> 8))
        card.outb(Port.cr, 0x12)           // RD1 | STA
        if wide {
            for i in stride(from: 0, to: bytes.count, by: 2) {
                let high = i + 1 < bytes.count ? bytes[i + 1] : 0
                card.outw(Port.data, UInt16(bytes[i]) | UInt16(high) << 8)
            }
        } else {
            for b in bytes { card.outb(Port.data, b) }
        }
        for _ in 0..<1000 where card.inb(Port.isr) & 0x40 != 0 { return true }
        return false
    }

    private func ipxePIORead(_ card: Card, from address: UInt16, count: Int, wide: Bool) -> [UInt8] {
        card.outb(Port.cr, 0x22)
        card.outb(Port.rbcr0, UInt8(count & 0xFF))
        card.outb(Port.rbcr1, UInt8(count >> 8))
        card.outb(Port.rsar0, UInt8(address & 0xFF))
        card.outb(Port.rsar1, UInt8(address >> 8))
        card.outb(Port.cr, 0x0A)           // RD0 | STA
        var out: [UInt8] = []
        if wide {
            for _ in 0..<(count + 1) / 2 {
                let w = card.inw(Port.data)
                out += [UInt8(w & 0xFF), UInt8(w >> 8)]
            }
        } else {
            for _ in 0..<count { out.append(card.inb(Port.data)) }
        }
        return Array(out.prefix(count))
    }

    /// iPXE's NE probe: after a reset it tests packet memory in byte mode
    /// at 8 KiB (an NE1000's memory), which an NE2000 does not have, then
    /// in word mode at 16 KiB, which it does; then it reads the PROM in
    /// word mode and takes every other byte as the station address.
    func testIPXEProbeFindsSixteenBitCardAndAddress() {
        let card = Card(chip: .dp8390)
        let test = Array("NE*000 memory".utf8) + [0]
        let c = card.inb(Port.reset)
        card.outb(Port.reset, c)
        card.outb(Port.cr, 0x21)
        card.outb(Port.rcr, 0x20)
        card.outb(Port.dcr, 0x48)
        card.outb(Port.pstart, 0x20)
        card.outb(Port.pstop, 0x40)
        XCTAssertTrue(ipxePIOWrite(card, test, to: 0x2000, wide: false))
        XCTAssertNotEqual(ipxePIORead(card, from: 0x2000, count: test.count, wide: false), test, "no memory at 8 KiB")
        card.outb(Port.dcr, 0x49)
        card.outb(Port.pstart, 0x40)
        card.outb(Port.pstop, 0x80)
        XCTAssertTrue(ipxePIOWrite(card, test, to: 0x4000, wide: true))
        XCTAssertEqual(ipxePIORead(card, from: 0x4000, count: test.count, wide: true), test)
        let rom = ipxePIORead(card, from: 0, count: 16, wide: true)
        XCTAssertEqual((0..<6).map { rom[2 * $0] }, testMAC.bytes)
    }

    /// iPXE's transmit writes the header pieces with separate PIO writes
    /// (6, 6, 2 bytes and the payload, odd lengths rounded up to words),
    /// then TPSR/TBCR and TXP; iPXE's poll checks RSR.PRX, then BNRY+1
    /// against CURR, and moves BNRY to the page before the next packet.
    func testIPXETransmitAndPollSequence() {
        let card = Card(chip: .dp8390)
        card.open(pstart: 0x46, pstop: 0x80, rcr: 0x04, tcr: 0x02)  // loopback so the frame comes back
        let frame = makeFrame(to: testMAC, length: 77)
        XCTAssertTrue(ipxePIOWrite(card, Array(frame[0..<6]), to: 0x4000, wide: true))
        XCTAssertTrue(ipxePIOWrite(card, Array(frame[6..<12]), to: 0x4006, wide: true))
        XCTAssertTrue(ipxePIOWrite(card, Array(frame[12..<14]), to: 0x400C, wide: true))
        XCTAssertTrue(ipxePIOWrite(card, Array(frame[14...]), to: 0x400E, wide: true))
        card.outb(Port.cr, 0x22)
        card.outb(Port.tpsr, 0x40)
        card.outb(Port.tbcr0, 77)
        card.outb(Port.tbcr1, 0)
        card.outb(Port.cr, 0x26)

        XCTAssertEqual(card.inb(Port.rsr) & 0x01, 0x01)
        let next = card.inb(Port.bnry) &+ 1 >= 0x80 ? 0x46 : card.inb(Port.bnry) &+ 1
        card.outb(Port.cr, 0x40)
        let curr = card.inb(Port.curr)
        card.outb(Port.cr, 0x00)
        XCTAssertNotEqual(curr, next)
        let header = ipxePIORead(card, from: UInt16(next) << 8, count: 4, wide: true)
        let length = Int(header[2]) | Int(header[3]) << 8
        XCTAssertEqual(length - 4, 77)
        XCTAssertEqual(ipxePIORead(card, from: UInt16(next) << 8 + 4, count: 77, wide: true), frame)
        card.outb(Port.bnry, header[1] == 0x46 ? 0x7F : header[1] - 1)
        XCTAssertEqual(card.inb(Port.bnry) &+ 1, curr)
    }

    /// Linux ne2k-pci's probe: reset through the reset port (read, write
    /// back), wait for ISR.RST, acknowledge; program DCR = 0x49 and the
    /// rest of its table; then 32 byte reads of the data port give the
    /// station address in the first six.
    func testLinuxNe2kPciProbeSequence() {
        let card = Card()
        card.outb(Port.reset, card.inb(Port.reset))
        XCTAssertEqual(card.inb(Port.isr) & 0x80, 0x80)
        card.outb(Port.isr, 0xFF)
        let program: [(UInt64, UInt8)] = [
            (Port.cr, 0x21), (Port.dcr, 0x49), (Port.rbcr0, 0), (Port.rbcr1, 0), (Port.imr, 0),
            (Port.isr, 0xFF), (Port.rcr, 0x20), (Port.tcr, 0x02), (Port.rbcr0, 32), (Port.rbcr1, 0),
            (Port.rsar0, 0), (Port.rsar1, 0), (Port.cr, 0x0A),
        ]
        for (port, value) in program { card.outb(port, value) }
        let prom = (0..<32).map { _ in card.inb(Port.data) }
        XCTAssertEqual(Array(prom[0..<6]), testMAC.bytes)
    }
}
