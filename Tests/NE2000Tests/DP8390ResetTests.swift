import NICCore
import XCTest

@testable import NE2000

final class DP8390ResetTests: XCTestCase {
    /// DP8390D 7.0: the RESET pin leaves CR = STP|RD2 (0x21, page 0), ISR =
    /// RST (0x80), IMR = 0, DCR.LAS set, TCR loopback cleared. The rest of
    /// a powered-on card reads 0; the RTL8029AS's ID bytes read 'P' 'C'.
    func testPowerOnPage0Values() {
        let card = Card()
        XCTAssertEqual(card.inb(0x00), 0x21, "CR")
        XCTAssertEqual(card.inb(0x01), 0x00, "CLDA0")
        XCTAssertEqual(card.inb(0x02), 0x00, "CLDA1")
        XCTAssertEqual(card.inb(0x03), 0x00, "BNRY")
        XCTAssertEqual(card.inb(0x04), 0x00, "TSR")
        XCTAssertEqual(card.inb(0x05), 0x00, "NCR")
        XCTAssertEqual(card.inb(0x06), 0x00, "FIFO")
        XCTAssertEqual(card.inb(0x07), 0x80, "ISR")
        XCTAssertEqual(card.inb(0x08), 0x00, "CRDA0")
        XCTAssertEqual(card.inb(0x09), 0x00, "CRDA1")
        XCTAssertEqual(card.inb(0x0A), 0x50, "8029ID0")
        XCTAssertEqual(card.inb(0x0B), 0x43, "8029ID1")
        XCTAssertEqual(card.inb(0x0C), 0x00, "RSR")
        XCTAssertEqual(card.inb(0x0D), 0x00, "CNTR0")
        XCTAssertEqual(card.inb(0x0E), 0x00, "CNTR1")
        XCTAssertEqual(card.inb(0x0F), 0x00, "CNTR2")
    }

    /// Page 1 (PAR, CURR, MAR) powers up clear; PAR is not loaded from the
    /// PROM (the driver copies it).
    func testPowerOnPage1Values() {
        let card = Card()
        card.outb(Port.cr, 0x61)
        XCTAssertEqual(card.inb(0x00), 0x61)
        for offset in 1..<16 { XCTAssertEqual(card.inb(UInt64(offset)), 0, "page 1 offset \(offset)") }
    }

    /// Page 2 reads back the page-0 write-only registers; on the RTL8029AS
    /// RCR bits 7-6, TCR bits 7-5 and DCR bit 7 always read 1; DCR shows
    /// LAS (0x04) from reset; the reserved offsets 08h-0Bh read FFh.
    func testPowerOnPage2Values() {
        let card = Card()
        card.outb(Port.cr, 0xA1)
        let expected: [UInt64: UInt8] = [0x1: 0, 0x2: 0, 0x3: 0, 0x4: 0, 0x5: 0, 0x6: 0, 0x7: 0,
                                         0x8: 0xFF, 0x9: 0xFF, 0xA: 0xFF, 0xB: 0xFF,
                                         0xC: 0xC0, 0xD: 0xE0, 0xE: 0x84, 0xF: 0x00]
        for (offset, value) in expected { XCTAssertEqual(card.inb(offset), value, "page 2 offset \(offset)") }
    }

    /// RTL8029AS page 3: 9346CR, CONFIG0/2/3 clear; 8029ASID0/1 read 0x29 0x80.
    func testPowerOnPage3Values() {
        let card = Card()
        card.outb(Port.cr, 0xE1)
        XCTAssertEqual(card.inb(0x01), 0x00, "9346CR")
        XCTAssertEqual(card.inb(0x03), 0x00, "CONFIG0")
        XCTAssertEqual(card.inb(0x05), 0x00, "CONFIG2")
        XCTAssertEqual(card.inb(0x06), 0x00, "CONFIG3")
        XCTAssertEqual(card.inb(0x0E), 0x29, "8029ASID0")
        XCTAssertEqual(card.inb(0x0F), 0x80, "8029ASID1")
    }

    /// A plain DP8390 (ISA NE2000) has no Realtek ID bytes and no page 3.
    func testDP8390HasNoRealtekRegisters() {
        let card = Card(chip: .dp8390)
        XCTAssertEqual(card.inb(0x0A), 0xFF)
        XCTAssertEqual(card.inb(0x0B), 0xFF)
        card.outb(Port.cr, 0xE1)
        XCTAssertEqual(card.inb(0x0E), 0xFF)
    }

    /// Reading the reset port pulses RESET: CR back to 0x21, ISR to RST,
    /// IMR cleared; the ring registers and PAR keep their values.
    func testResetPortReadResetsCommandAndStatusOnly() {
        let card = Card()
        card.open()
        card.outb(Port.imr, 0x3F)
        _ = card.inb(Port.reset)
        XCTAssertEqual(card.inb(Port.cr), 0x21)
        XCTAssertEqual(card.inb(Port.isr), 0x80)
        card.outb(Port.cr, 0xA1)
        XCTAssertEqual(card.inb(0x0F), 0x00, "IMR cleared")
        XCTAssertEqual(card.inb(0x01), 0x46, "PSTART kept")
        XCTAssertEqual(card.inb(0x02), 0x80, "PSTOP kept")
        card.outb(Port.cr, 0x61)
        XCTAssertEqual(card.inb(0x01), testMAC[0], "PAR kept")
    }

