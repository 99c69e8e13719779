import NICCore
import XCTest

@testable import NE2000

final class DP8390PROMTests: XCTestCase {
    /// NE2000 PROM: 32 bytes at local address 0, each station-address byte
    /// twice, bytes 28-31 the 0x57 ('W') signature of a 16-bit board. In
    /// byte mode (DCR = 0x48) the host reads them as they are (ne.c).
    func testByteModeReadsDoubledAddressAndSignature() {
        let card = Card()
        let prom = card.remoteReadBytes(address: 0, count: 32)
        for i in 0..<6 {
            XCTAssertEqual(prom[2 * i], testMAC[i])
            XCTAssertEqual(prom[2 * i + 1], testMAC[i])
        }
        XCTAssertEqual(Array(prom[28..<32]), [0x57, 0x57, 0x57, 0x57])
    }

    /// In word mode (DCR.WTS) each 16-bit read moves two bytes: word i
    /// holds address byte i in both halves.
    func testWordModeReadsOneAddressBytePerWord() {
        let card = Card()
        card.outb(Port.dcr, 0x49)
        card.startRemote(0x0A, address: 0, count: 32)
        let words = (0..<16).map { _ in card.inw(Port.data) }
        for i in 0..<6 { XCTAssertEqual(words[i], UInt16(testMAC[i]) * 0x101) }
        XCTAssertEqual(words[14], 0x5757)
    }

    /// Linux ne2k-pci sets DCR = 0x49 and then reads the PROM with byte
    /// reads: each still moves a word, so the first six bytes it gets are
    /// the station address.
    func testLinuxWordModeByteReadsYieldAddress() {
        let card = Card()
        card.outb(Port.cr, 0x21)
        card.outb(Port.dcr, 0x49)
        card.startRemote(0x0A, address: 0, count: 32)
        let bytes = (0..<32).map { _ in card.inb(Port.data) }
        XCTAssertEqual(Array(bytes[0..<6]), testMAC.bytes)
        XCTAssertEqual(bytes[14], 0x57)
    }

    /// A 32-bit data-port read moves four bytes.
    func testDwordReadMovesFourBytes() {
        let card = Card()
        card.outb(Port.dcr, 0x49)
        card.startRemote(0x0A, address: 0, count: 32)
        let first = card.inl(Port.data)
        XCTAssertEqual(first, UInt32(testMAC[0]) * 0x101 | UInt32(testMAC[1]) * 0x101 << 16)
        XCTAssertEqual(card.inb(0x08), 4, "CRDA moved by four")
    }

    /// The PROM is read-only: remote writes to it change nothing.
    func testPROMIgnoresWrites() {
        let card = Card()
        card.remoteWriteBytes([0xAA, 0xBB], address: 0)
        XCTAssertEqual(card.remoteReadBytes(address: 0, count: 2), [testMAC[0], testMAC[0]])
    }
}
