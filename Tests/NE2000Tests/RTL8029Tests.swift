import NICCore
import XCTest

@testable import NE2000

final class RTL8029Tests: XCTestCase {
    /// RTL8029AS PCI header: 10ec:8029, class 02/00/00, INTA, BAR0 an I/O
    /// BAR of 256 bytes (sizing reads back 0xFFFFFF01).
    func testPCIIdentityAndIOBar() {
        let card = RTL8029(macAddress: testMAC)
        XCTAssertEqual(card.config.read(offset: 0, width: .dword), 0x8029_10EC)
        XCTAssertEqual(card.config.read(offset: 0x08, width: .dword) >> 8, 0x02_00_00)
        XCTAssertEqual(card.config.read(offset: 0x3D, width: .byte), 1)
        card.config.write(offset: 0x10, width: .dword, value: 0xFFFF_FFFF)
        XCTAssertEqual(card.config.read(offset: 0x10, width: .dword), 0xFFFF_FF01)
        XCTAssertNil(card.registers(forBAR: 1))
        XCTAssertEqual(card.registers(forBAR: 0)?.size, 256)
    }

    /// Only the first 32 ports of the BAR are decoded; the rest float high.
    func testOnlyThirtyTwoPortsDecoded() {
        let card = RTL8029(macAddress: testMAC)
        guard let bar = card.registers(forBAR: 0) else { return XCTFail("no BAR0") }
        XCTAssertEqual(bar.read(offset: 0x00, width: .byte), 0x21)
        XCTAssertEqual(bar.read(offset: 0x0A, width: .byte), 0x50)
        XCTAssertEqual(bar.read(offset: 0x20, width: .byte), 0xFF)
        XCTAssertEqual(bar.read(offset: 0xFC, width: .dword), 0xFFFF_FFFF)
    }

    /// The NIC's interrupt is the function's INTx: raising ISR & IMR sets
    /// the Interrupt Status bit in the PCI status register.
    func testInterruptReachesPCIStatus() {
        let card = RTL8029(macAddress: testMAC)
        guard let bar = card.registers(forBAR: 0) else { return XCTFail("no BAR0") }
        bar.write(offset: 0x0F, width: .byte, value: 0x40)
        bar.write(offset: 0x0B, width: .byte, value: 0)
        bar.write(offset: 0x0A, width: .byte, value: 0)
        bar.write(offset: 0x00, width: .byte, value: 0x0A)  // zero-length remote read: RDC
        XCTAssertNotEqual(card.config.read(offset: 0x06, width: .word) & 0x08, 0)
    }

    /// The wire side is wired: the port's receiver is the card.
    func testPortDeliversToCard() {
        let card = RTL8029(macAddress: testMAC)
        XCTAssertTrue(card.port.receiver === card)
        XCTAssertEqual(card.modelName, "RTL8029")
        XCTAssertEqual(card.macAddress, testMAC)
    }

    /// A hardware reset is power-on: packet memory cleared, registers at
    /// their reset values, the PROM (burnt in) kept.
    func testHardwareResetIsPowerOn() {
        let card = RTL8029(macAddress: testMAC)
        guard let bar = card.registers(forBAR: 0) else { return XCTFail("no BAR0") }
        card.nic.ram[0] = 0x55
        bar.write(offset: 0x01, width: .byte, value: 0x46)
        bar.write(offset: 0x00, width: .byte, value: 0x22)
        card.hardwareReset()
        XCTAssertEqual(card.nic.peek(0x4000), 0)
        XCTAssertEqual(bar.read(offset: 0x00, width: .byte), 0x21)
        bar.write(offset: 0x00, width: .byte, value: 0xA1)
        XCTAssertEqual(bar.read(offset: 0x01, width: .byte), 0x00, "PSTART cleared")
        XCTAssertEqual(card.nic.peek(0x0000), testMAC[0])
    }
}