    /// ISR.RST is status only: writing 1 to it does not clear it; STA does.
    func testResetStatusClearsOnStartNotOnWrite() {
        let card = Card()
        card.outb(Port.isr, 0xFF)
        XCTAssertEqual(card.inb(Port.isr) & 0x80, 0x80)
        card.outb(Port.cr, 0x22)
        XCTAssertEqual(card.inb(Port.isr) & 0x80, 0)
        card.outb(Port.cr, 0x21)
        XCTAssertEqual(card.inb(Port.isr) & 0x80, 0x80, "STP re-enters the reset state")
    }

    /// Page 3 CONFIG3 takes writes only with 9346CR EEM = 11 (Linux
    /// ne2k-pci sets full duplex this way).
    func testConfig3WritableOnlyWithConfigWriteEnable() {
        let card = Card()
        card.outb(Port.cr, 0xE1)
        card.outb(0x06, 0x40)
        XCTAssertEqual(card.inb(0x06), 0x00)
        card.outb(0x01, 0xC0)
        card.outb(0x06, 0x40)
        card.outb(0x01, 0x00)
        XCTAssertEqual(card.inb(0x06), 0x40)
    }

    /// The tally counters clear when read.
    func testTallyCountersClearOnRead() {
        let card = Card(policy: .drop)
        card.open(rcr: 0x24)  // monitor mode counts every accepted frame in CNTR2
        card.offer(makeFrame())
        card.offer(makeFrame())
        XCTAssertEqual(card.inb(Port.cntr2), 2)
        XCTAssertEqual(card.inb(Port.cntr2), 0)
    }

    /// DP8390D "Page 2 Address Assignments": page 2 reads back PSTART,
    /// PSTOP, TPSR, RCR, TCR, DCR and IMR as page 0 wrote them.
    func testPage2ReadsBackPage0WriteOnlyRegisters() {
        let card = Card()
        let writes: [(UInt64, UInt8)] = [(Port.pstart, 0x4C), (Port.pstop, 0xB0), (Port.tpsr, 0x41),
                                         (Port.rcr, 0x1E), (Port.tcr, 0x06), (Port.dcr, 0x4B), (Port.imr, 0x35)]
        for (port, value) in writes { card.outb(port, value) }
        card.outb(Port.cr, 0xA1)
        XCTAssertEqual(card.inb(0x01), 0x4C, "PSTART")
        XCTAssertEqual(card.inb(0x02), 0xB0, "PSTOP")
        XCTAssertEqual(card.inb(0x04), 0x41, "TPSR")
        XCTAssertEqual(card.inb(0x0C), 0xDE, "RCR, bits 7-6 read 1")
        XCTAssertEqual(card.inb(0x0D), 0xE6, "TCR, bits 7-5 read 1")
        XCTAssertEqual(card.inb(0x0E), 0xCB, "DCR, bit 7 reads 1")
        XCTAssertEqual(card.inb(0x0F), 0x35, "IMR")
    }

    /// The fixed 1 bits are the RTL8029AS's: the DP8390 of an NE2000 ISA
    /// board reads TCR and DCR back as written.
    func testDP8390Page2ReadsTCRAndDCRAsWritten() {
        let card = Card(chip: .dp8390)
        card.outb(Port.tcr, 0x06)
        card.outb(Port.dcr, 0x4B)
        card.outb(Port.cr, 0xA1)
        XCTAssertEqual(card.inb(0x0D), 0x06, "TCR")
        XCTAssertEqual(card.inb(0x0E), 0x4B, "DCR")
    }

    /// ISR bits clear by writing 1 to them; 0 bits leave them alone.
    func testInterruptStatusWriteOneToClear() {
        let card = Card()
        card.open()
        card.offer(makeFrame())                      // PRX
        card.startRemote(0x0A, address: 0x4000, count: 0)  // RDC
        XCTAssertEqual(card.inb(Port.isr) & 0x41, 0x41)
        card.outb(Port.isr, 0x01)
        XCTAssertEqual(card.inb(Port.isr) & 0x41, 0x40)
        card.outb(Port.isr, 0x00)
        XCTAssertEqual(card.inb(Port.isr) & 0x41, 0x40)
    }

    /// Page 1 registers keep their values while other pages are selected,
    /// and page 0 registers at the same offsets are separate.
    func testPagesAreSeparate() {
        let card = Card()
        card.outb(Port.cr, 0x61)
        for offset in 1..<16 { card.outb(UInt64(offset), UInt8(0xA0 + offset)) }
        card.outb(Port.cr, 0x21)
        XCTAssertEqual(card.inb(0x03), 0x00, "BNRY is not PAR2")
        card.outb(Port.cr, 0x61)
        for offset in 1..<16 { XCTAssertEqual(card.inb(UInt64(offset)), UInt8(0xA0 + offset)) }
    }
}
