import NICCore
import XCTest

@testable import NE2000

final class NE2000ISATests: XCTestCase {
    /// An ISA NE2000 defaults to port 0x300 and IRQ 9 and decodes 32 ports.
    func testDefaultsToPort300AndIRQ9() {
        let card = NE2000ISA(macAddress: testMAC)
        XCTAssertEqual(card.ioBase, 0x300)
        XCTAssertEqual(card.irq, 9)
        XCTAssertEqual(card.size, 32)
        XCTAssertEqual(card.modelName, "NE2000")
    }

    /// The board answers on its ports and raises the line it was given.
    func testRegistersAndInterruptThroughBlock() {
        let card = NE2000ISA(macAddress: testMAC, ioBase: 0x280, irq: 5)
        let line = InterruptLatch()
        card.interruptLine = line
        XCTAssertEqual(card.read(offset: 0, width: .byte), 0x21)
        card.write(offset: 0x0F, width: .byte, value: 0x40)
        card.write(offset: 0x0A, width: .byte, value: 0)
        card.write(offset: 0x0B, width: .byte, value: 0)
        card.write(offset: 0x00, width: .byte, value: 0x12)
        XCTAssertTrue(line.isAsserted)
        _ = card.read(offset: 0x1F, width: .byte)
        XCTAssertFalse(line.isAsserted, "reset clears IMR")
    }
}
